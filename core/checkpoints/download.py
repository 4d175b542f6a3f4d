"""Resumable, verified download of one checkpoint file over HTTP(S), with the standard library only.

The file grows in ``NAME.part`` beside its final place. An interrupted transfer is resumed
with an HTTP ``Range`` request (automatically a few times, and again on the next call); a
size check against what the server announced (and, for the official host, the catalogue's
exact size) and a load check run before an atomic rename to the final name. So a file at
its final name is always complete and loadable; a partial or corrupt one is never used.

The load check is passed in (``verify``): it needs torch, and this module must stay
importable by the window without torch.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from http.client import HTTPException, HTTPResponse
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from core import __version__
from core.checkpoints.catalogue import CheckpointEntry
from core.checkpoints.paths import checkpoint_path, partial_path
from core.checkpoints.progress import Meter, ProgressSink, format_bytes
from core.checkpoints.transport import AddressRefused, Cancelled, TimedOut, Watchdog, check_address, open_url
from core.types import CancelCheck

Verifier = Callable[[Path], object]
"""Raises (any exception, with a clear message) when the file at the path is not usable."""


class DownloadError(Exception):
    """A download that cannot finish; the message is one line the user can act on."""


class DownloadCancelled(Exception):
    """The user cancelled; the ``.part`` file is kept so that the next download resumes."""


class _Interrupted(Exception):
    """The connection broke mid-body; worth resuming."""


def source_for(entry: CheckpointEntry, url: str | None = None) -> tuple[str, int | None]:
    """The address to fetch ``entry`` from and the exact size to insist on.

    ``url`` (a whole address) or the MASKLET_MODEL_BASE_URL environment variable (a folder
    the official file names are appended to) replace the official host; a mirror's sizes
    are then taken from its own announcement, the official host's must match the catalogue.
    """
    if url:
        return url, None  # download_file checks the address (check_address) before anything
    base = os.environ.get("MASKLET_MODEL_BASE_URL")
    if base:
        return f"{base.rstrip('/')}/{entry.file_name}", None
    return entry.url, entry.size_bytes


def download_entry(
    entry: CheckpointEntry,
    verify: Verifier,
    *,
    directory: Path | None = None,
    url: str | None = None,
    on_progress: ProgressSink | None = None,
    cancel: CancelCheck | None = None,
    retries: int = 3,
) -> Path:
    """Fetch one catalogue checkpoint into the cache (or ``directory``); its final path.

    Returns at once when the file is already there (it was verified when it arrived).
    """
    target = checkpoint_path(entry, directory)
    if target.is_file():
        return target
    address, expected = source_for(entry, url)
    return download_file(
        address, target, verify=verify, expected_size=expected, on_progress=on_progress, cancel=cancel, retries=retries
    )


def download_file(
    url: str,
    target: Path,
    *,
    verify: Verifier,
    expected_size: int | None = None,
    on_progress: ProgressSink | None = None,
    cancel: CancelCheck | None = None,
    retries: int = 3,
    timeout: float = 30.0,
    overall_timeout: float = 6 * 3600.0,
    allow_http: bool | None = None,
    chunk_size: int = 1 << 16,
) -> Path:
    """Download ``url`` to ``target`` through ``target.part``; ``target`` once verified.

    expected_size: exact bytes the file must have (None: trust the server's announcement).
    retries: how many breaks in a row (without the file growing in between) are resumed
    automatically; 0 never resumes automatically (the next call does).
    timeout: seconds without a byte (or an answer) before the transfer counts as stalled.
    overall_timeout: seconds the whole download may take. allow_http: plain http:// beyond
    this machine (None: the MASKLET_ALLOW_HTTP environment variable; see core.checkpoints.transport).
    A cancel is seen within a tenth of a second, even while a read waits for the network.
    Raises DownloadError (one clear line) or DownloadCancelled.
    """
    try:
        check_address(url, allow_http)
    except AddressRefused as exc:
        raise DownloadError(str(exc)) from None
    deadline = time.monotonic() + overall_timeout
    target.parent.mkdir(parents=True, exist_ok=True)
    part = partial_path(target)
    meter = Meter(on_progress)
    failures = 0
    while True:
        _check_cancel(cancel)
        before = part.stat().st_size if part.exists() else 0
        try:
            total = _fetch(url, part, expected_size, meter, cancel, (timeout, deadline, allow_http), chunk_size)
            break
        except _Interrupted as exc:
            now = part.stat().st_size if part.exists() else 0
            failures = 0 if now > before else failures + 1
            if retries == 0 or failures > retries:
                raise DownloadError(
                    f"download of {target.name} interrupted at {format_bytes(now)} ({exc}); run it again to resume"
                ) from None
            if time.monotonic() >= deadline:
                raise DownloadError(f"download of {target.name} took longer than {overall_timeout:g} s; run it again to resume")
            time.sleep(min(0.2 * failures, 2.0))
    _accept(part, target, total, expected_size, verify)
    meter.finish(total)
    return target


def _check_cancel(cancel: CancelCheck | None) -> None:
    if cancel is not None and cancel():
        raise DownloadCancelled("download cancelled")


def _meta_path(part: Path) -> Path:
    return part.with_name(part.name + ".json")


def _fetch(
    url: str, part: Path, expected: int | None, meter: Meter, cancel: CancelCheck | None,
    limits: tuple[float, float, bool | None], chunk: int,
) -> int:
    """One request: append to ``part`` from where it stops. Returns the file's total bytes."""
    offset = part.stat().st_size if part.exists() else 0
    meta = _read_meta(part, url)
    headers = {"User-Agent": f"masklet/{__version__}", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        if meta.get("validator"):
            headers["If-Range"] = str(meta["validator"])
    stall_s, deadline, allow_http = limits
    try:
        response: HTTPResponse = open_url(
            urllib.request.Request(url, headers=headers), stall_s=stall_s, deadline=deadline, cancel=cancel,
            allow_http=allow_http,
        )
    except Cancelled:
        raise DownloadCancelled("download cancelled") from None
    except (AddressRefused, TimedOut) as exc:
        raise DownloadError(f"cannot download {url}: {exc}") from None
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            total = _range_total(exc.headers.get("Content-Range"))
            if total is not None and total == offset:
                return total  # the part file is already whole
            _discard(part)
            raise _Interrupted("the server refused to resume; starting again") from None
        raise DownloadError(f"{_host(url)} answered HTTP {exc.code} {exc.reason} for {url}") from None
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        raise DownloadError(f"cannot download {url}: {_reason(exc)}; check the connection, or use a local checkpoint file") from None
    with response:
        if response.status == 206:
            start, total = _content_range(response.headers.get("Content-Range"))
            if start != offset or (meta.get("total") not in (None, total)):
                _discard(part)
                raise _Interrupted("the server resumed from the wrong place; starting again")
            mode = "ab"
        else:
            offset, mode = 0, "wb"
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
        if expected is not None and total is not None and total != expected:
            _discard(part)
            raise DownloadError(
                f"{url} is {format_bytes(total)} ({total} bytes), not the {expected} bytes of the official file; refusing it"
            )
        _free_space_check(part, total, offset)
        _write_meta(part, url, response.headers.get("ETag") or response.headers.get("Last-Modified"), total)
        meter.start(offset, total)
        done = offset
        with open(part, mode) as sink, Watchdog(response, stall_s=stall_s, deadline=deadline, cancel=cancel) as dog:
            while True:
                _check_cancel(cancel)
                try:
                    # read1: whatever one network read gives (at most ``chunk``), never waiting
                    # to fill a whole block, so the loop turns with every packet that arrives
                    block = response.read1(chunk)
                except (OSError, HTTPException, ValueError) as exc:
                    if dog.reason is None:
                        raise _Interrupted(_reason(exc)) from None
                    block = b""
                if not block:
                    break
                dog.progress()
                sink.write(block)
                done += len(block)
                meter.update(done)
            sink.flush()
            os.fsync(sink.fileno())
        if dog.reason == "cancelled":
            raise DownloadCancelled("download cancelled")
        if dog.reason is not None and dog.reason.startswith("stalled"):
            raise _Interrupted(dog.reason)  # worth resuming, like a broken connection
        if dog.reason is not None:
            raise DownloadError(f"download from {_host(url)} {dog.reason}; run it again to resume")
    if total is not None and done < total:
        raise _Interrupted(f"connection closed after {done} of {total} bytes")
    return done if total is None else total


def _accept(part: Path, target: Path, total: int, expected: int | None, verify: Verifier) -> None:
    """Size check, load check, atomic rename; a file failing either check is deleted."""
    size = part.stat().st_size
    if size != total or (expected is not None and size != expected):
        want = expected if expected is not None else total
        _discard(part)
        raise DownloadError(f"downloaded {target.name} has {size} bytes instead of {want}; it was deleted, try again")
    try:
        verify(part)
    except Exception as exc:  # noqa: BLE001 - any failure of the load check rejects the file
        _discard(part)
        raise DownloadError(f"downloaded {target.name} was rejected and deleted: {_first_line(exc)}") from None
    os.replace(part, target)
    _meta_path(part).unlink(missing_ok=True)


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)
    _meta_path(part).unlink(missing_ok=True)


def _read_meta(part: Path, url: str) -> dict[str, object]:
    """What the last request said about the file; empty when it was about another address."""
    try:
        meta = json.loads(_meta_path(part).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) and meta.get("url") == url else {}


def _write_meta(part: Path, url: str, validator: str | None, total: int | None) -> None:
    _meta_path(part).write_text(json.dumps({"url": url, "validator": validator, "total": total}), encoding="utf-8")


def _free_space_check(part: Path, total: int | None, offset: int) -> None:
    if total is None:
        return
    free = shutil.disk_usage(part.parent).free
    if free < total - offset:
        raise DownloadError(f"not enough disk space in {part.parent}: {format_bytes(total - offset)} needed, {format_bytes(free)} free")


def _content_range(value: str | None) -> tuple[int, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); total None for ``/*``."""
    try:
        unit, spec = (value or "").split(" ", 1)
        span, total = spec.split("/", 1)
        start = int(span.split("-", 1)[0])
    except ValueError:
        raise DownloadError(f"the server sent a malformed Content-Range ({value!r})") from None
    return start, (int(total) if total.strip().isdigit() else None)


def _range_total(value: str | None) -> int | None:
    """Total from a 416's ``bytes */1000``."""
    if value and "/" in value and value.rsplit("/", 1)[1].strip().isdigit():
        return int(value.rsplit("/", 1)[1])
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _reason(exc: BaseException) -> str:
    """Why a connection failed, in words: 'connection refused', 'name not resolved', ..."""
    inner = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, socket.gaierror):
        return "host name not resolved (offline?)"
    if isinstance(inner, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(inner, ConnectionResetError):
        return "connection reset"
    return _first_line(inner)
