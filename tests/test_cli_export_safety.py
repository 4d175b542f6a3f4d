"""``masklet export`` never deletes what it did not write: a folder with other files is refused with
one line and a non-zero exit, ``--force`` or not; ``--force`` replaces a previous export (keeping
the user's files there) or a folder of only that format's files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from core.formats import import_dataset

from .test_cli_export_import import one_line_error, project  # noqa: F401 - the project fixture

PREFIX = "masklet export"


def export(project: Path, fmt: str, out: Path, *extra: str) -> int:
    return main.main(["export", str(project), "--format", fmt, "--out", str(out), *extra])


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["davis", "png"])
def test_a_folder_holding_notes_is_refused_with_and_without_force(project: Path, tmp_path: Path, fmt: str,  # noqa: F811
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "Desktop"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    for extra in ((), ("--force",)):
        one_line_error(capsys, export(project, fmt, out, *extra), "notes.txt", PREFIX)
    assert files(out) == {"notes.txt": b"my notes"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Desktop", "p.masklet"]  # no temporary left


def test_force_replaces_a_folder_of_only_that_formats_files(project: Path, tmp_path: Path,  # noqa: F811
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "masks"
    out.mkdir()
    for frame in range(20):  # another tool's DAVIS masks: grey PNGs named by frame
        Image.fromarray(np.zeros((16, 48), np.uint8)).save(out / f"{frame:05d}.png")
    one_line_error(capsys, export(project, "davis", out), "pass --force to replace it", PREFIX)
    assert len(files(out)) == 20
    assert export(project, "davis", out, "--force") == 0
    assert sorted(files(out)) == [f"{f:05d}.png" for f in range(12)]


@pytest.mark.parametrize("fmt", ["davis", "png"])
def test_force_replaces_a_previous_export_and_keeps_the_users_files(project: Path, tmp_path: Path, fmt: str,  # noqa: F811
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"p_{fmt}"
    assert export(project, fmt, out) == 0
    (out / "notes.txt").write_text("my notes")
    capsys.readouterr()
    one_line_error(capsys, export(project, fmt, out, "--stride", "4"), "already exists: a previous", PREFIX)
    assert export(project, fmt, out, "--stride", "4", "--force") == 0
    assert (out / "notes.txt").read_text() == "my notes"
    assert sorted(import_dataset(out, fmt).tracks[0].masks) == [0, 4, 8]
