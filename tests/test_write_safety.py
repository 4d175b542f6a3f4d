"""Where Masklet writes: never over the project or the video it reads, never through a link to
the user's own file, permissions kept, long names, no temporaries left, create-exclusive for
two writers racing for one new path, and an earlier crash's temporaries cleaned up."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, save_project, write_to
from core.formats import FormatError, TargetState, inspect_target
from core.formats.atomic import clean_stale, temp_prefix, write_file_atomic
from core.masks import encode

from .test_cli_export_import import one_line_error, project  # noqa: F401 - the project fixture

PREFIX = "masklet export"


def export(project: Path, fmt: str, out: Path, *extra: str) -> int:
    return main.main(["export", str(project), "--format", fmt, "--out", str(out), *extra])


def small_doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("/v/clip.mp4", 48, 16, 12, 24.0, "sha256:1"))
    obj = doc.add_object("a")
    m = np.zeros((16, 48), bool)
    m[2:8, 3:9] = True
    doc.set_mask(obj.obj_id, 0, MaskEntry(encode(m), MaskSource.PROPAGATED))
    return doc


def test_export_over_the_project_file_itself_is_refused_even_with_force(project: Path, capsys) -> None:  # noqa: F811
    before = project.read_bytes()
    one_line_error(capsys, export(project, "coco", project, "--force"), "is the project file", PREFIX)
    assert project.read_bytes() == before
    link = project.parent / "link.json"
    link.symlink_to(project)  # through a link too
    one_line_error(capsys, export(project, "coco", link, "--force"), "the project file", PREFIX)
    assert project.read_bytes() == before


def test_export_over_the_video_being_read_is_refused(tmp_path: Path) -> None:
    from core.frames import open_frames
    from tests.video_corpus import CASES, write_case

    video = write_case(CASES[0], tmp_path)
    assert video is not None
    open_frames(video).close()
    target = inspect_target(video, "coco")
    assert target.state is TargetState.REFUSED and "is the video" in target.message


def test_a_link_to_the_users_file_or_folder_is_refused_even_with_force(project: Path, tmp_path: Path,  # noqa: F811
                                                                       capsys) -> None:
    mine = tmp_path / "thesis.txt"
    mine.write_text("years of work")
    (tmp_path / "out.json").symlink_to(mine)
    one_line_error(capsys, export(project, "coco", tmp_path / "out.json", "--force"), "symbolic link", PREFIX)
    assert mine.read_text() == "years of work"
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(np.zeros((16, 48), np.uint8)).save(photos / "00000.png")  # not marked as Masklet's
    (tmp_path / "masks").symlink_to(photos)
    one_line_error(capsys, export(project, "davis", tmp_path / "masks", "--force"), "symbolic link", PREFIX)
    assert sorted(p.name for p in photos.iterdir()) == ["00000.png"]
    (tmp_path / "broken").symlink_to(tmp_path / "nowhere")
    one_line_error(capsys, export(project, "coco", tmp_path / "broken", "--force"), "broken symbolic link", PREFIX)


def test_a_link_to_a_previous_export_is_replaced_where_it_points(project: Path, tmp_path: Path) -> None:  # noqa: F811
    real = tmp_path / "exports" / "c.json"
    real.parent.mkdir()
    assert export(project, "coco", real) == 0
    link = tmp_path / "latest.json"
    link.symlink_to(real)
    assert export(project, "coco", link, "--stride", "2", "--force") == 0
    assert link.is_symlink() and real.is_file()  # the link still points at the new export
    assert len(__import__("json").loads(real.read_text())["annotations"]) < 24


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_replacing_a_file_keeps_its_permissions(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "p.masklet"
    save_project(small_doc(), path)
    os.chmod(path, mode)
    save_project(small_doc(), path)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_new_file_gets_the_umasks_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        save_project(small_doc(), tmp_path / "p.masklet")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "p.masklet").stat().st_mode) == 0o640


def test_long_names_work(project: Path, tmp_path: Path) -> None:  # noqa: F811
    stem = "é" * 120  # 240 bytes in UTF-8
    save_project(small_doc(), tmp_path / f"{stem}.masklet")  # 248 bytes
    assert load_project(tmp_path / f"{stem}.masklet").document.mask_count() == 1
    assert export(project, "coco", tmp_path / f"{stem[:-3]}.json") == 0
    assert export(project, "davis", tmp_path / f"{stem}x") == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_export_to_dot_leaves_no_temporaries(project: Path, tmp_path: Path, monkeypatch) -> None:  # noqa: F811
    out = tmp_path / "work"
    out.mkdir()
    monkeypatch.chdir(out)
    assert export(project, "davis", Path(".")) == 0  # an empty folder: written into
    assert export(project, "davis", Path("."), "--stride", "3", "--force") == 0
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) in ([], [".masklet-export.json"])
    assert not [p for p in tmp_path.iterdir() if p.name.endswith((".partial", ".old", ".tmp"))]


def test_of_two_writers_racing_for_a_new_file_one_fails_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "new.masklet"
    results: list[str] = []
    barrier = threading.Barrier(2)

    def save(n: int) -> None:
        doc = small_doc()
        doc.add_object(f"writer {n}")
        barrier.wait()
        try:
            save_project(doc, path, exclusive=True)
            results.append("wrote")
        except ProjectError as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=save, args=(n,)) for n in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results)[-1] == "wrote" and results.count("wrote") == 1, results
    assert "created it meanwhile" in sorted(results)[0]
    assert load_project(path).document.mask_count() == 1


def test_a_file_that_appears_during_an_exclusive_write_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "x.json"

    def write(handle) -> None:  # noqa: ANN001
        path.write_text("the other writer's")
        handle.write(b"ours")

    with pytest.raises(FileExistsError):
        write_file_atomic(path, write, exclusive=True)
    assert path.read_text() == "the other writer's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]
    with pytest.raises(ProjectError, match="created it meanwhile"):
        write_to(path, b"ours", exclusive=True)


@pytest.mark.slow
def test_two_import_processes_to_one_new_path_never_both_write(project: Path, tmp_path: Path) -> None:  # noqa: F811
    dataset = tmp_path / "c.json"
    assert export(project, "coco", dataset) == 0
    out = tmp_path / "new.masklet"
    cmd = [sys.executable, "-c", "import sys, main; sys.exit(main.main(sys.argv[1:]))",
           "import", str(dataset), "--format", "coco", "--out", str(out)]
    runs = [subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, cwd=Path(main.__file__).parent) for _ in range(2)]
    outcomes = [(r.wait(120), r.stderr.read()) for r in runs]  # type: ignore[union-attr]
    assert sorted(code for code, _ in outcomes) == [0, 1], outcomes
    assert sum("wrote" in err for _, err in outcomes) == 1
    assert load_project(out).document.mask_count() > 0


def test_temporaries_of_a_killed_writer_are_cleaned_by_the_next_save(tmp_path: Path) -> None:
    path = tmp_path / "p.masklet"
    save_project(small_doc(), path)
    dead = tmp_path / f"{temp_prefix(path.name)}abc123.tmp"
    dead.write_bytes(b"half a project")
    dead_dir = tmp_path / f"{temp_prefix(path.name)}xyz.partial"
    dead_dir.mkdir()
    alive = tmp_path / f"{temp_prefix(path.name)}live.tmp"
    alive.write_bytes(b"being written")
    unrelated = tmp_path / ".notes.txt.abc.tmp"
    unrelated.write_bytes(b"not ours")
    with open(alive, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)  # a writer at work in another process
        save_project(small_doc(), path)
        assert not dead.exists() and not dead_dir.exists()
        assert alive.exists() and unrelated.exists()
    assert clean_stale(tmp_path, path.name) == [alive]


def test_a_save_over_a_file_being_read_as_something_else_is_refused(tmp_path: Path) -> None:
    from core.formats.atomic import read_json

    data = tmp_path / "c.json"
    data.write_text("{}")
    read_json(data, "COCO")
    with pytest.raises(ProjectError, match="is the COCO file being read"):
        save_project(small_doc(), data)
    assert data.read_text() == "{}"
    with pytest.raises(FormatError):
        from core.formats.target import claim_target

        claim_target(data, "coco", True)
