"""The GPU checklist of shared/GPU.md in one run: ours and the official SAM 2, same random weights.

  bash bench/gpu_checklist.sh                          # on the device machine (installs the carried wheels)
  python bench/gpu_checklist.py --out DIR [--budget 440] [--only JOB ...] [--smoke]

Every job runs in its own process with a time limit (bench/gpu_ours.py, bench/gpu_official.py,
bench/gpu_holes.py, bench/gpu_host.py);
each finished section is kept, and DIR/gpu_checklist.json is rewritten after every job, so a run
cut short still reports what it measured. Jobs run in the order of the checklist's priorities:
correctness, eager speed of tiny and large (with latency and memory), hole filling, then
torch.compile (ours) and vos_optimized (the official), as far as the budget allows. The official
CUDA extension for hole filling (sam2._C) is built in the background meanwhile.

Needs on the device: the ignored folders .ref/sam2 (the official code at 2b90b9f), .gpu_data
(bedroom frames and mp4, truck.jpg, cpu_ref.npz from `python bench/gpu_ours.py cpu-ref`), .whl.
--smoke: a dry run on the CPU (input 256, few frames, no compilation).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gpu_common import CODE, ROOT, WORK, make_checkpoints  # noqa: E402

PY = sys.executable
OURS, OFF, HOLES = "bench/gpu_ours.py", "bench/gpu_official.py", "bench/gpu_holes.py"
# (name, command, seconds it may take at most)
JOBS = [
    ("ours-correct", [OURS, "correct"], 120),
    ("official-correct", [OFF, "correct"], 120),
    ("host-on-device", ["bench/gpu_host.py"], 60),
    ("ours-tiny", [OURS, "speed", "--size", "tiny"], 90),
    ("official-tiny", [OFF, "speed", "--size", "tiny"], 90),
    ("ours-large", [OURS, "speed", "--size", "large"], 100),
    ("official-large", [OFF, "speed", "--size", "large"], 100),
    ("holes", [HOLES, "check"], 40),
    ("ours-tiny-compile", [OURS, "speed", "--size", "tiny", "--compile"], 150),
    ("official-tiny-vos", [OFF, "speed", "--size", "tiny", "--vos"], 300),
    ("ours-large-compile", [OURS, "speed", "--size", "large", "--compile"], 200),
    ("official-large-vos", [OFF, "speed", "--size", "large", "--vos"], 300),
]
SMOKE_SKIP = {"ours-tiny-compile", "official-tiny-vos", "ours-large-compile", "official-large-vos", "ours-large", "official-large"}


def environment() -> dict:
    import torch

    env = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
           "host_cpus": os.cpu_count(), "date_utc": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime())}
    if torch.cuda.is_available():
        p = torch.cuda.get_device_properties(0)
        env.update(gpu=p.name, gpu_memory_gib=round(p.total_memory / 2**30, 1), sm=f"{p.major}.{p.minor}",
                   multiprocessors=p.multi_processor_count)
        try:
            env["nvidia_smi"] = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,clocks.max.sm,power.limit",
                                                "--format=csv,noheader"], capture_output=True, text=True, timeout=20).stdout.strip()
        except (OSError, subprocess.SubprocessError) as exc:
            env["nvidia_smi"] = str(exc)
    for name in ("torchvision", "av", "PIL", "cv2", "pycocotools", "hydra", "triton"):
        try:
            env[f"{name}_version"] = getattr(__import__(name), "__version__", "?")
        except Exception as exc:  # noqa: BLE001
            env[f"{name}_version"] = f"missing ({exc})"
    return env


def run_job(name: str, cmd: list[str], limit: float, env: dict, log) -> dict:  # noqa: ANN001
    jsonl = WORK / f"{name}.jsonl"
    jsonl.unlink(missing_ok=True)
    t = time.perf_counter()
    log.write(f"\n===== {name}: {' '.join(cmd)} (limit {limit:.0f} s)\n")
    log.flush()
    proc = subprocess.Popen([PY, *cmd], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**env, "GPUCHK_JSONL": str(jsonl)},
                            start_new_session=True)
    try:
        rc = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.wait()
        rc = "timeout"
    sections = [json.loads(line) for line in jsonl.read_text().splitlines()] if jsonl.exists() else []
    return {"rc": rc, "seconds": round(time.perf_counter() - t, 1), "limit_s": round(limit),
            "sections": {s.pop("section"): s for s in sections}}


def summary(results: dict) -> list[str]:
    """The headline numbers, one line each (printed last: the device's reply keeps the end)."""
    lines = []
    for job, r in results.get("jobs", {}).items():
        lines.append(f"[{job}] rc={r['rc']} {r['seconds']} s")
        for name, s in r["sections"].items():
            keys = ("pass", "max_abs_logit_diff", "min_iou", "mean_iou", "fps_median", "first_click_mp4_ms", "first_click_folder_ms",
                    "cached_click_ms", "peak_growth_50_to_end_mb", "fps_end_to_end_mp4", "warm_up_s", "first_init_click_propagate_s",
                    "ours_equals_official_kernel", "ours_equals_torch_reference", "official_left_mask_unchanged", "error")
            short = {k: (s[k]["median"] if isinstance(s[k], dict) and "median" in s[k] else s[k]) for k in keys if k in s}
            if "samples" in s:
                last = s["samples"][max(s["samples"], key=int)]
                short["peak_mb_end"] = last.get("peak_allocated_mb")
            lines.append(f"  {name}: {json.dumps(short, default=str)[:300]}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", ROOT / "bench" / "out" / "gpu")))
    ap.add_argument("--budget", type=float, default=440.0, help="seconds for the whole run")
    ap.add_argument("--only", nargs="*", help="run just these jobs")
    ap.add_argument("--smoke", action="store_true", help="a CPU dry run at input 256")
    args = ap.parse_args()
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED="1", GPUCHK_WORK=str(WORK))
    if args.smoke:
        env["GPUCHK_SMOKE"] = "1"
    result_path = args.out / "gpu_checklist.json"
    results: dict = {"command": " ".join(sys.argv), "smoke": args.smoke, "budget_s": args.budget}
    results["environment"] = environment()
    commit = CODE / "COMMIT"
    results["code"] = {"path": str(CODE), "commit": commit.read_text().strip() if commit.exists() else "working tree"}
    with open(args.out / "gpu_checklist.log", "a") as log:
        build = None
        if not args.smoke and results["environment"].get("gpu"):
            (WORK / "sam2_C").mkdir(parents=True, exist_ok=True)
            build = subprocess.Popen([PY, HOLES, "build"], cwd=ROOT, stdout=open(WORK / "kernel_build.log", "w"),
                                     stderr=subprocess.STDOUT, env={**env, "TORCH_CUDA_ARCH_LIST": "9.0", "MAX_JOBS": "4",
                                                                    "GPUCHK_JSONL": str(WORK / "kernel.jsonl")}, start_new_session=True)
        results["checkpoints"] = make_checkpoints(["tiny", "large"])
        if args.smoke and not (WORK / "cpu_ref_smoke.npz").exists():
            subprocess.run([PY, OURS, "cpu-ref", "--out", str(WORK / "cpu_ref_smoke.npz")], cwd=ROOT, env=env, check=True,
                           stdout=log, stderr=subprocess.STDOUT)
        results["jobs"] = {}
        for name, cmd, limit in JOBS:
            if (args.only and name not in args.only) or (args.smoke and name in SMOKE_SKIP):
                continue
            if name == "holes" and build is not None:
                try:
                    build.wait(timeout=max(1.0, min(60.0, args.budget - (time.perf_counter() - start) - 60)))
                except subprocess.TimeoutExpired:
                    pass
            left = args.budget - (time.perf_counter() - start)
            if left < 25:
                results["jobs"][name] = {"rc": "skipped: budget spent", "seconds": 0, "sections": {}}
                continue
            results["jobs"][name] = run_job(name, cmd, min(limit * (5 if args.smoke else 1), left), env, log)
            if build is not None and build.poll() is not None:
                kernel = WORK / "kernel.jsonl"
                results["kernel_build"] = {"rc": build.returncode, **(json.loads(kernel.read_text().splitlines()[-1]) if kernel.exists() else {}),
                                           "log_tail": (WORK / "kernel_build.log").read_text()[-1500:]}
            results["elapsed_s"] = round(time.perf_counter() - start, 1)
            result_path.write_text(json.dumps(results, indent=1, default=str))
        if build is not None and build.poll() is None:
            os.killpg(build.pid, 9)
            results["kernel_build"] = {"rc": "unfinished", "log_tail": (WORK / "kernel_build.log").read_text()[-1500:]}
    results["elapsed_s"] = round(time.perf_counter() - start, 1)
    result_path.write_text(json.dumps(results, indent=1, default=str))
    print("\n".join(summary(results)))


if __name__ == "__main__":
    main()
