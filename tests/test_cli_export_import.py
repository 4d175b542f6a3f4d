"""``masklet export`` and ``masklet import`` through main.main, and once as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import load_project, save_project
from core.formats import FORMATS
from core.masks import encode

from .conftest import ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    doc = AnnotationDocument(VideoRef("/v/clip.mp4", 48, 16, 12, 24.0, "sha256:1"))
    for name in ("a", "b"):
        obj = doc.add_object(name)
        for frame in range(12):
            m = np.zeros((16, 48), bool)  # apart, so DAVIS (one id per pixel) keeps both whole
            x = 2 + 22 * (obj.obj_id - 1) + frame
            m[2:10, x:x + 6] = True
            doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROPAGATED))
    path = tmp_path / "p.masklet"
    save_project(doc, path)
    return path


def one_line_error(capsys: pytest.CaptureFixture[str], rc: int, words: str, prefix: str) -> None:
    err = capsys.readouterr().err.strip()
    assert rc != 0 and len(err.splitlines()) == 1 and err.startswith(prefix) and words in err, (rc, err)


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"yolo"}))  # YOLO keeps no identity: tests/test_formats_new.py
def test_export_then_import_every_format(project: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / (fmt if FORMATS[fmt].is_folder else f"{fmt}.json")
    assert main.main(["export", str(project), "--format", fmt, "--out", str(out), "--stride", "3"]) == 0
    assert main.main(["import", str(out), "--format", fmt, "--out", str(tmp_path / "back.masklet")]) == 0
    original, back = load_project(project).document, load_project(tmp_path / "back.masklet").document
    for obj_id in (1, 2):
        assert sorted(back.masks[obj_id]) == [0, 3, 6, 9]
        for frame in (0, 3, 6, 9):
            assert np.array_equal(back.masks[obj_id][frame].rle.decode(), original.masks[obj_id][frame].rle.decode())


def test_export_errors(project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = "masklet export"
    one_line_error(capsys, main.main(["export", str(tmp_path / "none.masklet"), "--format", "coco", "--out", str(tmp_path / "c.json")]),
                   "no such file", prefix)
    one_line_error(capsys, main.main(["export", str(project), "--format", "voc", "--out", str(tmp_path / "c.json")]),
                   "invalid choice: 'voc'", prefix)
    one_line_error(capsys, main.main(["export", str(project), "--format", "coco"]), "required: --out", prefix)
    one_line_error(capsys, main.main(["export", str(project), "--format", "coco", "--out", str(tmp_path / "c.json"), "--stride", "x"]),
                   "not a whole number", prefix)
    one_line_error(capsys, main.main(["export", str(project), "--format", "coco", "--out", str(tmp_path / "no" / "c.json")]),
                   "does not exist", prefix)
    (tmp_path / "broken.masklet").write_bytes(b"\x1f\x8b\x08\x00 broken")
    one_line_error(capsys, main.main(["export", str(tmp_path / "broken.masklet"), "--format", "sav", "--out", str(tmp_path / "s.json")]),
                   "truncated or damaged", prefix)
    (tmp_path / "c.json").write_text("mine")
    one_line_error(capsys, main.main(["export", str(project), "--format", "coco", "--out", str(tmp_path / "c.json")]),
                   "already exists", prefix)
    assert (tmp_path / "c.json").read_text() == "mine"
    assert main.main(["export", str(project), "--format", "coco", "--out", str(tmp_path / "c.json"), "--force"]) == 0
    assert json.loads((tmp_path / "c.json").read_text())["images"][0]["frame_index"] == 0
    assert main.main(["export", "--help"]) == 0
    assert "--stride" in capsys.readouterr().out


def test_import_errors(tmp_path: Path, shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prefix = "masklet import"
    sav = shared_data / "sav" / "sav_000001_manual.json"
    out = str(tmp_path / "p.masklet")
    one_line_error(capsys, main.main(["import", str(tmp_path / "none.json"), "--format", "sav", "--out", out]), "does not exist", prefix)
    one_line_error(capsys, main.main(["import", str(sav), "--format", "coco", "--out", out]), "COCO JSON lacks the list 'images'", prefix)
    one_line_error(capsys, main.main(["import", str(sav), "--format", "sav", "--video", str(shared_data / "videos" / "bedroom.mp4"),
                                      "--out", out]), "is 960x540 but the masks are 480x848", prefix)
    one_line_error(capsys, main.main(["import", str(sav), "--format", "sav", "--video", str(tmp_path / "gone.mp4"), "--out", out]),
                   "no such file", prefix)
    one_line_error(capsys, main.main(["import", str(sav), "--out", out]), "required: --format", prefix)
    assert not Path(out).exists()
    Path(out).write_text("older work")
    one_line_error(capsys, main.main(["import", str(sav), "--format", "sav", "--out", out]), "already exists", prefix)
    assert Path(out).read_text() == "older work"


@pytest.mark.slow
def test_import_and_export_as_processes(tmp_path: Path, shared_data: Path) -> None:
    """The real command line, no display, SA-V in and out unchanged."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    sav = shared_data / "sav" / "sav_000001_manual.json"
    project, again = tmp_path / "sav.masklet", tmp_path / "again.json"
    code = "import sys, main; sys.exit(main.main(sys.argv[1:]))"
    first = subprocess.run([sys.executable, "-c", code, "import", str(sav), "--format", "sav", "--out", str(project)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "5 objects, 605 masks" in first.stderr and "window asks for it" in first.stderr
    second = subprocess.run([sys.executable, "-c", code, "export", str(project), "--format", "sav", "--out", str(again),
                             "--stride", "4"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert again.read_bytes() == sav.read_bytes()
    bad = subprocess.run([sys.executable, "-c", code, "export", str(tmp_path / "nope.masklet"), "--format", "sav", "--out", str(again)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
