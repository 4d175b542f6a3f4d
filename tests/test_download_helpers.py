"""Test support for the model download tests (no tests here): a local HTTP server, checkpoint files, fixtures.

``CheckpointServer`` is an ``http.server`` on 127.0.0.1 (a free port) in a thread. It serves
files with ``Range`` support and can misbehave on purpose: cut the body after some bytes
(announcing the full length), answer with an error status, pace its sending so that a
cancel lands mid-way. It records every request's path and Range header.
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import pytest


@dataclass
class Behaviour:
    """How the server answers one path.

    cut_after: close the connection after this many body bytes, on the first ``cuts`` requests.
    status: answer every request with this HTTP error instead of the file.
    pace_s: sleep between 64 kB blocks (lets a test cancel mid-way).
    """

    file: Path
    cut_after: int | None = None
    cuts: int = 1
    status: int | None = None
    pace_s: float = 0.0
    served: int = 0


@dataclass(frozen=True)
class Seen:
    path: str
    range: str | None


@dataclass
class CheckpointServer:
    """Serve files under http://127.0.0.1:PORT/NAME; ``url(name)`` gives the address."""

    routes: dict[str, Behaviour] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
                pass

            def do_GET(self) -> None:  # noqa: N802 - the base class's name
                server.seen.append(Seen(self.path, self.headers.get("Range")))
                route = server.routes.get(self.path.lstrip("/"))
                if route is None:
                    self.send_error(404)
                    return
                if route.status is not None:
                    self.send_error(route.status)
                    return
                self._send(route)

            def _send(self, route: Behaviour) -> None:
                data_len = route.file.stat().st_size
                start = 0
                wanted = self.headers.get("Range")
                if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
                    start = int(wanted[len("bytes=") : -1])
                    if start >= data_len:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{data_len}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{data_len - 1}/{data_len}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(data_len - start))
                self.send_header("ETag", f'"{data_len}-{int(route.file.stat().st_mtime)}"')
                self.end_headers()
                limit = data_len - start
                if route.cut_after is not None and route.served < route.cuts:
                    limit = max(0, min(limit, route.cut_after - start))
                route.served += 1
                sent = 0
                with open(route.file, "rb") as source:
                    source.seek(start)
                    while sent < limit:
                        block = source.read(min(1 << 16, limit - sent))
                        try:
                            self.wfile.write(block)
                        except (BrokenPipeError, ConnectionResetError):
                            return
                        sent += len(block)
                        if route.pace_s:
                            time.sleep(route.pace_s)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{name}"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_MADE: dict[str, Path] = {}


def official_checkpoint(folder: Path, version: str = "2.1", size: str = "tiny") -> Path:
    """A random-weight checkpoint in the official format (``{"model": state_dict}``, float32).

    Made once per test run (about 2 s and 156 MB for tiny) and shared by every test.
    """
    key = f"{version}-{size}"
    if key not in _MADE:
        from core.sam2.config import config_for

        from .sam2_helpers import save_random_checkpoint

        _MADE[key] = save_random_checkpoint(folder / f"random_{version}_{size}.pt", config_for(version, size))
    return _MADE[key]


def custom_checkpoint(folder: Path) -> Path:
    """A loadable checkpoint of the small custom test configuration (not an official model)."""
    if "custom" not in _MADE:
        from .sam2_helpers import save_random_checkpoint

        _MADE["custom"] = save_random_checkpoint(folder / "custom_test_config.pt")
    return _MADE["custom"]


def truncated_copy(source: Path, folder: Path, fraction: float = 0.6) -> Path:
    """The first ``fraction`` of ``source``'s bytes, as a file of its own."""
    path = folder / f"truncated_{source.name}"
    if not path.exists():
        with open(source, "rb") as src:
            path.write_bytes(src.read(int(source.stat().st_size * fraction)))
    return path


@pytest.fixture(scope="session")
def files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("served")


@pytest.fixture
def server() -> Iterator[CheckpointServer]:
    srv = CheckpointServer()
    yield srv
    srv.close()


@pytest.fixture
def clean_cache() -> Iterator[Path]:
    """The (isolated) checkpoint cache; emptied afterwards so that 156 MB files do not pile up."""
    from core.checkpoints.paths import checkpoints_dir

    folder = checkpoints_dir()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def offline_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download a test did not point somewhere goes to a closed port on 127.0.0.1, never out."""
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", f"http://127.0.0.1:{closed_port()}")
