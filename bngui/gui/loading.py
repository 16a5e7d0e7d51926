"""Slow start-up work off the GUI thread: importing TensorFlow, loading MNIST,
downloading it. Each job is a QThread that reports through queued signals."""

import traceback

from PySide6.QtCore import QThread, Signal

from bngui.core.data import DataError, candidate_locations, download_mnist, load_mnist


class TensorFlowLoader(QThread):
    """Imports TensorFlow and the trainer so the window can appear first."""

    loaded = Signal()
    failed = Signal(str)

    def run(self):
        from bngui.gui.training_worker import yield_cpu_to_the_gui

        # TensorFlow creates its thread pools on its first operation; doing that
        # here, at low priority, makes every training thread give way to the GUI.
        yield_cpu_to_the_gui()
        try:
            from bngui.core.tf_runtime import tf

            import bngui.core.trainer  # noqa: F401  (imports Keras and the models)

            tf.constant(1.0).numpy()
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
