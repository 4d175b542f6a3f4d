"""Propagation controls: forward, backward, both ways or over the timeline's range, for the selected
object or all of them; and the status-bar progress (bar, rate, time left, Cancel).

Results stream onto the canvas: while a run goes, the view follows the newest finished frame.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from annotator.session_controller import SessionController
from annotator.session_run import RunProgress
from core.types import Direction
from ui.timeline import Timeline

FOLLOW_MS = 80


class ProgressWidget(QWidget):
    """Lives in the status bar; visible only while a propagation runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("propagationProgress")
        self.bar = QProgressBar()
        self.bar.setMaximumWidth(220)
        self.bar.setTextVisible(True)
        self.label = QLabel("")
        self.cancel_button = QPushButton("Cancel")
        self.cancelling = False
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.hide()

    def start(self) -> None:
        self.cancelling = False
        self.bar.setRange(0, 0)  # busy until the first report gives a total
        self.label.setText("Propagating…")
        self.cancel_button.setEnabled(True)
        self.show()

    def report(self, progress: RunProgress) -> None:
        self.bar.setRange(0, max(1, progress.total))
        self.bar.setValue(min(progress.done, progress.total))
        if not self.cancelling:  # "Cancelling…" stays until the run has stopped
            self.label.setText(progress.text())

    def stop(self) -> None:
        self.hide()


class PropagationControls(QObject):
    """Wires the propagate actions to the session; ``follow``: show each frame as it finishes."""

    def __init__(self, session: SessionController, actions: dict[str, QAction], timeline: Timeline,
                 progress: ProgressWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.actions, self.timeline, self.progress = session, actions, timeline, progress
        self.follow = True
        self._latest: int | None = None
        self._follow_timer = QTimer(self)
        self._follow_timer.setSingleShot(True)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._show_latest)
        actions["track.forward"].triggered.connect(lambda: self.propagate(Direction.FORWARD))
        actions["track.backward"].triggered.connect(lambda: self.propagate(Direction.BACKWARD))
        actions["track.both"].triggered.connect(lambda: self.propagate(Direction.BOTH))
        actions["track.range"].triggered.connect(lambda: self.propagate(Direction.FORWARD, use_range=True))
        actions["track.cancel"].triggered.connect(self.cancel)
        actions["track.all_objects"].setChecked(True)
        progress.cancel_button.clicked.connect(self.cancel)
        session.runs.started.connect(self._started)
        session.runs.progress.connect(progress.report)
        session.runs.finished.connect(self._finished)
        session.runs.frameDone.connect(self._frame_done)
        timeline.rangeChanged.connect(lambda a, b: self._enable(session.runs.current is None))
        self._enable(True)

    def propagate(self, direction: Direction, use_range: bool = False) -> int | None:
        objects = None if self.actions["track.all_objects"].isChecked() else (
            [self.session.current_obj] if self.session.current_obj is not None else [])
        frame_range = self.timeline.selection if use_range else None
        if use_range and frame_range is None:
            self.session.message.emit("Select a frame range first: Shift+drag on the timeline.")
            return None
        return self.session.runs.propagate(direction, objects, frame_range)

    def cancel(self) -> None:
        """Esc or the Cancel button: say so at once, then the run stops before its next frame."""
        if self.session.runs.current is None:
            return
        self.progress.cancel_button.setEnabled(False)
        self.progress.label.setText("Cancelling…")
        self.progress.cancelling = True
        self.session.runs.cancel()

    def _started(self, run_id: int) -> None:
        self.progress.start()
        self._enable(False)

    def _finished(self, cancelled: bool, frames: int) -> None:
        self._follow_timer.stop()
        self._show_latest()
        self._latest = None
        self.progress.stop()
        self._enable(True)

    def _frame_done(self, frame: int) -> None:
        if self.follow:
            # Show the newest finished frame, at most FOLLOW_MS apart: a fast engine must not
            # make the GUI thread decode and draw every frame it produces.
            self._latest = frame
            if not self._follow_timer.isActive():
                self._follow_timer.start()

    def _show_latest(self) -> None:
        if self._latest is not None and self._latest != self.session.frame:
            self.session.set_frame(self._latest)

    def _enable(self, idle: bool) -> None:
        for name in ("track.forward", "track.backward", "track.both"):
            self.actions[name].setEnabled(idle)
        self.actions["track.range"].setEnabled(idle and self.timeline.selection is not None)
        self.actions["track.cancel"].setEnabled(not idle)
