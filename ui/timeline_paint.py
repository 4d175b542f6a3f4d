"""How the timeline looks: the colours of lane states, marks and confidence, the ruler, the lanes
drawn from their run-length cells (annotator.lane_runs), and the legend that names them all.

A lane is painted as one image made with numpy per pixel column (``lane_image``); then the
playhead; then the marks (lock, review) and the confidence strip of the cells under the playhead
once more, on top, so a lock marker stays visible under the playhead.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from annotator.frame_table import LaneState
from annotator.lane_runs import MARK_LOCKED, MARK_REVIEWED, Cells
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


def paint_lane_marks(p: QPainter, cells: Cells, left: float, top: float) -> None:
    """Lock / review bars on top and the confidence strip at the bottom (drawn after the playhead)."""
    strip_top = top + 1 + BODY_H + 1
    strips: dict[tuple[int, bool], QColor | None] = {}
    for x0, x1, mark, level, suspect in zip(cells.x0.tolist(), cells.x1.tolist(), cells.mark.tolist(),
                                            cells.level.tolist(), cells.suspect.tolist()):
        w = max(1.0, x1 - x0)
        if mark == MARK_REVIEWED:
            p.fillRect(QRectF(left + x0, top + 1, w, MARK_H), REVIEWED)
        elif mark == MARK_LOCKED:
            p.fillRect(QRectF(left + x0, top + 1, w, MARK_H), LOCKED)
        key = (level, suspect)
        if key not in strips:
            strips[key] = confidence_color(level, suspect)
        if strips[key] is not None:
            p.fillRect(QRectF(left + x0, strip_top, w, CONF_H), strips[key])


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
    """(6, 3) uint8: the lane body's colour per LaneState (NONE: the lane's background)."""
    return np.stack([_rgb(state_color(s, color)) for s in range(6)])


@functools.lru_cache(maxsize=1)
def _strip_lut() -> np.ndarray:
    """(CONFIDENCE_LEVELS + 2, 3) uint8: index 0 unknown (background), 1.. the levels, last: suspect."""
    return np.stack([_rgb(None)] + [_rgb(confidence_color(v, False)) for v in range(CONFIDENCE_LEVELS)]
                    + [_rgb(SUSPECT)])


def column_index(cells: Cells, width: int) -> np.ndarray:
    """(width,) int: the cell under each pixel column's centre, -1 where none."""
    if len(cells) == 0:
        return np.full(width, -1)
    centres = np.arange(width) + 0.5
    k = np.searchsorted(cells.x0, centres, side="right") - 1
    valid = (k >= 0) & (centres < cells.x1[np.clip(k, 0, None)])
    return np.where(valid, k, -1)


def lane_image(cells: Cells, width: int, color: tuple[int, int, int], background: QColor) -> QImage:
    """The whole lane (states, marks, confidence strip) as one (LANE_H x width) image, made with numpy
    per pixel column: a repaint costs a few array operations a lane instead of a call per cell."""
    width = max(1, int(width))
    k = column_index(cells, width)
    has = k >= 0
    kk = np.clip(k, 0, None)
    if len(cells):
        state, mark = np.where(has, cells.state[kk], 0), np.where(has, cells.mark[kk], 0)
        strip = np.where(has & cells.suspect[kk], CONFIDENCE_LEVELS + 1, np.where(has, cells.level[kk], -1) + 1)
    else:
        state = mark = strip = np.zeros(width, np.int64)
    body = _state_lut(tuple(color))[state]
    marks = body.copy()
    marks[mark == MARK_LOCKED] = _rgb(LOCKED)
    marks[mark == MARK_REVIEWED] = _rgb(REVIEWED)
    image = np.empty((LANE_H, width, 3), np.uint8)
    image[0] = image[LANE_H - 1] = _rgb(None, background)
    image[1:1 + MARK_H] = marks
    image[1 + MARK_H:1 + BODY_H] = body
    image[1 + BODY_H] = _rgb(None)
    image[2 + BODY_H:2 + BODY_H + CONF_H] = _strip_lut()[strip]
    return QImage(image.data, width, LANE_H, 3 * width, QImage.Format.Format_RGB888).copy()


def cells_between(cells: Cells, x0: float, x1: float) -> Cells:
    """The cells overlapping pixels x0..x1 (the playhead's band), clipped to it."""
    keep = (cells.x1 > x0) & (cells.x0 < x1)
    return Cells(np.maximum(cells.x0[keep], x0), np.minimum(cells.x1[keep], x1), cells.state[keep],
                 cells.mark[keep], cells.level[keep], cells.suspect[keep])
