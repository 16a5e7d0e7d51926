"""Slow start-up work off the GUI thread: importing TensorFlow, loading MNIST,
downloading it. Each job is a QThread that reports through queued signals."""

import gc
import sys
import threading
import traceback

from PySide6.QtCore import QThread, Signal

from bngui.core.data import DataError, candidate_locations, download_mnist, load_mnist


_import_lock = threading.Lock()

# How long a thread waiting for the GIL waits before it asks the holder to
# hand it over (Python's default: 5 ms). That wait restarts whenever the GIL is
# released, and tracing a tf.function releases and retakes it constantly in
# small C++ calls; the tracing thread, already running, wins every race and
# the GUI thread never gets to ask: the window froze for 100-230 ms at a time
# while the training step was traced (on an idle machine). With 50 us the GUI
# thread asks at once. Measured costs are small: threads that both run Python
# alternate more often, and a thread waiting out a long hold wakes more often.
GIL_SWITCH_INTERVAL_S = 50e-6


def import_tensorflow_without_gc_pauses():
    """Import TensorFlow, Keras and the trainer; take what they made out of the GC's scans.

    A full garbage collection holds the GIL while it walks every tracked
    object, and these imports leave about 350,000 of them: each full
    collection then froze the GUI thread for 200-300 ms (several during the
    imports, and one while the worker traced the training step). The imported
    modules, classes and functions live as long as the process, so when this
    call is the one that imports TensorFlow, the collector is paused during
    the imports and ``gc.freeze()`` then moves everything they made into the
    permanent generation, which later collections skip. The ~2,000 objects of
    import-time garbage this keeps are negligible.
    """
    with _import_lock:  # one caller at a time, so the collector's state is restored exactly
        first_import = "tensorflow" not in sys.modules
        collecting = gc.isenabled()
        if first_import:
            gc.disable()
        try:
            from bngui.core.tf_runtime import tf

            import bngui.core.trainer  # noqa: F401  (imports Keras and the models)

            tf.constant(1.0).numpy()
        finally:
            if first_import:
                gc.freeze()
                if collecting:
                    gc.enable()


class TensorFlowLoader(QThread):
    """Imports TensorFlow and the trainer so the window can appear first."""

    loaded = Signal()
    failed = Signal(str)

    def run(self):
        from bngui.gui.training_worker import yield_cpu_to_the_gui

        # Process-wide from now on; the import below is the first heavy user.
        sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
        # TensorFlow creates its thread pools on its first operation; doing that
        # here, at low priority, makes every training thread give way to the GUI.
        yield_cpu_to_the_gui()
        try:
            import_tensorflow_without_gc_pauses()
        except Exception as error:
            traceback.print_exc()
            self.failed.emit(f"TensorFlow could not be loaded: {error}")
        else:
            self.loaded.emit()


class DataLoader(QThread):
    """Loads MNIST from a path, $BNGUI_MNIST or the Keras cache; never downloads."""

    loaded = Signal(object)
    missing = Signal(str)

    def __init__(self, path=None, parent=None):
        super().__init__(parent)
        self.path = path

    def run(self):
        try:
            self.loaded.emit(load_mnist(self.path, allow_download=False))
        except DataError as error:
            self.missing.emit(str(error))
        except Exception as error:  # a clear message, never a crash
            self.missing.emit(f"MNIST could not be loaded: {error}")


class DownloadJob(QThread):
    """Downloads MNIST into the Keras cache (hash checked), then loads it."""

    progressed = Signal(int, int)  # bytes done, bytes total (0 if unknown)
    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, origin=None, parent=None):
        super().__init__(parent)
        self.origin = origin
        self._cancelled = False

    def cancel(self):
        self._cancelled = True

    def run(self):
        options = {"origin": self.origin} if self.origin else {}
        try:
            path = download_mnist(
                progress=lambda done, total: self.progressed.emit(done, total or 0),
                cancel=lambda: self._cancelled,
                **options,
            )
            self.loaded.emit(load_mnist(path, allow_download=False))
        except DataError as error:
            self.failed.emit(str(error))
        except Exception as error:
            self.failed.emit(f"MNIST could not be downloaded: {error}")


def where_we_looked(path=None):
    """Human-readable lines of the places searched for MNIST."""
    return [f"{why}: {location}" for why, location in candidate_locations(path)]
