"""The command line answers without a display and without loading torch."""

from __future__ import annotations

import os
import subprocess
import sys

from core import __version__

from .conftest import ROOT


def run_main(*args: str, env_update: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(env_update or {})
    code = "import sys, main; rc = main.main(sys.argv[1:]); print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr); sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_version_without_display_or_torch() -> None:
    result = run_main("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"masklet {__version__}"
    assert "NOTORCH" in result.stderr


def test_help_lists_commands() -> None:
    result = run_main("--help")
    assert result.returncode == 0
    for command in ("track", "export", "import", "models"):
        assert command in result.stdout
    assert "NOTORCH" in result.stderr


def test_no_display_gives_one_clear_line() -> None:
    result = run_main(env_update={"QT_QPA_PLATFORM": "xcb"})
    assert result.returncode == 1
    first = result.stderr.strip().splitlines()[0]
    assert "no display" in first and "QT_QPA_PLATFORM=offscreen" in first


def test_unknown_option_is_refused() -> None:
    result = run_main("--frobnicate")
    assert result.returncode == 2
    assert "unknown option" in result.stderr
