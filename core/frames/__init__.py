"""Frame sources: frame-exact video decoding (PyAV) and image folders, with a bounded cache.

``open_frames(path, cache_mb=512)`` returns a FrameSource (core.types): ``info``, ``len``,
``get(i)`` -> (H, W, 3) uint8 RGB, plus ``prefetch(indices)`` (read-ahead on a background
thread), ``thumbnail(i, height)``, ``fingerprint()`` and ``close()``. Colours: RGB at the
video's full picture size, converted with the stream's tagged YUV matrix (core.frames.colour).
"""

from core.frames.base import CachedFrames
from core.frames.cache import FrameCache
from core.frames.errors import FrameSourceError
from core.frames.folder import IMAGE_EXTENSIONS, FolderFrames, natural_key
from core.frames.index import quiet_scans
from core.frames.opening import fingerprint, open_frames
from core.frames.readahead import ReadAhead
from core.frames.video import VIDEO_EXTENSIONS, VideoFrames

__all__ = [
    "CachedFrames",
    "FolderFrames",
    "FrameCache",
    "FrameSourceError",
    "IMAGE_EXTENSIONS",
    "ReadAhead",
    "VIDEO_EXTENSIONS",
    "VideoFrames",
    "fingerprint",
    "natural_key",
    "open_frames",
    "quiet_scans",
]
