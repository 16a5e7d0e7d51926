"""``bngui bench --soak``: many runs in one window, and many launches closed mid-run.

Part 1 makes back-to-back runs (default: ten of 100 batches, the default
preset) in one real window, offscreen unless a display is chosen, and prints
the process's resident memory after each: what a run leaves behind shows as
growth from run to run.

Part 2 launches the application again and again (default: twenty times),
starts a run in each and closes it in the middle of the run, alternately by
closing the window and by SIGTERM (what logging out sends), and prints each
exit code and any thread warning Qt printed.
"""

import os
import subprocess
import sys
import textwrap
import time

import numpy as np

DEFAULT_VARIANTS = ["baseline", "keras-conv-bn-relu"]
GROWTH_TARGET = 0.05  # resident memory from the second run to the last
LAUNCH_TIMEOUT_S = 300
THREAD_WARNINGS = ("QThread", "Destroyed while thread", "Segmentation fault", "Fatal Python error",
                   "Traceback")


def resident_megabytes():
    """This process's resident memory now (Linux), or its peak elsewhere, in MB."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def runs_in_one_window(variant_ids, settings, data_path, runs):
    """Train ``runs`` times in one window; returns the resident memory (MB) after each."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTemporaryDir, QTimer
    from PySide6.QtWidgets import QApplication

    from bngui.core.data import load_mnist
    from bngui.gui import tasks
    from bngui.gui.main_window import MainWindow
    from bngui.gui.plot_style import configure_pyqtgraph

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = QTemporaryDir()
    window = MainWindow(settings=QSettings(folder.filePath("soak.ini"), QSettings.IniFormat))
    window.show()
    tasks.load_tensorflow(None)
    controller = window.controller
    controller.set_data(load_mnist(data_path, allow_download=False))
    controller.set_tensorflow_ready()
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.set_settings(settings)

    memory = []
    for number in range(1, runs + 1):
        ended = QEventLoop()
        controller.run_finished.connect(ended.quit)
        started = time.perf_counter()
        window.start_training()
        watchdog = QTimer()
        watchdog.setSingleShot(True)
        watchdog.timeout.connect(ended.quit)
        watchdog.start(LAUNCH_TIMEOUT_S * 1000)
        ended.exec()
        controller.run_finished.disconnect(ended.quit)
        if controller.running:
            raise RuntimeError(f"run {number} did not finish in {LAUNCH_TIMEOUT_S} s")
        app.processEvents()
        memory.append(resident_megabytes())
        print(f"run {number:>2}: {time.perf_counter() - started:5.1f} s,"
              f" resident memory {memory[-1]:7.0f} MB", flush=True)
    window.shutdown()
    window.close()
    return memory


# A launch of the real application (run_app) that starts a run and, once it
# trains, ends it the way asked: "close" (the window) or "sigterm".
LAUNCH_SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from bngui.gui.app import run_app

    how, variants, batches = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
    app = QApplication(sys.argv[:1])
    state = {"started": False}

    def drive():
        windows = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"]
        if not windows:
            return
        window = windows[0]
        if not state["started"]:
            if window.ready:
                window.setup_panel.select_variants(variants)
                window.setup_panel.batches.setValue(batches)
                window.start_training()
                state["started"] = window.controller.running
            return
        progress = window.controller.history.progress
        if progress is not None and progress.batches_done >= 3:
            driver.stop()
            if how == "sigterm":
                os.kill(os.getpid(), signal.SIGTERM)
            else:
                window.close()

    driver = QTimer()
    driver.timeout.connect(drive)
    driver.start(50)
    sys.exit(run_app())
    """
)


def launches_closed_mid_run(variant_ids, data_path, launches, batches):
    """Launch and close ``launches`` times; returns [(how, exit code, seconds, warnings)]."""
    import tempfile

    results = []
    for number in range(1, launches + 1):
        how = "close" if number % 2 else "sigterm"
        with tempfile.TemporaryDirectory() as home:
            environment = {
                **os.environ,
                "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
                "BNGUI_MNIST": str(data_path),
                "HOME": home, "XDG_CONFIG_HOME": os.path.join(home, "config"),
            }
            started = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, "-c", LAUNCH_SCRIPT, how, ",".join(variant_ids), str(batches)],
                env=environment, capture_output=True, text=True, timeout=LAUNCH_TIMEOUT_S,
            )
            seconds = time.perf_counter() - started
        warnings = [line for line in completed.stderr.splitlines()
                    if any(bad in line for bad in THREAD_WARNINGS)]
        results.append((how, completed.returncode, seconds, warnings))
        print(f"launch {number:>2} ({how:<7}): exit code {completed.returncode}, {seconds:5.1f} s"
              + (f", {len(warnings)} warning(s): {warnings[0]}" if warnings else ", no warnings"),
              flush=True)
    return results


def run_soak_bench(variant_ids, settings, data_path=None, runs=10, launches=20):
    from bngui.core.data import DataError, find_mnist

    try:
        data_path = find_mnist(data_path)
    except DataError as error:
        print(f"bngui bench --soak: {error}", file=sys.stderr)
        return 1
    if data_path is None:
        print("bngui bench --soak: MNIST not found (set BNGUI_MNIST or use --data)",
              file=sys.stderr)
        return 1
    print(f"soak: {', '.join(variant_ids)}; {runs} runs of {settings.batches} batches in one"
          f" window, then {launches} launches closed mid-run", flush=True)
    if runs:
        memory = runs_in_one_window(variant_ids, settings, data_path, runs)
        if len(memory) >= 2:
            growth = memory[-1] / memory[1] - 1
            print(f"resident memory: {memory[0]:.0f} MB after run 1, {memory[1]:.0f} MB after"
                  f" run 2, {memory[-1]:.0f} MB after run {len(memory)}: {growth:+.1%} from run 2"
                  f" (target under {GROWTH_TARGET:.0%}); largest step"
                  f" {np.max(np.diff(memory[1:])) if len(memory) > 2 else 0:+.0f} MB")
    if launches:
        results = launches_closed_mid_run(variant_ids, data_path, launches, settings.batches * 50)
        clean = sum(1 for _, code, _, warnings in results if code == 0 and not warnings)
        print(f"closed mid-run: {clean}/{len(results)} exited with code 0 and no thread message"
              f" ({sum(1 for how, *_ in results if how == 'close')} by closing the window,"
              f" {sum(1 for how, *_ in results if how == 'sigterm')} by SIGTERM)")
    return 0

