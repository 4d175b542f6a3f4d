"""Time from File > Quit (unsaved work, answered Discard) to the end of the process, in a real window
with a real model worker, once the model is idle. JSON out.

  QT_QPA_PLATFORM=offscreen .venv/bin/python bench/quit_latency.py [--runs 5] [--video PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_ui_quit import SCRIPT  # noqa: E402 - the scenario the test checks

# The scenario, plus a line with the wall time at the moment Quit is triggered.
QUIT = '    window.actions["file.quit"].trigger()'
assert QUIT in SCRIPT
TIMED = SCRIPT.replace(QUIT, '    import time; print("quit_at", time.time(), flush=True)\n' + QUIT)


def one_run(video: str) -> float:
    with tempfile.TemporaryDirectory() as home:
        proc = subprocess.Popen([sys.executable, "-c", TIMED, home, video], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True,
                                env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)})
        quit_at = None
        for line in proc.stdout:
            if line.startswith("quit_at"):
                quit_at = float(line.split()[1])
        proc.wait()
        ended = time.time()
        if quit_at is None or proc.returncode != 0:
            raise SystemExit(f"the run failed (exit code {proc.returncode})")
        return ended - quit_at


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--video", default=str(ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4"))
    args = ap.parse_args()
    times = [one_run(args.video) for _ in range(args.runs)]
    print(json.dumps({"quit_to_exit_s": [round(t, 3) for t in times], "median_s": round(statistics.median(times), 3),
                      "max_s": round(max(times), 3)}))


if __name__ == "__main__":
    main()
