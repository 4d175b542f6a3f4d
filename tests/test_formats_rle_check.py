"""The RLE validator agrees with a plain reading of COCO's counts format and catches every corruption."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.formats.rle_check import first_invalid, is_valid, run_lengths
from core.masks import Rle, encode


def reference_runs(counts: bytes) -> list[int]:
    """COCO's rleFrString, character by character, as its C source reads."""
    runs: list[int] = []
    p = 0
    while p < len(counts):
        x, k, more = 0, 0, True
        while more:
            c = counts[p] - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def pixel_runs(mask: np.ndarray) -> list[int]:
    """Run lengths of a mask in column-major order, starting with a (possibly empty) run of zeros."""
    flat = mask.reshape(-1, order="F").astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat.size and flat[0] else runs


def random_masks(count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    masks = []
    for i in range(count):
        h, w = int(rng.integers(1, 40)), int(rng.integers(1, 40))
        if i % 3 == 0:
            mask = np.zeros((h, w), bool)
            mask[h // 4: h // 2 + 1, w // 5: w - 1] = True
        else:
            mask = rng.random((h, w)) < rng.random()
        masks.append(mask)
    return masks


def test_runs_match_the_reference_reading_and_the_pixels() -> None:
    for mask in random_masks(200):
        rle = encode(mask)
        assert run_lengths(rle.counts).tolist() == reference_runs(rle.counts) == pixel_runs(mask)
        assert is_valid(rle)


def test_real_sav_masks_are_valid(shared_data: Path) -> None:
    data = json.loads((shared_data / "sav" / "sav_000001_manual.json").read_text())
    rles = [Rle.from_coco(r) for frame in data["masklet"] for r in frame]
    assert first_invalid(rles) is None
    assert all(is_valid(r) for r in rles[:50])


@pytest.mark.parametrize("corrupt", ["cut", "taller", "extra_run", "bad_char", "long_number", "negative_run", "empty"])
def test_each_corruption_is_found_at_its_index(corrupt: str) -> None:
    good = [encode(m) for m in random_masks(60, seed=3)]
    victim = next(i for i, r in enumerate(good) if len(r.counts) > 3 and i > 10)
    r = good[victim]
    bad = {
        "cut": Rle(r.height, r.width, r.counts[:-1]),
        "taller": Rle(r.height + 1, r.width, r.counts),
        "extra_run": Rle(r.height, r.width, r.counts + b"3"),
        "bad_char": Rle(r.height, r.width, r.counts[:-1] + b"~"),
        "long_number": Rle(r.height, r.width, b"o" * 9 + b"1" + r.counts),
        "negative_run": Rle(r.height, r.width, b"0@" + r.counts),  # '@' is -16: a run of -16 pixels
        "empty": Rle(r.height, r.width, b""),
    }[corrupt]
    assert not is_valid(bad)
    rles = good[:victim] + [bad] + good[victim + 1:]
    assert first_invalid(rles) == victim


def test_a_number_cut_mid_way_is_refused() -> None:
    # 'i' has the continuation bit: the string ends inside a number
    rle = encode(np.ones((50, 50), bool))
    assert not is_valid(Rle(50, 50, rle.counts + b"i"))
    assert first_invalid([rle, Rle(50, 50, rle.counts + b"i"), rle]) == 1


def test_fuzzed_strings_agree_with_the_single_mask_check() -> None:
    rng = np.random.default_rng(7)
    good = [encode(m) for m in random_masks(100, seed=5)]
    for _ in range(300):
        i = int(rng.integers(0, len(good)))
        counts = bytearray(good[i].counts)
        counts[int(rng.integers(0, len(counts)))] = int(rng.integers(48, 112))
        bad = Rle(good[i].height, good[i].width, bytes(counts))
        found = first_invalid(good[:i] + [bad] + good[i + 1:])
        assert found == (None if is_valid(bad) else i)
        if is_valid(bad):  # then pycocotools agrees on its size
            assert bad.decode().shape == (bad.height, bad.width)
