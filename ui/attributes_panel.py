"""The selected object's attribute values: those of its label per object, and the per-frame ones
(occluded, truncated, ...) on the frame on screen. Each change is one undo step (annotator.labels_session)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QVBoxLayout, QWidget,
)

from annotator.labels import AttributeKind, AttributeSpec, LabelError
from annotator.session_controller import SessionController


class AttributesPanel(QWidget):
    def __init__(self, session: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("attributesPanel")
        self.session = session
        self.object_box = QGroupBox("Attributes")
        self.frame_box = QGroupBox("On this frame")
        self.object_form, self.frame_form = QFormLayout(self.object_box), QFormLayout(self.frame_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.object_box)
        layout.addWidget(self.frame_box)
        self.editors: dict[tuple[str, str], QWidget] = {}  # ("object" | "frame", name) -> its editor
        # rebuilt after the event that changed things, never inside an editor's own signal
        self._later = QTimer(self)
        self._later.setSingleShot(True)
        self._later.setInterval(0)
        self._later.timeout.connect(self.rebuild)
        doc = session.doc
        for signal in (doc.objectsChanged, doc.labelsChanged, doc.documentReset):
            signal.connect(self._later.start)
        session.currentObjectChanged.connect(self._schedule)
        session.frameChanged.connect(self._schedule)
        self.rebuild()

    def _schedule(self, *_: object) -> None:
        self._later.start()

    def rebuild(self) -> None:
        for form in (self.object_form, self.frame_form):
            while form.rowCount():
                form.removeRow(0)
        self.editors.clear()
        s = self.session
        obj_id = s.current_obj
        label = None
        if obj_id is not None and s.doc.has_object(obj_id):
            label = s.labels.schema.find(s.doc.object(obj_id).category)
        if label is None:
            self.object_box.setVisible(obj_id is not None and bool(s.labels.schema))
            self.object_form.addRow(QLabel("No label from the list: choose one to get its attributes."))
            self.frame_box.setVisible(False)
            return
        record = s.doc.object(obj_id)
        self.object_box.setTitle(f"Attributes of {record.name} ({label.name})")
        self.frame_box.setTitle(f"On frame {s.frame}")
        for spec in label.object_attributes():
            value = record.attributes.get(spec.name, spec.initial())
            self._add(self.object_form, "object", spec, value)
        for spec in label.frame_attributes():
            self._add(self.frame_form, "frame", spec, s.labels.frame_value(obj_id, s.frame, spec.name))
        self.object_box.setVisible(bool(label.object_attributes()))
        self.frame_box.setVisible(bool(label.frame_attributes()))

    def _add(self, form: QFormLayout, scope: str, spec: AttributeSpec, value: object) -> None:
        editor: QWidget
        if spec.kind is AttributeKind.CHECKBOX:
            editor = QCheckBox()
            editor.setChecked(bool(value))
            editor.toggled.connect(lambda on: self._set(scope, spec.name, on))
        elif spec.kind is AttributeKind.CHOICE:
            editor = QComboBox()
            editor.addItems(list(spec.options))
            editor.setCurrentText(str(value))
            editor.currentTextChanged.connect(lambda text: self._set(scope, spec.name, text))
        elif spec.kind is AttributeKind.NUMBER:
            editor = QDoubleSpinBox()
            editor.setRange(-1e9, 1e9)
            editor.setDecimals(3)
            editor.setValue(float(value) if isinstance(value, (int, float)) else 0.0)
            editor.editingFinished.connect(lambda e=editor: self._set(scope, spec.name, e.value()))
        else:
            editor = QLineEdit(str(value))
            editor.editingFinished.connect(lambda e=editor: self._set(scope, spec.name, e.text()))
        editor.setObjectName(f"attr.{scope}.{spec.name}")
        self.editors[(scope, spec.name)] = editor
        form.addRow(spec.name, editor)

    def _set(self, scope: str, name: str, value: object) -> None:
        s = self.session
        obj_id = s.current_obj
        if obj_id is None:
            return
        try:
            if scope == "object":
                s.labels.set_attribute(obj_id, name, value)
            else:
                s.labels.set_frame_attribute(obj_id, s.frame, name, value)
        except LabelError as exc:
            s.message.emit(str(exc))
