"""Where a batch run's results go: a local or shared folder, or an object store URL (fsspec).

Layout under DEST::

    DEST/<id>/_MASKLET_JOB   written first: the job's key (marks the folder as Masklet's)
    DEST/<id>/<id>.masklet   the project, then the dataset formats asked for
    DEST/<id>/_SUCCESS       written last: the key, the files, frames, device (JSON)
    DEST/_ledger.jsonl       one line per job event (core.batch.ledger)
    DEST/.masklet-tmp/       a local folder's staging area (each try writes its own folder)

A result counts only once its ``_SUCCESS`` is there, with the job's key. In a folder, a try
writes into ``.masklet-tmp/<id>.<random>`` and renames it to ``DEST/<id>`` when complete, so
``DEST/<id>`` is never half-written; the marker follows. On an object store (no renames) a try
writes into a local temporary folder, uploads it under ``DEST/<id>/`` (``_MASKLET_JOB``
first) and puts the marker object last. A folder or prefix without the marker is unfinished:
the next try replaces it when it holds ``_MASKLET_JOB`` (ours) and refuses it otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Iterator

from core.batch.jobs import BatchError
from core.batch.keys import is_url

MARKER = "_SUCCESS"
STAMP = "_MASKLET_JOB"
LEDGER = "_ledger.jsonl"
STAGING = ".masklet-tmp"


@dataclass(frozen=True)
class Marker:
    """The content of a ``_SUCCESS`` marker. files: names under the job's folder, marker excluded."""

    job_id: str
    key: str
    files: tuple[str, ...]
    frames: int
    objects: int
    device: str
    finished: str  # ISO 8601 UTC

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("utf-8")

    @staticmethod
    def from_bytes(raw: bytes) -> "Marker | None":
        try:
            data = json.loads(raw.decode("utf-8"))
            return Marker(str(data["job_id"]), str(data["key"]), tuple(data["files"]), int(data["frames"]),
                          int(data["objects"]), str(data["device"]), str(data["finished"]))
        except (ValueError, KeyError, TypeError):
            return None  # a damaged marker: the result is not trusted and gets redone


class ResultState(str, Enum):
    ABSENT = "absent"  # nothing under DEST/<id>
    DONE = "done"  # a marker with this key
    OTHER = "other"  # a marker with another key: a finished result of other inputs
    UNFINISHED = "unfinished"  # our stamp without a marker: a try that did not finish
    FOREIGN = "foreign"  # something Masklet did not write


class Destination:
    """A results root reached through fsspec. Picklable: actors get a copy."""

    def __init__(self, location: str) -> None:
        from fsspec.core import url_to_fs
        from fsspec.implementations.local import LocalFileSystem

        self.location = location.rstrip("/") if is_url(location) else os.path.abspath(location)
        self.fs, root = url_to_fs(self.location)
        self.root = root.rstrip("/")
        self.is_local = isinstance(self.fs, LocalFileSystem)

    def path(self, *parts: str) -> str:
        return "/".join((self.root, *parts))

    def url(self, *parts: str) -> str:
        """A user-facing address (``s3://bucket/prefix/id`` or a local path)."""
        return "/".join((self.location, *parts))

    # -- set-up -------------------------------------------------------------------------
    def prepare(self) -> None:
        """Make sure the root can be written (created if missing); raises BatchError (one line)."""
        probe = self.path(f".masklet-probe-{uuid.uuid4().hex}")
        try:
            self.fs.makedirs(self.root, exist_ok=True)
            self.fs.pipe_file(probe, b"")
            self.fs.rm_file(probe)
        except Exception as exc:  # noqa: BLE001 - every store has its own errors; all are "cannot write"
            raise BatchError(f"cannot write to {self.location}: {_one_line(exc)}") from None

    def clear_staging(self) -> None:
        """Remove what unfinished tries left in the staging area (only Masklet writes there)."""
        if self.is_local:
            shutil.rmtree(self.path(STAGING), ignore_errors=True)

    # -- results --------------------------------------------------------------------------
    def markers(self) -> dict[str, Marker]:
        """Every readable ``_SUCCESS`` marker under the root, by job id."""
        paths = self.fs.glob(self.path("*", MARKER))
        if not paths:
            return {}
        found: dict[str, Marker] = {}
        for path, raw in self.fs.cat(paths, on_error="omit").items():
            marker = Marker.from_bytes(raw)
            if marker is not None and path.rstrip("/").split("/")[-2] == marker.job_id:
                found[marker.job_id] = marker
        return found

    def state(self, job_id: str, key: str) -> ResultState:
        folder = self.path(job_id)
        try:
            marker = Marker.from_bytes(self.fs.cat_file(self.path(job_id, MARKER)))
        except FileNotFoundError:
            marker = None
        if marker is not None:
            return ResultState.DONE if marker.key == key else ResultState.OTHER
        if self.fs.exists(self.path(job_id, STAMP)):
            return ResultState.UNFINISHED
        return ResultState.FOREIGN if self.fs.exists(folder) else ResultState.ABSENT

    @contextmanager
    def staging(self, job_id: str, key: str) -> Iterator[str]:
        """A new empty local folder for one try's results (stamped as ours); removed afterwards
        unless ``publish`` moved it in."""
        if self.is_local:
            os.makedirs(self.path(STAGING), exist_ok=True)
            folder = tempfile.mkdtemp(prefix=f"{job_id}.", dir=self.path(STAGING))
        else:
            folder = tempfile.mkdtemp(prefix=f"masklet-batch-{job_id}.")
        try:
            with open(os.path.join(folder, STAMP), "w", encoding="utf-8") as f:
                json.dump({"job_id": job_id, "key": key}, f)
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def final_folder(self, job_id: str) -> str | None:
        """The local folder a job's results end up in (None on an object store)."""
        return self.path(job_id) if self.is_local else None

    def publish(self, job_id: str, staged: str, marker: Marker) -> None:
        """Move a complete try's results in, then write the marker. The caller checked the state
        (ABSENT or UNFINISHED): an unfinished folder of ours is replaced."""
        target = self.path(job_id)
        if self.is_local:
            if os.path.lexists(target):
                shutil.rmtree(target)
            os.replace(staged, target)
            _write_local_atomic(os.path.join(target, MARKER), marker.to_bytes())
            return
        if self.fs.exists(target):
            self.fs.rm(target, recursive=True)
        self.fs.put_file(os.path.join(staged, STAMP), self.path(job_id, STAMP))
        for name in marker.files:
            if name == STAMP:
                continue
            local = os.path.join(staged, name)
            if os.path.isdir(local):
                self.fs.put(local, self.path(job_id, name), recursive=True)
            else:
                self.fs.put_file(local, self.path(job_id, name))
        self.fs.pipe_file(self.path(job_id, MARKER), marker.to_bytes())

    # -- ledger -----------------------------------------------------------------------------
    def read_ledger(self) -> bytes:
        try:
            return bytes(self.fs.cat_file(self.path(LEDGER)))
        except FileNotFoundError:
            return b""

    def append_ledger(self, lines: bytes, everything: bytes) -> None:
        """Add ``lines`` to the ledger: appended and synced in a folder; on an object store the
        whole ledger (``everything``) is written again (objects cannot be appended to)."""
        if self.is_local:
            with open(self.path(LEDGER), "ab") as f:
                f.write(lines)
                f.flush()
                os.fsync(f.fileno())
        else:
            self.fs.pipe_file(self.path(LEDGER), everything)


def _write_local_atomic(path: str, payload: bytes) -> None:
    temp = f"{path}.{uuid.uuid4().hex}.tmp"
    with open(temp, "wb") as f:
        f.write(payload)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temp, path)
    fd = os.open(os.path.dirname(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
