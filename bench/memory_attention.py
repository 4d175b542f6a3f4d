"""Memory attention alone, ours against the official, on the same weights and inputs (prints JSON).

The memory attention is most of a tracked frame's cost on CPU. Inputs at the steady-state size
of SAM 2.1 tiny: the frame's 64x64 = 4,096 tokens, and 7 frames of spatial memory (28,672
tokens) plus 16 object pointers split into 64 tokens. For several objects ours runs them as
one batch sharing the frame's features, as the engine does; the official predictor runs each
object on its own (its propagation loops over objects), so its time is the sum of single runs.
Ours and the official alternate (ABBA) so both see the same machine load.

  $SAM2_OFFICIAL_PYTHON bench/memory_attention.py [--objects 1 3] [--runs 4]
  (the reference venv's interpreter, with SAM2_OFFICIAL exported: bench/parity/README.md;
  without SAM2_OFFICIAL: ours only)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.image_encoder import build_official  # noqa: E402
from core.sam2.config import config_for  # noqa: E402
from tests.sam2_helpers import random_model  # noqa: E402

SIDE = 64
MEMORY_FRAMES = 7
POINTER_TOKENS = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--runs", type=int, default=4)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    model = random_model(config_for("2.1", "tiny"), seed=0).eval()
    official_path = os.environ.get("SAM2_OFFICIAL")
    official = build_official(official_path, "tiny", model.state_dict()) if official_path else None

    gen = torch.Generator().manual_seed(0)
    hw, d, m = SIDE * SIDE, model.hidden_dim, model.mem_dim
    n_mem = MEMORY_FRAMES * hw + POINTER_TOKENS
    curr = torch.randn(hw, 1, d, generator=gen)
    curr_pos = torch.randn(hw, 1, d, generator=gen)
    result: dict[str, object] = {
        "model": "sam2.1 tiny memory attention (random weights)",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "queries": hw,
        "memory_tokens": n_mem,
    }
    for objects in args.objects:
        memory = torch.randn(n_mem, objects, m, generator=gen)
        memory_pos = torch.randn(n_mem, objects, m, generator=gen)

        def ours() -> torch.Tensor:
            return model.memory_attention(
                curr=curr.expand(-1, objects, -1),
                memory=memory,
                curr_pos=curr_pos.expand(-1, objects, -1),
                memory_pos=memory_pos,
                num_obj_ptr_tokens=POINTER_TOKENS,
            )

        def theirs() -> torch.Tensor:
            outs = [
                official.memory_attention(
                    curr=[curr],
                    memory=memory[:, i : i + 1],
                    curr_pos=[curr_pos],
                    memory_pos=memory_pos[:, i : i + 1],
                    num_obj_ptr_tokens=POINTER_TOKENS,
                )
                for i in range(objects)
            ]
            return torch.cat(outs, dim=1)

        with torch.inference_mode():
            fns = {"ours": ours, "official": theirs} if official is not None else {"ours": ours}
            outputs = {name: fn() for name, fn in fns.items()}  # warm-up, and the outputs compared
            times: dict[str, list[float]] = {name: [] for name in fns}
            for i in range(args.runs):
                order = list(fns.items()) if i % 2 == 0 else list(fns.items())[::-1]
                for name, fn in order:
                    t0 = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - t0)
        entry: dict[str, object] = {f"{name}_s_median": round(statistics.median(t), 3) for name, t in times.items()}
        entry.update({f"{name}_s_all": [round(x, 3) for x in t] for name, t in times.items()})
        if official is not None:
            entry["official_over_ours"] = round(statistics.median(times["official"]) / statistics.median(times["ours"]), 3)
            entry["max_abs_diff"] = float((outputs["ours"] - outputs["official"]).abs().max())
        result[f"{objects}_objects"] = entry
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
