"""Fixing identity mistakes: merge two tracks, split a track at a frame, swap two tracks from a frame on.

Plain Python (no Qt). Each operation reads a document and returns a :class:`TrackEdit`: the
object records, masks and prompts it changes (old and new values, so it can be undone), and
the engine inputs that tell SAM 2 what the document holds afterwards. Those inputs forget the
objects concerned (``RemoveInput``) and give them their key masks again as mask prompts
(``MaskInput``): the frames a person prompted or edited, or, for a track without any, its first
mask, so that the object can be propagated on. Apply with :func:`apply_edit` (a plain document)
or ``annotator.track_commands.TrackEditCommand`` (the window, undoable).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, color_for
from core.types import Prompt
from core.video.inputs import EngineInput, MaskInput, RemoveInput

Key = tuple[int, int]  # (obj_id, frame)
_KEY_SOURCES = (MaskSource.PROMPTED, MaskSource.EDITED)


class TrackOpError(ValueError):
    """An operation that cannot be done as asked; the message is one line for the user."""


@dataclass(frozen=True)
class TrackEdit:
    """What one track operation changes.

    records: obj_id -> (record before or None, record after or None): None before is a new
    object, None after a removed one. masks / prompts: (obj_id, frame) -> (old, new).
    inputs: the engine inputs, in order, that bring SAM 2 in line with the document after it.
    """

    text: str
    records: dict[int, tuple[ObjectRecord | None, ObjectRecord | None]]
    masks: dict[Key, tuple[MaskEntry | None, MaskEntry | None]]
    prompts: dict[Key, tuple[Prompt | None, Prompt | None]]
    inputs: tuple[EngineInput, ...]


class _Builder:
    """Collects the new content of the objects an operation touches, then diffs it with the document."""

    def __init__(self, doc: AnnotationDocument, obj_ids: list[int]) -> None:
        self.doc = doc
        self.masks = {o: dict(doc.masks.get(o, {})) for o in obj_ids}
        self.prompts = {o: dict(doc.prompts.get(o, {})) for o in obj_ids}
        self.records: dict[int, ObjectRecord | None] = {o: doc.objects[o] for o in obj_ids}

    def new_object(self, record: ObjectRecord) -> None:
        self.records[record.obj_id] = record
        self.masks[record.obj_id] = {}
        self.prompts[record.obj_id] = {}

    def edit(self, text: str) -> TrackEdit:
        doc = self.doc
        records, masks, prompts = {}, {}, {}
        for obj_id, record in self.records.items():
            before = doc.objects.get(obj_id)
            if before != record:
                records[obj_id] = (before, record)
            old_masks, old_prompts = doc.masks.get(obj_id, {}), doc.prompts.get(obj_id, {})
            new_masks = self.masks[obj_id] if record is not None else {}
            new_prompts = self.prompts[obj_id] if record is not None else {}
            for frame in set(old_masks) | set(new_masks):
                if old_masks.get(frame) is not new_masks.get(frame):
                    masks[(obj_id, frame)] = (old_masks.get(frame), new_masks.get(frame))
            for frame in set(old_prompts) | set(new_prompts):
                if old_prompts.get(frame) is not new_prompts.get(frame):
                    prompts[(obj_id, frame)] = (old_prompts.get(frame), new_prompts.get(frame))
        inputs: list[EngineInput] = []
        for obj_id in sorted(self.records):
            inputs.append(RemoveInput(obj_id))
            if self.records[obj_id] is not None:
                inputs.extend(key_inputs(obj_id, self.masks[obj_id]))
        return TrackEdit(text, records, masks, prompts, tuple(inputs))


def key_inputs(obj_id: int, masks: dict[int, MaskEntry]) -> list[MaskInput]:
    """The mask prompts that give SAM 2 an object's track as the document holds it: its prompted
    and edited frames, or its first non-empty mask when it has none (in frame order)."""
    keys = [f for f in sorted(masks) if masks[f].source in _KEY_SOURCES and not masks[f].rle.is_empty]
    if not keys:
        keys = [f for f in sorted(masks) if not masks[f].rle.is_empty][:1]
    return [MaskInput(obj_id, f, masks[f].rle) for f in keys]


def _moved(prompt: Prompt, obj_id: int) -> Prompt:
    return prompt if prompt.obj_id == obj_id else replace(prompt, obj_id=obj_id)


def _need(doc: AnnotationDocument, *obj_ids: int) -> None:
    for obj_id in obj_ids:
        if obj_id not in doc.objects:
            raise TrackOpError(f"there is no object {obj_id}")


def merge(doc: AnnotationDocument, keep: int, other: int, prefer: int | None = None) -> TrackEdit:
    """``other``'s masks, prompts and frame attributes move into ``keep`` and ``other`` goes.

    prefer: whose mask (and prompt, frame attributes) wins on frames where both have one
    (``keep`` by default).
    """
    _need(doc, keep, other)
    if keep == other:
        raise TrackOpError("choose two different objects to merge")
    prefer = keep if prefer is None else prefer
    if prefer not in (keep, other):
        raise TrackOpError("the mask kept where both have one must be one of the two objects'")
    b = _Builder(doc, [keep, other])
    loser = other if prefer == keep else keep
    won, lost = b.masks[prefer], b.masks[loser]
    b.masks[keep] = {f: won[f] if f in won else lost[f] for f in set(won) | set(lost)}
    # a frame's prompt comes from the object whose mask stayed there (the preferred one without masks)
    prompts: dict[int, Prompt] = {}
    for frame in set(b.prompts[keep]) | set(b.prompts[other]):
        source = prefer if frame in won or frame not in lost else loser
        prompt = b.prompts[source].get(frame)
        if prompt is not None:
            prompts[frame] = _moved(prompt, keep)
    b.prompts[keep] = prompts
    kept, gone = doc.objects[keep], doc.objects[other]
    first, second = (gone, kept) if prefer == other else (kept, gone)
    b.records[keep] = replace(kept, frame_attributes={**second.frame_attributes, **first.frame_attributes})
    b.records[other] = None
    return b.edit(f"Merge {gone.name} into {kept.name}")


def split(doc: AnnotationDocument, obj_id: int, frame: int, new_id: int | None = None) -> TrackEdit:
    """From ``frame`` on, ``obj_id``'s masks, prompts and frame attributes go to a new object."""
    _need(doc, obj_id)
    b = _Builder(doc, [obj_id])
    later = {f for f in b.masks[obj_id] if f >= frame} | {f for f in b.prompts[obj_id] if f >= frame}
    earlier = {f for f in b.masks[obj_id] if f < frame}
    if not later or not earlier:
        raise TrackOpError(f"to split at frame {frame} the object needs masks both before it and from it on")
    new_id = doc.next_object_id() if new_id is None else new_id
    if new_id in doc.objects:
        raise TrackOpError(f"object {new_id} exists already")
    record = doc.objects[obj_id]
    frames_attr = record.frame_attributes
    b.new_object(ObjectRecord(
        new_id, f"{record.name} (from {frame})", record.category, color_for(new_id), dict(record.attributes),
        {f: v for f, v in frames_attr.items() if f >= frame}))
    b.records[obj_id] = replace(record, frame_attributes={f: v for f, v in frames_attr.items() if f < frame})
    for f in sorted(later):
        if f in b.masks[obj_id]:
            b.masks[new_id][f] = b.masks[obj_id].pop(f)
        if f in b.prompts[obj_id]:
            b.prompts[new_id][f] = _moved(b.prompts[obj_id].pop(f), new_id)
    return b.edit(f"Split {record.name} at frame {frame}")


def swap(doc: AnnotationDocument, a: int, b_id: int, frame: int) -> TrackEdit:
    """From ``frame`` on, objects ``a`` and ``b_id`` exchange masks, prompts and frame attributes."""
    _need(doc, a, b_id)
    if a == b_id:
        raise TrackOpError("choose two different objects to swap")
    b = _Builder(doc, [a, b_id])
    moved = False
    for x, y in ((a, b_id), (b_id, a)):
        for f, entry in doc.masks.get(x, {}).items():
            if f >= frame:
                moved = True
                b.masks[y][f] = entry
                if f not in doc.masks.get(y, {}):
                    b.masks[x].pop(f)
        for f, prompt in doc.prompts.get(x, {}).items():
            if f >= frame:
                b.prompts[y][f] = _moved(prompt, y)
                if f not in doc.prompts.get(y, {}):
                    b.prompts[x].pop(f)
    if not moved:
        raise TrackOpError(f"neither object has a mask from frame {frame} on")
    ra, rb = doc.objects[a], doc.objects[b_id]
    b.records[a] = replace(ra, frame_attributes={**{f: v for f, v in ra.frame_attributes.items() if f < frame},
                                                 **{f: v for f, v in rb.frame_attributes.items() if f >= frame}})
    b.records[b_id] = replace(rb, frame_attributes={**{f: v for f, v in rb.frame_attributes.items() if f < frame},
                                                    **{f: v for f, v in ra.frame_attributes.items() if f >= frame}})
    return b.edit(f"Swap {ra.name} and {rb.name} from frame {frame}")


def apply_edit(doc: AnnotationDocument, edit: TrackEdit, forward: bool = True) -> None:
    """Apply (or with ``forward=False`` take back) an edit on a plain document, engine log included."""
    pick = 1 if forward else 0
    for obj_id, pair in edit.records.items():
        if pair[pick] is not None:
            doc.put_object(pair[pick])
    for (obj_id, frame), pair in edit.masks.items():
        if obj_id in doc.objects:
            doc.set_mask(obj_id, frame, pair[pick])
    for (obj_id, frame), pair in edit.prompts.items():
        if obj_id in doc.objects:
            doc.set_prompt(obj_id, frame, pair[pick])
    for obj_id, pair in edit.records.items():
        if pair[pick] is None and obj_id in doc.objects:
            doc.remove_object(obj_id)
    if forward:
        doc.inputs.extend(edit.inputs)
    else:
        del doc.inputs[len(doc.inputs) - len(edit.inputs):]
