"""The network side of a checkpoint download: which addresses may be fetched, bounded
redirects, and a watchdog that ends a transfer on cancel, on a stall or at an overall limit.

Addresses: https:// always; http:// only from this machine (127.0.0.1, localhost, ::1: the
tests' servers, a local mirror) or when MASKLET_ALLOW_HTTP=1 says so; every other scheme
(file:, data:, ftp:, ...) is refused, redirects included.

A blocking socket read cannot look at a cancel flag, so ``Watchdog`` (a thread polling every
``POLL_S``) shuts the connection's socket down when the user cancels, when no byte arrived
for ``stall_s`` or when the transfer ran past ``overall_s``; the blocked read returns at
once and the download reports why. Opening the connection runs on a helper thread for the
same reason (a server that accepts but never answers).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPResponse
from typing import Callable
from urllib.parse import urljoin, urlsplit

from core.types import CancelCheck

POLL_S = 0.1  # how often the watchdog looks at the cancel flag and the clocks
MAX_REDIRECTS = 5
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
ALLOW_HTTP_ENV = "MASKLET_ALLOW_HTTP"


class AddressRefused(Exception):
    """An address (or a redirect's) Masklet will not fetch from; one line."""


def check_address(url: str, allow_http: bool | None = None) -> None:
    """Raise AddressRefused unless ``url`` may be fetched (see the module's docstring).

    allow_http: None reads MASKLET_ALLOW_HTTP (1/true/yes allow plain http:// anywhere).
    """
    if allow_http is None:
        allow_http = os.environ.get(ALLOW_HTTP_ENV, "").strip().lower() in ("1", "true", "yes")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "https" and parts.hostname:
        return
    if scheme == "http" and parts.hostname:
        if allow_http or parts.hostname.lower() in LOCAL_HOSTS:
            return
        raise AddressRefused(
            f"refusing {_short(url)}: plain http:// is only used for 127.0.0.1/localhost"
            f" (set {ALLOW_HTTP_ENV}=1 to allow it); use an https:// address"
        )
    raise AddressRefused(f"refusing {_short(url)}: only https:// addresses are downloaded from")


def _short(url: str) -> str:
    return url if len(url) <= 120 else url[:117] + "..."


class _BoundedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows at most MAX_REDIRECTS redirects, each to an address ``check_address`` allows."""

    max_redirections = MAX_REDIRECTS

    def __init__(self, allow_http: bool | None) -> None:
        self.allow_http = allow_http
        self.count = 0

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201 - urllib's signature
        self.count += 1
        if self.count > MAX_REDIRECTS:
            raise AddressRefused(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")
        check_address(newurl, self.allow_http)
        return super().redirect_request(req, fp, code, msg, headers, newurl)

    def http_error_302(self, req, fp, code, msg, headers):  # noqa: ANN001, ANN201
        location = headers.get("location") or headers.get("uri")
        try:
            if location:  # checked before urllib's own refusal, which reads as a raw HTTP error
                check_address(urljoin(req.full_url, location), self.allow_http)
            return super().http_error_302(req, fp, code, msg, headers)
        except AddressRefused:
            fp.close()
            raise
        except urllib.error.HTTPError as exc:
            fp.close()
            if exc.code in (301, 302, 303, 307, 308):
                raise AddressRefused(f"the server's redirects go round in a loop ({exc.code})") from None
            raise

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


class Cancelled(Exception):
    """The cancel flag was raised while connecting."""


class TimedOut(Exception):
    """No answer, or the transfer ran too long; the message says which, in one line."""


def open_url(request: urllib.request.Request, *, stall_s: float, deadline: float,
             cancel: CancelCheck | None, allow_http: bool | None) -> HTTPResponse:
    """``urlopen`` on a helper thread, given up on cancel, after ``stall_s`` without an answer
    or at ``deadline`` (time.monotonic()). Raises AddressRefused, Cancelled, TimedOut or what
    urlopen raises."""
    check_address(request.full_url, allow_http)
    opener = urllib.request.build_opener(_BoundedRedirects(allow_http))
    done = threading.Event()
    lock = threading.Lock()
    box: dict[str, object] = {}  # "response" or "error"; "abandoned" once nobody waits

    def run() -> None:
        try:
            # the socket's own timeout only backs up the watchdog, which speaks first
            outcome: tuple[str, object] = ("response", opener.open(request, timeout=stall_s + 5.0))
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting thread
            outcome = ("error", exc)
        with lock:
            if "abandoned" in box:
                if outcome[0] == "response":
                    outcome[1].close()  # type: ignore[union-attr]
                return
            box[outcome[0]] = outcome[1]
        done.set()

    threading.Thread(target=run, name="masklet-connect", daemon=True).start()
    started = time.monotonic()
    while not done.wait(POLL_S):
        stop: BaseException | None = None
        now = time.monotonic()
        if cancel is not None and cancel():
            stop = Cancelled()
        elif now >= deadline or now - started > stall_s:
            stop = TimedOut(f"no answer from {urlsplit(request.full_url).netloc} for {now - started:.0f} s")
        if stop is not None:
            with lock:
                if not done.is_set():
                    box["abandoned"] = True
                    raise stop
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["response"]  # type: ignore[return-value]


class Watchdog:
    """Ends a transfer from the side: ``progress()`` after every block read; ``reason`` says
    why the connection was shut (None while it was not). Use as a context manager."""

    def __init__(self, response: HTTPResponse, *, stall_s: float, deadline: float,
                 cancel: CancelCheck | None, clock: Callable[[], float] = time.monotonic) -> None:
        self._sock = _socket_of(response)
        self._stall_s = stall_s
        self._deadline = deadline
        self._cancel = cancel
        self._clock = clock
        self._last = clock()
        self._done = threading.Event()
        self.reason: str | None = None
        self._thread = threading.Thread(target=self._watch, name="masklet-download-watchdog", daemon=True)

    def __enter__(self) -> "Watchdog":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def progress(self) -> None:
        self._last = self._clock()

    def _watch(self) -> None:
        while not self._done.wait(POLL_S):
            now = self._clock()
            if self._cancel is not None and self._cancel():
                self._stop("cancelled")
            elif now - self._last > self._stall_s:
                self._stop(f"stalled: no data for {self._stall_s:g} s")
            elif now >= self._deadline:
                self._stop("took longer than the overall time limit")
            else:
                continue
            return

    def _stop(self, reason: str) -> None:
        self.reason = reason
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _socket_of(response: HTTPResponse) -> socket.socket | None:
    """The socket under an HTTP(S) response (shutting it down wakes a blocked read)."""
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    return sock if isinstance(sock, socket.socket) else None
