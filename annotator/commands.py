"""Undoable edits of the annotation (QUndoCommand), each holding only the delta it changes.

A brush stroke keeps the bounding box of the pixels it touched with their old and new values,
never whole frames; a propagation run keeps the entries it replaced; object edits keep the
old field values. Commands that describe work already applied (a SAM 2 result that streamed
in, a stroke already painted) skip their first ``redo``. A command that changes what SAM 2
was told also adds its engine input to the document's log on redo and takes it back on undo,
so the engine, which follows that log, forgets an undone click, stroke, deletion or run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtGui import QUndoCommand

from annotator.observed_document import ObservedDocument
from annotator.document import MaskEntry, MaskSource, ObjectRecord
from core.masks import encode
from core.types import Prompt
from core.video.inputs import ClearInput, EngineInput, MaskInput, PromptInput, RemoveInput, TrackInput


class _AppliedOnce(QUndoCommand):
    """A command whose change may already be in the document when it is pushed (its engine
    input never is: the first redo adds it). Subclasses set ``doc`` and define ``apply``,
    ``revert`` and ``engine_input``."""

    doc: ObservedDocument

    def __init__(self, text: str, already_applied: bool) -> None:
        super().__init__(text)
        self._skip_apply = already_applied

    def redo(self) -> None:
        if self._skip_apply:
            self._skip_apply = False
        else:
            self.apply()
        self.doc.push_input(self.engine_input())

    def undo(self) -> None:
        self.doc.pop_input(self.engine_input())
        self.revert()

    def apply(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def revert(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def engine_input(self) -> EngineInput:  # pragma: no cover - every subclass defines it
        raise NotImplementedError


class AddObjectCommand(QUndoCommand):
    def __init__(self, doc: ObservedDocument, record: ObjectRecord) -> None:
        super().__init__(f"Add {record.name}")
        self.doc, self.record = doc, record

    def redo(self) -> None:
        self.doc.put_object(self.record)

    def undo(self) -> None:
        self.doc.remove_object(self.record.obj_id)


class RemoveObjectCommand(_AppliedOnce):
    def __init__(self, doc: ObservedDocument, obj_id: int) -> None:
        super().__init__(f"Delete {doc.object(obj_id).name}", already_applied=False)
        self.doc, self.obj_id = doc, obj_id
        self._removed: tuple | None = None
        self._input = RemoveInput(obj_id)

    def apply(self) -> None:
        self._removed = self.doc.remove_object(self.obj_id)

    def revert(self) -> None:
        assert self._removed is not None
        self.doc.restore_object(*self._removed)

    def engine_input(self) -> EngineInput:
        return self._input


class EditObjectCommand(QUndoCommand):
    """Change fields of an object record (name, category, color, attributes)."""

    def __init__(self, doc: ObservedDocument, obj_id: int, **changes: object) -> None:
        record = doc.object(obj_id)
        label = ", ".join(sorted(changes))
        super().__init__(f"Edit {record.name} ({label})")
        self.doc, self.obj_id = doc, obj_id
        self.new = dict(changes)
        self.old = {key: getattr(record, key) for key in changes}

    def redo(self) -> None:
        self.doc.update_object(self.obj_id, **self.new)

    def undo(self) -> None:
        self.doc.update_object(self.obj_id, **self.old)


class SetFrameCommand(_AppliedOnce):
    """Replace one object's prompt and mask on one frame (a click or box result, a cleared frame).

    item: the PromptInput the engine computed ``entry`` from (the very record it was sent);
    without one, the frame's prompts are cleared in the engine too.
    """

    def __init__(
        self, doc: ObservedDocument, obj_id: int, frame: int, prompt: Prompt | None, entry: MaskEntry | None,
        text: str, already_applied: bool = False, item: PromptInput | None = None,
    ) -> None:
        super().__init__(text, already_applied)
        self.doc, self.obj_id, self.frame = doc, obj_id, frame
        self.new_prompt, self.new_entry = prompt, entry
        self.old_prompt = doc.prompt(obj_id, frame)
        self.old_entry = doc.mask(obj_id, frame)
        self._input: EngineInput = item if item is not None else ClearInput(obj_id, frame)

    def engine_input(self) -> EngineInput:
        return self._input

    def apply(self) -> None:
        self.doc.set_prompt(self.obj_id, self.frame, self.new_prompt)
        self.doc.set_mask(self.obj_id, self.frame, self.new_entry)

    def revert(self) -> None:
        self.doc.set_prompt(self.obj_id, self.frame, self.old_prompt)
        self.doc.set_mask(self.obj_id, self.frame, self.old_entry)


@dataclass(frozen=True)
class MaskPatch:
    """The pixels one stroke changed: rows y0..y0+h, columns x0..x0+w of the frame.

    old, new: (h, w) bool, the mask inside that box before and after the stroke.
    """

    y0: int
    x0: int
    old: np.ndarray
    new: np.ndarray

    @staticmethod
    def between(before: np.ndarray, after: np.ndarray) -> "MaskPatch | None":
        """The smallest patch turning ``before`` into ``after`` ((H, W) bool each), None if equal."""
        ys, xs = np.nonzero(before != after)
        if len(ys) == 0:
            return None
        y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        return MaskPatch(y0, x0, before[y0:y1, x0:x1].copy(), after[y0:y1, x0:x1].copy())

    def paste(self, mask: np.ndarray, new: bool) -> None:
        h, w = self.old.shape
        mask[self.y0:self.y0 + h, self.x0:self.x0 + w] = self.new if new else self.old


@dataclass(frozen=True)
class EntryMeta:
    """An entry's fields without its pixels (what a stroke must restore on undo)."""

    source: MaskSource
    locked: bool
    object_score: float | None
    iou: float | None


class StrokeCommand(_AppliedOnce):
    """One brush or eraser stroke: one undo step storing the patch's box and old/new pixels.

    height, width: the frame size, needed to rebuild a mask the object did not have before.
    """

    def __init__(
        self, doc: ObservedDocument, obj_id: int, frame: int, patch: MaskPatch, height: int, width: int,
        erase: bool, already_applied: bool = False,
    ) -> None:
        super().__init__("Erase" if erase else "Brush", already_applied)
        self.doc, self.obj_id, self.frame, self.patch = doc, obj_id, frame, patch
        self.size = (height, width)
        old = doc.mask(obj_id, frame)
        self.old_meta = None if old is None else EntryMeta(old.source, old.locked, old.object_score, old.iou)
        self._input: MaskInput | None = None  # the painted mask, as SAM 2's mask prompt

    def _write(self, new: bool) -> None:
        current = self.doc.mask_array(self.obj_id, self.frame)
        mask = np.zeros(self.size, bool) if current is None else current
        self.patch.paste(mask, new)
        if new:
            locked = self.old_meta.locked if self.old_meta else False
            entry: MaskEntry | None = MaskEntry(encode(mask), MaskSource.EDITED, locked=locked)
            if self._input is None:
                self._input = MaskInput(self.obj_id, self.frame, entry.rle)
        elif self.old_meta is None and not mask.any():
            entry = None
        else:
            meta = self.old_meta or EntryMeta(MaskSource.EDITED, False, None, None)
            entry = MaskEntry(encode(mask), meta.source, meta.locked, meta.object_score, meta.iou)
        self.doc.set_mask(self.obj_id, self.frame, entry)

    def apply(self) -> None:
        self._write(new=True)

    def revert(self) -> None:
        self._write(new=False)

    def engine_input(self) -> EngineInput:
        if self._input is None:  # pushed already applied: the document holds the painted mask
            entry = self.doc.mask(self.obj_id, self.frame)
            assert entry is not None
            self._input = MaskInput(self.obj_id, self.frame, entry.rle)
        return self._input


class PropagationCommand(_AppliedOnce):
    """A whole propagation run (or the finished part of a cancelled one) as one step.

    changes: (obj_id, frame) -> (old entry, new entry); the new entries are in the document
    already. run: the run as it went (core.video.inputs.TrackInput), for the engine's log.
    """

    def __init__(self, doc: ObservedDocument, changes: dict[tuple[int, int], tuple[MaskEntry | None, MaskEntry | None]],
                 text: str, run: TrackInput) -> None:
        super().__init__(text, already_applied=True)
        self.doc = doc
        self.changes = dict(changes)
        self.run = run

    def engine_input(self) -> EngineInput:
        return self.run

    def apply(self) -> None:
        self.doc.set_masks({key: new for key, (_, new) in self.changes.items()})

    def revert(self) -> None:
        self.doc.set_masks({key: old for key, (old, _) in self.changes.items()})


class LockCommand(QUndoCommand):
    """Lock (approve) or unlock one object's masks on some frames."""

    def __init__(self, doc: ObservedDocument, obj_id: int, frames: list[int], locked: bool) -> None:
        super().__init__(("Lock" if locked else "Unlock") + f" {len(frames)} frame(s)")
        self.doc, self.obj_id, self.locked = doc, obj_id, locked
        self.frames = [f for f in frames if (e := doc.mask(obj_id, f)) is not None and e.locked != locked]
        # the entries as they were: unlocking also clears a review mark, which undo must bring back
        self.before = {(obj_id, f): doc.mask(obj_id, f) for f in self.frames}

    def redo(self) -> None:
        self.doc.set_locked(self.obj_id, self.frames, self.locked)

    def undo(self) -> None:
        self.doc.set_masks(self.before)

