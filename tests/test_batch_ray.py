"""``masklet batch`` on a local Ray with the small random model: the same results as ``masklet track``,
a corrupt video failing alone, a driver killed mid-run and rerun, an S3 destination (moto's server)."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

import main
from annotator.project import load_project
from annotator.project_schema import document_to_json
from core.batch.destination import MARKER, STAGING, Destination
from core.batch.driver import Cluster, RunReport, run_batch
from core.batch.jobs import JobStatus, RunSettings
from core.batch.ledger import parse_ledger
from core.batch.manifest import read_manifest
from tests.batch_helpers import GatedTracker, S3Server, make_clips, write_manifest
from tests.sam2_helpers import save_random_checkpoint, tiny_test_config
from tests.video_helpers import one_thread

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a local Ray and one model load per worker: tens of seconds each


_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Server]:
    server = S3Server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_ray(s3: S3Server) -> Iterator[None]:
    """One local Ray (2 CPUs) for the in-process runs of this module; ``masklet batch`` joins a
    Ray already started in its process. The S3 server's variables are set before it starts, so
    its workers inherit them."""
    import ray

    before = dict(os.environ)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3.env.items():
            patch.setenv(name, value)
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield
        finally:
            ray.shutdown()
            for name in set(os.environ) - set(before):  # what ray.init set (RAY_AUTH_MODE, PYTHONBREAKPOINT, ...)
                del os.environ[name]
            os.environ.update(before)


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("batch")
    make_clips(root / "clips")
    save_random_checkpoint(root / "tiny.pt", tiny_test_config(128), seed=5)
    good = (root / "clips" / "clip0.mp4").read_bytes()
    (root / "clips" / "broken.mp4").write_bytes(good[: len(good) // 2])  # cut: no index (moov) at the end
    return root


def lines(work: Path, broken: bool = False) -> list[dict]:
    clips = [{"video": f"clips/clip{i}.mp4", "prompts": f"clips/clip{i}.prompts.json"} for i in range(4)]
    if broken:
        clips.insert(2, {"video": "clips/broken.mp4", "prompts": "clips/clip0.prompts.json"})
    return clips


def batch_args(work: Path, manifest: Path, dest: str, *extra: str) -> list[str]:
    return ["batch", str(manifest), "--out", dest, "--checkpoint", str(work / "tiny.pt"), "--device", "cpu", *extra]


def tracked(work: Path, clip: str, *extra: str) -> dict:
    """What ``masklet track`` writes for a clip (run once per clip and flags, in this process)."""
    out = work / "track" / f"{clip}{''.join(extra)}.masklet"
    if not out.exists():
        out.parent.mkdir(exist_ok=True)
        assert main.main(["track", str(work / "clips" / f"{clip}.mp4"), "--prompts", str(work / "clips" / f"{clip}.prompts.json"),
                          "--checkpoint", str(work / "tiny.pt"), "--device", "cpu", "--out", str(out), *extra]) == 0
    return document_to_json(load_project(out).document)


def test_batch_equals_track_and_a_corrupt_video_fails_alone(work: Path, local_ray: None,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    manifest = write_manifest(work / "all.jsonl", lines(work, broken=True))
    dest = work / "out"
    assert main.main(batch_args(work, manifest, str(dest), "--formats", "masklet,coco")) == 1
    err = capsys.readouterr().err
    assert "5 videos: 4 done, 0 skipped (finished before), 1 failed" in err
    failed = [line for line in err.splitlines() if line.startswith("masklet batch: failed")]
    assert len(failed) == 1 and failed[0].startswith("masklet batch: failed broken: ") and "broken.mp4" in failed[0]
    for i in range(4):
        clip = f"clip{i}"
        assert sorted(os.listdir(dest / clip)) == sorted(["_MASKLET_JOB", MARKER, f"{clip}.masklet", f"{clip}.coco.json"])
        assert document_to_json(load_project(dest / clip / f"{clip}.masklet").document) == tracked(work, clip)
        assert {"images", "annotations", "categories"} <= set(json.loads((dest / clip / f"{clip}.coco.json").read_text()))
    assert not (dest / "broken").exists() and os.listdir(dest / STAGING) == []
    records = parse_ledger((dest / "_ledger.jsonl").read_bytes())
    ends = {r.job_id: r for r in records if r.status in ("done", "failed")}
    assert {k: r.status for k, r in ends.items()} == {**{f"clip{i}": "done" for i in range(4)}, "broken": "failed"}
    assert ends["broken"].error == failed[0].split(": ", 2)[2] and "\n" not in ends["broken"].error
    assert all(r.frames == n and r.device == "cpu" for r, n in zip((ends[f"clip{i}"] for i in range(4)), (6, 8, 10, 7)))

    assert main.main(["batch", "--status", str(dest)]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"{dest}: 5 jobs: 4 done, 1 failed, 0 unfinished") and "failed broken:" in out


def test_memory_policy_reaches_each_object_as_in_track(work: Path, local_ray: None) -> None:
    """--memory samurai: every object tracked with it, exactly as masklet track --memory samurai."""
    manifest = write_manifest(work / "memory.jsonl", lines(work)[2:3])
    dest = work / "samurai"
    assert main.main(batch_args(work, manifest, str(dest), "--memory", "samurai")) == 0
    ours = document_to_json(load_project(dest / "clip2" / "clip2.masklet").document)
    assert ours == tracked(work, "clip2", "--memory", "samurai")
    assert [o.get("memory") for o in ours["objects"]] == ["samurai", "samurai"]
    assert ours != tracked(work, "clip2")


# random weights: thresholds at 0 and a loose NMS keep a few masks (4 objects, some found on frame 3 or 6)
AUTO = {"points_per_side": 8, "every": 3, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0, "box_nms_thresh": 0.95}


def test_auto_finds_and_tracks_as_in_track(work: Path, local_ray: None) -> None:
    """A manifest line with "auto" in place of prompts: the objects batch finds and tracks are
    exactly those of ``masklet track --auto-settings`` with the same settings."""
    manifest = write_manifest(work / "auto.jsonl", [{"video": "clips/clip2.mp4", "auto": AUTO}])
    dest = work / "auto"
    assert main.main(batch_args(work, manifest, str(dest))) == 0
    ours = document_to_json(load_project(dest / "clip2" / "clip2.masklet").document)
    out = work / "track" / "clip2.auto.masklet"
    out.parent.mkdir(exist_ok=True)
    assert main.main(["track", str(work / "clips" / "clip2.mp4"), "--auto", "--auto-settings", json.dumps(AUTO),
                      "--checkpoint", str(work / "tiny.pt"), "--device", "cpu", "--out", str(out)]) == 0
    assert ours == document_to_json(load_project(out).document)
    assert len(ours["objects"]) >= 2 and all(o.get("source") == "automatic" for o in ours["objects"])
    assert [o["name"] for o in ours["objects"]] == [f"auto {i}" for i in range(1, len(ours["objects"]) + 1)]


def test_a_worker_killed_mid_video_is_retried(work: Path, local_ray: None) -> None:
    """SIGKILL the worker process while it holds a video: Ray restarts the worker (the model loads
    again), the driver tries the video again, and it ends done; the ledger says why."""
    from annotator.cli.batch import build_parser, _model

    manifest = write_manifest(work / "worker.jsonl", lines(work)[:2])
    dest, waiting, gate = work / "worker_killed", work / "worker_waiting", work / "worker_gate"
    args = build_parser().parse_args(batch_args(work, manifest, str(dest))[1:])
    settings = RunSettings(model=_model(args), device="cpu")
    factory = functools.partial(GatedTracker, job="clip1", waiting=str(waiting), gate=str(gate))
    reports: list[RunReport] = []
    runner = threading.Thread(target=lambda: reports.append(
        run_batch(read_manifest(str(manifest)), settings, Destination(str(dest)), factory, Cluster(workers=1))))
    runner.start()
    deadline = time.monotonic() + 240  # a hang guard, not a bound on speed
    while not waiting.exists():
        assert runner.is_alive() and time.monotonic() < deadline, "the worker never reached clip1"
        time.sleep(0.05)
    os.kill(int(waiting.read_text()), signal.SIGKILL)
    gate.write_text("open")
    runner.join(timeout=600)
    assert not runner.is_alive()
    (report,) = reports
    assert {k: o.status for k, o in report.outcomes.items()} == {"clip0": JobStatus.DONE, "clip1": JobStatus.DONE}
    records = [(r.job_id, r.status, r.attempt) for r in parse_ledger((dest / "_ledger.jsonl").read_bytes())]
    assert ("clip1", "retrying", 1) in records and ("clip1", "done", 2) in records
    lost = [r for r in parse_ledger((dest / "_ledger.jsonl").read_bytes()) if r.status == "retrying"]
    assert lost[0].error.startswith("the worker was lost")
    assert document_to_json(load_project(dest / "clip1" / "clip1.masklet").document) == tracked(work, "clip1")


def _session_processes(sid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid:
                    found.append(int(entry))
            except OSError:
                continue
    return found


GATED_DRIVER = """
import sys
from core.batch.driver import Cluster, run_batch
from core.batch.destination import Destination
from core.batch.manifest import read_manifest
from tests.batch_helpers import gated_tracker
from annotator.cli.batch import build_parser, _model
from core.batch.jobs import RunSettings
args = build_parser().parse_args(sys.argv[1:])
settings = RunSettings(model=_model(args), device=args.device, formats=args.formats, memory=args.memory)
run_batch(read_manifest(args.manifest), settings, Destination(args.out), gated_tracker, Cluster(num_cpus=2, workers=1))
"""


def test_driver_killed_mid_run_then_rerun_finishes_the_rest(work: Path) -> None:
    manifest = write_manifest(work / "kill.jsonl", lines(work))
    dest = work / "killed"
    gate, waiting = work / "gate", work / "waiting"
    env = {**os.environ, "MASKLET_TEST_GATE": f"clip1:{waiting}:{gate}", "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen([sys.executable, "-c", GATED_DRIVER, *batch_args(work, manifest, str(dest))[1:]], cwd=ROOT, env=env,
                              start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240  # a hang guard, not a bound on speed
        while not waiting.exists():  # clip0 is finished, clip1 is on the worker, held at the gate
            assert driver.poll() is None, driver.stderr.read().decode() if driver.stderr else ""
            assert time.monotonic() < deadline, "the driver never reached clip1"
            time.sleep(0.05)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    finally:
        for pid in _session_processes(driver.pid):  # what the killed driver's local Ray left
            os.kill(pid, signal.SIGKILL)
    assert (dest / "clip0" / MARKER).exists() and not (dest / "clip1").exists()
    first = (dest / "clip0" / MARKER).stat()
    gate.write_text("open")

    # the same command again, as a process of its own (its own local Ray, the CLI's default)
    rerun = subprocess.run([sys.executable, str(ROOT / "main.py"), *batch_args(work, manifest, str(dest))], cwd=work,
                           capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "4 videos: 3 done, 1 skipped (finished before), 0 failed" in rerun.stderr
    assert (dest / "clip0" / MARKER).stat().st_mtime_ns == first.st_mtime_ns  # not redone
    assert sorted(p.name for p in dest.iterdir() if p.is_dir()) == sorted([STAGING, *[f"clip{i}" for i in range(4)]])
    assert os.listdir(dest / STAGING) == []
    for i in range(4):
        assert document_to_json(load_project(dest / f"clip{i}" / f"clip{i}.masklet").document) == tracked(work, f"clip{i}")
    runs = {}
    for record in parse_ledger((dest / "_ledger.jsonl").read_bytes()):
        runs.setdefault(record.run, []).append((record.job_id, record.status))
    killed, rerun = runs.values()
    assert ("clip0", "done") in killed and ("clip1", "started") in killed and ("clip1", "done") not in killed
    assert ("clip0", "skipped") in rerun and sum(1 for _, s in rerun if s == "done") == 3


def test_s3_destination_and_video(work: Path, s3: S3Server, local_ray: None, capsys: pytest.CaptureFixture[str]) -> None:
    fs = s3.fs()
    fs.put_file(str(work / "clips" / "clip1.mp4"), f"{s3.bucket}/videos/clip1.mp4")
    fs.put_file(str(work / "clips" / "clip1.prompts.json"), f"{s3.bucket}/videos/clip1.prompts.json")
    manifest = write_manifest(work / "s3.jsonl", [
        {"video": "clips/clip0.mp4", "prompts": "clips/clip0.prompts.json"},
        {"video": f"s3://{s3.bucket}/videos/clip1.mp4", "prompts": f"s3://{s3.bucket}/videos/clip1.prompts.json"},
    ])
    dest = f"s3://{s3.bucket}/results/run"
    assert main.main(batch_args(work, manifest, dest, "--formats", "sav")) == 0
    assert "2 videos: 2 done, 0 skipped" in capsys.readouterr().err
    root = f"{s3.bucket}/results/run"
    for clip in ("clip0", "clip1"):
        names = sorted(p.rsplit("/", 1)[1] for p in fs.ls(f"{root}/{clip}"))
        assert names == sorted(["_MASKLET_JOB", MARKER, f"{clip}.masklet", f"{clip}.sav.json"])
        local = work / "from_s3" / f"{clip}.masklet"
        local.parent.mkdir(exist_ok=True)
        fs.get_file(f"{root}/{clip}/{clip}.masklet", str(local))
        ours, theirs = document_to_json(load_project(local).document), tracked(work, clip)
        if clip == "clip1":  # the project names the video where the manifest has it
            assert ours["video"]["path"] == f"s3://{s3.bucket}/videos/clip1.mp4"
            ours["video"], theirs["video"] = ({k: v for k, v in d["video"].items() if "path" not in k} for d in (ours, theirs))
        assert ours == theirs
    assert {r.status for r in parse_ledger(fs.cat_file(f"{root}/_ledger.jsonl"))} == {"started", "done"}
    # a rerun finds both finished on the store: nothing to do, no worker started
    assert main.main(batch_args(work, manifest, dest, "--formats", "sav")) == 0
    assert "2 videos: 0 done, 2 skipped" in capsys.readouterr().err
    assert main.main(["batch", "--status", dest]) == 0
    assert capsys.readouterr().out.startswith(f"{dest}: 2 jobs: 2 done, 0 failed, 0 unfinished (2 runs")
