"""The streaming video engine: ``VideoSession`` tracks objects through a video with SAM 2;
``EngineFollower`` keeps one where a document's log of inputs puts it.

The input records (``core.video.inputs``) and the leg rule (``core.video.legs``) import no
torch, so the document and the window can use them; the engine loads on first use.
"""

from __future__ import annotations

from typing import Any

from core.video.inputs import ClearInput, EngineInput, MaskInput, PromptInput, RemoveInput, TrackInput
from core.video.legs import Leg, frames_in, legs_for

_ENGINE = {
    "VideoSession": ("core.video.session", "VideoSession"),
    "EngineFollower": ("core.video.follower", "EngineFollower"),
    "warm_up": ("core.video.warmup", "warm_up"),
}

__all__ = [
    "VideoSession", "EngineFollower", "EngineInput", "PromptInput", "MaskInput", "ClearInput", "RemoveInput",
    "TrackInput", "Leg", "frames_in", "legs_for", "warm_up",
]


def __getattr__(name: str) -> Any:
    if name in _ENGINE:
        import importlib

        module, attr = _ENGINE[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'core.video' has no attribute {name!r}")
