"""Start the desktop application: the window first, TensorFlow behind it."""

import logging
import os
import signal
import sys

from bngui.logs import configure_logging


def run_app(data_path=None, argv=None, session=None, lesson=None):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from bngui.gui.desktop_entry import APP_ID
    from bngui.gui.i18n import LANGUAGE_VARIABLE, set_up_language
    from bngui.gui.icons import app_icon
    from bngui.gui.main_window import MainWindow
    from bngui.gui.plot_style import configure_pyqtgraph

    configure_logging()
    if data_path is None:
        data_path = os.environ.get("BNGUI_MNIST") or None
    configure_pyqtgraph()
    app = QApplication.instance() or QApplication(argv or sys.argv)
    app.setApplicationName("bngui")
    app.setOrganizationName("bngui")
    # The desktop file's name: the desktop matches the window to its menu entry
    # and icon (bngui --install-desktop-entry); on Wayland it is the app id.
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    app.setStyle("Fusion")  # the same look on every platform, and crisp group boxes
    # The language, its translators and a font with its glyphs, before any widget is made.
    set_up_language(override=os.environ.get(LANGUAGE_VARIABLE) or None)
    window = MainWindow(data_path=data_path)
    window.show()
    # Load TensorFlow and MNIST once the window is on screen.
    QTimer.singleShot(0, window.start_loading)
    if session:
        QTimer.singleShot(0, lambda: window.open_session(session))
    if lesson:
        QTimer.singleShot(0, lambda: window.open_lesson(lesson))
    # Ctrl+C in the terminal, or a SIGTERM (logging out, `kill`), closes the
    # window cleanly: training stops and the settings are saved. The timer
    # lets Python run its signal handlers while Qt's event loop is waiting.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    heartbeat = QTimer()
    heartbeat.start(250)
    heartbeat.timeout.connect(lambda: None)
    ended = []
    # The window's closing has waited already: here only whether the threads have ended.
    app.aboutToQuit.connect(lambda: ended.append(window.shutdown(0)))
    code = app.exec()
    if not all(ended):
        # A thread still finishes a step it cannot interrupt (importing TensorFlow,
        # compiling): leave now, before Qt destroys its thread object under it. What
        # the user asked to save is written by then (MainWindow.shutdown).
        logging.getLogger(__name__).debug("a background thread was still busy; leaving without it")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
