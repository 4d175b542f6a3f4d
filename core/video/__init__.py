"""The streaming video engine: ``VideoSession`` tracks objects through a video with SAM 2;
``EngineFollower`` keeps one where a document's log of inputs puts it."""

from core.video.follower import EngineFollower
from core.video.inputs import ClearInput, EngineInput, MaskInput, PromptInput, RemoveInput, TrackInput
from core.video.legs import Leg, frames_in, legs_for
from core.video.session import VideoSession
from core.video.warmup import warm_up

__all__ = [
    "VideoSession", "EngineFollower", "EngineInput", "PromptInput", "MaskInput", "ClearInput", "RemoveInput",
    "TrackInput", "Leg", "frames_in", "legs_for", "warm_up",
]
