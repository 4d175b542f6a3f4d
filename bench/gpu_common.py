"""Shared pieces of the GPU checklist (bench/gpu_checklist.py): data, scenario, metrics, reporting.

The checklist's jobs (bench/gpu_ours.py, bench/gpu_official.py) run as separate processes; each
section of a job appends one JSON line to the file named by GPUCHK_JSONL, so that a job killed
at its time limit still leaves what it measured.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# GPUCHK_CODE: a snapshot of the committed core/ (and tests/sam2_helpers.py) to measure instead of
# the working tree's (bench/gpu_checklist.sh makes it with git archive); it goes first on the path.
CODE = Path(os.environ.get("GPUCHK_CODE", ROOT)).resolve()
if str(CODE) not in sys.path:
    sys.path.insert(0, str(CODE))
# On the device the data travels in the ignored .gpu_data/ folder; here it is ../shared/data.
_LOCAL = ROOT / ".gpu_data"
DATA = _LOCAL if _LOCAL.is_dir() else ROOT.parent / "shared" / "data"
FRAMES = DATA / "frames" / "bedroom"  # 24 JPEGs, 960 x 540
VIDEO = DATA / "videos" / "bedroom.mp4"  # 200 frames
IMAGE = DATA / "images" / "truck.jpg"
CPU_REF = DATA / "cpu_ref.npz"  # ours, CPU, float32, made by `bench/gpu_ours.py cpu-ref`
WORK = Path(os.environ.get("GPUCHK_WORK", "/tmp/gpuchk"))  # checkpoints, saved outputs, built kernel

CLICKS = [(480.0, 300.0), (200.0, 300.0), (700.0, 200.0)]  # one click per object, video pixels
BOX = [100.0, 150.0, 400.0, 450.0]  # object 2 of the correctness scenario (as bench/parity/video_parity.py)
YAML = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}
LOGIT_TOL, IOU_TOL = 1e-3, 0.999  # float32 parity goals of docs/sam2_parity.md and docs/video_parity.md
SUB = 2  # video logits are compared on every 2nd row and column (keeps the carried reference small)


def image_cases(h: int, w: int) -> dict[str, dict]:
    """Image-predictor prompts in pixels of an h x w image (from bench/parity/image_parity.py)."""
    cx, cy = w * 0.5, h * 0.55
    return {
        "click/multi": {"points": [[cx, cy]], "labels": [1], "multi": True},
        "clicks_pos_neg/single": {"points": [[cx, cy], [w * 0.3, h * 0.4], [w * 0.8, h * 0.2], [w * 0.1, h * 0.9]],
                                  "labels": [1, 1, 0, 0], "multi": False},
        "box/single": {"box": [w * 0.2, h * 0.25, w * 0.75, h * 0.8], "multi": False},
    }


def case_arrays(case: dict) -> tuple:
    pts = np.array(case["points"], np.float32) if "points" in case else None
    labs = np.array(case["labels"], np.int32) if "labels" in case else None
    box = np.array(case["box"], np.float32) if "box" in case else None
    return pts, labs, box


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.array(im.convert("RGB"))


def frame_paths(folder: Path = FRAMES) -> list[Path]:
    return sorted(folder.glob("*.jpg"))


def checksum(model) -> float:  # noqa: ANN001
    """Sum of |w| over every tensor: the same random weights give the same number on every machine."""
    import torch

    with torch.no_grad():
        return float(sum(t.detach().double().abs().sum().cpu() for t in model.state_dict().values()))


def make_checkpoints(sizes: list[str]) -> dict:
    """Random SAM 2.1 weights at the official shapes, every tensor non-zero, in the official file format."""
    from core.sam2.config import config_for
    from tests.sam2_helpers import save_random_checkpoint

    out = {}
    WORK.mkdir(parents=True, exist_ok=True)
    for size in sizes:
        t = time.perf_counter()
        path = WORK / f"{size}.pt"
        if not path.exists():
            save_random_checkpoint(path, config_for("2.1", size), seed=0)
        out[size] = {"seconds": round(time.perf_counter() - t, 1), "mb": round(path.stat().st_size / 2**20, 1)}
    return out


# ---------------------------------------------------------------- metrics
def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, bool), np.asarray(b, bool)
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum() / union)


def logit_diff(a: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    a, ref = np.asarray(a, np.float64), np.asarray(ref, np.float64)
    if not np.isfinite(a).all():
        return {"max_abs": float("inf"), "rel_l2": float("inf"), "nan": True}
    return {"max_abs": float(np.abs(a - ref).max()), "rel_l2": float(np.linalg.norm(a - ref) / max(np.linalg.norm(ref), 1e-12))}


def compare_records(ours: dict, ref: dict, tol: bool) -> dict:
    """Records key -> {"logits", "mask", "score"}; worst logit difference, per-record mask IoU."""
    keys = [k for k in ref if k in ours]
    rows, worst, worst_rel, ious = [], 0.0, 0.0, []
    for k in keys:
        d = logit_diff(ours[k]["logits"], ref[k]["logits"])
        m = iou(ours[k]["mask"], ref[k]["mask"])
        worst, worst_rel = max(worst, d["max_abs"]), max(worst_rel, d["rel_l2"])
        ious.append(m)
        rows.append({"key": k, **{n: float("%.3g" % v) for n, v in d.items() if n != "nan"}, "iou": round(m, 6),
                     "area_ref": int(np.asarray(ref[k]["mask"]).sum())})
    out = {"records": len(keys), "missing": sorted(set(ref) - set(ours)), "max_abs_logit_diff": worst,
           "max_rel_l2": worst_rel, "min_iou": min(ious) if ious else None,
           "mean_iou": float(np.mean(ious)) if ious else None, "rows": rows}
    if tol:
        out["pass"] = bool(keys) and not out["missing"] and worst <= LOGIT_TOL and min(ious) >= IOU_TOL
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, np.float64), q))


def click_stats(times: list[float]) -> dict:
    """Seconds per click -> p50, p95, max and every click, in ms."""
    ms = [1e3 * t for t in times]
    return {"p50": round(pct(ms, 50), 2), "p95": round(pct(ms, 95), 2), "max": round(max(ms), 2), "clicks": len(ms),
            "all": [round(t, 1) for t in ms]}


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


# ---------------------------------------------------------------- saved outputs
def save_records(path: Path, recs: dict) -> None:
    flat = {f"{k}|{field}": np.asarray(v) for k, r in recs.items() for field, v in r.items()}
    np.savez_compressed(path, **flat)


def load_records(path: Path, prefix: str = "") -> dict:
    data, recs = np.load(path), {}
    for name in data.files:
        if not name.startswith(prefix) or "|" not in name:
            continue
        key, field = name[len(prefix):].rsplit("|", 1)
        recs.setdefault(key, {})[field] = data[name]
    return recs


# ---------------------------------------------------------------- model-only timing of ours
class Preloaded:
    """A FrameSource over frames already decoded (model-only timing)."""

    def __init__(self, frames: list[np.ndarray]) -> None:
        from core.types import VideoInfo

        self.frames = frames
        h, w = frames[0].shape[:2]
        self.info = VideoInfo(w, h, len(frames), 24.0)

    def __len__(self) -> int:
        return len(self.frames)

    def get(self, i: int) -> np.ndarray:
        return self.frames[i]


@contextmanager
def model_only(frames: list[np.ndarray], size: int, device: str):  # noqa: ANN201
    """As the official benchmark counts: frames decoded and preprocessed on the GPU beforehand,
    masks resized to the video and thresholded on the GPU but not taken to the host."""
    import torch
    import torch.nn.functional as F

    import core.video.features as feat_mod
    import core.video.session as sess_mod
    from core.video.preprocess import frame_to_input

    ready = {id(f): frame_to_input(f, size).to(device) for f in frames}
    kept: list = []

    def gpu_masks(entries, video_size, with_logits):  # noqa: ANN001, ANN202
        if entries:
            low = torch.cat([e.pred_masks for e in entries.values()], dim=0)
            kept[:] = [F.interpolate(low, size=video_size, mode="bilinear", align_corners=False) > 0]
        return {}

    saved = feat_mod.frame_to_model_input, sess_mod.to_object_masks
    feat_mod.frame_to_model_input = lambda frame, _size, _device: ready[id(frame)]
    sess_mod.to_object_masks = gpu_masks
    try:
        yield
    finally:
        feat_mod.frame_to_model_input, sess_mod.to_object_masks = saved


# ---------------------------------------------------------------- reporting
def emit(section: str, data: dict) -> None:
    """One finished section: a JSON line in GPUCHK_JSONL (and on stdout)."""
    line = json.dumps({"section": section, **data}, default=float)
    path = os.environ.get("GPUCHK_JSONL")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")
    print(line[:400], flush=True)


@contextmanager
def section(name: str, **info) -> Iterator[dict]:  # noqa: ANN003
    """Runs a block; whatever it puts in the yielded dict is emitted, with its seconds or its error."""
    out: dict = dict(info)
    t0 = time.perf_counter()
    try:
        yield out
    except Exception as exc:  # a failed section must not stop the next one
        out["error"] = f"{type(exc).__name__}: {exc}"
        out["traceback"] = traceback.format_exc()[-3000:]
        print(out["traceback"], file=sys.stderr, flush=True)
    out["section_s"] = round(time.perf_counter() - t0, 2)
    emit(name, out)


# ---------------------------------------------------------------- hole filling reference
def cc_fill_reference(logits, max_area: int):  # noqa: ANN001, ANN201
    """The official kernel's semantics in plain torch (any device), for checking ours.

    Background = logits <= 0; its 8-connected components are labelled by iterated minimum
    propagation over 3x3 neighbourhoods; components of area <= max_area become 0.1.
    """
    import torch
    import torch.nn.functional as F

    bg = (logits <= 0).squeeze(1)
    n, h, w = bg.shape
    big = h * w + 1
    idx = torch.arange(1, h * w + 1, device=logits.device, dtype=torch.float32).view(1, h, w).expand(n, h, w)
    lab = torch.where(bg, idx, torch.full_like(idx, big))
    while True:
        nxt = -F.max_pool2d(-lab[:, None], 3, stride=1, padding=1)[:, 0]
        nxt = torch.where(bg, nxt, torch.full_like(nxt, big))
        if torch.equal(nxt, lab):
            break
        lab = nxt
    holes = torch.zeros_like(bg)
    for i in range(n):
        ids, inverse, counts = torch.unique(lab[i], return_inverse=True, return_counts=True)
        small = (counts <= max_area) & (ids < big)
        holes[i] = small[inverse]
    return torch.where(holes[:, None], torch.tensor(0.1, dtype=logits.dtype, device=logits.device), logits)
