"""The streaming video engine: ``VideoSession`` tracks objects through a video with SAM 2."""

from core.video.session import VideoSession
from core.video.warmup import warm_up

__all__ = ["VideoSession", "warm_up"]
