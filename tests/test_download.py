"""The checkpoint download against a server on 127.0.0.1: success, resume, rejection, errors, cancel.

Every file served is a random-weight checkpoint in the official format (or a damaged copy of
one), checked by the real ``core.sam2.checkpoint.inspect_checkpoint``.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from core.checkpoints.catalogue import default_entry, find
from core.checkpoints.download import (
    DownloadCancelled,
    DownloadError,
    download_entry,
    download_file,
    source_for,
)
from core.checkpoints.paths import checkpoint_path, checkpoints_dir, partial_path
from core.checkpoints.progress import DownloadProgress
from core.checkpoints.verify import CheckpointFacts, verifier_for

from .test_download_helpers import (  # noqa: F401 - fixtures
    Behaviour,
    CheckpointServer,
    clean_cache,
    closed_port,
    custom_checkpoint,
    files_dir,
    offline_by_default,
    official_checkpoint,
    server,
    truncated_copy,
)

TINY = default_entry()


@pytest.fixture
def tiny_file(files_dir: Path) -> Path:
    return official_checkpoint(files_dir)


def serve(server: CheckpointServer, file: Path, **behaviour: object) -> str:
    server.routes[TINY.file_name] = Behaviour(file=file, **behaviour)  # type: ignore[arg-type]
    return server.url(TINY.file_name)


def leftovers(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.glob(target.name + "*")) if target.parent.exists() else []


@pytest.mark.slow
def test_download_succeeds_verified_in_the_cache(server: CheckpointServer, tiny_file: Path, clean_cache: Path) -> None:
    url = serve(server, tiny_file)
    reports: list[DownloadProgress] = []
    path = download_entry(TINY, verifier_for(TINY), url=url, on_progress=reports.append)
    assert path == clean_cache / "sam2.1_hiera_tiny.pt" == checkpoint_path(TINY)
    assert filecmp.cmp(path, tiny_file, shallow=False)
    assert leftovers(path) == ["sam2.1_hiera_tiny.pt"]  # no .part, no .part.json
    size = tiny_file.stat().st_size
    assert reports[-1].done == reports[-1].total == size
    assert [r.done for r in reports] == sorted(r.done for r in reports)
    assert any(r.rate > 0 for r in reports)
    assert [s.range for s in server.seen] == [None]
    # Already there: no second request.
    assert download_entry(TINY, verifier_for(TINY), url=url) == path
    assert len(server.seen) == 1


@pytest.mark.slow
def test_broken_connection_is_resumed_with_a_range_request(server: CheckpointServer, tiny_file: Path, clean_cache: Path) -> None:
    cut = 40_000_000
    url = serve(server, tiny_file, cut_after=cut)
    path = download_entry(TINY, verifier_for(TINY), url=url)
    assert filecmp.cmp(path, tiny_file, shallow=False)
    assert [s.range for s in server.seen] == [None, f"bytes={cut}-"]


@pytest.mark.slow
def test_interrupted_download_keeps_its_part_and_the_next_call_resumes(
    server: CheckpointServer, tiny_file: Path, clean_cache: Path
) -> None:
    cut = 50_000_000
    url = serve(server, tiny_file, cut_after=cut)
    with pytest.raises(DownloadError, match=r"interrupted at 50\.0 MB .*run it again to resume") as info:
        download_entry(TINY, verifier_for(TINY), url=url, retries=0)
    assert "\n" not in str(info.value)
    target = checkpoint_path(TINY)
    assert not target.exists()
    assert partial_path(target).stat().st_size == cut
    path = download_entry(TINY, verifier_for(TINY), url=url)
    assert filecmp.cmp(path, tiny_file, shallow=False)
    assert [s.range for s in server.seen] == [None, f"bytes={cut}-"]
    assert leftovers(path) == ["sam2.1_hiera_tiny.pt"]


@pytest.mark.slow
def test_truncated_file_is_rejected_and_deleted(server: CheckpointServer, tiny_file: Path, files_dir: Path, clean_cache: Path) -> None:
    # The server itself holds a cut file and announces its (short) length: only the load check can tell.
    url = serve(server, truncated_copy(tiny_file, files_dir))
    with pytest.raises(DownloadError, match="rejected and deleted: .*truncated or damaged") as info:
        download_entry(TINY, verifier_for(TINY), url=url)
    assert "\n" not in str(info.value)
    assert leftovers(checkpoint_path(TINY)) == []


def test_another_model_under_the_name_is_rejected(server: CheckpointServer, files_dir: Path, clean_cache: Path) -> None:
    url = serve(server, custom_checkpoint(files_dir))
    with pytest.raises(DownloadError, match="holds custom SAM 2 configuration .*, not SAM 2.1 tiny"):
        download_entry(TINY, verifier_for(TINY), url=url)
    assert leftovers(checkpoint_path(TINY)) == []


@pytest.mark.slow
def test_official_size_is_insisted_on(server: CheckpointServer, tiny_file: Path, clean_cache: Path) -> None:
    # Our random file is a few kB off the official one: as if the host served something else.
    url = serve(server, tiny_file)
    target = checkpoint_path(TINY)
    with pytest.raises(DownloadError, match=f"not the {TINY.size_bytes} bytes of the official file"):
        download_file(url, target, verify=verifier_for(TINY), expected_size=TINY.size_bytes)
    assert leftovers(target) == []


@pytest.mark.slow
@pytest.mark.parametrize("status", [500, 404])
def test_http_error_is_one_clear_line(server: CheckpointServer, tiny_file: Path, clean_cache: Path, status: int) -> None:
    url = serve(server, tiny_file, status=status)
    with pytest.raises(DownloadError, match=f"127.0.0.1:[0-9]+ answered HTTP {status} ") as info:
        download_entry(TINY, verifier_for(TINY), url=url)
    assert "\n" not in str(info.value)
    assert leftovers(checkpoint_path(TINY)) == []


def test_offline_is_one_clear_line(clean_cache: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/sam2.1_hiera_tiny.pt"
    with pytest.raises(DownloadError, match="connection refused; check the connection, or use a local checkpoint file") as info:
        download_entry(TINY, verifier_for(TINY), url=url)
    assert "\n" not in str(info.value)
    assert leftovers(checkpoint_path(TINY)) == []


@pytest.mark.slow
def test_cancel_stops_between_blocks_and_keeps_the_part(server: CheckpointServer, tiny_file: Path, clean_cache: Path) -> None:
    url = serve(server, tiny_file, pace_s=0.002)
    seen: list[int] = []

    def cancel() -> bool:
        return bool(seen) and seen[-1] >= 3_000_000

    with pytest.raises(DownloadCancelled):
        download_entry(TINY, verifier_for(TINY), url=url, on_progress=lambda p: seen.append(p.done), cancel=cancel)
    target = checkpoint_path(TINY)
    kept = partial_path(target).stat().st_size
    assert 3_000_000 <= kept < tiny_file.stat().st_size
    assert not target.exists()
    server.routes[TINY.file_name].pace_s = 0.0
    path = download_entry(TINY, verifier_for(TINY), url=url)
    assert filecmp.cmp(path, tiny_file, shallow=False)
    assert server.seen[-1].range == f"bytes={kept}-"


@pytest.mark.slow
def test_whole_part_file_is_checked_without_refetching(server: CheckpointServer, tiny_file: Path, clean_cache: Path) -> None:
    url = serve(server, tiny_file)
    target = checkpoint_path(TINY)
    target.parent.mkdir(parents=True)
    partial_path(target).write_bytes(tiny_file.read_bytes())
    assert download_entry(TINY, verifier_for(TINY), url=url) == target
    assert [s.range for s in server.seen] == [f"bytes={tiny_file.stat().st_size}-"]  # answered 416, nothing sent
    assert filecmp.cmp(target, tiny_file, shallow=False)


@pytest.mark.slow
def test_verifier_reports_what_the_file_holds(tiny_file: Path) -> None:
    facts = verifier_for(TINY)(tiny_file)
    assert isinstance(facts, CheckpointFacts)
    assert facts.official is TINY
    assert facts.parameters == TINY.parameters == 38_962_754
    assert facts.description.startswith("SAM 2.1 tiny, 39.0 M parameters, 156.0 MB")


def test_sources_official_mirror_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = find("sam2_hiera_large")
    monkeypatch.delenv("MASKLET_MODEL_BASE_URL")
    assert source_for(entry) == (entry.url, entry.size_bytes)
    monkeypatch.setenv("MASKLET_MODEL_BASE_URL", "http://127.0.0.1:9/mirror/")
    assert source_for(entry) == ("http://127.0.0.1:9/mirror/sam2_hiera_large.pt", None)
    assert source_for(entry, "http://127.0.0.1:9/x.pt") == ("http://127.0.0.1:9/x.pt", None)


def test_cache_folder_follows_masklet_home_then_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MASKLET_HOME", str(tmp_path / "portable"))
    assert checkpoints_dir() == tmp_path / "portable" / "cache" / "checkpoints"
    monkeypatch.delenv("MASKLET_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert checkpoints_dir() == tmp_path / "xdg" / "masklet" / "checkpoints"


def test_progress_message() -> None:
    report = DownloadProgress(done=12_300_000, total=156_000_000, rate=4_500_000.0, eta=25.2)
    assert report.message == "12.3 MB of 156.0 MB, 4.5 MB/s, 25 s left"
    assert report.fraction == pytest.approx(12.3 / 156)
    assert DownloadProgress(done=900, total=None, rate=0.0, eta=None).message == "900 B"
    assert DownloadProgress(done=0, total=2_000_000_000, rate=1e6, eta=3725).message == "0 B of 2.0 GB, 1.0 MB/s, 1 h 02 min left"
