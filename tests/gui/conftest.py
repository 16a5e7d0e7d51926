"""Fixtures for the GUI tests (pytest-qt, offscreen; see tests/conftest.py).

Every window or dialog a test creates goes through ``make_window`` or
``make_dialog``. After the test they are shut down and closed, and the test
fails if any of them left a thread running (training, loaders, download), an
active redraw timer, a window still open, or an unexpected message box.
"""

import time

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QSettings, QThread, QTimer
from PySide6.QtWidgets import QMessageBox


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
    threads = list(widget.findChildren(QThread))  # loaders and the download job
    worker = getattr(widget, "worker", None)
    if worker is not None and worker._thread is not None:
        threads.append(worker._thread)  # the training thread has no parent
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
    """``make_window(data_path=None)`` -> a shown MainWindow on the temporary settings."""
    from bngui.gui.main_window import MainWindow

    windows = []

    def make(data_path=None):
        window = MainWindow(QSettings(str(settings_path), QSettings.IniFormat), data_path=data_path)
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
    window.set_data(mnist_scored_on_2000)
    window.tensorflow_ready = True
    window._update_readiness()
    assert window.ready and window.setup_panel.start_button.isEnabled()
    return window

