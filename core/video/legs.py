"""The one rule for which frames a propagation visits, used by the engine, the worker and the CLI.

A run is made of legs; a leg is one call of :meth:`VideoSession.propagate`; the engine turns a
leg into passes over consecutive frames. Progress totals count the same passes, so a progress
bar ends exactly where the engine stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from core.types import Direction


@dataclass(frozen=True)
class Leg:
    """One stretch of a propagation: from ``start_frame`` in ``direction``, to ``end_frame``
    (inclusive; None: the video's end in that direction). BOTH goes forward to the last frame,
    then backward from ``start_frame`` to frame 0, and takes no ``end_frame``."""

    start_frame: int
    direction: Direction
    end_frame: int | None = None


@dataclass(frozen=True)
class Pass:
    """Frames ``first`` to ``last`` inclusive, backward when ``reverse``."""

    first: int
    last: int
    reverse: bool

    def frames(self) -> range:
        if self.reverse:
            # the official predictor does not track backward from frame 0
            return range(self.first, self.last - 1, -1) if self.first > 0 else range(0)
        return range(self.first, self.last + 1)


def passes(leg: Leg, num_frames: int) -> tuple[Pass, ...]:
    """The passes the engine makes for ``leg`` in a video of ``num_frames`` frames."""
    start, end = leg.start_frame, leg.end_frame
    direction = Direction(leg.direction)
    if direction is Direction.FORWARD:
        return (Pass(start, num_frames - 1 if end is None else end, False),)
    if direction is Direction.BACKWARD:
        return (Pass(start, 0 if end is None else end, True),)
    return (Pass(start, num_frames - 1, False), Pass(start, 0, True))


def frames_in(legs: Iterable[Leg], num_frames: int) -> int:
    """How many frames the engine yields for these legs (a frame visited twice counts twice)."""
    return sum(len(p.frames()) for leg in legs for p in passes(leg, num_frames))


def legs_for(direction: Direction, frame_range: tuple[int, int] | None, current: int) -> tuple[Leg, ...]:
    """The legs of a run from the annotator's frame ``current`` in ``direction``, or over an
    inclusive frame range (both ways over a range: from ``current``, clamped into it, to each end)."""
    if frame_range is None:
        return (Leg(current, direction),)
    a, b = sorted(frame_range)
    if direction is Direction.FORWARD:
        return (Leg(a, Direction.FORWARD, b),)
    if direction is Direction.BACKWARD:
        return (Leg(b, Direction.BACKWARD, a),)
    middle = min(max(current, a), b)
    return (Leg(middle, Direction.FORWARD, b), Leg(middle, Direction.BACKWARD, a))
