"""Every window action with its shortcut, in one table (resources/actions.json): the menus, the
toolbars and the Help > Keyboard shortcuts window are all built from it, so the list shown is
the list bound."""

from __future__ import annotations

import json
from dataclasses import dataclass

import qtawesome as qta
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from resources import resource_path


@dataclass(frozen=True)
class ActionSpec:
    """name: stable id (``file.open``); keys: Qt key sequences, the first is shown in menus; icon: qtawesome."""

    name: str
    text: str
    section: str
    keys: tuple[str, ...] = ()
    icon: str = ""
    checkable: bool = False


def _load(name: str = "actions.json") -> tuple[tuple[ActionSpec, ...], tuple[tuple[str, str], ...]]:
    """The table (resources/actions.json): every action, and the mouse gestures, which are not
    QActions but are listed in the shortcuts window too."""
    data = json.loads(resource_path(name).read_text(encoding="utf-8"))
    actions = tuple(ActionSpec(a["name"], a["text"], a["section"], tuple(a.get("keys", ())), a.get("icon", ""),
                               bool(a.get("checkable", False))) for a in data["actions"])
    return actions, tuple((m["gesture"], m["action"]) for m in data["mouse"])


ACTIONS, MOUSE = _load()


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
