"""Issue 17 (labels, context menus, track fixes) through the real window: the label dialog, choosing a
label with completion, attribute values per object and per frame, colouring by label, the canvas's and
the objects list's context menus, merge / split / swap, each one undo step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox

from annotator.labels import AttributeKind, AttributeSpec, Label, LabelSchema, read_labels, write_labels
from core.video.inputs import MaskInput, RemoveInput
from tests.ui_helpers import close_window, open_window, overlay_alpha, settings_with_model, view_point, wait_shown
from ui.label_dialog import COL_PER_FRAME, COL_TYPE, LabelDialog
from ui.main_window import MainWindow
from ui.tools import Tool

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    wait_shown(qtbot, w)
    yield w
    close_window(w)


def settle(qtbot) -> None:
    done: list[bool] = []
    QTimer.singleShot(0, lambda: done.append(True))
    qtbot.waitUntil(lambda: bool(done), timeout=60000)


def paint(w: MainWindow, obj_id: int, frame: int, x0: int, x1: int) -> None:
    """A hand-painted mask (no model needed): rows 100..200, columns x0..x1."""
    video = w.session.video
    before = np.zeros((video.height, video.width), bool)
    after = before.copy()
    after[100:200, x0:x1] = True
    assert w.session.prompts.stroke(obj_id, frame, before, after, erase=False)


PERSON = Label(1, "person", (255, 0, 0), (AttributeSpec("pose", AttributeKind.CHOICE, ("standing", "sitting")),
                                          AttributeSpec("occluded", AttributeKind.CHECKBOX, per_frame=True)))


def test_the_label_dialog_edits_the_schema_in_one_undo_step(qtbot, window: MainWindow, monkeypatch) -> None:
    w = window
    s = w.session
    a = s.add_object("a")
    s.labels.set_label(a, "car")  # the schema is empty: any text, no label added
    assert s.doc.labels.names() == []
    dialog = LabelDialog(s, w)
    qtbot.addWidget(dialog)
    dialog.add_label()
    dialog.name.setText("car")
    dialog.name.editingFinished.emit()
    dialog.add_attribute()
    dialog.attributes.cellWidget(0, COL_TYPE).setCurrentText("checkbox")
    dialog.attributes.cellWidget(0, COL_PER_FRAME).setChecked(True)
    dialog.set_color((0, 200, 0))
    dialog.add_label()
    dialog.name.setText("CAR")  # a second "car": names are compared without case
    dialog.name.editingFinished.emit()
    assert "listed twice" in dialog.error.text()
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.name.setText("truck")
    dialog.name.editingFinished.emit()
    assert dialog.error.text() == ""
    steps = s.undo_stack.count()
    dialog.accept()
    schema = s.doc.labels
    assert schema.names() == ["car", "truck"] and schema.find("car").color == (0, 200, 0)
    assert schema.find("car").attributes == (AttributeSpec("attribute 1", AttributeKind.CHECKBOX, per_frame=True),)
    assert s.undo_stack.count() == steps + 1
    # renaming a label renames it everywhere; deleting one in use asks
    dialog = LabelDialog(s, w)
    qtbot.addWidget(dialog)
    dialog.name.setText("auto")
    dialog.name.editingFinished.emit()
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", lambda *args, **kw: asked.append(args[2]) or QMessageBox.StandardButton.Cancel)
    dialog.delete_label()
    assert asked and "1 object(s)" in asked[0] and dialog.schema.find("auto") is not None
    dialog.accept()
    assert s.doc.object(a).category == "auto"
    s.undo()
    assert s.doc.object(a).category == "car" and s.doc.labels.names() == ["car", "truck"]
    s.undo()
    assert not s.doc.labels


def test_objects_take_labels_with_completion_and_their_attributes(qtbot, window: MainWindow) -> None:
    w = window
    s = w.session
    s.labels.set_schema(LabelSchema((PERSON,)))
    a = s.add_object("a")
    table = w.objects.table
    table.editItem(table.item(0, 1))
    editor = table.findChild(QComboBox, "labelEditor")
    assert editor is not None and [editor.itemText(i) for i in range(editor.count())] == ["person"]
    assert editor.completer().caseSensitivity() == Qt.CaseSensitivity.CaseInsensitive
    editor.setCurrentText("PERSON")
    table.commitData(editor)
    assert s.doc.object(a).category == "person"  # the schema's spelling
    assert s.doc.object(a).attributes == {"pose": "standing"}  # the label's defaults
    settle(qtbot)
    panel = w.objects.attributes
    pose, occluded = panel.editors[("object", "pose")], panel.editors[("frame", "occluded")]
    pose.setCurrentText("sitting")
    occluded.setChecked(True)
    settle(qtbot)
    record = s.doc.object(a)
    assert record.attributes["pose"] == "sitting" and record.frame_attributes == {0: {"occluded": True}}
    s.set_frame(5)
    settle(qtbot)
    assert not w.objects.attributes.editors[("frame", "occluded")].isChecked()  # per frame
    s.undo()
    assert s.doc.object(a).frame_attributes == {}
    # a new name becomes a label in the same step
    steps = s.undo_stack.index()
    assert s.labels.set_label(a, "dog")
    assert s.doc.labels.names() == ["person", "dog"] and s.undo_stack.index() == steps + 1
    s.undo()
    assert s.doc.labels.names() == ["person"] and s.doc.object(a).category == "person"


def test_colour_by_label_paints_masks_in_the_label_colour(qtbot, window: MainWindow) -> None:
    w = window
    s = w.session
    s.labels.set_schema(LabelSchema((PERSON,)))
    a = s.add_object("a")
    s.labels.set_label(a, "person")
    paint(w, a, 0, 100, 200)
    settle(qtbot)

    def colour() -> tuple[int, int, int]:
        image = w.canvas.overlay_image()
        return image.pixelColor(150, 150).getRgb()[:3]

    near = lambda got, want: max(abs(g - w_) for g, w_ in zip(got, want)) <= 2  # premultiplied alpha rounds
    assert near(colour(), s.doc.object(a).color)
    w.actions["view.color_by_label"].trigger()
    settle(qtbot)
    assert near(colour(), (255, 0, 0))
    assert w.objects.table.item(0, 0).icon().pixmap(14, 14).toImage().pixelColor(7, 7).getRgb()[:3] == (255, 0, 0)


def _menu_action(menu, name: str):
    found = [a for a in menu.actions() if a.objectName() == name]
    assert found, [a.objectName() for a in menu.actions()]
    return found[0]


def test_the_canvas_menu_acts_on_the_object_under_the_cursor(qtbot, window: MainWindow) -> None:
    w = window
    s = w.session
    a, b = s.add_object("a"), s.add_object("b")
    paint(w, a, 0, 100, 200)
    paint(w, b, 0, 400, 500)
    settle(qtbot)
    w.tools.set_tool(Tool.SELECT)
    pos = view_point(w, 450, 150)
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, w.canvas.viewport().mapToGlobal(pos))
    QApplication.sendEvent(w.canvas.viewport(), event)
    menu = w.label_actions.last_menu
    assert menu is not None and menu.actions()[0].text().startswith("b")
    _menu_action(menu, "menu.lock").trigger()
    assert s.doc.mask(b, 0).locked and not s.doc.mask(a, 0).locked
    menu.close()
    # with the point tool a plain right click stays a negative click: no menu
    w.tools.set_tool(Tool.POINT)
    w.label_actions.last_menu = None
    QApplication.sendEvent(w.canvas.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, pos))
    assert w.label_actions.last_menu is None
    menu = w.objects.menu.build(a)
    _menu_action(menu, "menu.clear_frame").trigger()
    assert s.doc.mask(a, 0) is None
    s.undo()
    assert s.doc.mask(a, 0) is not None
    _menu_action(menu, "menu.hide").trigger()
    assert a in w.overlay_style.hidden


def test_merge_split_and_swap_are_undoable_and_feed_the_engine(qtbot, window: MainWindow) -> None:
    w = window
    s = w.session
    a, b = s.add_object("a"), s.add_object("b")
    for f in range(0, 4):
        paint(w, a, f, 100, 200)
    for f in range(3, 6):
        paint(w, b, f, 400, 500)
    log_before = list(s.doc.document.inputs)
    masks_before = {o: dict(m) for o, m in s.doc.document.masks.items()}
    assert s.tracks.merge(a, b, prefer=b)
    doc = s.doc.document
    assert b not in doc.objects and sorted(doc.masks[a]) == list(range(6))
    assert doc.masks[a][3] is masks_before[b][3]  # b's mask kept where both had one
    added = doc.inputs[len(log_before):]
    assert isinstance(added[0], RemoveInput) and all(isinstance(i, (RemoveInput, MaskInput)) for i in added)
    assert w.objects.table.rowCount() == 1
    s.undo()
    assert doc.inputs == log_before and {o: dict(m) for o, m in doc.masks.items() if o in doc.objects} == masks_before
    new = s.tracks.split(a, 2)
    assert sorted(doc.masks[a]) == [0, 1] and sorted(doc.masks[new]) == [2, 3] and s.current_obj == new
    s.undo()
    assert new not in doc.objects and sorted(doc.masks[a]) == [0, 1, 2, 3]
    assert s.tracks.swap(a, b, 3)
    assert sorted(doc.masks[a]) == [0, 1, 2, 3, 4, 5] and doc.masks[a][4] is masks_before[b][4]
    assert sorted(doc.masks[b]) == [3]
    s.undo()
    assert {o: dict(m) for o, m in doc.masks.items() if o in doc.objects} == masks_before
    assert not s.tracks.split(a, 0)  # nothing before frame 0: refused with a message, nothing changed
    assert doc.inputs == log_before


def test_labels_are_imported_and_exported_as_json(qtbot, window: MainWindow, tmp_path: Path) -> None:
    w = window
    s = w.session
    s.labels.set_schema(LabelSchema((Label(1, "person"), Label(2, "kite"))))
    a, b = s.add_object("a"), s.add_object("b")
    s.labels.set_label(a, "person")
    s.labels.set_label(b, "kite")
    write_labels(LabelSchema((Label(5, "Person", (9, 9, 9)), Label(6, "car"))), tmp_path / "team.json")
    dialog = LabelDialog(s, w)
    qtbot.addWidget(dialog)
    assert dialog.import_path(str(tmp_path / "team.json"))
    dialog.accept()
    # the file's labels with its ids; "kite", in use and not in the file, kept with a new id
    assert s.doc.labels.category_ids() == {"Person": 5, "car": 6, "kite": 7}
    assert s.doc.object(a).category == "Person" and s.doc.object(b).category == "kite"
    s.labels.export_file(tmp_path / "out.json")
    assert read_labels(tmp_path / "out.json") == s.doc.labels
    (tmp_path / "broken.json").write_text("[")
    dialog = LabelDialog(s, w)
    qtbot.addWidget(dialog)
    assert not dialog.import_path(str(tmp_path / "broken.json"))
    assert "cannot read the labels file broken.json" in dialog.error.text()
    s.undo()
    assert s.doc.object(a).category == "person" and s.doc.labels.names() == ["person", "kite"]
