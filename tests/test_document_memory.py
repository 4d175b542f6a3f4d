"""Masks stay RLE: 10 objects on 10,000 frames of 1080p fit comfortably in memory (measured)."""

from __future__ import annotations

import gc
import tracemalloc

import cv2
import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from core.masks import encode

WIDTH, HEIGHT = 1920, 1080
OBJECTS, FRAMES = 10, 10_000
DISTINCT = 24  # encoded shapes, each stored as its own bytes object per frame


def blob(i: int) -> np.ndarray:
    """A 1080p mask with a wavy outline, about the size of a person in the frame."""
    angles = np.linspace(0, 2 * np.pi, 120, endpoint=False)
    radius = 180 * (1 + 0.2 * np.sin(6 * angles + i) + 0.08 * np.sin(17 * angles - i))
    cx, cy = 400 + 40 * i, 300 + 20 * (i % 7)
    points = np.stack([cx + radius * np.cos(angles), cy + 1.4 * radius * np.sin(angles)], axis=1)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.fillPoly(mask, [points.astype(np.int32)], 1)
    return mask


@pytest.mark.slow
def test_ten_objects_ten_thousand_frames_of_1080p() -> None:
    shapes = [encode(blob(i)) for i in range(DISTINCT)]
    gc.collect()
    tracemalloc.start()
    try:
        doc = AnnotationDocument(VideoRef("/v/long.mp4", WIDTH, HEIGHT, FRAMES, 30.0))
        for obj in range(OBJECTS):
            record = doc.add_object()
            for frame in range(FRAMES):
                shape = shapes[(frame + obj) % DISTINCT]
                rle = type(shape)(HEIGHT, WIDTH, bytes(bytearray(shape.counts)))  # a fresh copy per mask
                doc.set_mask(record.obj_id, frame, MaskEntry(rle, MaskSource.PROPAGATED, False, 3.2, 0.91))
        measured, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert doc.mask_count() == OBJECTS * FRAMES
    decoded = OBJECTS * FRAMES * WIDTH * HEIGHT  # bytes, as uint8 masks
    mean_counts = sum(len(s.counts) for s in shapes) / DISTINCT
    assert 500 < mean_counts < 5000  # realistic outlines, not trivially short RLEs
    # comfortably: a few hundred MB at most, a thousandth of the decoded masks
    assert measured < 400 * 2**20, f"{measured / 2**20:.0f} MiB"
    assert measured < decoded / 1000
    # the document's own estimate is within 25% of what was measured
    estimate = doc.memory_estimate()
    assert abs(estimate - measured) / measured < 0.25, (estimate, measured)
