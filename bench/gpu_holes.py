"""Hole filling in the GPU checklist: ours (core.video.holes, OpenCV on the host) against the official
CUDA kernel (sam2._C, built here with nvcc) and a plain-torch version of the kernel's semantics.

  python bench/gpu_holes.py build    # the official extension, into $GPUCHK_WORK/sam2_C (about a minute)
  python bench/gpu_holes.py check    # random logits with holes of every size, max_area 8 and 50

Without the built kernel, the check shows what the official code does instead (warns, leaves the mask).
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gpu_common import cc_fill_reference, emit, section  # noqa: E402
from bench.gpu_official import DEVICE, KERNEL_DIR, OFFICIAL, import_official  # noqa: E402


def holes() -> None:
    from core.video.holes import fill_small_holes

    how = import_official()
    gen = torch.Generator().manual_seed(0)
    # blobs of every size: smoothed noise thresholded near 0, 8 masks of 256 x 256
    noise = torch.randn(8, 1, 64, 64, generator=gen)
    logits = torch.nn.functional.interpolate(noise, size=(256, 256), mode="bilinear") + 0.3 * torch.randn(8, 1, 256, 256, generator=gen)
    logits = logits.to(DEVICE)
    for max_area in (8, 50):
        with section(f"holes/max_area_{max_area}", device=DEVICE, official=how) as out:
            ours = fill_small_holes(logits, max_area)
            ref = cc_fill_reference(logits, max_area)
            out["background_px"] = int((logits <= 0).sum())
            out["filled_px_ours"] = int((ours != logits).sum())
            out["ours_equals_torch_reference"] = bool(torch.equal(ours, ref))
            if "kernel" in how:
                from sam2.utils.misc import fill_holes_in_mask_scores

                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    official = fill_holes_in_mask_scores(logits, max_area)
                out["official_warned"] = [str(w.message)[:200] for w in caught]
                out["filled_px_official"] = int((official != logits).sum())
                out["ours_equals_official_kernel"] = bool(torch.equal(ours, official))
    if "kernel" not in how:
        with section("holes/official_without_kernel", device=DEVICE) as out:
            from sam2.utils.misc import fill_holes_in_mask_scores

            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                same = fill_holes_in_mask_scores(logits, 8)
            out["official_warned"] = [str(w.message)[:200] for w in caught]
            out["official_left_mask_unchanged"] = bool(torch.equal(same, logits))


def build_kernel() -> None:
    from torch.utils.cpp_extension import load

    KERNEL_DIR.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    load(name="_C", sources=[str(OFFICIAL / "sam2" / "csrc" / "connected_components.cu")], build_directory=str(KERNEL_DIR),
         extra_cuda_cflags=["-DCUDA_HAS_FP16=1", "-D__CUDA_NO_HALF_OPERATORS__", "-D__CUDA_NO_HALF_CONVERSIONS__",
                            "-D__CUDA_NO_HALF2_OPERATORS__"], verbose=True)
    emit("kernel_build", {"seconds": round(time.perf_counter() - t, 1), "files": [f.name for f in KERNEL_DIR.glob("_C*.so")]})


def main() -> None:
    if len(sys.argv) != 2 or sys.argv[1] not in ("build", "check"):
        sys.exit(__doc__)
    build_kernel() if sys.argv[1] == "build" else holes()


if __name__ == "__main__":
    main()
