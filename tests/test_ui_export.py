"""File > Export through the real main window: default names per format and video, a folder with the
user's files refused with a dialog that explains, a re-export confirmed by a question naming the
path (the user's files kept), a success message that stays with an "Open folder" notice, and
the video's frames beside a COCO file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QMessageBox

from core.formats import import_dataset
from tests.ui_helpers import LEFT, close_window, open_window, settings_with_model, view_point, wait_shown
from ui.dialog_buttons import ok_button
from ui.export_dialog import ExportDialog
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui
Yes, Cancel = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.Cancel


class Asked:
    """QMessageBox.warning / question stand-ins: they record (title, text) and answer as told."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.warnings: list[tuple[str, str]] = []
        self.questions: list[tuple[str, str]] = []
        self.answer = Yes
        monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a: self.warnings.append((title, text)))
        monkeypatch.setattr(QMessageBox, "question", self._question)

    def _question(self, parent, title: str, text: str, *args) -> QMessageBox.StandardButton:
        self.questions.append((title, text))
        return self.answer


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    """bedroom.mp4 with one brushed object, saved as tmp_path/work/bedroom.masklet (no model needed)."""
    w = open_window(qtbot, settings_with_model(tmp_path, None))
    assert w.open_path(str(shared_data / "videos" / "bedroom.mp4"))
    wait_shown(qtbot, w)
    qtbot.keyClick(w.canvas, Qt.Key.Key_D)
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, LEFT, pos=view_point(w, 100, 100))
    qtbot.mouseMove(vp, view_point(w, 200, 120))
    qtbot.mouseRelease(vp, LEFT, pos=view_point(w, 200, 120))
    assert w.session.doc.mask(1, 0) is not None
    (tmp_path / "work").mkdir()
    w.session.save(str(tmp_path / "work" / "bedroom.masklet"))
    yield w
    close_window(w)


def export(qtbot, w: MainWindow, monkeypatch: pytest.MonkeyPatch, fmt: str, path: Path | None = None,
           choose: Callable[[ExportDialog], None] | None = None) -> ExportDialog:
    """File > Export, choose ``fmt`` (and ``path``, else keep the default; ``choose`` sets the rest),
    press Export, wait for the end."""
    shown: list[ExportDialog] = []

    def run(dialog: ExportDialog) -> int:
        shown.append(dialog)
        dialog.set_format(fmt)
        if path is not None:
            dialog.path.setText(str(path))
        if choose is not None:
            choose(dialog)
        qtbot.mouseClick(ok_button(dialog.buttons), LEFT)
        qtbot.waitUntil(lambda: dialog.job is None, timeout=60000)
        return dialog.result()

    monkeypatch.setattr(ExportDialog, "exec", run)
    w.actions["file.export"].trigger()
    assert len(shown) == 1
    return shown[0]


@pytest.mark.slow
def test_three_exports_in_different_formats_with_default_names_leave_three_outputs(
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = Asked(monkeypatch)
    work = tmp_path / "work"
    for fmt, name in (("coco", "bedroom.coco.json"), ("ytvis", "bedroom.ytvis.json"), ("davis", "bedroom_davis")):
        dialog = export(qtbot, window, monkeypatch, fmt)
        assert dialog.path.text() == str(work / name) and dialog.result() == 1
    assert sorted(p.name for p in work.iterdir()) == ["bedroom.coco.json", "bedroom.masklet", "bedroom.ytvis.json",
                                                     "bedroom_davis"]
    assert asked.questions == [] and asked.warnings == []
    for fmt, name in (("coco", "bedroom.coco.json"), ("ytvis", "bedroom.ytvis.json"), ("davis", "bedroom_davis")):
        assert 1 in {t.track_id for t in import_dataset(work / name, fmt).tracks}


def test_the_default_name_follows_the_format_until_the_user_types_a_path(qtbot, window: MainWindow, tmp_path: Path) -> None:
    dialog = ExportDialog(window.session.doc.document, str(tmp_path / "work"), window)
    qtbot.addWidget(dialog)
    seen = []
    for fmt in ("coco", "ytvis", "sav", "davis", "png"):
        dialog.set_format(fmt)
        seen.append(Path(dialog.path.text()).name)
    assert seen == ["bedroom.coco.json", "bedroom.ytvis.json", "bedroom.sav.json", "bedroom_davis", "bedroom_png"]
    dialog.path.setText(str(tmp_path / "mine"))
    dialog.set_format("davis")
    assert dialog.path.text() == str(tmp_path / "mine")


def test_exporting_into_a_folder_that_holds_notes_is_refused_with_a_dialog_and_keeps_notes(
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = Asked(monkeypatch)
    desktop = tmp_path / "Desktop"
    desktop.mkdir()
    (desktop / "notes.txt").write_text("my notes")
    for fmt in ("davis", "png"):
        dialog = export(qtbot, window, monkeypatch, fmt, desktop)
        assert dialog.result() == 0  # not accepted: nothing was exported
        title, text = asked.warnings[-1]
        assert title == "Cannot export here" and str(desktop) in text and "notes.txt" in text
        assert str(desktop / f"bedroom_{fmt}") in text  # and it says where the export could go instead
        assert dialog.status.text() == "Nothing exported."
        dialog.reject()
    assert asked.questions == [] and len(asked.warnings) == 2
    assert [p.name for p in desktop.iterdir()] == ["notes.txt"] and (desktop / "notes.txt").read_text() == "my notes"
    assert window.findChild(QMessageBox, "exportNotice") is None
    assert window.statusBar().findChild(QLabel, "lastExport") is None


@pytest.mark.slow
def test_re_exporting_asks_naming_the_path_and_keeps_unrelated_files(
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = Asked(monkeypatch)
    work = tmp_path / "work"
    out, coco = work / "bedroom_davis", work / "bedroom.coco.json"
    export(qtbot, window, monkeypatch, "davis")
    export(qtbot, window, monkeypatch, "coco")
    assert asked.questions == []
    (out / "notes.txt").write_text("my notes")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    asked.answer = Cancel  # no: nothing changes
    dialog = export(qtbot, window, monkeypatch, "davis")
    assert dialog.status.text() == "Nothing exported." and {p.name: p.read_bytes() for p in out.iterdir()} == before
    dialog.reject()
    title, text = asked.questions[-1]
    assert str(out) in text and "previous DAVIS export" in text and "notes.txt" in text

    asked.answer = Yes
    window.session.doc.document.metadata["fresh"] = True  # any change: the re-export runs again
    assert export(qtbot, window, monkeypatch, "davis").result() == 1
    assert len(asked.questions) == 2 and str(out) in asked.questions[-1][1]
    assert (out / "notes.txt").read_text() == "my notes" and sorted(before) == sorted(p.name for p in out.iterdir())

    export(qtbot, window, monkeypatch, "coco")  # a file: the question names it too
    assert len(asked.questions) == 3 and str(coco) in asked.questions[-1][1]
    assert "previous COCO export" in asked.questions[-1][1]
    assert sorted(p.name for p in work.iterdir()) == ["bedroom.coco.json", "bedroom.masklet", "bedroom_davis"]
    assert asked.warnings == []


@pytest.mark.slow
def test_the_success_message_stays_and_the_notice_opens_the_folder(
        qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ui.status

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr(ui.status, "MESSAGE_MS", 50)  # the status bar's timed messages would be gone by now
    Asked(monkeypatch)
    out = tmp_path / "work" / "bedroom_png"
    dialog = export(qtbot, window, monkeypatch, "png")
    assert not dialog.isVisible()
    label = window.statusBar().findChild(QLabel, "lastExport")
    assert label.text() == f"Exported per-object PNG to {out}" and label.isVisible()
    window.session.message.emit("another message")  # covers the line for its time, then goes
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "another message")
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == "")
    assert label.text() == f"Exported per-object PNG to {out}" and label.isVisible()
    notice = window.findChild(QMessageBox, "exportNotice")
    assert notice is not None and notice.isVisible() and notice.windowModality() == Qt.WindowModality.NonModal
    assert str(out) in notice.text()
    button = next(b for b in notice.buttons() if b.text() == "Open folder")
    qtbot.mouseClick(button, LEFT)
    assert [u.toLocalFile() for u in opened] == [str(out)]

    export(qtbot, window, monkeypatch, "sav")  # a file: Open folder shows the folder holding it
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "exportNotice") not in (None, notice))
    notice = window.findChild(QMessageBox, "exportNotice")
    next(b for b in notice.buttons() if b.text() == "Open folder").click()
    assert opened[-1].toLocalFile() == str(tmp_path / "work")
    assert label.text() == f"Exported SA-V to {tmp_path / 'work' / 'bedroom.sav.json'}"


@pytest.mark.slow
def test_coco_with_the_videos_frames_resolves_its_file_names(qtbot, window: MainWindow, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from PIL import Image

    asked = Asked(monkeypatch)

    def with_frames(dialog: ExportDialog) -> None:
        dialog.set_format("davis")
        assert not dialog.with_frames.isEnabled()  # DAVIS names no frame files
        dialog.set_format("coco")
        dialog.stride.setValue(50)
        dialog.all_frames.setChecked(True)  # only frame 0 is annotated: the others are asked for
        dialog.with_frames.setChecked(True)
        dialog.quality.setValue(70)

    export(qtbot, window, monkeypatch, "coco", choose=with_frames)
    work = tmp_path / "work"
    names = [i["file_name"] for i in json.loads((work / "bedroom.coco.json").read_text())["images"]]
    assert names == [f"bedroom/{f:05d}.jpg" for f in (0, 50, 100, 150)]
    for name in names:
        with Image.open(work / name) as image:
            assert image.size == (960, 540)
    export(qtbot, window, monkeypatch, "coco", choose=with_frames)  # again: one question for each output
    assert [str(work / "bedroom.coco.json") in text for _, text in asked.questions] == [True, False]
    assert str(work / "bedroom") in asked.questions[1][1] and "video frames" in asked.questions[1][1]
