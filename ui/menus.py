"""The menu bar and the tool bar, laid out from the action table (ui.shortcuts)."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

RECENT = "recent"
# Menu title -> action names; None is a separator, RECENT the recent-files submenu.
MENUS: dict[str, list[str | None]] = {
    "&File": ["file.open_video", "file.open_folder", "file.open_project", RECENT, None, "file.save", "file.save_as",
              "file.export", None, "file.model", None, "file.quit"],
    "&Edit": ["edit.undo", "edit.redo", None, "edit.clear_frame", "prompt.next_alternative", "prompt.previous_alternative",
              None, "edit.preferences"],
    "&Tools": ["tool.point", "tool.box", "tool.brush", "tool.eraser", "tool.select", None, "tool.brush_bigger",
               "tool.brush_smaller"],
    "&Objects": ["object.add", "object.find", "object.delete", "object.color", None, "object.hide", "object.solo", "object.lock",
                 None, "object.next", "object.previous", None, "labels.edit", None, "object.merge", "object.split",
                 "object.swap"],
    "&View": ["view.fit", "view.zoom_in", "view.zoom_out", None, "view.toggle_masks", "view.color_by_label", "view.opacity_up",
              "view.opacity_down"],
    "&Navigate": ["nav.previous", "nav.next", "nav.back10", "nav.forward10", "nav.first", "nav.last", None,
                  "nav.play", None, "nav.next_issue", "nav.previous_issue", None, "nav.next_keyframe",
                  "nav.previous_keyframe", "nav.next_keyframe_any", "nav.previous_keyframe_any", None,
                  "timeline.zoom_in", "timeline.zoom_out", "timeline.fit"],
    "&Review": ["review.mode", None, "review.accept_frame", "review.accept_range", "review.unaccept", None,
                "review.note"],
    "&Propagate": ["track.forward", "track.backward", "track.both", "track.range", None, "track.all_objects",
                   None, "track.cancel"],
    "&Help": ["help.shortcuts", None, "help.about"],
}
TOOLBAR: list[str | None] = [
    "file.open_video", "file.open_project", "file.save", None, "edit.undo", "edit.redo", None,
    "tool.point", "tool.box", "tool.brush", "tool.eraser", "tool.select", None,
    "track.backward", "track.both", "track.forward", "track.range", "track.all_objects", "track.cancel", None,
    "view.fit",
]


def build_menus(window: QMainWindow, actions: dict[str, QAction]) -> QMenu:
    """Fill the window's menu bar; returns the (empty) recent-files submenu."""
    recent = QMenu("Open &recent", window)
    for title, names in MENUS.items():
        menu = window.menuBar().addMenu(title)
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name == RECENT:
                menu.addMenu(recent)
            else:
                menu.addAction(actions[name])
    return recent


def build_toolbar(window: QMainWindow, actions: dict[str, QAction]) -> QToolBar:
    bar = QToolBar("Tools", window)
    bar.setObjectName("mainToolBar")
    bar.setIconSize(QSize(20, 20))
    for name in TOOLBAR:
        if name is None:
            bar.addSeparator()
        else:
            bar.addAction(actions[name])
    actions["track.all_objects"].setText("All objects")
    window.addToolBar(bar)
    return bar
