"""How the timeline looks: the colours of lane states, marks and confidence, the ruler, the lanes
drawn from their run-length cells (annotator.lane_runs), and the legend that names them all.

A lane is painted as two images made with numpy per pixel column (``lane_images``): its body,
then the playhead, then its marks (lock, review) and confidence strip on top, so a lock marker
stays visible under the playhead.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from annotator.frame_table import LaneState
from annotator.lane_runs import Columns
from annotator.suspect import CONFIDENCE_LEVELS

LANE_H = 20
CONF_H = 4  # the confidence strip along a lane's bottom
MARK_H = 3  # the lock / review bar along a lane's top
BODY_H = LANE_H - CONF_H - 3
LANE_BG = QColor(46, 46, 52)
ABSENT = QColor(80, 80, 86)
EDITED = QColor(255, 255, 255)
LOCKED = QColor(90, 160, 255)
REVIEWED = QColor(60, 220, 120)
SUSPECT = QColor(230, 40, 40)
NOTE = QColor(255, 200, 40)
PLAYHEAD = QColor(255, 60, 60)
SELECTION = QColor(120, 170, 255, 60)
RULER_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
RULER_LABEL_PX = 70  # at least this many pixels between ruler labels


def state_color(state: int, color: tuple[int, int, int]) -> QColor | None:
    """How a lane cell of ``state`` is filled for an object of ``color`` (None: not filled)."""
    r, g, b = color
    if state == LaneState.NONE:
        return None
    if state == LaneState.ABSENT:
        return QColor(ABSENT)
    if state == LaneState.PROPAGATED:
        return QColor(r, g, b, 130)
    if state == LaneState.IMPORTED:
        return QColor(r, g, b, 90)
    if state == LaneState.PROMPTED:
        return QColor(r, g, b, 255)
    return QColor(EDITED)  # edited by hand: white, whatever the object's colour


def confidence_color(level: int, suspect: bool) -> QColor | None:
    """The strip's colour: red where the frame is suspect (annotator.suspect), else yellow (level 0)
    to green (the top level); None where the confidence is unknown and nothing is suspect."""
    if suspect:
        return QColor(SUSPECT)
    if level < 0:
        return None
    t = level / max(1, CONFIDENCE_LEVELS - 1)
    return QColor(int(235 * (1 - t) + 40 * t), int(200 * (1 - t) + 200 * t), int(50 * (1 - t) + 60 * t))


# (what, how it is drawn) for the legend: ("fill", QColor) a lane body, ("mark", QColor) the top
# bar, ("strip", QColor) the confidence strip
LEGEND: tuple[tuple[str, str, QColor], ...] = (
    ("prompted (clicked or boxed)", "fill", QColor(230, 25, 75, 255)),
    ("propagated by SAM 2", "fill", QColor(230, 25, 75, 130)),
    ("imported", "fill", QColor(230, 25, 75, 90)),
    ("edited by hand", "fill", EDITED),
    ("absent (SAM 2: not in view)", "fill", ABSENT),
    ("locked", "mark", LOCKED),
    ("reviewed (and locked)", "mark", REVIEWED),
    ("reviewer's note", "mark", NOTE),
    ("confident (predicted IoU at or above 'good')", "strip", confidence_color(CONFIDENCE_LEVELS - 1, False)),
    ("less sure (between 'suspect' and 'good')", "strip", confidence_color(0, False)),
    ("suspect: low IoU, appears/vanishes, area jump (J)", "strip", SUSPECT),
)


def ruler_step(px_per_frame: float) -> int:
    """Frames between ruler labels: the smallest of 1, 2, 5, 10, ... at least RULER_LABEL_PX apart."""
    for step in RULER_STEPS:
        if step * px_per_frame >= RULER_LABEL_PX:
            return step
    return RULER_STEPS[-1] * max(1, math.ceil(RULER_LABEL_PX / (RULER_STEPS[-1] * px_per_frame)))


def paint_ruler(p: QPainter, left: float, width: float, height: float, first: float, px_per_frame: float,
                frame_count: int) -> None:
    """Ticks and frame numbers over the visible frames (a handful, whatever the video's length)."""
    step = ruler_step(px_per_frame)
    p.setPen(QColor(140, 140, 140))
    start = int(math.floor(first / step) * step)
    end = min(frame_count, int(first + width / px_per_frame) + 1)
    for frame in range(max(0, start), end, step):
        x = left + (frame - first) * px_per_frame
        if x < left - 1:
            continue
        p.drawLine(int(x), int(height) - 5, int(x), int(height))
        p.drawText(int(x) + 2, int(height) - 6, str(frame))
    if px_per_frame >= 4:  # one small tick a frame once frames are wide enough to tell apart
        p.setPen(QColor(90, 90, 90))
        for frame in range(max(0, int(first)), end):
            x = int(left + (frame - first) * px_per_frame)
            p.drawLine(x, int(height) - 2, x, int(height))


def paint_note(p: QPainter, x: float, top: float) -> None:
    """A small yellow flag where a reviewer left a note."""
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(NOTE)
    p.drawPolygon(QPolygonF([QPointF(x, top + 1), QPointF(x + 6, top + 1), QPointF(x, top + 7)]))


def paint_playhead(p: QPainter, x0: float, x1: float, top: float, bottom: float, ruler_h: float) -> None:
    """The current frame: a translucent band over the lanes when a frame is wide, a 1 px line when
    not, and a solid triangle in the ruler. Marks painted afterwards stay visible through it."""
    width = x1 - x0
    if width >= 4:
        p.fillRect(QRectF(x0, top, width, bottom - top), QColor(255, 60, 60, 70))
        p.setPen(QPen(PLAYHEAD, 1))
        p.drawLine(QPointF(x0, top), QPointF(x0, bottom))
        p.drawLine(QPointF(x1, top), QPointF(x1, bottom))
    else:
        x = (x0 + x1) / 2
        p.setPen(QPen(QColor(255, 60, 60, 200), 1))
        p.drawLine(QPointF(x, top), QPointF(x, bottom))
    x = (x0 + x1) / 2
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(PLAYHEAD)
    p.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, ruler_h)]))


def _rgb(color: QColor | None, over: QColor = LANE_BG) -> np.ndarray:
    """``color`` blended over ``over`` as opaque (3,) uint8 RGB (None: ``over`` itself)."""
    if color is None:
        return np.array([over.red(), over.green(), over.blue()], np.uint8)
    a = color.alphaF()
    return np.array([round(a * c1 + (1 - a) * c2) for c1, c2 in
                     ((color.red(), over.red()), (color.green(), over.green()), (color.blue(), over.blue()))], np.uint8)


@functools.lru_cache(maxsize=64)
def _state_lut(color: tuple[int, int, int]) -> np.ndarray:
    """(6,) uint32: the lane body's pixel per LaneState (NONE: the lane's background), as _argb."""
    return np.stack([_argb(_rgb(state_color(s, color))) for s in range(6)])


class LaneImages:
    """The lanes' two images and the pixel arrays they are views of (kept alive together: the
    images do not copy the pixels)."""

    def __init__(self, body: np.ndarray, marks: np.ndarray) -> None:
        self._pixels = (np.ascontiguousarray(body), np.ascontiguousarray(marks))
        self.body, self.marks = (self._image(a) for a in self._pixels)

    @staticmethod
    def _image(pixels: np.ndarray) -> QImage:
        """(lanes, rows, width) uint32 ARGB pixels as a premultiplied ARGB32 QImage over the same memory."""
        lanes, rows, width = pixels.shape
        return QImage(pixels.data, width, lanes * rows, 4 * width, QImage.Format.Format_ARGB32_Premultiplied)


def lane_images(cols: Columns, colors: list[tuple[int, int, int]], background: QColor) -> LaneImages:
    """Every lane, one under the other, as two (lanes * LANE_H x width) images made with numpy per
    pixel column (cols: (lanes, width) arrays, view_columns_stacked): the bodies (states on the lane's
    background, opaque) and the marks (lock / review bars and the confidence strip, transparent
    elsewhere), painted before and after the playhead. A few table look-ups of one row per lane
    broadcast down its rows, whatever the number of frames or runs in view; the pixels are 32-bit
    premultiplied ARGB, the raster engine's own format, so drawing them converts nothing."""
    lanes, width = cols.state.shape[0], max(1, cols.state.shape[1])
    body = np.empty((max(1, lanes), LANE_H, width), np.uint32)
    body[:, 0] = body[:, LANE_H - 1] = _argb(_rgb(None, background))
    body[:, 1:LANE_H - 1] = _argb(_rgb(None))
    marks = np.zeros((max(1, lanes), LANE_H, width), np.uint32)
    if lanes:
        luts = np.stack([_state_lut(tuple(c)) for c in colors])
        body[:, 1:1 + BODY_H] = luts[np.arange(lanes)[:, None], cols.state.astype(np.intp)][:, None]
        mark_lut, strip_lut = _overlay_luts()
        marks[:, 1:1 + MARK_H] = mark_lut[cols.mark.astype(np.intp)][:, None]
        strip_index = np.where(cols.suspect, CONFIDENCE_LEVELS + 1, cols.level.astype(np.intp) + 1)
        marks[:, 2 + BODY_H:2 + BODY_H + CONF_H] = strip_lut[strip_index][:, None]
    return LaneImages(body, marks)


def _argb(rgb: np.ndarray | None) -> np.uint32:
    """(3,) RGB -> an opaque 32-bit 0xAARRGGBB pixel, QImage's ARGB32 in the machine's own byte
    order (so it is right on any endianness); None: transparent."""
    if rgb is None:
        return np.uint32(0)
    return np.uint32(0xFF000000 | int(rgb[0]) << 16 | int(rgb[1]) << 8 | int(rgb[2]))


@functools.lru_cache(maxsize=1)
def _overlay_luts() -> tuple[np.ndarray, np.ndarray]:
    """Pixels of the marks image: (3,) uint32 per MARK_* (none: transparent) and (levels + 2,) for
    the strip (0: unknown, transparent; 1..: the levels; last: suspect)."""
    marks = np.stack([_argb(None), _argb(_rgb(LOCKED)), _argb(_rgb(REVIEWED))])
    strip = np.stack([_argb(None)] + [_argb(_rgb(confidence_color(v, False))) for v in range(CONFIDENCE_LEVELS)]
                     + [_argb(_rgb(SUSPECT))])
    return marks, strip


def paint_names(p: QPainter, records: list, current: int | None, label_w: int, lanes_top: int, height: int,
                background: QColor) -> None:
    """The column of object names left of the lanes (the selected object highlighted)."""
    p.fillRect(QRectF(0, 0, label_w, height), background)
    for row, record in enumerate(records):
        top = lanes_top + row * LANE_H
        selected = record.obj_id == current
        if selected:
            p.fillRect(QRectF(0, top, label_w, LANE_H), QColor(70, 70, 80))
        p.setPen(QColor(255, 255, 255) if selected else QColor(190, 190, 190))
        p.fillRect(QRectF(4, top + 5, 10, 10), QColor(*record.color))
        name = p.fontMetrics().elidedText(record.name, Qt.TextElideMode.ElideRight, label_w - 22)
        p.drawText(QRectF(18, top, label_w - 22, LANE_H), Qt.AlignmentFlag.AlignVCenter, name)
