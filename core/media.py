"""Which files Masklet opens as videos: one list for the decoder, its errors and the file dialogs.

A light module (no decoder imported), so the window can build its file filters at start.
"""

VIDEO_EXTENSIONS = (".mp4", ".mov", ".m4v", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".wmv", ".flv")
