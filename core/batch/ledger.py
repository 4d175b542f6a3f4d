"""The ledger of a destination: one JSON line per job event, written by the driver only.

Each line is a :class:`LedgerRecord`: the run, the job, its status (started, done, skipped,
retrying, failed), the try, frames, seconds, device, worker and the one-line error. Every run
appends to the same ``DEST/_ledger.jsonl``; the latest line of a job is its state, and a job
whose marker is there is done whatever the ledger says (a driver killed between the marker and
its ledger line). :func:`summarize` is ``masklet batch --status DEST``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from core.batch.destination import Destination
from core.batch.jobs import JobOutcome, JobStatus

FLUSH_EVERY_S = 5.0  # an object store's ledger is rewritten at most this often (and at the end)


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LedgerRecord:
    run: str
    job_id: str
    status: str
    attempt: int = 0
    key: str = ""
    video: str = ""
    frames: int = 0
    objects: int = 0
    seconds: float = 0.0
    device: str = ""
    worker: str = ""
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds by step on the worker
    time: str = field(default_factory=utc_now)

    @staticmethod
    def from_outcome(run: str, video: str, attempt: int, outcome: JobOutcome, status: JobStatus | None = None) -> "LedgerRecord":
        return LedgerRecord(run=run, job_id=outcome.job_id, status=(status or outcome.status).value, attempt=attempt,
                            key=outcome.key, video=video, frames=outcome.frames, objects=outcome.objects,
                            seconds=round(outcome.seconds, 3), device=outcome.device, worker=outcome.worker,
                            error=outcome.error, timings={k: round(v, 3) for k, v in outcome.timings.items()})


def parse_ledger(raw: bytes) -> list[LedgerRecord]:
    """The records of a ledger; a damaged line (a driver killed mid-write) is passed over."""
    known = set(LedgerRecord.__dataclass_fields__)
    records = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
            records.append(LedgerRecord(**{k: v for k, v in data.items() if k in known}))
        except (ValueError, TypeError):
            continue
    return records


class Ledger:
    """The driver's ledger writer: every record goes out at once to a folder, batched to an
    object store (at most every FLUSH_EVERY_S seconds, and on ``close``)."""

    def __init__(self, destination: Destination, run: str) -> None:
        self.destination = destination
        self.run = run
        self._all = destination.read_ledger() if not destination.is_local else b""
        self._pending = b""
        self._last_flush = time.monotonic()

    def add(self, record: LedgerRecord) -> None:
        line = (json.dumps(asdict(record), sort_keys=True) + "\n").encode("utf-8")
        self._pending += line
        if self.destination.is_local or time.monotonic() - self._last_flush >= FLUSH_EVERY_S:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        self._all += self._pending
        self.destination.append_ledger(self._pending, self._all)
        self._pending = b""
        self._last_flush = time.monotonic()

    def close(self) -> None:
        self.flush()


@dataclass(frozen=True)
class Summary:
    """A destination's jobs by state (latest ledger line; done also from the markers)."""

    done: dict[str, LedgerRecord | None]
    failed: dict[str, LedgerRecord]
    unfinished: dict[str, LedgerRecord]
    runs: int
    last_time: str

    def lines(self, location: str) -> list[str]:
        total = len(self.done) + len(self.failed) + len(self.unfinished)
        out = [f"{location}: {total} jobs: {len(self.done)} done, {len(self.failed)} failed, "
               f"{len(self.unfinished)} unfinished ({self.runs} runs, last event {self.last_time or 'none'})"]
        frames = sum(r.frames for r in self.done.values() if r is not None)
        seconds = sum(r.seconds for r in self.done.values() if r is not None)
        if frames and seconds:
            out.append(f"  done: {frames} frames in {seconds:.1f} s of worker time ({frames / seconds:.1f} frames/s a worker)")
        for job_id, record in sorted(self.failed.items()):
            out.append(f"  failed {job_id}: {record.error} (try {record.attempt})")
        for job_id, record in sorted(self.unfinished.items()):
            out.append(f"  unfinished {job_id}: {record.status} at {record.time}")
        return out


def summarize(destination: Destination) -> Summary:
    records = parse_ledger(destination.read_ledger())
    markers = destination.markers()
    latest: dict[str, LedgerRecord] = {}
    for record in records:
        latest[record.job_id] = record
    done: dict[str, LedgerRecord | None] = {}
    failed: dict[str, LedgerRecord] = {}
    unfinished: dict[str, LedgerRecord] = {}
    last_done: dict[str, LedgerRecord] = {r.job_id: r for r in records if r.status == JobStatus.DONE.value}
    for job_id in markers:
        done[job_id] = last_done.get(job_id)
    for job_id, record in latest.items():
        if job_id in done:
            continue
        if record.status == JobStatus.FAILED.value:
            failed[job_id] = record
        elif record.status in (JobStatus.STARTED.value, JobStatus.RETRYING.value):
            unfinished[job_id] = record
    return Summary(done, failed, unfinished, len({r.run for r in records}), records[-1].time if records else "")
