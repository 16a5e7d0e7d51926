"""Saving and opening sessions off the GUI thread.

Writing ten Keras models and their TensorBoard files takes seconds, and so
does loading them back; each job is a QThread that reports through queued
signals, so the window keeps drawing meanwhile.
"""

import traceback

from PySide6.QtCore import QThread, Signal

from bngui.core.session import SessionError, load_session_models, open_session, save_session
from bngui.core.storage import ModelFileError
from bngui.gui.loading import import_tensorflow_without_gc_pauses


class SaveSessionJob(QThread):
    saved = Signal(str)
    failed = Signal(str)

    def __init__(self, folder, settings, history, models, parent=None):
        super().__init__(parent)
        self.folder = str(folder)
        self._settings = settings
        self._history = history
        self._models = dict(models)

    def run(self):
        try:
            save_session(self.folder, self._settings, self._history, self._models)
        except SessionError as error:
            self.failed.emit(f"Cannot save the session: {error}")
        except Exception as error:  # a full disk, a permission: a message, never a crash
            traceback.print_exc()
            self.failed.emit(f"Cannot save the session to {self.folder}: {error}")
        else:
            self.saved.emit(self.folder)


class OpenSessionJob(QThread):
    """Reads a session and loads its models; ``opened`` carries (session, models, problems)."""

    opened = Signal(object, object, object)
    failed = Signal(str)

    def __init__(self, folder, parent=None):
        super().__init__(parent)
        self.folder = str(folder)

    def run(self):
        try:
            import_tensorflow_without_gc_pauses()  # the models need it; a no-op once loaded
            session = open_session(self.folder)
            models, problems = load_session_models(session)
        except (SessionError, ModelFileError) as error:
            self.failed.emit(f"Cannot open the session: {error}")
        except Exception as error:
            traceback.print_exc()
            self.failed.emit(f"Cannot open the session {self.folder}: {error}")
        else:
            self.opened.emit(session, models, problems)
