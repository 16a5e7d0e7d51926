"""Real-window scenarios: run as ``python scenarios.py NAME`` on a real display (xcb).

Each scenario drives a real MainWindow the way a person does (keys and clicks
through QTest, on the real platform, so every change is painted), under the
monkey's watchdog (exceptions, Qt warnings, a frozen event loop, stray plots),
and prints one JSON line: its measurements and the problems found. The tests
in this folder start it in a fresh process and check that line.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from bngui.bench.monkey import Problems, Watchdog, dismiss_dialogs, make_window, stray_items
from bngui.core import lesson
from bngui.core.settings import TrainSettings
from bngui.core.variants import NOTEBOOK_VARIANT_IDS

TWO = ["baseline", "keras-conv-bn-relu"]


def wait(ms):
    """Let the event loop run (and paint) for ``ms`` milliseconds."""
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)


def wait_until(condition, timeout_s):
    """Let the event loop run until ``condition()`` holds or ``timeout_s`` has passed."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        wait(50)


def key(window, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key press where a person's would go: to the widget with the focus."""
    QTest.keyClick(QApplication.focusWidget() or window, key, modifier)


def check(window, problems, when):
    for stray in stray_items(window):
        problems.add("stale item", f"{when}: {stray}")
    dismissed = dismiss_dialogs()
    if dismissed:
        problems.add("unexpected message", f"{when}: {dismissed}")


def screenshot(window, name):
    """With BNGUI_SHOTS set (a folder), a screenshot of the window, to look at."""
    folder = os.environ.get("BNGUI_SHOTS")
    if folder:
        geometry = window.frameGeometry()
        subprocess.run(["import", "-window", "root", "-crop",
                        f"{geometry.width()}x{geometry.height()}+{geometry.x()}+{geometry.y()}",
                        os.path.join(folder, f"{name}.png")], check=False)


def settled_smallest_plot(window, timeout_s=15):
    """The smallest plot once the window has settled: built, and the same size twice in a row."""
    deadline = time.monotonic() + timeout_s
    previous = None
    while time.monotonic() < deadline:
        wait(250)
        current = smallest_plot(window)
        if current == previous and not window.curves._stale:
            break
        previous = current
    return previous


def smallest_plot(window):
    """(width, height) of the smallest data area of the curves on screen (a plot's view box)."""
    boxes = [plot.getViewBox().size() for plot in window.curves.plots]
    if not boxes:
        return (0, 0)
    smallest = min(boxes, key=lambda size: size.width() * size.height())
    return (round(smallest.width()), round(smallest.height()))


def layout_switches(window, problems):
    """Twenty layout switches idle, then twenty while a run trains."""
    window.setup_panel.select_variants(TWO)
    for number in range(20):
        key(window, Qt.Key.Key_2 if number % 2 == 0 else Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        wait(120)
        check(window, problems, f"idle switch {number + 1}")
    window.setup_panel.select_variants(list(NOTEBOOK_VARIANT_IDS))
    # A run that outlasts the switches (the fake trainer takes 10 ms a batch).
    window.setup_panel.set_settings(TrainSettings(batches=20_000))
    QTest.mouseClick(window.run_bar.start_button, Qt.MouseButton.LeftButton)
    wait(300)
    training = window.controller.running
    for number in range(20):
        key(window, Qt.Key.Key_2 if number % 2 == 0 else Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
        wait(120)
        check(window, problems, f"switch {number + 1} while training")
    still_training = window.controller.running
    QTest.mouseClick(window.run_bar.stop_button, Qt.MouseButton.LeftButton)
    wait(500)
    return {"trained_while_switching": training and still_training, "mode": window.curves.mode}


def presentation(window, problems):
    """Presentation mode on and off at projector sizes: the smallest plot, normal and presentation."""
    sizes = {}
    for width, height in ((1024, 768), (1280, 720), (1920, 1080)):
        window.resize(width, height)
        for variants, mode in ((TWO, Qt.Key.Key_1), (list(NOTEBOOK_VARIANT_IDS), Qt.Key.Key_2)):
            window.setup_panel.select_variants(variants)
            key(window, mode, Qt.KeyboardModifier.ControlModifier)
            normal = settled_smallest_plot(window)
            name = f"{width}x{height}-{'overlay' if mode == Qt.Key.Key_1 else 'side'}"
            screenshot(window, f"{name}-normal")
            key(window, Qt.Key.Key_F5)
            shown = settled_smallest_plot(window)
            screenshot(window, f"{name}-presentation")
            key(window, Qt.Key.Key_F5)
            wait(400)
            check(window, problems, f"presentation at {width}×{height}")
            sizes[name] = {"normal": normal, "presentation": shown,
                           "window": [window.width(), window.height()]}
    return {"sizes": sizes}


def lesson_steps(window, problems):
    """Every lesson step with the Next button, then backwards with Page Up, each set up."""
    window.show_lesson(0)
    wait(300)
    panel = window.lesson_panel
    seen = [panel.index]
    for _ in range(len(lesson.STEPS) - 1):
        QTest.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
        QTest.mouseClick(panel.set_up_button, Qt.MouseButton.LeftButton)
        wait(400)
        check(window, problems, f"lesson step {panel.index + 1}")
        seen.append(panel.index)
    for _ in range(len(lesson.STEPS) - 1):
        key(window, Qt.Key.Key_PageUp)
        wait(400)
        check(window, problems, f"lesson step {panel.index + 1}, backwards")
        seen.append(panel.index)
    return {"steps": seen}


def session_while_training(window, problems):
    """A run is saved; a second run trains; opening the session is refused, then works after Stop."""
    folder = tempfile.mkdtemp(prefix="bngui-session-")
    window.setup_panel.select_variants(TWO)
    QTest.mouseClick(window.run_bar.start_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: not window.controller.running, 60)
    job = window.save_session(f"{folder}/run")
    wait_until(lambda: not job.isRunning(), 60)
    wait(300)
    QTest.mouseClick(window.run_bar.start_button, Qt.MouseButton.LeftButton)
    wait(300)
    refused = None
    if window.controller.running:
        window.open_session_action.trigger()  # disabled while training: nothing happens
        refused = not window.open_session_action.isEnabled()
    QTest.mouseClick(window.run_bar.stop_button, Qt.MouseButton.LeftButton)
    wait_until(lambda: not window.controller.running, 10)
    opened = window.open_session(f"{folder}/run")
    wait_until(lambda: not opened.isRunning(), 60)
    wait(500)
    check(window, problems, "session opened")
    return {"refused_while_training": refused, "opened_variants": list(window.history.variant_ids)}


def strokes(window, problems):
    """Strokes on the draw page until every model has answered."""
    window.tabs.setCurrentWidget(window.draw_page)
    shown = []
    window.draw_page.predictions_shown.connect(shown.append)
    canvas = window.draw_page.canvas
    for number in range(6):
        wait(300)
        width, height = canvas.width(), canvas.height()
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=QPoint(width // 2, height // 5))
        for step in range(1, 8):
            QTest.mouseMove(canvas, QPoint(width // 2 + (number - 3) * 3, height // 5 + step * height // 10))
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton,
                           pos=QPoint(width // 2, height // 5 + 7 * height // 10))
        check(window, problems, f"stroke {number + 1}")
    wait_until(lambda: shown, 90)
    return {"predictions_shown": len(shown)}


def first_window(window, problems):
    """The window as it first opens (fresh settings), and once more with a saved size larger
    than the screen: its frame and the screen's available geometry."""
    from bngui.gui.main_window import MainWindow

    def frame(shown):
        geometry = shown.frameGeometry()
        return [geometry.x(), geometry.y(), geometry.width(), geometry.height()]

    available = window.screen().availableGeometry()
    first = frame(window)
    window.resize(3000, 2000)  # a size saved on a larger desk
    window.close()
    again = MainWindow(window.store)
    again.show()
    wait(500)
    restored = frame(again)
    again.close()
    return {"screen": [available.x(), available.y(), available.width(), available.height()],
            "first": first, "restored": restored}


SCENARIOS = {function.__name__: function for function in
             (layout_switches, presentation, lesson_steps, session_while_training, strokes, first_window)}


def main(name):
    from bngui.gui.plot_style import configure_pyqtgraph

    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    problems = Problems()
    watchdog = Watchdog(problems)
    settings = tempfile.TemporaryDirectory()
    window = make_window("fake", settings.name)
    if name == "first_window":
        wait(500)  # as it opens
    else:
        window.resize(1280, 720)
    # No window manager under Xvfb: the window is activated as a click on it would.
    window.activateWindow()
    QTest.qWaitForWindowActive(window)
    # Each scenario drives one interaction once the window has started: importing
    # TensorFlow and loading the drawing's models in the background hold Python's lock
    # for up to a second at a time (the monkey, from the first second on, covers that).
    wait_until(lambda: window.draw_page.models, 120)
    wait(500)
    result = SCENARIOS[name](window, problems)
    started = time.monotonic()
    window.close()
    result["close_seconds"] = time.monotonic() - started
    result["platform"] = app.platformName()
    watchdog.stop()
    result["problems"] = problems.found
    print(json.dumps(result), flush=True)
    # As the application does (app.run_app): a thread still busy with what it cannot
    # interrupt (loading a model) is left behind, before Python's teardown meets it.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1])
