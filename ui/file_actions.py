"""Opening and saving: videos, frame folders and projects from the menu, recent files, drag and drop,
the command line; asking before unsaved work is dropped; offering autosave recovery; finding a
project's moved video. Errors reach the user as one line in a message box, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from annotator.project import PROJECT_SUFFIX, VideoMissingError
from annotator.session_controller import SessionController
from core.media import VIDEO_EXTENSIONS
from ui.settings import AppSettings

VIDEO_FILTER = f"Videos ({' '.join('*' + e for e in VIDEO_EXTENSIONS)});;All files (*)"
PROJECT_FILTER = f"Masklet projects (*{PROJECT_SUFFIX});;All files (*)"
OPENABLE_ERRORS = (OSError, ValueError, RuntimeError)  # FrameSourceError and ProjectError are ValueErrors or OSErrors


def is_project(path: str) -> bool:
    return path.endswith(PROJECT_SUFFIX)


class FileActions(QObject):
    """Owns the File menu's open/save behaviour for one window."""

    def __init__(self, window: QWidget, session: SessionController, settings: AppSettings,
                 actions: dict[str, QAction], recent_menu: QMenu, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window, self.session, self.settings = window, session, settings
        self.recent_menu = recent_menu
        actions["file.open_video"].triggered.connect(self.open_video_dialog)
        actions["file.open_folder"].triggered.connect(self.open_folder_dialog)
        actions["file.open_project"].triggered.connect(self.open_project_dialog)
        actions["file.save"].triggered.connect(self.save)
        actions["file.save_as"].triggered.connect(self.save_as)
        self.rebuild_recent()

    # -- opening ---------------------------------------------------------------------------
    def open_video_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open video", "", VIDEO_FILTER)
        if path:
            self.open_path(path)

    def open_folder_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self.window, "Open a folder of frames")
        if path:
            self.open_path(path)

    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.window, "Open project", "", PROJECT_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str) -> bool:
        """Open a video file, a frame folder or a project, after offering to save unsaved work."""
        if not os.path.exists(path):
            self._error(f"{path} does not exist")
            return False
        if not self.maybe_save():
            return False
        try:
            if is_project(path):
                self._open_project(path)
            else:
                self.session.open_video(path)
        except VideoMissingError:
            return False  # the user declined to locate it
        except OPENABLE_ERRORS as exc:
            self._error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return False
        self.settings.add_recent(os.path.abspath(path))
        self.rebuild_recent()
        return True

    def _open_project(self, path: str) -> None:
        from annotator.autosave import recovery_available

        recover = False
        if recovery_available(path):
            answer = QMessageBox.question(
                self.window, "Recover unsaved work?",
                f"{Path(path).name} has a newer autosave. Recover the work it holds?")
            recover = answer == QMessageBox.StandardButton.Yes
        try:
            self.session.open_project(path, recover=recover)
        except VideoMissingError as missing:
            QMessageBox.information(self.window, "Video moved",
                                    f"The video of this project is not at {missing.path}. Please locate it.")
            video, _ = QFileDialog.getOpenFileName(self.window, "Locate the project's video", "", VIDEO_FILTER)
            if not video:
                raise
            self.session.open_project(path, video_path=video, recover=recover)

    # -- saving ----------------------------------------------------------------------------
    def save(self) -> bool:
        if self.session.project_path is None:
            return self.save_as()
        return self._save_to(self.session.project_path)

    def save_as(self) -> bool:
        if self.session.video is None:
            return False
        suggestion = Path(self.session.video.path).with_suffix(PROJECT_SUFFIX)
        path, _ = QFileDialog.getSaveFileName(self.window, "Save project", str(suggestion), PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self._save_to(path)

    def _save_to(self, path: str) -> bool:
        try:
            saved = self.session.save(path)
        except OPENABLE_ERRORS as exc:
            self._error(str(exc).splitlines()[0])
            return False
        self.settings.add_recent(saved)
        self.rebuild_recent()
        self.session.message.emit(f"Saved {saved}")
        return True

    def maybe_save(self) -> bool:
        """Ask what to do with unsaved changes; False when the user cancels."""
        if not self.session.dirty:
            return True
        answer = QMessageBox.question(
            self.window, "Unsaved changes", "The annotation has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    # -- recent files ----------------------------------------------------------------------
    def rebuild_recent(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for path in files:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.open_path(p))
        if files:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear recent files", self._clear_recent)
        self.recent_menu.setEnabled(bool(files))

    def _clear_recent(self) -> None:
        self.settings.clear_recent()
        self.rebuild_recent()

    def _error(self, text: str) -> None:
        self.session.message.emit(f"Error: {text}")
        QMessageBox.warning(self.window, "Masklet", text)
