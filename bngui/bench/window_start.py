"""``bngui bench --start``: in the window, how long from Start to the first trained batch?

Measured in a real MainWindow, each case in a fresh process as at launch:

- cold: Start pressed the moment TensorFlow is loaded, before the window has
  compiled anything in the background;
- prepared: Start pressed once the window's background compile of the
  chosen variants has finished (what a lecturer gets who chose the variants
  a little before pressing Start);
- reused: Start pressed again after a first run of the same variants.

Each run is stopped right after its first batch.
"""

import json
import os
import subprocess
import sys
import time

CASES = ("cold", "prepared", "reused")


def _in_a_fresh_process(case, variant_ids, settings, data_path):
    request = json.dumps({"case": case, "variants": list(variant_ids),
                          "settings": settings.as_dict(), "data": data_path})
    finished = subprocess.run([sys.executable, "-m", "bngui.bench.window_start", request],
                              stdout=subprocess.PIPE, text=True)
    if finished.returncode != 0:
        raise RuntimeError(f"the {case} measurement failed (exit code {finished.returncode};"
                           " its error is printed above)")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _measure(request):
    """Entry point of that process: print the seconds as JSON on the last line."""
    from PySide6.QtCore import QSettings, QTemporaryDir, QTimer
    from PySide6.QtWidgets import QApplication

    from bngui.core.data import load_mnist
    from bngui.core.events import Phase
    from bngui.core.settings import TrainSettings
    from bngui.gui import tasks
    from bngui.gui.jobs import Job
    from bngui.gui.main_window import MainWindow
    from bngui.gui.plot_style import configure_pyqtgraph

    request = json.loads(request)
    data = load_mnist(request["data"], allow_download=False)
    settings = TrainSettings(**request["settings"])
    variant_ids, case = request["variants"], request["case"]

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("bench.ini"), QSettings.IniFormat))
    window.show()
    controller = window.controller
    controller.set_data(data)
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.set_settings(settings)
    starts = 2 if case == "reused" else 1
    measured = []
    pressed = [None]
    poll = QTimer()
    poll.setInterval(5)

    def press_start():
        pressed[0] = time.perf_counter()
        window.start_training()
        poll.start()

    def check():
        if pressed[0] is not None and controller.history.phase == Phase.TRAINING:
            measured.append(time.perf_counter() - pressed[0])
            pressed[0] = None
            poll.stop()
            controller.stop()

    def run_ended():
        if len(measured) < starts:
            # Two seconds later, as a person would (and after the post-run garbage collection).
            QTimer.singleShot(2000, press_start)
        else:
            app.quit()

    def when_prepared():
        from bngui.core.trainer import shared_compiled_variants

        if shared_compiled_variants().is_traced(variant_ids, window.setup_panel.settings()):
            press_start()
        else:
            QTimer.singleShot(50, when_prepared)

    def loaded():
        # As in the app: the window then compiles the chosen variants in the background.
        controller.set_tensorflow_ready()
        if case == "prepared":
            when_prepared()
        else:
            press_start()

    poll.timeout.connect(check)
    controller.run_finished.connect(run_ended)
    loader = Job(tasks.load_tensorflow, name="bngui-tensorflow")
    loader.succeeded.connect(lambda _: loaded())
    loader.start()
    app.exec()
    loader.wait()
    window.shutdown()
    window.close()
    print(json.dumps({"seconds": measured[-1]}))


def run_start_bench(variant_ids, settings, data_path=None):
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bngui.commands.train import load_data_or_explain

    if load_data_or_explain(data_path) is None:
        return 1
    print(f"window, Start → first trained batch: {', '.join(variant_ids)}; batches of"
          f" {settings.batch_size}; each case in a fresh process")
    try:
        for case in CASES:
            seconds = _in_a_fresh_process(case, variant_ids, settings, data_path)["seconds"]
            print(f"  {case:8s} {seconds:6.2f} s", flush=True)
    except RuntimeError as error:
        print(f"bngui bench --start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    _measure(sys.argv[1])
