"""The PySide6 6.12 / Python 3.11 reference bug is neutralised: 100,000 void calls and emits leave
None and True alive. Without the fix such a process aborts ("none_dealloc") on this PySide6."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
{fix}
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
class Sender(QObject):
    changed = Signal(int, object)
sender, widget, got = Sender(), QWidget(), []
sender.changed.connect(lambda n, frames: got.append(n))
for i in range(100000):
    sender.changed.emit(i, None)
    widget.update()
print("survived", len(got))
"""


def _run(fix: bool) -> subprocess.CompletedProcess:
    code = SCRIPT.format(fix="import annotator.qt_refcount_fix" if fix else "")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_long_session_of_qt_calls_survives_with_the_fix() -> None:
    result = _run(fix=True)
    assert result.returncode == 0 and "survived 100000" in result.stdout, result.stderr[-500:]


def test_the_fix_is_needed_exactly_when_pyside_leaks() -> None:
    import annotator.qt_refcount_fix as fix

    result = _run(fix=False)
    crashed = result.returncode != 0 and "dealloc" in result.stderr
    assert crashed == fix._installed  # the probe found the leak exactly where it kills a process
