"""The timeline's horizontal view: how many pixels a frame takes and which frame is at the left edge.

Plain Python (no widgets), so the arithmetic is tested alone. ``fit`` shows the whole video;
zooming keeps an anchor frame under the same pixel; ``keep_visible`` scrolls the least needed to
show a frame (the playhead) with a margin.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_PX_PER_FRAME = 64.0
ZOOM_STEP = 1.5  # one +/- key press or Ctrl+wheel notch
MARGIN_PX = 24.0  # the playhead stays this far inside the edges when the view follows it


@dataclass
class TimelineView:
    """frame_count: frames in the video; width: the track's width in pixels; px_per_frame: the
    scale (at least the fit scale); first: the frame (float) at the track's left edge."""

    frame_count: int = 0
    width: float = 1.0
    px_per_frame: float = 1.0
    first: float = 0.0
    fitted: bool = True  # follow the width: a resize keeps the whole video in view

    @property
    def fit_scale(self) -> float:
        return max(1e-6, self.width) / max(1, self.frame_count)

    @property
    def frames_per_px(self) -> float:
        return 1.0 / self.px_per_frame

    @property
    def visible_frames(self) -> float:
        return self.width / self.px_per_frame

    @property
    def max_first(self) -> float:
        return max(0.0, self.frame_count - self.visible_frames)

    def resize(self, frame_count: int, width: float) -> None:
        self.frame_count, self.width = frame_count, max(1.0, width)
        if self.fitted:
            self.fit()
        else:
            self.set_scale(self.px_per_frame)

    def fit(self) -> None:
        self.fitted = True
        self.px_per_frame, self.first = self.fit_scale, 0.0

    def set_scale(self, px_per_frame: float, anchor_frame: float | None = None, anchor_x: float | None = None) -> None:
        """Frames ``px_per_frame`` px wide (clamped to fit .. MAX_PX_PER_FRAME), keeping
        ``anchor_frame`` at ``anchor_x`` px from the track's left (default: the view's middle)."""
        if anchor_x is None:
            anchor_x = self.width / 2
        if anchor_frame is None:
            anchor_frame = self.first + anchor_x / self.px_per_frame
        scale = min(MAX_PX_PER_FRAME, max(self.fit_scale, float(px_per_frame)))
        self.fitted = scale <= self.fit_scale * 1.0000001
        self.px_per_frame = scale
        self.scroll_to(anchor_frame - anchor_x / scale)

    def zoom(self, factor: float, anchor_frame: float | None = None, anchor_x: float | None = None) -> None:
        self.set_scale(self.px_per_frame * factor, anchor_frame, anchor_x)

    def scroll_to(self, first: float) -> None:
        self.first = min(self.max_first, max(0.0, float(first)))

    def keep_visible(self, frame: int, margin: float = MARGIN_PX) -> bool:
        """Scroll so that frame ``frame`` is in view, ``margin`` px inside the edges where the view
        allows; True when it scrolled."""
        margin = min(margin, self.width / 4)
        left, right = self.x_of(frame), self.x_of(frame + 1)
        if left < margin:
            target = frame - margin / self.px_per_frame
        elif right > self.width - margin:
            target = frame + 1 - (self.width - margin) / self.px_per_frame
        else:
            return False
        before = self.first
        self.scroll_to(target)
        return self.first != before

    def x_of(self, frame: float) -> float:
        """Pixels from the track's left edge to the left edge of ``frame`` (float frames allowed)."""
        return (frame - self.first) * self.px_per_frame

    def frame_at(self, x: float) -> int:
        """The frame under ``x`` px from the track's left edge, clamped to the video."""
        frame = math.floor(self.first + x / self.px_per_frame)
        return min(max(0, frame), max(0, self.frame_count - 1))
