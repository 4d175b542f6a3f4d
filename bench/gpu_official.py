"""The official SAM 2 (facebookresearch/sam2, fetched into the ignored .ref/sam2) in the GPU checklist.

  python bench/gpu_official.py correct                 # CUDA fp32 and bf16, against ours' saved outputs
  python bench/gpu_official.py speed --size tiny [--vos]   # its benchmark's fps (eager / vos_optimized), clicks, memory
  (its hole-filling kernel: bench/gpu_holes.py)

Run as its own benchmark.py does: bfloat16 autocast around everything and TF32 on (bf16 rows);
the float32 rows turn TF32 off. Its hole filling needs the sam2._C extension; where that was
built on the device it is used, else (correctness only) an OpenCV equivalent (as in
bench/parity/video_parity.py), and the speed rows run as the official code does without it.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gpu_common import (  # noqa: E402
    BOX, CLICKS, FRAMES, IMAGE, ROOT, SUB, VIDEO, WORK, YAML, case_arrays, compare_records,
    click_stats, emit, image_cases, load_rgb, section, sync,
)
from bench.parity.policy_harness import fill_holes_cpu  # noqa: E402

SMOKE = os.environ.get("GPUCHK_SMOKE") == "1"
IMAGE_SIZE = 256 if SMOKE else 1024
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
OFFICIAL = Path(os.environ.get("SAM2_OFFICIAL", ROOT / ".ref" / "sam2"))
KERNEL_DIR = WORK / "sam2_C"
TRACK = 3 if SMOKE else None  # frames tracked after the first in the speed runs (None: all)
CLICKS_N = 6 if SMOKE else 50


def import_official() -> str:
    """Puts the official package on the path; returns how its hole filling will run."""
    tools = ROOT.parent / "shared" / "tools"
    if torch.version.cuda is None and (tools / "torchvision_cpu_fix.py").is_file():  # CPU torch, CUDA torchvision
        sys.path.insert(0, str(tools))
        import torchvision_cpu_fix

        torchvision_cpu_fix.install()
    sys.path.insert(0, str(OFFICIAL))
    built = sorted(KERNEL_DIR.glob("_C*.so"))
    if built and DEVICE == "cuda":
        spec = importlib.util.spec_from_file_location("sam2._C", built[0])
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        import sam2

        sys.modules["sam2._C"] = module
        sam2._C = module
        return "official CUDA kernel (sam2._C built on the device)"
    return "none (no sam2._C)"


def overrides() -> list[str]:
    return [f"++model.image_size={IMAGE_SIZE}"] if IMAGE_SIZE != 1024 else []


def video_predictor(size: str, vos: bool = False):  # noqa: ANN201
    from sam2.build_sam import build_sam2_video_predictor

    return build_sam2_video_predictor(f"configs/sam2.1/sam2.1_hiera_{YAML[size]}.yaml", str(WORK / f"{size}.pt"),
                                      device=DEVICE, vos_optimized=vos, hydra_overrides_extra=overrides())


def bf16_context(on: bool):  # noqa: ANN201
    torch.backends.cuda.matmul.allow_tf32 = on
    torch.backends.cudnn.allow_tf32 = on
    return torch.autocast(DEVICE, dtype=torch.bfloat16) if on and DEVICE == "cuda" else nullcontext()


def add_click(p, state, obj: int, xy, label: int = 1, clear: bool = True):  # noqa: ANN001, ANN201
    return p.add_new_points_or_box(state, 0, obj, points=np.array([xy], np.float32), labels=np.array([label], np.int32),
                                   clear_old_points=clear)


# ---------------------------------------------------------------- correctness
def video_records(p, frames: int) -> dict:  # noqa: ANN001
    state = p.init_state(str(FRAMES))
    recs = {}

    def keep(key: str, idx: int, frame: int, video_logits: torch.Tensor, temp: bool) -> None:
        outs = state["temp_output_dict_per_obj" if temp else "output_dict_per_obj"][idx]
        out = outs["cond_frame_outputs"].get(frame) or outs["non_cond_frame_outputs"].get(frame)
        recs[key] = {"logits": out["pred_masks"][0, 0].float().cpu().numpy()[::SUB, ::SUB],
                     "mask": (video_logits > 0).cpu().numpy(), "score": np.float32(float(out["object_score_logits"].reshape(-1)[0]))}

    _, ids, video = add_click(p, state, 1, CLICKS[0])
    keep("p0/o1", ids.index(1), 0, video[ids.index(1), 0], True)
    _, ids, video = p.add_new_points_or_box(state, 0, 2, box=np.array(BOX, np.float32))
    keep("p0/o2", ids.index(2), 0, video[ids.index(2), 0], True)
    for frame, ids, video in p.propagate_in_video(state, max_frame_num_to_track=frames - 1):
        for i, obj in enumerate(ids):
            keep(f"f{frame}/o{obj}", i, frame, video[i, 0], False)
    return recs


def image_records(size: str) -> dict:
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    model = build_sam2(f"configs/sam2.1/sam2.1_hiera_{YAML[size]}.yaml", str(WORK / f"{size}.pt"), device=DEVICE,
                       hydra_overrides_extra=overrides())
    pred = SAM2ImagePredictor(model)
    if IMAGE_SIZE != 1024:  # its feature sizes are written for 1024
        pred._bb_feat_sizes = [(IMAGE_SIZE // k, IMAGE_SIZE // k) for k in (4, 8, 16)]
    image = load_rgb(IMAGE)
    h, w = image.shape[:2]
    pred.set_image(image)
    recs = {}
    for name, case in image_cases(h, w).items():
        pts, labs, box = case_arrays(case)
        masks, ious, low = pred.predict(point_coords=pts, point_labels=labs, box=box, multimask_output=case["multi"],
                                        return_logits=True)
        recs[name] = {"logits": low, "mask": masks > 0, "score": ious}
    return recs


def correct(frames: int) -> None:
    from bench.gpu_common import load_records

    holes = import_official()
    import sam2.sam2_video_predictor as svp

    if "kernel" not in holes:  # compare like with like: ours always fills holes
        svp.fill_holes_in_mask_scores = fill_holes_cpu
        holes = "OpenCV equivalent of the official kernel (sam2._C not built)"
    emit("official_setup", {"hole_filling": holes, "device": DEVICE})
    torch.set_grad_enabled(False)
    for size in ("tiny", "large"):
        for mode in ("fp32", "bf16"):
            for kind in (("image", "video") if size == "tiny" else ("image",)):
                mine = WORK / f"ours_{size}_{kind}_{mode}.npz"
                with section(f"official_vs_ours_{kind}_cuda/{size}/{mode}") as out, bf16_context(mode == "bf16"):
                    if kind == "image":
                        recs = image_records(size)
                    else:
                        p = video_predictor(size)
                        if mode == "fp32":  # its fp32 path needs the bf16-stored memories read back as fp32
                            fwd = p.memory_attention.forward
                            p.memory_attention.forward = lambda *a, **k: fwd(*a, **{**k, "memory": k["memory"].float()})
                        recs = video_records(p, frames)
                    out.update(compare_records(load_records(mine), recs, tol=(mode == "fp32")))
                    if kind == "video":
                        out["iou_per_frame"] = {r["key"]: r["iou"] for r in out["rows"]}


# ---------------------------------------------------------------- speed, clicks, memory
def speed(size: str, vos: bool, runs: int, mem_frames: int) -> None:
    holes = import_official()
    torch.set_grad_enabled(False)
    tag = f"{size}/{'vos_optimized' if vos else 'eager'}"
    with bf16_context(True):
        with section(f"official_load/{tag}", hole_filling=holes) as out:
            t = time.perf_counter()
            p = video_predictor(size, vos)
            out["build_s"] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            state = p.init_state(str(FRAMES))  # vos: compiles the image encoder here
            add_click(p, state, 1, CLICKS[0])
            for _ in p.propagate_in_video(state, max_frame_num_to_track=TRACK):
                pass
            sync()
            out["first_init_click_propagate_s"] = round(time.perf_counter() - t, 2)
        with section(f"official_latency/{tag}") as out:
            t = time.perf_counter()
            state = p.init_state(str(FRAMES))  # it reads and resizes every frame before the first click
            add_click(p, state, 1, CLICKS[0])
            sync()
            out["first_click_folder_ms"] = round(1e3 * (time.perf_counter() - t), 1)
            for name in ("cached_click_ms", "cached_click_second_pass_ms"):
                times = []
                for k in range(CLICKS_N):
                    x, y = CLICKS[0][0] + 7 * (k % 5), CLICKS[0][1] - 5 * (k % 3)
                    t = time.perf_counter()
                    _, _, video = add_click(p, state, 1, (x, y), 1 if k % 4 else 0, clear=(k % 5 == 0))
                    (video > 0).cpu()
                    times.append(time.perf_counter() - t)
                out[name] = click_stats(times)
        for n_obj in (1, 3):
            with section(f"official_fps_model_only/{tag}/{n_obj}obj", video=FRAMES.name) as out:
                p.reset_state(state)
                for i in range(n_obj):
                    add_click(p, state, i + 1, CLICKS[i])
                fps = []
                for r in range(2 + runs):  # as its benchmark.py: the same state propagated again and again
                    sync()
                    t = time.perf_counter()
                    n = sum(1 for _ in p.propagate_in_video(state, max_frame_num_to_track=TRACK))
                    sync()
                    if r >= 2:
                        fps.append(n / (time.perf_counter() - t))
                out.update({"fps_median": round(statistics.median(fps), 1), "fps_runs": [round(f, 1) for f in fps], "frames": n})
        with section(f"official_fps_end_to_end/{tag}/1obj", video=FRAMES.name,
                     counts="init_state (decode, resize) + propagate + masks to host as COCO RLE") as out:
            from pycocotools import mask as mask_utils

            fps = []
            for _ in range(runs):
                t = time.perf_counter()
                st = p.init_state(str(FRAMES))
                add_click(p, st, 1, CLICKS[0])
                n = 0
                for _, _, video in p.propagate_in_video(st, max_frame_num_to_track=TRACK):
                    m = (video[:, 0] > 0).cpu().numpy()
                    [mask_utils.encode(np.asfortranarray(x)) for x in m]
                    n += 1
                fps.append(n / (time.perf_counter() - t))
            out.update({"fps_median": round(statistics.median(fps), 1), "fps_runs": [round(f, 1) for f in fps], "frames": n})
        if vos or mem_frames <= 0:
            return
        with section(f"official_gpu_memory/{tag}/3obj", video=VIDEO.name) as out:
            folder = jpeg_frames(mem_frames)
            cuda = DEVICE == "cuda"
            mb = 2.0**-20
            del state
            torch.cuda.empty_cache() if cuda else None
            st = p.init_state(str(folder))
            out["allocated_after_init_state_mb"] = round(torch.cuda.memory_allocated() * mb, 1) if cuda else None
            for i in range(3):
                add_click(p, st, i + 1, CLICKS[i])
            sync()
            torch.cuda.reset_peak_memory_stats() if cuda else None
            samples, t = {}, time.perf_counter()
            for frame, _, _ in p.propagate_in_video(st):
                n = frame + 1
                if n in (1, 10, 25, 50, 100, 150, 200, mem_frames):
                    sync()
                    samples[n] = {"peak_allocated_mb": round(torch.cuda.max_memory_allocated() * mb, 1) if cuda else None,
                                  "allocated_mb": round(torch.cuda.memory_allocated() * mb, 1) if cuda else None,
                                  "s": round(time.perf_counter() - t, 2)}
            out["frames"] = mem_frames
            out["samples"] = samples
            if cuda and 50 in samples:
                out["peak_growth_50_to_end_mb"] = round(samples[mem_frames]["peak_allocated_mb"] - samples[50]["peak_allocated_mb"], 1)


def jpeg_frames(count: int) -> Path:
    """The first ``count`` frames of bedroom.mp4 as JPEGs (the official predictor reads folders)."""
    import av

    folder = WORK / f"bedroom_{count}"
    if len(list(folder.glob("*.jpg"))) == count:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with av.open(str(VIDEO)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= count:
                break
            frame.to_image().save(folder / f"{i:05d}.jpg", quality=95)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("job", choices=("correct", "speed"))
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--vos", action="store_true")
    ap.add_argument("--frames", type=int, default=8 if SMOKE else 24)
    ap.add_argument("--runs", type=int, default=1 if SMOKE else 5)
    ap.add_argument("--mem-frames", type=int, default=12 if SMOKE else 200)
    args = ap.parse_args()
    if args.job == "correct":
        correct(args.frames)
    else:
        speed(args.size, args.vos, args.runs, args.mem_frames)


if __name__ == "__main__":
    main()
