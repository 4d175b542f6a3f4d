"""Autosave recovery through the real window: opening a project with a newer autosave asks, and the
answer decides whether the autosaved work comes back; declining leaves the project file as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox

from annotator.autosave import autosave, autosave_path
from tests.ui_helpers import close_window, open_window, settings_with_model

pytestmark = pytest.mark.gui


def _save_new_project(w, tmp_path: Path, shared_data: Path, monkeypatch) -> Path:
    """Open the bedroom frames, add the object "saved one" and save through File > Save."""
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    w.session.add_object("saved one")
    project = tmp_path / "work.masklet"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    w.actions["file.save"].trigger()  # File > Save; the dialog answers ``project``
    assert project.is_file() and not w.session.dirty
    return project


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No])
def test_opening_a_project_offers_its_newer_autosave(qtbot, tmp_path: Path, shared_data: Path, monkeypatch,
                                                     answer: QMessageBox.StandardButton) -> None:
    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    try:
        s = w.session
        project = _save_new_project(w, tmp_path, shared_data, monkeypatch)
        saved_bytes = project.read_bytes()
        s.add_object("autosaved extra")
        autosave(s.doc.document, project)
        os.utime(project, ns=(1_000_000_000_000, 1_000_000_000_000))
        os.utime(autosave_path(project), ns=(2_000_000_000_000, 2_000_000_000_000))  # newer than the project
        s.undo_stack.setClean()  # the extra object lives only in the autosave now: reopening must not ask to save

        asked: list[str] = []

        def question(parent, title, text, *args, **kwargs):
            asked.append(title)
            return answer

        monkeypatch.setattr(QMessageBox, "question", question)
        s.add_object("thrown away")  # the open replaces this document entirely
        s.undo_stack.setClean()
        assert w.open_path(str(project))

        assert asked == ["Recover unsaved work?"]
        names = [record.name for record in s.doc.objects()]
        if answer == QMessageBox.StandardButton.Yes:
            assert names == ["saved one", "autosaved extra"]
            assert s.dirty  # the recovered work is not in the project file yet
        else:
            assert names == ["saved one"]
            assert not s.dirty
        assert s.project_path == str(project)
        assert project.read_bytes() == saved_bytes  # opening never writes the project
        assert len(s.frames) == 24 and s.video.path == str(shared_data / "frames" / "bedroom")
    finally:
        close_window(w)


def test_no_question_without_a_newer_autosave(qtbot, tmp_path: Path, shared_data: Path, monkeypatch) -> None:
    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    try:
        s = w.session
        project = _save_new_project(w, tmp_path, shared_data, monkeypatch)
        s.add_object("stale extra")
        autosave(s.doc.document, project)
        os.utime(autosave_path(project), ns=(1_000_000_000_000, 1_000_000_000_000))  # older than the project
        s.undo_stack.setClean()
        asked: list[str] = []
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[1]) or QMessageBox.StandardButton.Yes)
        assert w.open_path(str(project))
        assert asked == [] and [r.name for r in s.doc.objects()] == ["saved one"]
    finally:
        close_window(w)
