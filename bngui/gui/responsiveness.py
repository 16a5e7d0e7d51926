"""``bngui bench --gui``: does the window stay responsive while it trains?

A 10 ms heartbeat timer on the GUI thread records how late each tick fires
(an event-loop stall) during a real training run started from the window, and
the run's training speed is compared with the headless trainer's on the same
variants and settings.
"""

import os
import time

import numpy as np

HEARTBEAT_MS = 10


def _headless_rate(variant_ids, data, settings):
    from bngui.core import events
    from bngui.core.trainer import LockstepTrainer

    last = []
    LockstepTrainer(variant_ids, data, settings).run(
        lambda event: last.append(event) if isinstance(event, events.Progress) else None
    )
    return last[-1].images_per_second


def _gui_run(variant_ids, data, settings):
    """Train from a real MainWindow; returns (stalls in ms, images/s, heartbeat count)."""
    from PySide6.QtCore import QSettings, QTemporaryDir, QTimer
    from PySide6.QtWidgets import QApplication

    import pyqtgraph as pg

    from bngui.gui.main_window import MainWindow

    pg.setConfigOptions(antialias=True, background="w", foreground="#202020")
    app = QApplication.instance() or QApplication([])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("bench.ini"), QSettings.IniFormat))
    window.show()
    window.tensorflow_ready = True
    window.set_data(data)
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.set_settings(settings)

    stalls = []
    last_tick = [None]

    def tick():
        now = time.perf_counter()
        if last_tick[0] is not None:
            stalls.append(max(0.0, (now - last_tick[0]) * 1000 - HEARTBEAT_MS))
        last_tick[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(tick)
    window.worker.finished.connect(app.quit)
    heartbeat.start()
    QTimer.singleShot(0, window.start_training)
    app.exec()
    heartbeat.stop()
    rate = window.history.progress.images_per_second if window.history.progress else 0.0
    window.shutdown()
    window.close()
    return np.asarray(stalls), rate


def run_gui_bench(variant_ids, settings, data_path=None):
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bngui.commands.train import load_data_or_explain

    data = load_data_or_explain(data_path)
    if data is None:
        return 1
    print(f"GUI responsiveness: {', '.join(variant_ids)}; {settings.batches} batches of"
          f" {settings.batch_size}; heartbeat every {HEARTBEAT_MS} ms")
    headless = _headless_rate(variant_ids, data, settings)
    print(f"headless trainer: {headless:.0f} images/s")
    stalls, in_gui = _gui_run(variant_ids, data, settings)
    print(f"trainer inside the GUI: {in_gui:.0f} images/s ({in_gui / headless:.1%} of headless)")
    print(f"event-loop stalls over {len(stalls)} heartbeats: median {np.median(stalls):.1f} ms,"
          f" p99 {np.percentile(stalls, 99):.1f} ms, max {stalls.max():.1f} ms")
    passed = np.percentile(stalls, 99) < 50 and stalls.max() < 200 and in_gui >= 0.9 * headless
    print("verdict: " + ("responsive (p99 < 50 ms, max < 200 ms, speed >= 90%)" if passed
                         else "NOT within the targets (p99 < 50 ms, max < 200 ms, speed >= 90%)"))
    return 0
