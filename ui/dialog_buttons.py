"""The OK/Cancel row of Masklet's dialogs, with the OK button named for what it does."""

from __future__ import annotations

from typing import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPushButton

OK = QDialogButtonBox.StandardButton.Ok


def action_buttons(dialog: QDialog, ok_text: str, on_ok: Callable[[], None]) -> QDialogButtonBox:
    """OK (labelled ``ok_text``, runs ``on_ok``) and Cancel (rejects ``dialog``)."""
    buttons = QDialogButtonBox(OK | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(OK).setText(ok_text)
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(dialog.reject)
    return buttons


def ok_button(buttons: QDialogButtonBox) -> QPushButton:
    return buttons.button(OK)
