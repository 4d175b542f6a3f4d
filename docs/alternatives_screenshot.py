"""Screenshot of the chooser of SAM 2's three masks after a click: docs/alternatives.png.

Run under a display (tools/screenshot.sh from ../shared), e.g.
    ../shared/tools/screenshot.sh /tmp/alternatives_screen.png 60 .venv/bin/python docs/alternatives_screenshot.py
With no official checkpoint it uses a small random SAM 2 whose objects are present (tests/ui_helpers), so
the three masks are that model's guesses, not real segmentations; pass --checkpoint for real ones.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path)
    args = parser.parse_args()
    from PySide6.QtCore import QSettings, QTimer

    from annotator.checkpoint_settings import CheckpointSettings
    from annotator.model_status import ModelState
    from core.checkpoints.runtime import ModelSelection
    from tests.ui_helpers import present_checkpoint
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="masklet-alt-shot-"))
    checkpoint = args.checkpoint or present_checkpoint(tmp / "random.pt")
    q = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
    CheckpointSettings(q).save(ModelSelection(checkpoint))
    window = MainWindow(AppSettings(q))
    window.resize(1500, 900)
    window.show()
    s = window.session
    s.open_video(str(ROOT.parent / "shared" / "data" / "frames" / "bedroom"))

    def click() -> None:
        if s.model_status.state is not ModelState.READY:
            QTimer.singleShot(300, click)
            return
        s.add_object("bed")
        s.prompts.click(400, 420, positive=True)
        QTimer.singleShot(300, wait)

    def wait() -> None:
        if s.alternatives.available() is None:
            QTimer.singleShot(300, wait)
            return
        s.alternatives.cycle(1)
        QTimer.singleShot(800, shoot)

    def shoot() -> None:
        window.grab().save(str(ROOT / "docs" / "alternatives.png"))
        s.undo_stack.setClean()
        window.close()
        app.quit()

    QTimer.singleShot(500, click)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
