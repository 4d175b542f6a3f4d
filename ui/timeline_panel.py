"""The Timeline dock's contents: a bar with the zoom (out, in, fit, "one frame = N px"), the selected
range as editable numbers and the legend; the timeline in a vertical scroll area (lanes); and a
horizontal scroll bar over the zoomed video."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (QDoubleSpinBox, QFrame, QHBoxLayout, QLabel, QScrollArea, QScrollBar, QSpinBox,
                               QToolButton, QVBoxLayout, QWidget)

from ui.timeline import Timeline
from ui.timeline_legend import Legend
from ui.timeline_zoom import MAX_PX_PER_FRAME, ZOOM_STEP


class TimelinePanel(QWidget):
    def __init__(self, timeline: Timeline, actions: dict[str, QAction], min_height: int,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timelinePanel")
        self.timeline = timeline
        self.scale = QDoubleSpinBox()
        self.scale.setObjectName("timelineScale")
        self.scale.setDecimals(3)
        self.scale.setRange(0.001, MAX_PX_PER_FRAME)
        self.scale.setSuffix(" px")
        self.scale.setKeyboardTracking(False)
        self.scale.setToolTip("How wide one frame is on the timeline")
        self.first = QSpinBox()
        self.last = QSpinBox()
        for box, name in ((self.first, "rangeFirst"), (self.last, "rangeLast")):
            box.setObjectName(name)
            box.setKeyboardTracking(False)
            box.setToolTip("The selected frame range (used by propagate over range, accept range, the context menu)")
        self.clear_range = QToolButton()
        self.clear_range.setText("×")
        self.clear_range.setToolTip("Clear the selected range")
        self.legend_button = QToolButton()
        self.legend_button.setText("Legend")
        self.legend_button.setCheckable(True)
        self.legend = Legend()
        self.legend.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        for name in ("timeline.zoom_out", "timeline.zoom_in", "timeline.fit"):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setAutoRaise(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            bar.addWidget(button)
        bar.addWidget(QLabel("1 frame ="))
        bar.addWidget(self.scale)
        bar.addStretch(1)
        bar.addWidget(QLabel("Range"))
        bar.addWidget(self.first)
        bar.addWidget(QLabel("–"))
        bar.addWidget(self.last)
        bar.addWidget(self.clear_range)
        bar.addWidget(self.legend_button)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("timelineScroll")
        self.scroll.setWidget(timeline)
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setMinimumHeight(min_height)
        self.hbar = QScrollBar(Qt.Orientation.Horizontal)
        self.hbar.setObjectName("timelineHScroll")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.legend)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.hbar)
        actions["timeline.zoom_in"].triggered.connect(self.zoom_in)
        actions["timeline.zoom_out"].triggered.connect(self.zoom_out)
        actions["timeline.fit"].triggered.connect(timeline.fit)
        self.scale.valueChanged.connect(timeline.set_px_per_frame)
        self.hbar.valueChanged.connect(self._on_scroll)
        self.first.valueChanged.connect(self._on_first_edit)
        self.last.valueChanged.connect(self._on_last_edit)
        self.clear_range.clicked.connect(timeline.clear_selection)
        self.legend_button.toggled.connect(self.legend.setVisible)
        timeline.viewChanged.connect(self._on_view)
        timeline.rangeChanged.connect(self._on_range)
        timeline.session.videoChanged.connect(self._on_video)
        self._on_video()

    def zoom_in(self) -> None:
        self.timeline.zoom(ZOOM_STEP)

    def zoom_out(self) -> None:
        self.timeline.zoom(1 / ZOOM_STEP)

    def _on_view(self) -> None:
        view = self.timeline.view
        px = view.px_per_frame
        self.hbar.blockSignals(True)
        self.hbar.setRange(0, int(round(view.max_first * px)))
        self.hbar.setPageStep(max(1, int(view.width)))
        self.hbar.setSingleStep(max(1, int(px)))
        self.hbar.setValue(int(round(view.first * px)))
        self.hbar.blockSignals(False)
        self.scale.blockSignals(True)
        self.scale.setMinimum(min(1.0, max(0.001, round(view.fit_scale, 3))))
        self.scale.setValue(px)
        self.scale.blockSignals(False)

    def _on_scroll(self, value: int) -> None:
        self.timeline.scroll_to(value / self.timeline.view.px_per_frame)

    def _on_video(self) -> None:
        n = self.timeline.frame_count()
        for box in (self.first, self.last):
            box.blockSignals(True)
            box.setRange(0, max(0, n - 1))
            box.blockSignals(False)
        self._on_range(-1, -1)
        self.setEnabled(n > 0)

    def _on_range(self, first: int, last: int) -> None:
        selected = first >= 0
        for box, value in ((self.first, first), (self.last, last)):
            box.blockSignals(True)
            box.setValue(value if selected else 0)
            box.blockSignals(False)
        self.clear_range.setEnabled(selected)

    def _on_first_edit(self, first: int) -> None:
        """A first frame past the last one moves the last one along (and the other way round)."""
        self.timeline.set_selection(first, max(first, self.last.value()))

    def _on_last_edit(self, last: int) -> None:
        self.timeline.set_selection(min(last, self.first.value()), last)
