"""The timeline's legend: a swatch and a name for every state, mark and confidence colour it draws
(the same colours, from ui.timeline_paint.LEGEND)."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.timeline_paint import LEGEND

COLUMNS = 3
ROW_H = 18
SWATCH_W = 22


class Legend(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelineLegend")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.sizeHint().height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        rows = -(-len(LEGEND) // COLUMNS)
        return QSize(600, rows * ROW_H + 6)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(36, 36, 40))
        col_w = self.width() / COLUMNS
        for i, (text, kind, color) in enumerate(LEGEND):
            x, y = 6 + (i // -(-len(LEGEND) // COLUMNS)) * col_w, 3 + (i % -(-len(LEGEND) // COLUMNS)) * ROW_H
            p.fillRect(QRectF(x, y + 3, SWATCH_W, ROW_H - 6), QColor(46, 46, 52))
            if kind == "fill":
                p.fillRect(QRectF(x, y + 3, SWATCH_W, ROW_H - 8), color)
            elif kind == "mark":
                p.fillRect(QRectF(x, y + 3, SWATCH_W, 3), color)
            else:
                p.fillRect(QRectF(x, y + ROW_H - 7, SWATCH_W, 4), color)
            p.setPen(QColor(210, 210, 210))
            p.drawText(QRectF(x + SWATCH_W + 6, y, col_w - SWATCH_W - 12, ROW_H), 0x0081, text)  # left, v-centre
