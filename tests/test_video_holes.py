"""The CPU hole filling equals a plain flood-fill definition of SAM 2's fill_hole_area."""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from core.video.holes import HOLE_FILL_LOGIT, fill_small_holes


def reference_fill(logits: np.ndarray, max_area: int) -> np.ndarray:
    """8-connected background components (logit <= 0) of area <= max_area become 0.1."""
    h, w = logits.shape
    bg = logits <= 0
    seen = np.zeros_like(bg)
    out = logits.copy()
    for sy in range(h):
        for sx in range(w):
            if not bg[sy, sx] or seen[sy, sx]:
                continue
            comp, queue = [], deque([(sy, sx)])
            seen[sy, sx] = True
            while queue:
                y, x = queue.popleft()
                comp.append((y, x))
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        ny, nx = y + dy, x + dx
                        if 0 <= ny < h and 0 <= nx < w and bg[ny, nx] and not seen[ny, nx]:
                            seen[ny, nx] = True
                            queue.append((ny, nx))
            if len(comp) <= max_area:
                for y, x in comp:
                    out[y, x] = HOLE_FILL_LOGIT
    return out


def test_matches_flood_fill_on_random_masks() -> None:
    rng = np.random.default_rng(3)
    logits = rng.normal(size=(3, 1, 40, 36)).astype(np.float32) + 0.6
    logits[1, 0, 10:14, 10:13] = -2.0  # a 12-pixel hole: too big to fill at 8
    logits[2] = 5.0  # no background at all
    got = fill_small_holes(torch.from_numpy(logits), 8).numpy()
    for i in range(3):
        np.testing.assert_array_equal(got[i, 0], reference_fill(logits[i, 0], 8))
    assert (got != logits).any(), "random masks should have some small holes"
    assert (got[1, 0, 10:14, 10:13] == -2.0).all()


def test_diagonal_pixels_connect_and_border_components_count() -> None:
    logits = np.full((1, 1, 12, 12), 3.0, np.float32)
    # nine pixels connected only diagonally: one 8-connected component of area 9 -> kept
    for k in range(9):
        logits[0, 0, 1 + k, 1 + k] = -1.0
    # a 2-pixel component touching the border: filled (the official kernel does not exclude borders)
    logits[0, 0, 11, 0:2] = -1.0
    out = fill_small_holes(torch.from_numpy(logits), 8).numpy()[0, 0]
    assert (np.diagonal(out)[1:10] == -1.0).all()
    assert np.allclose(out[11, 0:2], HOLE_FILL_LOGIT)


def test_disabled_and_input_unchanged() -> None:
    t = torch.full((1, 1, 8, 8), 1.0)
    t[0, 0, 3, 3] = -1.0
    before = t.clone()
    assert fill_small_holes(t, 0) is t
    out = fill_small_holes(t, 8)
    assert torch.equal(t, before) and out[0, 0, 3, 3] == torch.tensor(HOLE_FILL_LOGIT)
