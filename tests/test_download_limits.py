"""Downloads end, whatever the server does: a stall, a drip that never finishes, a cancel
while a read waits, redirect loops; and only https:// (or http:// from this machine, or
with the opt-in) is ever fetched. Servers run on 127.0.0.1 in the test."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable, Iterator

import pytest

from core.checkpoints.download import DownloadCancelled, DownloadError, download_file
from core.checkpoints.transport import AddressRefused, check_address


def _never_called(path: Path) -> None:
    raise AssertionError("nothing should reach the load check")


class Script:
    """What the server does for one request: ``handle(handler)``; records that it started."""

    def __init__(self, handle: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.handle = handle
        self.release = threading.Event()  # set at teardown: a stalled handler may return


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[BaseHTTPRequestHandler], None]], str]]:
    servers: list[tuple[ThreadingHTTPServer, Script]] = []

    def start(handle: Callable[[BaseHTTPRequestHandler], None]) -> str:
        script = Script(handle)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                try:
                    script.handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        httpd.script = script  # type: ignore[attr-defined]
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append((httpd, script))
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd, script in servers:
        script.release.set()
        httpd.shutdown()
        httpd.server_close()


def _headers(h: BaseHTTPRequestHandler, length: int) -> None:
    h.send_response(200)
    h.send_header("Content-Length", str(length))
    h.end_headers()
    h.wfile.flush()


def _run(fn: Callable[[], object]) -> BaseException | None:
    """Run ``fn`` on a thread with a hang guard of 60 s; what it raised (None: returned)."""
    box: list[BaseException | None] = [None]

    def body() -> None:
        try:
            fn()
        except BaseException as exc:  # noqa: BLE001
            box[0] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(60)
    assert not thread.is_alive(), "the download hung"
    return box[0]


def test_a_stalled_server_times_out_in_one_line(serve, tmp_path: Path) -> None:
    def stall(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 1000)
        h.wfile.write(b"x" * 10)
        h.wfile.flush()
        h.server.script.release.wait(60)  # type: ignore[attr-defined]

    base = serve(stall)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called, timeout=0.5, retries=0))
    assert isinstance(err, DownloadError)
    assert "interrupted at 10 B (stalled: no data for 0.5 s)" in str(err) and "\n" not in str(err)
    assert (tmp_path / "f.pt.part").stat().st_size == 10  # kept for a resume


def test_a_server_that_drips_forever_meets_the_overall_limit(serve, tmp_path: Path) -> None:
    def drip(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 10**9)
        while not h.server.script.release.is_set():  # type: ignore[attr-defined]
            h.wfile.write(b"x")
            h.wfile.flush()
            time.sleep(0.02)

    base = serve(drip)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called,
                                     timeout=5.0, overall_timeout=0.6, retries=3))
    assert isinstance(err, DownloadError)
    assert "overall time limit" in str(err)


def test_cancel_is_honoured_while_a_read_waits(serve, tmp_path: Path) -> None:
    """The server sends part of the body, raises the cancel flag and then sends nothing:
    the download must end (a read blocked on the socket is woken), not wait for the stall."""
    flag = threading.Event()

    def then_silence(h: BaseHTTPRequestHandler) -> None:
        _headers(h, 10**6)
        h.wfile.write(b"x" * 1000)
        h.wfile.flush()
        flag.set()
        h.server.script.release.wait(60)  # type: ignore[attr-defined]

    base = serve(then_silence)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called,
                                     timeout=600.0, cancel=flag.is_set))
    assert isinstance(err, DownloadCancelled)


def test_cancel_is_honoured_while_the_server_has_not_answered(serve, tmp_path: Path) -> None:
    flag = threading.Event()

    def mute(h: BaseHTTPRequestHandler) -> None:
        flag.set()
        h.server.script.release.wait(60)  # type: ignore[attr-defined]

    base = serve(mute)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called,
                                     timeout=600.0, cancel=flag.is_set))
    assert isinstance(err, DownloadCancelled)


def test_a_redirect_loop_gives_a_plain_message(serve, tmp_path: Path) -> None:
    def loop(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", "/again" + h.path)
        h.send_header("Content-Length", "0")
        h.end_headers()

    base = serve(loop)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called, retries=0))
    assert isinstance(err, DownloadError)
    assert "more than 5 redirects" in str(err) and "HTTP" not in str(err)


@pytest.mark.parametrize("where", ["file:///etc/passwd", "ftp://127.0.0.1/x.pt", "http://example.com/x.pt"])
def test_a_redirect_to_a_refused_address_is_not_followed(serve, tmp_path: Path, where: str, monkeypatch) -> None:
    monkeypatch.delenv("MASKLET_ALLOW_HTTP", raising=False)

    def away(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", where)
        h.send_header("Content-Length", "0")
        h.end_headers()

    base = serve(away)
    err = _run(lambda: download_file(f"{base}/f.pt", tmp_path / "f.pt", verify=_never_called, retries=0))
    assert isinstance(err, DownloadError) and "refusing" in str(err)
    assert not (tmp_path / "f.pt").exists()


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "data:application/octet-stream;base64,AAAA", "ftp://example.com/x.pt",
            "http://example.com/x.pt", "gopher://example.com/", "https:///no-host", "not a url"],
)
def test_addresses_other_than_https_are_refused_before_connecting(url: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("MASKLET_ALLOW_HTTP", raising=False)
    with pytest.raises(DownloadError) as err:
        download_file(url, tmp_path / "f.pt", verify=_never_called)
    assert "refusing" in str(err.value) and "\n" not in str(err.value)
    assert not list(tmp_path.iterdir())  # nothing written, not even a .part


def test_plain_http_needs_this_machine_or_the_opt_in(monkeypatch) -> None:
    monkeypatch.delenv("MASKLET_ALLOW_HTTP", raising=False)
    for local in ("http://127.0.0.1:8000/x.pt", "http://localhost/x.pt", "http://[::1]:9/x.pt", "https://example.com/x"):
        check_address(local)
    with pytest.raises(AddressRefused):
        check_address("http://mirror.example.org/x.pt")
    check_address("http://mirror.example.org/x.pt", allow_http=True)
    monkeypatch.setenv("MASKLET_ALLOW_HTTP", "1")
    check_address("http://mirror.example.org/x.pt")
    with pytest.raises(AddressRefused):  # the opt-in is for http only
        check_address("file:///etc/passwd")


def test_the_cli_refuses_a_file_url_in_one_line(capsys, monkeypatch) -> None:
    from annotator.cli import models

    monkeypatch.delenv("MASKLET_ALLOW_HTTP", raising=False)
    code = models.main(["download", "sam2.1_hiera_tiny", "--url", "file:///etc/passwd"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("masklet models: refusing file:///etc/passwd")
    assert not any("Traceback" in line for line in err)
