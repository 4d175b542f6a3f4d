"""Keeps the engine where a document's log of inputs puts it: the one place that tells it anything.

The annotation document holds the inputs the annotator gave, in order, without what was undone
(``core.video.inputs``). Before acting, :class:`EngineFollower` brings its :class:`VideoSession`
to the state a fresh session reaches by replaying exactly that log: inputs the document no longer
has (after undo, a deleted object, an undone propagation) are taken back by returning to a
checkpoint taken before them, and inputs the engine has not seen are applied. Checkpoints share
tensors, so returning costs a copy of the records; inputs older than the kept checkpoints are
replayed from the start (clicks are cheap while their frames' features are cached; a replayed
propagation runs again).
"""

from __future__ import annotations

from typing import Callable, Sequence

from core.types import FrameResult
from core.video.inputs import (
    ClearInput, EngineInput, MaskInput, PromptInput, RemoveInput, TrackInput, common_prefix,
)
from core.video.memory_policy import parse_policy
from core.video.session import EngineCheckpoint, VideoSession

FrameCallback = Callable[[FrameResult], None]


class EngineFollower:
    """A VideoSession and the log of inputs it has been given.

    max_checkpoints: engine states kept besides the empty one (each holds the memories its
    state had, so a long history of propagations is bounded by this count).
    """

    def __init__(self, engine: VideoSession, max_checkpoints: int = 16) -> None:
        self.engine = engine
        self.max_checkpoints = max(1, max_checkpoints)
        self._applied: list[EngineInput] = []
        # the state after the first n inputs; 0 (nothing given) is always there
        self._checkpoints: dict[int, EngineCheckpoint] = {0: engine.checkpoint()}
        self.replayed = 0  # inputs applied again after a rewind (diagnostics, tests)

    @property
    def applied(self) -> tuple[EngineInput, ...]:
        """The inputs the engine's state is made of, in order."""
        return tuple(self._applied)

    def behind(self, log: Sequence[EngineInput]) -> int:
        """How many inputs :meth:`follow` would apply for ``log`` (0: the engine is in line)."""
        keep = common_prefix(self._applied, log)
        if keep == len(self._applied):
            return len(log) - keep
        base = max(n for n in self._checkpoints if n <= keep)
        return len(log) - base

    def follow(self, log: Sequence[EngineInput]) -> None:
        """Bring the engine to the state of a fresh session given ``log`` in order.

        Every TrackInput in ``log`` must be finished (``frames_done`` set).
        """
        keep = common_prefix(self._applied, log)
        if keep < len(self._applied):
            self._rewind(keep)
        for item in log[len(self._applied):]:
            if len(self._applied) < keep:
                self.replayed += 1
            self._apply(item)

    def prompt(self, log: Sequence[EngineInput], item: PromptInput | MaskInput) -> FrameResult:
        """Follow ``log``, then give the new prompt; returns the object's new mask on its frame."""
        self.follow(log)
        return self._apply(item)

    def track(self, log: Sequence[EngineInput], run: TrackInput, cancel: Callable[[], bool],
              on_frame: FrameCallback) -> TrackInput:
        """Follow ``log``, then propagate; ``on_frame`` gets each finished frame, ``cancel()`` is
        checked before each frame and each leg. Returns the run as it went (frames per leg),
        the record a document keeps so that a replay stops where this run stopped."""
        self.follow(log)
        return self._apply(run, cancel, on_frame)

    # ------------------------------------------------------------------ internals
    def _rewind(self, keep: int) -> None:
        base = max(n for n in self._checkpoints if n <= keep)
        self.engine.restore(self._checkpoints[base])
        del self._applied[base:]
        for n in [n for n in self._checkpoints if n > base]:
            del self._checkpoints[n]

    def _apply(self, item: EngineInput, cancel: Callable[[], bool] | None = None,
               on_frame: FrameCallback | None = None):
        engine = self.engine
        try:
            result = None
            if isinstance(item, PromptInput):
                result = engine.add_prompt(item.prompt, clear_old=True)
            elif isinstance(item, MaskInput):
                result = engine.add_mask(item.frame, item.obj_id, item.rle.decode())
            elif isinstance(item, ClearInput):
                engine.clear_prompts(item.frame, item.obj_id)
            elif isinstance(item, RemoveInput):
                engine.remove_object(item.obj_id)
            elif isinstance(item, TrackInput):
                item = result = self._propagate(item, cancel, on_frame)
            else:
                raise TypeError(f"not an engine input: {item!r}")
        except BaseException:
            # a step that broke off leaves the engine half-way: back to the last whole state
            last = max(self._checkpoints)
            self.engine.restore(self._checkpoints[last])
            del self._applied[last:]
            raise
        self._applied.append(item)
        self._checkpoints[len(self._applied)] = engine.checkpoint()
        kept = sorted(n for n in self._checkpoints if n > 0)
        for n in kept[: max(0, len(kept) - self.max_checkpoints)]:
            del self._checkpoints[n]
        return result

    def _propagate(self, run: TrackInput, cancel: Callable[[], bool] | None,
                   on_frame: FrameCallback | None) -> TrackInput:
        """Run the legs live (``cancel``), or replay a finished run to its recorded frame counts.

        Both take the same path through the engine: the engine checks the stop condition
        before each frame, so a replay stops in exactly the state the live run stopped in.
        """
        replay = run.frames_done is not None
        chosen = dict(run.memory)
        for obj_id in run.obj_ids:  # the run's policies (an object left out: SAM 2's own)
            self.engine.set_memory_policy(obj_id, parse_policy(chosen.get(obj_id)))
        done: list[int] = []
        for i, leg in enumerate(run.legs):
            if replay:
                stop = _after(done, run.frames_done[i])
            else:
                if cancel is not None and cancel():
                    break
                stop = cancel
            done.append(0)
            results = self.engine.propagate(
                leg.start_frame, leg.direction, end_frame=leg.end_frame, obj_ids=list(run.obj_ids),
                locked=lambda obj_id, frame: (obj_id, frame) in run.locked, cancel=stop,
            )
            for result in results:
                done[-1] += 1
                if on_frame is not None:
                    on_frame(result)
        return run if replay else run.finished(tuple(done))


def _after(done: list[int], limit: int) -> Callable[[], bool]:
    """True once the current leg (the last count in ``done``) has yielded ``limit`` frames."""
    return lambda: done[-1] >= limit
