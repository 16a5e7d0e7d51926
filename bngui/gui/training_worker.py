"""The one bridge between the trainer and the GUI.

The trainer runs in a ``QThread``; every event it reports crosses to the GUI
thread as a queued ``event`` signal carrying the immutable record. Stop and
pause only set flags on the trainer's ``RunControl``; the trainer checks them
between batches, so the GUI thread never waits on training.
"""

import gc
import os
import sys
import threading
import traceback
from contextlib import contextmanager

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot


BACKGROUND_NICENESS = 5

# Python starts a full collection after this many collections of the middle
# generation; this many never comes.
NEVER = 1_000_000_000


def yield_cpu_to_the_gui():
    """Lower the calling thread's scheduling priority (Linux only).

    On a 2-core laptop TensorFlow's two compute threads keep both cores busy;
    at equal priority the GUI thread then waits its turn and the window
    stutters. Linux threads inherit the niceness of the thread that creates
    them, so calling this before TensorFlow starts its thread pools makes all
    of its threads give way to the GUI, which needs very little CPU.
    """
    if sys.platform.startswith("linux"):
        try:
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           max(current, BACKGROUND_NICENESS))
        except OSError:
            pass  # not allowed here: keep the normal priority


@contextmanager
def full_collections_only_before_the_run():
    """No automatic full garbage collection while a run is in progress.

    A full collection walks every object Python tracks while holding the GIL,
    and the GUI thread needs the GIL to draw anything. TensorFlow's own objects
    are frozen once it is imported (``loading.py``), but a run's models,
    optimizer state and traced graphs add 130,000 objects for two variants and
    630,000 for ten: a full collection over them took 100-600 ms, and the
    collector's counters started one at moments nobody chose (while tracing,
    training or scoring), each a visible freeze of the window.

    So the one full collection is made here, before the run builds anything:
    it frees the previous run's trainer while the window only shows that a
    run is being prepared. During the run the young generations are still
    collected as usual (cheap: they are small); only the full ones wait.
    """
    gc.collect()
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


class _TrainingJob(QObject):
    event = Signal(object)
    failed = Signal(str)
    done = Signal()

    def __init__(self, variant_ids, data, settings, control):
        super().__init__()
        self._variant_ids = variant_ids
        self._data = data
        self._settings = settings
        self._control = control
        self.trainer = None

    @Slot()
    def run(self):
        yield_cpu_to_the_gui()
        try:
            from bngui.core.trainer import LockstepTrainer

            with full_collections_only_before_the_run():
                self.trainer = LockstepTrainer(
                    self._variant_ids, self._data, self._settings, self._control
                )
                self.trainer.run(self.event.emit)
        except Exception as error:  # shown to the user as a message, never a crash
            traceback.print_exc()
            self.failed.emit(f"Training failed: {error}")
        finally:
            self.done.emit()


class TrainingWorker(QObject):
    """Starts one training run in its own thread and relays its events."""

    event = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._thread = None
        self._job = None
        self._control = None

    @property
    def running(self):
        return self._thread is not None and self._thread.isRunning()

    @property
    def paused(self):
        return self._control is not None and self._control.paused

    @property
    def models(self):
        """The trained models of the last run ({variant id: keras model}), or {}."""
        if self._job is None or self._job.trainer is None:
            return {}
        return dict(self._job.trainer.models)

    def start(self, variant_ids, data, settings):
        from bngui.core.trainer import RunControl

        if self.running:
            raise RuntimeError("a training run is already in progress")
        self._control = RunControl()
        self._thread = QThread()
        self._thread.setObjectName("bngui-training")
        self._job = _TrainingJob(list(variant_ids), data, settings, self._control)
        self._job.moveToThread(self._thread)
        self._thread.started.connect(self._job.run)
        self._job.event.connect(self.event)
        self._job.failed.connect(self.failed)
        # Direct: quit() is thread-safe, and the thread must end even while the
        # GUI thread is blocked in stop_and_wait() (a queued quit would wait for it).
        self._job.done.connect(self._thread.quit, Qt.DirectConnection)
        self._thread.finished.connect(self.finished)
        self._thread.start()

    def pause(self):
        if self._control is not None:
            self._control.pause()

    def resume(self):
        if self._control is not None:
            self._control.resume()

    def stop(self):
        if self._control is not None:
            self._control.stop()

    def stop_and_wait(self, timeout_ms=5000):
        """Stop training and wait for the thread to end; True if it ended."""
        self.stop()
        if self._thread is None:
            return True
        ended = self._thread.wait(timeout_ms)
        return ended
