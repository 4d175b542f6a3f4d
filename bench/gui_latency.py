"""How responsive the window is, measured through the real main window (headless), printed as JSON.

- first_click: per video, opened in the window (model loaded and warmed up) and clicked in the
  middle of frame 0 the moment that frame is shown: open to shown, click to mask, open to mask.
- click_to_mask_ms: a click on the canvas until its mask is in the document and on the overlay,
  first on a frame whose features are cached (prefetched when it was shown), and on a fresh frame.
- frame_step_ms / frame_seek_ms: from asking for the next / a random frame until it is on the canvas
  with two objects' masks (the decoding runs on a loader thread; the GUI thread stays free).
- stall_ms: the longest and 99th-percentile gaps of a 10 ms GUI timer while the engine propagates.
- propagation: seconds per frame, and per frame the model's thread count (core/cpu_threads.py) and
  the process's CPU seconds (how many cores the model got beside the busy programs of --contend).

Usage: QT_QPA_PLATFORM=offscreen python bench/gui_latency.py [--checkpoint CKPT] [--video PATH] [--frames N]
       [--first-click VIDEO ...] [--long-video MINUTES] [--contend N]
       (MASKLET_MODEL_PRIORITY=batch|nice|normal picks the model thread's policy: annotator/model_priority.py)
Without --checkpoint a small random SAM 2 (the test configuration) is used: the numbers then show
the window's own overhead more than the model's speed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def _wait(app, predicate, timeout: float = 300.0, signals: tuple = ()) -> None:
    """Run the event loop (asleep between events, as in the app) until ``predicate()`` holds.

    It is checked whenever one of ``signals`` fires and every 10 ms: a 1 ms poll took 3 % of a
    core, which the model's threads need while a first click is measured.
    """
    from PySide6.QtCore import QEventLoop, QTimer

    if predicate():
        return
    end = time.perf_counter() + timeout
    loop, poll = QEventLoop(), QTimer()

    def check(*_args) -> None:
        if predicate() or time.perf_counter() > end:
            loop.quit()

    poll.setInterval(10)
    poll.timeout.connect(check)
    for signal in signals:
        signal.connect(check)
    poll.start()
    loop.exec()
    poll.stop()
    for signal in signals:
        signal.disconnect(check)
    if not predicate():
        raise TimeoutError("the window did not answer in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4")
    parser.add_argument("--frames", type=int, default=30, help="frames to propagate while timing the event loop")
    parser.add_argument("--first-click", type=Path, nargs="*", help="videos to open and click at once (default: --video)")
    parser.add_argument("--rounds", type=int, default=1, help="times each --first-click video is opened and clicked")
    parser.add_argument("--first-click-only", action="store_true", help="skip the other measurements")
    parser.add_argument("--long-video", type=float, default=0.0, metavar="MINUTES",
                        help="also open and click a video this long (720p H.264, made by bench/long_video.py)")
    parser.add_argument("--contend", type=int, default=0, metavar="N",
                        help="N busy processes (one core each) while propagating (the stall and propagation rows)")
    args = parser.parse_args()
    from bench.host import host_gflops
    from bench.video_speed import busy_processes

    host_before = host_gflops()

    from PySide6.QtCore import QSettings, Qt, QTimer
    from PySide6.QtTest import QTest

    from annotator.checkpoint_settings import CheckpointSettings
    from annotator.model_priority import chosen_priority
    from annotator.model_status import ModelState
    from core.checkpoints.runtime import DeviceChoice, ModelSelection, PrecisionChoice
    from core.types import Direction
    from ui.app import make_application
    from ui.main_window import MainWindow
    from ui.settings import AppSettings

    app = make_application()
    tmp = Path(tempfile.mkdtemp(prefix="masklet-bench-"))
    checkpoint = args.checkpoint
    if checkpoint is None:
        sys.path.insert(0, str(ROOT / "tests"))
        from tests.ui_helpers import present_checkpoint

        checkpoint = present_checkpoint(tmp / "random.pt")
    q = QSettings(str(tmp / "bench.ini"), QSettings.Format.IniFormat)
    CheckpointSettings(q).save(ModelSelection(checkpoint, DeviceChoice.AUTO, PrecisionChoice.AUTO))
    w = MainWindow(settings=AppSettings(q))
    w.resize(1400, 900)
    w.show()
    s = w.session
    started = time.perf_counter()
    _wait(app, lambda: s.model_status.state in (ModelState.READY, ModelState.FAILED))
    if s.model_status.state is ModelState.FAILED:
        print(json.dumps({"error": s.model_status.message}))
        return 1
    load_s = time.perf_counter() - started  # loaded and warmed up: the worker announces it then

    def click(x: float, y: float) -> float:
        obj_id = s.add_object()
        frame = s.frame
        started = time.perf_counter()
        QTest.mouseClick(w.canvas.viewport(), Qt.MouseButton.LeftButton, pos=w.canvas.view_pos(x, y).toPoint())
        _wait(app, lambda: s.doc.mask(obj_id, frame) is not None, signals=(s.doc.masksChanged,))
        app.processEvents()  # the overlay redraw
        return 1000 * (time.perf_counter() - started)

    def idle(seconds: float) -> None:  # the event loop runs, as when the annotator looks
        end = time.perf_counter() + seconds
        _wait(app, lambda: time.perf_counter() > end)

    # First click: open a video and click on the middle of frame 0 as soon as it is shown.
    first: dict[str, dict[str, float | list[float]]] = {}
    videos = list(args.first_click or [args.video])
    if args.long_video > 0:
        from bench.long_video import make_long_video

        videos.append(tmp / f"long_{args.long_video:g}min.mp4")
        make_long_video(videos[-1], args.long_video)
    for _ in range(args.rounds):
        for path in videos:
            s.undo_stack.setClean()  # no "save changes?" question between videos
            opened = time.perf_counter()
            if not w.open_path(str(path)):
                print(json.dumps({"error": f"cannot open {path}"}))
                return 1
            _wait(app, lambda: w.presenter.shown_frame == 0, signals=(w.presenter.loader.loaded,))
            shown = time.perf_counter()
            ms = click(s.video.width / 2, s.video.height / 2)
            run = {"open_to_shown_ms": round(1000 * (shown - opened), 1), "click_to_mask_ms": round(ms, 1),
                   "open_to_mask_ms": round(1000 * (shown - opened) + ms, 1)}
            if args.rounds == 1:
                first[path.name] = run
            else:
                entry = first.setdefault(path.name, {"open_to_mask_runs_ms": []})
                entry["open_to_mask_runs_ms"].append(run["open_to_mask_ms"])
                entry["open_to_mask_median_ms"] = round(statistics.median(entry["open_to_mask_runs_ms"]), 1)
            idle(2.0)
    every = sorted(v for e in first.values() for v in (e.get("open_to_mask_runs_ms") or [e["open_to_mask_ms"]]))
    first_summary = {"runs": len(every), "median_ms": round(statistics.median(every), 1), "max_ms": every[-1],
                     "under_2_s": sum(v < 2000 for v in every)}
    if args.first_click_only:
        print(json.dumps({"model": s.model_status.message, "model_load_and_warm_up_s": round(load_s, 2),
                          "first_click": first, "first_click_open_to_mask": first_summary,
                          "host_gemm_gflops_before": host_before, "host_gemm_gflops_after": host_gflops()}, indent=2))
        s.undo_stack.setClean()
        w.close()
        return 0
    s.undo_stack.setClean()
    if not w.open_path(str(args.video)):
        print(json.dumps({"error": f"cannot open {args.video}"}))
        return 1
    width, height = s.video.width, s.video.height

    s.set_frame(5)
    idle(0.5)
    # the prefetch of frame 5's features (one image encoder run) finishes: the session is busy
    # while the worker computes the features of the frame on screen
    _wait(app, lambda: not s.model_status.busy)
    idle(0.5)
    cached = click(width * 0.3, height * 0.4)
    s.set_frame(150)
    fresh = click(width * 0.7, height * 0.5)  # right away: features are still being computed

    def show(frame: int) -> float:
        started = time.perf_counter()
        s.set_frame(frame)
        _wait(app, lambda: w.presenter.shown_frame == frame, signals=(w.presenter.loader.loaded,))
        return 1000 * (time.perf_counter() - started)

    steps = sorted(show(f) for f in range(100, 130))
    seeks = sorted(show(f) for f in (17, 180, 3, 95, 160, 40, 120, 7, 199, 60))

    ticks: list[float] = []
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    s.set_frame(5)
    app.processEvents()
    from core.cpu_threads import shared_threads

    # per frame (frame 5 too: the object clicked on frame 150 is tracked there): when its masks
    # reached the document, the model's thread count then and the process's CPU seconds since
    # the frame before (how many cores the model actually got)
    frame_done: dict[int, tuple[float, int, float]] = {}

    def on_masks(_obj: int, frames: object) -> None:
        for f in [frames] if isinstance(frames, int) else frames:  # a frozenset of frames
            if f not in frame_done:
                frame_done[f] = (time.perf_counter(), shared_threads().threads, time.process_time())

    s.doc.masksChanged.connect(on_masks)
    with busy_processes(args.contend):
        timer.start(10)
        started = time.perf_counter()
        cpu_started = time.process_time()
        s.runs.propagate(Direction.FORWARD, None, (5, 5 + args.frames - 1))
        _wait(app, lambda: s.runs.current is None, timeout=3600)
        elapsed = time.perf_counter() - started
        timer.stop()
    s.doc.masksChanged.disconnect(on_masks)
    per_frame, prev_t, prev_cpu = [], started, cpu_started
    for f in sorted(frame_done):
        t, threads, cpu = frame_done[f]
        per_frame.append({"frame": f, "s": round(t - prev_t, 3), "threads": threads, "cpu_s": round(cpu - prev_cpu, 2)})
        prev_t, prev_cpu = t, cpu
    gaps = sorted(1000 * (b - a) for a, b in zip(ticks, ticks[1:]))
    result = {
        "video": args.video.name,
        "model": s.model_status.message,
        "model_load_and_warm_up_s": round(load_s, 2),
        "first_click": first,
        "first_click_open_to_mask": first_summary,
        "host_gemm_gflops_before": host_before,
        "click_to_mask_ms": {"cached_features": round(cached, 1), "fresh_frame": round(fresh, 1)},
        "frame_step_ms": {"median": round(steps[len(steps) // 2], 1), "max": round(steps[-1], 1)},
        "frame_seek_ms": {"median": round(seeks[len(seeks) // 2], 1), "max": round(seeks[-1], 1)},
        "model_priority": chosen_priority().value,
        "contend": args.contend,
        "propagation": {"frames": args.frames, "seconds": round(elapsed, 2), "fps": round(args.frames / elapsed, 2),
                        "s_per_frame": round(elapsed / args.frames, 3), "per_frame": per_frame},
        "stall_ms": {"max": round(gaps[-1], 1), "p99": round(gaps[int(0.99 * (len(gaps) - 1))], 1),
                     "timer_ticks": len(ticks)},
    }
    result["host_gemm_gflops_after"] = host_gflops()
    s.undo_stack.setClean()
    w.close()
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
