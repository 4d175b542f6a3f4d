"""Screenshots of the label schema (issue 17): docs/label_dialog.png (the Labels dialog) and
docs/labels_panel.png (the objects panel choosing a label, with the attribute editors).

Run under a display (tools/screenshot.sh from ../shared), e.g.
    ../shared/tools/screenshot.sh /tmp/labels_screen.png 20 .venv/bin/python docs/label_screenshots.py
No model is loaded: the masks are painted by hand, as with the brush.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import numpy as np
    from PySide6.QtCore import QSettings, QTimer

    from annotator.labels import AttributeKind, AttributeSpec, Label, LabelSchema
    from ui.app import make_application
    from ui.label_dialog import LabelDialog
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="masklet-labels-shot-"))
    window = MainWindow(AppSettings(QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)), load_model=False)
    window.resize(1500, 900)
    window.show()
    s = window.session
    s.open_video(str(ROOT.parent / "shared" / "data" / "frames" / "bedroom"))
    s.labels.set_schema(LabelSchema((
        Label(1, "person", (230, 25, 75), (
            AttributeSpec("pose", AttributeKind.CHOICE, ("standing", "sitting", "lying")),
            AttributeSpec("age", AttributeKind.NUMBER),
            AttributeSpec("occluded", AttributeKind.CHECKBOX, per_frame=True),
            AttributeSpec("truncated", AttributeKind.CHECKBOX, per_frame=True))),
        Label(2, "furniture", (0, 130, 200), (AttributeSpec("kind", AttributeKind.TEXT, default="bed"),)),
        Label(4, "lamp", (245, 130, 48)),
    )))
    video = s.video
    for name, label, (y0, y1, x0, x1) in (("bed", "furniture", (300, 520, 80, 700)), ("lamp", "lamp", (90, 260, 760, 880))):
        obj_id = s.add_object(name)
        s.labels.set_label(obj_id, label)
        before = np.zeros((video.height, video.width), bool)
        after = before.copy()
        after[y0:y1, x0:x1] = True
        s.prompts.stroke(obj_id, 0, before, after, erase=False)
    window.actions["view.color_by_label"].setChecked(True)
    dialog = LabelDialog(s, window)
    dialog.show()

    def shoot() -> None:
        dialog.grab().save(str(ROOT / "docs" / "label_dialog.png"))
        dialog.close()
        obj_id = s.add_object("person 1")
        s.labels.set_label(obj_id, "person")
        s.labels.set_frame_attribute(obj_id, 0, "occluded", True)
        QTimer.singleShot(500, finish)

    def finish() -> None:
        window.objects.table.editItem(window.objects.table.item(2, 1))
        QTimer.singleShot(500, lambda: (window.grab().save(str(ROOT / "docs" / "labels_panel.png")),
                                        s.undo_stack.setClean(), window.close(), app.quit()))

    QTimer.singleShot(1500, shoot)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
