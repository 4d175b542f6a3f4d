"""``masklet models list | download | path`` against a server on 127.0.0.1."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.cli.models import main
from core.checkpoints.catalogue import CATALOGUE, default_entry
from core.checkpoints.paths import checkpoint_path, checkpoints_dir

from .conftest import ROOT
from .test_download_helpers import (  # noqa: F401 - fixtures
    Behaviour,
    CheckpointServer,
    clean_cache,
    closed_port,
    files_dir,
    offline_by_default,
    official_checkpoint,
    server,
)

TINY = default_entry()


def test_list_shows_every_model_and_what_is_downloaded(capsys: pytest.CaptureFixture[str], clean_cache: Path) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["name", "version", "size", "file", "size", "downloaded", "path"]
    for entry in CATALOGUE:
        row = next(line for line in lines if line.startswith(entry.name + " "))
        assert f" {entry.version.value} " in row and row.rstrip().endswith(str(checkpoint_path(entry)))
        assert " no " in row
    assert "sam2.1_hiera_tiny (default)" in out
    assert f"cache folder: {checkpoints_dir()}" in out
    checkpoint_path(TINY).parent.mkdir(parents=True)
    checkpoint_path(TINY).write_bytes(b"x")
    main(["list"])
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("sam2.1_hiera_tiny "))
    assert " yes " in row


@pytest.mark.slow
def test_download_then_path(
    capsys: pytest.CaptureFixture[str], server: CheckpointServer, files_dir: Path, clean_cache: Path
) -> None:
    source = official_checkpoint(files_dir)
    server.routes[TINY.file_name] = Behaviour(file=source)
    assert main(["path", "sam2.1_hiera_tiny"]) == 1
    assert capsys.readouterr().err == (
        "masklet models: sam2.1_hiera_tiny is not downloaded; run: masklet models download sam2.1_hiera_tiny\n"
    )
    assert main(["download", "--url", server.url(TINY.file_name)]) == 0  # the default model
    captured = capsys.readouterr()
    target = checkpoint_path(TINY)
    assert captured.out == f"{target}\n"
    assert "downloading SAM 2.1 tiny (156.0 MB)" in captured.err
    assert "MB of " in captured.err  # progress lines
    assert filecmp.cmp(target, source, shallow=False)
    assert main(["path", "sam2.1_hiera_tiny.pt"]) == 0
    assert capsys.readouterr().out == f"{target}\n"
    assert main(["download", "sam2.1_hiera_tiny"]) == 0  # already there: nothing fetched
    assert "already downloaded" in capsys.readouterr().err
    assert len(server.seen) == 1


def test_download_from_base_url_env_reports_server_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: CheckpointServer, files_dir: Path
) -> None:
    server.routes["sam2_hiera_small.pt"] = Behaviour(file=files_dir, status=500)
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", server.base_url + "/")
    assert main(["download", "sam2_hiera_small"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith("masklet models: 127.0.0.1:") and "answered HTTP 500" in err[-1]
    assert [s.path for s in server.seen] == ["/sam2_hiera_small.pt"]


def test_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["download", "sam3_huge"]) == 1
    assert capsys.readouterr().err.startswith("masklet models: unknown model 'sam3_huge'; choose one of: ")
    assert main(["download", "--url", f"http://127.0.0.1:{closed_port()}/x.pt"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1].endswith("connection refused; check the connection, or use a local checkpoint file")


def test_list_through_the_entry_point_loads_no_torch() -> None:
    code = "import sys, main; rc = main.main(['models', 'list']); print('TORCH' if 'torch' in sys.modules else 'NOTORCH', file=sys.stderr); sys.exit(rc)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "sam2.1_hiera_large" in result.stdout
    assert "NOTORCH" in result.stderr
