"""Throughput of ``masklet batch`` on this machine against ``masklet track`` alone. JSON out.

  .venv/bin/python bench/batch_throughput.py [--videos 8] [--frames 10] [--workers 1 2] [--out FILE]

Writes N short H.264 clips (160x120, the tests' clips) and a random tiny-test checkpoint (the
tests' small model, image size 128: the numbers measure Masklet's and Ray's overhead per video,
not SAM 2's speed), then, one after the other on the same machine:

1. ``masklet track`` once per clip, each a process of its own (what a shell loop does): the wall
   time per video (process start, imports, model load, tracking, writing);
2. ``masklet batch`` over all clips with ``--workers W`` for each W asked (each run into a fresh
   destination): the command's wall time, videos per hour, the start-up until the first video is
   handed out (process, Ray, worker start, model load), the tracking span, the wind-down (Ray's
   shutdown, the process's end) and the per-video steps the ledger records (fingerprint, track,
   write, publish).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.batch_helpers import make_clips, write_manifest  # noqa: E402
from tests.sam2_helpers import save_random_checkpoint, tiny_test_config  # noqa: E402


def masklet(*args: str, cwd: Path) -> tuple[float, str]:
    start = time.monotonic()
    run = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=cwd, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    wall = time.monotonic() - start
    if run.returncode != 0:
        raise SystemExit(f"masklet {args[0]} failed: {run.stderr.strip().splitlines()[-1]}")
    return wall, run.stderr


def track_alone(root: Path, clips: list, checkpoint: Path) -> dict:
    walls = []
    for clip in clips:
        wall, _ = masklet("track", str(clip.video), "--prompts", str(clip.prompts), "--checkpoint", str(checkpoint),
                          "--device", "cpu", "--out", str(root / f"{clip.job_id}.masklet"), "--force", cwd=root)
        walls.append(wall)
    return {"wall_s_per_video": walls, "median_wall_s": statistics.median(walls),
            "videos_per_hour_one_after_another": 3600 * len(walls) / sum(walls)}


def batch(root: Path, manifest: Path, checkpoint: Path, workers: int) -> dict:
    dest = root / f"out_w{workers}"
    launched = datetime.now(timezone.utc)
    wall, err = masklet("batch", str(manifest), "--out", str(dest), "--checkpoint", str(checkpoint), "--device", "cpu",
                        "--workers", str(workers), cwd=root)
    records = [json.loads(line) for line in (dest / "_ledger.jsonl").read_text().splitlines()]
    done = [r for r in records if r["status"] == "done"]
    steps = sorted({k for r in done for k in r.get("timings", {})})
    per_step = {k: statistics.median(r["timings"].get(k, 0.0) for r in done) for k in steps}
    summary = [line for line in err.splitlines() if line.startswith("masklet batch:")][0]
    load = float(summary.split("model loaded in ")[1].split(" s")[0]) if "model loaded in" in summary else None
    # the ledger's times are whole seconds: start-up and wind-down to about a second
    first_start = min(datetime.fromisoformat(r["time"]) for r in records if r["status"] == "started")
    last_end = max(datetime.fromisoformat(r["time"]) for r in done)
    startup = (first_start - launched).total_seconds()
    return {"workers": workers, "videos": len(done), "wall_s": wall, "videos_per_hour": 3600 * len(done) / wall,
            "frames": sum(r["frames"] for r in done), "median_step_s": per_step, "model_load_s": load,
            "startup_s": startup, "tracking_s": (last_end - first_start).total_seconds(),
            "wind_down_s": wall - startup - (last_end - first_start).total_seconds(), "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=10)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "batch_throughput.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="masklet-batch-bench-") as folder:
        root = Path(folder)
        clips = make_clips(root / "clips", tuple(args.frames for _ in range(args.videos)))
        checkpoint = save_random_checkpoint(root / "tiny.pt", tiny_test_config(128), seed=5)
        manifest = write_manifest(root / "manifest.jsonl",
                                  [{"video": str(c.video), "prompts": str(c.prompts)} for c in clips])
        result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                              "load_average_at_start": os.getloadavg()},
                  "videos": args.videos, "frames_per_video": args.frames, "model": "random tiny-test config, image 128",
                  "track_alone": track_alone(root, clips, checkpoint),
                  "batch": [batch(root, manifest, checkpoint, w) for w in args.workers]}
        result["machine"]["load_average_at_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
