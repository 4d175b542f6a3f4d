"""From SAM 2's results to document entries, and which masks SAM 2 may not overwrite: one rule each,
used by clicks, propagation runs in the window, and ``masklet track`` alike. Plain Python."""

from __future__ import annotations

from typing import Iterable

from annotator.document import AnnotationDocument, MaskEntry, MaskSource
from core.types import ObjectMask


def entry_for(mask: ObjectMask, prompted: bool) -> MaskEntry:
    """The document entry of one SAM 2 result: PROMPTED on a frame the annotator prompted, else PROPAGATED."""
    source = MaskSource.PROMPTED if prompted else MaskSource.PROPAGATED
    return MaskEntry(mask.rle, source, False, float(mask.object_score), float(mask.iou))


def is_protected(entry: MaskEntry | None) -> bool:
    """A mask propagation never replaces: approved (locked) or painted by hand."""
    return entry is not None and (entry.locked or entry.source is MaskSource.EDITED)


def protected_frames(doc: AnnotationDocument, obj_ids: Iterable[int]) -> frozenset[tuple[int, int]]:
    """(obj_id, frame) of every protected mask of these objects: the engine tracks through them
    (so later frames keep their memory) but yields nothing there."""
    return frozenset(
        (obj_id, frame) for obj_id in obj_ids for frame, entry in doc.masks.get(obj_id, {}).items()
        if is_protected(entry)
    )
