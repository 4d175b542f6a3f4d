"""Drives the real window through a short session for docs/screenshot.png, then leaves it open.

Run under a display (tools/screenshot.sh from ../shared):
    ../shared/tools/screenshot.sh docs/screenshot.png 90 .venv/bin/python docs/screenshot_session.py
It clicks two objects, propagates them over 60 frames, brushes a correction and locks that frame.
With no official checkpoint on this machine it uses a small random SAM 2 (tests/sam2_helpers), so
the masks are that model's guesses, not real segmentations; pass --checkpoint for real ones.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from annotator.checkpoint_settings import CheckpointSettings
    from annotator.model_status import ModelState
    from core.checkpoints.runtime import ModelSelection
    from core.types import Direction
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="masklet-shot-"))
    checkpoint = args.checkpoint
    if checkpoint is None:
        from tests.ui_helpers import present_checkpoint

        checkpoint = present_checkpoint(tmp / "random.pt", seed=4)
    q = QSettings(str(tmp / "shot.ini"), QSettings.Format.IniFormat)
    CheckpointSettings(q).save(ModelSelection(checkpoint))
    w = MainWindow(settings=AppSettings(q))
    w.resize(1580, 960)
    w.move(10, 10)
    w.show()
    s = w.session

    def settle(predicate=lambda: True, timeout: float = 600.0) -> None:
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    w.open_path(str(args.video))
    settle(lambda: s.model_status.state is ModelState.READY)
    vp = w.canvas.viewport()
    for name, (x, y) in (("bed", (250, 380)), ("lamp", (700, 200))):
        obj_id = s.add_object(name, "furniture")
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(x, y).toPoint())
        settle(lambda: s.doc.mask(obj_id, 0) is not None)
    s.runs.propagate(Direction.FORWARD, None, (0, 59))
    settle(lambda: s.runs.current is None)
    s.set_frame(30)
    s.select_object(1)
    w.tools.set_tool(w.tools.tool.BRUSH)
    w.tools.set_brush_size(40)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(120, 470).toPoint())
    for x in range(140, 420, 20):
        QTest.mouseMove(vp, w.canvas.view_pos(x, 470).toPoint())
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(420, 470).toPoint())
    s.set_locked(1, [30], True)
    w.timeline.selection = (0, 59)
    w.timeline.update()
    w.actions["track.range"].setEnabled(True)
    settle()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
