"""``bngui bench --stop``: how long Stop and closing the window take, in the real window.

A real window trains the chosen variants (default: all ten) on MNIST. Stop is pressed
at several moments of a run: during a training batch, during the validation pass at
batch 100, during the final scoring, during precise BN; each time the seconds from
the press to the end of the run are printed, with what the run bar said in between.
Last, the window is closed in the middle of a run, and the seconds its closing took
are printed. Each moment is a fresh run in the same window (compiled once).
"""

import time

# Where in a run Stop is pressed: (name, the phase or batch to wait for).
MOMENTS = (
    ("a training batch", ("batch", 30)),
    ("the validation pass at batch 100", ("batch", 100)),
    ("the final scoring", ("phase", "scoring")),
    ("precise BN", ("phase", "precise")),
)
RUN_BATCHES = 150


def _wait(app, condition, timeout_s):
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)
    return condition()


def run_stop_bench(variant_ids, data_path=None, out=print):
    from PySide6.QtCore import QSettings, Qt, QTemporaryDir
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from bngui.core.events import Phase
    from bngui.core.settings import TrainSettings
    from bngui.gui.main_window import MainWindow
    from bngui.gui.plot_style import configure_pyqtgraph

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("bench.ini"), QSettings.Format.IniFormat),
                        data_path=data_path)
    window.resize(1280, 720)
    window.show()
    window.start_loading()
    if not _wait(app, lambda: window.ready, 300):
        out("TensorFlow or MNIST did not load")
        return 1
    window.setup_panel.select_variants(list(variant_ids))
    window.setup_panel.set_settings(TrainSettings(batches=RUN_BATCHES))
    out(f"Stop and close in the real window ({app.platformName()}): {len(variant_ids)} variant(s),"
        f" runs of {RUN_BATCHES} batches, precise BN over {TrainSettings().precise_batches} batches")
    history = window.history
    for name, (kind, value) in MOMENTS:
        _wait(app, lambda: window.run_bar.start_button.isEnabled(), 60)
        QTest.mouseClick(window.run_bar.start_button, Qt.MouseButton.LeftButton)
        if not _wait(app, lambda: window.controller.running, 10):
            out(f"  {name}: the run did not start ({window.run_status.text()!r})")
            continue
        if kind == "batch":
            reached = _wait(app, lambda v=value: window.history.batches_done >= v, 600)
        else:
            phase = Phase.SCORING if value == "scoring" else Phase.PRECISE
            reached = _wait(app, lambda p=phase: window.history.phase == p, 600)
        if not reached or not window.controller.running:
            out(f"  {name}: not reached (the run ended first: {window.run_status.text()!r})")
            _wait(app, lambda: not window.controller.running, 600)
            continue
        pressed = time.monotonic()
        QTest.mouseClick(window.run_bar.stop_button, Qt.MouseButton.LeftButton)
        said = window.run_status.text()
        stop_enabled = window.run_bar.stop_button.isEnabled()
        _wait(app, lambda: window.history.finished is not None, 600)
        halted = time.monotonic() - pressed
        _wait(app, lambda: not window.controller.running, 600)
        seconds = time.monotonic() - pressed
        _wait(app, lambda: False, 0.2)  # the run's end reaches the window through its signals
        history = window.history
        out(f"  Stop during {name:34s} training halted (RunFinished) after {halted:5.2f} s, the run's"
            f" thread ended (the trained models kept) after {seconds:5.2f} s; the bar said"
            f" {said!r} at once, Stop {'enabled' if stop_enabled else 'disabled'}; then"
            f" {window.run_status.text()!r}")
    # Closing in the middle of a run.
    _wait(app, lambda: window.run_bar.start_button.isEnabled(), 60)
    QTest.mouseClick(window.run_bar.start_button, Qt.MouseButton.LeftButton)
    _wait(app, lambda: window.history.batches_done >= 20, 600)
    started = time.monotonic()
    window.close()
    out(f"  Close during a training batch: the window's closing took {time.monotonic() - started:.2f} s"
        f" (the application then leaves without waiting for threads still busy)")
    del history
    return 0
