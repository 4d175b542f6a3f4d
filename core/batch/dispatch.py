"""The driver's hand-out loop: one video per idle worker, results into the ledger, lost workers back once restarted.

``dispatch`` runs until every job has an end: it hands the next queued job to each idle actor,
waits for any result (or half a second, to refresh the progress from the workers), tries a
transient failure again (``RunState.finish``), and after a lost worker waits until Ray has
restarted it and its model loaded before giving it work again (a call to an actor that is still
restarting fails at once and would use up a video's retries).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from core.batch.actor import first_line
from core.batch.jobs import JobOutcome, JobSpec, JobStatus, RunSettings
from core.batch.ledger import Ledger, LedgerRecord
from core.batch.progress import BatchProgress

POLL_S = 0.5  # how often the driver looks at the workers' progress


@dataclass
class RunReport:
    """How a run ended: the final outcome of every job, slots used, model load seconds a slot."""

    run: str
    outcomes: dict[str, JobOutcome] = field(default_factory=dict)
    slots: int = 0
    load_seconds: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    def count(self, status: JobStatus) -> int:
        return sum(1 for o in self.outcomes.values() if o.status is status)

    @property
    def failed(self) -> list[JobOutcome]:
        return [o for o in self.outcomes.values() if o.status is JobStatus.FAILED]


class RunState:
    """One run's bookkeeping on the driver."""

    def __init__(self, jobs: list[JobSpec], settings: RunSettings, ledger: Ledger, total: int,
                 report: RunReport, on_progress: Callable[[BatchProgress], None]) -> None:
        self.settings = settings
        self.ledger = ledger
        self.total = total
        self.report = report
        self.on_progress = on_progress
        self.queue: deque[tuple[JobSpec, int]] = deque((job, 1) for job in jobs)
        self.running: dict[Any, tuple[Any, JobSpec, int]] = {}  # ObjectRef -> (actor, job, try)
        self.partial: dict[str, tuple[int, int]] = {}  # job id -> (frames done, frames in all)
        self.frames = 0
        self.worked = 0  # jobs the workers finished (for good) in this run
        self.started = time.monotonic()

    def record(self, job: JobSpec, attempt: int, outcome: JobOutcome, status: JobStatus | None = None) -> None:
        self.ledger.add(LedgerRecord.from_outcome(self.ledger.run, job.video, attempt, outcome, status))

    def finish(self, job: JobSpec, attempt: int, outcome: JobOutcome) -> None:
        self.partial.pop(job.job_id, None)
        if outcome.status is JobStatus.FAILED and outcome.transient and attempt <= self.settings.retries:
            self.record(job, attempt, outcome, JobStatus.RETRYING)
            self.queue.append((job, attempt + 1))
            return
        self.frames += outcome.frames
        self.worked += 1
        self.record(job, attempt, outcome)
        self.report.outcomes[job.job_id] = outcome

    def show(self) -> None:
        counts = {s: self.report.count(s) for s in (JobStatus.DONE, JobStatus.SKIPPED, JobStatus.FAILED)}
        fraction = sum(done / total for done, total in self.partial.values() if total > 0)
        frames = self.frames + sum(done for done, _ in self.partial.values())
        self.on_progress(BatchProgress(self.total, counts[JobStatus.DONE], counts[JobStatus.SKIPPED],
                                       counts[JobStatus.FAILED], len(self.running), frames, self.worked, fraction,
                                       time.monotonic() - self.started))


def dispatch(state: RunState, actors: list[Any]) -> None:
    import ray
    from ray.exceptions import RayError

    idle = list(actors)
    # a lost worker's actor, restarting (Ray starts it again, the model loads again): its
    # ready() call -> (actor, asks so far); it takes work again once ready() answers
    restarting: dict[Any, tuple[Any, int]] = {}
    last_poll = 0.0
    while state.queue or state.running:
        while idle and state.queue:
            actor = idle.pop()
            job, attempt = state.queue.popleft()
            state.running[actor.run.remote(job)] = (actor, job, attempt)
            state.partial[job.job_id] = (0, 0)
            state.record(job, attempt, JobOutcome(job.job_id, JobStatus.STARTED), JobStatus.STARTED)
        if not idle and not state.running and not restarting:
            for job, attempt in state.queue:  # every worker is gone for good
                state.finish(job, attempt, JobOutcome(job.job_id, JobStatus.FAILED, error="no worker is left to run it"))
            state.queue.clear()
            break
        ready, _ = ray.wait([*state.running, *restarting], num_returns=1, timeout=POLL_S)
        for ref in ready:
            if ref in restarting:
                actor, asks = restarting.pop(ref)
                back = _restarted(ref)
                if back is True:
                    idle.append(actor)
                elif back is False and asks < MAX_READY_ASKS:
                    restarting[_ask_ready(actor)] = (actor, asks + 1)
                continue
            actor, job, attempt = state.running.pop(ref)
            try:
                outcome = ray.get(ref)
            except RayError as exc:  # the worker died (killed, out of memory, node lost): Ray restarts it
                outcome = JobOutcome(job.job_id, JobStatus.FAILED, error=f"the worker was lost: {first_line(exc)}",
                                     transient=True)
                restarting[_ask_ready(actor)] = (actor, 1)
            else:
                idle.append(actor)
            state.finish(job, attempt, outcome)
        if time.monotonic() - last_poll >= POLL_S and state.running:
            last_poll = time.monotonic()
            _poll(state)
        state.show()


MAX_READY_ASKS = 5  # a restarting worker that fails this many readiness asks is given up


def _ask_ready(actor: Any) -> Any:
    """Ask a restarting actor whether it is up; Ray holds the call until the restart is done."""
    return actor.ready.options(max_task_retries=-1).remote()


def _restarted(ref: Any) -> bool | None:
    """True: the restarted worker loaded the model; False: not up yet (ask again); None: its
    model no longer loads (the worker is given up)."""
    import ray
    from ray.exceptions import RayError

    try:
        error, _device, _seconds = ray.get(ref)
    except RayError:
        return False
    return None if error else True


def _poll(state: RunState) -> None:
    """The running jobs' frames so far (a worker busy past the wait keeps its last figure)."""
    import ray
    from ray.exceptions import RayError

    asks = {actor.progress.remote(): job.job_id for actor, job, _ in state.running.values()}
    ready, _ = ray.wait(list(asks), num_returns=len(asks), timeout=POLL_S)
    for ref in ready:
        try:
            job_id, done, total = ray.get(ref)
        except RayError:
            continue
        if job_id == asks[ref] and job_id in state.partial:
            state.partial[job_id] = (done, total)
