"""The picture of "Find objects on this frame": the frame with every candidate mask over it, kept
ones filled in their colour, dropped ones outlined in grey; a click toggles the mask under it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from annotator.document import color_for
from ui.canvas import rgb_to_qimage

FILL_ALPHA = 0.5
DROPPED_RGB = (200, 200, 200)


def outline(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool -> the mask's own pixels that touch a pixel outside it (4-neighbours)."""
    inner = mask.copy()
    inner[1:] &= mask[:-1]
    inner[:-1] &= mask[1:]
    inner[:, 1:] &= mask[:, :-1]
    inner[:, :-1] &= mask[:, 1:]
    return mask & ~inner


def compose(image: np.ndarray, masks: list[np.ndarray], kept: list[bool], shown: list[bool]) -> np.ndarray:
    """(H, W, 3) uint8: kept masks filled (largest first, so small ones stay visible), dropped
    shown masks outlined; masks not shown (under the minimum area) left out."""
    out = image.astype(np.float32)
    order = sorted(range(len(masks)), key=lambda i: -int(masks[i].sum()))
    for i in order:
        if shown[i] and kept[i]:
            colour = np.array(color_for(i + 1), dtype=np.float32)
            m = masks[i]
            out[m] = out[m] * (1 - FILL_ALPHA) + colour * FILL_ALPHA
    for i in order:
        if shown[i]:
            edge = outline(masks[i])
            out[edge] = color_for(i + 1) if kept[i] else DROPPED_RGB
    return out.clip(0, 255).astype(np.uint8)


class CandidateView(QWidget):
    """Signals: toggled(index: int) when a click lands on a shown candidate (the smallest under it)."""

    toggled = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self._pixmap: QPixmap | None = None
        self._masks: list[np.ndarray] = []
        self._shown: list[bool] = []

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(800, 480)

    def show_candidates(self, image: np.ndarray, masks: list[np.ndarray], kept: list[bool], shown: list[bool]) -> None:
        self._masks, self._shown = masks, shown
        self._pixmap = QPixmap.fromImage(rgb_to_qimage(compose(image, masks, kept, shown)))
        self.update()

    def _target(self) -> QRectF:
        """Where the picture is drawn: fitted into the widget, aspect kept, centred."""
        assert self._pixmap is not None
        pw, ph = self._pixmap.width(), self._pixmap.height()
        scale = min(self.width() / pw, self.height() / ph)
        w, h = pw * scale, ph * scale
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._pixmap is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawPixmap(self._target(), self._pixmap, QRectF(self._pixmap.rect()))

    def pixel_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(x, y) image pixel under a widget position, or None outside the picture."""
        if self._pixmap is None:
            return None
        t = self._target()
        x = (pos.x() - t.x()) / t.width() * self._pixmap.width()
        y = (pos.y() - t.y()) / t.height() * self._pixmap.height()
        if not (0 <= x < self._pixmap.width() and 0 <= y < self._pixmap.height()):
            return None
        return int(x), int(y)

    def candidate_at(self, x: int, y: int) -> int | None:
        """The smallest shown candidate covering pixel (x, y)."""
        hits = [i for i, m in enumerate(self._masks) if self._shown[i] and m[y, x]]
        return min(hits, key=lambda i: int(self._masks[i].sum()), default=None)

    def widget_pos(self, x: float, y: float) -> QPointF:
        """The widget position of image pixel (x, y) (tests click there)."""
        assert self._pixmap is not None
        t = self._target()
        return QPointF(t.x() + (x + 0.5) / self._pixmap.width() * t.width(), t.y() + (y + 0.5) / self._pixmap.height() * t.height())

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pixel = self.pixel_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and pixel is not None:
            index = self.candidate_at(*pixel)
            if index is not None:
                self.toggled.emit(index)
