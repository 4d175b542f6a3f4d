"""Loading a SAM 2 model for the worker and making its engine; runs on the worker thread.

torch is imported on first use here, never when the window starts. QtCore-free.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable

from annotator.model_priority import apply_priority, chosen_priority
from core.checkpoints.runtime import ModelSelection
from core.types import FrameSource

@dataclass(frozen=True)
class LoadedModel:
    """A model ready for the engine. label: what it runs on, for the status bar (``cpu · fp32``);
    context: makes the context every engine call runs in (autocast for bfloat16); warm_up: run
    once on the worker right after loading, before the model is announced ready."""

    model: Any
    label: str
    context: Callable[[], AbstractContextManager[object]] = nullcontext
    warm_up: Callable[[], None] | None = None


ModelLoader = Callable[[ModelSelection], LoadedModel]
EngineFactory = Callable[[Any, FrameSource, int], Any]
FrameOpener = Callable[[str, int], FrameSource]


def load_model(selection: ModelSelection) -> LoadedModel:
    """The real loader: our SAM 2 from an official-format checkpoint, on the device the machine offers.

    Runs on the worker thread; torch is imported here, on first use, not when the window starts.
    """
    import torch

    from core.checkpoints import accelerate
    from core.sam2 import checkpoint

    runtime = accelerate.resolve_here(selection)
    if runtime.device == "cpu":
        # torch's threads on every core (leaving one to the window halved clicks and tracking
        # on a 2-core machine); the window gets a core the moment it has work through the
        # scheduling policy of this thread and the compute threads it starts (annotator.model_priority).
        apply_priority(chosen_priority())
    from core.video import warm_up

    accelerate.exact_float32(runtime)
    model = checkpoint.load_model(str(selection.path), runtime.device)
    accelerate.compile_modules(model, runtime)
    # Two encoder runs bring the process to the steady state of clicks (core/video/features.py),
    # so that the first click on the next video is as fast as any other.
    return LoadedModel(model, runtime.label, lambda: accelerate.autocast(runtime), lambda: warm_up(model, runs=2))


def make_engine(model: Any, frames: FrameSource, feature_cache_frames: int) -> Any:
    """The real engine, core.video.VideoSession.

    A click on an already tracked frame becomes a conditioning frame, so a correction carries
    forward through every later propagation (the official default re-tracks such a frame
    without its clicks, which silently undoes the correction). With the model on a GPU, a
    video decodes on the GPU's video decoder where it can (core.frames.video), so the CPU is
    not what a fast GPU waits for.
    """
    from core.frames.video import VideoFrames
    from core.video import VideoSession

    if isinstance(frames, VideoFrames) and model.device.type == "cuda":
        frames.use_gpu_decoder()

    return VideoSession(model, frames, feature_cache_frames=feature_cache_frames, corrections_as_conditioning=True)


def preload_frame_decoding() -> None:
    """Import the video decoders (PyAV, OpenCV: about 0.15 s) on the worker thread as it starts.

    Otherwise the first video opened pays for it on both threads, just when the annotator
    waits for frame 0 and its first click.
    """
    import core.frames  # noqa: F401


def open_frames(path: str, cache_mb: int) -> FrameSource:
    from core.frames import open_frames as open_

    return open_(path, cache_mb=cache_mb)
