"""Propagate > Memory policy: the selected object's policy, chosen in the window, undoable, and
passed to the engine with each run (issue 18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ui_helpers import close_window, open_window, settings_with_model, wait_shown
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    wait_shown(qtbot, w)
    yield w
    close_window(w)


def test_the_menu_sets_the_selected_objects_policy_undoably(window: MainWindow) -> None:
    s, menu = window.session, window.memory_menu
    propagate = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Propagate")
    assert menu.menu in [a.menu() for a in propagate.actions()]
    s.select_object(None)
    assert not menu.menu.isEnabled()
    a, b = s.add_object("a"), s.add_object("b")
    s.select_object(a)
    assert menu.menu.isEnabled() and menu.actions["sam2"].isChecked()
    menu.actions["samurai"].trigger()
    assert s.doc.object(a).memory == "samurai" and s.doc.object(b).memory == "sam2"
    s.select_object(b)
    assert menu.actions["sam2"].isChecked()
    s.select_object(a)
    assert menu.actions["samurai"].isChecked()
    s.undo()
    assert s.doc.object(a).memory == "sam2" and menu.actions["sam2"].isChecked()
    s.redo()
    assert s.doc.object(a).memory == "samurai"


def test_a_run_carries_each_objects_policy(window: MainWindow, monkeypatch) -> None:
    s = window.session
    a, b = s.add_object("a"), s.add_object("b")
    s.edit_object(a, memory="dam4sam")
    sent = []
    monkeypatch.setattr(s.worker, "submit", sent.append)
    monkeypatch.setattr(s, "refuse_without_model", lambda *args: False)
    s.doc.document.prompts[a] = {0: object()}
    s.doc.document.prompts[b] = {0: object()}
    from core.types import Direction

    s.runs.propagate(Direction.FORWARD)
    assert sent and sent[-1].run.memory == ((a, "dam4sam"),)
