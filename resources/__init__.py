"""Packaged resources: icons and the style sheet."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    """A packaged resource file (``masklet.svg``, ``masklet.qss``)."""
    return RESOURCES / name
