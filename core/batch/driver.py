"""The Ray driver of ``masklet batch``: plan, start the worker slots, hand out videos, keep the ledger.

1. Plan: a job whose ``_SUCCESS`` marker already carries its key is skipped without a worker
   (so a rerun of a finished manifest starts no model at all); a job whose prompts could not be
   read fails at once.
2. Ray: a local Ray started in this process (all CPUs and GPUs of this machine) unless an
   address is given (``auto``, ``ray://host:port``), then the code of this checkout is shipped to
   the cluster with the job.
3. One actor per worker slot (``BatchWorker``: ``cpus_per_video`` CPUs and ``gpus_per_video``
   GPUs each, as many as the cluster holds, at most one per job); each loads the model once.
4. Hand out one video per idle actor (core.batch.dispatch); a transient failure (a lost worker,
   out of memory, an I/O error of the destination) is tried again up to ``retries`` times;
   every start and end goes to the ledger at once.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

from core.batch.actor import BatchWorker, first_line
from core.batch.destination import Destination
from core.batch.dispatch import RunReport, RunState, dispatch
from core.batch.jobs import BatchError, JobOutcome, JobSpec, JobStatus, RunSettings, TrackerFactory
from core.batch.keys import content_fingerprint, is_url, job_key
from core.batch.ledger import Ledger, LedgerRecord
from core.batch.progress import BatchProgress

PLAN_THREADS = 8  # fingerprints read at once while planning a rerun (I/O bound)


@dataclass(frozen=True)
class Cluster:
    """Where to run. address: None starts a local Ray in this process; num_cpus: the local Ray's
    CPUs (None: all); workers: at most this many worker slots (None: as many as fit); code: the
    package folders shipped to a cluster's workers (Ray's ``py_modules``), so they run the
    driver's code."""

    address: str | None = None
    num_cpus: int | None = None
    workers: int | None = None
    code: tuple[str, ...] = ()


def plan(jobs: list[JobSpec], destination: Destination, settings: RunSettings) -> tuple[list[JobSpec], dict[str, JobOutcome]]:
    """(jobs to run, outcomes known already: skipped or failed before any work)."""
    known: dict[str, JobOutcome] = {}
    markers = destination.markers()
    for job in jobs:
        if job.work is None:
            known[job.job_id] = JobOutcome(job.job_id, JobStatus.FAILED, error=job.problem or "nothing to do")
        elif not is_url(job.video) and not os.path.exists(job.video):
            known[job.job_id] = JobOutcome(job.job_id, JobStatus.FAILED, error=f"{job.video}: no such video file or frame folder")

    def finished(job: JobSpec) -> JobOutcome | None:
        marker = markers.get(job.job_id)
        if marker is None or job.job_id in known:
            return None
        try:
            key = job_key(job, content_fingerprint(job.video), settings)
        except OSError:
            return None  # the worker will report it
        if key != marker.key:
            return None
        return JobOutcome(job.job_id, JobStatus.SKIPPED, key=key, frames=0, device=marker.device)

    candidates = [job for job in jobs if job.job_id in markers and job.job_id not in known]
    with ThreadPoolExecutor(PLAN_THREADS) as pool:
        for job, outcome in zip(candidates, pool.map(finished, candidates)):
            if outcome is not None:
                known[job.job_id] = outcome
    return [job for job in jobs if job.job_id not in known], known


def slot_count(resources: dict[str, float], settings: RunSettings, jobs: int, limit: int | None) -> int:
    """Worker slots the cluster holds for these settings (at least 1 when anything fits)."""
    slots = math.floor(resources.get("CPU", 0.0) / settings.cpus_per_video + 1e-9)
    if settings.gpus_per_video:
        slots = min(slots, math.floor(resources.get("GPU", 0.0) / settings.gpus_per_video + 1e-9))
    if limit is not None:
        slots = min(slots, limit)
    return min(slots, jobs)


def _start_ray(cluster: Cluster) -> bool:
    """Connect to or start Ray; True when this call started it (and so shuts it down)."""
    import logging

    import ray

    if ray.is_initialized():
        return False
    if cluster.address is None:
        ray.init(num_cpus=cluster.num_cpus, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR)
        return True
    # The workers run the driver's code (the same numbers as this machine's masklet track);
    # the nodes need Masklet's dependencies installed (docs/batch.md).
    env = {"py_modules": list(cluster.code)} if cluster.code else None
    try:
        ray.init(address=cluster.address, runtime_env=env, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        hint = ("; a cluster with token authentication (Ray's default for `ray start`) also needs RAY_AUTH_MODE=token "
                "and its token here (~/.ray/auth_token or RAY_AUTH_TOKEN)" if os.environ.get("RAY_AUTH_MODE") != "token" else "")
        raise BatchError(f"cannot join the Ray cluster at {cluster.address}: {first_line(exc)}{hint}") from None
    return True


def run_batch(jobs: list[JobSpec], settings: RunSettings, destination: Destination, factory: TrackerFactory,
              cluster: Cluster = Cluster(), on_progress: Callable[[BatchProgress], None] = lambda p: None) -> RunReport:
    """Run every job of a manifest; returns the report (failed jobs are in it, not raised).

    Raises BatchError (one line) when the run cannot start: the destination cannot be written,
    the cluster cannot be reached or holds no slot for these settings, the model does not load.
    """
    started = time.monotonic()
    destination.prepare()
    destination.clear_staging()
    report = RunReport(run=time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6])
    ledger = Ledger(destination, report.run)
    todo, known = plan(jobs, destination, settings)
    by_id = {job.job_id: job for job in jobs}
    for job_id, outcome in known.items():
        report.outcomes[job_id] = outcome
        ledger.add(LedgerRecord.from_outcome(report.run, by_id[job_id].video, 0, outcome))
    state = RunState(todo, settings, ledger, len(jobs), report, on_progress)
    state.show()
    try:
        if todo:
            _run_on_ray(state, settings, destination, factory, cluster)
    finally:
        ledger.close()
        report.elapsed_s = time.monotonic() - started
    state.show()
    return report


def _run_on_ray(state: RunState, settings: RunSettings, destination: Destination, factory: TrackerFactory,
                cluster: Cluster) -> None:
    import ray

    ours = _start_ray(cluster)
    try:
        resources = ray.cluster_resources()
        if settings.device == "cuda" and resources.get("GPU", 0) == 0:
            raise BatchError("--device cuda: the Ray cluster has no GPU")
        if settings.gpus_per_video is None:
            gpus = 1.0 if settings.device != "cpu" and resources.get("GPU", 0) > 0 else 0.0
            settings = dataclasses.replace(settings, gpus_per_video=gpus)
        slots = slot_count(resources, settings, len(state.queue), cluster.workers)
        if slots < 1:
            raise BatchError(f"no worker slot fits: the cluster has {resources.get('CPU', 0):g} CPUs and "
                             f"{resources.get('GPU', 0):g} GPUs, a video asks for {settings.cpus_per_video} CPUs "
                             f"and {settings.gpus_per_video:g} GPUs")
        remote = ray.remote(BatchWorker).options(num_cpus=settings.cpus_per_video, num_gpus=settings.gpus_per_video,
                                                 max_restarts=-1, max_concurrency=2)
        actors = [remote.remote(factory, settings, destination) for _ in range(slots)]
        state.report.slots = slots
        for error, _device, seconds in ray.get([a.ready.remote() for a in actors]):
            if error:
                raise BatchError(f"the model did not load on a worker: {error}")
            state.report.load_seconds.append(seconds)
        state.started = time.monotonic()
        dispatch(state, actors)
    finally:
        if ours:
            ray.shutdown()
