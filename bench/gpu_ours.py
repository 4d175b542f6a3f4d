"""Masklet's SAM 2 in the GPU checklist (run by bench/gpu_checklist.py, one job per process).

  python bench/gpu_ours.py cpu-ref                  # here, once: ours on the CPU, float32 -> .gpu_data/cpu_ref.npz
  python bench/gpu_ours.py correct                  # CUDA (fp32 and bf16) against that reference
  python bench/gpu_ours.py speed --size tiny [--compile]   # propagation fps, click latency, GPU memory

Ours runs as the app does (annotator/worker.py): core.sam2.checkpoint.load_model on the device,
core.checkpoints.accelerate.autocast (bfloat16 on CUDA) around every engine call, compile_modules
(the image encoder) when compiling, warm_up(model, runs=2) after loading.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gpu_common import (  # noqa: E402
    BOX, CLICKS, CPU_REF, FRAMES, IMAGE, SUB, VIDEO, WORK, case_arrays, checksum, compare_records, emit,
    Preloaded, click_stats, frame_paths, image_cases, load_records, load_rgb, make_checkpoints, model_only,
    save_records, section, sync,
)
from core.checkpoints.accelerate import autocast, compile_modules  # noqa: E402
from core.checkpoints.runtime import ResolvedRuntime  # noqa: E402
from core.types import Direction, Prompt  # noqa: E402

SMOKE = os.environ.get("GPUCHK_SMOKE") == "1"
IMAGE_SIZE = 256 if SMOKE else 1024
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
END = 3 if SMOKE else None  # last frame of the speed runs (None: the whole video)
CLICKS_N, OPENS_N = (6, 2) if SMOKE else (50, 5)  # cached clicks, fresh opens


def load(size: str, device: str = DEVICE):  # noqa: ANN201
    from core.sam2.checkpoint import load_model
    from core.sam2.model import Sam2Model

    model = load_model(WORK / f"{size}.pt", device)
    if model.image_size != IMAGE_SIZE:  # the smoke run: the same weights at a smaller input
        small = Sam2Model(model.config.replace(image_size=IMAGE_SIZE))
        small.load_state_dict(model.state_dict())
        model = small.to(device).eval()
    return model


def set_tf32(convolutions: bool) -> dict:
    """Matrix products never in TF32 (torch's default); cuDNN convolutions in TF32 unless strict
    float32 is asked for (torch's default is on, and the app leaves both as they are)."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = convolutions
    return {"matmul_tf32": False, "cudnn_tf32": convolutions}


def click(frame: int, obj: int, xy: tuple[float, float], label: int = 1) -> Prompt:
    return Prompt(frame, obj, np.array([xy], np.float32), np.array([label], np.int32))


# ---------------------------------------------------------------- correctness records
@contextmanager
def image_precision(precision: str):  # noqa: ANN201
    """Sam2ImagePredictor always autocasts to bf16 on CUDA; the fp32 check turns that off."""
    import core.sam2.image_predictor as ip

    saved = ip.autocast
    if precision == "fp32":
        from contextlib import nullcontext

        ip.autocast = lambda device: nullcontext()
    try:
        yield
    finally:
        ip.autocast = saved


def image_records(model, precision: str) -> dict:  # noqa: ANN001
    from core.sam2.image_predictor import Sam2ImagePredictor

    image = load_rgb(IMAGE)
    h, w = image.shape[:2]
    pred = Sam2ImagePredictor(model)
    recs = {}
    with image_precision(precision):
        pred.set_image(image)
        for name, case in image_cases(h, w).items():
            pts, labs, box = case_arrays(case)
            out = pred.predict_logits(points=pts, labels=labs, box=box, multimask_output=case["multi"])
            recs[name] = {"logits": out.low_res_logits.float().cpu().numpy(), "mask": (out.logits > 0).cpu().numpy(),
                          "score": out.iou_scores.float().cpu().numpy()}
    return recs


def video_records(model, precision: str, frames: int) -> dict:  # noqa: ANN001
    """Object 1 (a click) and 2 (a box) on frame 0, propagated forward over ``frames`` frames."""
    from core.frames import open_frames
    from core.video import VideoSession

    src = open_frames(FRAMES)
    session = VideoSession(model, src, keep_logits=True)
    recs = {}

    def keep(key: str, m) -> None:  # noqa: ANN001
        recs[key] = {"logits": m.low_res_logits[::SUB, ::SUB], "mask": m.rle.decode(), "score": np.float32(m.object_score)}

    with autocast(ResolvedRuntime(DEVICE, precision, False)):
        keep("p0/o1", session.add_prompt(click(0, 1, CLICKS[0])).objects[1])
        keep("p0/o2", session.add_prompt(Prompt(0, 2, box=np.array(BOX, np.float32))).objects[2])
        for res in session.propagate(direction=Direction.FORWARD, end_frame=min(frames, len(src)) - 1, return_logits=True):
            for obj, m in res.objects.items():
                keep(f"f{res.frame}/o{obj}", m)
    src.close()
    return recs


def inputs_digest() -> str:
    h = hashlib.sha1(load_rgb(IMAGE).tobytes())
    for p in frame_paths():
        h.update(load_rgb(p).tobytes())
    return h.hexdigest()


def cpu_ref(out: Path, frames: int) -> None:
    """Ours on this machine's CPU, float32: the reference the CUDA runs are held against."""
    torch.set_grad_enabled(False)
    make_checkpoints(["tiny", "large"])
    flat: dict[str, np.ndarray] = {"inputs_sha1": np.array(inputs_digest())}
    for size in ("tiny", "large"):
        model = load(size, "cpu")
        flat[f"{size}/checksum"] = np.array(checksum(model))
        for k, r in image_records(model, "fp32").items():
            flat.update({f"{size}/image/{k}|{f}": np.asarray(v) for f, v in r.items()})
        if size == "tiny":
            for k, r in video_records(model, "fp32", frames).items():
                flat.update({f"{size}/video/{k}|{f}": np.asarray(v) for f, v in r.items()})
        del model
    np.savez_compressed(out, **flat)
    print(out, out.stat().st_size)


def correct(frames: int) -> None:
    ref_path = CPU_REF if not SMOKE else WORK / "cpu_ref_smoke.npz"
    ref = np.load(ref_path)
    emit("ours_inputs", {"inputs_match_cpu_ref": str(ref["inputs_sha1"]) == inputs_digest(), "device": DEVICE})
    for size in ("tiny", "large"):
        model = load(size)
        same = abs(float(ref[f"{size}/checksum"]) - checksum(model)) < 1e-6 * float(ref[f"{size}/checksum"])
        kinds = ("image", "video") if size == "tiny" else ("image",)
        # fp32: TF32 off (exact float32); fp32_tf32: torch's defaults (cuDNN convolutions in TF32), what
        # the app's float32 choice gets; bf16: the app's default on CUDA
        for mode in ("fp32", "fp32_tf32", "bf16"):
            flags = set_tf32(mode != "fp32")
            precision = "bf16" if mode == "bf16" else "fp32"
            for kind in kinds:
                with section(f"ours_{kind}_cuda_vs_cpu_fp32/{size}/{mode}", weights_match_cpu_ref=same, **flags) as out:
                    t = time.perf_counter()
                    recs = image_records(model, precision) if kind == "image" else video_records(model, precision, frames)
                    out["run_s"] = round(time.perf_counter() - t, 2)
                    if kind == "image":  # the CPU reference keeps full low-res logits; video ones are subsampled
                        recs_ref = load_records(ref_path, f"{size}/image/")
                    else:
                        recs_ref = load_records(ref_path, f"{size}/video/")
                    out.update(compare_records(recs, recs_ref, tol=(mode == "fp32")))
                    if mode in ("fp32", "bf16"):
                        save_records(WORK / f"ours_{size}_{kind}_{mode}.npz", recs)
        set_tf32(True)
        del model
        torch.cuda.empty_cache() if DEVICE == "cuda" else None


# ---------------------------------------------------------------- speed, latency, memory
def fps_runs(make_session, warm: int, runs: int) -> dict:  # noqa: ANN001
    """make_session() -> (session, closer); fps of a forward propagation over the whole video."""
    fps = []
    for r in range(warm + runs):
        session, close = make_session()
        sync()
        t = time.perf_counter()
        n = sum(1 for _ in session.propagate(direction=Direction.FORWARD, end_frame=END))
        sync()
        if r >= warm:
            fps.append(n / (time.perf_counter() - t))
        close()
    return {"fps_median": round(statistics.median(fps), 1), "fps_runs": [round(f, 1) for f in fps], "frames": n}


def speed(size: str, compiled: bool, runs: int, mem_frames: int) -> None:
    from core.frames import open_frames
    from core.frames.folder import read_rgb
    from core.video import VideoSession, warm_up

    torch.set_grad_enabled(False)
    rt = ResolvedRuntime(DEVICE, "bf16" if DEVICE == "cuda" else "fp32", compiled and DEVICE == "cuda")
    tag = f"{size}/{'compile' if compiled else 'eager'}"
    with section(f"ours_load/{tag}", runtime=rt.label) as out:
        t = time.perf_counter()
        model = load(size)
        out["load_s"] = round(time.perf_counter() - t, 2)
        out["compiled"] = compile_modules(model, rt)
        t = time.perf_counter()
        with autocast(rt):
            warm_up(model, runs=2)
        sync()
        out["warm_up_s"] = round(time.perf_counter() - t, 2)  # includes the compilation when compiling

    def prompts(session, n_obj: int) -> None:  # noqa: ANN001
        for i in range(n_obj):
            session.add_prompt(click(0, i + 1, CLICKS[i]))

    with section(f"ours_latency/{tag}") as out, autocast(rt):
        for name, path in (("first_click_mp4", VIDEO), ("first_click_folder", FRAMES)):
            times = []
            for _ in range(OPENS_N):  # each a fresh open and session, as after File > Open
                t = time.perf_counter()
                src = open_frames(path)
                session = VideoSession(model, src)
                session.add_prompt(click(0, 1, CLICKS[0]))  # returns the RLE: the GPU work is done
                times.append(time.perf_counter() - t)
                src.close()
            out[name + "_ms"] = {"median": round(1e3 * statistics.median(times), 1), "runs": [round(1e3 * x, 1) for x in times]}
        src = open_frames(VIDEO)
        session = VideoSession(model, src)
        session.add_prompt(click(0, 1, CLICKS[0]))
        for name in ("cached_click_ms", "cached_click_second_pass_ms"):  # the second pass: every prompt shape seen
            times = []
            for k in range(CLICKS_N):  # clicks on the cached frame: a new object click every 5, else one more point
                x, y = CLICKS[0][0] + 7 * (k % 5), CLICKS[0][1] - 5 * (k % 3)
                t = time.perf_counter()
                session.add_prompt(click(0, 1, (x, y), 1 if k % 4 else 0), clear_old=(k % 5 == 0))
                times.append(time.perf_counter() - t)
            out[name] = click_stats(times)
        src.close()

    frames = [read_rgb(p) for p in frame_paths()]
    for n_obj in (1, 3):
        with section(f"ours_fps_end_to_end/{tag}/{n_obj}obj", video=FRAMES.name) as out, autocast(rt):
            def fresh():  # noqa: ANN202
                src = open_frames(FRAMES)
                s = VideoSession(model, src)
                prompts(s, n_obj)
                return s, src.close
            out.update(fps_runs(fresh, 1, runs))
        with section(f"ours_fps_model_only/{tag}/{n_obj}obj", video=FRAMES.name) as out, autocast(rt):
            s = VideoSession(model, Preloaded(frames))
            prompts(s, n_obj)  # before the patch: a prompt's result must reach the host
            with model_only(frames, model.image_size, DEVICE):
                out.update(fps_runs(lambda: (s, lambda: None), 2, runs + 2))
    if compiled or mem_frames <= 0:
        return
    with section(f"ours_gpu_memory/{tag}/3obj", video=VIDEO.name) as out, autocast(rt):
        src = open_frames(VIDEO)
        session = VideoSession(model, src)
        prompts(session, 3)
        sync()
        cuda = DEVICE == "cuda"
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        mb = 2.0**-20
        samples, t = {}, time.perf_counter()
        end = min(mem_frames, len(src)) - 1
        marks = {1, 10, 25, 50, 100, 150, 200, end + 1}
        for res in session.propagate(direction=Direction.FORWARD, end_frame=end):
            n = res.frame + 1
            if n in marks:
                sync()
                samples[n] = {"peak_allocated_mb": round(torch.cuda.max_memory_allocated() * mb, 1) if cuda else None,
                              "allocated_mb": round(torch.cuda.memory_allocated() * mb, 1) if cuda else None,
                              "reserved_mb": round(torch.cuda.memory_reserved() * mb, 1) if cuda else None,
                              "engine_tensors_mb": round(session.memory_bytes() * mb, 2), "s": round(time.perf_counter() - t, 2)}
        out["frames"] = end + 1
        out["fps_end_to_end_mp4"] = round((end + 1) / (time.perf_counter() - t), 1)
        out["samples"] = samples
        if cuda and 50 in samples:
            last = samples[end + 1]
            out["peak_growth_50_to_end_mb"] = round(last["peak_allocated_mb"] - samples[50]["peak_allocated_mb"], 1)
            out["allocated_growth_50_to_end_mb"] = round(last["allocated_mb"] - samples[50]["allocated_mb"], 1)
        src.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("job", choices=("cpu-ref", "correct", "speed"))
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--frames", type=int, default=8 if SMOKE else 24, help="correctness: frames propagated")
    ap.add_argument("--runs", type=int, default=1 if SMOKE else 5)
    ap.add_argument("--mem-frames", type=int, default=12 if SMOKE else 200)
    ap.add_argument("--out", type=Path, default=CPU_REF)
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    if args.job == "cpu-ref":
        cpu_ref(args.out, args.frames)
    elif args.job == "correct":
        correct(args.frames)
    else:
        speed(args.size, args.compile, args.runs, args.mem_frames)


if __name__ == "__main__":
    main()
