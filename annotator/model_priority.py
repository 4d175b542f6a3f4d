"""How the model thread shares the CPU with the window and with other programs (Linux).

Three policies for the thread that runs the model (and the compute threads it starts, which
inherit its setting):

- ``NORMAL`` (the default): no change; the model's threads share the CPU with the window's and
  with other programs' on equal terms. Measured in the window with and without a busy program
  beside it, the window stayed as responsive as under the other two policies and the model was
  fastest (docs/benchmarks.md, "The model thread's policy again").
- ``BATCH``: Linux's SCHED_BATCH at the window's niceness (the default before): the scheduler
  treats the model's threads as throughput work and never lets one that wakes preempt a running
  thread. The model's compute threads wake at every step (passive OpenMP waits, core/__init__.py),
  so against a busy program each wake waits for the end of that program's time slice: slower
  propagation, and nothing measurable gained for the window.
- ``NICE``: 5 nice levels below the window (the policy before that). Against another program
  the model then gets about a third of a shared core's time (weights 335 to 1024).

An unprivileged process can lower its threads' priority but never raise it back, so the choice
is made once, on the model thread, before it starts its compute threads. The environment
variable ``MASKLET_MODEL_PRIORITY`` (normal / batch / nice) overrides the default, for
benchmarks (bench/gui_latency.py). Elsewhere than Linux nothing changes.
"""

from __future__ import annotations

import os
import sys
from enum import Enum

MODEL_NICE = 5  # NICE: the model thread's niceness above the window's


class ModelPriority(Enum):
    BATCH = "batch"
    NICE = "nice"
    NORMAL = "normal"


DEFAULT_PRIORITY = ModelPriority.NORMAL
ENV_VAR = "MASKLET_MODEL_PRIORITY"


def chosen_priority() -> ModelPriority:
    """The policy to apply: ``MASKLET_MODEL_PRIORITY`` when set to a known name, else the default."""
    try:
        return ModelPriority(os.environ.get(ENV_VAR, DEFAULT_PRIORITY.value).strip().lower())
    except ValueError:
        return DEFAULT_PRIORITY


def apply_priority(priority: ModelPriority) -> bool:
    """Set ``priority`` on the calling thread (threads it starts from then on inherit it); True
    when the system took it (or NORMAL, which changes nothing). Idempotent."""
    if priority is ModelPriority.NORMAL:
        return True
    if not sys.platform.startswith("linux"):
        return False  # only Linux keeps these per thread; elsewhere the window would pay too
    if priority is ModelPriority.NICE:
        return lower_priority(MODEL_NICE)
    try:
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))  # 0: the calling thread
    except (AttributeError, OSError):  # a sandbox may refuse it
        return False
    return True


def lower_priority(steps: int) -> bool:
    """Make the calling thread ``steps`` nicer than the process's main thread, where the system
    allows (threads it starts from then on inherit it); True when so. Idempotent."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        target = os.getpriority(os.PRIO_PROCESS, os.getpid()) + steps
        if os.getpriority(os.PRIO_PROCESS, 0) < target:
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except (AttributeError, OSError):  # Windows has no setpriority; a sandbox may refuse it
        return False
    return True
