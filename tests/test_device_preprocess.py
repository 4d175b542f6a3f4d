"""The device path of the host's per-frame work equals the CPU path bit for bit (run here on CPU
tensors: the operations are the ones a GPU runs)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from core.masks import encode
from core.video.device_preprocess import model_input, resample_weights, resize_like_pil, rle_of
from core.video.preprocess import frame_to_input
from core.video.steps import to_object_masks


def _frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    # hard black/white edges make the filter overshoot: the clipping to 0..255 is exercised
    f[: h // 3] = np.where(rng.random((h // 3, w, 1)) > 0.5, 255, 0).astype(np.uint8)
    return f


@pytest.mark.parametrize("h,w,size", [(540, 960, 1024), (1080, 1920, 1024), (720, 1280, 256), (37, 100, 64),
                                       (300, 300, 1024), (1024, 1024, 1024), (1, 5, 3)])
def test_resize_and_model_input_equal_pils(h, w, size):
    f = _frame(h, w)
    want = np.asarray(Image.fromarray(f).resize((size, size), Image.Resampling.BICUBIC))
    assert np.array_equal(resize_like_pil(torch.from_numpy(f), size, size).numpy(), want)
    assert torch.equal(model_input(torch.from_numpy(f), size), frame_to_input(f, size))


def test_weights_are_pils_fixed_point_and_sum_to_one():
    index, weight = resample_weights(1920, 1024)
    assert weight.shape == index.shape == (1024, 9)  # support 2 x scale 1.875 -> 2 * 4 + 1 taps
    assert np.all(np.abs(weight.sum(1) - (1 << 22)) <= 9)  # rounding of each tap: at most 1/2 each
    assert index.min() >= 0 and index.max() < 1920


@pytest.mark.parametrize("shape,density", [((5, 7), 0.0), ((5, 7), 1.0), ((1080, 1920), 0.5), ((40, 30), 0.3)])
def test_rle_of_equals_encode(shape, density):
    rng = np.random.default_rng(1)
    m = rng.random(shape) < density
    assert rle_of(torch.from_numpy(m)) == encode(m)
    m[0, 0] = True  # a mask starting with foreground
    assert rle_of(torch.from_numpy(m)) == encode(m)


class _Output:
    def __init__(self, logits: torch.Tensor) -> None:
        self.pred_masks, self.score, self.iou = logits, torch.ones(1, 1), 0.9


def test_masks_from_a_device_equal_masks_from_the_host(monkeypatch):
    torch.manual_seed(0)
    entries = {1: _Output(torch.randn(1, 1, 256, 256)), 2: _Output(torch.randn(1, 1, 256, 256) + 2)}
    host = to_object_masks(entries, (540, 960), with_logits=False)
    calls = []

    def counting(mask):
        calls.append(mask.shape)
        return rle_of(mask)

    # A tensor on a GPU takes the device branch; here the branch is taken for CPU tensors.
    monkeypatch.setattr("core.video.steps.rle_of", counting)
    real_interpolate = torch.nn.functional.interpolate

    def interpolate(*args, **kwargs):
        out = real_interpolate(*args, **kwargs)
        return _FakeDevice(out)

    monkeypatch.setattr("core.video.steps.F.interpolate", interpolate)
    device = to_object_masks(entries, (540, 960), with_logits=False)
    assert len(calls) == 2
    assert {k: v.rle for k, v in device.items()} == {k: v.rle for k, v in host.items()}


class _FakeDevice:
    """A tensor that says it lives on a GPU; everything else is the CPU tensor's."""

    def __init__(self, t: torch.Tensor) -> None:
        self._t = t

    @property
    def device(self) -> torch.device:
        return torch.device("cuda")

    def __getitem__(self, key):
        return self._t[key]



def test_a_frame_lent_read_only_by_the_cache_gives_the_same_input_without_a_copy_or_warning():
    import warnings

    from core.frames import open_frames
    from core.video.device_preprocess import device_model_input
    from tests.video_helpers import BEDROOM_FRAMES

    source = open_frames(BEDROOM_FRAMES)
    try:
        shared = source.get_shared(1)
        assert not shared.flags.writeable and np.array_equal(shared, source.get(1))
        assert source.get_shared(1).base is shared.base  # the cache's array, lent twice
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            got = device_model_input(shared, 64, torch.device("cpu"))
        assert torch.equal(got, frame_to_input(source.get(1), 64))
    finally:
        source.close()
