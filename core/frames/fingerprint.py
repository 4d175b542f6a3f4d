"""A cheap content fingerprint so a project can tell a moved video is the same one.

For a file: sha256 over its size, its first and last MiB and its frame count. For an image
folder: sha256 over every image's name and size, the first MiB of the first and last image,
and the count. Reads at most ~2 MiB of pixels however long the video is.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

CHUNK = 2**20


def _file_digest(h: "hashlib._Hash", path: Path, tail: bool = True) -> None:
    size = path.stat().st_size
    h.update(f"size={size};".encode())
    with path.open("rb") as f:
        h.update(f.read(CHUNK))
        if tail and size > CHUNK:
            f.seek(max(CHUNK, size - CHUNK))
            h.update(f.read(CHUNK))


def fingerprint_file(path: Path, frame_count: int) -> str:
    """"sha256:<hex>" of a video file's size, first and last MiB and ``frame_count``."""
    h = hashlib.sha256(b"masklet-video-v1;")
    _file_digest(h, path)
    h.update(f"frames={frame_count}".encode())
    return "sha256:" + h.hexdigest()


def fingerprint_images(files: list[Path]) -> str:
    """"sha256:<hex>" of an ordered list of image files (names, sizes, first and last image)."""
    h = hashlib.sha256(b"masklet-images-v1;")
    for p in files:
        h.update(f"{p.name}:{p.stat().st_size};".encode())
    if files:
        _file_digest(h, files[0], tail=False)
        _file_digest(h, files[-1], tail=False)
    h.update(f"frames={len(files)}".encode())
    return "sha256:" + h.hexdigest()
