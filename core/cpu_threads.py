"""How many threads the model's CPU work runs on, adapted to what other programs are running.

Linux shares the cores among runnable threads, not among programs: against B busy threads of
other programs, a model running on T threads gets about T / (T + B) of the machine, and each
of its fork-join steps waits for whichever of its threads was preempted. With torch's default
(one thread per core) one busy program on a 2-core laptop leaves the model well under its
two cores. Two more threads per busy thread elsewhere, at most twice the cores, win most of
that back (docs/benchmarks.md, "Speed with other programs running": 2, 3 and 4 threads against
one and two busy programs). The passive OpenMP waits of ``core/__init__.py`` make this work: a
thread that finishes its part of a step sleeps and frees its core for a preempted sibling.
On a quiet machine the model keeps one thread per core: more threads than cores pay only when
another program holds some of them.

How many threads of other programs are busy is read before heavy work (a tracked frame, an
encoder run), at most once a second: the runnable threads of other processes at the model
thread's priority or above, kernel threads left out (/proc; when the kernel's count of runnable
threads shows none but this process's, nothing more is read). The median of the last three
readings decides, and the process starts from three quiet ones, so a program that wakes for a
moment changes nothing. Light work (a click on a frame already encoded) leaves the count as it
is: dropping it there and raising it again for the next frame made such clicks several times
slower with a busy program beside (docs/benchmarks.md). One count serves the whole process
(``shared_threads``). Elsewhere than Linux the count stays as it is.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import deque
from pathlib import Path
from typing import Callable

import torch

READINGS = 3  # readings whose median decides
MIN_INTERVAL_S = 1.0  # at most one reading a second: a reading may look at every thread of the system
_clock = time.monotonic
_PROC = Path("/proc")
_KERNEL_THREAD = 0x00200000  # PF_KTHREAD in the flags field of /proc/<pid>/task/<tid>/stat
_quiet_count: int | None = None  # torch's count before any adapting: one per core by default
_shared: "AdaptiveThreads | None" = None


def quiet_count() -> int:
    """torch's thread count as the process had it before the first ``AdaptiveThreads``."""
    global _quiet_count
    if _quiet_count is None:
        _quiet_count = torch.get_num_threads()
    return _quiet_count


def threads_for(cores: int, busy_elsewhere: int) -> int:
    """Compute threads for ``cores`` cores with ``busy_elsewhere`` busy threads of other programs:
    one per core, plus two per busy thread elsewhere, at most twice the cores."""
    cores = max(1, cores)
    return cores + min(cores, 2 * max(0, busy_elsewhere))


def runnable_elsewhere(proc: Path = _PROC) -> int | None:
    """Threads of other processes that are running or ready to run now at this thread's
    priority or above (a nice 19 indexer takes little from the model: more threads would win
    nothing against it); None where the kernel does not say (not Linux)."""
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return None
    running = next((int(line.split()[1]) for line in stat.splitlines() if line.startswith("procs_running ")), None)
    if running is None:
        return None
    own = _runnable(proc / "self" / "task")
    if running - len(own) <= 0:  # the usual quiet case: no need to look at every thread
        return 0
    try:
        mine = _state_and_nice((proc / "thread-self" / "stat").read_text())[1]
    except (OSError, IndexError, ValueError):
        mine = 0
    me = (proc / "self").resolve().name
    count = 0
    for pid in proc.iterdir():
        if pid.name.isdigit() and pid.name != me:
            count += sum(nice <= mine for nice in _runnable(pid / "task"))
    return count


def _state_and_nice(stat: str) -> tuple[str, int]:
    """(state, nice) of a thread, state "K" for a kernel thread."""
    # "pid (comm) S ppid ...": fields after the last ")" (comm may hold spaces and parentheses);
    # the state is field 3 of proc(5), the flags field 9, the nice value field 19
    fields = stat.rsplit(")", 1)[1].split()
    return ("K" if int(fields[6]) & _KERNEL_THREAD else fields[0]), int(fields[16])


def _runnable(tasks: Path) -> list[int]:
    """The nice values of the runnable threads under a /proc/<pid>/task folder."""
    nices = []
    try:
        entries = list(tasks.iterdir())
    except OSError:
        return nices
    for task in entries:
        try:
            state, nice = _state_and_nice((task / "stat").read_text())
        except (OSError, IndexError, ValueError):
            continue
        if state == "R":
            nices.append(nice)
    return nices


class AdaptiveThreads:
    """Sets torch's thread count for the calling thread from readings of other programs' load.

    cores: the count on a quiet machine (default: ``quiet_count()``, one per core unless the
    process set another before). ``update()`` takes a reading (at most one per MIN_INTERVAL_S)
    and sets the count the median of the last ``READINGS`` readings asks for; it returns the
    count in effect. read and set_threads are injectable for tests.
    """

    def __init__(
        self,
        cores: int | None = None,
        read: Callable[[], int | None] | None = None,
        set_threads: Callable[[int], None] | None = None,
    ) -> None:
        self.cores = cores if cores is not None else quiet_count()
        self._read = read or (lambda: runnable_elsewhere())
        self._set = set_threads or torch.set_num_threads
        self._readings: deque[int] = deque([0] * READINGS, maxlen=READINGS)
        self._last = -float("inf")
        self.wanted = self.cores
        self.threads = torch.get_num_threads()

    def update(self) -> int:
        now = _clock()
        if now - self._last >= MIN_INTERVAL_S:
            self._last = now
            reading = self._read()
            if reading is not None:
                self._readings.append(reading)
                self.wanted = threads_for(self.cores, int(statistics.median_low(self._readings)))
        if self.wanted != self.threads:
            self._set(self.wanted)
            self.threads = self.wanted
        return self.threads


def shared_threads() -> AdaptiveThreads:
    """The process's one ``AdaptiveThreads`` (readings carry over from one session to the next)."""
    global _shared
    if _shared is None:
        _shared = AdaptiveThreads()
    return _shared


def adaptive_enabled() -> bool:
    """False when the environment variable ``MASKLET_THREADS`` is "fixed" (torch's count stays
    as the process set it: benchmarks, reproducible test runs)."""
    return os.environ.get("MASKLET_THREADS", "adaptive").strip().lower() == "adaptive"
