"""Fixtures for the GUI tests (pytest-qt, offscreen; see tests/conftest.py).

Every window or dialog a test creates goes through ``make_window`` or
``make_dialog``. After the test they are shut down and closed, and the test
fails if any of them left a thread running (training, loaders, download), an
active redraw timer, a window still open, or an unexpected message box.
Every test, whatever it creates, also fails if a QThread it started is still
running at its end (``no_thread_left_running``).
"""

import time
import weakref

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThread, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from bngui.bench.fake_trainer import fake_trainer, tiny_data

THREAD_END_GRACE_S = 5.0


@pytest.fixture(autouse=True)
def no_thread_left_running(monkeypatch):
    """Fail the test if a QThread it started still runs at the end, or a repeating
    timer of the application or of an open window is still active."""
    started = []
    original_start = QThread.start

    def start(thread, *args):
        started.append(weakref.ref(thread))
        return original_start(thread, *args)

    monkeypatch.setattr(QThread, "start", start)
    yield
    # Python collects again by itself for the tests that follow in this process.
    from bngui.gui.garbage import stop_collecting_on_the_gui_thread

    stop_collecting_on_the_gui_thread()
    deadline = time.perf_counter() + THREAD_END_GRACE_S
    running = []
    for reference in started:
        thread = reference()
        try:
            # A thread that was told to stop may need a moment to end.
            if thread is not None and not thread.wait(max(0, int((deadline - time.perf_counter()) * 1000))):
                running.append(thread.objectName() or type(thread).__name__)
        except RuntimeError:
            pass  # its C++ object is gone, so it has ended
    application = QApplication.instance()
    timers = []
    if application is not None:
        owners = [application] + [w for w in application.topLevelWidgets() if w.isVisible()]
        timers = [f"{type(owner).__name__}: {timer.objectName() or 'QTimer'}"
                  for owner in owners for timer in owner.findChildren(QTimer)
                  if timer.isActive() and not timer.isSingleShot()]
    problems = [f"thread {name} still running" for name in running] + [
        f"repeating timer still active in {name}" for name in timers]
    assert not problems, "; ".join(problems)


@pytest.fixture(scope="session")
def tensorflow():
    """TensorFlow and the trainer, imported once (what the window's loader does)."""
    import bngui.core.trainer

    return bngui.core.trainer


@pytest.fixture
def message_boxes(monkeypatch):
    """Warnings the window would show; a real QMessageBox would block the test forever."""
    shown = []

    def warning(parent, title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    return shown


def _leftovers(widget):
    """What ``widget`` (a MainWindow or DataDialog) left running, as messages."""
    problems = []
    name = type(widget).__name__
    threads = list(widget.findChildren(QThread))  # training, loaders, sessions, the download
    for thread in threads:
        if thread.isRunning():
            problems.append(f"{name}: thread {thread.objectName() or type(thread).__name__} still running")
    timer = getattr(widget, "redraw_timer", None)
    if timer is not None and timer.isActive():
        problems.append(f"{name}: redraw timer still active after shutdown")
    if widget.isVisible():
        problems.append(f"{name}: still open")
    return problems


@pytest.fixture
def tracked(qapp):
    """Windows and dialogs of one test, checked for leftovers after it."""
    widgets = []
    yield widgets
    problems = []
    for widget in widgets:
        problems += _leftovers(widget)
    for timer in qapp.findChildren(QTimer):
        if timer.isActive():
            problems.append(f"application-level QTimer {timer.objectName()!r} still active")
    if not problems:
        for widget in widgets:
            widget.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    assert not problems, "; ".join(problems)


@pytest.fixture
def settings_path(tmp_path):
    """A temporary settings file, so real user settings are never touched."""
    return tmp_path / "bngui.ini"


@pytest.fixture
def make_window(qtbot, settings_path, message_boxes, tracked):
    """``make_window(data_path=None, make_trainer=None)`` -> a shown MainWindow on the
    temporary settings (with the real trainer unless another factory is given)."""
    from bngui.gui.main_window import MainWindow
    from bngui.gui.run_controller import lockstep_trainer

    windows = []

    def make(data_path=None, make_trainer=None):
        window = MainWindow(QSettings(str(settings_path), QSettings.IniFormat), data_path=data_path,
                            make_trainer=make_trainer or lockstep_trainer)
        tracked.append(window)
        windows.append(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    slow = []
    for window in windows:
        started = time.perf_counter()
        ended = window.shutdown()
        window.close()
        if not ended:
            slow.append(f"shutdown took {time.perf_counter() - started:.1f} s and left a thread running")
    assert not slow, "; ".join(slow)
    assert not message_boxes, f"unexpected message boxes: {message_boxes}"


@pytest.fixture
def make_dialog(qtbot, tracked):
    """``make_dialog(reason, path=None, origin=None)`` -> a shown DataDialog."""
    from bngui.gui.data_dialog import DataDialog

    dialogs = []

    def make(reason, path=None, origin=None):
        dialog = DataDialog(reason, path, origin=origin)
        tracked.append(dialog)
        dialogs.append(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    yield make
    for dialog in dialogs:
        if dialog.isVisible() or dialog.downloading:
            dialog.done(0)  # also cancels and waits for a download


@pytest.fixture
def ready_window(make_window, mnist_scored_on_2000, tensorflow):
    """A window with MNIST and TensorFlow ready, without the background loaders.

    All the training images; 2,000 validation and test images, which shortens
    the scoring in every run.
    """
    window = make_window()
    window.controller.set_data(mnist_scored_on_2000)
    window.controller.set_tensorflow_ready()
    assert window.ready and window.run_bar.start_button.isEnabled()
    return window


@pytest.fixture
def fake_window(make_window):
    """``fake_window(models=None, seconds_per_batch=0.002)``: a ready window whose runs
    come from the fake trainer (no TensorFlow, no MNIST)."""

    def make(models=None, seconds_per_batch=0.002):
        window = make_window(make_trainer=fake_trainer(models, seconds_per_batch))
        window.controller.set_data(tiny_data())
        window.controller.set_tensorflow_ready()
        assert window.ready and window.run_bar.start_button.isEnabled()
        return window

    return make



@pytest.fixture(scope="session")
def rsvg_convert():
    """The path of librsvg's rsvg-convert, which draws SVG as GNOME and many converters do.
    Skipped where it is not installed, except under CI (CI=true), where .ci/run installs it."""
    import os
    import shutil

    path = shutil.which("rsvg-convert")
    if path is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("rsvg-convert is missing; .ci/run installs it (librsvg2-bin)")
        pytest.skip("rsvg-convert is not installed (librsvg2-bin)")
    return path
