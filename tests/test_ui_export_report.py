"""The export dialog's report of what a format loses (issue 16): per object for DAVIS / MOTS PNG with
a switch to per-object PNGs, YOLO's polygon loss, and the options it passes on (all frames, CVAT names)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from core.masks import encode
from tests.ui_helpers import LEFT
from ui.dialog_buttons import ok_button
from ui.export_dialog import ExportDialog

pytestmark = pytest.mark.gui


def overlapping() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("", 40, 20, 12, 24.0))
    for name, x in (("front", 4), ("behind", 10)):
        obj = doc.add_object(name)
        for frame in (0, 4, 8):
            m = np.zeros((20, 40), bool)
            m[2:14, x:x + 12] = True
            doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROPAGATED))
    return doc


def settled(qtbot, dialog: ExportDialog) -> str:
    qtbot.waitUntil(lambda: dialog.report._job is None, timeout=10000)
    return dialog.report.text.text() if dialog.report.text.isVisibleTo(dialog) else ""


def test_davis_shows_each_objects_loss_and_offers_per_object_pngs(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog(overlapping(), str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    assert settled(qtbot, dialog) == ""  # COCO keeps overlaps: nothing to say
    dialog.set_format("davis")
    text = settled(qtbot, dialog)
    assert 'object 2 "behind": loses 216 of 432 pixels (50.0 %)' in text and "front" not in text
    assert dialog.report.switch.isVisibleTo(dialog)
    qtbot.mouseClick(dialog.report.switch, LEFT)
    assert dialog.format.currentData() == "png" and settled(qtbot, dialog) == ""
    dialog.set_format("yolo")
    assert settled(qtbot, dialog) == ""  # rectangles: the polygons redraw them exactly


def test_yolo_says_what_its_polygons_get_wrong(qtbot, tmp_path: Path) -> None:
    doc = AnnotationDocument(VideoRef("", 40, 30, 2, 24.0))
    obj = doc.add_object("ring")
    yy, xx = np.mgrid[0:30, 0:40]
    ring = ((xx - 20) ** 2 + (yy - 15) ** 2 <= 81) & ((xx - 20) ** 2 + (yy - 15) ** 2 > 9)
    doc.set_mask(obj.obj_id, 0, MaskEntry(encode(ring), MaskSource.PROPAGATED))
    dialog = ExportDialog(doc, str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("yolo")
    text = settled(qtbot, dialog)
    assert "polygons" in text and 'object 1 "ring"' in text and not dialog.report.switch.isVisibleTo(dialog)


def test_frame_names_and_all_frames_reach_the_export(qtbot, tmp_path: Path) -> None:
    dialog = ExportDialog(overlapping(), str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.set_format("davis")
    assert not dialog.frame_names.isEnabled()
    dialog.set_format("coco")
    assert dialog.frame_names.isEnabled()
    dialog.frame_names.setCurrentIndex(dialog.frame_names.findData("cvat-video"))
    out = tmp_path / "c.json"
    dialog.path.setText(str(out))
    qtbot.mouseClick(ok_button(dialog.buttons), LEFT)
    qtbot.waitUntil(lambda: out.exists(), timeout=10000)
    names = [i["file_name"] for i in json.loads(out.read_text())["images"]]
    assert names == ["frame_000000.jpg", "frame_000004.jpg", "frame_000008.jpg"]
    dialog.all_frames.setChecked(True)
    assert dialog.options().all_frames and dialog.options().frame_names == "cvat-video"
