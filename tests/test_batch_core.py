"""``masklet batch`` without Ray or a model: manifests, job keys, destinations, the ledger, a worker slot in-process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from core.batch.actor import BatchWorker
from core.batch.destination import MARKER, STAGING, STAMP, Destination, Marker, ResultState
from core.batch.driver import plan, slot_count
from core.batch.jobs import JobSpec, JobStatus, ModelRef, PromptedWork, RunSettings
from core.batch.keys import content_fingerprint, job_key
from core.batch.ledger import Ledger, LedgerRecord, parse_ledger, summarize
from core.batch.manifest import ManifestError, default_id, read_manifest
from core.batch.progress import BatchProgress, ProgressDisplay
from tests.batch_helpers import file_tracker

SETTINGS = RunSettings(model=ModelRef(None, "/models/tiny.pt", "sha256:model"), device="cpu")
PROMPTS = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[5, 5]]}]}]}


def manifest(tmp_path: Path, *lines: str) -> str:
    path = tmp_path / "m.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_manifest_lines_paths_and_ids(tmp_path: Path) -> None:
    (tmp_path / "p.json").write_text(json.dumps(PROMPTS))
    jobs = read_manifest(manifest(tmp_path,
                                  '{"video": "clips/dog.mp4", "prompts": "p.json"}',
                                  "",
                                  '{"video": "s3://bucket/raw/cat.v2.mp4", "prompts": {"objects": []}, "id": "cat-2"}',
                                  '{"video": "/data/frames/bedroom/", "prompts": "missing.json"}'))
    assert [(j.job_id, j.line) for j in jobs] == [("dog", 1), ("cat-2", 3), ("bedroom", 4)]
    assert jobs[0].video == str(tmp_path / "clips" / "dog.mp4")
    assert jobs[0].work == PromptedWork(PROMPTS, str(tmp_path / "p.json")) and jobs[0].problem is None
    assert jobs[1].video == "s3://bucket/raw/cat.v2.mp4" and jobs[1].work == PromptedWork({"objects": []})
    # an unreadable prompts file fails its job, not the manifest
    assert jobs[2].work is None and jobs[2].problem == "missing.json: no such prompts file"
    assert default_id("my clip (1).mp4") == "my_clip_1" and default_id("...") == "video"


@pytest.mark.parametrize("line, words", [
    ("{not json", "m.jsonl line 2: not a JSON object"),
    ("[1, 2]", "line 2: not a JSON object"),
    ('{"prompts": {}}', 'line 2: needs "video"'),
    ('{"video": "a.mp4"}', "line 2: needs exactly one of prompts"),
    ('{"video": "a.mp4", "prompts": {}, "promts": 1}', "line 2: unknown fields: promts"),
    ('{"video": "a.mp4", "prompts": 3}', "line 2: prompts is a JSON object or the path"),
    ('{"video": "a.mp4", "prompts": {}, "id": "../up"}', "line 2: id '../up' must be"),
    ('{"video": "other/x.mp4", "prompts": {}}', "line 2: id 'x' is already used on line 1"),
])
def test_manifest_errors_are_one_line(tmp_path: Path, line: str, words: str) -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest(manifest(tmp_path, '{"video": "x.mp4", "prompts": {}}', line))
    assert words in str(caught.value) and len(str(caught.value).splitlines()) == 1


def test_manifest_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="no such manifest file"):
        read_manifest(str(tmp_path / "none.jsonl"))
    with pytest.raises(ManifestError, match="no videos"):
        read_manifest(manifest(tmp_path, "", " "))


def test_job_key_follows_content_and_settings(tmp_path: Path) -> None:
    video = tmp_path / "v.mp4"
    video.write_bytes(os.urandom(3 * 2**20))
    job = JobSpec("v", str(video), PromptedWork(PROMPTS), 1)
    key = job_key(job, content_fingerprint(str(video)), SETTINGS)
    assert len(key) == 32
    # the prompts' content counts, not their spelling or where they came from
    same = JobSpec("other-id", str(video), PromptedWork(json.loads(json.dumps(PROMPTS, indent=3)), "p.json"), 9)
    assert job_key(same, content_fingerprint(str(video)), SETTINGS) == key
    changed_prompts = JobSpec("v", str(video), PromptedWork({"objects": [{"id": 2, "prompts": []}]}), 1)
    variants = [
        job_key(changed_prompts, content_fingerprint(str(video)), SETTINGS),
        job_key(job, content_fingerprint(str(video)), RunSettings(model=ModelRef("m", None, "catalogue:m:1"))),
        job_key(job, content_fingerprint(str(video)), RunSettings(model=SETTINGS.model, device="cpu", memory="samurai")),
        job_key(job, content_fingerprint(str(video)), RunSettings(model=SETTINGS.model, device="cpu", formats=("coco",))),
    ]
    assert len(set(variants + [key])) == 5
    # settings that do not change results leave it
    assert job_key(job, content_fingerprint(str(video)),
                   RunSettings(model=SETTINGS.model, device="cpu", cpus_per_video=4, gpus_per_video=0.5, retries=0)) == key
    with video.open("r+b") as f:  # a change in the last MiB
        f.seek(3 * 2**20 - 10)
        f.write(b"0123456789")
    assert job_key(job, content_fingerprint(str(video)), SETTINGS) != key
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "00000.jpg").write_bytes(b"a")
    (frames / "notes.txt").write_text("ignored")
    before = content_fingerprint(str(frames))
    (frames / "00001.jpg").write_bytes(b"b")
    assert content_fingerprint(str(frames)) != before
    with pytest.raises(FileNotFoundError):
        content_fingerprint(str(tmp_path / "none.mp4"))


def marker(job_id: str, key: str) -> Marker:
    return Marker(job_id, key, (f"{job_id}.txt",), 3, 1, "cpu", "2026-11-27T00:00:00+00:00")


def test_destination_states_publish_and_markers(tmp_path: Path) -> None:
    dest = Destination(str(tmp_path / "out"))
    dest.prepare()
    assert dest.state("a", "k1") is ResultState.ABSENT
    with dest.staging("a", "k1") as staged:
        assert Path(staged).parent == tmp_path / "out" / STAGING
        Path(staged, "a.txt").write_text("result")
        dest.publish("a", staged, marker("a", "k1"))
    assert sorted(os.listdir(tmp_path / "out" / "a")) == sorted([STAMP, MARKER, "a.txt"])
    assert os.listdir(tmp_path / "out" / STAGING) == []
    assert dest.state("a", "k1") is ResultState.DONE and dest.state("a", "k2") is ResultState.OTHER
    assert dest.markers() == {"a": marker("a", "k1")}
    # a try that stopped between moving in and the marker: ours, unfinished, replaced next time
    (tmp_path / "out" / "a" / MARKER).unlink()
    assert dest.state("a", "k1") is ResultState.UNFINISHED and dest.markers() == {}
    with dest.staging("a", "k1") as staged:
        Path(staged, "a.txt").write_text("again")
        dest.publish("a", staged, marker("a", "k1"))
    assert (tmp_path / "out" / "a" / "a.txt").read_text() == "again"
    # a damaged marker is not trusted
    (tmp_path / "out" / "a" / MARKER).write_text("{half")
    assert dest.state("a", "k1") is ResultState.UNFINISHED
    (tmp_path / "out" / "mine").mkdir()
    (tmp_path / "out" / "mine" / "notes.txt").write_text("keep")
    assert dest.state("mine", "k") is ResultState.FOREIGN
    (tmp_path / "out" / STAGING / "left.1").mkdir(parents=True)
    dest.clear_staging()
    assert not (tmp_path / "out" / STAGING).exists()


def test_destination_that_cannot_be_written(tmp_path: Path) -> None:
    from core.batch.jobs import BatchError

    (tmp_path / "file").write_text("x")
    with pytest.raises(BatchError, match="cannot write to"):
        Destination(str(tmp_path / "file" / "out")).prepare()


def video_job(tmp_path: Path, job_id: str, prompts: dict) -> JobSpec:
    video = tmp_path / f"{job_id}.mp4"
    video.write_bytes(job_id.encode() * 100)
    return JobSpec(job_id, str(video), PromptedWork(prompts), 1)


def test_worker_slot_runs_skips_and_fails_as_data(tmp_path: Path) -> None:
    dest = Destination(str(tmp_path / "out"))
    dest.prepare()
    worker = BatchWorker(file_tracker, SETTINGS, dest)
    assert worker.ready() == ("", "test", pytest.approx(worker.load_seconds))
    good = video_job(tmp_path, "good", PROMPTS)
    first = worker.run(good)
    assert first.status is JobStatus.DONE and first.error == "" and first.frames == 1
    assert (tmp_path / "out" / "good" / "good.txt").read_text() == "400"  # len("good" * 100)
    assert dest.markers()["good"].key == first.key
    assert worker.run(good).status is JobStatus.SKIPPED
    assert worker.progress() == ("", 0, 0)

    oom = worker.run(video_job(tmp_path, "oom", {"fail": "oom"}))
    assert (oom.status, oom.transient) == (JobStatus.FAILED, True) and oom.error.startswith("out of memory while tracking")
    bad = worker.run(video_job(tmp_path, "bad", {"fail": "bad"}))
    assert (bad.status, bad.transient, bad.error) == (JobStatus.FAILED, False, "object 1 needs points or a box")
    missing = worker.run(JobSpec("gone", str(tmp_path / "gone.mp4"), PromptedWork(PROMPTS), 1))
    assert missing.error == f"{tmp_path / 'gone.mp4'}: no such video file or frame folder" and not missing.transient
    assert not any((tmp_path / "out" / name).exists() for name in ("oom", "bad", "gone"))
    assert os.listdir(tmp_path / "out" / STAGING) == []

    # the same id with other prompts: the finished result stays, the job fails
    other = worker.run(video_job(tmp_path, "good", {"objects": [{"id": 9, "prompts": []}]}))
    assert other.status is JobStatus.FAILED and "holds a finished result of other inputs" in other.error
    # a folder Masklet did not write is never touched
    (tmp_path / "out" / "theirs").mkdir()
    (tmp_path / "out" / "theirs" / "keep.txt").write_text("keep")
    theirs = worker.run(video_job(tmp_path, "theirs", PROMPTS))
    assert "was not written by masklet batch" in theirs.error
    assert os.listdir(tmp_path / "out" / "theirs") == ["keep.txt"]


def test_plan_skips_finished_jobs_without_a_worker(tmp_path: Path) -> None:
    dest = Destination(str(tmp_path / "out"))
    dest.prepare()
    worker = BatchWorker(file_tracker, SETTINGS, dest)
    done, todo = video_job(tmp_path, "done", PROMPTS), video_job(tmp_path, "todo", PROMPTS)
    assert worker.run(done).status is JobStatus.DONE
    unreadable = JobSpec("broken", str(tmp_path / "x.mp4"), None, 3, "p.json: no such prompts file")
    missing = JobSpec("missing", str(tmp_path / "none.mp4"), PromptedWork(PROMPTS), 4)
    run, known = plan([done, todo, unreadable, missing], dest, SETTINGS)
    assert run == [todo]
    assert known["done"].status is JobStatus.SKIPPED
    assert known["broken"].error == "p.json: no such prompts file"
    assert known["missing"].error.endswith("none.mp4: no such video file or frame folder")
    # other settings: the finished result is not this job's
    run, known = plan([done], dest, RunSettings(model=SETTINGS.model, device="cpu", memory="dam4sam"))
    assert run == [done] and known == {}


def test_slot_count() -> None:
    cpu = RunSettings(model=SETTINGS.model, cpus_per_video=2, gpus_per_video=0)
    assert slot_count({"CPU": 16.0}, cpu, jobs=100, limit=None) == 8
    assert slot_count({"CPU": 16.0}, cpu, jobs=3, limit=None) == 3
    assert slot_count({"CPU": 16.0}, cpu, jobs=100, limit=2) == 2
    assert slot_count({"CPU": 1.0}, cpu, jobs=100, limit=None) == 0
    shared = RunSettings(model=SETTINGS.model, cpus_per_video=1, gpus_per_video=0.5)
    assert slot_count({"CPU": 16.0, "GPU": 2.0}, shared, jobs=100, limit=None) == 4  # two videos per GPU
    assert slot_count({"CPU": 16.0}, shared, jobs=100, limit=None) == 0


def test_ledger_and_status_summary(tmp_path: Path) -> None:
    dest = Destination(str(tmp_path / "out"))
    dest.prepare()
    ledger = Ledger(dest, "run1")
    for record in (LedgerRecord("run1", "a", "started", 1), LedgerRecord("run1", "a", "done", 1, frames=10, seconds=2.0),
                   LedgerRecord("run1", "b", "started", 1), LedgerRecord("run1", "b", "retrying", 1, error="lost"),
                   LedgerRecord("run1", "b", "failed", 2, error="out of memory"), LedgerRecord("run1", "c", "started", 1)):
        ledger.add(record)
    ledger.close()
    with (tmp_path / "out" / "_ledger.jsonl").open("ab") as f:
        f.write(b'{"run": "run1", "job_id": "d", "sta')  # a driver killed mid-write
    assert [r.status for r in parse_ledger(dest.read_ledger())] == ["started", "done", "started", "retrying", "failed", "started"]
    (tmp_path / "out" / "a").mkdir()
    (tmp_path / "out" / "a" / MARKER).write_bytes(marker("a", "k").to_bytes())
    summary = summarize(dest)
    assert (list(summary.done), list(summary.failed), list(summary.unfinished)) == (["a"], ["b"], ["c"])
    lines = summary.lines("out")
    assert lines[0].startswith("out: 3 jobs: 1 done, 1 failed, 1 unfinished (1 runs")
    assert "10 frames in 2.0 s" in lines[1] and "failed b: out of memory (try 2)" in lines[2]


def test_progress_line_and_time_left() -> None:
    p = BatchProgress(total=10, done=3, skipped=2, failed=1, running=2, frames=120, worked=4, running_fraction=1.0,
                      elapsed_s=60.0)
    # 4 jobs and two halves in 60 s: 3 jobs left after the halves, 12 s a job
    assert p.seconds_left() == pytest.approx(36.0)
    assert p.line() == "batch 6/10 videos: 3 done, 2 skipped, 1 failed, 2 running; 2.0 frames/s, 36 s left"
    assert BatchProgress(5, 0, 5, 0, 0, 0, 0, 0.0, 1.0).seconds_left() is None

    class Log:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    log, now = Log(), [0.0]
    display = ProgressDisplay(log, interval_s=5.0, clock=lambda: now[0])  # type: ignore[arg-type]
    display(p)
    display(p)  # within 5 s: not written again
    display.close()  # the latest was written: not repeated
    assert log.text.count("\n") == 1
