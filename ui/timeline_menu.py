"""The timeline's right-click menu: lock, unlock, clear, accept or un-accept the selected range (or
the frame clicked, when it is outside the selection), a note on the frame, and propagate from it.

Everything goes through the existing commands, so each entry is undoable: locks are one
LockCommand per object, clearing is one SetFrameCommand per frame inside one undo macro,
accepting one ReviewCommand, propagating an ordinary run from the clicked frame.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QMenu

from annotator.session_controller import SessionController
from core.types import Direction
from ui.review_controls import ReviewControls
from ui.timeline import Timeline


@dataclass(frozen=True)
class MenuTarget:
    """What a menu entry acts on: obj_ids (the lane's object, else all objects), frames first..last."""

    obj_ids: tuple[int, ...]
    first: int
    last: int
    frame: int  # the frame clicked

    def span(self) -> str:
        return f"frame {self.first}" if self.first == self.last else f"frames {self.first}–{self.last}"


class TimelineMenu(QObject):
    def __init__(self, session: SessionController, timeline: Timeline, review: ReviewControls,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.timeline, self.review = session, timeline, review
        timeline.contextRequested.connect(self.show_menu)

    def target(self, obj_id: int, frame: int) -> MenuTarget:
        selection = self.timeline.selection
        first, last = selection if selection is not None and selection[0] <= frame <= selection[1] else (frame, frame)
        ids = (obj_id,) if obj_id else tuple(sorted(self.session.doc.document.objects))
        return MenuTarget(ids, first, last, frame)

    def build(self, obj_id: int, frame: int) -> QMenu:
        """The menu for a right click on ``obj_id``'s lane (0: outside the lanes) at ``frame``."""
        t = self.target(obj_id, frame)
        who = self.session.doc.object(obj_id).name if obj_id else "all objects"
        menu = QMenu(self.timeline)
        title = menu.addAction(f"{who} · {t.span()}")
        title.setEnabled(False)
        menu.addSeparator()
        menu.addAction("Lock range", lambda: self.lock(t, True)).setObjectName("lockRange")
        menu.addAction("Unlock range", lambda: self.lock(t, False)).setObjectName("unlockRange")
        menu.addAction("Clear range", lambda: self.clear(t)).setObjectName("clearRange")
        menu.addSeparator()
        menu.addAction("Accept range (reviewed)", lambda: self.review.accept(list(t.obj_ids), t.first, t.last)) \
            .setObjectName("acceptRange")
        menu.addAction("Mark range not reviewed",
                       lambda: self.review.accept(list(t.obj_ids), t.first, t.last, reviewed=False)) \
            .setObjectName("unacceptRange")
        if obj_id:
            menu.addAction(f"Note on frame {frame}…", lambda: self.note(obj_id, frame)).setObjectName("noteFrame")
        menu.addSeparator()
        menu.addAction(f"Propagate forward from frame {frame}", lambda: self.propagate_from(t, Direction.FORWARD)) \
            .setObjectName("propagateForward")
        menu.addAction(f"Propagate backward from frame {frame}", lambda: self.propagate_from(t, Direction.BACKWARD)) \
            .setObjectName("propagateBackward")
        return menu

    def show_menu(self, obj_id: int, frame: int, pos: QPoint) -> None:
        self.build(obj_id, frame).exec(pos)

    # -- what the entries do ---------------------------------------------------------------
    def _frames(self, obj_id: int, t: MenuTarget) -> list[int]:
        return sorted(f for f in self.session.doc.document.masks.get(obj_id, {}) if t.first <= f <= t.last)

    def lock(self, t: MenuTarget, locked: bool) -> None:
        s = self.session
        if s.refuse_edit():
            return
        work = [(o, frames) for o in t.obj_ids if (frames := self._frames(o, t))]
        if not work:
            s.message.emit(f"No masks to {'lock' if locked else 'unlock'} on {t.span()}.")
            return
        s.undo_stack.beginMacro(f"{'Lock' if locked else 'Unlock'} {t.span()}")
        for obj_id, frames in work:
            s.set_locked(obj_id, frames, locked)
        s.undo_stack.endMacro()

    def clear(self, t: MenuTarget) -> None:
        """Clear prompts and masks on the range; locked masks are kept (unlock them first)."""
        s = self.session
        if s.refuse_edit():
            return
        doc = s.doc.document
        work, kept = [], 0
        for obj_id in t.obj_ids:
            frames = set(self._frames(obj_id, t)) | {f for f in doc.prompts.get(obj_id, {}) if t.first <= f <= t.last}
            for frame in sorted(frames):
                entry = doc.mask(obj_id, frame)
                if entry is not None and entry.locked:
                    kept += 1
                else:
                    work.append((obj_id, frame))
        if work:
            s.undo_stack.beginMacro(f"Clear {t.span()}")
            for obj_id, frame in work:
                s.prompts.clear_frame(obj_id, frame)
            s.undo_stack.endMacro()
        s.message.emit(f"Cleared {len(work)} mask(s) on {t.span()}" + (f"; kept {kept} locked." if kept else "."))

    def note(self, obj_id: int, frame: int) -> None:
        self.session.select_object(obj_id)
        self.session.set_frame(frame)
        self.review.ask_note()

    def propagate_from(self, t: MenuTarget, direction: Direction) -> int | None:
        self.session.set_frame(t.frame)
        return self.session.runs.propagate(direction, list(t.obj_ids))
