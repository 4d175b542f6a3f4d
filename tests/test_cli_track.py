"""``masklet track``: the whole headless run on shared frames with a small random model, and its errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch

import main
from annotator.cli.track_prompts import PromptsError, check_against_video, parse_prompts
from annotator.document import MaskSource
from annotator.project import load_project
from core.frames import fingerprint, open_frames
from core.types import Direction, Prompt
from core.video import VideoSession
from core.video.legs import Leg, frames_in
from tests.sam2_helpers import random_model, save_random_checkpoint, tiny_test_config
from tests.video_helpers import copy_bedroom_frames

FRAMES = 6
PROMPTS = {"objects": [
    {"id": 1, "name": "bed", "category": "furniture",
     "prompts": [{"frame": 2, "points": [[480, 400], [100, 50]], "labels": [1, 0]}]},
    {"id": 4, "name": "lamp", "prompts": [{"frame": 3, "box": [600, 100, 800, 300]},
                                          {"frame": 4, "points": [[700, 200]]}]},
]}


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """On this shared 2-core test machine, two torch threads spin against each other (measured 0.5 s
    on one thread, 40 s on two, for the same propagation); results do not depend on the count."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first frames of the shared bedroom sequence, a random tiny checkpoint, the prompts file."""
    root = tmp_path_factory.mktemp("track")
    copy_bedroom_frames(root / "bedroom", FRAMES)
    save_random_checkpoint(root / "tiny.pt", tiny_test_config(128), seed=3)
    (root / "prompts.json").write_text(json.dumps(PROMPTS))
    return root


def run(workdir: Path, *extra: str, out: str = "out.masklet", prompts: str = "prompts.json") -> int:
    return main.main(["track", str(workdir / "bedroom"), "--prompts", str(workdir / prompts),
                      "--checkpoint", str(workdir / "tiny.pt"), "--device", "cpu", "--out", str(workdir / out), *extra])


@pytest.mark.slow
def test_track_end_to_end(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workdir) == 0
    err = capsys.readouterr().err
    total = frames_in((Leg(2, Direction.BOTH),), FRAMES)
    assert total == 7 and f"{total}/{total}" in err and "wrote" in err

    doc, missing = load_project(workdir / "out.masklet")
    assert not missing and doc.video is not None
    assert (doc.video.width, doc.video.height, doc.video.frame_count) == (960, 540, FRAMES)
    assert doc.video.fingerprint == fingerprint(workdir / "bedroom")
    assert [(o.obj_id, o.name, o.category) for o in doc.objects.values()] == [(1, "bed", "furniture"), (4, "lamp", "object")]
    assert sorted(doc.prompts[1]) == [2] and sorted(doc.prompts[4]) == [3, 4]
    assert np.array_equal(doc.prompts[1][2].labels, [1, 0]) and np.array_equal(doc.prompts[4][3].box, [600, 100, 800, 300])
    for obj_id, prompted in ((1, {2}), (4, {3, 4})):
        assert sorted(doc.masks[obj_id]) == list(range(FRAMES))  # both directions reached every frame
        for frame, entry in doc.masks[obj_id].items():
            assert entry.source is (MaskSource.PROMPTED if frame in prompted else MaskSource.PROPAGATED)
            assert entry.object_score is not None and entry.iou is not None

    # the same run done by hand on the engine gives the same masks
    model = random_model(tiny_test_config(128), seed=3)
    frames = open_frames(workdir / "bedroom")
    try:
        session = VideoSession(model, frames)
        expected = {}
        for obj in PROMPTS["objects"]:
            for p in obj["prompts"]:
                prompt = Prompt(p["frame"], obj["id"], np.array(p.get("points", np.zeros((0, 2))), np.float32).reshape(-1, 2),
                                np.array(p.get("labels", [1] * len(p.get("points", []))), np.int32),
                                None if "box" not in p else np.array(p["box"], np.float32))
                for o, m in session.add_prompt(prompt).objects.items():
                    expected[(o, p["frame"])] = m.rle
        for result in session.propagate(2, Direction.BOTH):
            for o, m in result.objects.items():
                expected[(o, result.frame)] = m.rle
    finally:
        frames.close()
    assert {(o, f): e.rle for o, f, e in doc.iter_masks()} == expected


@pytest.mark.slow
def test_errors_are_one_line(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = []

    def check(rc: int, words: str) -> None:
        err = capsys.readouterr().err.strip()
        cases.append(err)
        assert rc != 0, err
        assert len(err.splitlines()) == 1 and err.startswith("masklet track"), err
        assert words in err, err

    (workdir / "bad.json").write_text("{not json")
    check(run(workdir, prompts="bad.json", out="e.masklet"), "not a readable JSON file")
    check(run(workdir, prompts="none.json", out="e.masklet"), "no such prompts file")
    (workdir / "late.json").write_text(json.dumps({"objects": [{"id": 1, "prompts": [{"frame": 40, "points": [[5, 5]]}]}]}))
    check(run(workdir, prompts="late.json", out="e.masklet"), "the video has frames 0..5")
    (workdir / "out.masklet").write_bytes(b"keep me")
    check(run(workdir), "already exists (add --force")
    assert (workdir / "out.masklet").read_bytes() == b"keep me"
    check(main.main(["track", str(workdir / "nothing.mp4"), "--prompts", str(workdir / "prompts.json"),
                     "--checkpoint", str(workdir / "tiny.pt"), "--out", str(workdir / "e.masklet")]), "no such video")
    check(main.main(["track", str(workdir / "bedroom"), "--prompts", str(workdir / "prompts.json"),
                     "--checkpoint", str(workdir / "missing.pt"), "--out", str(workdir / "e.masklet")]), "no such checkpoint")
    (workdir / "broken.pt").write_bytes(b"PK\x03\x04 not really a zip")
    check(main.main(["track", str(workdir / "bedroom"), "--prompts", str(workdir / "prompts.json"),
                     "--checkpoint", str(workdir / "broken.pt"), "--device", "cpu", "--out", str(workdir / "e.masklet")]),
          "broken.pt")
    (workdir / "video.mp4").write_bytes(b"this is not a video")
    check(main.main(["track", str(workdir / "video.mp4"), "--prompts", str(workdir / "prompts.json"),
                     "--checkpoint", str(workdir / "tiny.pt"), "--device", "cpu", "--out", str(workdir / "e.masklet")]),
          "video.mp4")
    check(run(workdir, "--device", "tpu", out="e.masklet"), "invalid choice: 'tpu'")
    check(main.main(["track", str(workdir / "bedroom")]), "required")
    if not torch.cuda.is_available():
        check(run(workdir, "--device", "cuda", out="e.masklet"), "no CUDA GPU")
    assert not (workdir / "e.masklet").exists()


@pytest.mark.parametrize("objects, words", [
    ({}, "at least one object"),
    ({"objects": []}, "at least one object"),
    ({"objects": [{"name": "x", "prompts": [{"frame": 0, "points": [[1, 2]]}]}]}, "needs an id"),
    ({"objects": [{"id": 0, "prompts": [{"frame": 0, "points": [[1, 2]]}]}]}, "needs an id"),
    ({"objects": [{"id": 1, "prompts": []}]}, "non-empty prompts"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0}]}]}, "needs points or a box"),
    ({"objects": [{"id": 1, "prompts": [{"frame": -1, "points": [[1, 2]]}]}]}, "needs a frame number"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2, 3]]}]}]}, "each point is [x, y]"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]], "labels": [1, 0]}]}]}, "2 labels for 1 points"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]], "labels": [2]}]}]}, "labels are 1"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [5, 5, 2, 9]}]}]}, "x1 > x0"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [5, 5, "9", 9]}]}]}, "list of numbers"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "point": [[1, 2]]}]}]}, "unknown fields: point"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[1, 2]]}, {"frame": 0, "box": [0, 0, 4, 4]}]}]}, "two prompts on one frame"),
    ({"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [0, 0, 4, 4]}]},
                  {"id": 1, "prompts": [{"frame": 0, "box": [0, 0, 4, 4]}]}]}, "appears twice"),
])
def test_prompts_file_checks(objects: dict, words: str) -> None:
    with pytest.raises(PromptsError, match=words.replace("[", r"\[").replace("]", r"\]")):
        parse_prompts(objects)


def test_prompts_defaults_and_video_checks() -> None:
    (obj,) = parse_prompts({"objects": [{"id": 2, "prompts": [{"frame": 4, "points": [[1, 2], [3, 4]]}, {"frame": 1, "box": [0, 0, 9, 9]}]}]})
    assert (obj.name, obj.category) == ("object 2", "object")
    assert [p.frame for p in obj.prompts] == [1, 4]  # sorted by frame
    assert obj.prompts[1].labels.tolist() == [1, 1] and obj.prompts[1].points.dtype == np.float32
    check_against_video([obj], 10, 10, 5)
    with pytest.raises(PromptsError, match="outside the 8x8 picture"):
        check_against_video([obj], 8, 8, 5)
    assert frames_in((Leg(0, Direction.BOTH),), 10) == 10 and frames_in((Leg(4, Direction.BOTH),), 10) == 11
