"""Issue 15 in the real window: layout that holds at small sizes and restores, new objects that do
not shrink the canvas, a confirmed (and undoable) object deletion, the About box, the brush and
opacity values on show."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMessageBox

from tests.ui_helpers import close_window, open_window, settings_with_model, wait_shown
from ui.main_window import MIN_WINDOW, MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, None))
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    wait_shown(qtbot, w)
    yield w
    close_window(w)


def settle(qtbot) -> None:
    """Let the layout and queued events run (a zero timer fires after what is queued now)."""
    done: list[bool] = []
    QTimer.singleShot(0, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)


def test_a_small_window_keeps_a_usable_layout_and_restores(qtbot, window: MainWindow) -> None:
    w = window
    for i in range(4):
        w.session.add_object(f"an object with a rather long name {i}")
    window.resize(640, 420)
    settle(qtbot)
    assert (w.width(), w.height()) == MIN_WINDOW  # no smaller than its minimum
    assert w.navigation.slider.width() >= 200 and w.objects.width() >= 240
    assert w.minimumSizeHint().width() <= MIN_WINDOW[0]  # the status text never widens the window
    table = w.objects.table
    assert table.rowHeight(0) == table.rowHeight(3) and not table.wordWrap()  # names elided, not wrapped
    w.resize(1400, 900)
    settle(qtbot)
    assert w.objects.width() >= 240 and w.canvas.width() > 900


def test_new_objects_add_timeline_lanes_without_shrinking_the_canvas(qtbot, window: MainWindow) -> None:
    w = window
    w.resize(1400, 900)
    settle(qtbot)
    before = w.canvas.size()
    for _ in range(8):
        w.session.add_object()
        settle(qtbot)
    assert w.canvas.size() == before
    assert len(w.timeline.lanes) == 8


def test_deleting_an_object_asks_first_and_undo_brings_it_back(qtbot, window: MainWindow, monkeypatch) -> None:
    w, s = window, window.session
    s.add_object("dog")
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Yes]

    def question(parent, title, text, *args):
        asked.append(text)
        return answers.pop(0)

    monkeypatch.setattr(QMessageBox, "question", question)
    qtbot.keyClick(w.canvas, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert s.doc.has_object(1) and asked[0].startswith("Delete “dog” and its masks on 0 frames?")
    qtbot.keyClick(w.canvas, Qt.Key.Key_Delete, Qt.KeyboardModifier.ControlModifier)
    assert not s.doc.has_object(1)
    qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.doc.object(1).name == "dog"


def test_about_names_the_version_the_model_and_the_folders(qtbot, window: MainWindow, monkeypatch) -> None:
    from core import __version__
    from core.checkpoints.paths import checkpoints_dir
    from ui.about_dialog import AboutDialog

    shown: list[AboutDialog] = []
    monkeypatch.setattr(AboutDialog, "exec", lambda self: shown.append(self) or 0)
    window.actions["help.about"].trigger()
    (dialog,) = shown
    texts = {label.objectName(): label.text() for label in dialog.findChildren(type(window.status.position))}
    assert texts["about_version"] == f"Masklet {__version__}"
    assert texts["about_model"].startswith("No model")
    assert texts["about_checkpoints"] == str(checkpoints_dir())
    assert texts["about_settings_file"] == window.settings.q.fileName()


def test_brush_size_and_opacity_are_shown_as_they_change(qtbot, window: MainWindow) -> None:
    w = window
    w.tools.set_brush_size(20)
    w.overlay_style.set_opacity(0.45)
    assert w.status.view_label.text() == "Brush 20 px · Masks 45 %"
    qtbot.keyClick(w.canvas, Qt.Key.Key_BracketRight)
    qtbot.keyClick(w.canvas, Qt.Key.Key_O)
    assert w.status.view_label.text() == f"Brush {w.tools.brush_size} px · Masks 55 %" and w.tools.brush_size > 20


def test_the_brush_cursor_shows_on_light_and_dark_frames(qtbot, window: MainWindow) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    canvas = window.canvas
    canvas.show_brush_cursor(QPointF(100, 100), 30)
    (ring,) = canvas.brush_cursor.childItems()
    assert canvas.brush_cursor.pen().color() == QColor(0, 0, 0)  # seen on light frames
    assert ring.pen().color() == QColor(255, 255, 255) and ring.pen().style() == Qt.PenStyle.DashLine  # on dark ones
    assert ring.rect() == canvas.brush_cursor.rect() and ring.rect().width() == 30


def test_a_model_that_fails_to_load_is_reported_in_plain_words(qtbot, window: MainWindow, tmp_path: Path) -> None:
    from annotator.model_status import ModelState
    from core.checkpoints.runtime import ModelSelection

    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    window.session.model_status.load(ModelSelection(broken))
    qtbot.waitUntil(lambda: window.session.model_status.state is ModelState.FAILED, timeout=60000)
    text = window.status.model_label.toolTip()
    assert text.startswith("No model: the model could not be loaded:") and "Error" not in text, text
