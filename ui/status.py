"""The status bar: messages, what the model is doing (and a button to choose one when there is none),
the cursor position, and the propagation progress."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar, QWidget

from annotator.session_controller import ModelState, SessionController
from ui.propagation import ProgressWidget

MESSAGE_MS = 8000
MODEL_TEXT_W = 460  # pixels of the model's state; the whole text is its tooltip


class StatusBar(QStatusBar):
    def __init__(self, session: SessionController, progress: ProgressWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.position = QLabel("")
        self.view_label = QLabel("")
        self.view_label.setObjectName("viewValues")
        self.view_label.setToolTip("Brush diameter ([ and ]) and mask opacity (O and Shift+O)")
        self.model_label = QLabel("")
        # a long state ("no SAM 2 checkpoint yet: …") is elided, never a minimum width for the window
        self.model_label.setMaximumWidth(MODEL_TEXT_W + 16)
        self.model_label.setObjectName("modelStatus")
        self.choose_model = QPushButton("Choose model…")
        self.choose_model.setObjectName("chooseModelButton")
        self.addPermanentWidget(progress)
        self.addPermanentWidget(self.position)
        self.addPermanentWidget(self.view_label)
        self.addPermanentWidget(self.model_label)
        self.addPermanentWidget(self.choose_model)
        session.message.connect(lambda text: self.showMessage(text, MESSAGE_MS))
        status = session.model_status
        status.stateChanged.connect(lambda state, message: self.show_model_state())
        status.activityChanged.connect(lambda text: self.show_model_state())
        self.show_model_state()

    def show_model_state(self) -> None:
        """``SAM 2: model ready (cpu · fp32)``, or what it is doing now (``SAM 2: encoding frame 57…``)."""
        status = self.session.model_status
        state = status.state
        prefix = {ModelState.READY: "SAM 2", ModelState.LOADING: "SAM 2", ModelState.FAILED: "No model",
                  ModelState.NONE: "No model"}[state]
        busy = state is ModelState.READY and status.activity
        text = f"{prefix}: {status.activity}" if busy else f"{prefix}: {status.message}"
        self.model_label.setToolTip(text)
        self.model_label.setText(self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, MODEL_TEXT_W))
        style = "color: #c0392b;" if state in (ModelState.NONE, ModelState.FAILED) else "font-weight: bold;" if busy else ""
        self.model_label.setStyleSheet(style)
        self.choose_model.setVisible(state in (ModelState.NONE, ModelState.FAILED))

    def show_view_values(self, brush_px: int, opacity: float) -> None:
        self.view_label.setText(f"Brush {brush_px} px · Masks {round(opacity * 100)} %")

    def show_position(self, x: float, y: float) -> None:
        video = self.session.video
        if video is not None and 0 <= x < video.width and 0 <= y < video.height:
            self.position.setText(f"x {int(x)}  y {int(y)}")
        else:
            self.position.setText("")
