"""One worker slot of a batch run: loads the model once, then does whole videos one at a time.

The driver wraps :class:`BatchWorker` in ``ray.remote`` (one actor per slot); nothing here
imports Ray, so the same class runs in-process in tests. A job's try: fingerprint the video,
derive its key, look at the destination (done already: skipped; a result of other inputs or a
folder Masklet did not write: failed, nothing touched), fetch a remote video to a local
temporary copy, track it into a staging folder, publish it (marker last). Every exception
becomes a failed :class:`JobOutcome` with one line; the driver decides about retries.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from core.batch.destination import Destination, Marker, ResultState
from core.batch.jobs import JobOutcome, JobProgress, JobSpec, JobStatus, RunSettings, TrackerFactory
from core.batch.keys import content_fingerprint, is_url, job_key


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's OutOfMemoryError (CUDA, MPS), a MemoryError, or a RuntimeError saying so."""
    return (isinstance(exc, MemoryError) or "OutOfMemory" in type(exc).__name__
            or "out of memory" in str(exc).lower())


class BatchWorker:
    """A worker slot. ``ready()`` says how the model loaded; ``run(job)`` does one video;
    ``progress()`` (callable while ``run`` works, from another thread) says how far it is."""

    def __init__(self, factory: TrackerFactory, settings: RunSettings, destination: Destination) -> None:
        self.settings = settings
        self.destination = destination
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._lock = threading.Lock()
        self._progress: tuple[str, int, int] = ("", 0, 0)
        start = time.monotonic()
        try:
            self._tracker = factory(settings)
            self._error = ""
        except Exception as exc:  # noqa: BLE001 - reported to the driver, which stops the run
            self._tracker = None
            self._error = first_line(exc)
        self.load_seconds = time.monotonic() - start

    def ready(self) -> tuple[str, str, float]:
        """(error or "", device label, seconds the model took to load)."""
        return self._error, getattr(self._tracker, "device", ""), self.load_seconds

    def progress(self) -> tuple[str, int, int]:
        """(job id, frames done, frames in all) of the job in hand; ("", 0, 0) between jobs."""
        with self._lock:
            return self._progress

    def _report(self, job_id: str) -> JobProgress:
        def report(done: int, total: int) -> None:
            with self._lock:
                self._progress = (job_id, done, total)
        return report

    def run(self, job: JobSpec) -> JobOutcome:
        start = time.monotonic()
        timings: dict[str, float] = {}
        key = ""
        device = getattr(self._tracker, "device", "")

        def outcome(status: JobStatus, error: str = "", transient: bool = False, **extra: object) -> JobOutcome:
            timings["total"] = time.monotonic() - start
            return JobOutcome(job.job_id, status, key=key, seconds=timings["total"], device=device, worker=self.name,
                              error=error, transient=transient, timings=dict(timings), **extra)  # type: ignore[arg-type]

        if self._tracker is None:
            return outcome(JobStatus.FAILED, f"the model did not load: {self._error}")
        if job.work is None:
            return outcome(JobStatus.FAILED, job.problem or "nothing to do")
        step = "reading the video"
        try:
            try:
                fingerprint = content_fingerprint(job.video)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                return outcome(JobStatus.FAILED, f"{job.video}: no such video file or frame folder")
            key = job_key(job, fingerprint, self.settings)
            timings["fingerprint"] = time.monotonic() - start
            step = "checking the destination"
            state = self.destination.state(job.job_id, key)
            if state is ResultState.DONE:
                return outcome(JobStatus.SKIPPED)
            if state is ResultState.OTHER:
                return outcome(JobStatus.FAILED, f"{self.destination.url(job.job_id)} holds a finished result of other "
                               "inputs or settings; remove it or give this line another id")
            if state is ResultState.FOREIGN:
                return outcome(JobStatus.FAILED, f"{self.destination.url(job.job_id)} exists and was not written by "
                               "masklet batch; nothing was changed")
            step = "fetching the video"
            with local_copy(job.video) as video:
                timings["fetch"] = time.monotonic() - start - sum(timings.values())
                step = "tracking"
                with self.destination.staging(job.job_id, key) as staged:
                    tracked = self._tracker.track(job, video, staged, self.destination.final_folder(job.job_id),
                                                  self._report(job.job_id))
                    timings.update(tracked.timings)
                    step = "writing the results"
                    mark = time.monotonic()
                    marker = Marker(job.job_id, key, tracked.files, tracked.frames, tracked.objects, tracked.device,
                                    datetime.now(timezone.utc).isoformat(timespec="seconds"))
                    self.destination.publish(job.job_id, staged, marker)
                    timings["publish"] = time.monotonic() - mark
            device = tracked.device
            return outcome(JobStatus.DONE, frames=tracked.frames, objects=tracked.objects)
        except Exception as exc:  # noqa: BLE001 - failures are data: the job fails, the worker goes on
            if is_out_of_memory(exc):
                return outcome(JobStatus.FAILED, f"out of memory while {step}: {first_line(exc)}", transient=True)
            if isinstance(exc, (FileNotFoundError, PermissionError)):
                return outcome(JobStatus.FAILED, f"{step}: {first_line(exc)}")
            if isinstance(exc, OSError) and step != "tracking":
                return outcome(JobStatus.FAILED, f"{step}: {first_line(exc)}", transient=True)
            return outcome(JobStatus.FAILED, first_line(exc))
        finally:
            with self._lock:
                self._progress = ("", 0, 0)


@contextmanager
def local_copy(location: str) -> Iterator[str]:
    """A local path of a video file or frame folder: itself, or a temporary copy of a URL's."""
    if not is_url(location):
        yield location
        return
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(location)
    folder = tempfile.mkdtemp(prefix="masklet-batch-video-")
    try:
        target = os.path.join(folder, path.rstrip("/").split("/")[-1] or "video")
        if fs.isdir(path):
            fs.get(path.rstrip("/") + "/", target, recursive=True)
        else:
            fs.get_file(path, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)
