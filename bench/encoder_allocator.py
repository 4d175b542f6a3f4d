"""Image-encoder time under glibc malloc set-ups (prints JSON): what the engine's allocator costs.

Each set-up runs in a fresh process (malloc settings and torch's huge-page option are
per process, fixed at start): SAM 2.1 tiny, random weights, one 1024x1024 input, one warm-up
then --runs timed encoder passes.

  .venv/bin/python bench/encoder_allocator.py [--runs 4]

Set-ups: ``glibc`` (glibc's adaptive defaults), ``mmap_4k`` (activations of 1 MB and more on
mmap, 4 kB pages: how Masklet used to track), ``mmap`` (the same with torch's transparent huge
pages), ``heap`` (activations on the heap, which keeps their pages: how Masklet runs now,
core/allocator.py; huge pages as in Masklet).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
setup, runs = sys.argv[2], int(sys.argv[3])
import core  # sets THP_MEM_ALLOC_ENABLE unless the environment already says
if setup.startswith("mmap"):  # the earlier tracking set-up: activations of 1 MB and more on mmap
    import ctypes, ctypes.util
    assert ctypes.CDLL(ctypes.util.find_library("c")).mallopt(-3, 1 << 20)
elif setup == "heap":
    from core.allocator import activations_on_heap
    assert activations_on_heap()
import torch
from core.sam2.config import config_for
from core.sam2.model import Sam2Model
torch.manual_seed(0)
model = Sam2Model(config_for("2.1", "tiny")).eval()
x = torch.randn(1, 3, 1024, 1024)
times = []
with torch.inference_mode():
    model.encode_image(x)
    for _ in range(runs):
        t = time.perf_counter()
        model.encode_image(x)
        times.append(time.perf_counter() - t)
print(json.dumps(times))
"""

SETUPS = {"glibc": "0", "mmap_4k": "0", "mmap": "1", "heap": "1"}  # setup -> THP_MEM_ALLOC_ENABLE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    result: dict[str, object] = {"model": "sam2.1 tiny encoder, 1024x1024, random weights"}
    for setup, thp in SETUPS.items():
        env = dict(os.environ, THP_MEM_ALLOC_ENABLE=thp)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(ROOT), setup, str(args.runs)],
            env=env, capture_output=True, text=True, check=True,
        )
        times = json.loads(out.stdout.strip().splitlines()[-1])
        result[setup] = {"median_s": round(statistics.median(times), 3), "all_s": [round(t, 3) for t in times]}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
