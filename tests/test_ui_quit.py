"""Quitting with unsaved work and Discard ends the process cleanly: exit code 0, nothing on stderr
(a real window, a real model worker, a video open and an object added), in a fresh process that
ends as ``masklet`` does (main.end_process). bench/quit_latency.py times the same scenario."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[1]
# Qt's offscreen platform (the tests' headless display) says this for every window; a desktop does not
OFFSCREEN_NOTE = "This plugin does not support propagateSizeHints()"

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox
    from annotator.model_status import ModelState
    from tests.ui_helpers import present_checkpoint, settings_with_model
    from ui.app import make_application
    from ui.main_window import MainWindow

    home, video = Path(sys.argv[1]), sys.argv[2]
    app = make_application()
    window = MainWindow(settings=settings_with_model(home, present_checkpoint(home / "random.pt")))
    window.show()
    window.open_path(video)
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard)

    def step():
        if window.session.model_status.state is not ModelState.READY:
            QTimer.singleShot(20, step)
            return
        window.session.add_object()  # unsaved work: quitting asks, the answer is Discard
        window.actions["file.quit"].trigger()

    QTimer.singleShot(0, step)
    import main
    main.end_process(app.exec())  # as masklet's gui_main ends
""")


@pytest.mark.slow  # a fresh process loads torch, a model and a video
def test_quit_with_discard_prints_nothing_and_exits_cleanly(tmp_path: Path, shared_data: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path), str(shared_data / "videos" / "bedroom.mp4")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)},
    )
    errors = [line for line in result.stderr.splitlines() if line.strip() and OFFSCREEN_NOTE not in line]
    assert result.returncode == 0, result.stderr[-2000:]
    assert errors == []
