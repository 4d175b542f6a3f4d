"""Test support for background threads: watch a module's condition variables instead of sleeping.

A test that must show a thread did *not* do something (start a decode, finish a scan) waits for
the thread to go back to sleep on its condition after seeing the new state, rather than sleeping
for a while and hoping the thread had its chance: ``watch_conditions(monkeypatch, module)``
makes the ``threading.Condition()`` objects that ``module`` creates from then on count their waits.
"""

from __future__ import annotations

import threading
import types
from typing import Callable

import pytest

HANG_S = 60.0  # only guards a hang: an event-driven wait never needs this long


class WatchedCondition(threading.Condition):
    """A Condition that records the timeout of every ``wait``/``wait_for`` call made on it.

    ``waits`` grows (with the lock held) each time a thread is about to sleep on it; ``wait_for``
    sleeps through ``wait``, so each sleep is counted once."""

    def __init__(self, lock=None) -> None:  # noqa: ANN001 - threading's own signature
        super().__init__(lock)
        self.waits: list[float | None] = []
        self._changed = threading.Condition()

    def wait(self, timeout: float | None = None) -> bool:
        with self._changed:
            self.waits.append(timeout)
            self._changed.notify_all()
        return super().wait(timeout)

    def wait_until(self, predicate: Callable[[list[float | None]], bool], timeout: float = HANG_S) -> bool:
        """Block (on another thread than the sleepers) until ``predicate(waits)`` holds; False after
        ``timeout`` seconds, which only guards a hang."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.waits), timeout)


def watch_conditions(monkeypatch: pytest.MonkeyPatch, module: types.ModuleType) -> list[WatchedCondition]:
    """Every ``threading.Condition()`` that ``module`` makes from now on is a WatchedCondition,
    appended to the returned list; other modules keep the real class."""
    made: list[WatchedCondition] = []

    def factory(lock=None) -> WatchedCondition:  # noqa: ANN001
        made.append(WatchedCondition(lock))
        return made[-1]

    proxy = types.SimpleNamespace(**{name: getattr(threading, name) for name in dir(threading) if not name.startswith("__")})
    proxy.Condition = factory
    monkeypatch.setattr(module, "threading", proxy)
    return made
