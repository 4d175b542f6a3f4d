"""The typed records of a batch run: what a job is, how the run is set up, how a job ended.

A job is one video of the manifest and the work to do on it. The work is a typed value:
``PromptedWork`` (the prompts of ``masklet track``) today; automatic masks add their own type
beside it (``WORK_KINDS`` in core.batch.manifest names which manifest field makes which), and
the tracker (annotator.cli.batch_tracker) dispatches on the type. Nothing here imports Ray,
torch or Qt: these records travel between the driver and the actors by pickling.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Mapping, Protocol, Union


class BatchError(RuntimeError):
    """A run that cannot start (bad flags, no cluster, a destination that refuses); one line."""


@dataclass(frozen=True)
class PromptedWork:
    """Track the objects of a prompts object (docs/prompts_json.md), as ``masklet track`` does.

    prompts: the parsed JSON object ``{"objects": [...]}``, not yet checked (a bad one fails
    its job, not the run); source: where it came from (a file path or "inline"), for messages.
    """

    prompts: Mapping[str, object]
    source: str = "inline"

    @property
    def kind(self) -> str:
        return "prompts"

    def key_payload(self) -> object:
        """What of the work enters the job key (the prompts' content, not where they came from)."""
        return self.prompts


@dataclass(frozen=True)
class AutoWork:
    """Find every object with the automatic mask generator and track each (``masklet track --auto``).

    settings: the manifest's ``"auto"`` object (annotator.auto_objects.AutoSpec.from_json: frame,
    every, cover_iou, min_area and the generator's parameters), not yet checked (a bad one fails
    its job, not the run)."""

    settings: Mapping[str, object]

    @property
    def kind(self) -> str:
        return "auto"

    def key_payload(self) -> object:
        return self.settings


Work = Union[PromptedWork, AutoWork]


@dataclass(frozen=True)
class JobSpec:
    """One manifest line. job_id: the name of its results folder (unique in the manifest);
    video: a local path (absolute) or a URL fsspec opens (``s3://``, ``https://``); line: 1-based
    line of the manifest; problem: why the job cannot run (an unreadable prompts file), or None."""

    job_id: str
    video: str
    work: Work | None
    line: int
    problem: str | None = None


@dataclass(frozen=True)
class ModelRef:
    """The model every actor loads: a catalogue name (downloaded on each node as needed) or a
    checkpoint path every node can read. identity: what enters the job key (the catalogue name
    and size, or the checkpoint file's content digest)."""

    name: str | None
    checkpoint: str | None
    identity: str

    def describe(self) -> str:
        return self.name or str(self.checkpoint)


@dataclass(frozen=True)
class RunSettings:
    """How every job of a run is done. device: auto|cpu|cuda; formats: dataset formats written
    beside the project (core.formats.FORMATS names; the project itself is always written);
    memory: the memory policy name (core.video.memory_policy); cpus/gpus: Ray resources of one
    worker slot (gpus may be a fraction: two slots of 0.5 share one GPU; None: 1 where the
    cluster has GPUs and the device is not cpu, else 0); retries: further tries of a job after a
    transient failure."""

    model: ModelRef
    device: str = "auto"
    formats: tuple[str, ...] = ()
    memory: str = "sam2"
    cpus_per_video: int = 1
    gpus_per_video: float | None = None
    retries: int = 2

    def key_payload(self) -> dict[str, object]:
        """The settings that change what a job writes (not where or on how many workers)."""
        return {"model": self.model.identity, "device": self.device, "formats": sorted(self.formats),
                "memory": self.memory}


class JobStatus(str, Enum):
    DONE = "done"  # tracked and published in this run
    SKIPPED = "skipped"  # already finished by an earlier run (its _SUCCESS marker has this key)
    FAILED = "failed"  # failed for good (after its retries, or at once for a permanent error)
    RETRYING = "retrying"  # failed transiently; tried again
    STARTED = "started"  # handed to a worker


@dataclass(frozen=True)
class JobOutcome:
    """How one try of a job ended. frames: frames tracked (0 when skipped or failed early);
    seconds: wall time of the try on the worker; transient: a failure worth retrying (a lost
    worker, out of memory, an I/O error of the destination); error: one line."""

    job_id: str
    status: JobStatus
    key: str = ""
    frames: int = 0
    objects: int = 0
    seconds: float = 0.0
    device: str = ""
    worker: str = ""
    error: str = ""
    transient: bool = False
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TrackedVideo:
    """What a tracker wrote for one video. files: names under the results folder; timings:
    seconds by step (``open``, ``track``, ``write``)."""

    frames: int
    objects: int
    masks: int
    files: tuple[str, ...]
    device: str
    timings: dict[str, float] = field(default_factory=dict)


JobProgress = Callable[[int, int], None]  # (frames done, frames in all) of the job on a worker


class VideoTracker(Protocol):
    """Tracks whole videos with a model loaded once (one per worker slot).

    ``track`` writes the results of ``job`` on the local ``video`` (a file or a frame folder)
    into the empty local folder ``out`` and says what it wrote; ``final`` is the local folder
    the results are moved to (None on an object store), for paths relative to it. The project
    records the manifest's ``job.video`` as the video's place. Raises for a bad video or bad
    prompts (the message becomes the job's one-line error).
    """

    device: str

    def track(self, job: JobSpec, video: str, out: str, final: str | None, progress: JobProgress) -> TrackedVideo: ...


TrackerFactory = Callable[[RunSettings], VideoTracker]
