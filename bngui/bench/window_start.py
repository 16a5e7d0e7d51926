"""``bngui bench --start``: in the window, how long from Start to the first trained batch?

Measured in a real MainWindow, each case in a fresh process as at launch:

- cold: Start pressed the moment TensorFlow is loaded, before the window has
  compiled anything in the background; once at a first launch (the disk cache
  of traced functions empty) and once at a later one (it filled);
- prepared: Start pressed once the window's background compile of the
  chosen variants has finished (what a lecturer gets who chose the variants
  a little before pressing Start);
- reused: Start pressed again after a first run of the same variants.

Each run is stopped right after its first batch.
"""

import json
import os
import sys
import tempfile
import time
from unittest import mock

from bngui.bench.window import bench_window, in_a_fresh_process, run_once_tensorflow_is_loaded

# (what the process does, what it is called), in this order: the first fills the disk cache.
CASES = (("cold", "cold, first launch (disk cache empty)"),
         ("cold", "cold, later launch (disk cache filled)"),
         ("prepared", "prepared"), ("reused", "reused"))


def _measure(request):
    """Entry point of that process: print the seconds as JSON on the last line."""
    from PySide6.QtCore import QTimer

    from bngui.core.data import load_mnist
    from bngui.core.events import Phase
    from bngui.core.settings import TrainSettings
    from bngui.core.trainer import shared_compiled_variants

    request = json.loads(request)
    data = load_mnist(request["data"], allow_download=False)
    settings = TrainSettings(**request["settings"])
    variant_ids, case = request["variants"], request["kind"]
    with bench_window(data, variant_ids, settings) as (app, window):
        controller = window.controller
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
        run_once_tensorflow_is_loaded(app, loaded)
    print(json.dumps({"seconds": measured[-1]}))


def run_start_bench(variant_ids, settings, data_path=None):
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bngui.commands.train import load_data_or_explain
    from bngui.core import compile_cache

    if load_data_or_explain(data_path) is None:
        return 1
    print(f"window, Start → first trained batch: {', '.join(variant_ids)}; batches of"
          f" {settings.batch_size}; each case in a fresh process")
    # The disk cache of traced functions starts empty, in a folder of the bench's own
    # (the processes inherit it): the first cold case fills it, the others load from it.
    try:
        with (tempfile.TemporaryDirectory(prefix="bngui-bench-compiled-") as folder,
              mock.patch.dict(os.environ, {compile_cache.ENV_FOLDER: folder})):
            for case, label in CASES:
                seconds = in_a_fresh_process("bngui.bench.window_start", {
                    "kind": case, "variants": list(variant_ids),
                    "settings": settings.as_dict(), "data": data_path})["seconds"]
                print(f"  {label:38s} {seconds:6.2f} s", flush=True)
    except RuntimeError as error:
        print(f"bngui bench --start: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    _measure(sys.argv[1])
