"""SAM2Long parity: Masklet's ``sam2long`` memory policy against SAM2Long's released code, in its setting.

One object, one click on frame 0, forward propagation, the same random weights in the official
format (SAM 2.1 tiny config, as bench/parity/video_parity.py makes them), fp32 on the CPU, the
same JPEG frames. SAM2Long's code (github Mark12Ding/SAM2Long, CC-BY-NC 4.0) is never copied or
committed: it is unpacked outside the checkout and run in the official SAM 2 reference venv.

  mkdir -p /work/ext/sam2long && git --git-dir=<SAM2Long mirror> archive HEAD sam2 | tar -x -C /work/ext/sam2long
  .venv/bin/python bench/parity/sam2long_policy.py checkpoint OUT
  .venv/bin/python bench/parity/sam2long_policy.py frames OUT            (the second video's frames)
  $SAM2_OFFICIAL_PYTHON bench/parity/sam2long_policy.py reference OUT    (SAM2LONG_DIR)
  .venv/bin/python bench/parity/sam2long_policy.py ours OUT              (optional: ours alone, saved)
  .venv/bin/python bench/parity/sam2long_policy.py compare OUT           (runs ours unless saved, prints JSON)

Two outputs are compared per frame: the mask the best pathway has when the frame is tracked (what
an annotator sees while propagating) and the mask of the final best pathway's lineage (what
SAM2Long returns for the video, and what our policy writes back at the end of the pass).

Random weights give flat predicted IoUs and object scores close to each other, so the runs set
SAM2Long's three settings on both sides, per video where needed: the memory IoU threshold
(SAM2LONG_IOU, the paper's 0.1) and the uncertainty threshold (SAM2LONG_UNCERTAINTY, the paper's 2)
so that frames fail the memory test and frames are tracked both in the certain and the uncertain
mode; the number of pathways stays 3. The counts of each branch are printed with the result.

SAM2Long's key re-weighting reshapes the keys with a hard-coded 4096 tokens per memory frame (the
64x64 grid of a 1024 input); at PARITY_IMAGE_SIZE=256 the grid is 16x16, so the reference run
loads that one module with 4096 replaced by the grid's size (in memory; nothing is written).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.parity.policy_harness import JpegFrames, parity_model, per_video  # noqa: E402
from bench.parity.policy_weights import offsets  # noqa: E402

VIDEOS = {
    "bedroom": ROOT.parent / "shared" / "data" / "frames" / "bedroom",
    "dog": None,  # 24 frames of shared/data/videos/01_dog.mp4 written as JPEGs by ``frames``
}
if os.environ.get("SAM2LONG_VIDEOS"):  # a subset, e.g. "dog" (runs of the two videos side by side)
    VIDEOS = {v: VIDEOS[v] for v in os.environ["SAM2LONG_VIDEOS"].split(",")}
NUM_FRAMES = 24
IMAGE_SIZE = int(os.environ.get("PARITY_IMAGE_SIZE", "1024"))
NUM_PATHWAYS = 3
# "0.1" for every video, or per video: "bedroom=0.6,dog=0.5"
IOU_THRE = os.environ.get("SAM2LONG_IOU", "0.1")
UNCERTAINTY = os.environ.get("SAM2LONG_UNCERTAINTY", "2")
# per-video weight changes (bench/parity/policy_weights.py), e.g. "bedroom=0.328:0.793:0.013"
IOU_TOKEN_OFFSET = os.environ.get("SAM2LONG_IOU_TOKEN_OFFSET", "")
MASK_OFFSET = os.environ.get("SAM2LONG_MASK_OFFSET", "")
CLICKS = {"bedroom": (480.0, 300.0), "dog": (640.0, 360.0)}


def frames_dir(out: Path, video: str) -> Path:
    return VIDEOS[video] if VIDEOS[video] is not None else out / f"{video}_frames"


def settings(video: str) -> dict:
    s = {"num_pathways": NUM_PATHWAYS, "iou_threshold": per_video(IOU_THRE, video),
         "uncertainty": per_video(UNCERTAINTY, video)}
    if offsets(IOU_TOKEN_OFFSET, video) is not None or offsets(MASK_OFFSET, video) is not None:
        s["weights"] = {"iou_offsets": IOU_TOKEN_OFFSET, "mask_offsets": MASK_OFFSET}
    return s


def checkpoint_path(out: Path, video: str) -> Path:
    from bench.parity.policy_weights import variant_path

    return variant_path(out, video, IOU_TOKEN_OFFSET, MASK_OFFSET)


def passes(iou: float, score: float, thre: float) -> bool:
    """The memory test of the paper: predicted IoU above the threshold and the object present."""
    return iou > thre and score > 0


# ---------------------------------------------------------------------- reference
def _load_patched_memory_attention(tokens: int) -> None:
    """Load SAM2Long's memory_attention module with its per-frame token count set to ``tokens``."""
    import sam2.modeling  # noqa: F401  (the parent package first)

    name = "sam2.modeling.memory_attention"
    spec = importlib.util.find_spec(name)
    source = Path(spec.origin).read_text()
    assert source.count("4096") == 2, "SAM2Long's memory attention changed: check the token count"
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source.replace("4096", str(tokens)), spec.origin, "exec"), module.__dict__)


def run_reference(out: Path) -> None:
    import torch

    code = Path(os.environ.get("SAM2LONG_DIR", "/work/ext/sam2long"))
    from bench.parity.official import import_official

    import_official(str(code))  # SAM2Long's fork of the sam2 package
    _load_patched_memory_attention((IMAGE_SIZE // 16) ** 2)
    from sam2.build_sam import build_sam2_video_predictor

    torch.set_grad_enabled(False)
    result = {}
    for video in VIDEOS:
        s = settings(video)
        predictor = build_sam2_video_predictor("configs/sam2.1/sam2.1_hiera_t.yaml", str(checkpoint_path(out, video)),
                                               device="cpu", hydra_overrides_extra=[f"++model.image_size={IMAGE_SIZE}"])
        attn_forward = predictor.memory_attention.forward
        counts = {"frames_branched": 0, "uncertain_frames": 0, "certain_frames": 0, "diversity_fill": 0,
                  "branches_pruned": 0, "key_reweighted_steps": 0,
                  "memory_frames_failing": 0, "last_frame_kept_failing": 0, "final_differs_from_online": 0}

        def attn(*args, _f=attn_forward, **kwargs):
            kwargs["memory"] = kwargs["memory"].float()
            if kwargs.get("object_frame_scores") is not None and len(kwargs["object_frame_scores"]) > 1:
                counts["key_reweighted_steps"] += 1
            return _f(*args, **kwargs)

        predictor.memory_attention.forward = attn
        steps: list[dict] = []  # per pathway step of the current frame: its outputs
        track_step = predictor.track_step

        def tracked(*args, _t=track_step, **kwargs):
            res = _t(*args, **kwargs)
            pick = kwargs.get("mem_pick_index", 0)
            if pick != 0:
                steps.append({"ious": res["ious"][0].float().clone(), "score": float(res["object_score_logits"][0, 0]),
                              "pick": pick})
            return res

        predictor.track_step = tracked
        state = predictor.init_state(str(frames_dir(out, video)))
        state["num_pathway"], state["iou_thre"], state["uncertainty"] = s["num_pathways"], s["iou_threshold"], s["uncertainty"]
        single = predictor._run_single_frame_inference
        records: dict[str, np.ndarray] = {}
        last_picks: list = [None]

        def frame_step(*args, _r=single, **kwargs):
            steps.clear()
            compact, pred, picks = _r(*args, **kwargs)
            frame = kwargs["frame_idx"]
            if kwargs.get("is_init_cond_frame") is False and not kwargs.get("point_inputs"):
                nco = state["output_dict"]["non_cond_frame_outputs"]
                records[f"{frame}.online"] = compact["pred_masks"][0, 0, ..., 0].float().numpy()
                last_picks[0] = picks
                if steps:
                    count_frame(counts, steps, compact, nco, frame, s)
                    records[f"{frame}.scores"] = np.array([st["score"] for st in steps])
                    records[f"{frame}.ious"] = np.stack([st["ious"].numpy() for st in steps])
            return compact, pred, picks

        predictor._run_single_frame_inference = frame_step
        x, y = CLICKS[video]
        predictor.add_new_points_or_box(state, 0, 1, points=np.array([[x, y]], np.float32), labels=np.array([1], np.int32))
        t0 = time.time()
        _, masks = predictor.propagate_in_video(state)
        out_dict = state["output_dict"]
        final_pick = last_picks[0][0]
        records["0.online"] = out_dict["cond_frame_outputs"][0]["pred_masks"][0, 0].float().numpy()
        for frame in range(NUM_FRAMES):
            if frame == 0:
                logits = out_dict["cond_frame_outputs"][0]["pred_masks"][0, 0]
            else:
                logits = out_dict["non_cond_frame_outputs"][frame]["pred_masks"][0, 0, ..., final_pick[frame]]
            records[f"{frame}.final"] = logits.float().numpy()
            records[f"{frame}.mask"] = np.packbits(masks[frame][0, 0].numpy() > 0)
            online = records[f"{frame}.online"]
            counts["final_differs_from_online"] += int(not np.array_equal(online, records[f"{frame}.final"]))
        print(video, f"{time.time() - t0:.0f}s", json.dumps(counts), flush=True)
        np.savez_compressed(out / f"sam2long_ref_{video}_{IMAGE_SIZE}.npz", **records)
        (out / f"sam2long_ref_{video}_{IMAGE_SIZE}.json").write_text(json.dumps({"settings": s, "counts": counts}))
        result[video] = counts
    print(json.dumps(result))


def count_frame(counts: dict, steps: list[dict], compact: dict, nco: dict, frame: int, s: dict) -> None:
    """The reference's branches on one frame, read from what its steps returned (observable data)."""
    counts["frames_branched"] += 1
    scores = [st["score"] for st in steps]
    uncertain = max(abs(v) for v in scores) <= s["uncertainty"]
    counts["uncertain_frames" if uncertain else "certain_frames"] += 1
    candidates = len(steps) * int(steps[0]["ious"].numel())
    counts["branches_pruned"] += candidates - s["num_pathways"]
    if uncertain:
        distinct = {round(float(iou) if st["score"] > 0 else -float(iou), 2) for st in steps for iou in st["ious"]}
        counts["diversity_fill"] += int(len(distinct) < s["num_pathways"])
    for st in steps:  # the memory test over the pathway's earlier frames (frame 1 is a single pathway)
        pick = st["pick"]
        valid = 0
        for t in range(frame - 1, 0, -1):
            o = nco[t]
            k = pick[t]
            ok = passes(float(o["ious"][..., k]), float(o["object_score_logits"][..., k]), s["iou_threshold"])
            if ok:
                valid += 1
            else:
                counts["memory_frames_failing"] += 1
                counts["last_frame_kept_failing"] += int(t == frame - 1)
            if valid >= 15:
                break


# ---------------------------------------------------------------------- ours
def run_ours(out: Path, video: str) -> tuple[dict[str, np.ndarray], dict]:
    from dataclasses import replace

    from core.types import Direction, Prompt
    from core.video import VideoSession
    from core.video.memory_policy import Sam2LongMemory

    model = parity_model(checkpoint_path(out, video), IMAGE_SIZE)
    session = VideoSession(model, JpegFrames(frames_dir(out, video)), keep_logits=True)
    s = settings(video)
    session.set_memory_policy(1, replace(Sam2LongMemory(), num_pathways=s["num_pathways"], iou_threshold=s["iou_threshold"],
                                         uncertainty=s["uncertainty"]))
    x, y = CLICKS[video]
    session.add_prompt(Prompt(0, 1, np.array([[x, y]], np.float32), np.array([1], np.int32)))
    records: dict[str, np.ndarray] = {}
    for res in session.propagate(0, Direction.FORWARD):
        m = res.objects[1]
        if f"{res.frame}.online" not in records:  # the first result of a frame: the online one
            records[f"{res.frame}.online"] = m.low_res_logits
        records[f"{res.frame}.final"] = m.low_res_logits  # a later one: the final lineage's
        records[f"{res.frame}.mask"] = np.packbits(m.rle.decode())
    state = session.track_state(1).policy_state
    return records, dict(state.counts)


def mask_iou(a: np.ndarray, b: np.ndarray) -> float:
    union = int((a | b).sum())
    return 1.0 if union == 0 else float((a & b).sum() / union)


def save_ours(out: Path) -> None:
    """Run ours on both videos and keep the records (``compare`` uses them when the settings match)."""
    for video in VIDEOS:
        records, counts = run_ours(out, video)
        np.savez_compressed(out / f"sam2long_ours_{video}_{IMAGE_SIZE}.npz", **records)
        (out / f"sam2long_ours_{video}_{IMAGE_SIZE}.json").write_text(json.dumps({"settings": settings(video), "counts": counts}))
        print(video, json.dumps(counts), flush=True)


def load_ours(out: Path, video: str) -> tuple[dict[str, np.ndarray], dict]:
    meta = out / f"sam2long_ours_{video}_{IMAGE_SIZE}.json"
    if meta.is_file() and json.loads(meta.read_text())["settings"] == settings(video):
        saved = np.load(out / f"sam2long_ours_{video}_{IMAGE_SIZE}.npz")
        return {k: saved[k] for k in saved.files}, json.loads(meta.read_text())["counts"]
    return run_ours(out, video)


def compare(out: Path) -> dict:
    report = {"image_size": IMAGE_SIZE}
    for video in VIDEOS:
        meta = json.loads((out / f"sam2long_ref_{video}_{IMAGE_SIZE}.json").read_text())
        if meta["settings"] != settings(video):
            sys.exit(f"the reference run of {video} used {meta['settings']}, not {settings(video)}: run it again")
        ref = np.load(out / f"sam2long_ref_{video}_{IMAGE_SIZE}.npz")
        ours, counts = load_ours(out, video)
        frames = sorted({int(k.split(".")[0]) for k in ref.files})
        res = {"frames": len(frames)}
        for kind in ("online", "final"):
            worst_logit, worst_iou = 0.0, 1.0
            for f in frames:
                a, b = ref[f"{f}.{kind}"], ours[f"{f}.{kind}"]
                worst_logit = max(worst_logit, float(np.abs(a - b).max()))
                worst_iou = min(worst_iou, mask_iou(a > 0, b > 0))
            res[kind] = {"max_abs_logit_diff": worst_logit, "min_mask_iou_256": worst_iou}
        worst_video = 1.0
        for f in frames:
            ma = np.unpackbits(ref[f"{f}.mask"]).astype(bool)
            mb = np.unpackbits(ours[f"{f}.mask"]).astype(bool)
            worst_video = min(worst_video, mask_iou(ma, mb))
        res["final"]["min_mask_iou_video"] = worst_video
        res["pass"] = len(frames) == NUM_FRAMES and all(
            res[k]["max_abs_logit_diff"] <= 1e-3 and res[k]["min_mask_iou_256"] >= 0.999 for k in ("online", "final")
        ) and worst_video >= 0.999
        res["settings"] = settings(video)
        res["reference_counts"] = meta["counts"]
        res["our_counts"] = counts
        report[video] = res
    return report


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in ("checkpoint", "frames", "reference", "ours", "compare"):
        sys.exit(__doc__)
    out = Path(sys.argv[2])
    if sys.argv[1] == "checkpoint":
        from bench.parity.policy_weights import make_variants

        make_variants(out, list(VIDEOS), IOU_TOKEN_OFFSET, MASK_OFFSET)
    elif sys.argv[1] == "frames":
        from bench.parity.samurai_policy import write_frames

        write_frames(out)
    elif sys.argv[1] == "reference":
        run_reference(out)
    elif sys.argv[1] == "ours":
        save_ours(out)
    else:
        print(json.dumps(compare(out), indent=1))


if __name__ == "__main__":
    main()
