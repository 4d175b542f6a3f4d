"""Benchmark the checkpoint download from a server on 127.0.0.1: transfer rate, load-check time,
resume cost. Prints JSON. Not collected by pytest.

    .venv/bin/python bench/download_local.py [--size tiny] [--repeats 3]

Serves a random-weight checkpoint in the official format (156 MB for tiny) with the test
server of tests/test_download_helpers.py, downloads it into a temporary cache, and times
the transfer and the verification (core.sam2.checkpoint.inspect_checkpoint) separately.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.checkpoints.catalogue import ModelSize, ModelVersion, match  # noqa: E402
from core.checkpoints.download import download_file  # noqa: E402
from core.checkpoints.verify import verifier_for  # noqa: E402
from tests.test_download_helpers import Behaviour, CheckpointServer, official_checkpoint  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", choices=[s.value for s in ModelSize])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    entry = match(ModelVersion.SAM2_1, ModelSize(args.size))
    check = verifier_for(entry)
    with tempfile.TemporaryDirectory(prefix="masklet-bench-") as tmp:
        folder = Path(tmp)
        source = official_checkpoint(folder, "2.1", args.size)
        size = source.stat().st_size
        server = CheckpointServer()
        transfer, verify, resumed = [], [], []
        try:
            for i in range(args.repeats):
                server.routes[entry.file_name] = Behaviour(file=source)
                target = folder / f"run{i}" / entry.file_name
                started = time.perf_counter()
                download_file(server.url(entry.file_name), target, verify=lambda p: None)
                transfer.append(time.perf_counter() - started)
                started = time.perf_counter()
                check(target)
                verify.append(time.perf_counter() - started)
                # Cut at half, resumed automatically with a Range request.
                server.routes[entry.file_name] = Behaviour(file=source, cut_after=size // 2)
                target = folder / f"cut{i}" / entry.file_name
                started = time.perf_counter()
                download_file(server.url(entry.file_name), target, verify=lambda p: None)
                resumed.append(time.perf_counter() - started)
                for path in (folder / f"run{i}", folder / f"cut{i}"):
                    for f in path.iterdir():
                        f.unlink()
        finally:
            server.close()
    best = min(transfer)
    print(
        json.dumps(
            {
                "model": entry.name,
                "bytes": size,
                "repeats": args.repeats,
                "transfer_s": [round(t, 3) for t in transfer],
                "transfer_mb_per_s_best": round(size / best / 1e6, 1),
                "transfer_mb_per_s_median": round(size / statistics.median(transfer) / 1e6, 1),
                "load_check_s": [round(t, 3) for t in verify],
                "cut_at_half_then_resumed_s": [round(t, 3) for t in resumed],
                "machine": platform.machine(),
                "python": platform.python_version(),
            },
            indent=1,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
