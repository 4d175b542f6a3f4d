"""The status bar: messages, what the model is doing (and a button to choose one when there is none),
the cursor position, and the propagation progress."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar, QWidget

from annotator.session_controller import ModelState, SessionController
from ui.propagation import ProgressWidget

MESSAGE_MS = 8000


class StatusBar(QStatusBar):
    def __init__(self, session: SessionController, progress: ProgressWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.position = QLabel("")
        self.model_label = QLabel("")
        self.model_label.setObjectName("modelStatus")
        self.choose_model = QPushButton("Choose model…")
        self.choose_model.setObjectName("chooseModelButton")
        self.addPermanentWidget(progress)
        self.addPermanentWidget(self.position)
        self.addPermanentWidget(self.model_label)
        self.addPermanentWidget(self.choose_model)
        session.message.connect(lambda text: self.showMessage(text, MESSAGE_MS))
        session.model_status.stateChanged.connect(self.show_model_state)
        self.show_model_state(session.model_status.state.value, session.model_status.message)

    def show_model_state(self, state: str, message: str) -> None:
        state = ModelState(state)
        prefix = {ModelState.READY: "SAM 2", ModelState.LOADING: "SAM 2", ModelState.FAILED: "No model",
                  ModelState.NONE: "No model"}[state]
        self.model_label.setText(f"{prefix}: {message}")
        self.model_label.setStyleSheet("color: #c0392b;" if state in (ModelState.NONE, ModelState.FAILED) else "")
        self.choose_model.setVisible(state in (ModelState.NONE, ModelState.FAILED))

    def show_position(self, x: float, y: float) -> None:
        video = self.session.video
        if video is not None and 0 <= x < video.width and 0 <= y < video.height:
            self.position.setText(f"x {int(x)}  y {int(y)}")
        else:
            self.position.setText("")
