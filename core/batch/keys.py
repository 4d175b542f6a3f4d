"""Job keys: what makes two jobs the same job, so a rerun skips exactly the finished ones.

A job's key is the sha256 of its video's content fingerprint, its work (the prompts' content),
the model's identity, the settings that change its results (device, formats, memory policy) and
``KEY_VERSION``. Reading a video's fingerprint costs its size and at most 2 MiB (first and last
MiB of a file; for a folder of frames every image's name and size and the first MiB of the first
and last image), through fsspec, so it is the same for a local file and an ``s3://`` object.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import PurePosixPath

from core.batch.jobs import JobSpec, RunSettings

CHUNK = 2**20
# Bump when a change to tracking or writing makes earlier results stale.
KEY_VERSION = 1
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def is_url(location: str) -> bool:
    return "://" in location


def canonical_json(value: object) -> str:
    """One text for equal JSON values (sorted keys, no spaces): ``1`` and ``1.0`` stay apart."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def _digest_file(h: "hashlib._Hash", fs: object, path: str, size: int, tail: bool = True) -> None:
    h.update(f"size={size};".encode())
    with fs.open(path, "rb") as f:  # type: ignore[attr-defined]
        h.update(f.read(CHUNK))
        if tail and size > CHUNK:
            f.seek(max(CHUNK, size - CHUNK))
            h.update(f.read(CHUNK))


def content_fingerprint(location: str) -> str:
    """"sha256:<hex>" of a video file's or frame folder's content; raises OSError / FileNotFoundError."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location)
    h = hashlib.sha256(b"masklet-batch-video-v1;")
    if fs.isdir(path):
        entries = [e for e in fs.ls(path, detail=True)
                   if e.get("type") == "file" and PurePosixPath(e["name"]).suffix.lower() in IMAGE_SUFFIXES]
        entries.sort(key=lambda e: e["name"])
        if not entries:
            raise FileNotFoundError(f"{location}: no images in this folder")
        for e in entries:
            h.update(f"{PurePosixPath(e['name']).name}:{e['size']};".encode())
        _digest_file(h, fs, entries[0]["name"], int(entries[0]["size"]), tail=False)
        _digest_file(h, fs, entries[-1]["name"], int(entries[-1]["size"]), tail=False)
        h.update(f"frames={len(entries)}".encode())
    else:
        info = fs.info(path)  # FileNotFoundError for a missing video
        _digest_file(h, fs, path, int(info["size"]))
    return "sha256:" + h.hexdigest()


def file_identity(location: str) -> str:
    """A checkpoint's identity for the key: its content fingerprint (size, first and last MiB)."""
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location)
    h = hashlib.sha256(b"masklet-batch-file-v1;")
    _digest_file(h, fs, path, int(fs.info(path)["size"]))
    return "sha256:" + h.hexdigest()


def job_key(job: JobSpec, video_fingerprint: str, settings: RunSettings) -> str:
    """The job's key: 32 hex digits (128 bits of sha256) naming this video, work and settings."""
    if job.work is None:
        raise ValueError(f"job {job.job_id} has no work ({job.problem})")
    payload = {"version": KEY_VERSION, "video": video_fingerprint, "work": job.work.kind,
               "input": job.work.key_payload(), "settings": settings.key_payload()}
    return hashlib.sha256(canonical_json(payload).encode("ascii")).hexdigest()[:32]
