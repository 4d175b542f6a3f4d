"""Keyframes: the frames an annotator worked on by hand (a prompt given, or a mask edited), no Qt.

"Next keyframe" jumps between them, for the selected object or for any object.
"""

from __future__ import annotations

from annotator.document import AnnotationDocument, MaskSource
from annotator.suspect import next_frame


def keyframes(doc: AnnotationDocument, obj_ids: list[int]) -> list[int]:
    """Sorted frames where one of ``obj_ids`` has a prompt or a hand-edited mask."""
    found: set[int] = set()
    for obj_id in obj_ids:
        found.update(doc.prompts.get(obj_id, {}))
        found.update(f for f, e in doc.masks.get(obj_id, {}).items() if e.source is MaskSource.EDITED)
    return sorted(found)


def next_keyframe(doc: AnnotationDocument, obj_ids: list[int], current: int, forward: bool = True) -> int | None:
    """The nearest keyframe of ``obj_ids`` after (or before) ``current``; None if there is none."""
    return next_frame(keyframes(doc, obj_ids), current, forward)
