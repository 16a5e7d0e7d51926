"""``bngui bench --monkey``: a seeded monkey that uses the real window as a person would.

It opens the window on a real display (Xvfb will do) and, for a given time, does
random but valid things a lecturer or a student does: shortcuts, clicks on the
buttons and menu entries that are enabled, tab and layout switches, presentation
mode, presets and variants, lesson steps, strokes on the canvas, Start, Pause and
Stop, sessions saved and opened, exports, window sizes from 1024×768 to 1920×1080.

It fails on a crash (the process dies: the caller sees the exit code), a Python
exception anywhere, a Qt warning, an event loop that processed nothing for
FROZEN_S seconds, or a plot left behind by a rebuild. It prints the seed and every
action; the action sequence depends only on the seed, so a failing seed replays
the same actions in the same order (an action that is not possible at that
moment, such as Pause with no run, is logged as skipped).

The same machinery runs the real-window test scenarios (``run_scenario``), which
print one JSON line of measurements for the tests to check.
"""

import faulthandler
import logging
import os
import random
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QCheckBox, QMessageBox

from bngui.bench.fake_trainer import fake_trainer, tiny_data
from bngui.gui.main_window import MainWindow
from bngui.gui.plot_grid import PlotGrid
from bngui.gui.plot_style import configure_pyqtgraph
from bngui.gui.run_controller import lockstep_trainer

FROZEN_S = 2.0  # no event processed for this long (not counting a busy machine's): frozen
BEAT_MS = 50
ACTION_GAP_MS = (60, 400)  # the pause between two actions, drawn from the seed
SIZES = ((1024, 768), (1280, 720), (1366, 768), (1440, 900), (1920, 1080))
# Qt messages that say nothing about bngui: the X server of a test has no window
# manager and no session bus.
IGNORED_QT_MESSAGES = ("QDBus", "org.freedesktop", "propagateSizeHints", "QXcbConnection: XCB error: 3",
                       "qt.qpa.xcb: could not connect to display")

log = logging.getLogger(__name__)


class Problems:
    """What went wrong while the window was driven: exceptions, Qt warnings, freezes, stray items."""

    def __init__(self):
        self.found = []
        self._lock = threading.Lock()

    def add(self, kind, text):
        with self._lock:
            self.found.append(f"{kind}: {text}")
        print(f"PROBLEM {kind}: {text}", file=sys.stderr, flush=True)


def _waiting_for_a_cpu_s(thread_id):
    """Seconds the thread has spent runnable but waiting for a CPU (Linux's schedstat), or 0.

    On a machine busy with other work the GUI thread may wait for a CPU; that is the
    machine's doing, not a freeze of bngui's event loop."""
    try:
        with open(f"/proc/self/task/{thread_id}/schedstat") as stat:
            return int(stat.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class Watchdog:
    """Catches exceptions and Qt warnings, and notices a frozen event loop.

    A gap between two beats of the event loop counts as frozen when it is longer than
    FROZEN_S without the time the GUI thread waited for a CPU that other processes held
    (Linux; elsewhere the whole gap counts): bngui running Python or holding a lock
    freezes the window, a busy machine only slows it.
    """

    def __init__(self, problems):
        self.problems = problems
        self._gui_thread = threading.main_thread().native_id
        self.last_beat = time.monotonic()
        self._waited_at_beat = _waiting_for_a_cpu_s(self._gui_thread)
        self.longest_gap = 0.0
        self.longest_own_gap = 0.0  # the same without waiting for a CPU
        self._reported = None  # the beat after which a freeze was reported
        self._running = True
        self._beat = QTimer()
        self._beat.setInterval(BEAT_MS)
        self._beat.timeout.connect(self._on_beat)
        self._beat.start()
        self._previous_hook = sys.excepthook
        sys.excepthook = self._on_exception
        threading.excepthook = lambda args: self._on_exception(args.exc_type, args.exc_value,
                                                               args.exc_traceback)
        qInstallMessageHandler(self._on_qt_message)
        self._thread = threading.Thread(target=self._watch, name="bngui-monkey-watchdog", daemon=True)
        self._thread.start()

    def _gap(self):
        """(seconds since the last beat, of which waiting for a CPU)."""
        return (time.monotonic() - self.last_beat,
                _waiting_for_a_cpu_s(self._gui_thread) - self._waited_at_beat)

    def _on_beat(self):
        gap, waited = self._gap()
        self.longest_gap = max(self.longest_gap, gap)
        self.longest_own_gap = max(self.longest_own_gap, gap - waited)
        if gap - waited > FROZEN_S and self._reported != self.last_beat:
            self.problems.add("frozen", f"no event processed for {gap:.1f} s ({waited:.1f} s of it"
                                        " waiting for a CPU)")
        self.last_beat = time.monotonic()
        self._waited_at_beat = _waiting_for_a_cpu_s(self._gui_thread)

    def _on_exception(self, kind, value, trace):
        self.problems.add("exception", "".join(traceback.format_exception(kind, value, trace)).strip())

    def _on_qt_message(self, message_type, context, message):
        if message_type in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            return
        if any(part in message for part in IGNORED_QT_MESSAGES):
            return
        self.problems.add("Qt warning", message)

    def _watch(self):
        while self._running:
            time.sleep(0.25)
            beat = self.last_beat
            gap, waited = self._gap()
            if gap - waited > FROZEN_S and self._reported != beat:
                self._reported = beat  # the beat that ends the gap says no more
                main = sys._current_frames().get(threading.main_thread().ident)
                where = "".join(traceback.format_stack(main)[-6:]) if main else "?"
                self.problems.add("frozen", f"no event processed for {gap:.1f} s ({waited:.1f} s of it"
                                            f" waiting for a CPU); the GUI thread is at:\n{where}")

    def stop(self):
        self._running = False
        self._beat.stop()
        qInstallMessageHandler(None)
        sys.excepthook = self._previous_hook


def stray_items(window):
    """Plots a rebuild left behind in any of the window's plot grids, described."""
    return [f"{len(grid.stray_plots())} stray plot(s) in {grid.parent().__class__.__name__}"
            for grid in window.findChildren(PlotGrid) if grid.stray_plots()]


def make_window(trainer, settings_folder):
    """A real MainWindow on fresh preferences: with the fake trainer (and blank data, no
    TensorFlow for training) or, for "real", loading TensorFlow and MNIST as at launch."""
    settings = QSettings(str(Path(settings_folder) / "bngui.ini"), QSettings.Format.IniFormat)
    if trainer == "fake":
        window = MainWindow(settings, make_trainer=fake_trainer(seconds_per_batch=0.01))
        window.show()
        window.controller.set_data(tiny_data())
        window.controller.set_tensorflow_ready()
    else:
        window = MainWindow(settings, data_path=os.environ.get("BNGUI_MNIST") or None,
                            make_trainer=lockstep_trainer)
        window.show()
        window.start_loading()
    return window


class Monkey:
    """Random valid actions on a window, chosen by a seeded generator."""

    def __init__(self, window, seed, folder, problems):
        self.window = window
        self.random = random.Random(seed)
        self.folder = Path(folder)
        self.problems = problems
        self.actions = [
            ("layout", 6, self.switch_layout),
            ("presentation", 2, self.toggle_presentation),
            ("tab", 4, self.switch_tab),
            ("start", 3, self.start),
            ("pause", 1, self.pause),
            ("stop", 2, self.stop),
            ("preset", 2, self.choose_preset),
            ("variant", 2, self.toggle_variant),
            ("lesson", 3, self.lesson_step),
            ("stroke", 3, self.stroke),
            ("resize", 2, self.resize),
            ("smoothing", 1, self.smoothing),
            ("training mode", 1, self.training_mode),
            ("panel", 1, self.toggle_panel),
            ("results", 1, self.toggle_results),
            ("highlight", 1, self.highlight),
            ("export", 1, self.export),
            ("session", 1, self.session),
            ("menu", 3, self.menu_entry),
        ]
        self._sessions = 0

    def next_action(self):
        names = [name for name, weight, _ in self.actions for _ in range(weight)]
        name = self.random.choice(names)
        action = next(function for action_name, _, function in self.actions if action_name == name)
        # Every random number an action needs is drawn now, whatever the window's state,
        # so the sequence depends only on the seed.
        draws = [self.random.random() for _ in range(4)]
        return name, action, draws

    # -- helpers ---------------------------------------------------------------

    def key(self, key, modifier=None):
        target = QApplication.focusWidget() or self.window
        QTest.keyClick(target, key, modifier or Qt.KeyboardModifier.NoModifier)

    def click(self, widget):
        if not widget.isVisible() or not widget.isEnabled():
            return False
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton)
        return True

    # -- actions: each returns what it did, or None when it was not possible ------

    def switch_layout(self, draws):
        if draws[0] < 0.5:
            self.key(Qt.Key.Key_1 if draws[1] < 0.5 else Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
            return "Ctrl+1" if draws[1] < 0.5 else "Ctrl+2"
        button = self.window.overlay_button if draws[1] < 0.5 else self.window.side_button
        return f"click {button.text()}" if self.click(button) else None

    def toggle_presentation(self, draws):
        self.key(Qt.Key.Key_F5)
        return "F5"

    def switch_tab(self, draws):
        tabs = self.window.tabs
        index = int(draws[0] * tabs.count())
        bar = tabs.tabBar()

        if not bar.isVisible():
            return None
        QTest.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
        return f"tab {index}"

    def start(self, draws):
        if draws[0] < 0.5:
            self.key(Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
            return "Ctrl+Return"
        return "click Start" if self.click(self.window.run_bar.start_button) else None

    def pause(self, draws):
        return "click Pause" if self.click(self.window.run_bar.pause_button) else None

    def stop(self, draws):
        if draws[0] < 0.5:
            self.key(Qt.Key.Key_Period, Qt.KeyboardModifier.ControlModifier)
            return "Ctrl+."
        return "click Stop" if self.click(self.window.run_bar.stop_button) else None

    def choose_preset(self, draws):
        box = self.window.setup_panel.preset
        if not box.isEnabled() or not box.isVisible():
            return None
        index = int(draws[0] * (box.count() - 1))  # the last entry, "Custom", is not choosable
        box.setCurrentIndex(index)
        return f"preset {box.itemData(index)}"

    def toggle_variant(self, draws):
        boxes = [box for box in self.window.setup_panel.findChildren(QCheckBox)
                 if box.isVisible() and box.isEnabled()]
        if not boxes:
            return None
        box = boxes[int(draws[0] * len(boxes))]
        box.click()
        return f"toggle {box.text()!r}"

    def lesson_step(self, draws):
        window = self.window
        if draws[0] < 0.3:
            window.lesson_dock.show()
            window.lesson_dock.raise_()
            return "show the lesson panel"
        panel = window.lesson_panel
        button = panel.next_button if draws[1] < 0.6 else panel.previous_button
        if draws[2] < 0.3:
            button = panel.set_up_button
        return f"click {button.text()!r} (step {panel.index + 1})" if self.click(button) else None

    def stroke(self, draws):
        canvas = self.window.draw_page.canvas
        if not canvas.isVisible():
            return None
        width, height = canvas.width(), canvas.height()
        points = [QPoint(int(width * (0.2 + 0.6 * draws[(i + k) % 4])), int(height * (0.2 + 0.15 * k)))
                  for k, i in enumerate(range(5))]
        QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=points[0])
        for point in points[1:]:
            QTest.mouseMove(canvas, point)
        QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=points[-1])
        if draws[3] < 0.2:
            canvas.clear()
            return "stroke, then clear"
        return "stroke"

    def resize(self, draws):
        width, height = SIZES[int(draws[0] * len(SIZES))]
        self.window.resize(width, height)
        return f"resize {width}×{height}"

    def smoothing(self, draws):
        slider = self.window.smoothing_slider
        if not slider.isVisible():
            return None
        slider.setValue(int(draws[0] * 95))
        return f"smoothing {slider.value()}"

    def training_mode(self, draws):
        box = self.window.training_mode_box
        if not box.isVisible():
            return None
        box.setCurrentIndex(int(draws[0] * box.count()))
        return f"training batch: {box.currentText()}"

    def toggle_panel(self, draws):
        self.key(Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
        return "Ctrl+E"

    def toggle_results(self, draws):
        self.window.results_action.trigger()
        return "View > Results table"

    def highlight(self, draws):
        curves = self.window.curves
        if not curves.isVisible() or not curves.variant_ids:
            return None
        ids = curves.variant_ids
        chosen = ids[int(draws[0] * len(ids))] if draws[1] < 0.7 else None
        curves.highlight(chosen)
        return f"highlight {chosen}"

    def export(self, draws):
        suffix = ".svg" if draws[0] < 0.5 else ".png"
        path = self.folder / f"export{suffix}"
        self.window.export_plots(path)
        return f"export {path.name}"

    def menu_entry(self, draws):
        """An enabled entry of the menu bar, as a click on it (a dialog it opens is clicked away)."""
        quit_keys = QKeySequence("Ctrl+Q")
        entries = []
        for menu_action in self.window.menuBar().actions():
            menu = menu_action.menu()
            for action in (menu.actions() if menu else []):
                if action.menu() is not None:
                    entries += action.menu().actions()
                elif not action.isSeparator():
                    entries.append(action)
        entries = [action for action in entries
                   if action.isEnabled() and action.shortcut() != quit_keys]
        if not entries:
            return None
        action = entries[int(draws[0] * len(entries))]
        action.trigger()
        return f"menu {action.text().replace('&', '')!r}"

    def session(self, draws):
        window = self.window
        saved = sorted(self.folder.glob("session-*"))
        if draws[0] < 0.5 or not saved:
            if window.controller.why_not_save() is not None:
                return None
            self._sessions += 1
            folder = self.folder / f"session-{self._sessions}"
            return f"save session {folder.name}" if window.save_session(folder) else None
        folder = saved[int(draws[1] * len(saved))]
        if not (folder / "session.json").exists():
            return None
        # While a run trains the window refuses (as the menu entry says); that is tried too.
        if window.controller.running:
            window.open_session_dialog()  # "stop the run first", in a message box
            return f"open session {folder.name} while training"
        window.open_session(folder)
        return f"open session {folder.name}"


def dismiss_dialogs():
    """Close any message box a person would click away; returns its text."""

    modal = QApplication.activeModalWidget()
    if modal is None:
        return None
    text = modal.text() if isinstance(modal, QMessageBox) else modal.windowTitle()
    modal.done(0)
    return text


def run_monkey(seconds, seed, trainer="fake", size=(1280, 720), out=sys.stdout):
    """Drive a real window for ``seconds`` with the actions of ``seed``; 0 when nothing went wrong."""

    faulthandler.enable()
    configure_pyqtgraph()
    app = QApplication.instance() or QApplication([])
    app.setStyle("Fusion")
    problems = Problems()
    watchdog = Watchdog(problems)
    folder = tempfile.TemporaryDirectory(prefix="bngui-monkey-")
    window = make_window(trainer, folder.name)
    window.resize(*size)
    # No window manager under Xvfb: the window is activated as a click on it would.
    window.activateWindow()
    monkey = Monkey(window, seed, folder.name, problems)
    gaps = random.Random(seed + 1)
    print(f"monkey: seed {seed}, {seconds:.0f} s, {trainer} trainer, platform"
          f" {app.platformName()}", file=out, flush=True)
    started = time.monotonic()
    counts = {"done": 0, "skipped": 0}

    def act():
        elapsed = time.monotonic() - started
        if elapsed >= seconds:
            app.quit()
            return
        name, action, draws = monkey.next_action()
        try:
            did = action(draws)
        except Exception:  # an action's own exception is one of the problems looked for
            problems.add("exception", f"in {name}: {traceback.format_exc().strip()}")
            did = name
        counts["done" if did else "skipped"] += 1
        number = counts["done"] + counts["skipped"]
        print(f"{elapsed:7.2f} s  #{number:<4} {did or f'({name}: not possible now)'}", file=out, flush=True)
        for stray in stray_items(window):
            problems.add("stale item", f"after #{number} {did}: {stray}")
        QTimer.singleShot(gaps.randint(*ACTION_GAP_MS), act)

    # A message box runs an event loop of its own inside the action that opened it:
    # a person clicks it away, and so does this timer.
    dismisser = QTimer()
    dismisser.timeout.connect(lambda: (text := dismiss_dialogs()) and print(
        f"          dismissed: {' '.join(text.split())[:100]}", file=out, flush=True))
    dismisser.start(250)
    QTimer.singleShot(500, act)
    app.exec()
    dismisser.stop()
    # Leave as a person does, and time it.
    quit_started = time.monotonic()
    window.close()
    quit_seconds = time.monotonic() - quit_started
    watchdog.stop()
    print(f"monkey: {counts['done']} actions ({counts['skipped']} not possible at their moment),"
          f" longest event-loop gap {watchdog.longest_gap:.2f} s ({watchdog.longest_own_gap:.2f} s"
          f" without waiting for a CPU), closed in {quit_seconds:.2f} s,"
          f" {len(problems.found)} problem(s); seed {seed}", file=out, flush=True)
    for problem in problems.found:
        print(f"  {problem}", file=out)
    folder.cleanup()
    return 1 if problems.found else 0


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bngui.bench.monkey")
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trainer", choices=("fake", "real"), default="fake")
    args = parser.parse_args(argv)
    return run_monkey(args.seconds, args.seed, args.trainer)


if __name__ == "__main__":
    sys.exit(main())
