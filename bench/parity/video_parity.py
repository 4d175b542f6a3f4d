"""Video parity: Masklet's VideoSession against the official SAM 2 video predictor.

Both run the same scenario on the 24 bedroom frames with the same random weights (SAM 2.1
tiny config, every tensor non-zero): objects 1 (a click) and 2 (a box) on frame 0, propagate
forward; a correction click on frame 12 for object 1, propagate again; object 3 prompted on
the last frame, propagate backward from it. Every prompt result and every yielded frame is
recorded per object: the (256, 256) low-resolution logits, the object score and the mask at
video resolution.

Three steps (the official one runs in the reference venv beside the checkout, with SAM2_OFFICIAL
exported: set up by bench/parity/setup_official.sh, see bench/parity/README.md):
  .venv/bin/python bench/parity/video_parity.py checkpoint OUT_DIR
  $SAM2_OFFICIAL_PYTHON bench/parity/video_parity.py official OUT_DIR
  .venv/bin/python bench/parity/video_parity.py compare OUT_DIR      (prints JSON)

The official predictor skips its CUDA-only hole filling on CPU; here it is replaced by an
equivalent CPU version (8-connected components of the background with OpenCV). Its memory
features are stored in bfloat16; the memory attention is given them as float32, which is what
its own type promotion does whenever object pointers are present (without pointers the
official CPU float32 code fails on the bfloat16 tensor).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FRAMES = ROOT.parent / "shared" / "data" / "frames" / "bedroom"
SEED = 0
# PARITY_IMAGE_SIZE=256 runs the same weights at a smaller input (a quick check while iterating)
IMAGE_SIZE = int(os.environ.get("PARITY_IMAGE_SIZE", "1024"))
TAG = "" if IMAGE_SIZE == 1024 else f"_{IMAGE_SIZE}"

# (step name, frame, obj_id, points (x, y) pixels, labels, box or None)
PROMPTS_A = [
    ("a_obj1", 0, 1, [[480.0, 300.0]], [1], None),
    ("a_obj2", 0, 2, [], [], [100.0, 150.0, 400.0, 450.0]),
]
PROMPT_B = ("b_fix1", 12, 1, [[520.0, 320.0]], [0], None)
PROMPT_C = ("c_obj3", 23, 3, [[700.0, 200.0], [650.0, 260.0]], [1, 1], None)


def frame_paths() -> list[Path]:
    return sorted(FRAMES.glob("*.jpg"))


# ---------------------------------------------------------------------- official
def run_official(out_dir: Path) -> None:
    import torch

    sys.path.insert(0, str(ROOT))
    from bench.parity.official import import_official
    from bench.parity.policy_harness import fill_holes_cpu

    import_official()
    import sam2.sam2_video_predictor as svp
    from sam2.build_sam import build_sam2_video_predictor

    svp.fill_holes_in_mask_scores = fill_holes_cpu
    torch.set_grad_enabled(False)
    predictor = build_sam2_video_predictor(
        "configs/sam2.1/sam2.1_hiera_t.yaml", str(out_dir / "tiny_random.pt"), device="cpu",
        hydra_overrides_extra=[f"++model.image_size={IMAGE_SIZE}"],
    )
    attn_forward = predictor.memory_attention.forward

    def attn_float(*args, **kwargs):
        kwargs["memory"] = kwargs["memory"].float()
        return attn_forward(*args, **kwargs)

    predictor.memory_attention.forward = attn_float
    t0 = time.time()
    state = predictor.init_state(str(FRAMES))
    records: dict[str, np.ndarray] = {}
    order: list[str] = []

    def record(key: str, obj_idx: int, frame: int, video_logits: torch.Tensor, temp: bool) -> None:
        outs = state["temp_output_dict_per_obj" if temp else "output_dict_per_obj"][obj_idx]
        out = outs["cond_frame_outputs"].get(frame) or outs["non_cond_frame_outputs"].get(frame)
        records[key + ".logits"] = out["pred_masks"][0, 0].float().numpy()
        records[key + ".score"] = out["object_score_logits"].reshape(-1).float().numpy()
        records[key + ".mask"] = np.packbits(video_logits.numpy() > 0)
        order.append(key)

    def prompt(step) -> None:
        name, frame, obj_id, pts, lbl, box = step
        _, obj_ids, video = predictor.add_new_points_or_box(
            state, frame, obj_id, points=np.array(pts, np.float32).reshape(-1, 2) if pts else None,
            labels=np.array(lbl, np.int32) if pts else None, box=np.array(box, np.float32) if box else None,
        )
        idx = obj_ids.index(obj_id)
        record(f"{name}/p{frame}/o{obj_id}", idx, frame, video[idx, 0], temp=True)

    def propagate(name: str, **kwargs) -> None:
        for frame, obj_ids, video in predictor.propagate_in_video(state, **kwargs):
            for idx, obj_id in enumerate(obj_ids):
                record(f"{name}/f{frame}/o{obj_id}", idx, frame, video[idx, 0], temp=False)
            print(name, frame, f"{time.time() - t0:.0f}s", flush=True)

    for step in PROMPTS_A:
        prompt(step)
    propagate("a_fwd")
    prompt(PROMPT_B)
    propagate("b_fwd")
    prompt(PROMPT_C)
    propagate("c_bwd", start_frame_idx=PROMPT_C[1], reverse=True)
    np.savez_compressed(out_dir / f"official{TAG}.npz", order=np.array(order), **records)
    print(json.dumps({"official_seconds": round(time.time() - t0, 1), "records": len(order)}))


# ---------------------------------------------------------------------- ours
def run_ours(out_dir: Path) -> dict[str, np.ndarray]:
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from core.sam2.checkpoint import load_model
    from core.types import Direction, Prompt, VideoInfo
    from core.video import VideoSession

    class Frames:
        def __init__(self, paths: list[Path]) -> None:
            self.paths = paths
            w, h = Image.open(paths[0]).size
            self._info = VideoInfo(w, h, len(paths), 24.0)

        @property
        def info(self) -> VideoInfo:
            return self._info

        def __len__(self) -> int:
            return len(self.paths)

        def get(self, i: int) -> np.ndarray:
            return np.asarray(Image.open(self.paths[i]).convert("RGB"))

    model = load_model(out_dir / "tiny_random.pt")
    if IMAGE_SIZE != model.image_size:
        from core.sam2.model import Sam2Model

        resized = Sam2Model(model.config.replace(image_size=IMAGE_SIZE))
        resized.load_state_dict(model.state_dict())
        model = resized.eval()
    session = VideoSession(model, Frames(frame_paths()))
    records: dict[str, np.ndarray] = {}
    t0 = time.time()

    def keep(key: str, m) -> None:
        records[key + ".logits"] = m.low_res_logits
        records[key + ".score"] = np.array([m.object_score], np.float32)
        records[key + ".mask"] = np.packbits(m.rle.decode())

    def prompt(step) -> None:
        name, frame, obj_id, pts, lbl, box = step
        p = Prompt(frame, obj_id, np.array(pts, np.float32).reshape(-1, 2), np.array(lbl, np.int32),
                   np.array(box, np.float32) if box else None)
        session.keep_logits = True
        res = session.add_prompt(p)
        keep(f"{name}/p{frame}/o{obj_id}", res.objects[obj_id])

    def propagate(name: str, **kwargs) -> None:
        for res in session.propagate(return_logits=True, **kwargs):
            for obj_id, m in res.objects.items():
                keep(f"{name}/f{res.frame}/o{obj_id}", m)
            print(name, res.frame, f"{time.time() - t0:.0f}s", flush=True)

    for step in PROMPTS_A:
        prompt(step)
    propagate("a_fwd", direction=Direction.FORWARD)
    prompt(PROMPT_B)
    propagate("b_fwd", direction=Direction.FORWARD)
    prompt(PROMPT_C)
    propagate("c_bwd", start_frame=PROMPT_C[1], direction=Direction.BACKWARD)
    records["_seconds"] = np.array([time.time() - t0])
    np.savez_compressed(out_dir / f"ours{TAG}.npz", **records)
    return records


def compare(out_dir: Path) -> dict:
    ref = np.load(out_dir / f"official{TAG}.npz")
    if not (out_dir / f"ours{TAG}.npz").exists():
        run_ours(out_dir)
    ours = np.load(out_dir / f"ours{TAG}.npz")
    keys = [str(k) for k in ref["order"]]
    missing = [k for k in keys if k + ".logits" not in ours]
    worst_logit, worst_iou, present, rows = 0.0, 1.0, 0, []
    for k in keys:
        if k + ".logits" not in ours:
            continue
        a, b = ref[k + ".logits"], ours[k + ".logits"]
        diff = float(np.abs(a - b).max())
        ma, mb = np.unpackbits(ref[k + ".mask"]).astype(bool), np.unpackbits(ours[k + ".mask"]).astype(bool)
        union = int((ma | mb).sum())
        iou = 1.0 if union == 0 else float((ma & mb).sum() / union)
        present += int(ma.any())
        worst_logit, worst_iou = max(worst_logit, diff), min(worst_iou, iou)
        rows.append({"key": k, "max_abs_logit_diff": diff, "mask_iou": iou, "area": int(ma.sum()),
                     "score_official": float(ref[k + ".score"][0]), "score_ours": float(ours[k + ".score"][0])})
    extra = sorted({k.rsplit(".", 1)[0] for k in ours.files if not k.startswith("_")} - set(keys))
    return {
        "records": len(keys),
        "missing_in_ours": missing,
        "extra_in_ours": extra,
        "non_empty_official_masks": present,
        "max_abs_logit_diff": worst_logit,
        "min_mask_iou": worst_iou,
        "pass": not missing and not extra and worst_logit <= 1e-3 and worst_iou >= 0.999,
        "rows": rows,
    }


def make_checkpoint(out_dir: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from core.sam2.config import config_for
    from tests.sam2_helpers import save_random_checkpoint

    out_dir.mkdir(parents=True, exist_ok=True)
    save_random_checkpoint(out_dir / "tiny_random.pt", config_for("2.1", "tiny"), seed=SEED)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("checkpoint", "official", "ours", "compare"):
        sys.exit(__doc__)
    out_dir = Path(sys.argv[2])
    if sys.argv[1] == "checkpoint":
        make_checkpoint(out_dir)
    elif sys.argv[1] == "official":
        run_official(out_dir)
    elif sys.argv[1] == "ours":
        run_ours(out_dir)
        print(json.dumps({"ours": "done"}))
    else:
        result = compare(out_dir)
        rows = result.pop("rows")
        print(json.dumps(result, indent=1))
        (out_dir / f"compare_rows{TAG}.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
