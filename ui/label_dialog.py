"""The label schema dialog: the project's labels, their colours and typed attributes.

The dialog edits a copy; OK hands the whole result to the session as one undoable step
(annotator.labels_session), where a renamed label renames its objects. Deleting a label that
objects use asks first. Import and Export read and write labels files (JSON, annotator.labels).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox, QColorDialog, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QHeaderView,
    QLabel, QLineEdit, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QTableWidget, QTableWidgetItem,
    QVBoxLayout, QWidget,
)

from annotator.labels import AttributeKind, AttributeSpec, Label, LabelError, LabelSchema, merged_import, read_labels, write_labels
from annotator.session_controller import SessionController
from ui.objects_panel import swatch

COL_NAME, COL_TYPE, COL_OPTIONS, COL_DEFAULT, COL_PER_FRAME = range(5)
LABEL_FILES = "Labels (*.json);;All files (*)"


class LabelDialog(QDialog):
    """Edit ``session``'s label schema; ``schema`` is the edited copy (applied on OK)."""

    def __init__(self, session: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("labelDialog")
        self.setWindowTitle("Labels")
        self.session = session
        self.schema: LabelSchema = session.labels.schema
        self._current: int | None = None  # the label id shown on the right
        self._loading = False

        self.labels = QListWidget()
        self.labels.setObjectName("labelList")
        self.labels.setMaximumWidth(240)
        add, delete = QPushButton("Add"), QPushButton("Delete")
        import_, export = QPushButton("Import…"), QPushButton("Export…")
        add.clicked.connect(self.add_label)
        delete.clicked.connect(self.delete_label)
        import_.clicked.connect(self.import_file)
        export.clicked.connect(self.export_file)
        left = QVBoxLayout()
        left.addWidget(self.labels)
        row = QHBoxLayout()
        for button in (add, delete, import_, export):
            row.addWidget(button)
        left.addLayout(row)

        self.name = QLineEdit()
        self.name.setObjectName("labelName")
        self.color = QPushButton()
        self.color.clicked.connect(self.choose_color)
        self.attributes = QTableWidget(0, 5)
        self.attributes.setObjectName("attributeTable")
        self.attributes.setHorizontalHeaderLabels(["Attribute", "Type", "Options", "Default", "Per frame"])
        self.attributes.horizontalHeaderItem(COL_OPTIONS).setToolTip("the choices of a 'choice' attribute, comma separated")
        self.attributes.verticalHeader().hide()
        header = self.attributes.horizontalHeader()
        header.setSectionResizeMode(COL_OPTIONS, QHeaderView.ResizeMode.Stretch)
        for col in (COL_TYPE, COL_PER_FRAME):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        add_attr, remove_attr = QPushButton("Add attribute"), QPushButton("Remove attribute")
        add_attr.clicked.connect(lambda: self.add_attribute())
        remove_attr.clicked.connect(self.remove_attribute)
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Colour", self.color)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(self.attributes)
        buttons_row = QHBoxLayout()
        buttons_row.addWidget(add_attr)
        buttons_row.addWidget(remove_attr)
        buttons_row.addStretch(1)
        right.addLayout(buttons_row)
        self.error = QLabel()
        self.error.setObjectName("labelError")
        self.error.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        body = QHBoxLayout()
        body.addLayout(left, 0)
        body.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(body)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.labels.currentItemChanged.connect(self._on_pick)
        self.name.editingFinished.connect(self._store)
        self.attributes.itemChanged.connect(lambda _item: self._store())
        self.resize(900, 420)
        self._fill_list(select=self.schema.labels[0].label_id if self.schema else None)

    # -- the list -----------------------------------------------------------------------------
    def _fill_list(self, select: int | None) -> None:
        self._loading = True
        self.labels.clear()
        for label in self.schema.labels:
            item = QListWidgetItem(swatch(label.color), label.name)
            item.setData(Qt.ItemDataRole.UserRole, label.label_id)
            uses = len(self._uses(label))
            item.setToolTip(f"category id {label.label_id}; {uses} object(s)")
            self.labels.addItem(item)
            if label.label_id == select:
                self.labels.setCurrentItem(item)
        self._loading = False
        self._show(select)

    def _on_pick(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if not self._loading:
            self._show(None if item is None else int(item.data(Qt.ItemDataRole.UserRole)))

    def add_label(self) -> None:
        self._store()
        n = len(self.schema.labels) + 1
        name = next(f"label {i}" for i in range(n, n + 1000) if self.schema.find(f"label {i}") is None)
        self.schema = self.schema.added(name)
        self._fill_list(self.schema.labels[-1].label_id)
        self.name.setFocus()
        self.name.selectAll()

    def delete_label(self) -> None:
        label = self.schema.by_id(self._current) if self._current is not None else None
        if label is None:
            return
        uses = self._uses(label)
        if uses:
            answer = QMessageBox.question(
                self, "Delete label",
                f"{len(uses)} object(s) are labelled “{label.name}”. Delete the label? They keep no label "
                "(Edit > Undo brings it back).",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.schema = self.schema.without(label.label_id)
        self._current = None
        self._fill_list(self.schema.labels[0].label_id if self.schema else None)

    def _uses(self, label: Label) -> list[int]:
        """Objects labelled ``label`` in the project (by its name there: it may be renamed here)."""
        saved = self.session.labels.schema.by_id(label.label_id)
        return self.session.labels.in_use(saved.name) if saved is not None else []

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import labels", "", LABEL_FILES)
        if path:
            self.import_path(path)

    def import_path(self, path: str) -> bool:
        try:
            imported = read_labels(path)
        except LabelError as exc:
            self.error.setText(str(exc))
            return False
        in_use = [r.category for r in self.session.doc.objects() if self.schema.find(r.category) is not None]
        self.schema = merged_import(self.schema, imported, in_use)
        self._fill_list(self.schema.labels[0].label_id if self.schema else None)
        return True

    def export_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export labels", "labels.json", LABEL_FILES)
        if path:
            self._store()
            try:
                write_labels(self.schema, path)
            except LabelError as exc:
                self.error.setText(str(exc))

    # -- one label ----------------------------------------------------------------------------
    def _show(self, label_id: int | None) -> None:
        self._current = label_id
        label = self.schema.by_id(label_id) if label_id is not None else None
        self._loading = True
        self.name.setText(label.name if label else "")
        self.name.setEnabled(label is not None)
        self.color.setEnabled(label is not None)
        self.color.setIcon(swatch(label.color if label else (128, 128, 128)))
        self.color.setText(" #%02x%02x%02x" % label.color if label else "")
        self.attributes.setRowCount(0)
        for spec in label.attributes if label else ():
            self.add_attribute(spec)
        self._loading = False

    def add_attribute(self, spec: AttributeSpec | None = None) -> None:
        if self._current is None:
            return
        was, self._loading = self._loading, True
        spec = spec or AttributeSpec(self._free_attribute_name())
        row = self.attributes.rowCount()
        self.attributes.insertRow(row)
        self.attributes.setItem(row, COL_NAME, QTableWidgetItem(spec.name))
        kind = QComboBox()
        kind.addItems([k.value for k in AttributeKind])
        kind.setCurrentText(spec.kind.value)
        kind.currentTextChanged.connect(lambda _text: self._store())
        self.attributes.setCellWidget(row, COL_TYPE, kind)
        self.attributes.setItem(row, COL_OPTIONS, QTableWidgetItem(", ".join(spec.options)))
        self.attributes.setItem(row, COL_DEFAULT, QTableWidgetItem("" if spec.default is None else str(spec.default)))
        per_frame = QCheckBox()
        per_frame.setChecked(spec.per_frame)
        per_frame.toggled.connect(lambda _on: self._store())
        self.attributes.setCellWidget(row, COL_PER_FRAME, per_frame)
        self._loading = was
        self._store()

    def _free_attribute_name(self) -> str:
        taken = {self.attributes.item(r, COL_NAME).text() for r in range(self.attributes.rowCount())}
        return next(f"attribute {i}" for i in range(1, 1000) if f"attribute {i}" not in taken)

    def remove_attribute(self) -> None:
        row = self.attributes.currentRow()
        if row >= 0:
            self.attributes.removeRow(row)
            self._store()

    def choose_color(self) -> None:
        label = self.schema.by_id(self._current) if self._current is not None else None
        if label is None:
            return
        color = QColorDialog.getColor(QColor(*label.color), self, "Label colour")
        if color.isValid():
            self.set_color((color.red(), color.green(), color.blue()))

    def set_color(self, rgb: tuple[int, int, int]) -> None:
        label = self.schema.by_id(self._current) if self._current is not None else None
        if label is not None:
            self._store()
            self.schema = self.schema.replaced(replace(self.schema.by_id(label.label_id), color=tuple(rgb)))
            self._fill_list(label.label_id)

    def _specs(self) -> tuple[AttributeSpec, ...]:
        specs = []
        for row in range(self.attributes.rowCount()):
            kind = AttributeKind(self.attributes.cellWidget(row, COL_TYPE).currentText())
            options = tuple(o.strip() for o in self.attributes.item(row, COL_OPTIONS).text().split(",") if o.strip())
            text = self.attributes.item(row, COL_DEFAULT).text().strip()
            spec = AttributeSpec(self.attributes.item(row, COL_NAME).text().strip(), kind, options, None,
                                 self.attributes.cellWidget(row, COL_PER_FRAME).isChecked())
            specs.append(replace(spec, default=spec.coerce(text) if text else None))
        return tuple(specs)

    def _store(self) -> None:
        """Take the right-hand side into the edited schema; say what is wrong, if anything."""
        if self._loading or self._current is None:
            return
        label = self.schema.by_id(self._current)
        if label is None:
            return
        try:
            updated = Label(label.label_id, self.name.text().strip(), label.color, self._specs())
            self.schema = self.schema.replaced(updated)
        except LabelError as exc:
            self.error.setText(str(exc))
            self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(False)
            return
        self.error.setText("")
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(True)
        item = self.labels.currentItem()
        if item is not None and item.text() != updated.name:
            item.setText(updated.name)

    def accept(self) -> None:
        self._store()
        if self.error.text():
            return
        self.session.labels.set_schema(self.schema)
        super().accept()
