"""Helpers for the ``masklet batch`` tests: short videos written with PyAV, manifests, a test tracker,
and a local S3 server (moto's server mode on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from core.batch.jobs import JobProgress, JobSpec, RunSettings, TrackedVideo

WIDTH, HEIGHT = 160, 120


def write_video(path: Path, frames: int, seed: int) -> Path:
    """An H.264 MP4 of ``frames`` frames, WIDTH x HEIGHT: a textured background with a square moving right."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 200, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.options = {"crf": "18", "g": "4"}
        for i in range(frames):
            image = base.copy()
            image[40:80, 20 + 6 * i: 60 + 6 * i] = (250, 230, 40)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def prompts_for(seed: int) -> dict:
    """Two objects: a click on the square on frame 1 and a box elsewhere on a later frame (so both
    directions of the propagation have frames)."""
    return {"objects": [
        {"id": 1, "name": "square", "prompts": [{"frame": 1, "points": [[46, 60]], "labels": [1]}]},
        {"id": 3, "name": "corner", "prompts": [{"frame": 2 + seed % 3, "box": [90, 10, 150, 50]}]},
    ]}


def write_manifest(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@dataclass
class Clip:
    job_id: str
    video: Path
    prompts: Path


def make_clips(folder: Path, counts: tuple[int, ...] = (6, 8, 10, 7)) -> list[Clip]:
    """Short videos (6-10 frames) with a prompts file each."""
    folder.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, frames in enumerate(counts):
        job_id = f"clip{i}"
        video = write_video(folder / f"{job_id}.mp4", frames, seed=i)
        prompts = folder / f"{job_id}.prompts.json"
        prompts.write_text(json.dumps(prompts_for(i)))
        clips.append(Clip(job_id, video, prompts))
    return clips


class FileTracker:
    """A VideoTracker for driver and actor tests without a model: writes the video's size in
    ``<id>.txt``. Fails as the job's prompts ask (``{"fail": "oom"}``: out of memory,
    ``{"fail": "bad"}``: a permanent error)."""

    device = "test"

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings

    def track(self, job: JobSpec, video: str, out: str, final: str | None, progress: JobProgress) -> TrackedVideo:
        prompts = dict(job.work.prompts) if job.work is not None else {}
        fail = prompts.get("fail")
        if fail == "oom":
            raise MemoryError("out of memory (test)")
        if fail == "bad":
            raise ValueError("object 1 needs points or a box")
        size = sum(f.stat().st_size for f in Path(video).rglob("*")) if Path(video).is_dir() else os.path.getsize(video)
        progress(1, 1)
        name = f"{job.job_id}.txt"
        Path(out, name).write_text(str(size))
        return TrackedVideo(frames=1, objects=0, masks=0, files=(name,), device=self.device)


def file_tracker(settings: RunSettings) -> FileTracker:
    return FileTracker(settings)


class S3Server:
    """moto's S3 in server mode on 127.0.0.1 (a real HTTP server), with a bucket; the environment
    variables that point boto/s3fs at it (set them before a process or Ray starts)."""

    def __init__(self, bucket: str = "masklet-test") -> None:
        from moto.server import ThreadedMotoServer

        self.bucket = bucket
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.env = {"AWS_ENDPOINT_URL": self.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                    "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
        self.fs().mkdir(bucket)

    def fs(self):
        import s3fs

        return s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=self.endpoint, skip_instance_cache=True)

    def stop(self) -> None:
        self._server.stop()


class GatedTracker:
    """The real session tracker, held before one job until a gate file exists.

    On ``job`` it writes its process id into the file ``waiting``, then waits for the file
    ``gate`` (so a test can kill the driver or this worker while that job is on it, whatever the
    machine's speed).
    """

    def __init__(self, settings: RunSettings, job: str, waiting: str, gate: str) -> None:
        from annotator.cli.batch_tracker import SessionTracker

        self._inner = SessionTracker(settings)
        self.device = self._inner.device
        self._job, self._waiting, self._gate = job, waiting, gate

    def track(self, job: JobSpec, video: str, out: str, final: str | None, progress: JobProgress) -> TrackedVideo:
        if job.job_id == self._job:
            Path(self._waiting + ".tmp").write_text(str(os.getpid()))
            os.replace(self._waiting + ".tmp", self._waiting)  # whole when it appears
            deadline = time.monotonic() + 600  # a hang guard: the test opens the gate or kills us
            while not Path(self._gate).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return self._inner.track(job, video, out, final, progress)


def gated_tracker(settings: RunSettings) -> GatedTracker:
    """A GatedTracker set by MASKLET_TEST_GATE="JOB:WAITING:GATE" (for a driver in a process of its own)."""
    job, waiting, gate = os.environ["MASKLET_TEST_GATE"].split(":")
    return GatedTracker(settings, job, waiting, gate)
