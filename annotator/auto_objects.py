"""Automatic objects: masks from the automatic mask generator made into objects to track.

Qt-free rules shared by the window ("Find objects on this frame"), ``masklet track --auto`` and
``masklet batch``: what an automatic run asks for (:class:`AutoSpec`), which found masks are new
(no existing track covers them), and the object records they become (``auto 1``, ``auto 2``,
..., source "automatic"). Each object's mask is its mask prompt: stored like a hand-edited mask
(the mask SAM 2 is given, ``MaskSource.EDITED``), so reloading, propagation and the protected-mask
rule treat it as any mask prompt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Iterable, Sequence

import numpy as np
from pycocotools import mask as mask_utils

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, color_for
from core.masks import Rle
from core.sam2.auto_params import AutoMaskParams

AUTOMATIC = "automatic"
MANUAL = "manual"
NAME_PREFIX = "auto"


@dataclass(frozen=True)
class FoundMask:
    """One candidate mask of a frame (a Qt- and torch-free copy of core.sam2.auto_masks.AutoMask).

    rle: at the frame's resolution; area: pixels; predicted_iou, stability_score: the
    generator's scores; point: the grid click (x, y pixels) that made it."""

    rle: Rle
    area: int
    predicted_iou: float
    stability_score: float
    point: tuple[float, float]


@dataclass(frozen=True)
class AutoSpec:
    """An automatic run over a video.

    params: the generator's parameters; frame: where it first runs; every: also run it every
    ``every`` frames from ``frame`` (both ways) and add what no track covers (None: only once);
    cover_iou: a found mask whose IoU with some object's mask on that frame reaches this is
    covered (not new); min_area: masks smaller than this many pixels are not made objects.
    """

    params: AutoMaskParams = field(default_factory=AutoMaskParams)
    frame: int = 0
    every: int | None = None
    cover_iou: float = 0.5
    min_area: int = 0

    def validate(self, frame_count: int | None = None) -> None:
        """ValueError (one line) naming the first bad value."""
        self.params.validate()
        if self.frame < 0 or (frame_count is not None and self.frame >= frame_count):
            raise ValueError(f"auto frame {self.frame} is outside the video (frames 0 to {(frame_count or 1) - 1})")
        if self.every is not None and self.every < 1:
            raise ValueError(f"auto every must be at least 1 frame, got {self.every}")
        if not 0.0 < self.cover_iou <= 1.0:
            raise ValueError(f"cover_iou must lie in (0, 1], got {self.cover_iou}")
        if self.min_area < 0:
            raise ValueError(f"min_area must be 0 or more, got {self.min_area}")

    def frames(self, frame_count: int) -> list[int]:
        """The frames the generator runs on, in order: ``frame``, then every ``every`` frames
        forward to the end, then backward to frame 0."""
        if self.every is None:
            return [self.frame]
        forward = list(range(self.frame, frame_count, self.every))
        backward = list(range(self.frame - self.every, -1, -self.every))
        return forward + backward

    @classmethod
    def from_json(cls, data: object) -> "AutoSpec":
        """From ``{"frame": N, "every": K, "cover_iou": x, "min_area": a, <generator parameters>}``
        (all optional); unknown names are refused with one line."""
        if not isinstance(data, dict):
            raise ValueError("\"auto\" must be an object of settings, e.g. {\"frame\": 0}")
        own = {f.name for f in fields(cls)} - {"params"}
        values = {k: v for k, v in data.items() if k in own}
        params = AutoMaskParams.from_mapping({k: v for k, v in data.items() if k not in own})
        spec = cls(params=params, **values)  # type: ignore[arg-type]
        spec.validate()
        return spec


def mask_ious(found: Sequence[Rle], existing: Sequence[Rle]) -> np.ndarray:
    """(len(found), len(existing)) mask IoU."""
    if not found or not existing:
        return np.zeros((len(found), len(existing)))
    a = [{"size": [r.height, r.width], "counts": r.counts} for r in found]
    b = [{"size": [r.height, r.width], "counts": r.counts} for r in existing]
    return np.asarray(mask_utils.iou(a, b, [0] * len(b))).reshape(len(found), len(existing))


def uncovered(found: Sequence[FoundMask], existing: Sequence[Rle], cover_iou: float, min_area: int = 0) -> list[FoundMask]:
    """The found masks of at least ``min_area`` pixels that no existing mask covers: each one's
    IoU with every existing mask stays below ``cover_iou``."""
    big = [m for m in found if m.area >= max(min_area, 1)]
    ious = mask_ious([m.rle for m in big], list(existing))
    return [m for i, m in enumerate(big) if ious.shape[1] == 0 or float(ious[i].max()) < cover_iou]


def masks_on(doc: AnnotationDocument, frame: int) -> list[Rle]:
    """Every object's non-empty mask on ``frame``."""
    out = []
    for frames in doc.masks.values():
        entry = frames.get(frame)
        if entry is not None and not entry.rle.is_empty:
            out.append(entry.rle)
    return out


def next_auto_number(doc: AnnotationDocument) -> int:
    """The n of the next ``auto n`` name (one past the highest in use)."""
    used = [0]
    for record in doc.objects.values():
        head, _, tail = record.name.partition(" ")
        if head == NAME_PREFIX and tail.isdigit():
            used.append(int(tail))
    return max(used) + 1


@dataclass(frozen=True)
class NewObject:
    """One object to add: its record and its mask prompt on ``frame``."""

    record: ObjectRecord
    frame: int
    entry: MaskEntry


def new_objects(doc: AnnotationDocument, frame: int, masks: Iterable[FoundMask], category: str = "object") -> list[NewObject]:
    """Records for ``masks`` found on ``frame``: the next free ids, names ``auto n``, source automatic."""
    obj_id = doc.next_object_id()
    number = next_auto_number(doc)
    out = []
    for mask in masks:
        record = ObjectRecord(obj_id, f"{NAME_PREFIX} {number}", category, color_for(obj_id), source=AUTOMATIC)
        out.append(NewObject(record, frame, MaskEntry(mask.rle, MaskSource.EDITED, iou=mask.predicted_iou)))
        obj_id += 1
        number += 1
    return out


# SA-V's per-masklet "masklet_type" ("auto" / "manual"), kept in a track's attributes by core.formats.sav
SAV_TYPE_KEY = "sav.type"


def sav_type_attributes(record: ObjectRecord) -> dict[str, object]:
    """The track attribute an export writes as SA-V's masklet_type: "auto" for automatic objects
    (for others, what the object's attributes hold, else SA-V's writer says "manual")."""
    return {SAV_TYPE_KEY: "auto"} if record.source == AUTOMATIC else {}


def source_from_attributes(attributes: dict[str, object]) -> str:
    """An imported track's object source: automatic where SA-V's masklet_type says "auto"."""
    return AUTOMATIC if attributes.get(SAV_TYPE_KEY) == "auto" else MANUAL
