"""Automatic objects outside the window: the add-new-objects rule, names and sources, the one-step
add command, ``masklet track --auto`` (with ``--auto-every``), batch's ``"auto"`` manifest field and
SA-V's masklet_type on export and import."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import main
from annotator.auto_objects import AUTOMATIC, AutoSpec, FoundMask, masks_on, new_objects, uncovered
from annotator.auto_objects_command import AddFoundObjectsCommand
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef
from annotator.observed_document import ObservedDocument
from annotator.project import load_project
from annotator.project_exchange import export_document, import_document
from core.batch.jobs import AutoWork
from core.batch.manifest import ManifestError, parse_line
from core.masks import encode
from core.sam2.auto_params import AutoMaskParams
from core.video.inputs import MaskInput
from tests.sam2_helpers import save_random_checkpoint, tiny_test_config
from tests.video_helpers import copy_bedroom_frames, one_thread

FRAMES = 6


def box_mask(x0: int, y0: int, x1: int, y1: int, size: tuple[int, int] = (40, 60)) -> np.ndarray:
    m = np.zeros(size, bool)
    m[y0:y1, x0:x1] = True
    return m


def found(mask: np.ndarray, iou: float = 0.9) -> FoundMask:
    rle = encode(mask)
    return FoundMask(rle, rle.area, iou, 0.97, (1.0, 2.0))


def test_uncovered_rule() -> None:
    existing = [encode(box_mask(0, 0, 20, 20))]
    same = found(box_mask(0, 0, 20, 20))
    mostly = found(box_mask(0, 0, 20, 25))  # IoU 0.8 with the existing mask
    half = found(box_mask(0, 0, 20, 10))  # IoU 0.5
    new = found(box_mask(30, 10, 50, 30))
    tiny = found(box_mask(55, 0, 57, 2))
    assert uncovered([same, mostly, half, new, tiny], existing, 0.5) == [new, tiny]
    assert uncovered([same, mostly, half, new, tiny], existing, 0.81) == [mostly, half, new, tiny]
    assert uncovered([same, mostly, half, new, tiny], existing, 0.5, min_area=5) == [new]
    assert uncovered([same, new], [], 0.5) == [same, new]


def test_spec_frames_and_settings() -> None:
    assert AutoSpec().frames(10) == [0]
    assert AutoSpec(frame=4, every=3).frames(12) == [4, 7, 10, 1]
    spec = AutoSpec.from_json({"frame": 2, "every": 5, "cover_iou": 0.6, "points_per_side": 16, "crop_n_layers": 1})
    assert (spec.frame, spec.every, spec.cover_iou) == (2, 5, 0.6)
    assert spec.params == AutoMaskParams(points_per_side=16, crop_n_layers=1)
    assert AutoSpec.from_json({}).params == AutoMaskParams()
    for bad, words in (({"points": 3}, "unknown automatic-mask parameter"), ({"every": 0}, "every"),
                       ({"cover_iou": 0}, "cover_iou"), ([], "must be an object"), ({"pred_iou_thresh": 2}, "pred_iou_thresh")):
        with pytest.raises(ValueError, match=words):
            AutoSpec.from_json(bad)
    with pytest.raises(ValueError, match="outside the video"):
        AutoSpec(frame=9).validate(frame_count=5)


def test_new_objects_and_the_one_step_command(qapp) -> None:
    from PySide6.QtGui import QUndoStack

    doc = AnnotationDocument(VideoRef("v.mp4", 60, 40, 5, 10.0))
    doc.put_object(ObjectRecord(1, "bed"))
    doc.put_object(ObjectRecord(2, "auto 7", source=AUTOMATIC))
    observed = ObservedDocument(doc)
    masks = [found(box_mask(0, 0, 10, 10), 0.91), found(box_mask(20, 0, 30, 10), 0.85)]
    objects = new_objects(doc, 3, masks)
    assert [(o.record.obj_id, o.record.name, o.record.source) for o in objects] == [(3, "auto 8", AUTOMATIC), (4, "auto 9", AUTOMATIC)]
    stack = QUndoStack()
    stack.push(AddFoundObjectsCommand(observed, objects))
    assert stack.count() == 1 and stack.undoText() == "Add 2 found objects"
    assert sorted(doc.objects) == [1, 2, 3, 4]
    entry = doc.masks[3][3]
    assert entry.source is MaskSource.EDITED and entry.iou == pytest.approx(0.91) and entry.rle == masks[0].rle
    assert [type(i) for i in doc.inputs] == [MaskInput, MaskInput] and doc.inputs[1].obj_id == 4
    assert [r.area for r in masks_on(doc, 3)] == [100, 100] and masks_on(doc, 2) == []
    stack.undo()
    assert sorted(doc.objects) == [1, 2] and doc.inputs == [] and 3 not in doc.masks
    stack.redo()
    assert sorted(doc.objects) == [1, 2, 3, 4] and len(doc.inputs) == 2


def test_sav_masklet_type_on_export_and_import(tmp_path: Path) -> None:
    doc = AnnotationDocument(VideoRef("walk.mp4", 60, 40, 3, 24.0))
    doc.put_object(ObjectRecord(1, "person"))
    doc.put_object(ObjectRecord(2, "auto 1", source=AUTOMATIC))
    for obj_id, mask in ((1, box_mask(0, 0, 10, 10)), (2, box_mask(20, 10, 40, 30))):
        for frame in range(3):
            doc.masks[obj_id][frame] = MaskEntry(encode(mask), MaskSource.PROPAGATED)
    out = tmp_path / "walk.json"
    export_document(doc, "sav", out)
    data = json.loads(out.read_text())
    assert data["masklet_type"] == ["manual", "auto"]
    again = import_document(out, "sav")
    assert [(r.obj_id, r.source) for r in again.objects.values()] == [(1, "manual"), (2, AUTOMATIC)]
    # the project file keeps the source; older files without it read as manual
    from annotator.project_schema import document_from_json, document_to_json

    saved = document_to_json(doc)
    assert [o.get("source") for o in saved["objects"]] == [None, AUTOMATIC]
    assert [r.source for r in document_from_json(saved)[0].objects.values()] == ["manual", AUTOMATIC]


def test_batch_manifest_auto_field(tmp_path: Path) -> None:
    job = parse_line(json.dumps({"video": "a.mp4", "auto": {"frame": 3, "every": 10}}), 1, str(tmp_path), "m:1")
    assert job.work == AutoWork({"frame": 3, "every": 10}) and job.work.kind == "auto"
    with pytest.raises(ManifestError, match="auto is a JSON object"):
        parse_line(json.dumps({"video": "a.mp4", "auto": 3}), 1, str(tmp_path), "m:1")
    with pytest.raises(ManifestError, match="exactly one of"):
        parse_line(json.dumps({"video": "a.mp4", "auto": {}, "prompts": {"objects": []}}), 1, str(tmp_path), "m:1")


# -- masklet track --auto ------------------------------------------------------------------------
# random weights: the default thresholds pass nothing; these pass a few masks of the 8 x 8 grid
SETTINGS = json.dumps({"pred_iou_thresh": 0.5, "stability_score_thresh": 0.5})


_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("auto")
    copy_bedroom_frames(root / "bedroom", FRAMES)
    save_random_checkpoint(root / "tiny.pt", tiny_test_config(128), seed=3)
    return root


def run(workdir: Path, *extra: str, out: str = "out.masklet") -> int:
    return main.main(["track", str(workdir / "bedroom"), "--checkpoint", str(workdir / "tiny.pt"), "--device", "cpu",
                      "--out", str(workdir / out), "--force", *extra])


@pytest.mark.slow
def test_track_auto_every(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir, "--auto", "--auto-points", "8", "--auto-every", "2", "--auto-settings", SETTINGS) == 0
    assert "wrote" in capsys.readouterr().err
    doc, _ = load_project(workdir / "out.masklet")
    records = list(doc.objects.values())
    assert len(records) >= 2 and all(r.source == AUTOMATIC for r in records)
    assert [r.name for r in records] == [f"auto {i}" for i in range(1, len(records) + 1)]
    first = [r.obj_id for r in records if 0 in doc.masks[r.obj_id] and doc.masks[r.obj_id][0].source is MaskSource.EDITED]
    assert first and all(sorted(doc.masks[o]) == list(range(FRAMES)) for o in first)  # tracked through the video
    later = [r.obj_id for r in records if r.obj_id not in first]
    assert later, "the second look (frame 2 or 4) should add what the first tracks do not cover"
    for obj_id in later:  # from the frame it was found on, forward
        start = min(doc.masks[obj_id])
        assert start in (2, 4) and doc.masks[obj_id][start].source is MaskSource.EDITED
        assert sorted(doc.masks[obj_id]) == list(range(start, FRAMES))
        # new means: no earlier track covered it there
        others = [doc.masks[o][start].rle for o in first]
        assert uncovered([found(doc.masks[obj_id][start].rle.decode())], others, 0.5)


def test_track_auto_errors(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir) == 1
    assert "give either --prompts PROMPTS.json or --auto" in capsys.readouterr().err
    assert run(workdir, "--auto", "--auto-settings", "{\"points\": 3}") == 1
    err = capsys.readouterr().err.strip()
    assert "unknown automatic-mask parameter 'points'" in err and len(err.splitlines()) == 1
    assert run(workdir, "--auto", "--auto-every", "0") == 1
    assert "every must be at least 1" in capsys.readouterr().err


def test_finder_progress_cancel_and_refusals(workdir: Path, qapp) -> None:
    """The search request through the session's worker (inline here): progress per point batch, a
    cancel honoured before the next batch, and the searches a session refuses."""
    from annotator.cli.track import cli_loader
    from annotator.find_objects import ObjectFinder
    from annotator.model_loading import make_engine, open_frames
    from annotator.session_controller import SessionController
    from annotator.worker import InlineWorker
    from core.checkpoints.runtime import ModelSelection

    checkpoint = workdir / "tiny.pt"
    session = SessionController(InlineWorker(loader=cli_loader(checkpoint, torch.device("cpu")), factory=make_engine,
                                             opener=open_frames))
    messages: list[str] = []
    session.message.connect(messages.append)
    finder = ObjectFinder(session)
    results: list = []
    finder.found.connect(results.append)
    try:
        assert finder.find() is None and "Open a video first." in messages
        session.open_video(str(workdir / "bedroom"))
        assert finder.find() is None and "needs a SAM 2 model" in messages[-1]
        session.model_status.load(ModelSelection(checkpoint))
        progress: list[tuple[int, int]] = []
        finder.progress.connect(lambda done, total: progress.append((done, total)))
        finder.progress.connect(lambda done, total: finder.cancel() if done >= 8 else None)
        assert finder.find(2, AutoMaskParams(points_per_side=4, points_per_batch=4)) is not None
        assert progress == [(4, 16), (8, 16)] and not finder.busy
        assert len(results) == 1 and results[0].cancelled and results[0].masks == () and results[0].frame == 2
        assert finder.add(2, []) == []
    finally:
        session.shutdown()
