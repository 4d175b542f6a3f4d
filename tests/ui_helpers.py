"""Helpers for the window tests: a small random SAM 2 checkpoint whose objects are present, a window
on isolated settings, and gestures in image pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QImage

from core.checkpoints.runtime import DeviceChoice, ModelSelection, PrecisionChoice
from core.sam2.checkpoint import save_checkpoint
from tests.sam2_helpers import random_model


def present_checkpoint(path: Path, seed: int = 1) -> Path:
    """A random tiny-test model whose object-score head says "present" (bias +6), so its masks are
    not all empty: random weights alone give negative object scores, hence empty masks."""
    model = random_model(seed=seed)
    head = model.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(6.0)
    save_checkpoint(model, path)
    return path


def settings_with_model(home: Path, checkpoint: Path | None):
    """AppSettings on an ini file under ``home``, with ``checkpoint`` chosen as the model."""
    from annotator.checkpoint_settings import CheckpointSettings
    from ui.settings import AppSettings

    q = QSettings(str(home / "masklet-test.ini"), QSettings.Format.IniFormat)
    if checkpoint is not None:
        CheckpointSettings(q).save(ModelSelection(checkpoint, DeviceChoice.CPU, PrecisionChoice.FP32))
    return AppSettings(q)


def view_point(window, x: float, y: float) -> QPoint:
    """Image pixel (x, y) on the window's canvas as a viewport position."""
    return window.canvas.view_pos(x, y).toPoint()


def overlay_alpha(window) -> np.ndarray:
    """The canvas overlay's alpha channel, (H, W) uint8."""
    image = window.canvas.overlay_image().convertToFormat(QImage.Format.Format_RGBA8888)
    h, w = image.height(), image.width()
    data = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(h, image.bytesPerLine())
    return data[:, : 4 * w].reshape(h, w, 4)[..., 3].copy()


LEFT = Qt.MouseButton.LeftButton


def open_window(qtbot, settings, load_model: bool = True):
    """A shown MainWindow; call ``close_window`` in teardown (it never asks to save)."""
    from ui.main_window import MainWindow

    w = MainWindow(settings=settings, load_model=load_model)
    # pytest-qt closes its widgets before fixture teardown: never let that close ask to save
    qtbot.addWidget(w, before_close_func=lambda win: win.session.undo_stack.setClean())
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.canvas.setFocus()
    return w


def close_window(w) -> None:
    w.session.undo_stack.setClean()
    w.close()


def wait_shown(qtbot, w, timeout: int = 10000) -> None:
    """Until the canvas shows the session's current frame (frames decode off the GUI thread)."""
    qtbot.waitUntil(lambda: w.presenter.shown_frame == w.session.frame, timeout=timeout)
