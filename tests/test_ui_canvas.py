"""Canvas coordinate mapping, zoom to the cursor, fit; the overlay's composition; brush tool strokes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF

from ui.canvas import Canvas
from ui.overlay import compose_overlay, outline_of

pytestmark = pytest.mark.gui


def _shown_canvas(qtbot, width: int, height: int) -> Canvas:
    c = Canvas()
    qtbot.addWidget(c)
    c.resize(width, height)
    c.show()
    qtbot.waitExposed(c)
    return c


@pytest.fixture
def canvas(qtbot) -> Canvas:
    c = _shown_canvas(qtbot, 800, 500)
    image = np.zeros((300, 400, 3), np.uint8)
    image[:, :, 0] = np.arange(400, dtype=np.uint16)[None, :] % 256
    c.set_image(image)
    return c


def test_image_and_view_coordinates_are_inverse(canvas: Canvas) -> None:
    assert canvas.image_size == (400, 300)
    for x, y in ((0, 0), (123.0, 45.0), (399, 299)):
        view = canvas.view_pos(x, y)
        back = canvas.image_pos(view)
        assert abs(back.x() - x) <= 1.5 / canvas.scale_factor() and abs(back.y() - y) <= 1.5 / canvas.scale_factor()


def test_fit_shows_the_whole_frame(canvas: Canvas) -> None:
    canvas.zoom(3.0)
    canvas.fit()
    vp = canvas.viewport().rect()
    top_left = canvas.image_pos(QPointF(vp.topLeft()))
    bottom_right = canvas.image_pos(QPointF(vp.bottomRight()))
    assert top_left.x() <= 0.5 and top_left.y() <= 0.5
    assert bottom_right.x() >= 399 and bottom_right.y() >= 299
    assert canvas.scale_factor() == pytest.approx(min(vp.width() / 400, vp.height() / 300), rel=0.05)


def test_zoom_keeps_the_point_under_the_cursor(canvas: Canvas) -> None:
    canvas.zoom(4.0)  # well beyond fit, so the view can scroll
    anchor = QPointF(300, 200)
    before = canvas.image_pos(anchor)
    canvas.zoom(1.25, anchor)
    after = canvas.image_pos(anchor)
    assert abs(after.x() - before.x()) < 1.0 and abs(after.y() - before.y()) < 1.0
    assert canvas.scale_factor() > 4.0


def test_wheel_zooms_in(qtbot, canvas: Canvas) -> None:
    from PySide6.QtCore import QPoint as P, Qt
    from PySide6.QtGui import QWheelEvent

    scale = canvas.scale_factor()
    pos = QPointF(200, 150)
    event = QWheelEvent(pos, canvas.viewport().mapToGlobal(pos), P(0, 0), P(0, 120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    canvas.wheelEvent(event)
    assert canvas.scale_factor() == pytest.approx(scale * 1.25)


def test_overlay_fills_with_opacity_and_draws_opaque_outlines() -> None:
    a = np.zeros((20, 30), bool)
    a[5:15, 5:15] = True
    b = np.zeros((20, 30), bool)
    b[10:18, 10:25] = True
    rgba = compose_overlay([(a, (255, 0, 0)), (b, (0, 0, 255))], 20, 30, 0.5)
    assert tuple(rgba[7, 7]) == (255, 0, 0, 128)  # inside a only
    assert tuple(rgba[5, 5]) == (255, 0, 0, 255)  # a's border
    assert tuple(rgba[12, 12]) == (0, 0, 255, 128)  # b is drawn on top of a
    assert tuple(rgba[0, 0]) == (0, 0, 0, 0)
    assert outline_of(a).sum() == 10 * 10 - 6 * 6


def test_markers_are_drawn(canvas: Canvas) -> None:
    from ui.canvas import Marker

    from PySide6.QtGui import QColor

    canvas.set_markers([Marker(10, 10, True), Marker(20, 20, False)], [(5, 5, 50, 40, QColor(255, 0, 0))])
    assert canvas.marker_count() == 2 and len(canvas.markers.childItems()) == 3
    canvas.set_markers([])
    assert canvas.marker_count() == 0


def test_pan_with_middle_drag_moves_the_view(qtbot, canvas: Canvas) -> None:
    from PySide6.QtCore import Qt

    canvas.zoom(4.0)
    before = canvas.image_pos(QPointF(100, 100))
    vp = canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(vp, QPoint(250, 260))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=QPoint(250, 260))
    after = canvas.image_pos(QPointF(100, 100))
    assert after.x() > before.x() and after.y() > before.y()


def _grab(widget) -> np.ndarray:
    image = widget.grab().toImage()
    image = image.convertToFormat(image.Format.Format_RGB888)
    return np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(image.height(), image.bytesPerLine()).copy()


def test_empty_canvas_says_how_to_start(qtbot) -> None:
    c = _shown_canvas(qtbot, 600, 300)
    with_hint = _grab(c)
    c.EMPTY_HINT = ""
    c.viewport().update()
    qtbot.wait(20)
    assert (with_hint != _grab(c)).sum() > 200  # the hint's text is drawn
    c.EMPTY_HINT = Canvas.EMPTY_HINT
    c.set_image(np.zeros((100, 200, 3), np.uint8))
    qtbot.wait(20)
    shown = _grab(c)
    c.EMPTY_HINT = ""
    c.viewport().update()
    qtbot.wait(20)
    assert (shown == _grab(c)).all()  # with a frame open, no hint
