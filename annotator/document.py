"""The annotation document: the video it is about, the objects, and every object's masks and prompts.

Plain Python (no Qt): the command line, the project files and the dataset formats use it
as it is; the window wraps it with signals and undoable commands. Masks are kept as COCO
RLE and decoded only by whoever needs pixels (the frame on screen, an export).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Iterator

from annotator.labels import LabelSchema
from core.masks import Rle
from core.types import Prompt
from core.video.inputs import EngineInput, MaskInput, PromptInput

# A fixed, distinguishable palette (RGB); new objects take the next colour (``color_for``).
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 25, 75), (60, 180, 75), (0, 130, 200), (245, 130, 48), (145, 30, 180),
    (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212), (0, 128, 128),
    (220, 190, 255), (170, 110, 40), (255, 250, 200), (128, 0, 0), (170, 255, 195),
    (128, 128, 0), (255, 215, 180), (0, 0, 128), (255, 225, 25), (128, 128, 128),
)



def color_for(obj_id: int) -> tuple[int, int, int]:
    """The palette colour of a new object."""
    return PALETTE[(obj_id - 1) % len(PALETTE)]


# Python objects behind one stored mask beyond its counts bytes: MaskEntry and Rle instances,
# the bytes header, a dict slot and two boxed floats: tracemalloc measures about 300-350 bytes
# (tests/test_document_memory.py); 400 keeps the estimate on the safe side.
_ENTRY_OVERHEAD_BYTES = 400


class MaskSource(str, Enum):
    """Where a mask came from."""

    PROMPTED = "prompted"  # SAM 2 output on a frame the annotator clicked
    PROPAGATED = "propagated"  # SAM 2 tracking output
    EDITED = "edited"  # brushed or erased by hand
    IMPORTED = "imported"  # read from a dataset


@dataclass(frozen=True)
class VideoRef:
    """The video a document annotates. fps: frames per second; fingerprint: see core.frames."""

    path: str
    width: int
    height: int
    frame_count: int
    fps: float
    fingerprint: str = ""


@dataclass(frozen=True)
class ObjectRecord:
    """One annotated object. color: RGB 0..255; attributes: free-form JSON-able values (those
    the label schema defines for its category are typed there, annotator.labels).

    frame_attributes: frame -> the per-frame attribute values set on that frame (occluded,
    truncated, ...: the schema's ``per_frame`` attributes); frames without any are absent.
    """

    obj_id: int
    name: str
    category: str = "object"
    color: tuple[int, int, int] = PALETTE[0]
    attributes: dict[str, object] = field(default_factory=dict)
    frame_attributes: dict[int, dict[str, object]] = field(default_factory=dict)
    notes: dict[int, str] = field(default_factory=dict)  # frame -> a reviewer's note (annotator.review)
    # who made the object: "manual" (the annotator) or "automatic" (the automatic mask
    # generator, annotator.auto_objects); SA-V's masklet_type
    source: str = "manual"
    # the memory policy it is tracked with (core.video.memory_policy.POLICY_NAMES; issue 18)
    memory: str = "sam2"


@dataclass(frozen=True)
class MaskEntry:
    """One object's mask on one frame, with its provenance.

    object_score: SAM 2's object-presence logit (None for masks SAM 2 did not make).
    iou: SAM 2's predicted IoU (None likewise). locked: approved by the annotator;
    propagation never overwrites a locked mask. reviewed: accepted in review mode (a reviewed
    mask is always locked; unlocking it clears the mark, annotator.review).
    """

    rle: Rle
    source: MaskSource
    locked: bool = False
    object_score: float | None = None
    iou: float | None = None
    reviewed: bool = False


class DocumentError(ValueError):
    """A request the document refuses (unknown object, frame out of range, size mismatch)."""


class AnnotationDocument:
    """Objects, masks and prompts of one video, and the inputs SAM 2 was given.

    masks: obj_id -> frame -> MaskEntry. prompts: obj_id -> frame -> Prompt (the last prompt
    given on that frame, kept so the masks can be rebuilt with another model).
    inputs: what the engine was told, in order, without what was undone (core.video.inputs):
    the engine follows it, so a fresh engine replaying it reaches the state the masks came
    from. Not saved: a loaded document starts from ``inputs_from_content``.
    """

    def __init__(self, video: VideoRef | None = None) -> None:
        self.video = video
        self.objects: dict[int, ObjectRecord] = {}
        self.masks: dict[int, dict[int, MaskEntry]] = {}
        self.prompts: dict[int, dict[int, Prompt]] = {}
        # Dataset-level extras kept through import and export (JSON-able values), e.g. the
        # SA-V video id, environment and split; see core.formats.dataset.Dataset.attributes.
        self.metadata: dict[str, object] = {}
        self.inputs: list[EngineInput] = []
        # the project's label schema (annotator.labels; immutable, replaced whole by an edit)
        self.labels: LabelSchema = LabelSchema()

    def snapshot(self) -> "AnnotationDocument":
        """A copy to read on another thread (an export) while this one changes; cheap, as the
        records and mask entries are immutable and only the dicts holding them are copied."""
        copy = AnnotationDocument(self.video)
        copy.objects = dict(self.objects)
        copy.masks = {k: dict(v) for k, v in self.masks.items()}
        copy.prompts = {k: dict(v) for k, v in self.prompts.items()}
        copy.metadata = dict(self.metadata)
        copy.inputs = list(self.inputs)
        copy.labels = self.labels
        return copy

    # -- objects ---------------------------------------------------------------------------
    def next_object_id(self) -> int:
        return max(self.objects, default=0) + 1

    def add_object(
        self, name: str | None = None, category: str = "object", obj_id: int | None = None,
        color: tuple[int, int, int] | None = None, attributes: dict[str, object] | None = None,
    ) -> ObjectRecord:
        obj_id = self.next_object_id() if obj_id is None else int(obj_id)
        if obj_id in self.objects:
            raise DocumentError(f"object {obj_id} already exists")
        if obj_id <= 0:
            raise DocumentError(f"object ids are positive integers, got {obj_id}")
        record = ObjectRecord(
            obj_id=obj_id,
            name=name or f"object {obj_id}",
            category=category,
            color=color or color_for(obj_id),
            attributes=dict(attributes or {}),
        )
        self.put_object(record)
        return record

    def put_object(self, record: ObjectRecord) -> None:
        """Insert or replace an object record (its masks and prompts are kept)."""
        self.objects[record.obj_id] = record
        self.masks.setdefault(record.obj_id, {})
        self.prompts.setdefault(record.obj_id, {})

    def update_object(self, obj_id: int, **changes: object) -> ObjectRecord:
        record = replace(self.object(obj_id), **changes)
        self.objects[obj_id] = record
        return record

    def remove_object(self, obj_id: int) -> tuple[ObjectRecord, dict[int, MaskEntry], dict[int, Prompt]]:
        """Remove an object; returns what was removed so it can be put back (undo)."""
        record = self.object(obj_id)
        del self.objects[obj_id]
        return record, self.masks.pop(obj_id, {}), self.prompts.pop(obj_id, {})

    def object(self, obj_id: int) -> ObjectRecord:
        try:
            return self.objects[obj_id]
        except KeyError:
            raise DocumentError(f"no object {obj_id}") from None

    # -- masks -----------------------------------------------------------------------------
    def _check_frame(self, frame: int) -> None:
        if self.video is not None and not 0 <= frame < self.video.frame_count:
            raise DocumentError(f"frame {frame} is outside the video (0..{self.video.frame_count - 1})")

    def mask(self, obj_id: int, frame: int) -> MaskEntry | None:
        return self.masks.get(obj_id, {}).get(frame)

    def set_mask(self, obj_id: int, frame: int, entry: MaskEntry | None) -> MaskEntry | None:
        """Store (or with None, delete) a mask; returns the entry it replaced."""
        self.object(obj_id)
        self._check_frame(frame)
        if entry is not None and self.video is not None:
            if (entry.rle.height, entry.rle.width) != (self.video.height, self.video.width):
                raise DocumentError(
                    f"mask is {entry.rle.width}x{entry.rle.height}, video is {self.video.width}x{self.video.height}"
                )
        frames = self.masks.setdefault(obj_id, {})
        old = frames.get(frame)
        if entry is None:
            frames.pop(frame, None)
        else:
            frames[frame] = entry
        return old

    def set_locked(self, obj_id: int, frame: int, locked: bool) -> None:
        entry = self.mask(obj_id, frame)
        if entry is None:
            raise DocumentError(f"object {obj_id} has no mask on frame {frame} to lock")
        self.masks[obj_id][frame] = replace(entry, locked=locked, reviewed=entry.reviewed and locked)

    def locked_frames(self, obj_id: int) -> set[int]:
        return {f for f, e in self.masks.get(obj_id, {}).items() if e.locked}

    def frames_with_masks(self) -> list[int]:
        return sorted({f for frames in self.masks.values() for f in frames})

    def iter_masks(self) -> Iterator[tuple[int, int, MaskEntry]]:
        """(obj_id, frame, entry) for every stored mask, objects then frames in order."""
        for obj_id in sorted(self.masks):
            for frame in sorted(self.masks[obj_id]):
                yield obj_id, frame, self.masks[obj_id][frame]

    def mask_count(self) -> int:
        return sum(len(frames) for frames in self.masks.values())

    def memory_estimate(self) -> int:
        """Bytes the stored masks take in memory (RLE counts plus per-entry object overhead).

        An estimate, checked against tracemalloc in tests: masks stay compressed, so 10 objects
        on 10,000 frames of 1080p take tens of megabytes where decoded masks would take 20 GB.
        """
        counts = sum(len(entry.rle.counts) for frames in self.masks.values() for entry in frames.values())
        return counts + self.mask_count() * _ENTRY_OVERHEAD_BYTES

    # -- prompts ---------------------------------------------------------------------------
    def prompt(self, obj_id: int, frame: int) -> Prompt | None:
        return self.prompts.get(obj_id, {}).get(frame)

    def set_prompt(self, obj_id: int, frame: int, prompt: Prompt | None) -> Prompt | None:
        """Store (or with None, delete) the prompt of a frame; returns the one it replaced."""
        self.object(obj_id)
        self._check_frame(frame)
        frames = self.prompts.setdefault(obj_id, {})
        old = frames.get(frame)
        if prompt is None or prompt.is_empty:
            frames.pop(frame, None)
        else:
            frames[frame] = prompt
        return old


def inputs_from_content(doc: AnnotationDocument) -> list[EngineInput]:
    """The engine inputs of a document without history (a loaded project): per object, in frame
    order, each frame's prompt, then its hand-edited mask (an edit replaces the clicks)."""
    log: list[EngineInput] = []
    for obj_id in sorted(doc.objects):
        prompts, masks = doc.prompts.get(obj_id, {}), doc.masks.get(obj_id, {})
        edited = {f for f, e in masks.items() if e.source is MaskSource.EDITED}
        for frame in sorted(set(prompts) | edited):
            if frame in prompts:
                log.append(PromptInput(prompts[frame]))
            if frame in edited:
                log.append(MaskInput(obj_id, frame, masks[frame].rle))
    return log
