"""The Qt binding must keep Python's reference counts right.

PySide6 6.12.0 on CPython 3.10/3.11 gives back a reference to None on every
call of a method that returns nothing, and one to True on every
``Signal.emit``. The GUI makes thousands of such calls a second while it
redraws, so the interpreter aborts after a few minutes of training with
"Fatal Python error: none_dealloc: deallocating None". None and True are
immortal from Python 3.12 on, where the same build is harmless; PySide6 6.11
does not have the bug.
"""

import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    happened = Signal(int)


def test_qt_calls_keep_the_reference_counts_of_none_and_true():
    probe = _Emitter()
    none_before = sys.getrefcount(None)
    for _ in range(1000):
        probe.setObjectName("probe")
    none_lost = none_before - sys.getrefcount(None)

    true_before = sys.getrefcount(True)
    for _ in range(1000):
        probe.happened.emit(1)
    true_lost = true_before - sys.getrefcount(True)

    assert none_lost < 100 and true_lost < 100, (
        f"PySide6 {pyside_version} on Python {sys.version.split()[0]} loses a reference to None"
        f" ({none_lost} per 1000 calls) or True ({true_lost} per 1000 emits): the GUI would abort"
        " with 'deallocating None' after minutes of training. Use PySide6 < 6.12 on Python < 3.12."
    )
