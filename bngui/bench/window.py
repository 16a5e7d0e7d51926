"""What the window benchmarks share: measuring in a fresh process, and a real window."""

import json
import subprocess
import sys
from contextlib import contextmanager


def in_a_fresh_process(module, request):
    """Run ``python -m module REQUEST`` (``request`` as JSON, with its ``kind``), as at launch.

    Returns the dict that process printed as JSON on its last line.
    """
    finished = subprocess.run([sys.executable, "-m", module, json.dumps(request)],
                              stdout=subprocess.PIPE, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"the {request['kind']} measurement failed (exit code"
                           f" {finished.returncode}; its error is printed above)")
    return json.loads(finished.stdout.strip().splitlines()[-1])


@contextmanager
def bench_window(data, variant_ids, settings):
    """``(app, window)``: a real MainWindow with fresh preferences, the data and the run chosen.

    The window is shut down and closed afterwards.
    """
    from PySide6.QtCore import QSettings, QTemporaryDir
    from PySide6.QtWidgets import QApplication

    from bngui.gui.main_window import MainWindow
    from bngui.gui.plot_style import configure_pyqtgraph

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("bench.ini"), QSettings.IniFormat))
    window.show()
    window.controller.set_data(data)
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.set_settings(settings)
    try:
        yield app, window
    finally:
        window.shutdown()
        window.close()


def run_once_tensorflow_is_loaded(app, callback):
    """Load TensorFlow the way the app does (so its threads are set up exactly as there), call
    ``callback`` then, and run the event loop until the application quits."""
    from bngui.gui import tasks
    from bngui.gui.jobs import Job

    loader = Job(tasks.load_tensorflow, name="bngui-tensorflow")
    loader.succeeded.connect(lambda _: callback())
    loader.start()
    app.exec()
    loader.wait()
