"""What an annotator tells the engine, as records: the log a document keeps and the engine follows.

Each record is one step a fresh :class:`VideoSession` can replay; replaying a document's log in
order gives the engine state the document's masks were made from. Records compare by identity
(``eq=False``): the same record travels from the document to the worker and back, so "has the
engine been given this input" is ``is``, never a comparison of pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.masks import Rle
from core.types import Prompt
from core.video.legs import Leg


@dataclass(frozen=True, eq=False)
class PromptInput:
    """Clicks and/or a box of one object on one frame; replaces that frame's earlier clicks
    (the engine feeds the frame's previous output back as SAM 2's mask input)."""

    prompt: Prompt

    @property
    def obj_id(self) -> int:
        return self.prompt.obj_id

    @property
    def frame(self) -> int:
        return self.prompt.frame


@dataclass(frozen=True, eq=False)
class MaskInput:
    """A hand-edited mask given to SAM 2 as a mask prompt (replaces the frame's clicks)."""

    obj_id: int
    frame: int
    rle: Rle


@dataclass(frozen=True, eq=False)
class ClearInput:
    """The object's prompts on a frame taken away."""

    obj_id: int
    frame: int


@dataclass(frozen=True, eq=False)
class RemoveInput:
    """An object deleted: its prompts, memories and results go."""

    obj_id: int


@dataclass(frozen=True, eq=False)
class TrackInput:
    """A propagation run: its legs in order, the objects tracked, the (obj_id, frame) masks
    the engine must not overwrite.

    frames_done: frames the engine yielded per started leg, once the run has ended (a
    cancelled run stops early; legs never started are left out). None: not run yet.
    """

    legs: tuple[Leg, ...]
    obj_ids: tuple[int, ...]
    locked: frozenset[tuple[int, int]] = frozenset()
    frames_done: tuple[int, ...] | None = None
    # (obj_id, memory policy name) for objects not tracked with SAM 2's own policy
    # (core.video.memory_policy); the engine switches them before the run
    memory: tuple[tuple[int, str], ...] = ()

    def finished(self, frames_done: tuple[int, ...]) -> "TrackInput":
        """This run as it actually went: the legs started and the frames yielded by each."""
        return TrackInput(self.legs[: len(frames_done)], self.obj_ids, self.locked, tuple(frames_done), self.memory)


EngineInput = PromptInput | MaskInput | ClearInput | RemoveInput | TrackInput


def common_prefix(a: "tuple[EngineInput, ...] | list[EngineInput]", b: "tuple[EngineInput, ...] | list[EngineInput]") -> int:
    """How many leading records two logs share (by identity)."""
    n = 0
    for x, y in zip(a, b):
        if x is not y:
            break
        n += 1
    return n
