"""``masklet track --auto`` and batch's ``"auto"``: find every object on a frame, track each both
ways; with ``every``, look again every so many frames and track what no track covers yet.

Drives a SessionController on an inline worker (the CLI's), so the work is the window's: the
same search request, the same undoable add, the same propagation runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from annotator.auto_objects import AutoSpec, masks_on, uncovered
from annotator.find_objects import ObjectFinder
from annotator.requests import FoundObjects
from core.types import Direction

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class AutoTrackError(RuntimeError):
    """The search or a run failed; the message is one line."""


def track_auto(session: "SessionController", spec: AutoSpec, report: Callable[[int, int, str], None] | None = None) -> list[int]:
    """Run ``spec`` on the session's open video (an inline worker: every call returns when done).

    On ``spec.frame``: every mask found becomes an object (``auto n``), tracked both ways. Then on
    each later frame of ``spec.frames`` (forward first, then backward): masks that no object's
    mask there covers become new objects, tracked from that frame on in the direction of the
    sweep. -> the ids of the objects added. report(done, total, what) follows the progress.
    """
    info = session.video
    if info is None:
        raise AutoTrackError("no video open")
    spec.validate(info.frame_count)
    finder = ObjectFinder(session)
    results: list[FoundObjects] = []
    finder.found.connect(results.append)
    if report is not None:
        finder.progress.connect(lambda done, total: report(done, total, "finding objects"))
        session.runs.progress.connect(lambda p: report(p.done, p.total, "propagating"))
    ended: list[tuple[bool, int]] = []
    session.runs.finished.connect(lambda cancelled, frames: ended.append((cancelled, frames)))
    added: list[int] = []
    for frame in spec.frames(info.frame_count):
        results.clear()
        if finder.find(frame, spec.params) is None or not results:
            raise AutoTrackError(f"could not search frame {frame} for objects")
        found = results[0]
        if found.error or found.cancelled:
            raise AutoTrackError(found.error or "finding objects was cancelled")
        new = uncovered(found.masks, masks_on(session.doc.document, frame), spec.cover_iou, spec.min_area)
        ids = finder.add(frame, new)
        if not ids:
            continue
        added += ids
        if frame == spec.frame:  # both ways (from frame 0 that is forward only: nothing lies behind it)
            direction = Direction.BOTH if frame > 0 else Direction.FORWARD
        else:
            direction = Direction.FORWARD if frame > spec.frame else Direction.BACKWARD
        session.set_frame(frame)
        ended.clear()
        if session.runs.propagate(direction, obj_ids=ids) is None or not ended or ended[0][0]:
            raise AutoTrackError(f"tracking the objects found on frame {frame} stopped early")
    return added
