"""The objects panel: the document's objects with colour, name, category and visibility.

Add (at any time, also mid-video after a propagation), rename and choose the label in place (from
the project's label list, with completion), change the colour, delete, hide, solo, lock or unlock
the current frame; a right click opens the object's menu (ui.object_menu); the selected object's
attribute values are edited below the list (ui.attributes_panel). Every change that touches the
annotation goes through the session (undoable); hide, solo and colouring by label only change the view.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView, QColorDialog, QComboBox, QCompleter, QHeaderView, QStyledItemDelegate, QStyleOptionViewItem,
    QTableWidget, QTableWidgetItem, QToolBar, QVBoxLayout, QWidget,
)

from annotator.session_controller import SessionController
from ui.attributes_panel import AttributesPanel
from ui.overlay import OverlayStyle

COL_NAME, COL_CATEGORY, COL_SHOWN, COL_FRAMES = range(4)


def swatch(color: tuple[int, int, int], size: int = 14) -> QIcon:
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(*color))
    return QIcon(pixmap)


class LabelDelegate(QStyledItemDelegate):
    """The category cell's editor: the project's labels in an editable list that completes
    without regard to case (a name not in the list becomes a new label)."""

    def __init__(self, session: SessionController, parent: QWidget) -> None:
        super().__init__(parent)
        self.session = session

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:  # noqa: N802
        combo = QComboBox(parent)
        combo.setObjectName("labelEditor")
        combo.setEditable(True)
        combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        for label in self.session.labels.schema.labels:
            combo.addItem(swatch(label.color), label.name)
        completer = QCompleter(self.session.labels.schema.names(), combo)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        combo.setCompleter(completer)
        return combo

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802
        editor.setCurrentText(str(index.data()))

    def setModelData(self, editor: QWidget, model: object, index: QModelIndex) -> None:  # noqa: N802
        model.setData(index, editor.currentText())


class ObjectsPanel(QWidget):
    """Signal: selectionChanged(obj_id) when the annotator picks a row."""

    selectionChanged = Signal(int)

    def __init__(self, session: SessionController, style: OverlayStyle, actions: dict[str, QAction],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("objectsPanel")
        self.session, self.style = session, style
        bar = QToolBar()
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        for name in ("object.add", "object.delete", "object.color", "object.hide", "object.solo", "object.lock",
                     "labels.edit", "view.color_by_label"):
            bar.addAction(actions[name])
        self.table = QTableWidget(0, 4)
        self.table.setItemDelegateForColumn(COL_CATEGORY, LabelDelegate(session, self.table))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        from ui.object_menu import ObjectMenu  # it draws its swatches with this module's

        self.menu = ObjectMenu(session, style, actions, self)
        self.attributes = AttributesPanel(session)
        self.table.setHorizontalHeaderLabels(["Object", "Category", "Shown", "Frames"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)  # a long name is elided on one line, the row keeps its height
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)
        for col in (COL_SHOWN, COL_FRAMES):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_CATEGORY, QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(COL_CATEGORY, 96)  # room for the label chooser; the name takes the rest
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.attributes)
        self._updating = False
        self.table.itemChanged.connect(self._item_changed)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        doc = session.doc
        doc.objectsChanged.connect(self.rebuild)
        doc.documentReset.connect(self.rebuild)
        doc.labelsChanged.connect(self.rebuild)
        doc.masksChanged.connect(lambda obj_id, frames: self._update_counts())
        session.currentObjectChanged.connect(self._select_row)
        style.changed.connect(self.rebuild)

    def rebuild(self) -> None:
        self._updating = True
        try:
            records = self.session.doc.objects()
            self.table.setRowCount(len(records))
            for row, record in enumerate(records):
                name = QTableWidgetItem(swatch(self.style.color_of(record, self.session.doc.labels)), record.name)
                name.setData(Qt.ItemDataRole.UserRole, record.obj_id)
                name.setToolTip(f"id {record.obj_id}")
                self.table.setItem(row, COL_NAME, name)
                self.table.setItem(row, COL_CATEGORY, QTableWidgetItem(record.category))
                shown = QTableWidgetItem()
                shown.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                shown.setCheckState(Qt.CheckState.Unchecked if record.obj_id in self.style.hidden else Qt.CheckState.Checked)
                if self.style.solo == record.obj_id:
                    shown.setText("solo")
                self.table.setItem(row, COL_SHOWN, shown)
                frames = QTableWidgetItem()
                frames.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(row, COL_FRAMES, frames)
            self._update_counts()
        finally:
            self._updating = False
        self._select_row(self.session.current_obj or 0)

    def _update_counts(self) -> None:
        masks = self.session.doc.document.masks
        was, self._updating = self._updating, True
        for row in range(self.table.rowCount()):
            obj_id = self.obj_id_at(row)
            item = self.table.item(row, COL_FRAMES)
            if item is not None:
                item.setText(str(len(masks.get(obj_id, {}))))
        self._updating = was

    def obj_id_at(self, row: int) -> int:
        item = self.table.item(row, COL_NAME)
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else 0

    def _select_row(self, obj_id: int) -> None:
        for row in range(self.table.rowCount()):
            if self.obj_id_at(row) == obj_id:
                if self.table.currentRow() != row:
                    self.table.selectRow(row)
                return

    def _selection_changed(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if rows and not self._updating:
            obj_id = self.obj_id_at(min(rows))
            if obj_id != self.session.current_obj:
                self.session.select_object(obj_id)
            self.selectionChanged.emit(obj_id)

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._updating:
            return
        obj_id = self.obj_id_at(item.row())
        if item.column() == COL_NAME and item.text().strip():
            self.session.edit_object(obj_id, name=item.text().strip())
        elif item.column() == COL_CATEGORY and item.text().strip():
            if not self.session.labels.set_label(obj_id, item.text()):
                self.rebuild()
        elif item.column() == COL_SHOWN:
            self.style.set_hidden(obj_id, item.checkState() != Qt.CheckState.Checked)

    def _context_menu(self, pos: QPoint) -> None:
        row = self.table.rowAt(pos.y())
        if row >= 0:
            self.menu.build(self.obj_id_at(row)).popup(self.table.viewport().mapToGlobal(pos))

    def choose_color(self) -> None:
        obj_id = self.session.current_obj
        if obj_id is None:
            return
        current = QColor(*self.session.doc.object(obj_id).color)
        color = QColorDialog.getColor(current, self, "Object colour")
        if color.isValid():
            self.session.edit_object(obj_id, color=(color.red(), color.green(), color.blue()))
