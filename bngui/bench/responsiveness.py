"""``bngui bench --gui``: does the window stay responsive while it trains?

A 10 ms heartbeat timer on the GUI thread records how late each tick fires
(an event-loop stall) during a real training run started from the window, and
the run's training speed is compared with the headless trainer's on the same
variants and settings.

Every run has a fresh process, as the app has at launch. Headless and GUI runs
alternate (headless, GUI, headless, GUI, ..., headless) and each GUI run is
compared with the mean of the headless runs just before and after it: on this
kind of machine two identical runs in a row differ by 5% to 40%, so one pair
of runs cannot tell 88% from 98%.
"""

import gc
import json
import os
import sys
import time
from contextlib import contextmanager

import numpy as np

from bngui.bench.window import bench_window, in_a_fresh_process, run_once_tensorflow_is_loaded

HEARTBEAT_MS = 10


def _headless_rate(variant_ids, data, settings):
    from bngui.core import events
    from bngui.core.trainer import LockstepTrainer

    last = []
    LockstepTrainer(variant_ids, data, settings).run(
        lambda event: last.append(event) if isinstance(event, events.Progress) else None
    )
    return last[-1].images_per_second


def _in_a_fresh_process(kind, variant_ids, settings, data_path):
    """Run one measurement ("headless" or "gui") in a new Python process; its result dict."""
    return in_a_fresh_process("bngui.bench.responsiveness", {
        "kind": kind, "variants": list(variant_ids), "settings": settings.as_dict(),
        "data": data_path})


def _measure(request):
    """Entry point of that process: print the result as JSON on the last line."""
    from bngui.core.data import load_mnist
    from bngui.core.settings import TrainSettings

    request = json.loads(request)
    data = load_mnist(request["data"], allow_download=False)
    settings = TrainSettings(**request["settings"])
    if request["kind"] == "headless":
        result = {"rate": _headless_rate(request["variants"], data, settings)}
    else:
        collections = []
        with _full_collections_recorded(collections):
            stalls, rate = _gui_run(request["variants"], data, settings)
        result = {"rate": rate, "stalls": stalls, "collections": collections}
    print(json.dumps(result))


@contextmanager
def _full_collections_recorded(durations):
    """Append the length (ms) of every full garbage collection to ``durations``."""
    started = {}

    def record(phase, info):
        if info["generation"] != 2:
            return
        if phase == "start":
            started["at"] = time.perf_counter()
        elif "at" in started:
            durations.append((time.perf_counter() - started.pop("at")) * 1000)

    gc.callbacks.append(record)
    try:
        yield
    finally:
        gc.callbacks.remove(record)


def _gui_run(variant_ids, data, settings):
    """Train from a real MainWindow; returns ([(time, stall in ms, phase)], images/s)."""
    from PySide6.QtCore import QTimer

    from bngui.core.events import Phase

    with bench_window(data, variant_ids, settings) as (app, window):
        controller = window.controller
        stalls = []  # (time, stall in ms, phase)
        last_tick = [None]
        trained = [False]

        def tick():
            now = time.perf_counter()
            if last_tick[0] is not None:
                if controller.history.phase == Phase.TRAINING:
                    trained[0] = True
                    phase = "training"
                else:
                    # Before the first trained batch the worker builds the models and traces.
                    phase = "other" if trained[0] else "compiling"
                stalls.append((now, max(0.0, (now - last_tick[0]) * 1000 - HEARTBEAT_MS), phase))
            last_tick[0] = now

        heartbeat = QTimer()
        heartbeat.setInterval(HEARTBEAT_MS)
        heartbeat.timeout.connect(tick)

        def finished():
            # Quitting closes the window, which waits for its threads: not a stall of use.
            heartbeat.stop()
            app.quit()

        controller.run_finished.connect(finished)

        def start():
            controller.set_tensorflow_ready()
            window.start_training()
            heartbeat.start()

        run_once_tensorflow_is_loaded(app, start)
        heartbeat.stop()
        history = controller.history
        rate = history.progress.images_per_second if history.progress else 0.0
    return stalls, rate


def run_gui_bench(variant_ids, settings, data_path=None, rounds=5):
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from bngui.commands.train import load_data_or_explain

    if load_data_or_explain(data_path) is None:
        return 1
    print(f"GUI responsiveness: {', '.join(variant_ids)}; {settings.batches} batches of"
          f" {settings.batch_size}; heartbeat every {HEARTBEAT_MS} ms; GUI runs: {rounds},"
          " each between two headless runs")
    try:
        headless = [_in_a_fresh_process("headless", variant_ids, settings, data_path)["rate"]]
        gui_runs = []
        for _ in range(rounds):
            gui_runs.append(_in_a_fresh_process("gui", variant_ids, settings, data_path))
            headless.append(_in_a_fresh_process("headless", variant_ids, settings, data_path)["rate"])
    except RuntimeError as error:
        print(f"bngui bench --gui: {error}", file=sys.stderr)
        return 1

    shares = []
    for number, run in enumerate(gui_runs):
        around = (headless[number] + headless[number + 1]) / 2
        shares.append(run["rate"] / around)
        collections = run["collections"]
        print(f"round {number + 1}: headless {headless[number]:.0f} and {headless[number + 1]:.0f}"
              f" images/s, inside the GUI {run['rate']:.0f} ({shares[-1]:.1%});"
              f" full garbage collections {len(collections)}"
              + (f", longest {max(collections):.0f} ms" if collections else ""))
    share = float(np.median(shares))
    pooled = np.mean([run["rate"] for run in gui_runs]) / np.mean(headless)
    print(f"trainer inside the GUI: median {share:.1%} of headless over {rounds} rounds"
          f" (all GUI runs against all headless runs: {pooled:.1%})")

    stalls = [tuple(stall) for run in gui_runs for stall in run["stalls"]]
    every = np.array([stall for _, stall, _ in stalls])

    def of_phase(wanted):
        return np.array([stall for _, stall, phase in stalls if phase == wanted])

    for name, values in (("all GUI runs", every),
                         ("before the first batch (building, tracing)", of_phase("compiling")),
                         ("while training batches", of_phase("training"))):
        if len(values):
            print(f"event-loop stalls, {name}, {len(values)} heartbeats: median"
                  f" {np.median(values):.1f} ms, p99 {np.percentile(values, 99):.1f} ms,"
                  f" max {values.max():.1f} ms")
    worst = []
    for number, run in enumerate(gui_runs):
        start = run["stalls"][0][0] if run["stalls"] else 0.0
        worst += [(stall, number + 1, when - start, phase) for when, stall, phase in run["stalls"]]
    worst.sort(reverse=True)
    print("worst stalls (round, s into the run, ms, phase): "
          + ", ".join(f"{number} {when:.1f} s {stall:.0f} ms {phase}"
                      for stall, number, when, phase in worst[:5]))
    passed = np.percentile(every, 99) < 50 and every.max() < 200 and share >= 0.9
    print("verdict: " + ("responsive (p99 < 50 ms, max < 200 ms, speed >= 90%)" if passed
                         else "NOT within the targets (p99 < 50 ms, max < 200 ms, speed >= 90%)"))
    return 0


if __name__ == "__main__":
    _measure(sys.argv[1])
