"""What the shared benchmark machine could give while a benchmark ran."""

from __future__ import annotations

import time


def host_gflops() -> float:
    """float32 GFLOPS of one (4096 x 384) @ (384 x 1536) product on torch's threads, best of 12.

    Recorded before and after the runs: this machine is shared, and a low figure means other
    load took part of the cores (about 190 when quiet on our 2-core development machine).
    """
    import torch

    a, b = torch.randn(4096, 384), torch.randn(384, 1536)
    best = float("inf")
    for _ in range(12):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return round(2 * 4096 * 384 * 1536 / best / 1e9, 1)
