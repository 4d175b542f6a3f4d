"""The automatic mask generator's parameters: the official SAM2AutomaticMaskGenerator's, with
its defaults (chosen there for SAM 2 with the large Hiera backbone)."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass(frozen=True)
class AutoMaskParams:
    """points_per_side: grid points along each side of a crop (points_per_side**2 points), or
    None with explicit ``point_grids`` (one (N, 2) array of [0, 1] x, y per crop layer).
    points_per_batch: points the mask decoder runs at once. pred_iou_thresh: keep masks whose
    predicted IoU is above it (0 disables). stability_score_thresh: keep masks whose stability
    score (IoU of the masks at mask_threshold +- stability_score_offset) is at least it (0
    disables). mask_threshold: logit cut-off of a mask. box_nms_thresh: box IoU above which the
    lower-scoring of two masks of one crop is dropped. crop_n_layers: extra crop layers, layer i
    with (2**i)**2 crops; crop_nms_thresh: the NMS between crops; crop_overlap_ratio: overlap of
    the first layer's crops as a fraction of the short side; crop_n_points_downscale_factor:
    layer i has points_per_side / factor**i points per side. min_mask_region_area: fill holes
    and remove islands up to this many pixels of the low-resolution (4h x 4w) logits before
    upsampling (0: off). use_m2m: refine each mask once with its own logits as a mask prompt.
    multimask_output: three masks per point (else one).

    The official ``output_mode`` has no counterpart: masks are always lossless COCO RLE.
    """

    points_per_side: int | None = 32
    points_per_batch: int = 64
    pred_iou_thresh: float = 0.8
    stability_score_thresh: float = 0.95
    stability_score_offset: float = 1.0
    mask_threshold: float = 0.0
    box_nms_thresh: float = 0.7
    crop_n_layers: int = 0
    crop_nms_thresh: float = 0.7
    crop_overlap_ratio: float = 512 / 1500
    crop_n_points_downscale_factor: int = 1
    point_grids: tuple[np.ndarray, ...] | None = None
    min_mask_region_area: int = 0
    use_m2m: bool = False
    multimask_output: bool = True

    def validate(self) -> None:
        """ValueError (one line) naming the first bad parameter."""
        if (self.points_per_side is None) == (self.point_grids is None):
            raise ValueError("give exactly one of points_per_side and point_grids")
        if self.points_per_side is not None and self.points_per_side < 1:
            raise ValueError(f"points_per_side must be at least 1, got {self.points_per_side}")
        if self.points_per_batch < 1:
            raise ValueError(f"points_per_batch must be at least 1, got {self.points_per_batch}")
        for name in ("pred_iou_thresh", "stability_score_thresh", "box_nms_thresh", "crop_nms_thresh"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in [0, 1], got {value}")
        if self.crop_n_layers < 0:
            raise ValueError(f"crop_n_layers must be 0 or more, got {self.crop_n_layers}")
        if not 0.0 <= self.crop_overlap_ratio < 1.0:
            raise ValueError(f"crop_overlap_ratio must lie in [0, 1), got {self.crop_overlap_ratio}")
        if self.crop_n_points_downscale_factor < 1:
            raise ValueError(f"crop_n_points_downscale_factor must be at least 1, got {self.crop_n_points_downscale_factor}")
        if self.min_mask_region_area < 0:
            raise ValueError(f"min_mask_region_area must be 0 or more, got {self.min_mask_region_area}")
        if self.points_per_side is not None and int(self.points_per_side / self.crop_n_points_downscale_factor**self.crop_n_layers) < 1:
            raise ValueError("the last crop layer would have no points: lower crop_n_points_downscale_factor or crop_n_layers")

    @classmethod
    def from_mapping(cls, values: dict[str, object]) -> "AutoMaskParams":
        """From a JSON object of parameter names (unknown names are refused, one line)."""
        known = {f.name for f in fields(cls)} - {"point_grids"}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown automatic-mask parameter {unknown[0]!r}; known: {', '.join(sorted(known))}")
        params = cls(**values)  # type: ignore[arg-type]
        params.validate()
        return params
