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

    from bngui.gui.loading import TensorFlowLoader
    from bngui.gui.main_window import MainWindow

    pg.setConfigOptions(antialias=True, background="w", foreground="#202020")
    app = QApplication.instance() or QApplication([])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("bench.ini"), QSettings.IniFormat))
    window.show()
    window.set_data(data)
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.set_settings(settings)

    stalls = []  # (time, stall in ms, phase)
    last_tick = [None]
    trained = [False]

    def tick():
        now = time.perf_counter()
        if last_tick[0] is not None:
            if window.history.status == "Training":
                trained[0] = True
                phase = "training"
            else:
                # Before the first trained batch the worker builds the models and traces the step.
                phase = "other" if trained[0] else "compiling"
            stalls.append((now, max(0.0, (now - last_tick[0]) * 1000 - HEARTBEAT_MS), phase))
        last_tick[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(HEARTBEAT_MS)
    heartbeat.timeout.connect(tick)
    window.worker.finished.connect(app.quit)

    def start_when_loaded():
        window._on_tensorflow_loaded()
        window.start_training()
        heartbeat.start()

    # TensorFlow is loaded the way the app loads it, so its threads are set up
    # exactly as in the app.
    loader = TensorFlowLoader()
    loader.loaded.connect(start_when_loaded)
    loader.start()
    app.exec()
    loader.wait()
    heartbeat.stop()
    rate = window.history.progress.images_per_second if window.history.progress else 0.0
    window.shutdown()
    window.close()
    return stalls, rate


def run_gui_bench(variant_ids, settings, data_path=None):
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bngui.commands.train import load_data_or_explain

    data = load_data_or_explain(data_path)
    if data is None:
        return 1
    print(f"GUI responsiveness: {', '.join(variant_ids)}; {settings.batches} batches of"
          f" {settings.batch_size}; heartbeat every {HEARTBEAT_MS} ms")
    stalls, in_gui = _gui_run(variant_ids, data, settings)
    headless = _headless_rate(variant_ids, data, settings)
    print(f"headless trainer: {headless:.0f} images/s")
    print(f"trainer inside the GUI: {in_gui:.0f} images/s ({in_gui / headless:.1%} of headless)")
    every = np.array([stall for _, stall, _ in stalls])

    def of_phase(wanted):
        return np.array([stall for _, stall, phase in stalls if phase == wanted])

    for name, values in (("whole run", every),
                         ("before the first batch (building, tracing)", of_phase("compiling")),
                         ("while training batches", of_phase("training"))):
        if len(values):
            print(f"event-loop stalls, {name}, {len(values)} heartbeats: median"
                  f" {np.median(values):.1f} ms, p99 {np.percentile(values, 99):.1f} ms,"
                  f" max {values.max():.1f} ms")
    worst = sorted(stalls, key=lambda item: -item[1])[:5]
    start = stalls[0][0] if stalls else 0.0
    print("worst stalls (s into the run, ms, phase): "
          + ", ".join(f"{when - start:.1f} s {stall:.0f} ms {phase}" for when, stall, phase in worst))
    passed = np.percentile(every, 99) < 50 and every.max() < 200 and in_gui >= 0.9 * headless
    print("verdict: " + ("responsive (p99 < 50 ms, max < 200 ms, speed >= 90%)" if passed
                         else "NOT within the targets (p99 < 50 ms, max < 200 ms, speed >= 90%)"))
    return 0
