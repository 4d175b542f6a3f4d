"""A small chooser over the canvas: SAM 2's three masks for the last click, each with its predicted
IoU and a thumbnail; a button (or A / Shift+A) shows another, as one undo step (annotator.alternatives)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from annotator.session_controller import SessionController
from core.types import ObjectMask

THUMB = QSize(64, 40)  # pixels


def thumbnail(mask: ObjectMask, color: tuple[int, int, int]) -> QIcon:
    """The mask in the object's colour on dark grey, shrunk to THUMB."""
    m = mask.rle.decode()
    h, w = m.shape
    step = max(1, int(np.ceil(max(h / THUMB.height(), w / THUMB.width()))))
    small = m[::step, ::step]
    rgb = np.empty(small.shape + (3,), np.uint8)
    rgb[:] = (48, 48, 52)
    rgb[small] = color
    rgb = np.ascontiguousarray(rgb)
    image = QImage(rgb.data, rgb.shape[1], rgb.shape[0], 3 * rgb.shape[1], QImage.Format.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(image))


class AlternativesChooser(QFrame):
    """Shown at the canvas's top-left corner while the last click has alternatives."""

    def __init__(self, session: SessionController, actions: dict[str, QAction], parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("alternativesChooser")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        hint = QLabel("SAM 2's masks\n(A / Shift+A)")
        layout.addWidget(hint)
        self.group = QButtonGroup(self)
        self.buttons: list[QToolButton] = []
        for k in range(3):
            button = QToolButton()
            button.setObjectName(f"alternative{k}")
            button.setCheckable(True)
            button.setIconSize(THUMB)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
            self.group.addButton(button, k)
            layout.addWidget(button)
            self.buttons.append(button)
        self.group.idClicked.connect(session.alternatives.choose)
        actions["prompt.next_alternative"].triggered.connect(lambda: session.alternatives.cycle(1))
        actions["prompt.previous_alternative"].triggered.connect(lambda: session.alternatives.cycle(-1))
        session.alternatives.changed.connect(self.refresh)
        session.frameChanged.connect(self.refresh)
        session.undo_stack.indexChanged.connect(self.refresh)  # an undo may take the click back
        self.move(8, 8)
        self.refresh()

    def refresh(self, *_: object) -> None:
        s = self.session
        offer = s.alternatives.available()
        shown = offer is not None and offer.click.frame == s.frame and s.doc.has_object(offer.click.obj_id)
        self.setVisible(shown)
        if not shown:
            return
        color = s.doc.object(offer.click.obj_id).color
        index = s.alternatives.index()
        for k, button in enumerate(self.buttons):
            if k < len(offer.masks):
                mask = offer.masks[k]
                button.setIcon(thumbnail(mask, color))
                button.setText(f"{k + 1} · IoU {mask.iou:.2f}" + (" ★" if k == offer.best else ""))
                button.setToolTip("SAM 2's choice (best predicted IoU)" if k == offer.best else "")
                button.setChecked(k == index)
            button.setVisible(k < len(offer.masks))
        self.adjustSize()
        self.raise_()
