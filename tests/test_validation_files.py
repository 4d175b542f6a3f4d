"""Every kind of file Masklet reads is checked before any work: one line naming the file, the
field and the problem, for each case the fuzzing pass of issue 21 found getting through."""

from __future__ import annotations

import gzip
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from annotator.cli.track_prompts import PromptsError, read_prompts
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, save_project
from annotator.project_schema import document_to_json
from core.frames import FrameSourceError, open_frames
from core.masks import encode
from core.types import Prompt
from core.validation.bounds import Invalid, depth_at_most, no_duplicates
from core.validation.json_input import nesting_depth, parse_json

W, H = 32, 24


def project_json(tmp_path: Path) -> dict:
    doc = AnnotationDocument(VideoRef(str(tmp_path / "clip.mp4"), W, H, 10, 25.0, "sha256:1"))
    obj = doc.add_object("dog")
    m = np.zeros((H, W), bool)
    m[2:9, 3:12] = True
    for frame in (0, 4):
        doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROMPTED))
    doc.set_prompt(obj.obj_id, 0, Prompt(0, obj.obj_id, np.array([[5.0, 5.0]], np.float32), np.array([1], np.int32)))
    return document_to_json(doc, tmp_path)


def _mask(d: dict, **change: object) -> dict:
    d["objects"][0]["masks"][0].update(change)
    return d


def _video(d: dict, **change: object) -> dict:
    d["video"].update(change)
    return d


PROJECT_CASES = {  # name: (change, words the one-line refusal must hold)
    "locked as text": (lambda d: _mask(d, locked="false"), "masks[0].locked: must be true or false, not 'false'"),
    "duplicate mask frames": (lambda d: (d["objects"][0]["masks"].append(dict(d["objects"][0]["masks"][0])), d)[1],
                              "masks: frame 0 appears 2 times"),
    "duplicate prompt frames": (lambda d: (d["objects"][0]["prompts"].append(dict(d["objects"][0]["prompts"][0])), d)[1],
                                "prompts: frame 0 appears 2 times"),
    "frame count 1e30": (lambda d: _video(d, frame_count=1e30), "video.frame_count: must be a whole number"),
    "frame count 1e9": (lambda d: _video(d, frame_count=10**9), "video.frame_count: 1000000000 is outside 0..10000000"),
    "46341 squared": (lambda d: _video(d, width=46341, height=46341), "more than 268435456"),
    "2**32 wide": (lambda d: _video(d, width=2**32), "video.width: 4294967296 is outside"),
    "fps -1": (lambda d: _video(d, fps=-1), "video.fps: -1 is not in 0..10000"),
    "fps 1e30": (lambda d: _video(d, fps=1e30), "video.fps"),
    "width as text": (lambda d: _video(d, width="32"), "video.width: must be a whole number"),
    "image id as list": (lambda d: (d["objects"][0].update(id=[1]), d)[1], "objects[0].id: must be a whole number"),
    "frame beyond the video": (lambda d: _mask(d, frame=10**12), "masks[0].frame: 1000000000000 is outside 0..9"),
    "negative frame": (lambda d: _mask(d, frame=-1), "masks[0].frame: -1 is outside"),
    "counts too long": (lambda d: _mask(d, counts="0" * (6 * (W * H + 1) + 1)), "more than a 24x32 mask can need"),
    "counts as list": (lambda d: _mask(d, counts=[1, 2, 3]), "counts: must be a compressed RLE string"),
    "score as text": (lambda d: _mask(d, object_score="high"), "object_score: must be a number"),
    "schema 1 with schema 2 content": (lambda d: dict(d, schema_version=1), "schema_version: 1, but its objects carry masks"),
    "video null with masks": (lambda d: dict(d, video=None), "video: null, but the project has masks"),
    "label 5": (lambda d: (d["objects"][0]["prompts"][0].update(labels=[5]), d)[1], "labels[0]: 5 is outside 0..3"),
    "inverted box": (lambda d: (d["objects"][0]["prompts"][0].update(box=[9, 9, 1, 1]), d)[1], "box: [9, 9, 1, 1] is inverted"),
    "colour 300": (lambda d: (d["objects"][0].update(color=[300, 0, 0]), d)[1], "color[0]: 300 is outside 0..255"),
    "attributes deep": (lambda d: (d["objects"][0].update(attributes={"a": json.loads("[" * 80 + "]" * 80)}), d)[1],
                        "nested more than 64 levels deep"),
}


@pytest.mark.parametrize("case", sorted(PROJECT_CASES))
def test_each_malformed_project_is_refused_in_one_line_naming_the_field(tmp_path: Path, case: str) -> None:
    change, words = PROJECT_CASES[case]
    path = tmp_path / "p.masklet"
    path.write_text(json.dumps(change(project_json(tmp_path))))
    with pytest.raises(ProjectError) as err:
        load_project(path)
    message = str(err.value)
    assert message.startswith(f"cannot open {path}: ") and "\n" not in message
    assert words in message, message


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_not_a_number_in_a_project_is_refused(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "p.masklet"
    text = json.dumps(project_json(tmp_path)).replace('"fps": 25.0', f'"fps": {literal}')
    path.write_text(text)
    with pytest.raises(ProjectError, match=f"holds {literal}"):
        load_project(path)


def test_nesting_990_deep_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "p.masklet"
    path.write_bytes(b'{"format": "masklet-project", "x": ' + b"[" * 990 + b"]" * 990 + b"}")
    with pytest.raises(ProjectError, match="nested more than 64 levels deep"):
        load_project(path)


def test_a_gzip_bomb_project_is_refused_at_the_inflation_limit(tmp_path: Path) -> None:
    path = tmp_path / "p.masklet"
    member = gzip.compress(b" " * (1 << 20), compresslevel=9)  # 1 MiB of spaces in ~1 KiB
    path.write_bytes(member * 300)  # gzip members one after another: 300 MiB
    assert path.stat().st_size < 1 << 20
    with pytest.raises(ProjectError, match="inflates to more than"):
        load_project(path)


def test_a_valid_project_still_loads_and_saves(tmp_path: Path) -> None:
    path = tmp_path / "p.masklet"
    path.write_text(json.dumps(project_json(tmp_path)))
    doc = load_project(path).document
    assert sorted(doc.masks[1]) == [0, 4]
    save_project(doc, tmp_path / "again.masklet")
    assert gzip.decompress((tmp_path / "again.masklet").read_bytes()).startswith(b"{")


# -- prompts --------------------------------------------------------------------------------
def _prompts(tmp_path: Path, prompt: dict) -> Path:
    path = tmp_path / "prompts.json"
    path.write_text(json.dumps({"objects": [{"id": 1, "prompts": [prompt]}]}))
    return path


@pytest.mark.parametrize("prompt,words", [
    ({"frame": 0, "points": [[float("nan"), 1.0]]}, "holds NaN"),
    ({"frame": 0, "points": [[1e30, 1.0]]}, "not finite or beyond"),
    ({"frame": 0, "points": [[1.0, 1.0]], "labels": [5]}, "labels are 1 (object) or 0 (background)"),
    ({"frame": 0, "box": [9, 9, 1, 1]}, "x1 > x0 and y1 > y0"),
    ({"frame": 1.5, "points": [[1.0, 1.0]]}, "needs a frame number"),
])
def test_malformed_prompts_are_refused_naming_the_file(tmp_path: Path, prompt: dict, words: str) -> None:
    path = _prompts(tmp_path, prompt)
    with pytest.raises(PromptsError) as err:
        read_prompts(path)
    assert str(err.value).startswith(str(path)) and words in str(err.value) and "\n" not in str(err.value)


def test_prompts_nested_deep_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "prompts.json"
    path.write_bytes(b'{"objects": ' + b"[" * 990 + b"]" * 990 + b"}")
    with pytest.raises(PromptsError, match="nested more than"):
        read_prompts(path)


# -- checkpoints ----------------------------------------------------------------------------
def test_a_zip_bomb_checkpoint_is_refused_from_its_directory(tmp_path: Path) -> None:
    from core.sam2.checkpoint import CheckpointError, inspect_checkpoint, load_model

    path = tmp_path / "bomb.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("bomb/data.pkl", b"\x80\x02}q\x00.")
        archive.writestr("bomb/data/0", b"\x00" * (16 << 20))  # 16 MiB of zeros in ~16 KiB
    assert path.stat().st_size < 2 << 20
    for load in (inspect_checkpoint, load_model):
        with pytest.raises(CheckpointError, match="a compression bomb"):
            load(path)


def test_a_checkpoint_with_an_oversized_pickle_is_refused(tmp_path: Path) -> None:
    from core.sam2.checkpoint import CheckpointError, inspect_checkpoint

    path = tmp_path / "big.pt"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        with archive.open("big/data.pkl", "w", force_zip64=True) as entry:
            entry.write(b"\x80\x02" + b"N" * (65 << 20))
    with pytest.raises(CheckpointError, match="its pickle big/data.pkl is"):
        inspect_checkpoint(path)


# -- frames ---------------------------------------------------------------------------------
def _png_header_only(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height (and whose pixel data is a few bytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
                     + chunk(b"IEND", b""))


def test_an_image_folder_whose_second_png_claims_30000_squared_is_refused_in_one_line(tmp_path: Path) -> None:
    from PIL import Image

    Image.fromarray(np.zeros((24, 32, 3), np.uint8)).save(tmp_path / "000.png")
    _png_header_only(tmp_path / "001.png", 30000, 30000)
    with open_frames(tmp_path) as src:
        with pytest.raises(FrameSourceError) as err:
            src.get(1)
    assert "001.png" in str(err.value) and "900000000 pixels" in str(err.value) and "\n" not in str(err.value)
    _png_header_only(tmp_path / "000.png", 30000, 30000)
    with pytest.raises(FrameSourceError, match="000.png"):
        open_frames(tmp_path)


# -- the building blocks ----------------------------------------------------------------------
def test_nesting_depth_counts_brackets_outside_strings_only() -> None:
    assert nesting_depth(b'[[1, "[[[[", {"a": ["]]"]}]]') == 4
    assert nesting_depth(b'["\\"[[[", [1]]') == 2
    assert nesting_depth(b"") == 0
    with pytest.raises(Invalid, match="not valid JSON"):
        parse_json(b"[1, 2")


def test_duplicates_are_named() -> None:
    with pytest.raises(Invalid, match="id 3 appears 2 times, id 5 appears 3 times"):
        no_duplicates([3, 5, 3, 5, 5, 1], "objects", "id")
    depth_at_most({"a": [[1]]}, "x", 3)
    with pytest.raises(Invalid):
        depth_at_most({"a": [[1]]}, "x", 2)


# -- through the command line ---------------------------------------------------------------
def test_the_command_line_ends_each_malformed_input_in_one_line(tmp_path: Path, capsys) -> None:
    import main

    bad = tmp_path / "bad.masklet"
    bad.write_text(json.dumps(PROJECT_CASES["frame count 1e30"][0](project_json(tmp_path))))
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 5000 + b"]" * 5000)
    prompts = tmp_path / "prompts.json"
    prompts.write_text('{"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[NaN, 1]]}]}]}')
    from tests.video_corpus import CASES, write_case

    video = write_case(CASES[0], tmp_path)
    (tmp_path / "c.pt").write_bytes(b"")  # never read: the prompts are refused first
    runs = {
        "frame_count": ["export", str(bad), "--format", "coco", "--out", str(tmp_path / "o.json")],
        "nested more than": ["import", str(deep), "--format", "coco", "--out", str(tmp_path / "o.masklet")],
        "holds NaN": ["track", str(video), "--prompts", str(prompts), "--checkpoint", str(tmp_path / "c.pt"),
                      "--out", str(tmp_path / "t.masklet")],
    }
    for words, argv in runs.items():
        code = main.main(argv)
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 1 and len(err) == 1 and words in err[0], (argv[0], err)
