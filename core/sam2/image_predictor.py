"""Interactive segmentation of one image: encode it once, then predict masks from clicks, a box
and/or the previous round's low-resolution logits (the official SAM2ImagePredictor's numbers).

Coordinates are pixels of the original image, x then y. Preprocessing is the official one:
float in [0, 1], bilinear antialiased resize to the model's square input, ImageNet normalisation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike

from core.sam2.device import autocast
from core.sam2.model import ImageFeatures, Sam2Model

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
LOW_RES_CLAMP = 32.0  # the official predictor clamps the returned low-res logits to +-32


@dataclass(frozen=True)
class ImagePrediction:
    """One prediction. C = 3 with multimask output, else 1.

    masks: (C, H, W) bool at the image's own resolution; iou_scores: (C,) float32 predicted IoU;
    object_score: object-presence logit (> 0: present); low_res_logits: (C, 4h, 4w) float32
    (256 x 256 at 1024), clamped to +-32, to pass back as ``mask_input`` in the next round.
    """

    masks: np.ndarray
    iou_scores: np.ndarray
    object_score: float
    low_res_logits: np.ndarray


@dataclass(frozen=True)
class ImageLogits:
    """The same prediction as tensors, before thresholding: logits (C, H, W) float32."""

    logits: torch.Tensor
    iou_scores: torch.Tensor
    object_score: float
    low_res_logits: torch.Tensor


def preprocess_image(image: np.ndarray, size: int, device: torch.device) -> torch.Tensor:
    """(H, W, 3) uint8 RGB -> (1, 3, size, size) float32, normalised."""
    x = torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1).float().div(255.0)
    x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    mean = torch.tensor(IMAGENET_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=device).view(1, 3, 1, 1)
    return (x - mean) / std


class Sam2ImagePredictor:
    """set_image once, then predict as often as needed. Everything runs under inference mode."""

    def __init__(self, model: Sam2Model) -> None:
        self.model = model.eval()
        self._features: ImageFeatures | None = None
        self._image_embed: torch.Tensor | None = None
        self._orig_hw: tuple[int, int] | None = None

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def image_hw(self) -> tuple[int, int] | None:
        """(H, W) of the image set, or None."""
        return self._orig_hw

    def reset(self) -> None:
        self._features = self._image_embed = self._orig_hw = None

    @torch.inference_mode()
    def set_image(self, image: np.ndarray) -> None:
        """image: (H, W, 3) uint8 RGB of any size."""
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            desc = f"{image.dtype} array of shape {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"image must be an (H, W, 3) uint8 RGB array, got {desc}")
        if image.shape[0] < 1 or image.shape[1] < 1:
            raise ValueError(f"image is empty: shape {image.shape}")
        self.reset()
        x = preprocess_image(image, self.model.image_size, self.device)
        with autocast(self.device):
            feats = self.model.encode_image(x)
        top = feats.vision_feats[-1]
        if self.model.config.directly_add_no_mem_embed:
            top = top + self.model.no_mem_embed
        h, w = feats.feat_sizes[-1]
        self._image_embed = top.permute(1, 2, 0).reshape(1, -1, h, w)
        self._features = feats
        self._orig_hw = (int(image.shape[0]), int(image.shape[1]))

    def predict(
        self,
        points: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        box: ArrayLike | None = None,
        mask_input: ArrayLike | None = None,
        multimask_output: bool = True,
    ) -> ImagePrediction:
        """Masks for the prompts on the image set.

        points: (N, 2) pixels, x then y; labels: (N,) 1 positive / 0 negative;
        box: (4,) x0, y0, x1, y1 pixels; mask_input: (4h, 4w) or (1, 4h, 4w) logits from a
        previous ``low_res_logits`` row. At least one prompt is needed.
        """
        out = self.predict_logits(points, labels, box, mask_input, multimask_output)
        return ImagePrediction(
            masks=(out.logits > 0).cpu().numpy(),
            iou_scores=out.iou_scores.float().cpu().numpy(),
            object_score=out.object_score,
            low_res_logits=out.low_res_logits.float().cpu().numpy(),
        )

    @torch.inference_mode()
    def predict_logits(
        self,
        points: ArrayLike | None = None,
        labels: ArrayLike | None = None,
        box: ArrayLike | None = None,
        mask_input: ArrayLike | None = None,
        multimask_output: bool = True,
    ) -> ImageLogits:
        """As ``predict`` but returns the full-resolution logits instead of boolean masks."""
        if self._features is None or self._orig_hw is None or self._image_embed is None:
            raise RuntimeError("no image set: call set_image() before predict()")
        coords, labs, mask = self._validate(points, labels, box, mask_input)
        model, device = self.model, self.device
        height, width = self._orig_hw
        with autocast(device):
            point_pair = None
            if coords is not None and labs is not None:
                c = torch.as_tensor(coords, dtype=torch.float32, device=device)
                # same operation order as the official transform: normalise, then scale
                c = torch.stack((c[:, 0] / width, c[:, 1] / height), dim=-1) * model.image_size
                point_pair = (c[None], torch.as_tensor(labs, dtype=torch.int32, device=device)[None])
            mask_t = None if mask is None else torch.as_tensor(mask, dtype=torch.float32, device=device)[None, None]
            sparse, dense = model.sam_prompt_encoder(points=point_pair, boxes=None, masks=mask_t)
            low_res, ious, _, obj_score = model.sam_mask_decoder(
                image_embeddings=self._image_embed,
                image_pe=model.sam_prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=multimask_output,
                repeat_image=False,
                high_res_features=self._features.high_res_features,
            )
        low_res = low_res.float()
        logits = F.interpolate(low_res, size=(height, width), mode="bilinear", align_corners=False)
        return ImageLogits(
            logits=logits[0],
            iou_scores=ious[0].float(),
            object_score=float(obj_score[0, 0]),
            low_res_logits=torch.clamp(low_res, -LOW_RES_CLAMP, LOW_RES_CLAMP)[0],
        )

    def _validate(
        self, points: ArrayLike | None, labels: ArrayLike | None, box: ArrayLike | None, mask_input: ArrayLike | None
    ) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """-> (coords (N, 2) with the box corners first, labels (N,), mask (4h, 4w)), or ValueError."""
        assert self._orig_hw is not None
        height, width = self._orig_hw
        if points is None and labels is None and box is None and mask_input is None:
            raise ValueError("no prompt: give points with labels, a box, or a mask input")
        coords_parts: list[np.ndarray] = []
        label_parts: list[np.ndarray] = []
        if box is not None:
            b = np.asarray(box, dtype=np.float64)
            if b.shape != (4,) or not np.isfinite(b).all():
                raise ValueError(f"box must be 4 finite numbers (x0, y0, x1, y1), got shape {b.shape}")
            x0, y0, x1, y1 = b
            if x1 < x0 or y1 < y0:
                raise ValueError(f"box corners are reversed: (x0, y0, x1, y1) = ({x0:g}, {y0:g}, {x1:g}, {y1:g}) needs x1 >= x0 and y1 >= y0")
            if x0 < 0 or y0 < 0 or x1 > width or y1 > height:
                raise ValueError(f"box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) reaches outside the {width}x{height} image")
            coords_parts.append(b.reshape(2, 2))
            label_parts.append(np.array([2, 3]))
        if points is not None or labels is not None:
            if points is None or labels is None:
                raise ValueError("points and labels must be given together")
            p = np.asarray(points, dtype=np.float64)
            lab = np.asarray(labels)
            if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
                raise ValueError(f"points must be an (N, 2) array of x, y pixels with N >= 1, got shape {p.shape}")
            if lab.shape != (p.shape[0],):
                raise ValueError(f"labels must have shape ({p.shape[0]},) to match the points, got {lab.shape}")
            if not np.isfinite(p).all():
                raise ValueError("points must be finite numbers")
            if not np.isin(lab, (0, 1)).all():
                raise ValueError(f"labels must be 1 (positive) or 0 (negative), got {sorted(set(lab.tolist()))}")
            outside = (p[:, 0] < 0) | (p[:, 0] > width) | (p[:, 1] < 0) | (p[:, 1] > height)
            if outside.any():
                x, y = p[int(np.argmax(outside))]
                raise ValueError(f"point ({x:g}, {y:g}) lies outside the {width}x{height} image")
            coords_parts.append(p)
            label_parts.append(lab.astype(np.int64))
        mask = None
        if mask_input is not None:
            side = 4 * self.model.config.feat_size
            m = np.asarray(mask_input, dtype=np.float32)
            if m.ndim == 3 and m.shape[0] == 1:
                m = m[0]
            if m.shape != (side, side):
                raise ValueError(f"mask_input must be ({side}, {side}) low-resolution logits, got shape {np.shape(mask_input)}")
            if not np.isfinite(m).all():
                raise ValueError("mask_input must be finite")
            mask = m
        coords = np.concatenate(coords_parts).astype(np.float32) if coords_parts else None
        labs = np.concatenate(label_parts) if label_parts else None
        return coords, labs, mask
