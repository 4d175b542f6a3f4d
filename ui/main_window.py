"""The main window: the composition root. It builds the session and the features (each in its own
module), lays them out, and handles what belongs to the window itself: title, close, drops, model
choice, autosave, and the layout kept in the settings."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QVBoxLayout, QWidget

from annotator.autosave import AutosaveSchedule
from annotator.session_controller import SessionController
from annotator.worker import WorkerHandle
from ui.canvas import Canvas
from ui.edit_actions import EditActions
from ui.file_actions import FileActions
from ui.find_objects_actions import FindObjectsActions
from ui.label_actions import LabelActions
from ui.memory_menu import MemoryPolicyMenu
from ui.menus import build_menus, build_toolbar
from ui.navigation import NavigationBar
from ui.objects_panel import ObjectsPanel
from ui.overlay import OverlayPresenter, OverlayStyle
from ui.propagation import ProgressWidget, PropagationControls
from ui.review_controls import ReviewControls
from ui.review_panel import ReviewPanel
from ui.settings import AppSettings
from ui.shortcuts import create_actions
from ui.status import StatusBar
from ui.timeline import Timeline
from ui.timeline_menu import TimelineMenu
from ui.timeline_nav import TimelineJumps
from ui.timeline_panel import TimelinePanel
from ui.tools import ToolController

AUTOSAVE_CHECK_MS = 15000
MIN_WINDOW = (960, 600)  # pixels
TIMELINE_MIN_H = 120  # pixels: the ruler, the thumbnails and two lanes
NO_MODEL = "no SAM 2 checkpoint yet: File > Model… to choose or download one; brush and navigation work without it"


class MainWindow(QMainWindow):
    def __init__(self, settings: AppSettings | None = None, worker: WorkerHandle | None = None,
                 load_model: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = settings or AppSettings()
        self.session = session = SessionController(worker, parent=self)
        session.cache_mb, session.feature_cache_frames = self.settings.frame_cache_mb, self.settings.feature_cache_frames
        self.actions = actions = create_actions(self)
        self.overlay_style = OverlayStyle(self.settings.opacity, self.settings.outline, self)
        self.canvas = Canvas()
        self.presenter = OverlayPresenter(session, self.canvas, self.overlay_style, self)
        self.tools = ToolController(session, self.canvas, self.presenter, self.settings.brush_size, self)
        self.navigation = NavigationBar(session, actions)
        self.timeline = Timeline(session)
        self.timeline.set_thresholds(self.settings.suspect_thresholds())
        self.jumps = TimelineJumps(session, self.timeline, actions, self)
        self.review = ReviewControls(session, self.timeline, actions, self)
        self.timeline_menu = TimelineMenu(session, self.timeline, self.review, self)
        self.objects = ObjectsPanel(session, self.overlay_style, actions)
        self.progress = ProgressWidget()
        self.propagation = PropagationControls(session, actions, self.timeline, self.progress, self)
        self.edits = EditActions(session, self.tools, self.canvas, self.overlay_style, self.objects, actions, self)
        self.files = FileActions(self, session, self.settings, actions, build_menus(self, actions), self)
        self.label_actions = LabelActions(self, session, self.canvas, self.overlay_style, actions)
        self.find_objects = FindObjectsActions(self, session, actions)  # automatic objects (issue 20)
        self.memory_menu = MemoryPolicyMenu(session, self)  # Propagate > Memory policy (issue 18)
        build_toolbar(self, actions)
        self.status = StatusBar(session, self.progress, self)
        self.setStatusBar(self.status)
        self.status.addPermanentWidget(self.review.label)
        self._lay_out()
        self._connect()
        self.autosave = AutosaveSchedule()
        self._autosave_timer = QTimer(self)
        self._autosave_timer.timeout.connect(self._autosave)
        self._autosave_timer.start(AUTOSAVE_CHECK_MS)
        self.setAcceptDrops(True)
        self._update_title()
        if load_model:
            self.start_model()

    def _lay_out(self) -> None:
        # Below these sizes the slider, the object names and the timeline stop being usable.
        self.setMinimumSize(MIN_WINDOW[0], MIN_WINDOW[1])
        self.canvas.setMinimumSize(320, 180)
        self.navigation.slider.setMinimumWidth(200)
        self.objects.setMinimumWidth(240)
        # the timeline scrolls its lanes: a new object adds a lane, not height taken from the canvas;
        # it zooms and scrolls sideways itself (ui.timeline_panel)
        timeline = TimelinePanel(self.timeline, self.actions, TIMELINE_MIN_H)
        center = QWidget()
        layout = QVBoxLayout(center)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.navigation)
        self.setCentralWidget(center)
        for title, widget, area in (("Timeline", timeline, Qt.DockWidgetArea.BottomDockWidgetArea),
                                    ("Objects", self.objects, Qt.DockWidgetArea.RightDockWidgetArea)):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"{title.lower()}Dock")
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
        self.review_dock = QDockWidget("Review", self)  # review mode (Ctrl+R) shows it
        self.review_dock.setObjectName("reviewDock")
        self.review_dock.setWidget(ReviewPanel(self.session, self.review, self.actions))
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.review_dock)
        self.review_dock.hide()
        self.actions["review.mode"].toggled.connect(self.review_dock.setVisible)
        self.review_dock.visibilityChanged.connect(self._on_review_dock)
        self.resize(1400, 900)
        saved = self.settings.layout()
        if saved is not None:
            self.restoreGeometry(saved[0])
            self.restoreState(saved[1])

    def _connect(self) -> None:
        s, a = self.session, self.actions
        # bound methods, not lambdas: Qt drops these connections when the window goes, so a late
        # signal (the undo stack cleared as the session ends) never reaches a deleted window
        s.undo_stack.cleanChanged.connect(self._update_title)
        s.projectPathChanged.connect(self._update_title)
        s.videoChanged.connect(self._update_title)
        a["file.export"].triggered.connect(self.export)
        a["file.model"].triggered.connect(self.choose_model)
        a["file.quit"].triggered.connect(self.close)
        a["help.shortcuts"].triggered.connect(self.show_shortcuts)
        a["help.about"].triggered.connect(self.show_about)
        a["edit.preferences"].triggered.connect(self.preferences)
        self.status.choose_model.clicked.connect(self.choose_model)
        self.canvas.cursorMoved.connect(self.status.show_position)
        self.tools.brushSizeChanged.connect(self._show_view_values)
        self.overlay_style.changed.connect(self._show_view_values)
        self._show_view_values()
        s.prompts.pendingChanged.connect(self._show_pending)

    def _on_review_dock(self, _visible: bool) -> None:
        # closed by its title bar's button: review mode goes off (a dock behind a tab stays on)
        self.actions["review.mode"].setChecked(not self.review_dock.isHidden())

    def _show_view_values(self, *_: object) -> None:
        self.status.show_view_values(self.tools.brush_size, self.overlay_style.opacity)

    def _show_pending(self) -> None:
        self.canvas.set_busy(self.session.prompts.pending > 0)

    # -- model -----------------------------------------------------------------------------
    def start_model(self) -> None:
        """Load the chosen (or downloaded default) checkpoint on the worker; say so when there is none."""
        selection = self.settings.model_settings().selection()
        if selection is None:
            self.session.model_status.report_none(NO_MODEL)
        else:
            self.session.model_status.load(selection)

    def choose_model(self) -> None:
        from ui.model_dialog import ModelDialog

        dialog = ModelDialog(self, self.settings.model_settings())
        if dialog.exec() and dialog.selection is not None:
            self.session.model_status.load(dialog.selection)

    # -- window ----------------------------------------------------------------------------
    def _update_title(self, *_: object) -> None:
        s = self.session
        name = Path(s.project_path).name if s.project_path else (
            Path(s.video.path).name if s.video is not None else "")
        self.setWindowTitle(f"{name}[*] — Masklet" if name else "Masklet[*]")
        self.setWindowModified(s.dirty)

    def open_path(self, path: str) -> bool:
        return self.files.open_path(path)

    def export(self) -> None:
        from ui.export_dialog import ExportDialog

        if self.session.video is None:
            self.session.message.emit("Open a video or project first.")
            return
        base = self.session.project_path or self.session.video.path
        ExportDialog(self.session.doc.document, os.path.dirname(base), self).exec()

    def preferences(self) -> None:
        from ui.preferences_dialog import PreferencesDialog

        style = self.overlay_style
        dialog = PreferencesDialog(self.settings, style.opacity, style.outline, self.tools.brush_size, self)
        if dialog.exec():
            self.apply_settings()

    def apply_settings(self) -> None:
        """Take the look and the cache sizes from the settings (cache sizes from the next video on)."""
        s, style = self.settings, self.overlay_style
        style.outline = s.outline
        style.set_opacity(s.opacity)
        self.tools.set_brush_size(s.brush_size)
        self.session.cache_mb, self.session.feature_cache_frames = s.frame_cache_mb, s.feature_cache_frames
        self.timeline.set_thresholds(s.suspect_thresholds())

    def show_shortcuts(self) -> None:
        from ui.shortcuts_dialog import ShortcutsDialog

        ShortcutsDialog(self).exec()

    def show_about(self) -> None:
        from ui.about_dialog import AboutDialog, about_rows

        AboutDialog(about_rows(self.status.model_label.text(), self.settings.q.fileName()), self).exec()

    def _autosave(self) -> None:
        s = self.session
        if s.runs.current is None and self.autosave.tick(s.doc.document, s.project_path, s.dirty) is not None:
            self.status.showMessage("Autosaved", 3000)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.files.maybe_save():
            event.ignore()
            return
        self.presenter.loader.stop()
        self.timeline.thumbnails.stop()
        self.session.shutdown()  # cancels a running propagation and waits for the worker thread
        self.settings.opacity, self.settings.outline = self.overlay_style.opacity, self.overlay_style.outline
        self.settings.brush_size = self.tools.brush_size
        self.settings.save_layout(self.saveGeometry(), self.saveState())
        self.settings.sync()
        event.accept()
