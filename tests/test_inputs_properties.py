"""Property-based tests (hypothesis) of every kind of file Masklet reads: a valid file with any
one value replaced by any JSON value (huge, negative, NaN, text, nested, ...), or with bytes
flipped or cut, is either read whole or refused with one line of the reader's own error type;
no other exception escapes. Examples are bounded and derandomized, so the run is quick and the
same every time; each property runs in well under a second per example."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.cli.track_prompts import PromptsError, read_prompts
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, save_project
from annotator.project_schema import document_to_json
from core.formats import Dataset, FormatError, Track, export_dataset, import_dataset
from core.masks import encode
from core.types import Prompt

W, H = 20, 16
# MASKLET_FUZZ_EXAMPLES=N: N random examples a property instead of the 40 fixed ones (a longer
# fuzzing run by hand; CI keeps the bounded, repeatable default)
_FUZZ = int(os.environ.get("MASKLET_FUZZ_EXAMPLES", "0"))
BOUNDED = settings(max_examples=_FUZZ or 40, deadline=None, derandomize=not _FUZZ,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 1, 255, 256, 2**31, 2**32, 10**7 + 1, 10**12, 46341]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["false", "true", "0", "Infinity", "é", "\x00"]),
)
json_values = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)), max_leaves=10)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every place in a JSON value (as a key/index path), the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value[:6]):  # the first few entries of long lists stand for all
            found += _paths(child, prefix + (i,))
    return found


def _replace(value: object, path: tuple, new: object) -> object:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)  # type: ignore[arg-type]
    copy[head] = _replace(copy[head], rest, new)
    return copy


def mutated(draw: st.DrawFn, valid: object) -> object:
    """``valid`` with one place (drawn) replaced by a JSON value (drawn), deleted, or duplicated."""
    places = _paths(valid)
    path = draw(st.sampled_from(places))
    kind = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
    if kind == "delete" and path:
        parent_path, key = path[:-1], path[-1]
        parent = valid
        for k in parent_path:
            parent = parent[k]  # type: ignore[index]
        smaller = {k: v for k, v in parent.items() if k != key} if isinstance(parent, dict) else \
            [v for i, v in enumerate(parent) if i != key]  # type: ignore[union-attr]
        return _replace(valid, parent_path, smaller)
    if kind == "duplicate" and path and isinstance(path[-1], int):
        parent_path = path[:-1]
        parent = valid
        for k in parent_path:
            parent = parent[k]  # type: ignore[index]
        return _replace(valid, parent_path, list(parent) + [parent[path[-1]]])  # type: ignore[index]
    return _replace(valid, path, draw(json_values))


def dumps(value: object) -> str:
    return json.dumps(value, allow_nan=True)  # NaN and Infinity written as Python writes them


def one_line(exc: BaseException) -> None:
    assert str(exc) and "\n" not in str(exc), repr(exc)


# -- projects -----------------------------------------------------------------------------
def _valid_project(folder: Path) -> dict:
    doc = AnnotationDocument(VideoRef(str(folder / "clip.mp4"), W, H, 8, 25.0, "sha256:1"))
    for name in ("a", "b"):
        obj = doc.add_object(name)
        m = np.zeros((H, W), bool)
        m[2:9, 3 + obj.obj_id:12] = True
        for frame in (0, 3):
            doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROMPTED, object_score=1.5, iou=0.9))
        doc.set_prompt(obj.obj_id, 0, Prompt(0, obj.obj_id, np.array([[5.0, 6.0]], np.float32),
                                             np.array([1], np.int32), box=np.array([1, 1, 9, 9], np.float32)))
    return document_to_json(doc, folder)


def _load_or_refuse(path: Path) -> None:
    try:
        doc = load_project(path).document
    except ProjectError as exc:
        one_line(exc)
        return
    # read whole: then it saves again, and what it saved reads back the same
    save_project(doc, path.with_name("again.masklet"))
    again = load_project(path.with_name("again.masklet")).document
    assert sorted(again.objects) == sorted(doc.objects) and again.mask_count() == doc.mask_count()


@BOUNDED
@given(data=st.data())
def test_a_project_with_any_value_changed_is_read_whole_or_refused_in_one_line(tmp_path: Path, data) -> None:
    valid = _valid_project(tmp_path)
    path = tmp_path / "p.masklet"
    path.write_text(dumps(mutated(data.draw, valid)))
    _load_or_refuse(path)


@BOUNDED
@given(data=st.data())
def test_a_project_file_with_bytes_flipped_or_cut_is_read_whole_or_refused(tmp_path: Path, data) -> None:
    path = tmp_path / "p.masklet"
    doc = load_project_from(tmp_path)
    save_project(doc, path)
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= data.draw(st.integers(1, 255))
    cut = data.draw(st.integers(1, len(raw)))
    path.write_bytes(bytes(raw[:cut]))
    _load_or_refuse(path)


def load_project_from(folder: Path) -> AnnotationDocument:
    path = folder / "valid.masklet"
    path.write_text(json.dumps(_valid_project(folder)))
    return load_project(path).document


# -- prompts ----------------------------------------------------------------------------------
VALID_PROMPTS = {"objects": [
    {"id": 1, "name": "dog", "category": "animal",
     "prompts": [{"frame": 0, "points": [[3.0, 4.0], [8.0, 2.0]], "labels": [1, 0]}, {"frame": 5, "box": [1, 1, 9, 9]}]},
    {"id": 2, "prompts": [{"frame": 2, "points": [[5.0, 5.0]]}]},
]}


@BOUNDED
@given(data=st.data())
def test_a_prompts_file_with_any_value_changed_is_read_or_refused_in_one_line(tmp_path: Path, data) -> None:
    path = tmp_path / "prompts.json"
    path.write_text(dumps(mutated(data.draw, VALID_PROMPTS)))
    try:
        objects = read_prompts(path)
    except PromptsError as exc:
        one_line(exc)
        assert str(path) in str(exc)
        return
    for obj in objects:  # what is read is what a run can use
        assert obj.obj_id > 0
        for p in obj.prompts:
            assert np.isfinite(p.points).all() and set(p.labels.tolist()) <= {0, 1}
            assert p.box is None or (np.isfinite(p.box).all() and p.box[2] > p.box[0] and p.box[3] > p.box[1])


# -- datasets -----------------------------------------------------------------------------------
def _dataset() -> Dataset:
    mask = np.zeros((H, W), bool)
    mask[2:9, 3:12] = True
    return Dataset("v", W, H, 6, 10.0, [Track(1, "a", masks={f: encode(np.roll(mask, f, axis=1)) for f in range(0, 6, 2)}),
                                        Track(2, "b", masks={2: encode(mask[::-1])})])


_VALID: dict[str, object] = {}


def _valid_json(fmt: str, folder: Path) -> object:
    if fmt not in _VALID:
        out = folder / f"valid_{fmt}.json"
        export_dataset(_dataset(), fmt, out)
        _VALID[fmt] = json.loads(out.read_text())
    return _VALID[fmt]


def _import_or_refuse(path: Path, fmt: str) -> None:
    try:
        dataset = import_dataset(path, fmt)
    except FormatError as exc:
        one_line(exc)
        return
    assert dataset.width * dataset.height <= 2**28 and 0 <= dataset.frame_count <= 10**7
    assert math.isfinite(dataset.fps)
    assert len({t.track_id for t in dataset.tracks}) == len(dataset.tracks)
    for track in dataset.tracks:
        for rle in track.masks.values():
            assert rle.decode().shape == (dataset.height, dataset.width)
    # what was read becomes a project that saves and opens again (masklet import's path)
    from annotator.project_exchange import dataset_to_document

    doc = dataset_to_document(dataset)
    save_project(doc, path.with_name("imported.masklet"))
    again = load_project(path.with_name("imported.masklet")).document
    assert sorted(again.objects) == sorted(doc.objects) and again.mask_count() == doc.mask_count()
    # and exports again without a value that is not JSON
    try:
        export_dataset(dataset, fmt, path.with_name(f"again_{fmt}.json"), overwrite=True)
    except FormatError as exc:
        one_line(exc)


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "sav"])
def test_a_dataset_json_with_any_value_changed_is_imported_whole_or_refused(tmp_path: Path, fmt: str) -> None:
    @BOUNDED
    @given(data=st.data())
    def check(data) -> None:  # noqa: ANN001
        path = tmp_path / f"{fmt}.json"
        path.write_text(dumps(mutated(data.draw, _valid_json(fmt, tmp_path))))
        _import_or_refuse(path, fmt)

    check()


@pytest.mark.parametrize("fmt", ["davis", "png"])
def test_a_png_folder_with_files_changed_is_imported_whole_or_refused(tmp_path: Path, fmt: str) -> None:
    source = tmp_path / f"valid_{fmt}"
    export_dataset(_dataset(), fmt, source)
    files = sorted(p.relative_to(source) for p in source.rglob("*.png"))
    originals = {rel: (source / rel).read_bytes() for rel in files}
    edits: dict[str, Callable[[bytes, int], bytes]] = {
        "cut": lambda raw, n: raw[: n % len(raw)],
        "flip": lambda raw, n: raw[: n % len(raw)] + bytes([raw[n % len(raw)] ^ 0x5A]) + raw[n % len(raw) + 1:],
        "empty": lambda raw, n: b"",
        "rename": lambda raw, n: raw,
    }

    @BOUNDED
    @given(which=st.sampled_from(files), edit=st.sampled_from(sorted(edits)), n=st.integers(0, 10_000))
    def check(which: Path, edit: str, n: int) -> None:
        for rel, raw in originals.items():
            (source / rel).write_bytes(raw)
        for stray in source.rglob("*.png"):
            if stray.relative_to(source) not in originals:
                stray.unlink()
        target = source / which
        if edit == "rename":  # the same frame under a second name
            target.with_name(str(int(target.stem))).with_suffix(".png").write_bytes(originals[which])
        else:
            target.write_bytes(edits[edit](originals[which], n))
        try:
            dataset = import_dataset(source, fmt)
        except FormatError as exc:
            one_line(exc)
            return
        assert len({t.track_id for t in dataset.tracks}) == len(dataset.tracks)

    check()


# -- videos -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["h264.mp4", "h264.mkv", "mpeg2.ts", "mpeg4.avi"])
def test_a_video_with_bytes_flipped_is_read_or_refused_in_one_line(tmp_path: Path, name: str) -> None:
    """Any frame asked of a damaged video is a frame of the video's size, or one FrameSourceError
    line (the fuzzing pass found a UnicodeDecodeError from a damaged header escaping, and a
    switch to counting while frame 0 decoded at opening)."""
    from core.frames import FrameSourceError, open_frames
    from tests.video_corpus import CASES, write_case

    source = write_case(next(c for c in CASES if c.name == name), tmp_path)
    assert source is not None
    original = source.read_bytes()

    @BOUNDED
    @given(flips=st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(1, 255)), min_size=1, max_size=6),
           order=st.permutations(list(range(12))))
    def check(flips: list[tuple[int, int]], order: list[int]) -> None:
        raw = bytearray(original)
        for i, x in flips:
            raw[i] ^= x
        path = tmp_path / f"damaged_{name}"
        path.write_bytes(bytes(raw))
        try:
            with open_frames(path, cache_mb=0) as src:
                for i in order:
                    if i < len(src):
                        assert src.get(i).shape == (src.info.height, src.info.width, 3)
        except FrameSourceError as exc:
            one_line(exc)

    check()
