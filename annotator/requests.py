"""What the session sends the model worker, and what a run reports back: typed, immutable records.

Every request that acts on objects carries ``log``: the document's engine inputs in order (with
the clicks still on their way), so that the worker brings the engine in line with the document
before acting (core.video.follower). QtCore-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from annotator.auto_objects import FoundMask
from core.checkpoints.runtime import ModelSelection
from core.sam2.auto_params import AutoMaskParams
from core.video.inputs import EngineInput, MaskInput, PromptInput, TrackInput

Log = tuple[EngineInput, ...]


@dataclass(frozen=True)
class LoadModelRequest:
    selection: ModelSelection


@dataclass(frozen=True)
class OpenVideoRequest:
    """Open the video for the engine (the worker reads its own copy). cache_mb: frame cache;
    feature_cache_frames: frames whose image features stay cached."""

    path: str
    cache_mb: int = 256
    feature_cache_frames: int = 16


@dataclass(frozen=True)
class CloseVideoRequest:
    pass


@dataclass(frozen=True)
class PromptRequest:
    """Give one prompt (clicks and/or a box, or an edited mask) after following ``log``."""

    request_id: int
    log: Log
    item: PromptInput | MaskInput


@dataclass(frozen=True)
class PrefetchRequest:
    """Compute the image features of a frame the annotator is looking at."""

    frame: int


@dataclass(frozen=True)
class FollowRequest:
    """Bring the engine in line with ``log`` now (a project just opened: its prompts are replayed
    while the annotator looks, not on the first click)."""

    log: Log


@dataclass(frozen=True)
class PropagateRequest:
    """Follow ``log``, then track ``run`` (its legs one after the other)."""

    run_id: int
    log: Log
    run: TrackInput


@dataclass(frozen=True)
class RunEnd:
    """How a propagation run ended. run: the run as it went (frames per leg), for the document's
    log; None when it failed (the engine is back where it was before the run). error: one line."""

    run_id: int
    cancelled: bool
    frames: int
    run: TrackInput | None
    error: str = ""


@dataclass(frozen=True)
class FindObjectsRequest:
    """Run the automatic mask generator on one frame (annotator.auto_objects); cancelled with the
    worker's cancel(request_id) between point batches."""

    request_id: int
    frame: int
    params: AutoMaskParams


@dataclass(frozen=True)
class FoundObjects:
    """What a FindObjectsRequest found: masks best first (annotator.auto_objects.FoundMask);
    cancelled: stopped early (no masks); error: one line when it failed."""

    request_id: int
    frame: int
    masks: tuple[FoundMask, ...]
    cancelled: bool = False
    error: str = ""


Request = (LoadModelRequest | OpenVideoRequest | CloseVideoRequest | PromptRequest | PrefetchRequest | FollowRequest
           | PropagateRequest | FindObjectsRequest)
