"""What the canvas shows on top of the frame: masks in object colours with an outline, and prompt markers.

``compose_overlay`` is plain numpy (tested without a window); ``OverlayPresenter`` keeps the
canvas in step with the session: a new frame (decoded off the GUI thread by FrameLoader),
changed masks, a click awaiting its mask, a stroke being painted, hidden or soloed objects,
the opacity.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QColor

from annotator.document import ObjectRecord
from annotator.labels import LabelSchema
from annotator.session_controller import SessionController
from ui.canvas import Canvas, Marker
from ui.frame_loader import FrameLoader


def outline_of(mask: np.ndarray, width: int = 2) -> np.ndarray:
    """The inner border of a (H, W) bool mask, ``width`` pixels thick, as (H, W) bool."""
    m = mask.astype(np.uint8)
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    return (m - cv2.erode(m, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0)).astype(bool)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) of the foreground, None when empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def compose_overlay(
    masks: list[tuple[np.ndarray, tuple[int, int, int]]], height: int, width: int, opacity: float, outline: bool = True,
    outline_width: int = 2,
) -> np.ndarray:
    """Paint masks in order (later on top) into an (H, W, 4) uint8 RGBA image.

    masks: ((H, W) bool, (r, g, b)) pairs; opacity: fill alpha 0..1; outlines are opaque.
    Work is done inside each mask's bounding box on a label image, then one palette lookup
    colours every pixel (a full-frame boolean assignment per object costs ten times more).
    """
    fill_alpha = int(round(np.clip(opacity, 0.0, 1.0) * 255))
    fill_label = np.zeros((height, width), np.uint8)
    edge_label = np.zeros((height, width), np.uint8)
    palette = np.zeros((2 * len(masks) + 1, 4), np.uint8)
    n = len(masks)
    for i, (mask, color) in enumerate(masks, start=1):
        if mask.shape != (height, width) or i > 127:
            continue
        palette[i] = (*color, fill_alpha)
        palette[n + i] = (*color, 255)
        box = _bbox(mask)
        if box is None:
            continue
        y0, y1, x0, x1 = box
        crop = mask[y0:y1, x0:x1]
        fill_label[y0:y1, x0:x1][crop] = i
        edge_label[y0:y1, x0:x1][crop] = 0  # this object covers the outlines below it
        if outline:
            pad = outline_width
            sub = mask[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad]
            edge = outline_of(sub, outline_width)
            edge_label[max(0, y0 - pad):y1 + pad, max(0, x0 - pad):x1 + pad][edge] = n + i
    labels = np.where(edge_label > 0, edge_label, fill_label)
    return palette[labels]


class OverlayStyle(QObject):
    """How masks are drawn: opacity, outline, hidden objects, a soloed object. Signal changed()."""

    changed = Signal()

    def __init__(self, opacity: float = 0.45, outline: bool = True, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.opacity, self.outline = opacity, outline
        self.hidden: set[int] = set()
        self.solo: int | None = None
        self.masks_visible = True
        self.color_by_label = False  # masks in their label's colour (the schema's), else the object's

    def color_of(self, record: ObjectRecord, labels: LabelSchema) -> tuple[int, int, int]:
        """The colour ``record`` is drawn in: its label's when colouring by label and the label is listed."""
        label = labels.find(record.category) if self.color_by_label else None
        return label.color if label is not None else record.color

    def set_color_by_label(self, on: bool) -> None:
        self.color_by_label = bool(on)
        self.changed.emit()

    def visible(self, obj_id: int) -> bool:
        if not self.masks_visible:
            return False
        return obj_id == self.solo if self.solo is not None else obj_id not in self.hidden

    def set_opacity(self, opacity: float) -> None:
        self.opacity = float(np.clip(opacity, 0.0, 1.0))
        self.changed.emit()

    def set_hidden(self, obj_id: int, hidden: bool) -> None:
        (self.hidden.add if hidden else self.hidden.discard)(obj_id)
        self.changed.emit()

    def toggle_solo(self, obj_id: int) -> None:
        self.solo = None if self.solo == obj_id else obj_id
        self.changed.emit()

    def toggle_masks(self) -> None:
        self.masks_visible = not self.masks_visible
        self.changed.emit()


class OverlayPresenter(QObject):
    """Redraws the canvas overlay and markers when the frame, the masks or the style change."""

    def __init__(self, session: SessionController, canvas: Canvas, style: OverlayStyle, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.canvas, self.style = session, canvas, style
        self._override: tuple[int, np.ndarray] | None = None  # a stroke in progress
        self.shown_frame = -1  # the frame whose image the canvas shows
        self._deferred = QTimer(self)
        self._deferred.setSingleShot(True)
        self._deferred.setInterval(0)
        self._deferred.timeout.connect(self.refresh_overlay)
        self.loader = FrameLoader(self)
        self.loader.loaded.connect(self._on_image)
        self.loader.failed.connect(session.message)
        doc = session.doc
        session.frameChanged.connect(self._on_frame)
        session.videoChanged.connect(self.refresh)
        session.prompts.pendingChanged.connect(self.refresh_markers)
        doc.masksChanged.connect(self._on_masks)
        doc.promptsChanged.connect(lambda obj_id, frame: self.refresh_markers())
        doc.objectsChanged.connect(self.refresh)
        doc.documentReset.connect(self.refresh)
        doc.labelsChanged.connect(self.refresh)
        style.changed.connect(self.refresh)

    def _on_frame(self, frame: int) -> None:
        if self.session.frames is not None:
            self.loader.request(self.session.frames, frame)

    def _on_image(self, frame: int, image: np.ndarray) -> None:
        if frame != self.session.frame:
            return  # the annotator has moved on; a newer frame is on its way
        self.canvas.set_image(image)
        self.shown_frame = frame
        self.refresh()

    def _on_masks(self, obj_id: int, frames: frozenset) -> None:
        if self.session.frame not in frames:
            return
        if self.session.runs.current is not None:
            self._deferred.start()  # results stream in: redraw once per event-loop pass, not per object
        else:
            self.refresh_overlay()

    def set_override(self, obj_id: int, mask: np.ndarray | None) -> None:
        """Show ``mask`` for ``obj_id`` instead of its stored one (a stroke being painted), or stop."""
        self._override = None if mask is None else (obj_id, mask)
        self.refresh_overlay()

    def refresh(self) -> None:
        self.refresh_overlay()
        self.refresh_markers()

    def refresh_overlay(self) -> None:
        self._deferred.stop()
        video = self.session.video
        if video is None or self.session.frames is None:
            self.canvas.set_overlay(None)
            return
        frame, doc = self.session.frame, self.session.doc
        layers: list[tuple[np.ndarray, tuple[int, int, int]]] = []
        for record in doc.objects():
            if not self.style.visible(record.obj_id):
                continue
            if self._override is not None and self._override[0] == record.obj_id:
                mask = self._override[1]
            else:
                mask = doc.mask_array(record.obj_id, frame)
            if mask is not None:
                layers.append((mask, self.style.color_of(record, doc.labels)))
        if not layers:  # nothing to paint: no frame-sized image to compose and upload
            self.canvas.set_overlay(None)
            return
        self.canvas.set_overlay(compose_overlay(layers, video.height, video.width, self.style.opacity, self.style.outline))

    def refresh_markers(self) -> None:
        markers: list[Marker] = []
        boxes: list[tuple[float, float, float, float, QColor]] = []
        if self.session.video is not None:
            for record in self.session.doc.objects():
                obj_id, frame = record.obj_id, self.session.frame
                prompt = self.session.prompts.shown_prompt(obj_id, frame)
                if prompt is None or not self.style.visible(obj_id):
                    continue
                # clicks beyond the document's prompt are still waiting for their mask
                done = self.session.doc.prompt(obj_id, frame)
                settled = len(prompt.points)
                if self.session.prompts.is_pending(obj_id, frame):
                    settled = len(done.points) if done is not None else 0
                markers += [Marker(float(x), float(y), bool(lab), i >= settled)
                            for i, ((x, y), lab) in enumerate(zip(prompt.points, prompt.labels))]
                if prompt.box is not None:
                    boxes.append((*(float(v) for v in prompt.box), QColor(*record.color)))
        self.canvas.set_markers(markers, boxes)
