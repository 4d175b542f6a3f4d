"""The tracker of ``masklet batch``'s workers: ``masklet track``'s session code with a model loaded once.

Each worker slot builds one :class:`SessionTracker` (core.batch's ``TrackerFactory``): it picks
the device, finds the checkpoint (a catalogue name is downloaded into this node's cache the first
time, one download per node), and loads the model. For each video it runs
``annotator.cli.track.track`` (SessionController on an inline worker, the window's own code) with
that model, from the job's prompts (each object with its own ``"memory"`` policy or the run's
``--memory``) or automatically (``auto``), then writes ``<id>.masklet`` and the dataset formats
asked for into the job's staging folder. So a video's masks are those ``masklet track`` gives.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

from annotator.cli.track import cli_loader, track
from annotator.cli.track_prompts import parse_prompts
from annotator.project import PROJECT_SUFFIX, encode_project, write_to
from annotator.project_exchange import export_document
from annotator.auto_objects import AutoSpec
from core.batch.jobs import AutoWork, JobProgress, JobSpec, PromptedWork, RunSettings, TrackedVideo
from core.checkpoints.runtime import ModelSelection
from core.formats import dataset_format
from core.video.memory_policy import DEFAULT_POLICY


def checkpoint_file(settings: RunSettings) -> Path:
    """The checkpoint this node loads: the given file, or the catalogue model in this node's
    cache (downloaded and verified the first time; one worker downloads, the others wait)."""
    model = settings.model
    if model.checkpoint is not None:
        return Path(model.checkpoint)
    from filelock import FileLock

    from core.checkpoints.catalogue import find
    from core.checkpoints.download import download_entry
    from core.checkpoints.paths import checkpoint_path

    entry = find(str(model.name))
    target = checkpoint_path(entry)
    if target.is_file():
        return target
    from core.checkpoints.verify import verifier_for

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        return download_entry(entry, verifier_for(entry))


class SessionTracker:
    """core.batch's VideoTracker for the session code; one per worker slot."""

    def __init__(self, settings: RunSettings) -> None:
        import torch

        from core.sam2.device import pick_device

        torch.set_num_threads(settings.cpus_per_video)
        # A worker's share of the cores is set by the run: its sessions keep that count instead
        # of taking threads for the other workers' busy ones (core/cpu_threads.py).
        os.environ["MASKLET_THREADS"] = "fixed"
        self.settings = settings
        self._device = pick_device(settings.device)
        self.device = str(self._device)
        self.checkpoint = checkpoint_file(settings)
        self._model = cli_loader(self.checkpoint, self._device)(ModelSelection(self.checkpoint))

    def track(self, job: JobSpec, video: str, out: str, final: str | None, progress: JobProgress) -> TrackedVideo:
        auto = None
        if isinstance(job.work, AutoWork):  # every object found automatically (annotator/auto_track.py)
            if self.settings.memory != DEFAULT_POLICY:  # as masklet track --auto refuses --memory
                raise ValueError(f"--memory {self.settings.memory} applies to prompted objects; automatic objects "
                                 f"are tracked with {DEFAULT_POLICY} (run the auto lines without --memory)")
            auto, objects = AutoSpec.from_json(dict(job.work.settings)), []
        elif isinstance(job.work, PromptedWork):
            objects = parse_prompts(job.work.prompts)
        else:
            raise TypeError(f"job {job.job_id}: this tracker does prompted or automatic work, not {type(job.work).__name__}")
        timings: dict[str, float] = {}
        start = time.monotonic()
        doc = track(Path(video), objects, self.checkpoint, self._device, lambda done, total, _text="": progress(done, total),
                    loader=lambda _selection: self._model, auto=auto, memory=self.settings.memory)
        timings["track"] = time.monotonic() - start
        assert doc.video is not None
        if video != job.video:  # a fetched copy: the project names the video where the manifest has it
            doc.video = dataclasses.replace(doc.video, path=job.video)
        start = time.monotonic()
        files = [f"{job.job_id}{PROJECT_SUFFIX}"]
        write_to(Path(out) / files[0], encode_project(doc, Path(final) if final else None))
        for name in self.settings.formats:
            files.append(dataset_format(name).output_name(job.job_id))
            export_document(doc, name, Path(out) / files[-1])
        timings["write"] = time.monotonic() - start
        return TrackedVideo(frames=doc.video.frame_count, objects=len(doc.objects), masks=doc.mask_count(),
                            files=tuple(files), device=self.device, timings=timings)


def make_tracker(settings: RunSettings) -> SessionTracker:
    """The TrackerFactory handed to core.batch's driver (a module-level function: Ray ships it by name)."""
    return SessionTracker(settings)
