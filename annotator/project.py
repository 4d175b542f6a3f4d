"""Project files (``.masklet``): atomic save, careful load, and relinking a moved video.

A project is one gzip-compressed JSON file (schema in :mod:`annotator.project_schema`).
gzip because RLE counts are text that shrinks about 2x, and its CRC-32 and length trailer
turn a truncated or damaged file into a clear error instead of half a document; JSON because
it stays readable with ``zcat`` and needs only the standard library. Plain (uncompressed)
JSON is read as well, for hand-written files.

Saving writes a temporary file beside the project, flushes and fsyncs it, then renames it
over the project (``os.replace``): a crash or a full disk at any moment leaves the last good
file. Loading never writes anything.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path
from typing import IO, NamedTuple

from annotator.document import AnnotationDocument, VideoRef
from annotator.project_schema import SCHEMA_VERSION, ProjectError, document_from_json, document_to_json
from core.formats.atomic import write_file_atomic
from core.validation.bounds import Invalid
from core.validation.inputs import protect_input, protected_as
from core.validation.json_input import parse_json
from core.formats.rle_check import first_invalid

__all__ = [
    "PROJECT_SUFFIX", "SCHEMA_VERSION", "LoadedProject", "ProjectError",
    "load_project", "read_project", "relink_video", "save_project", "video_is_missing",
]

PROJECT_SUFFIX = ".masklet"
MAX_INFLATION = 200  # a project's JSON is ~2-10x its gzip; 200x is a compression bomb
PROJECT_INPUT = "the project file"  # what an export is told a protected project path is
# gzip level 1: about as small as level 6 on RLE text, several times faster to write.
_GZIP_LEVEL = 1
_CHUNK = 1 << 20


class VideoMissingError(Exception):
    """A project's video is not where it was saved; ``path`` is where it was."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the video of this project is missing: {path}")
        self.path = path


class LoadedProject(NamedTuple):
    """What load_project returns: the document, and whether its video must be located by the user."""

    document: AnnotationDocument
    video_missing: bool


def _write_chunks(handle: IO[bytes], payload: bytes) -> None:
    """Write in 1 MiB pieces (a full disk shows up part-way, as it would in real life)."""
    for start in range(0, len(payload), _CHUNK):
        handle.write(payload[start:start + _CHUNK])


def encode_project(doc: AnnotationDocument, project_dir: Path | None = None) -> bytes:
    """The bytes of a project file for ``doc`` (gzip of UTF-8 JSON; mtime 0 so equal documents give equal bytes)."""
    text = json.dumps(document_to_json(doc, project_dir), separators=(",", ":"), allow_nan=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=_GZIP_LEVEL, mtime=0)


def save_project(doc: AnnotationDocument, path: str | Path, *, exclusive: bool | None = None) -> None:
    """Save ``doc`` to ``path`` atomically; afterwards the autosave beside it is stale and removed.

    exclusive: ``path`` must not exist when the file is put in place (a second writer racing
    for the same new path fails, nothing written); None: so when nothing is there now. Never over a file this process reads as
    something else (the video, a dataset being imported).
    Raises ProjectError (one line) if it cannot be written; the previous file is then intact.
    """
    from annotator.autosave import discard_autosave  # autosave builds on this module

    path = Path(path)
    if exclusive is None:
        exclusive = not os.path.lexists(path)
    reading = protected_as(path)
    if reading is not None and reading != PROJECT_INPUT:
        raise ProjectError(f"cannot save {path}: it is {reading}; choose another file name")
    try:
        payload = encode_project(doc, path.parent)
    except ValueError as exc:  # NaN scores, unencodable attributes
        raise ProjectError(f"cannot save {path.name}: {exc}") from None
    except TypeError as exc:
        raise ProjectError(f"cannot save {path.name}: an attribute is not JSON ({exc})") from None
    write_to(path, payload, exclusive=exclusive)
    protect_input(path, PROJECT_INPUT)
    discard_autosave(path)


def write_to(path: Path, payload: bytes, *, exclusive: bool = False) -> None:
    """Write ``payload`` to ``path`` atomically, as ProjectError on failure."""
    if not path.parent.is_dir():
        raise ProjectError(f"cannot save {path}: the folder {path.parent} does not exist")
    try:
        write_file_atomic(path, lambda handle: _write_chunks(handle, payload), exclusive=exclusive)
    except FileExistsError:
        raise ProjectError(f"cannot save {path}: another program created it meanwhile; nothing was written") from None
    except OSError as exc:
        raise ProjectError(f"cannot save {path}: {exc.strerror or exc}; the previous file is unchanged") from None


def _parse(raw: bytes) -> object:
    if raw[:2] == b"\x1f\x8b":
        raw = _gunzip_bounded(raw)
    try:
        return parse_json(raw)
    except Invalid as exc:
        raise ProjectError(f"it is not a valid project ({exc})") from None


def _gunzip_bounded(raw: bytes) -> bytes:
    """gzip.decompress in pieces, refusing more than MAX_INFLATION times the file's size (or
    64 MiB, if more): a small file that inflates to gigabytes is refused at the limit, not after."""
    limit = max(MAX_INFLATION * len(raw), 64 << 20)
    out: list[bytes] = []
    total = 0
    data = raw
    try:
        while data:  # a gzip file may hold several members one after another
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            while data and not inflater.eof:
                piece = inflater.decompress(data, _CHUNK)
                data = inflater.unconsumed_tail if inflater.unconsumed_tail else b""
                total += len(piece)
                if total > limit:
                    raise ProjectError(f"it inflates to more than {limit} bytes ({MAX_INFLATION} times its size): refused")
                out.append(piece)
            if not inflater.eof:
                raise ProjectError("it is truncated or damaged (its compressed data does not check out)")
            data = inflater.unused_data.lstrip(b"\x00")
    except zlib.error:
        raise ProjectError("it is truncated or damaged (its compressed data does not check out)") from None
    return b"".join(out)


def read_project(path: str | Path) -> tuple[AnnotationDocument, str | None]:
    """Parse a project file (any known schema); returns the document and the stored relative video path."""
    path = Path(path)
    try:
        if not path.is_file():
            raise ProjectError("no such file")
        protect_input(path, PROJECT_INPUT)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ProjectError(f"it cannot be read ({exc.strerror or exc})") from None
        doc, relative = document_from_json(_parse(raw))
        where = [(obj_id, frame) for obj_id, frame, _ in doc.iter_masks()]
        bad = first_invalid([entry.rle for _, _, entry in doc.iter_masks()])
        if bad is not None:
            raise ProjectError(f"object {where[bad][0]} frame {where[bad][1]} has a malformed mask")
        return doc, relative
    except ProjectError as exc:
        raise ProjectError(f"cannot open {path}: {exc}") from None


def video_is_missing(doc: AnnotationDocument) -> bool:
    """True when the document has no video, or its path is not there."""
    return doc.video is None or not doc.video.path or not Path(doc.video.path).exists()


def load_project(path: str | Path) -> LoadedProject:
    """Open a project. A video found not at its saved path but at the same place relative to the
    project (both moved together) is taken; otherwise ``video_missing`` asks the caller to relink.
    Raises ProjectError (one line); never writes.
    """
    path = Path(path)
    doc, relative = read_project(path)
    if doc.video is not None and video_is_missing(doc) and relative:
        beside = (path.parent / relative).resolve()
        if beside.exists():
            doc.video = VideoRef(str(beside), doc.video.width, doc.video.height, doc.video.frame_count,
                                 doc.video.fps, doc.video.fingerprint)
    return LoadedProject(doc, video_is_missing(doc))


def relink_video(doc: AnnotationDocument, new_path: str | Path) -> VideoRef:
    """Point the document at its video in a new place, after checking it is the same video.

    With a stored fingerprint, the new file's fingerprint must match it. A document made by an
    import (no fingerprint yet) takes the video if its frame size matches the masks and it has
    every annotated frame; its size, frame rate and fingerprint are then recorded.
    Raises ProjectError (one line) and changes nothing when the video does not fit.
    """
    from core.frames import FrameSourceError, fingerprint, open_frames

    new_path = Path(new_path).expanduser().absolute()
    old = doc.video
    try:
        if old is not None and old.fingerprint:
            found = fingerprint(new_path)
            if found != old.fingerprint:
                raise ProjectError(f"{new_path.name} is not this project's video (its content fingerprint differs)")
            ref = VideoRef(str(new_path), old.width, old.height, old.frame_count, old.fps, old.fingerprint)
        else:
            frames = open_frames(new_path, cache_mb=0)
            try:
                info = frames.info
            finally:
                frames.close()
            ref = _attach(doc, new_path, info.width, info.height, info.frame_count, info.fps, fingerprint(new_path))
    except FrameSourceError as exc:
        raise ProjectError(str(exc)) from None
    doc.video = ref
    return ref


def _attach(doc: AnnotationDocument, path: Path, width: int, height: int, frame_count: int, fps: float,
            print_: str) -> VideoRef:
    sizes = {(e.rle.width, e.rle.height) for _, _, e in doc.iter_masks()}
    if old := doc.video:
        sizes.add((old.width, old.height))
    if sizes and sizes != {(width, height)}:
        w, h = next(iter(sizes))
        raise ProjectError(f"{path.name} is {width}x{height} but the masks are {w}x{h}")
    last = max(doc.frames_with_masks(), default=-1)
    if last >= frame_count:
        raise ProjectError(f"{path.name} has {frame_count} frames but masks reach frame {last}")
    return VideoRef(str(path), width, height, frame_count, fps, print_)
