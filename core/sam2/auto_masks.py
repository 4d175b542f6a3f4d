"""Automatic masks: every object of an image from a grid of point prompts (SAM 2's "segment
everything", the official SAM2AutomaticMaskGenerator's parameters, defaults and numbers).

Per crop (the whole image, then the crops of each crop layer): encode the crop once; run the
mask decoder on the grid's points a batch at a time (one positive click each, three masks per
click with multimask output); drop masks whose predicted IoU is not above ``pred_iou_thresh``,
whose stability score is below ``stability_score_thresh``, and (in crops) those cut off by the
crop's edge; remove duplicates by box NMS on predicted IoU. Across crops, box NMS again, the
smaller crop winning. Masks come out losslessly as COCO RLE (``core.masks.Rle``).

Differences from the official that change no result: the predicted-IoU filter runs before the
masks are upsampled, so only the masks that pass it are brought to full resolution; masks are
encoded straight to compressed RLE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from core.masks import Rle, encode
from core.sam2.auto_mask_ops import box_nms, crop_boxes, layer_point_grids, mask_boxes, near_crop_edge, stability_scores
from core.sam2.auto_params import AutoMaskParams
from core.sam2.auto_refine import fill_small_regions, refine_with_mask
from core.sam2.device import autocast
from core.sam2.image_predictor import preprocess_image
from core.sam2.model import Sam2Model
from core.types import CancelCheck, ProgressCallback


class AutoMasksCancelled(Exception):
    """The caller's cancel check returned True between two point batches."""


@dataclass(frozen=True)
class AutoMask:
    """One automatic mask.

    rle: the mask at the image's resolution; box: x0, y0, x1, y1 pixels (x1, y1 the last
    foreground column and row, as the official's); area: pixels; predicted_iou and
    stability_score: the scores it passed; point: the click (x, y pixels of the image) that made
    it; crop: x0, y0, x1, y1 (exclusive ends) of the crop it came from.
    """

    rle: Rle
    box: tuple[int, int, int, int]
    area: int
    predicted_iou: float
    stability_score: float
    point: tuple[float, float]
    crop: tuple[int, int, int, int]


@dataclass
class AutoMaskStats:
    """How many candidate masks each step removed (candidates = points x masks per point)."""

    points: int = 0
    candidates: int = 0
    removed_by_pred_iou: int = 0
    removed_by_stability: int = 0
    removed_by_crop_edge: int = 0
    removed_by_box_nms: int = 0
    removed_by_crop_nms: int = 0
    kept: int = 0


@dataclass
class AutoMaskResult:
    masks: list[AutoMask] = field(default_factory=list)
    stats: AutoMaskStats = field(default_factory=AutoMaskStats)


@dataclass
class _Found:
    """Masks of one crop so far, as tensors (N = masks): rles, boxes (N, 4) int64 in crop pixels,
    ious (N,), stability (N,), points (N, 2) float32 crop pixels."""

    rles: list[Rle]
    boxes: torch.Tensor
    ious: torch.Tensor
    stability: torch.Tensor
    points: torch.Tensor

    @classmethod
    def empty(cls) -> "_Found":
        return cls([], torch.zeros((0, 4), dtype=torch.int64), torch.zeros(0), torch.zeros(0), torch.zeros((0, 2)))

    def add(self, other: "_Found") -> None:
        self.rles += other.rles
        self.boxes = torch.cat([self.boxes, other.boxes])
        self.ious = torch.cat([self.ious, other.ious])
        self.stability = torch.cat([self.stability, other.stability])
        self.points = torch.cat([self.points, other.points])

    def take(self, idx: torch.Tensor) -> "_Found":
        return _Found([self.rles[i] for i in idx.tolist()], self.boxes[idx], self.ious[idx], self.stability[idx], self.points[idx])


class AutoMaskGenerator:
    """``generate(image)`` -> every mask the grid finds. Holds no state between calls."""

    def __init__(self, model: Sam2Model, params: AutoMaskParams | None = None) -> None:
        self.model = model.eval()
        self.params = params if params is not None else AutoMaskParams()
        self.params.validate()
        p = self.params
        if p.point_grids is not None:
            self.grids = [np.asarray(g, dtype=np.float64) for g in p.point_grids]
        else:
            assert p.points_per_side is not None
            self.grids = layer_point_grids(p.points_per_side, p.crop_n_layers, p.crop_n_points_downscale_factor)

    def plan(self, height: int, width: int) -> list[tuple[tuple[int, int, int, int], int]]:
        """[(crop box, number of points)] in the order ``generate`` visits them."""
        boxes, layers = crop_boxes(height, width, self.params.crop_n_layers, self.params.crop_overlap_ratio)
        return [(b, len(self.grids[layer])) for b, layer in zip(boxes, layers)]

    @torch.inference_mode()
    def generate(self, image: np.ndarray, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> AutoMaskResult:
        """image: (H, W, 3) uint8 RGB. progress(done points, total points); cancel is checked
        before each point batch (raises ``AutoMasksCancelled``)."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError("image must be an (H, W, 3) uint8 RGB array")
        height, width = image.shape[:2]
        boxes, layers = crop_boxes(height, width, self.params.crop_n_layers, self.params.crop_overlap_ratio)
        if len(self.grids) < max(layers) + 1:
            raise ValueError(f"point_grids has {len(self.grids)} grids, the crop layers need {max(layers) + 1}")
        total = sum(len(self.grids[layer]) for layer in layers)
        stats = AutoMaskStats()
        found = _Found.empty()
        crop_of: list[tuple[int, int, int, int]] = []
        done = 0
        for crop, layer in zip(boxes, layers):
            part, done = self._crop(image, crop, self.grids[layer], stats, (width, height), done, total, progress, cancel)
            found.add(part)
            crop_of += [crop] * len(part.rles)
        if len(boxes) > 1 and crop_of:
            crops_t = torch.tensor(crop_of, dtype=torch.int64)
            scores = 1 / ((crops_t[:, 2] - crops_t[:, 0]) * (crops_t[:, 3] - crops_t[:, 1]))
            keep = box_nms(found.boxes.float(), scores, self.params.crop_nms_thresh)
            stats.removed_by_crop_nms = len(crop_of) - len(keep)
            found = found.take(keep)
            crop_of = [crop_of[i] for i in keep.tolist()]
        masks = [
            AutoMask(
                rle=rle,
                box=tuple(int(v) for v in found.boxes[i].tolist()),  # type: ignore[arg-type]
                area=rle.area,
                predicted_iou=float(found.ious[i]),
                stability_score=float(found.stability[i]),
                point=(float(found.points[i, 0]), float(found.points[i, 1])),
                crop=crop_of[i],
            )
            for i, rle in enumerate(found.rles)
        ]
        stats.kept = len(masks)
        return AutoMaskResult(masks, stats)

    def _crop(self, image, crop, grid, stats, image_wh, done, total, progress, cancel) -> tuple[_Found, int]:  # noqa: ANN001
        """The masks of one crop, NMS'd, with boxes and points in image pixels."""
        x0, y0, x1, y1 = crop
        if cancel is not None and cancel():
            raise AutoMasksCancelled()
        embed, high_res = self._encode(np.ascontiguousarray(image[y0:y1, x0:x1, :]))
        crop_hw = (y1 - y0, x1 - x0)
        points_all = grid * np.array(crop_hw)[None, ::-1]
        found = _Found.empty()
        step = self.params.points_per_batch
        for start in range(0, len(points_all), step):
            if cancel is not None and cancel():
                raise AutoMasksCancelled()
            found.add(self._batch(points_all[start : start + step], embed, high_res, crop, crop_hw, image_wh, stats))
            done += min(step, len(points_all) - start)
            if progress is not None:
                progress(done, total, f"{len(found.rles)} masks")
        keep = box_nms(found.boxes.float(), found.ious, self.params.box_nms_thresh)
        stats.removed_by_box_nms += len(found.rles) - len(keep)
        found = found.take(keep)
        found.boxes = found.boxes + torch.tensor([[x0, y0, x0, y0]], dtype=torch.int64)
        found.points = found.points + torch.tensor([[x0, y0]], dtype=torch.float32)
        return found, done

    def _encode(self, crop: np.ndarray) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
        """The image predictor's encoding of one crop: (1, C, h, w) embedding, high-res features."""
        model = self.model
        x = preprocess_image(crop, model.image_size, model.device)
        with autocast(model.device):
            feats = model.encode_image(x)
        top = feats.vision_feats[-1]
        if model.config.directly_add_no_mem_embed:
            top = top + model.no_mem_embed
        h, w = feats.feat_sizes[-1]
        return top.permute(1, 2, 0).reshape(1, -1, h, w), feats.high_res_features

    def _decode(self, coords: torch.Tensor, embed, high_res, mask_input=None, multimask: bool = True):  # noqa: ANN001
        """coords (B, 2) model-input pixels -> low-res logits (B, M, 4h, 4w) float32, IoU (B, M)."""
        model = self.model
        labels = torch.ones((coords.shape[0], 1), dtype=torch.int32, device=coords.device)
        with autocast(model.device):
            sparse, dense = model.sam_prompt_encoder(points=(coords[:, None, :], labels), boxes=None, masks=mask_input)
            low_res, ious, _, _ = model.sam_mask_decoder(
                image_embeddings=embed,
                image_pe=model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask,
                repeat_image=coords.shape[0] > 1,
                high_res_features=high_res,
            )
        return low_res.float(), ious.float()

    def _batch(self, points: np.ndarray, embed, high_res, crop, crop_hw, image_wh, stats: AutoMaskStats) -> _Found:  # noqa: ANN001
        p = self.params
        device = self.model.device
        crop_h, crop_w = crop_hw
        pts = torch.as_tensor(points, dtype=torch.float32, device=device)
        # the official transform's operation order: normalise by the crop's size, then scale
        coords = torch.stack((pts[:, 0] / crop_w, pts[:, 1] / crop_h), dim=-1) * self.model.image_size
        low_res, ious = self._decode(coords, embed, high_res, multimask=p.multimask_output)
        n_points, per_point = low_res.shape[:2]
        stats.points += n_points
        stats.candidates += n_points * per_point
        ious = ious.flatten(0, 1)
        pts = pts.repeat_interleave(per_point, dim=0)
        if p.use_m2m:
            coords = coords.repeat_interleave(per_point, dim=0)
            refined, ious = refine_with_mask(self._decode, coords, torch.clamp(low_res.flatten(0, 1), -32.0, 32.0), embed, high_res, p.points_per_batch)
            low_res = refined[:, None]  # one mask per row, as the official upsamples refined masks
            per_point = 1
        keep = ious > p.pred_iou_thresh if p.pred_iou_thresh > 0.0 else torch.ones_like(ious, dtype=torch.bool)
        stats.removed_by_pred_iou += int((~keep).sum())
        ious, pts = ious[keep], pts[keep]
        # Only rows with a mask that passed are brought to full resolution, in the official's layout
        # (rows of ``per_point`` masks): the bilinear kernel's rounding can depend on the channel count.
        rows = keep.view(-1, per_point)
        some = rows.any(dim=1)
        grid = low_res[some]
        if p.min_mask_region_area > 0:
            grid = fill_small_regions(grid.flatten(0, 1), p.min_mask_region_area, p.mask_threshold).view_as(grid)
        logits = F.interpolate(grid, size=crop_hw, mode="bilinear", align_corners=False).flatten(0, 1)[rows[some].flatten()]
        del grid
        stability = stability_scores(logits, p.mask_threshold, p.stability_score_offset)
        keep = stability >= p.stability_score_thresh if p.stability_score_thresh > 0.0 else torch.ones_like(stability, dtype=torch.bool)
        stats.removed_by_stability += int((~keep).sum())
        logits, ious, pts, stability = logits[keep], ious[keep], pts[keep], stability[keep]
        masks = logits > p.mask_threshold
        del logits
        boxes = mask_boxes(masks.cpu())
        keep = ~near_crop_edge(boxes, crop, image_wh)
        stats.removed_by_crop_edge += int((~keep).sum())
        masks, boxes, ious, pts, stability = masks[keep.to(masks.device)], boxes[keep], ious[keep.to(ious.device)], pts[keep.to(pts.device)], stability[keep.to(stability.device)]
        rles = [self._full_rle(m, crop, image_wh) for m in masks.cpu().numpy()]
        return _Found(rles, boxes, ious.cpu(), stability.cpu(), pts.cpu())

    @staticmethod
    def _full_rle(mask: np.ndarray, crop: tuple[int, int, int, int], image_wh: tuple[int, int]) -> Rle:
        """A crop's (h, w) mask placed in the whole image, encoded."""
        x0, y0, x1, y1 = crop
        width, height = image_wh
        if (x0, y0, x1, y1) == (0, 0, width, height):
            return encode(mask)
        full = np.zeros((height, width), dtype=bool)
        full[y0:y1, x0:x1] = mask
        return encode(full)
