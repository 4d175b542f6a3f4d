"""Review mode's actions: accept a frame (and step on), accept a range, un-accept, reviewer's notes,
and the review progress in the status bar. Every change is one undo step (annotator.review_commands
for marks, EditObjectCommand for notes); the rules are annotator.review's."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QLabel, QWidget

from annotator.review import accept_changes, progress_of_tables, unreviewed_frames, with_note
from annotator.review_commands import ReviewCommand
from annotator.session_controller import SessionController
from annotator.suspect import next_frame
from ui.timeline import Timeline

PROGRESS_DELAY_MS = 50  # a propagation changes many frames: count once they settle


class ReviewControls(QObject):
    """Signal: progressChanged(text) after the review figure changed."""

    progressChanged = Signal(str)

    def __init__(self, session: SessionController, timeline: Timeline, actions: dict[str, QAction],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.timeline, self.actions = session, timeline, actions
        self.label = QLabel("")
        self.label.setObjectName("reviewProgress")
        self.label.setToolTip("Frames where every mask is reviewed / frames with masks (review mode: Ctrl+R)")
        self.progress = progress_of_tables([])
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PROGRESS_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        actions["review.accept_frame"].triggered.connect(self.accept_frame_and_step)
        actions["review.accept_range"].triggered.connect(self.accept_selected_range)
        actions["review.unaccept"].triggered.connect(self.unaccept_current)
        actions["review.note"].triggered.connect(self.ask_note)
        doc = session.doc
        doc.masksChanged.connect(self._schedule)
        doc.objectsChanged.connect(self._schedule)
        doc.documentReset.connect(self._schedule)
        self.refresh()

    # -- marks -----------------------------------------------------------------------------
    def accept(self, obj_ids: list[int], first: int, last: int, reviewed: bool = True) -> int:
        """Accept (or un-accept) the masks of ``obj_ids`` on frames first..last in one undo step;
        returns how many masks changed."""
        if self.session.refuse_edit():
            return 0
        changes = accept_changes(self.session.doc.document, obj_ids, first, last, reviewed)
        if changes:
            span = f"frame {first}" if first == last else f"frames {first}–{last}"
            verb = "Accept" if reviewed else "Un-accept"
            self.session.undo_stack.push(ReviewCommand(self.session.doc, changes, f"{verb} {span}"))
        return len(changes)

    def accept_frame_and_step(self) -> None:
        """Accept every object's mask on this frame, then go to the next frame with a mask not reviewed."""
        s = self.session
        if s.video is None:
            return
        ids = sorted(s.doc.document.objects)
        self.accept(ids, s.frame, s.frame)
        following = next_frame(unreviewed_frames(s.doc.document, ids), s.frame, True)
        if following is None:
            s.message.emit("No frame after this one has a mask left to review.")
        else:
            s.set_frame(following)

    def accept_selected_range(self) -> None:
        selection = self.timeline.selection
        if selection is None:
            self.session.message.emit("Select a frame range first: Shift+drag on the timeline.")
            return
        count = self.accept(sorted(self.session.doc.document.objects), *selection)
        self.session.message.emit(f"Accepted {count} mask(s) on frames {selection[0]}–{selection[1]}.")

    def unaccept_current(self) -> None:
        s = self.session
        if s.current_obj is not None:
            self.accept([s.current_obj], s.frame, s.frame, reviewed=False)

    # -- notes -----------------------------------------------------------------------------
    def set_note(self, obj_id: int, frame: int, text: str) -> None:
        """The reviewer's note of ``obj_id`` on ``frame`` (empty: remove it), one undo step."""
        record = self.session.doc.object(obj_id)
        notes = with_note(record.notes, frame, text)
        if notes != record.notes:
            self.session.edit_object(obj_id, notes=notes)

    def ask_note(self) -> None:
        s = self.session
        if s.current_obj is None or s.video is None:
            s.message.emit("Select an object first: a note belongs to an object on a frame.")
            return
        record = s.doc.object(s.current_obj)
        parent = self.timeline.window() if isinstance(self.timeline.window(), QWidget) else None
        text, ok = QInputDialog.getMultiLineText(parent, "Reviewer's note",
                                                 f"Note on {record.name}, frame {s.frame} (empty: no note):",
                                                 record.notes.get(s.frame, ""))
        if ok:
            self.set_note(s.current_obj, s.frame, text)

    # -- progress --------------------------------------------------------------------------
    def _schedule(self, *_: object) -> None:
        self._timer.start()

    def refresh(self) -> None:
        """Count again from the timeline's frame tables (the timeline updates them first)."""
        self.progress = progress_of_tables(list(self.timeline.lanes.values()))
        text = self.progress.text() if self.session.video is not None else ""
        self.label.setText(text)
        self.progressChanged.emit(text)
