"""Drives the real window to the zoomed timeline with a cell's tooltip, the legend, a selected range,
lock and review marks and a note (docs/timeline_zoomed.png), then leaves it open.

Run under a display (tools/screenshot.sh from ../shared), one picture a run:
    ../shared/tools/screenshot.sh docs/timeline_zoomed.png 25 .venv/bin/python docs/timeline_screenshot.py
    ../shared/tools/screenshot.sh docs/review_mode.png 25 .venv/bin/python docs/timeline_screenshot.py review
    ../shared/tools/screenshot.sh /tmp/preferences.png 25 .venv/bin/python docs/timeline_screenshot.py preferences
No model is loaded: the masks are made here (rectangles with made-up SAM 2 scores) and put in the
document as a propagation would, so the timeline shows every state it can.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import numpy as np
    from PySide6.QtCore import QPoint, QRect, QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QToolTip

    from annotator.document import MaskEntry, MaskSource
    from core.masks import encode
    from ui.main_window import MainWindow
    from ui.settings import AppSettings
    from ui.timeline import LANES_TOP
    from ui.timeline_paint import LANE_H

    app = QApplication(sys.argv)
    home = Path(tempfile.mkdtemp())
    w = MainWindow(settings=AppSettings(QSettings(str(home / "s.ini"), QSettings.Format.IniFormat)), load_model=False)
    w.resize(1600, 960)
    w.show()
    video = ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4"
    assert w.open_path(str(video))
    s = w.session
    h, wd = s.video.height, s.video.width
    rng = np.random.default_rng(0)
    for k, name in enumerate(("cat", "lamp", "person")):
        obj = s.add_object(name)
        masks = {}
        for f in range(s.video.frame_count):
            if k == 2 and 120 <= f < 135:
                entry = MaskEntry(encode(np.zeros((h, wd), bool)), MaskSource.PROPAGATED, object_score=-3.0, iou=0.6)
            else:
                m = np.zeros((h, wd), bool)
                grow = 3 if (k == 1 and 70 <= f < 74) else 1
                m[100 + 40 * k: 160 + 40 * k, 200 + f: 260 + f + 40 * grow] = True
                iou = float(np.clip(0.85 + 0.1 * np.sin(f / 9 + k) + rng.normal(0, 0.03), 0, 1))
                if k == 0 and f in (64, 65, 88):
                    iou = 0.38
                entry = MaskEntry(encode(m), MaskSource.PROPAGATED, object_score=4.0, iou=iou)
            masks[(obj, f)] = entry
        s.doc.set_masks(masks)
        s.doc.set_mask(obj, 10 + 30 * k, MaskEntry(masks[(obj, 10 + 30 * k)].rle, MaskSource.PROMPTED, object_score=5.0, iou=0.97))
        s.doc.set_mask(obj, 80, MaskEntry(masks[(obj, 80)].rle, MaskSource.EDITED))
    w.review.accept([1, 2, 3], 40, 60)
    s.set_locked(1, list(range(76, 84)), True)
    w.review.set_note(1, 66, "tail cut off by the door")
    panel = w.findChild(object, "timelinePanel")
    panel.legend_button.click()
    tl = w.timeline
    tl.set_selection(90, 104)
    s.set_frame(80)
    tl.set_px_per_frame(14.0)
    s.select_object(1)

    def show_tooltip() -> None:
        pos = QPoint(int(tl.x_of(64.5)), LANES_TOP + LANE_H // 2)
        QToolTip.showText(tl.mapToGlobal(pos), tl.tooltip_at(pos), tl, QRect(), 60000)

    stage = sys.argv[1] if len(sys.argv) > 1 else "tooltip"
    if stage == "tooltip":
        QTimer.singleShot(8000, show_tooltip)
    elif stage == "review":  # the Review dock on frame 66, where the cat has a note
        panel.legend_button.click()
        w.actions["review.mode"].trigger()
        s.set_frame(66)
    else:
        from ui.preferences_dialog import PreferencesDialog

        dialog = PreferencesDialog(w.settings, 0.45, True, 20, w)
        QTimer.singleShot(3000, dialog.show)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
