"""Test isolation: every test runs headless with its own settings, cache and config folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import core  # noqa: F401 - before anything imports torch: core sets torch's allocator options

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point QSettings, platformdirs and XDG folders at a fresh temporary directory."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
    ):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("MASKLET_HOME", str(home))
    # torch's thread count stays fixed: results do not depend on what else runs on the machine
    # (tests/test_cpu_threads.py turns adapting on where it is the subject)
    monkeypatch.setenv("MASKLET_THREADS", "fixed")
    try:
        from PySide6.QtCore import QSettings
    except ImportError:  # pragma: no cover - PySide6 is a hard dependency
        return home
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        QSettings.setPath(QSettings.Format.IniFormat, scope, str(home / "qsettings"))
    return home


@pytest.fixture
def shared_data() -> Path:
    """../shared/data beside the repository; tests needing it skip nothing: it must be there."""
    assert SHARED_DATA.is_dir(), f"missing {SHARED_DATA}"
    return SHARED_DATA
