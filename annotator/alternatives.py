"""SAM 2's alternatives: after a click SAM 2 answered with three masks, choose another of the three.

QtCore/QtGui only. The choice is part of the prompt (``Prompt.choice``): choosing replaces the
click's engine input at the end of the document's log with the same clicks and the chosen mask,
so the engine, which follows the log, rewinds to before the click and gives it again with that
choice; the document's mask becomes the chosen one. Cycling through the three is one undo step
(the commands merge), and undo brings back the mask SAM 2 chose.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand

from annotator.document import MaskEntry
from annotator.observed_document import ObservedDocument
from annotator.results import entry_for
from core.types import FrameResult, ObjectMask
from core.video.inputs import PromptInput

if TYPE_CHECKING:
    from annotator.session_controller import SessionController

_MERGE_ID = 17_004  # QUndoCommand.id(): successive choices for one click merge into one step


@dataclass(frozen=True)
class Offer:
    """The three masks of the click ``click`` (the log's last input when it came back), in SAM 2's
    order; best: the index SAM 2 chose by predicted IoU."""

    click: PromptInput
    masks: tuple[ObjectMask, ...]
    best: int


class AlternativeCommand(QUndoCommand):
    """Replace the log's last input (a click) by the same click with another of its masks."""

    def __init__(self, doc: ObservedDocument, old: PromptInput, new: PromptInput, old_entry: MaskEntry | None,
                 new_entry: MaskEntry) -> None:
        super().__init__("Choose SAM 2's mask")
        self.doc, self.old, self.new = doc, old, new
        self.old_entry, self.new_entry = old_entry, new_entry

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _MERGE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802
        if not isinstance(other, AlternativeCommand) or other.old is not self.new:
            return False
        self.new, self.new_entry = other.new, other.new_entry
        return True

    def _swap(self, before: PromptInput, after: PromptInput, entry: MaskEntry | None) -> None:
        self.doc.pop_input(before)
        self.doc.push_input(after)
        self.doc.set_prompt(after.obj_id, after.frame, after.prompt)
        self.doc.set_mask(after.obj_id, after.frame, entry)

    def redo(self) -> None:
        self._swap(self.old, self.new, self.new_entry)

    def undo(self) -> None:
        self._swap(self.new, self.old, self.old_entry)


class Alternatives(QObject):
    """The alternatives of the last click. Signal changed() when an offer comes or goes or another
    mask is chosen; after any undo or redo, ``available()`` may have changed too (it reads the log)."""

    changed = Signal()

    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session
        self._offer: Offer | None = None
        # connected after Prompting's handler, so the click's step is in the document by then
        session.worker.worker.promptDone.connect(self._on_done)
        session.doc.documentReset.connect(self._forget)

    def _on_done(self, request_id: int, result: FrameResult) -> None:
        log = self.session.doc.document.inputs
        last = log[-1] if log else None
        masks = result.alternatives.get(last.obj_id) if isinstance(last, PromptInput) else None
        if last is None or masks is None or last.frame != result.frame or len(masks) < 2:
            return
        best = max(range(len(masks)), key=lambda k: masks[k].iou)
        self._offer = Offer(last, tuple(masks), best)
        self.changed.emit()

    def _forget(self) -> None:
        self._offer = None
        self.changed.emit()

    def _current(self) -> PromptInput | None:
        """The log's last input when it is the offered click (with any choice), else None."""
        offer = self._offer
        log = self.session.doc.document.inputs
        if offer is None or not log or not isinstance(log[-1], PromptInput):
            return None
        last = log[-1]
        same = last is offer.click or (
            last.obj_id == offer.click.obj_id and last.frame == offer.click.frame
            and last.prompt.points is offer.click.prompt.points and last.prompt.labels is offer.click.prompt.labels)
        return last if same else None

    def available(self) -> Offer | None:
        """The offer while its click is still the last thing SAM 2 was told, else None."""
        return self._offer if self._current() is not None else None

    def index(self) -> int | None:
        """Which of the three the document shows now."""
        offer, current = self._offer, self._current()
        if offer is None or current is None:
            return None
        return offer.best if current.prompt.choice is None else current.prompt.choice

    def choose(self, k: int) -> bool:
        """Show SAM 2's mask ``k`` (0..2) for the last click, as one undo step with the other choices."""
        s = self.session
        offer, current = self.available(), self._current()
        if offer is None or current is None:
            s.message.emit("No alternatives: SAM 2 gives three masks for a single click; click first.")
            return False
        if s.refuse_edit():
            return False
        k %= len(offer.masks)
        if k == self.index():
            return True
        new = PromptInput(replace(current.prompt, choice=None if k == offer.best else k))
        old_entry = s.doc.mask(current.obj_id, current.frame)
        entry = entry_for(offer.masks[k], prompted=True)
        s.undo_stack.push(AlternativeCommand(s.doc, current, new, old_entry, entry))
        self.changed.emit()
        return True

    def cycle(self, step: int) -> bool:
        """The next (``step`` 1) or previous (-1) of the three."""
        index = self.index()
        if index is None:
            return self.choose(0)  # says why there is nothing to choose
        return self.choose(index + step)
