"""Every window action with its shortcut, in one table: the menus, the toolbars and the
Help > Keyboard shortcuts window are all built from it, so the list shown is the list bound."""

from __future__ import annotations

from dataclasses import dataclass

import qtawesome as qta
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget


@dataclass(frozen=True)
class ActionSpec:
    """name: stable id (``file.open``); keys: Qt key sequences, the first is shown in menus; icon: qtawesome."""

    name: str
    text: str
    section: str
    keys: tuple[str, ...] = ()
    icon: str = ""
    checkable: bool = False


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("file.open_video", "Open &video…", "File", ("Ctrl+O",), "mdi6.movie-open-outline"),
    ActionSpec("file.open_folder", "Open frame &folder…", "File", ("Ctrl+Shift+F",), "mdi6.folder-image"),
    ActionSpec("file.open_project", "Open &project…", "File", ("Ctrl+Shift+O",), "mdi6.folder-open-outline"),
    ActionSpec("file.save", "&Save project", "File", ("Ctrl+S",), "mdi6.content-save-outline"),
    ActionSpec("file.save_as", "Save project &as…", "File", ("Ctrl+Shift+S",)),
    ActionSpec("file.export", "&Export dataset…", "File", ("Ctrl+E",), "mdi6.export"),
    ActionSpec("file.model", "&Model…", "File", ("Ctrl+M",), "mdi6.brain"),
    ActionSpec("file.quit", "&Quit", "File", ("Ctrl+Q",)),
    ActionSpec("edit.undo", "&Undo", "Edit", ("Ctrl+Z",), "mdi6.undo"),
    ActionSpec("edit.redo", "&Redo", "Edit", ("Ctrl+Shift+Z", "Ctrl+Y"), "mdi6.redo"),
    ActionSpec("edit.preferences", "&Preferences…", "Edit", ("Ctrl+,",), "mdi6.cog-outline"),
    ActionSpec("edit.clear_frame", "&Clear object on this frame", "Edit", ("Delete",), "mdi6.eraser-variant"),
    ActionSpec("tool.point", "&Point (left +, right −)", "Tools", ("C",), "mdi6.cursor-default-click-outline", True),
    ActionSpec("tool.box", "&Box", "Tools", ("B",), "mdi6.vector-square", True),
    ActionSpec("tool.brush", "B&rush", "Tools", ("D",), "mdi6.brush", True),
    ActionSpec("tool.eraser", "&Eraser", "Tools", ("E",), "mdi6.eraser", True),
    ActionSpec("tool.select", "&Select object", "Tools", ("V",), "mdi6.cursor-default-outline", True),
    ActionSpec("tool.brush_bigger", "Brush bigger", "Tools", ("]",)),
    ActionSpec("tool.brush_smaller", "Brush smaller", "Tools", ("[",)),
    ActionSpec("object.add", "&New object", "Objects", ("N",), "mdi6.plus-box-outline"),
    ActionSpec("object.delete", "&Delete object", "Objects", ("Ctrl+Delete",), "mdi6.delete-outline"),
    ActionSpec("object.color", "Object &colour…", "Objects", (), "mdi6.palette-outline"),
    ActionSpec("object.hide", "&Hide/show object", "Objects", ("H",), "mdi6.eye-off-outline"),
    ActionSpec("object.solo", "S&olo object", "Objects", ("S",), "mdi6.eye-circle-outline"),
    ActionSpec("object.lock", "&Lock/unlock this frame", "Objects", ("L",), "mdi6.lock-outline"),
    ActionSpec("object.next", "Next object", "Objects", ("PgDown",)),
    ActionSpec("object.previous", "Previous object", "Objects", ("PgUp",)),
    ActionSpec("view.fit", "&Fit frame", "View", ("F",), "mdi6.fit-to-screen-outline"),
    ActionSpec("view.zoom_in", "Zoom &in", "View", ("Ctrl+=", "Ctrl++"), "mdi6.magnify-plus-outline"),
    ActionSpec("view.zoom_out", "Zoom &out", "View", ("Ctrl+-",), "mdi6.magnify-minus-outline"),
    ActionSpec("view.toggle_masks", "Show/hide &masks", "View", ("M",)),
    ActionSpec("view.opacity_up", "More opaque masks", "View", ("O",)),
    ActionSpec("view.opacity_down", "More transparent masks", "View", ("Shift+O",)),
    ActionSpec("nav.previous", "Previous frame", "Navigate", ("Left",), "mdi6.chevron-left"),
    ActionSpec("nav.next", "Next frame", "Navigate", ("Right",), "mdi6.chevron-right"),
    ActionSpec("nav.back10", "Back 10 frames", "Navigate", ("Shift+Left",), "mdi6.chevron-double-left"),
    ActionSpec("nav.forward10", "Forward 10 frames", "Navigate", ("Shift+Right",), "mdi6.chevron-double-right"),
    ActionSpec("nav.first", "First frame", "Navigate", ("Home",), "mdi6.page-first"),
    ActionSpec("nav.last", "Last frame", "Navigate", ("End",), "mdi6.page-last"),
    ActionSpec("nav.play", "Play/pause", "Navigate", ("Space",), "mdi6.play-pause", True),
    ActionSpec("nav.next_issue", "Next low-confidence or jump frame", "Navigate", ("J",), "mdi6.alert-circle-outline"),
    ActionSpec("nav.previous_issue", "Previous low-confidence or jump frame", "Navigate", ("Shift+J",)),
    ActionSpec("track.forward", "Propagate &forward", "Propagate", ("Ctrl+Right",), "mdi6.arrow-right-bold-outline"),
    ActionSpec("track.backward", "Propagate &backward", "Propagate", ("Ctrl+Left",), "mdi6.arrow-left-bold-outline"),
    ActionSpec("track.both", "Propagate both &ways", "Propagate", ("Ctrl+Return",), "mdi6.arrow-left-right-bold-outline"),
    ActionSpec("track.range", "Propagate over the selected &range", "Propagate", ("Ctrl+Shift+Return",), "mdi6.arrow-expand-horizontal"),
    ActionSpec("track.all_objects", "Propagate &all objects (else the selected one)", "Propagate", ("Ctrl+Shift+A",), "", True),
    ActionSpec("track.cancel", "&Cancel propagation", "Propagate", ("Esc",), "mdi6.stop-circle-outline"),
    ActionSpec("help.shortcuts", "&Keyboard shortcuts", "Help", ("F1", "Ctrl+/"), "mdi6.keyboard-outline"),
)

# Mouse gestures are not QActions; the shortcuts window lists them too.
MOUSE: tuple[tuple[str, str], ...] = (
    ("Left click (point tool)", "positive point for the selected object"),
    ("Right click / Shift+left click", "negative point"),
    ("Left drag (box tool)", "box prompt"),
    ("Left drag (brush / eraser)", "paint / erase; right drag with the brush erases"),
    ("Wheel", "zoom to the cursor"),
    ("Middle drag / Ctrl+left drag", "pan"),
    ("Click / drag on the timeline", "go to a frame; Shift+drag selects a range"),
)


def create_actions(parent: QWidget) -> dict[str, QAction]:
    """One QAction per spec, parented to ``parent`` (add them to the window so keys work everywhere)."""
    actions: dict[str, QAction] = {}
    for spec in ACTIONS:
        action = QAction(spec.text, parent)
        action.setObjectName(spec.name)
        if spec.icon:
            action.setIcon(qta.icon(spec.icon))
        if spec.keys:
            action.setShortcuts([QKeySequence(k) for k in spec.keys])
            action.setToolTip(f"{spec.text.replace('&', '')} ({spec.keys[0]})")
        action.setCheckable(spec.checkable)
        parent.addAction(action)
        actions[spec.name] = action
    return actions


def sections() -> dict[str, list[ActionSpec]]:
    out: dict[str, list[ActionSpec]] = {}
    for spec in ACTIONS:
        out.setdefault(spec.section, []).append(spec)
    return out


def markdown_table() -> str:
    """Every shortcut and mouse gesture as a Markdown table (for the README)."""
    lines = ["| Keys | Action |", "|---|---|"]
    for spec in ACTIONS:
        if spec.keys:
            keys = ", ".join(f"`{k}`" for k in spec.keys)
            lines.append(f"| {keys} | {spec.section}: {spec.text.replace('&', '')} |")
    lines += [f"| {gesture} | {what} |" for gesture, what in MOUSE]
    return "\n".join(lines)
