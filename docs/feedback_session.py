"""Screenshots of the waits an annotator sees (issue 15): a click pending on a frame being encoded,
propagation with its progress, the cancel state, and the cancelled result.

Run under a display; it saves each moment as a PNG of the whole screen (as a person sees it):
    ../shared/tools/screenshot.sh /tmp/shots/end.png 240 .venv/bin/python docs/feedback_session.py /tmp/shots
SAM 2.1 tiny at its real size with random weights (no official checkpoint on our build machines),
so the waits are the real ones on this CPU and the masks are that model's guesses.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/masklet-shots")
    out.mkdir(parents=True, exist_ok=True)
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtTest import QTest

    from annotator.checkpoint_settings import CheckpointSettings
    from annotator.model_status import ModelState
    from core.checkpoints.runtime import ModelSelection
    from core.sam2.config import config_for
    from core.types import Direction
    from tests.sam2_helpers import save_random_checkpoint
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="masklet-feedback-"))
    checkpoint = save_random_checkpoint(tmp / "tiny.pt", config_for("2.1", "tiny"))
    q = QSettings(str(tmp / "shot.ini"), QSettings.Format.IniFormat)
    CheckpointSettings(q).save(ModelSelection(checkpoint))
    w = MainWindow(settings=AppSettings(q))
    w.resize(1580, 960)
    w.move(10, 10)
    w.show()
    w.activateWindow()  # the window's shortcuts (Esc) reach it as they would a person's
    w.canvas.setFocus()
    s = w.session

    def settle(predicate=lambda: True, timeout: float = 900.0, at_least: float = 0.0) -> None:
        end, start = time.monotonic() + timeout, time.monotonic()
        while (not predicate() or time.monotonic() - start < at_least) and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        app.processEvents()

    def shot(name: str) -> None:
        settle(at_least=0.3)  # let the window paint
        app.primaryScreen().grabWindow(0).save(str(out / f"{name}.png"))
        print(out / f"{name}.png", flush=True)

    w.open_path(str(ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4"))
    settle(lambda: s.model_status.state is ModelState.READY and not s.model_status.busy)
    s.add_object("girl", "person")
    s.set_frame(120)  # a frame whose image features are not computed yet
    vp = w.canvas.viewport()
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(470, 250).toPoint())
    shot("pending_click")
    settle(lambda: s.doc.mask(1, 120) is not None)
    shot("click_done")
    s.runs.propagate(Direction.FORWARD, None, (120, 199))
    settle(lambda: s.runs.current is not None and s.runs.current.frames_done >= 3)
    shot("propagating")
    QTest.keyClick(w.canvas, Qt.Key.Key_Escape)
    shot("cancelling")
    settle(lambda: s.runs.current is None)
    shot("cancelled")
    s.undo_stack.setClean()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
