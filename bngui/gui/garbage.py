"""Garbage collection on the GUI thread only, and no full collection while a run trains.

Python collects reference cycles in whichever thread happens to allocate; a
cycle holding a Qt object collected in a worker thread destroys that object
there, and Qt crashes. pyqtgraph's ``GarbageCollector`` turns the automatic
collector off and collects from a timer on the GUI thread instead. bngui's
collector also reads the collector's thresholds at every check, so that a run
can hold off full collections (``tasks.no_full_collections_during_the_run``):
a full collection walks every object while holding the GIL, a visible freeze
of the window.
"""

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QTimer

CHECK_INTERVAL_S = 0.5
COLLECT_AFTER_RUN_MS = 1000

_collector = None


class GuiThreadCollector(GarbageCollector):
    def check(self):
        self.threshold = gc.get_threshold()  # the current ones, not those at the start
        super().check()


def collect_on_the_gui_thread():
    """Start the GUI-thread collector (once per process; call it from the GUI thread)."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(interval=CHECK_INTERVAL_S)
    return _collector


def stop_collecting_on_the_gui_thread():
    """Stop the GUI-thread collector and give collections back to Python (tests need it)."""
    global _collector
    if _collector is not None:
        _collector.timer.stop()
        _collector = None
        gc.enable()


def collect_fully_soon(delay_ms=COLLECT_AFTER_RUN_MS):
    """One full collection on the GUI thread shortly after a run has ended.

    A run holds off full collections, and afterwards Python starts one only when
    the long-lived objects have grown by a quarter: with TensorFlow's hundreds of
    thousands, the cycles of each run's released models and graphs (tens of MB)
    piled up run after run. The delay lets the views and the canvas drop the
    previous run's models first.
    """
    QTimer.singleShot(delay_ms, gc.collect)
