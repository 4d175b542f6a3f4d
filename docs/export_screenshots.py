"""Drives the real window to the export dialog (docs/export_dialog.png), the notice after an
export (docs/export_done.png) or the refusal of a folder holding other files, then leaves it open.

Run under a display (tools/screenshot.sh from ../shared), one picture a run:
    ../shared/tools/screenshot.sh docs/export_dialog.png 20 .venv/bin/python docs/export_screenshots.py dialog
    ../shared/tools/screenshot.sh docs/export_done.png 20 .venv/bin/python docs/export_screenshots.py done
    ../shared/tools/screenshot.sh /tmp/export_refused.png 20 .venv/bin/python docs/export_screenshots.py refused
No model is loaded: the one object is painted with the brush, which needs none.
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
    parser.add_argument("stage", choices=["dialog", "done", "refused"])
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4")
    args = parser.parse_args()

    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from ui.app import make_application
    from ui.export_dialog import ExportDialog
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    work = Path(tempfile.mkdtemp(prefix="masklet-export-"))
    w = MainWindow(settings=AppSettings(QSettings(str(work / "shot.ini"), QSettings.Format.IniFormat)),
                   load_model=False)
    w.resize(1580, 960)
    w.move(10, 10)
    w.show()
    s = w.session

    def settle(predicate=lambda: True, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not predicate() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    w.open_path(str(args.video))
    settle(lambda: w.presenter.shown_frame == s.frame)
    s.add_object("bed", "furniture")
    w.tools.set_tool(w.tools.tool.BRUSH)
    w.tools.set_brush_size(60)
    vp = w.canvas.viewport()
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(150, 420).toPoint())
    for x in range(170, 620, 20):
        QTest.mouseMove(vp, w.canvas.view_pos(x, 420 - (x - 150) // 8).toPoint())
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(620, 360).toPoint())
    s.save(str(work / "bedroom.masklet"))
    if args.stage == "refused":
        (work / "Desktop").mkdir()
        (work / "Desktop" / "notes.txt").write_text("my notes")
    dialog = ExportDialog(s.doc.document, str(work), w)
    dialog.show()
    if args.stage == "refused":
        dialog.set_format("davis")
        dialog.path.setText(str(work / "Desktop"))
        QTimer.singleShot(500, dialog.start)  # the warning is modal: let the event loop run it
    elif args.stage == "done":
        dialog.start()
        settle(lambda: dialog.job is None)
    settle()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
