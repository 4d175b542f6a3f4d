"""How many threads the model's CPU work runs on, adapted to what other programs are running.

Linux shares the cores among runnable threads, not among programs: against B busy threads of
other programs, a model running on T threads gets about T / (T + B) of the machine, and each
of its fork-join steps waits for whichever of its threads was preempted. With torch's default
(one thread per core) a single busy program on a 2-core laptop left the model 1.2 of its 2
cores. Two more threads per busy thread elsewhere, at most twice the cores, win most of that
back; measured on the 2-core build machine (docs/benchmarks.md, "Speed with other programs
running"), one busy program: 2 threads 12.0 s a frame, 3 threads 9.9, 4 threads 8.8; two busy
programs: 15.6, 12.1, 10.5. The passive OpenMP waits of ``core/__init__.py`` make this work:
a thread that finishes its part of a step sleeps and frees its core for a preempted sibling.
On a quiet machine the model keeps one thread per core (4 threads on 2 cores were as fast
there, but more threads than cores only pay when another program holds some of them).

How many threads of other programs are busy is read, between frames, from the kernel's count
of runnable threads (``procs_running`` in /proc/stat) minus this process's own runnable
threads; the median of the last few readings decides, so a program that wakes for a moment
does not change it. Elsewhere than Linux the count stays as it is.
"""

from __future__ import annotations

import os
import statistics
from collections import deque
from pathlib import Path
from typing import Callable

import torch

READINGS = 3  # readings whose median decides
_PROC = Path("/proc")
_quiet_count: int | None = None  # torch's count before any adapting: one per core by default


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
    """Threads of other processes that are running or ready to run now; None where the kernel
    does not say (not Linux). This process's own runnable threads (the caller among them) are
    left out."""
    try:
        stat = (proc / "stat").read_text()
    except OSError:
        return None
    running = next((int(line.split()[1]) for line in stat.splitlines() if line.startswith("procs_running ")), None)
    if running is None:
        return None
    return max(0, running - _own_runnable(proc / "self" / "task"))


def _own_runnable(tasks: Path) -> int:
    count = 0
    try:
        entries = list(tasks.iterdir())
    except OSError:
        return 1  # at least the caller
    for task in entries:
        try:
            # "pid (comm) S ...": the state follows the last ")" (comm may contain spaces and parens)
            state = (task / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        count += state == "R"
    return max(1, count)


class AdaptiveThreads:
    """Sets torch's thread count for the calling thread from readings taken between frames.

    cores: the count on a quiet machine (default: ``quiet_count()``, one per core unless the
    process set another before). ``update()`` takes a reading and sets the count
    that the median of the last ``READINGS`` readings asks for; it returns the count in effect.
    read and set_threads are injectable for tests.
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
        self._readings: deque[int] = deque(maxlen=READINGS)
        self.threads = torch.get_num_threads()

    def update(self) -> int:
        reading = self._read()
        if reading is None:
            return self.threads
        self._readings.append(reading)
        wanted = threads_for(self.cores, int(statistics.median_low(self._readings)))
        if wanted != self.threads:
            self._set(wanted)
            self.threads = wanted
        return self.threads


def adaptive_enabled() -> bool:
    """False when the environment variable ``MASKLET_THREADS`` is "fixed" (torch's count stays
    as the process set it: benchmarks, reproducible test runs)."""
    return os.environ.get("MASKLET_THREADS", "adaptive").strip().lower() == "adaptive"
