"""SAMURAI parity: Masklet's ``samurai`` memory policy against SAMURAI's released code, in its setting.

One object, one click on frame 0, forward propagation, the same random weights in the official
format (SAM 2.1 tiny config, as bench/parity/video_parity.py makes them), fp32 on the CPU, the
same JPEG frames. SAMURAI's code (github yangchris11/samurai, Apache-2.0) is never copied or
committed: it is unpacked outside the checkout and run in the official SAM 2 reference venv.

  git --git-dir=<samurai mirror> archive HEAD sam2/sam2 | tar -x -C /work/ext/samurai
  pip install --target /work/ext/pylib scipy loguru        (its two extra imports)
  .venv/bin/python bench/parity/samurai_policy.py checkpoint OUT
  .venv/bin/python bench/parity/samurai_policy.py frames OUT            (the second video's frames)
  $SAM2_OFFICIAL_PYTHON bench/parity/samurai_policy.py reference OUT    (SAMURAI_DIR, SAMURAI_PYLIB)
  .venv/bin/python bench/parity/samurai_policy.py compare OUT           (runs ours, prints JSON)

Random weights rarely keep a mask's predicted IoU above SAMURAI's thresholds for 15 frames, so the
runs lower ``stable_frames_threshold`` (SAMURAI_STABLE, default 3) and may set the memory IoU
threshold (SAMURAI_MEM_IOU), the stability IoU threshold (SAMURAI_STABLE_IOU) and the filter's
weight (SAMURAI_KF_WEIGHT) and the filter-IoU memory threshold (SAMURAI_MEM_KF) on both sides,
and change the weights per video (``checkpoint``: SAMURAI_IOU_TOKEN_OFFSET, SAMURAI_MASK_OFFSET),
so that the filter becomes stable, takes part in the choice, overrides the best predicted IoU,
resets, and memory frames are rejected; the counts of each are printed with the result.
PARITY_IMAGE_SIZE (default 1024) runs the same weights at another input size, as video_parity.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.parity.policy_harness import JpegFrames, fill_holes_cpu, parity_model, per_video  # noqa: E402

VIDEOS = {
    "bedroom": ROOT.parent / "shared" / "data" / "frames" / "bedroom",
    "dog": None,  # 24 frames of shared/data/videos/01_dog.mp4 written as JPEGs by ``frames``
}
if os.environ.get("SAMURAI_VIDEOS"):  # a subset, e.g. "bedroom"
    VIDEOS = {v: VIDEOS[v] for v in os.environ["SAMURAI_VIDEOS"].split(",")}
DOG_SOURCE = ROOT.parent / "shared" / "data" / "videos" / "01_dog.mp4"
NUM_FRAMES = 24
IMAGE_SIZE = int(os.environ.get("PARITY_IMAGE_SIZE", "1024"))
STABLE = int(os.environ.get("SAMURAI_STABLE", "3"))
# "0.5" for every video, or per video: "bedroom=0.6255,dog=0.586"
MEM_IOU = os.environ.get("SAMURAI_MEM_IOU", "0.5")
STABLE_IOU = os.environ.get("SAMURAI_STABLE_IOU", "0.3")
KF_WEIGHT = float(os.environ.get("SAMURAI_KF_WEIGHT", "0.25"))
MEM_KF = os.environ.get("SAMURAI_MEM_KF", "0")
# added to the IoU head's last bias for the three multimask outputs, per video: "bedroom=0.31:0:0"
IOU_TOKEN_OFFSET = os.environ.get("SAMURAI_IOU_TOKEN_OFFSET", "")
# videos whose masks are made partial, with offsets for outputs 1-3: "bedroom=0:0:0" (see make_checkpoints)
MASK_OFFSET = os.environ.get("SAMURAI_MASK_OFFSET", "")
CLICKS = {"bedroom": (480.0, 300.0), "dog": (640.0, 360.0)}


def frames_dir(out: Path, video: str) -> Path:
    return VIDEOS[video] if VIDEOS[video] is not None else out / f"{video}_frames"


def overrides(video: str) -> dict:
    return {"stable_frames_threshold": STABLE, "memory_bank_iou_threshold": per_video(MEM_IOU, video),
            "stable_ious_threshold": per_video(STABLE_IOU, video), "kf_score_weight": KF_WEIGHT,
            "memory_bank_kf_score_threshold": per_video(MEM_KF, video)}


def checkpoint_path(out: Path, video: str) -> Path:
    """The random weights, changed for this video when it has offsets (made by ``checkpoint``)."""
    from bench.parity.policy_weights import variant_path

    return variant_path(out, video, IOU_TOKEN_OFFSET, MASK_OFFSET)


def make_checkpoints(out: Path) -> None:
    from bench.parity.policy_weights import make_variants

    make_variants(out, list(VIDEOS), IOU_TOKEN_OFFSET, MASK_OFFSET)


# ---------------------------------------------------------------------- reference
def run_reference(out: Path) -> None:
    import torch

    samurai = Path(os.environ.get("SAMURAI_DIR", "/work/ext/samurai/sam2"))
    from bench.parity.official import import_official

    import_official(str(samurai))  # SAMURAI's fork of the sam2 package, with the torchvision fix
    sys.path.append(os.environ.get("SAMURAI_PYLIB", "/work/ext/pylib"))
    import sam2.sam2_video_predictor as svp
    from sam2.build_sam import build_sam2_video_predictor

    svp.fill_holes_in_mask_scores = fill_holes_cpu
    torch.set_grad_enabled(False)
    result = {}
    for video in VIDEOS:
        extra = [f"++model.image_size={IMAGE_SIZE}"] + [f"++model.{k}={v}" for k, v in overrides(video).items()]
        predictor = build_sam2_video_predictor("configs/samurai/sam2.1_hiera_t.yaml", str(checkpoint_path(out, video)),
                                               device="cpu", hydra_overrides_extra=extra)
        attn_forward = predictor.memory_attention.forward

        def attn_float(*args, _f=attn_forward, **kwargs):
            kwargs["memory"] = kwargs["memory"].float()
            return _f(*args, **kwargs)

        predictor.memory_attention.forward = attn_float
        counts = {"filter_started": 0, "filter_updated": 0, "filter_reset": 0, "motion_choice": 0,
                  "motion_changed_choice": 0}
        heads = predictor._forward_sam_heads

        def counted(*args, _h=heads, **kwargs):
            before = (predictor.kf_mean is None, predictor.stable_frames)
            res = _h(*args, **kwargs)
            if kwargs.get("multimask_output", args[4] if len(args) > 4 else False):
                was_none, stable = before
                if was_none or stable == 0:
                    counts["filter_started"] += 1
                else:
                    if stable >= predictor.stable_frames_threshold:
                        counts["motion_choice"] += 1
                        # res[2]: the three predicted IoUs, res[7]: the chosen one's
                        if float(res[7]) < float(res[2].max()):
                            counts["motion_changed_choice"] += 1
                    if predictor.stable_frames == 0:
                        counts["filter_reset"] += 1
                    else:
                        counts["filter_updated"] += 1
            return res

        predictor._forward_sam_heads = counted
        state = predictor.init_state(str(frames_dir(out, video)))
        x, y = CLICKS[video]
        records: dict[str, np.ndarray] = {}
        predictor.add_new_points_or_box(state, 0, 1, points=np.array([[x, y]], np.float32), labels=np.array([1], np.int32))
        t0 = time.time()
        for frame, _, masks in predictor.propagate_in_video(state):
            outs = state["output_dict"]  # one object: its outputs, with SAMURAI's scores
            o = outs["cond_frame_outputs"].get(frame) or outs["non_cond_frame_outputs"].get(frame)
            records[f"{frame}.logits"] = o["pred_masks"][0, 0].float().numpy()
            records[f"{frame}.mask"] = np.packbits(masks[0, 0].numpy() > 0)
            records[f"{frame}.iou"] = np.array([float(o["best_iou_score"]) if "best_iou_score" in o else 1.0])
            kf = o.get("kf_score")
            records[f"{frame}.kf"] = np.array([np.nan if kf is None else float(kf)])
            print(video, frame, f"{time.time() - t0:.0f}s", flush=True)
        np.savez_compressed(out / f"samurai_ref_{video}_{IMAGE_SIZE}.npz", **records)
        result[video] = counts
    (out / f"samurai_ref_counts_{IMAGE_SIZE}.json").write_text(json.dumps(result))
    print(json.dumps(result))


# ---------------------------------------------------------------------- ours
def run_ours(out: Path, video: str) -> tuple[dict[str, np.ndarray], dict]:
    from dataclasses import replace

    from core.types import Direction, Prompt
    from core.video import VideoSession
    from core.video.memory_policy import SamuraiMemory

    session = VideoSession(parity_model(checkpoint_path(out, video), IMAGE_SIZE), JpegFrames(frames_dir(out, video)),
                           keep_logits=True)
    session.set_memory_policy(1, replace(SamuraiMemory(), **overrides(video)))
    x, y = CLICKS[video]
    session.add_prompt(Prompt(0, 1, np.array([[x, y]], np.float32), np.array([1], np.int32)))
    records: dict[str, np.ndarray] = {}
    for res in session.propagate(0, Direction.FORWARD):
        m = res.objects[1]
        records[f"{res.frame}.logits"] = m.low_res_logits
        records[f"{res.frame}.mask"] = np.packbits(m.rle.decode())
        records[f"{res.frame}.iou"] = np.array([m.iou])
    state = session.track_state(1).policy_state
    for frame, kf in state.kf_iou.items():
        records[f"{frame}.kf"] = np.array([kf])
    return records, dict(state.counts)


def compare(out: Path) -> dict:
    ref_counts = json.loads((out / f"samurai_ref_counts_{IMAGE_SIZE}.json").read_text())
    report = {"image_size": IMAGE_SIZE}
    for video in VIDEOS:
        ref = np.load(out / f"samurai_ref_{video}_{IMAGE_SIZE}.npz")
        ours, counts = run_ours(out, video)
        frames = sorted({int(k.split(".")[0]) for k in ref.files})
        worst_logit, worst_iou, rows = 0.0, 1.0, []
        for f in frames:
            a, b = ref[f"{f}.logits"], ours[f"{f}.logits"]
            diff = float(np.abs(a - b).max())
            ma, mb = np.unpackbits(ref[f"{f}.mask"]).astype(bool), np.unpackbits(ours[f"{f}.mask"]).astype(bool)
            union = int((ma | mb).sum())
            iou = 1.0 if union == 0 else float((ma & mb).sum() / union)
            worst_logit, worst_iou = max(worst_logit, diff), min(worst_iou, iou)
            rows.append((f, diff, iou, float(ref[f"{f}.iou"][0]), float(ours[f"{f}.iou"][0])))
        below = [f for f, _, _, r, _ in rows if f > 0 and r <= per_video(MEM_IOU, video)]
        # frames whose chosen mask's filter IoU fails the memory test (only where the filter chose)
        kf_ref = {f: float(ref[f"{f}.kf"][0]) for f in frames if not np.isnan(ref[f"{f}.kf"][0])}
        kf_ours = {f: float(ours[f"{f}.kf"][0]) for f in frames if f"{f}.kf" in ours}
        kf_limit = per_video(MEM_KF, video)
        report[video] = {
            "settings": overrides(video),
            "frames": len(frames), "max_abs_logit_diff": worst_logit, "min_mask_iou": worst_iou,
            "pass": len(frames) == NUM_FRAMES and worst_logit <= 1e-3 and worst_iou >= 0.999,
            "reference_counts": ref_counts[video], "our_counts": counts,
            "frames_failing_memory_test": below,
            "frames_failing_filter_memory_test": {"reference": sorted(f for f, v in kf_ref.items() if v <= kf_limit),
                                                  "ours": sorted(f for f, v in kf_ours.items() if v <= kf_limit)},
            "max_filter_iou_diff": max((abs(kf_ref[f] - kf_ours[f]) for f in kf_ref if f in kf_ours), default=0.0),
            "filter_frames": {"reference": sorted(kf_ref), "ours": sorted(kf_ours)},
        }
    return report


def write_frames(out: Path) -> None:
    from PIL import Image

    from core.frames import open_frames

    target = out / "dog_frames"
    target.mkdir(parents=True, exist_ok=True)
    source = open_frames(str(DOG_SOURCE))
    for i in range(NUM_FRAMES):
        Image.fromarray(source.get(i)).save(target / f"{i:05d}.jpg", quality=95)


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("checkpoint", "frames", "reference", "compare"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    if sys.argv[1] == "checkpoint":
            make_checkpoints(out)
    elif sys.argv[1] == "frames":
        write_frames(out)
    elif sys.argv[1] == "reference":
        run_reference(out)
    else:
        print(json.dumps(compare(out), indent=1))


if __name__ == "__main__":
    main()
