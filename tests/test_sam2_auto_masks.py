"""The automatic mask generator (core/sam2/auto_masks.py) on the small random model: its parameters
are honoured, box NMS follows torchvision's rule, crops and their edge rule, the optional steps.
Its numbers against the official generator: bench/parity/auto_mask_parity.py (docs/sam2_parity.md)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.sam2.auto_mask_ops import box_nms, crop_boxes, layer_point_grids, mask_boxes, near_crop_edge, point_grid, stability_scores
from core.sam2.auto_masks import AutoMaskGenerator, AutoMasksCancelled
from core.sam2.auto_params import AutoMaskParams
from core.sam2.auto_refine import fill_small_regions
from tests.sam2_helpers import random_image, random_model

# random weights: predicted IoU 0.40-0.63, stability 0-0.77, boxes mostly near the whole image;
# these thresholds let some of each through, and box NMS still finds duplicates
LOOSE = dict(pred_iou_thresh=0.5, stability_score_thresh=0.2, box_nms_thresh=0.95)


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return random_model(seed=2)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return random_image(90, 120, seed=4)


def naive_nms(boxes: np.ndarray, scores: np.ndarray, thresh: float) -> list[int]:
    """The rule written plainly: best first (ties in input order), drop IoU > thresh with a kept box."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            a, b = boxes[i].astype(np.float32), boxes[j].astype(np.float32)
            w = max(np.float32(0), min(a[2], b[2]) - max(a[0], b[0]))
            h = max(np.float32(0), min(a[3], b[3]) - max(a[1], b[1]))
            inter = np.float32(w * h)
            union = np.float32((a[2] - a[0]) * (a[3] - a[1])) + np.float32((b[2] - b[0]) * (b[3] - b[1])) - inter
            if inter / union > thresh:
                ok = False
                break
        if ok:
            keep.append(i)
    return keep


@pytest.mark.parametrize("seed", range(5))
def test_box_nms_matches_the_plain_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.integers(0, 60, size=(80, 2))
    wh = rng.integers(1, 40, size=(80, 2))
    boxes = np.concatenate([xy, xy + wh], axis=1)
    scores = rng.integers(0, 6, size=80).astype(np.float32) / 5  # many ties
    kept = box_nms(torch.from_numpy(boxes).float(), torch.from_numpy(scores), 0.5).tolist()
    assert kept == naive_nms(boxes, scores, 0.5)


def test_box_nms_threshold_is_strict_and_order_is_best_first() -> None:
    boxes = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 5], [20, 20, 30, 30], [0, 0, 10, 10]], dtype=torch.float32)
    scores = torch.tensor([0.5, 0.9, 0.7, 0.5])
    # box 1 covers half of box 0: IoU 0.5 exactly is kept at 0.5, dropped below it
    assert box_nms(boxes, scores, 0.5).tolist() == [1, 2, 0]
    assert box_nms(boxes, scores, 0.49).tolist() == [1, 2]
    assert box_nms(torch.zeros((0, 4)), torch.zeros(0), 0.7).tolist() == []


def test_grids_crops_boxes_and_stability() -> None:
    grid = point_grid(4)
    assert grid.shape == (16, 2) and np.allclose(grid[:4, 0], [0.125, 0.375, 0.625, 0.875]) and np.allclose(grid[:4, 1], 0.125)
    assert [len(g) for g in layer_point_grids(16, 2, 2)] == [256, 64, 16]
    boxes, layers = crop_boxes(600, 900, 1, 512 / 1500)
    overlap = int(512 / 1500 * 600)
    w, h = -(-(overlap + 900) // 2), -(-(overlap + 600) // 2)
    assert boxes[0] == (0, 0, 900, 600) and layers == [0, 1, 1, 1, 1]
    assert boxes[1:] == [(0, 0, w, h), (0, h - overlap, w, 600), (w - overlap, 0, 900, h), (w - overlap, h - overlap, 900, 600)]
    masks = torch.zeros((3, 10, 12), dtype=torch.bool)
    masks[0, 2:5, 3:9] = True
    masks[1, 9, 0] = True
    assert mask_boxes(masks).tolist() == [[3, 2, 8, 4], [0, 9, 0, 9], [0, 0, 0, 0]]
    logits = torch.tensor([[[2.0, 0.5, -0.5, -2.0]], [[-3.0, -3.0, -3.0, -3.0]]])
    scores = stability_scores(logits, 0.0, 1.0)
    assert scores[0].item() == pytest.approx(1 / 3) and torch.isnan(scores[1])


def test_crop_edge_rule() -> None:
    crop = (100, 0, 300, 200)  # the image is 300 x 200: the right and bottom edges are the image's
    boxes = torch.tensor([[5, 50, 60, 90], [50, 50, 199, 199], [30, 30, 100, 100]])  # crop pixels
    assert near_crop_edge(boxes, crop, (300, 200)).tolist() == [True, False, False]


def test_parameters_are_honoured(model, image: np.ndarray) -> None:
    calls: list[tuple[int, int]] = []
    params = AutoMaskParams(points_per_side=5, points_per_batch=7, **LOOSE)
    result = AutoMaskGenerator(model, params).generate(image, progress=lambda d, t, m="": calls.append((d, t)))
    st = result.stats
    assert st.points == 25 and st.candidates == 75
    assert [d for d, _ in calls] == [7, 14, 21, 25] and {t for _, t in calls} == {25}
    removed = st.removed_by_pred_iou + st.removed_by_stability + st.removed_by_crop_edge + st.removed_by_box_nms
    assert st.kept == len(result.masks) == st.candidates - removed and st.kept > 0
    assert st.removed_by_pred_iou > 0 and st.removed_by_stability > 0 and st.removed_by_box_nms > 0
    for m in result.masks:
        assert m.predicted_iou > 0.5 and m.stability_score >= 0.2
        assert (m.rle.height, m.rle.width) == image.shape[:2] and m.area == m.rle.area > 0
        x, y, w, h = m.rle.bbox
        assert m.box == (int(x), int(y), int(x + w) - 1, int(y + h) - 1)
        assert m.crop == (0, 0, 120, 90)
    ious = [m.predicted_iou for m in result.masks]
    assert ious == sorted(ious, reverse=True)  # NMS order: best first
    single = AutoMaskGenerator(model, AutoMaskParams(points_per_side=5, multimask_output=False, **LOOSE)).generate(image)
    assert single.stats.candidates == 25
    strict = AutoMaskGenerator(model, AutoMaskParams(points_per_side=5)).generate(image)
    assert all(m.predicted_iou > 0.8 and m.stability_score >= 0.95 for m in strict.masks)
    nothing_removed = AutoMaskGenerator(model, AutoMaskParams(points_per_side=3, pred_iou_thresh=0, stability_score_thresh=0,
                                                              box_nms_thresh=1.0)).generate(image)
    assert nothing_removed.stats.kept == 27


@torch.inference_mode()
def test_upsampling_only_what_passed_changes_no_number(model, image: np.ndarray) -> None:
    """The IoU filter runs before the upsampling: the masks and stability scores that come out equal
    those of the official order (the whole batch upsampled, then filtered)."""
    params = AutoMaskParams(points_per_side=3, pred_iou_thresh=0.5, stability_score_thresh=0, box_nms_thresh=1.0)
    gen = AutoMaskGenerator(model, params)
    embed, high_res = gen._encode(image)
    pts = torch.as_tensor(gen.grids[0] * np.array([120, 90]), dtype=torch.float32)
    coords = torch.stack((pts[:, 0] / 120, pts[:, 1] / 90), -1) * model.image_size
    low, ious = gen._decode(coords, embed, high_res)
    whole = F.interpolate(low, size=(90, 120), mode="bilinear", align_corners=False).flatten(0, 1)
    keep = ious.flatten() > 0.5
    expected = {round(float(i), 7): (float(s), m) for i, s, m in zip(
        ious.flatten()[keep], stability_scores(whole[keep], 0.0, 1.0), (whole[keep] > 0).numpy())}
    result = gen.generate(image)
    assert 0 < len(result.masks) == int(keep.sum())
    for m in result.masks:
        stability, mask = expected[round(m.predicted_iou, 7)]
        assert m.stability_score == stability and np.array_equal(m.rle.decode(), mask)


def test_crops_and_explicit_grids(model, image: np.ndarray) -> None:
    params = AutoMaskParams(points_per_side=4, crop_n_layers=1, crop_n_points_downscale_factor=2, **LOOSE)
    gen = AutoMaskGenerator(model, params)
    plan = gen.plan(90, 120)
    assert len(plan) == 5 and [n for _, n in plan] == [16, 4, 4, 4, 4]
    result = gen.generate(image)
    st = result.stats
    assert st.points == 32 and st.removed_by_crop_edge > 0
    assert st.kept == len(result.masks) and {m.crop for m in result.masks} <= {b for b, _ in plan}
    for m in result.masks:  # a crop's mask lies inside its crop, in the whole image's pixels
        x0, y0, x1, y1 = m.crop
        mask = m.rle.decode()
        assert mask.shape == (90, 120) and not mask[:y0].any() and not mask[y1:].any() and not mask[:, x1:].any()
    grids = (point_grid(4), point_grid(2))
    same = AutoMaskGenerator(model, AutoMaskParams(points_per_side=None, point_grids=grids, crop_n_layers=1, **LOOSE)).generate(image)
    assert [(m.rle, m.predicted_iou) for m in same.masks] == [(m.rle, m.predicted_iou) for m in result.masks]


def test_m2m_small_regions_and_validation(model, image: np.ndarray) -> None:
    refined = AutoMaskGenerator(model, AutoMaskParams(points_per_side=3, use_m2m=True, **LOOSE)).generate(image)
    assert refined.stats.candidates == 27
    logits = torch.full((1, 10, 10), -5.0)
    logits[0, 1:6, 1:6] = 5.0
    logits[0, 3, 3] = -5.0  # a one-pixel hole
    logits[0, 6, 6] = 5.0  # touches the square at a corner: 8-connected, so part of it
    logits[0, 8, 8] = 5.0  # a one-pixel island
    out = fill_small_regions(logits, 1, 0.0)
    assert out[0, 3, 3] == 10.0 and out[0, 8, 8] == -10.0 and out[0, 6, 6] == 5.0 and out[0, 0, 0] == -5.0
    assert torch.equal(fill_small_regions(logits, 0, 0.0), logits)
    for bad, words in ((dict(points_per_side=None), "exactly one"), (dict(pred_iou_thresh=1.5), "pred_iou_thresh"),
                       (dict(crop_n_layers=-1), "crop_n_layers"), (dict(points_per_batch=0), "points_per_batch")):
        with pytest.raises(ValueError, match=words):
            AutoMaskParams(**bad).validate()
    with pytest.raises(ValueError, match="unknown automatic-mask parameter 'points'"):
        AutoMaskParams.from_mapping({"points": 3})


def test_cancel_between_batches(model, image: np.ndarray) -> None:
    seen: list[int] = []
    gen = AutoMaskGenerator(model, AutoMaskParams(points_per_side=4, points_per_batch=4))
    with pytest.raises(AutoMasksCancelled):
        gen.generate(image, progress=lambda d, t, m="": seen.append(d), cancel=lambda: len(seen) >= 2)
    assert seen == [4, 8]
