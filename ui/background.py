"""A daemon thread that does the newest work handed to it: the base of the window's frame and
thumbnail loaders. Work waits under one condition; stopping drops what has not started."""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject


class LatestWorkThread(QObject):
    """Subclasses hold their work under ``self._cond`` and define ``_ready`` (work can start),
    ``_take`` (the next item, under the lock), ``_drop`` (forget queued work), ``_compute``
    (off the lock), ``_wanted`` (the item is still wanted, under the lock) and ``_deliver``.
    Call ``_start`` at the end of the subclass's ``__init__``."""

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)

    def _start(self) -> None:
        self._thread.start()

    def idle(self) -> bool:
        """True when nothing is waiting or being worked on."""
        with self._cond:
            return not self._ready() and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._drop()
            self._cond.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._ready() and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                item = self._take()
                self._busy = True
            result = self._compute(item)
            with self._cond:
                self._busy = False
                wanted = self._wanted(item) and not self._stopped
            if wanted:
                self._deliver(item, result)

    def _ready(self) -> bool:  # pragma: no cover - subclasses define these
        raise NotImplementedError

    def _take(self) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _drop(self) -> None:  # pragma: no cover
        raise NotImplementedError

    def _compute(self, item: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def _wanted(self, item: Any) -> bool:  # pragma: no cover
        raise NotImplementedError

    def _deliver(self, item: Any, result: Any) -> None:  # pragma: no cover
        raise NotImplementedError
