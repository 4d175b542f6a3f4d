"""The model's CPU thread count follows the busy threads of other programs (core/cpu_threads.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from core import cpu_threads
from core.cpu_threads import AdaptiveThreads, runnable_elsewhere, threads_for


@pytest.mark.parametrize(
    ("cores", "busy", "expected"),
    [(2, 0, 2), (2, 1, 4), (2, 2, 4), (2, 5, 4), (8, 1, 10), (8, 3, 14), (1, 3, 2), (4, -1, 4), (0, 0, 1)],
)
def test_two_more_threads_per_busy_thread_elsewhere_up_to_twice_the_cores(cores: int, busy: int, expected: int) -> None:
    assert threads_for(cores, busy) == expected


def _stat(tid: int, state: str, nice: int, kernel: bool = False) -> str:
    # a command name with spaces and a parenthesis must not shift the fields; flags is field 9,
    # nice field 19
    rest = ["1"] * 15
    rest[5] = str(0x00200000 if kernel else 0x00400040)
    return f"{tid} (pt main) x) {state} {' '.join(rest)} {nice} 1 0\n"


def _fake_proc(root: Path, procs_running: int | None, processes: dict[int, list[tuple[str, int]]], me: int = 7,
               my_nice: int = 0) -> Path:
    """A /proc with the kernel's count and, per pid, its threads' (state, nice), state "K": a
    running kernel thread; ``me`` is "self"."""
    root.mkdir()
    lines = ["cpu  1 2 3 4", "ctxt 99"] + ([f"procs_running {procs_running}"] if procs_running is not None else [])
    (root / "stat").write_text("\n".join(lines + ["procs_blocked 0"]) + "\n")
    for pid, threads in processes.items():
        for i, (state, nice) in enumerate(threads):
            task = root / str(pid) / "task" / str(pid * 100 + i)
            task.mkdir(parents=True)
            kernel = state == "K"
            (task / "stat").write_text(_stat(pid * 100 + i, "R" if kernel else state, nice, kernel))
    (root / "self").symlink_to(root / str(me))
    (root / "thread-self").mkdir()
    (root / "thread-self" / "stat").write_text(_stat(me, "R", my_nice))
    return root


def test_runnable_elsewhere_counts_other_processes_runnable_threads_at_our_priority_or_above(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path / "proc", procs_running=7, processes={
        7: [("R", 0), ("S", 0), ("R", 0)],  # ours: never counted
        20: [("R", 0), ("S", 0), ("R", -5)],  # two
        21: [("R", 19), ("R", 5)],  # nicer than us: not competing for our share
        22: [("D", 0), ("R", 0)],  # one
        2: [("K", 0), ("K", -20)],  # kernel threads (kworkers): not a program
    })
    assert runnable_elsewhere(proc) == 3
    niced = _fake_proc(tmp_path / "niced", procs_running=7, my_nice=5, processes={
        7: [("R", 5)], 20: [("R", 0), ("R", 5)], 21: [("R", 19), ("R", 6)]})
    assert runnable_elsewhere(niced) == 2


def test_runnable_elsewhere_reads_no_thread_when_only_ours_are_runnable(tmp_path: Path) -> None:
    # procs_running counts our two runnable threads only: the other process is not looked at
    proc = _fake_proc(tmp_path / "proc", procs_running=2, processes={7: [("R", 0), ("R", 0)], 20: [("R", 0)]})
    assert runnable_elsewhere(proc) == 0


def test_runnable_elsewhere_is_none_without_the_kernels_count(tmp_path: Path) -> None:
    assert runnable_elsewhere(tmp_path / "absent") is None
    assert runnable_elsewhere(_fake_proc(tmp_path / "proc", procs_running=None, processes={7: [("R", 0)]})) is None


def test_runnable_elsewhere_reads_this_machine() -> None:
    reading = runnable_elsewhere()
    if not Path("/proc/stat").exists():
        assert reading is None
    else:
        assert isinstance(reading, int) and reading >= 0


@pytest.fixture
def every_update_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu_threads, "MIN_INTERVAL_S", 0.0)
    monkeypatch.setattr(cpu_threads, "_shared", None)  # a fresh process-wide count


def test_the_median_of_the_last_three_readings_decides(every_update_reads) -> None:
    readings = iter([1, 0, 1, 1, 2, 0, 0, 0])
    set_to: list[int] = []
    threads = AdaptiveThreads(cores=8, read=lambda: next(readings), set_threads=set_to.append)
    counts = [threads.update() for _ in range(8)]
    # starting from three quiet readings: medians (low) of [0,0,1] [0,1,0] [1,0,1] [0,1,1]
    # [1,1,2] [1,2,0] [2,0,0] [0,0,0]: one busy reading alone changes nothing
    assert counts == [8, 8, 10, 10, 10, 10, 8, 8]
    assert set_to[-3:] == [8, 10, 8]  # set only when the count changes (the first: from torch's own)


def test_at_most_one_reading_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    now = {"t": 100.0}
    monkeypatch.setattr(cpu_threads, "_clock", lambda: now["t"])
    readings: list[float] = []
    threads = AdaptiveThreads(cores=2, read=lambda: readings.append(now["t"]) or 1, set_threads=lambda n: None)
    for t in (100.0, 100.5, 100.99, 101.0, 101.2, 103.0):
        now["t"] = t
        threads.update()
    assert readings == [100.0, 101.0, 103.0]


def test_no_reading_keeps_the_count(every_update_reads) -> None:
    set_to: list[int] = []
    threads = AdaptiveThreads(cores=2, read=lambda: None, set_threads=set_to.append)
    assert threads.update() == 2


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_propagation_takes_threads_for_a_busy_program_and_gives_them_back(monkeypatch: pytest.MonkeyPatch, restore_threads,
                                                                         every_update_reads) -> None:
    from core.types import Direction
    from core.video import VideoSession
    from tests.video_helpers import click, moving_square_video, small_model

    monkeypatch.setenv("MASKLET_THREADS", "adaptive")
    quiet = cpu_threads.quiet_count()
    busy = {"now": 0}
    monkeypatch.setattr(cpu_threads, "runnable_elsewhere", lambda: busy["now"])
    session = VideoSession(small_model(), moving_square_video(6))
    session.add_prompt(click(0, 1, 20, 20))  # the encoder runs: a reading of 0
    assert torch.get_num_threads() == quiet
    seen = []
    busy["now"] = 1
    for result in session.propagate(direction=Direction.FORWARD):
        seen.append((result.frame, torch.get_num_threads()))
        if result.frame == 2:
            busy["now"] = 0
    busy1 = quiet + min(quiet, 2)
    # readings before frames 0..5: [0,0,1] [0,1,1] [1,1,1] [1,1,0] [1,0,0] [0,0,0]
    assert seen == [(0, quiet), (1, busy1), (2, busy1), (3, busy1), (4, quiet), (5, quiet)]
    busy["now"] = 1
    for _ in session.propagate(direction=Direction.FORWARD):
        pass
    assert torch.get_num_threads() == busy1
    busy["now"] = 0
    session.add_prompt(click(3, 2, 30, 20))  # frame 3 is encoded: no reading, the count stays
    assert session.has_features(3) and torch.get_num_threads() == busy1


def test_fixed_in_the_environment_or_a_batch_worker_keeps_the_count(monkeypatch: pytest.MonkeyPatch, restore_threads,
                                                                   every_update_reads) -> None:
    from core.types import Direction
    from core.video import VideoSession
    from tests.video_helpers import click, moving_square_video, small_model

    monkeypatch.setattr(cpu_threads, "runnable_elsewhere", lambda: 2)
    torch.set_num_threads(1)
    for env, adapt in (("fixed", None), ("adaptive", False)):
        monkeypatch.setenv("MASKLET_THREADS", env)
        session = VideoSession(small_model(), moving_square_video(3), adapt_threads=adapt)
        session.add_prompt(click(0, 1, 20, 20))
        for _ in session.propagate(direction=Direction.FORWARD):
            assert torch.get_num_threads() == 1
    monkeypatch.setenv("MASKLET_THREADS", "adaptive")  # the same with adapting: it does adapt
    session = VideoSession(small_model(), moving_square_video(3))
    session.add_prompt(click(0, 1, 20, 20))
    for _ in session.propagate(direction=Direction.FORWARD):
        pass
    assert torch.get_num_threads() == 2 * cpu_threads.quiet_count()
