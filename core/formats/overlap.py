"""What a one-label-per-pixel export (DAVIS palette PNGs, MOTS PNGs) loses where objects overlap.

Such a format draws one object per pixel: where masks overlap, the object with the lowest id
keeps the pixel (as the official SAM 2 tools write DAVIS PNGs) and the others lose it. The
report counts, per object, its pixels over the exported frames and how many of them the export
drops, computed on the RLEs (pycocotools merge/area, no decoding), so the window can show it
before the export and ``masklet export`` prints it. The per-object PNG layout keeps every pixel.
"""

from __future__ import annotations

from dataclasses import dataclass

from pycocotools import mask as mask_utils

from core.formats.dataset import Dataset
from core.types import CancelCheck

SINGLE_LABEL_FORMATS = frozenset({"davis", "mots"})
KEEPS_OVERLAPS = "png"  # the layout to offer instead


@dataclass(frozen=True)
class ObjectLoss:
    """One object's pixels over the exported frames (``pixels``) and those the export drops (``lost``)."""

    track_id: int
    name: str
    pixels: int
    lost: int

    @property
    def fraction(self) -> float:
        return self.lost / self.pixels if self.pixels else 0.0

    def line(self) -> str:
        """``object 2 "ball": loses 1,234 of 5,678 pixels (21.7 %)``."""
        return (f'object {self.track_id} "{self.name}": loses {self.lost:,} of {self.pixels:,} pixels '
                f"({100 * self.fraction:.1f} %)")


def overlap_losses(dataset: Dataset, frames: list[int], cancel: CancelCheck | None = None) -> list[ObjectLoss]:
    """Per object (by id), what a one-label-per-pixel export of ``frames`` loses; objects losing
    nothing are left out. Returns [] when cancelled."""
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    pixels = {t.track_id: 0 for t in tracks}
    lost = {t.track_id: 0 for t in tracks}
    for frame in frames:
        if cancel is not None and cancel():
            return []
        above: list[dict] = []  # masks of lower ids on this frame: they win
        for track in tracks:
            rle = track.masks.get(frame)
            if rle is None:
                continue
            coco = {"size": [rle.height, rle.width], "counts": rle.counts}
            area = int(mask_utils.area(coco))
            if area == 0:
                continue
            pixels[track.track_id] += area
            if above:
                union = mask_utils.merge(above, intersect=False) if len(above) > 1 else above[0]
                lost[track.track_id] += int(mask_utils.area(mask_utils.merge([union, coco], intersect=True)))
            above.append(coco)
    return [ObjectLoss(t.track_id, t.name, pixels[t.track_id], lost[t.track_id]) for t in tracks if lost[t.track_id]]


def report(losses: list[ObjectLoss], title: str) -> list[str]:
    """Lines for the user: nothing when nothing is lost, else one line per object and the way out."""
    if not losses:
        return []
    return [f"{title} holds one object per pixel; where objects overlap, the lower id keeps the pixel:",
            *(f"  {loss.line()}" for loss in losses),
            "  the per-object PNG layout keeps every object whole"]
