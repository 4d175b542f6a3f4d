"""The image predictor on a small random model: shapes, dtypes and determinism for every prompt
kind, the mask-prompt round trip, and invalid input refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from core.sam2.image_predictor import ImagePrediction, Sam2ImagePredictor, preprocess_image
from tests.sam2_helpers import random_image, random_model

H, W = 45, 70  # deliberately not square, not the model size


@pytest.fixture(scope="module")
def predictor() -> Sam2ImagePredictor:
    p = Sam2ImagePredictor(random_model(seed=5))
    p.set_image(random_image(H, W, seed=1))
    return p


PROMPTS = {
    "click": dict(points=[[30.0, 20.0]], labels=[1]),
    "clicks": dict(points=[[30, 20], [10, 40], [60, 5]], labels=[1, 0, 1]),
    "box": dict(box=[5, 5, 50, 40]),
    "box_clicks": dict(box=[5, 5, 50, 40], points=[[20, 20], [45, 35]], labels=[1, 0]),
}


def check(pred: ImagePrediction, count: int, low: int) -> None:
    assert pred.masks.shape == (count, H, W) and pred.masks.dtype == np.bool_
    assert pred.iou_scores.shape == (count,) and pred.iou_scores.dtype == np.float32
    assert pred.low_res_logits.shape == (count, low, low) and pred.low_res_logits.dtype == np.float32
    assert np.abs(pred.low_res_logits).max() <= 32.0
    assert isinstance(pred.object_score, float) and np.isfinite(pred.object_score)
    assert ((pred.iou_scores >= 0) & (pred.iou_scores <= 1)).all()  # sigmoid IoU head


@pytest.mark.parametrize("multimask", [True, False])
@pytest.mark.parametrize("kind", list(PROMPTS))
def test_prompt_kinds(predictor: Sam2ImagePredictor, kind: str, multimask: bool) -> None:
    low = 4 * predictor.model.config.feat_size
    pred = predictor.predict(**PROMPTS[kind], multimask_output=multimask)
    check(pred, 3 if multimask else 1, low)
    again = predictor.predict(**PROMPTS[kind], multimask_output=multimask)
    assert np.array_equal(pred.masks, again.masks) and np.array_equal(pred.low_res_logits, again.low_res_logits)
    logits = predictor.predict_logits(**PROMPTS[kind], multimask_output=multimask)
    assert np.array_equal(pred.masks, (logits.logits > 0).numpy())


@pytest.mark.slow
def test_prompts_change_the_result(predictor: Sam2ImagePredictor) -> None:
    results = [predictor.predict(**PROMPTS[k], multimask_output=False).low_res_logits for k in PROMPTS]
    for i in range(len(results)):
        for j in range(i + 1, len(results)):
            assert not np.array_equal(results[i], results[j])


def test_mask_prompt_from_previous_round(predictor: Sam2ImagePredictor) -> None:
    first = predictor.predict(points=[[30, 20]], labels=[1])
    best = int(np.argmax(first.iou_scores))
    with_mask = predictor.predict(points=[[30, 20], [10, 40]], labels=[1, 0], mask_input=first.low_res_logits[best], multimask_output=False)
    without = predictor.predict(points=[[30, 20], [10, 40]], labels=[1, 0], multimask_output=False)
    assert not np.array_equal(with_mask.low_res_logits, without.low_res_logits)
    only_mask = predictor.predict(mask_input=first.low_res_logits[best][None], multimask_output=False)
    check(only_mask, 1, first.low_res_logits.shape[-1])


@pytest.mark.slow
def test_same_weights_same_answer_in_a_new_predictor(predictor: Sam2ImagePredictor) -> None:
    other = Sam2ImagePredictor(random_model(seed=5))
    other.set_image(random_image(H, W, seed=1))
    a = predictor.predict(**PROMPTS["box_clicks"])
    b = other.predict(**PROMPTS["box_clicks"])
    assert np.array_equal(a.low_res_logits, b.low_res_logits) and np.array_equal(a.iou_scores, b.iou_scores)


def test_preprocessing_is_official() -> None:
    image = random_image(20, 30, seed=3)
    x = preprocess_image(image, 64, torch.device("cpu"))
    assert x.shape == (1, 3, 64, 64) and x.dtype == torch.float32
    # a flat grey image maps to (v/255 - mean) / std everywhere, whatever the resize
    grey = np.full((13, 17, 3), 128, np.uint8)
    y = preprocess_image(grey, 32, torch.device("cpu"))
    expected = (128 / 255 - torch.tensor([0.485, 0.456, 0.406])) / torch.tensor([0.229, 0.224, 0.225])
    assert torch.allclose(y[0, :, 5, 7], expected, atol=1e-6)


def test_real_photo(shared_data: Path) -> None:
    from PIL import Image

    image = np.array(Image.open(shared_data / "images" / "truck.jpg").convert("RGB"))
    p = Sam2ImagePredictor(random_model(seed=2))
    p.set_image(image)
    pred = p.predict(points=[[image.shape[1] / 2, image.shape[0] / 2]], labels=[1])
    assert pred.masks.shape == (3, *image.shape[:2])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(), "no prompt"),
        (dict(points=[[W + 1, 10]], labels=[1]), r"point \(71, 10\) lies outside the 70x45 image"),
        (dict(points=[[10, -2]], labels=[1]), "lies outside"),
        (dict(points=[[10, 10]], labels=[2]), r"labels must be 1 \(positive\) or 0 \(negative\), got \[2\]"),
        (dict(points=[[10, 10]], labels=[-1]), "labels must be 1"),
        (dict(points=[[10, 10]]), "points and labels must be given together"),
        (dict(labels=[1]), "points and labels must be given together"),
        (dict(points=[10, 10], labels=[1]), r"points must be an \(N, 2\) array"),
        (dict(points=np.zeros((0, 2)), labels=[]), "N >= 1"),
        (dict(points=[[10, 10], [5, 5]], labels=[1]), r"labels must have shape \(2,\)"),
        (dict(points=[[np.nan, 10]], labels=[1]), "finite"),
        (dict(box=[40, 5, 10, 30]), r"box corners are reversed"),
        (dict(box=[5, 30, 40, 10]), r"needs x1 >= x0 and y1 >= y0"),
        (dict(box=[5, 5, 40]), "box must be 4 finite numbers"),
        (dict(box=[5, 5, 400, 30]), "reaches outside the 70x45 image"),
        (dict(mask_input=np.zeros((16, 16))), r"mask_input must be \(32, 32\)"),
    ],
)
def test_invalid_prompts_refused(predictor: Sam2ImagePredictor, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        predictor.predict(**kwargs)


def test_image_and_state_errors() -> None:
    p = Sam2ImagePredictor(random_model(seed=5))
    with pytest.raises(RuntimeError, match="no image set"):
        p.predict(points=[[1, 1]], labels=[1])
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8 RGB array, got float32"):
        p.set_image(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError, match="uint8 RGB array, got uint8 array of shape \\(10, 10\\)"):
        p.set_image(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError, match="got list"):
        p.set_image([[0, 0, 0]])
