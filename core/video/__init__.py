"""The streaming video engine: ``VideoSession`` tracks objects through a video with SAM 2."""

from core.video.features import warm_up
from core.video.session import VideoSession

__all__ = ["VideoSession", "warm_up"]
