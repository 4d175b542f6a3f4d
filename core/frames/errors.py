"""The one error a frame source raises for anything wrong with the user's file or folder."""

from __future__ import annotations


class FrameSourceError(ValueError):
    """A missing, corrupt, unsupported or empty video or image folder.

    The message is one line naming the file and what is wrong, fit to show a user as is.
    """
