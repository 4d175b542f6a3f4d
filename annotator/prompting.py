"""Clicks, boxes, brush strokes and cleared frames: the annotator's edits of one object on one frame.

QtCore only. A click or box goes to the model worker with the document's engine log (plus the
clicks still on their way), and its mask comes back as one undoable step; strokes and cleared
frames are undoable steps at once. While clicks await their mask, other edits and undo wait:
the document's log must list inputs in the order the engine was given them. Clicks on a frame
whose last click is still computing are held back and sent as one prompt when it is done, so
fast clicking never piles up requests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, Signal

from annotator.commands import MaskPatch, SetFrameCommand, StrokeCommand
from annotator.requests import PromptRequest
from annotator.results import entry_for
from core.types import FrameResult, Prompt
from core.video.inputs import EngineInput, PromptInput

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class Prompting(QObject):
    """Signals: pendingChanged() when clicks start or stop waiting for their mask."""

    pendingChanged = Signal()

    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session
        self._pending: dict[int, PromptInput] = {}  # request id -> input awaiting its mask
        self._held: dict[tuple[int, int], Prompt] = {}  # (obj_id, frame) -> newest prompt not sent yet
        self._held_clicks: dict[tuple[int, int], int] = {}  # gestures merged into each held prompt
        session.worker.worker.promptDone.connect(self._on_done)
        session.worker.worker.failed.connect(self._on_failed)  # a bound method: queued to this thread

    @property
    def pending(self) -> int:
        """Prompts waiting for their mask: sent to SAM 2, or held back behind one on their frame."""
        return len(self._pending) + len(self._held)

    def is_pending(self, obj_id: int, frame: int) -> bool:
        return (obj_id, frame) in self._held or any(
            i.obj_id == obj_id and i.frame == frame for i in self._pending.values())

    def log(self) -> tuple[EngineInput, ...]:
        """What the engine must have been given before the next request: the document's log,
        then the clicks on their way."""
        return tuple(self.session.doc.document.inputs) + tuple(self._pending.values())

    def shown_prompt(self, obj_id: int, frame: int) -> Prompt | None:
        """The newest prompt of (obj_id, frame), counting clicks still waiting for their mask."""
        if (obj_id, frame) in self._held:
            return self._held[(obj_id, frame)]
        pending = [i.prompt for i in self._pending.values() if i.obj_id == obj_id and i.frame == frame]
        return pending[-1] if pending else self.session.doc.prompt(obj_id, frame)

    def click(self, x: float, y: float, positive: bool) -> bool:
        """A positive or negative click at image pixel (x, y) for the current object."""
        base = self._base()
        if base is None:
            return False
        points = np.concatenate([base.points, np.array([[x, y]], np.float32)]).astype(np.float32)
        labels = np.concatenate([base.labels, np.array([1 if positive else 0], np.int32)]).astype(np.int32)
        return self.give(Prompt(base.frame, base.obj_id, points, labels, base.box))

    def box(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """A box (image pixels, any two corners) for the current object; keeps the frame's clicks."""
        base = self._base()
        if base is None:
            return False
        box = np.array([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], np.float32)
        return self.give(Prompt(base.frame, base.obj_id, base.points, base.labels, box))

    def give(self, prompt: Prompt) -> bool:
        """Send a whole prompt for its object and frame (it replaces that frame's prompt)."""
        s = self.session
        if not self._can_prompt() or not s.doc.has_object(prompt.obj_id):
            return False
        key = (prompt.obj_id, prompt.frame)
        if key in self._held or any((i.obj_id, i.frame) == key for i in self._pending.values()):
            self._held[key] = prompt  # sent as one prompt once the frame's last one is done
            self._held_clicks[key] = self._held_clicks.get(key, 0) + 1
            self._changed()
            return True
        self._send(prompt)
        return True

    def _send(self, prompt: Prompt) -> None:
        s = self.session
        item = PromptInput(prompt)
        request_id = s.next_id()
        log = self.log()
        self._pending[request_id] = item
        self._changed()
        s.worker.submit(PromptRequest(request_id, log, item))

    def _can_prompt(self) -> bool:
        s = self.session
        return s.frames is not None and not s.refuse_while_running() and not s.refuse_without_model(
            "Clicks need a SAM 2 model", "; the brush works without one.")

    def _base(self) -> Prompt | None:
        s = self.session
        if not self._can_prompt():
            return None
        if s.current_obj is None or not s.doc.has_object(s.current_obj):
            s.add_object()
        obj_id = s.current_obj
        if s.refuse_locked(obj_id, s.frame):
            return None
        return self.shown_prompt(obj_id, s.frame) or Prompt(s.frame, obj_id)

    def _on_done(self, request_id: int, result: FrameResult) -> None:
        item = self._pending.pop(request_id, None)
        s = self.session
        if item is not None and s.doc.has_object(item.obj_id):
            mask = result.objects.get(item.obj_id)
            entry = None if mask is None else entry_for(mask, prompted=True)
            text = "Box" if item.prompt.box is not None and len(item.prompt.points) == 0 else "Click"
            s.undo_stack.push(SetFrameCommand(s.doc, item.obj_id, item.frame, item.prompt, entry, text, item=item))
            if mask is None or mask.rle.area == 0:
                s.message.emit("SAM 2 found no object here: add a click inside it, or a box around it.")
            held = self._held.pop((item.obj_id, item.frame), None)
            self._held_clicks.pop((item.obj_id, item.frame), None)
            if held is not None:
                self._send(held)
        self._changed()

    def _on_failed(self, message: str) -> None:
        self.forget_pending()

    def forget_pending(self) -> None:
        self._pending.clear()
        self._held.clear()
        self._held_clicks.clear()
        self._changed()

    def _changed(self) -> None:
        self.session.model_status.set_waiting(len(self._pending), sum(self._held_clicks.values()))
        self.pendingChanged.emit()

    # -- edits that need no model ------------------------------------------------------------
    def clear_frame(self, obj_id: int, frame: int) -> None:
        """Forget one object's prompt and mask on a frame."""
        s = self.session
        if s.refuse_edit() or (s.doc.prompt(obj_id, frame) is None and s.doc.mask(obj_id, frame) is None):
            return
        s.undo_stack.push(SetFrameCommand(s.doc, obj_id, frame, None, None, "Clear frame"))

    def stroke(self, obj_id: int, frame: int, before: np.ndarray, after: np.ndarray, erase: bool) -> bool:
        """A finished brush/eraser stroke: ``before``/``after`` are the (H, W) bool masks around it."""
        s = self.session
        if s.refuse_edit() or s.refuse_locked(obj_id, frame):
            return False
        patch = MaskPatch.between(before, after)
        if patch is None:
            return False
        h, w = before.shape
        s.undo_stack.push(StrokeCommand(s.doc, obj_id, frame, patch, h, w, erase))
        return True
