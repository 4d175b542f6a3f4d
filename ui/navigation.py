"""Frame navigation: slider, frame number, previous/next, jump by ten, play/pause at the video's rate."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QSpinBox, QToolButton, QWidget

from annotator.session_controller import SessionController


class Player(QObject):
    """Plays the video at its frame rate; a slow frame is skipped over rather than slowing the clock."""

    def __init__(self, session: SessionController, action: QAction, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.action = session, action
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self._clock = QElapsedTimer()
        self._start_frame = 0
        action.toggled.connect(self.set_playing)
        session.videoChanged.connect(lambda: action.setChecked(False))

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def set_playing(self, playing: bool) -> None:
        video = self.session.video
        if playing and video is not None and self.session.frame_count() > 1:
            if self.session.frame >= self.session.frame_count() - 1:
                self.session.set_frame(0)
            self._start_frame = self.session.frame
            self._clock.start()
            self.timer.start(max(1, int(1000 / max(video.fps, 1.0))))
        else:
            self.timer.stop()
            if self.action.isChecked():
                self.action.setChecked(False)

    def _tick(self) -> None:
        fps = max(self.session.video.fps if self.session.video else 25.0, 1.0)
        target = self._start_frame + int(self._clock.elapsed() * fps / 1000)
        last = self.session.frame_count() - 1
        if target >= last:
            self.session.set_frame(last)
            self.set_playing(False)
        elif target != self.session.frame:
            self.session.set_frame(target)


class NavigationBar(QWidget):
    """The strip under the canvas: buttons, a slider over all frames and the frame number."""

    def __init__(self, session: SessionController, actions: dict[str, QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("navigationBar")
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        for name in ("nav.first", "nav.back10", "nav.previous", "nav.play", "nav.next", "nav.forward10", "nav.last"):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            layout.addWidget(button)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # arrow keys stay frame shortcuts
        self.spin = QSpinBox()
        self.spin.setKeyboardTracking(False)
        self.total = QLabel("/ 0")
        self.time = QLabel("")
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        layout.addWidget(self.total)
        layout.addWidget(self.time)
        self.slider.valueChanged.connect(self._seek)
        self.spin.valueChanged.connect(self._seek)
        session.videoChanged.connect(self._on_video)
        session.frameChanged.connect(self._on_frame)
        actions["nav.previous"].triggered.connect(lambda: self.step(-1))
        actions["nav.next"].triggered.connect(lambda: self.step(1))
        actions["nav.back10"].triggered.connect(lambda: self.step(-10))
        actions["nav.forward10"].triggered.connect(lambda: self.step(10))
        actions["nav.first"].triggered.connect(lambda: session.set_frame(0))
        actions["nav.last"].triggered.connect(lambda: session.set_frame(session.frame_count() - 1))
        self.player = Player(session, actions["nav.play"], self)
        self._on_video()

    def step(self, delta: int) -> None:
        self.session.set_frame(self.session.frame + delta)

    def _seek(self, frame: int) -> None:
        if frame != self.session.frame:
            self.session.set_frame(frame)

    def _on_video(self) -> None:
        n = self.session.frame_count()
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setRange(0, max(0, n - 1))
            w.blockSignals(False)
        self.total.setText(f"/ {max(0, n - 1)}")
        self.setEnabled(n > 0)

    def _on_frame(self, frame: int) -> None:
        for w in (self.slider, self.spin):
            w.blockSignals(True)
            w.setValue(frame)
            w.blockSignals(False)
        video = self.session.video
        if video is not None and video.fps > 0:
            seconds = frame / video.fps
            self.time.setText(f"{int(seconds // 60)}:{seconds % 60:05.2f}")
