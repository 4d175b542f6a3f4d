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


def _fake_proc(root: Path, procs_running: int | None, own_states: list[str]) -> Path:
    root.mkdir()
    lines = ["cpu  1 2 3 4", "ctxt 99"] + ([f"procs_running {procs_running}"] if procs_running is not None else [])
    (root / "stat").write_text("\n".join(lines + ["procs_blocked 0"]) + "\n")
    tasks = root / "self" / "task"
    tasks.mkdir(parents=True)
    for i, state in enumerate(own_states):
        (tasks / str(100 + i)).mkdir()
        # a command name with spaces and a parenthesis must not shift the fields
        (tasks / str(100 + i) / "stat").write_text(f"{100 + i} (pt main) x) {state} 1 2 3\n")
    return root


def test_runnable_elsewhere_leaves_out_this_processs_own_runnable_threads(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path / "proc", procs_running=5, own_states=["R", "S", "R", "S"])
    assert runnable_elsewhere(proc) == 3


def test_runnable_elsewhere_counts_the_caller_even_when_its_state_is_unreadable(tmp_path: Path) -> None:
    proc = _fake_proc(tmp_path / "proc", procs_running=1, own_states=[])
    assert runnable_elsewhere(proc) == 0


def test_runnable_elsewhere_is_none_without_the_kernels_count(tmp_path: Path) -> None:
    assert runnable_elsewhere(tmp_path / "absent") is None
    assert runnable_elsewhere(_fake_proc(tmp_path / "proc", procs_running=None, own_states=["R"])) is None


def test_runnable_elsewhere_reads_this_machine() -> None:
    reading = runnable_elsewhere()
    if not Path("/proc/stat").exists():
        assert reading is None
    else:
        assert isinstance(reading, int) and reading >= 0


def test_the_median_of_the_last_three_readings_decides() -> None:
    readings = iter([1, 0, 1, 1, 2, 0, 0, 0])
    set_to: list[int] = []
    threads = AdaptiveThreads(cores=8, read=lambda: next(readings), set_threads=set_to.append)
    counts = [threads.update() for _ in range(8)]
    # medians (low) of [1], [1,0], [1,0,1], [0,1,1], [1,1,2], [1,2,0], [2,0,0], [0,0,0]
    assert counts == [10, 8, 10, 10, 10, 10, 8, 8]
    assert set_to == [10, 8, 10, 8]  # set only when the count changes


def test_no_reading_keeps_the_count() -> None:
    set_to: list[int] = []
    threads = AdaptiveThreads(cores=2, read=lambda: None, set_threads=set_to.append)
    before = threads.threads
    assert threads.update() == before
    assert set_to == []


@pytest.fixture
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_propagation_takes_a_thread_per_busy_program_and_gives_it_back(monkeypatch: pytest.MonkeyPatch, restore_threads) -> None:
    from core.types import Direction
    from core.video import VideoSession
    from tests.video_helpers import click, moving_square_video, small_model

    monkeypatch.setenv("MASKLET_THREADS", "adaptive")
    quiet = cpu_threads.quiet_count()
    busy = {"now": 0}
    monkeypatch.setattr(cpu_threads, "runnable_elsewhere", lambda: busy["now"])
    session = VideoSession(small_model(), moving_square_video(6))
    session.add_prompt(click(0, 1, 20, 20))  # a reading of 0
    assert torch.get_num_threads() == quiet
    seen = []
    busy["now"] = 1
    for result in session.propagate(direction=Direction.FORWARD):
        seen.append((result.frame, torch.get_num_threads()))
        if result.frame == 2:
            busy["now"] = 0
    busy1 = quiet + min(quiet, 2)
    # readings before frames 0..5: [0,1] [0,1,1] [1,1,1] [1,1,0] [1,0,0] [0,0,0]
    assert seen == [(0, quiet), (1, busy1), (2, busy1), (3, busy1), (4, quiet), (5, quiet)]


def test_fixed_in_the_environment_or_a_batch_worker_keeps_the_count(monkeypatch: pytest.MonkeyPatch, restore_threads) -> None:
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
    assert torch.get_num_threads() == 2 * cpu_threads.quiet_count()
