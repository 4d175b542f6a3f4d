"""Jumps along the timeline: `J` / `Shift+J` to the next / previous suspect frame (the timeline's red:
read from its lanes' summaries, with its thresholds), `K` / `Shift+K` to the selected object's next / previous
keyframe, `Ctrl+K` / `Ctrl+Shift+K` to any object's."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from annotator.keyframes import next_keyframe
from annotator.session_controller import SessionController
from annotator.lane_runs import next_suspect
from ui.timeline import Timeline


class TimelineJumps(QObject):
    def __init__(self, session: SessionController, timeline: Timeline, actions: dict[str, QAction],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.timeline = session, timeline
        actions["nav.next_issue"].triggered.connect(self.next_suspect)
        actions["nav.previous_issue"].triggered.connect(self.previous_suspect)
        actions["nav.next_keyframe"].triggered.connect(self.next_keyframe)
        actions["nav.previous_keyframe"].triggered.connect(self.previous_keyframe)
        actions["nav.next_keyframe_any"].triggered.connect(self.next_keyframe_any)
        actions["nav.previous_keyframe_any"].triggered.connect(self.previous_keyframe_any)

    def next_suspect(self) -> None:
        self.jump_to_suspect(True)

    def previous_suspect(self) -> None:
        self.jump_to_suspect(False)

    def next_keyframe(self) -> None:
        self.jump_to_keyframe(True, any_object=False)

    def previous_keyframe(self) -> None:
        self.jump_to_keyframe(False, any_object=False)

    def next_keyframe_any(self) -> None:
        self.jump_to_keyframe(True, any_object=True)

    def previous_keyframe_any(self) -> None:
        self.jump_to_keyframe(False, any_object=True)

    def jump_to_suspect(self, forward: bool) -> None:
        """From the timeline's own summaries: exactly the frames it paints red."""
        lanes = [self.timeline.runs(obj_id) for obj_id in self.timeline.lanes]
        self._go(next_suspect(lanes, self.session.frame, forward), forward, "suspect frame (red on the timeline)")

    def jump_to_keyframe(self, forward: bool, any_object: bool) -> None:
        doc = self.session.doc.document
        if any_object:
            ids, what = sorted(doc.objects), "keyframe of any object"
        elif self.session.current_obj is not None:
            ids, what = [self.session.current_obj], "keyframe of the selected object"
        else:
            self.session.message.emit("Select an object first (or Ctrl+K: any object's keyframes).")
            return
        self._go(next_keyframe(doc, ids, self.session.frame, forward), forward, what)

    def _go(self, frame: int | None, forward: bool, what: str) -> None:
        if frame is None:
            self.session.message.emit(f"No {what} {'after' if forward else 'before'} this one.")
        else:
            self.session.set_frame(frame)
