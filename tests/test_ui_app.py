"""The window without a model, shortcuts, settings, drag and drop, object edits, and closing while a
propagation runs (an injected engine keeps these fast; the real one is in test_ui_end_to_end)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDropEvent, QKeySequence
from PySide6.QtWidgets import QMessageBox

from annotator.document import MaskSource
from annotator.session_controller import ModelState
from annotator.model_loading import LoadedModel
from annotator.worker import WorkerHandle
from core.frames import open_frames
from core.masks import encode
from core.checkpoints.runtime import ModelSelection
from core.types import Direction, FrameResult, ObjectMask
from tests.thread_helpers import HANG_S
from tests.ui_helpers import LEFT, close_window, open_window, settings_with_model, view_point, wait_shown
from ui.main_window import MainWindow
from ui.shortcuts import ACTIONS, markdown_table
from ui.shortcuts_dialog import ShortcutsDialog, key_text, shortcut_rows

pytestmark = pytest.mark.gui


class HeldEngine:
    """Masks are a fixed square; propagation yields ``free_frames`` frames, then holds until it is
    cancelled (so a run is provably still going when the window closes) and records that."""

    def __init__(self, model: object, frames, cache: int, free_frames: int = 2) -> None:
        self.h, self.w, self.n, self.free_frames = frames.info.height, frames.info.width, len(frames), free_frames
        self.cancelled = threading.Event()
        ENGINES.append(self)

    def _result(self, frame: int, obj_ids) -> FrameResult:
        m = np.zeros((self.h, self.w), bool)
        m[50:150, 100:300] = True
        return FrameResult(frame, {o: ObjectMask(o, encode(m), 2.0, 0.9) for o in obj_ids})

    def add_prompt(self, prompt, clear_old=True):
        return self._result(prompt.frame, [prompt.obj_id])

    def add_mask(self, frame, obj_id, mask):
        return self._result(frame, [obj_id])

    def remove_object(self, obj_id): ...
    def clear_prompts(self, frame, obj_id=None): ...
    def prefetch_features(self, frame): ...
    def has_features(self, frame): return True
    def set_memory_policy(self, obj_id, policy): ...
    def checkpoint(self): ...
    def restore(self, checkpoint): ...

    def propagate(self, start_frame=None, direction=Direction.FORWARD, *, end_frame=None, obj_ids=None,
                  locked=None, cancel=None, return_logits=False):
        for frame in range(start_frame, start_frame + self.free_frames):
            yield self._result(frame, obj_ids)
        deadline = time.monotonic() + HANG_S  # only guards a hang
        while not cancel() and time.monotonic() < deadline:
            time.sleep(0.005)  # paces the poll of the cancel flag; nothing is timed
        if cancel():
            self.cancelled.set()


ENGINES: list[HeldEngine] = []


def fake_worker() -> WorkerHandle:
    return WorkerHandle(loader=lambda sel: LoadedModel("fake", "cpu · fp32"), factory=HeldEngine,
                        opener=lambda path, mb: open_frames(path, cache_mb=mb))


@pytest.fixture
def bare(qtbot, tmp_path: Path):
    """A window with no checkpoint anywhere."""
    w = open_window(qtbot, settings_with_model(tmp_path, None))
    yield w
    close_window(w)


def test_without_a_model_the_window_says_so_and_the_brush_still_works(qtbot, bare: MainWindow, shared_data: Path) -> None:
    w, s = bare, bare.session
    assert s.model_status.state is ModelState.NONE
    assert "No model" in w.status.model_label.text() and "File > Model" in w.status.model_label.text()
    assert w.status.choose_model.isVisibleTo(w)
    assert w.open_path(str(shared_data / "videos" / "bedroom.mp4"))
    wait_shown(qtbot, w)
    qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 300, 200))  # a click needs a model
    assert s.doc.document.masks.get(1, {}) == {} and "model" in w.status.currentMessage()
    qtbot.keyClick(w.canvas, Qt.Key.Key_D)
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, LEFT, pos=view_point(w, 100, 100))
    qtbot.mouseMove(vp, view_point(w, 200, 100))
    qtbot.mouseRelease(vp, LEFT, pos=view_point(w, 200, 100))
    entry = s.doc.mask(1, 0)
    assert entry is not None and entry.source is MaskSource.EDITED and entry.rle.decode()[100, 150]
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert s.frame == 11 and w.navigation.spin.value() == 11
    wait_shown(qtbot, w)  # the decoded frame arrives from the loader thread


def test_shortcuts_dialog_lists_every_bound_shortcut(qtbot, bare: MainWindow) -> None:
    rows = shortcut_rows()
    listed = {(keys, what) for _, keys, what in rows}
    for spec in ACTIONS:
        if spec.keys:
            assert (key_text(spec.keys), spec.text.replace("&", "")) in listed
            assert bare.actions[spec.name].shortcuts() == [QKeySequence(k) for k in spec.keys]
    every_key = [k for spec in ACTIONS for k in spec.keys]
    assert len(every_key) == len(set(every_key)), "two actions share a key"
    dialog = ShortcutsDialog(bare)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == len(rows) and any(r[0] == "Mouse" for r in rows)
    table = markdown_table()
    assert all(f"`{spec.keys[0]}`" in table for spec in ACTIONS if spec.keys)


def test_settings_persist_opacity_recent_files_and_layout(qtbot, tmp_path: Path, shared_data: Path) -> None:
    settings = settings_with_model(tmp_path, None)
    w = open_window(qtbot, settings)
    assert w.open_path(str(shared_data / "frames" / "bedroom"))  # a folder of frames
    assert w.session.frame_count() == 24
    qtbot.keyClick(w.canvas, Qt.Key.Key_O)
    opacity = w.overlay_style.opacity
    w.tools.set_brush_size(33)
    close_window(w)
    again = open_window(qtbot, settings_with_model(tmp_path, None))
    assert again.overlay_style.opacity == pytest.approx(opacity) and again.tools.brush_size == 33
    assert again.settings.recent_files()[0].endswith("bedroom")
    assert again.files.recent_menu.actions()[0].text().endswith("bedroom")
    close_window(again)


def test_dropping_a_file_opens_it(qtbot, bare: MainWindow, shared_data: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(shared_data / "videos" / "bedroom.mp4"))])
    event = QDropEvent(QPointF(100, 100), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    bare.dropEvent(event)
    assert bare.session.frame_count() == 200


def test_object_edits_are_undoable_from_the_panel(qtbot, bare: MainWindow, shared_data: Path) -> None:
    s = bare.session
    qtbot.keyClick(bare.canvas, Qt.Key.Key_N)
    assert not s.doc.document.objects and not bare.isWindowModified()  # no object without a video
    assert bare.open_path(str(shared_data / "videos" / "bedroom.mp4"))
    qtbot.keyClick(bare.canvas, Qt.Key.Key_N)
    table = bare.objects.table
    table.item(0, 0).setText("dog")
    table.item(0, 1).setText("animal")
    assert s.doc.object(1).name == "dog" and s.doc.object(1).category == "animal"
    qtbot.keyClick(bare.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.doc.object(1).category == "object" and table.item(0, 1).text() == "object"
    qtbot.keyClick(bare.canvas, Qt.Key.Key_H)
    assert 1 in bare.overlay_style.hidden and table.item(0, 2).checkState() == Qt.CheckState.Unchecked


def test_closing_during_a_propagation_asks_then_stops_the_worker_cleanly(qtbot, tmp_path: Path, shared_data: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    ENGINES.clear()
    w = MainWindow(settings=settings_with_model(tmp_path, None), worker=fake_worker(), load_model=False)
    qtbot.addWidget(w, before_close_func=lambda win: win.session.undo_stack.setClean())
    w.show()
    s = w.session
    assert w.open_path(str(shared_data / "videos" / "bedroom.mp4"))
    wait_shown(qtbot, w)
    s.model_status.load(ModelSelection(tmp_path / "fake.pt"))
    qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=60000)
    s.add_object()
    qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 150, 100))
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    s.runs.propagate(Direction.FORWARD)
    # two frames in, the engine holds the run until it is cancelled: closing finds it running
    qtbot.waitUntil(lambda: s.runs.current is not None and s.runs.current.frames_done >= 2, timeout=60000)
    asked: list[str] = []

    def answer(*args, **kwargs):
        asked.append(args[1])
        return QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "question", answer)
    assert w.close()
    assert asked == ["Unsaved changes"]
    assert ENGINES[-1].cancelled.is_set()  # closing cancelled the run ...
    assert not s.worker.thread.isRunning()  # ... and waited for the worker thread to end


def test_preferences_change_the_look_now_and_the_caches_for_the_next_video(qtbot, bare: MainWindow, monkeypatch) -> None:
    from ui.preferences_dialog import PreferencesDialog

    def edit(dialog: PreferencesDialog) -> int:
        dialog.opacity.setValue(80)
        dialog.outline.setChecked(False)
        dialog.frame_cache.setValue(1024)
        dialog.feature_cache.setValue(4)
        dialog.accept()
        return 1

    monkeypatch.setattr(PreferencesDialog, "exec", edit)
    qtbot.keyClick(bare.canvas, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert bare.overlay_style.opacity == pytest.approx(0.8) and not bare.overlay_style.outline
    assert (bare.session.cache_mb, bare.session.feature_cache_frames) == (1024, 4)
    assert (bare.settings.frame_cache_mb, bare.settings.feature_cache_frames) == (1024, 4)


def test_play_advances_at_the_video_rate_and_stops(qtbot, bare: MainWindow, shared_data: Path) -> None:
    s = bare.session
    assert bare.open_path(str(shared_data / "frames" / "bedroom"))  # 24 frames
    qtbot.keyClick(bare.canvas, Qt.Key.Key_Space)
    assert bare.navigation.player.playing
    qtbot.waitUntil(lambda: s.frame >= 3, timeout=60000)
    qtbot.keyClick(bare.canvas, Qt.Key.Key_Space)
    assert not bare.navigation.player.playing
    stopped_at, moved = s.frame, []
    s.frameChanged.connect(moved.append)
    assert not bare.navigation.player.timer.isActive()  # nothing left to move the frame
    flushed: list[bool] = []
    QTimer.singleShot(0, lambda: flushed.append(True))  # after any tick already queued
    qtbot.waitUntil(lambda: bool(flushed), timeout=60000)
    assert moved == [] and s.frame == stopped_at


def test_application_has_its_icon_and_style(qapp) -> None:
    from ui.app import make_application

    app = make_application()
    assert app is qapp and not app.windowIcon().isNull()
    assert "mainToolBar" in app.styleSheet() and app.organizationName() == "Masklet"


@pytest.mark.slow
def test_building_the_window_loads_no_torch() -> None:
    """torch is imported on the worker thread when a model loads, never by the window's own imports."""
    import subprocess
    import sys

    code = "import sys, ui.app, ui.main_window, ui.model_dialog; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[1],
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr[-500:]
