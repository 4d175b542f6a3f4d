"""Work around a reference-count bug of PySide6 6.12 on Python 3.11.

That PySide6 returns ``None`` from every void method (``update()``, ``setText()``, ...) and
``True`` from ``Signal.emit`` without owning a reference, as if they were immortal (they are
from Python 3.12 on). On 3.11 each such call takes one reference away from the singleton; after
a few thousand calls Python deallocates ``None`` or ``True`` and aborts ("none_dealloc").

:func:`install` checks whether the running PySide6 does this (a few void calls and emits) and,
only then, gives ``None``, ``True`` and ``False`` a reference count of about 2**40, which is what
Python 3.12 does to make them immortal. Idempotent; a no-op on Python 3.12+ and on a fixed PySide6.
Imported first by every module of ours that calls PySide6.
"""

from __future__ import annotations

import ctypes
import sys
import threading

from PySide6.QtCore import QObject, Signal

BOOST = 1 << 40  # references added; about a trillion leaked calls before it would matter
PROBES = 50
_lock = threading.Lock()
_installed = False


class _Probe(QObject):
    ping = Signal()


def _refcount_cell(obj: object) -> ctypes.c_ssize_t:
    # CPython: ob_refcnt is the first field of every object (a Py_ssize_t).
    return ctypes.c_ssize_t.from_address(id(obj))


def leaking_singletons() -> list[object]:
    """Which of None and True lose references through PySide6 calls here (empty when none)."""
    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(PROBES):
        probe.setObjectName("probe")  # a void method: returns None
        probe.ping.emit()  # returns True
    leaking = []
    for obj, before in ((None, none_before), (True, true_before)):
        lost = before - sys.getrefcount(obj)
        if lost >= PROBES // 2:
            leaking.append(obj)
        if lost > 0:
            _refcount_cell(obj).value += lost  # give back what the probe took
    return leaking


def install() -> bool:
    """Make None/True/False effectively immortal if this PySide6 leaks them; True when it did."""
    global _installed
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    with _lock:
        if _installed:
            return True
        if not leaking_singletons():
            return False
        for obj in (None, True, False):
            _refcount_cell(obj).value += BOOST
        _installed = True
        return True


install()
