"""One way to run slow work off the GUI thread: a plain function in a ``Job``.

The function gets a ``JobState`` as its first argument and may report
progress through it and ask whether it was cancelled; it returns its result
or raises. The job turns that into queued signals, delivered on the GUI
thread: ``progressed`` for each report, then ``succeeded(result)`` or
``failed(message)``, then ``finished``. An exception of the ``expected``
types (bad input: a missing file, a damaged session) becomes its message; any
other is logged (with its traceback when ``BNGUI_VERBOSE`` is set) and
reported as a message too, never as a crash.

This is the shape of Orange's ``ConcurrentMixin``/``TaskState`` and napari's
``create_worker``: compute knows nothing of Qt; the window only connects.
"""

import logging
import threading

from PySide6.QtCore import QThread, Signal

from bngui.gui.i18n import translate

logger = logging.getLogger(__name__)


def _failed(failure, error):
    """"Cannot save the session: <why>", punctuated as the user's language does."""
    return translate("Job", "{failure}: {reason}").format(failure=failure, reason=error)


class JobState:
    """What a job's function sees: a way to report progress and the cancel flag."""

    def __init__(self, job):
        self._job = job
        self._cancelled = threading.Event()

    def progress(self, value):
        """Send ``value`` (an immutable record or a tuple) to the GUI thread."""
        self._job.progressed.emit(value)

    @property
    def cancelled(self):
        return self._cancelled.is_set()


class Job(QThread):
    """Runs ``function(state, *args, **kwargs)`` in its own thread, once.

    ``failure`` starts the message of a failure ("Cannot save the session: ..."),
    followed by the error's own message; without it an expected error's
    message stands alone (it already says what went wrong). ``on_cancel`` is called (from the GUI thread) by
    ``cancel()``, for work that has its own stop flag.
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, function, *args, failure="", expected=(), on_cancel=None, name="",
                 parent=None, **kwargs):
        super().__init__(parent)
        self.setObjectName(name or getattr(function, "__name__", "bngui-job"))
        self._function = function
        self._args = args
        self._kwargs = kwargs
        self._failure = failure
        self._expected = tuple(expected)
        self._on_cancel = on_cancel
        self.state = JobState(self)
        self.error = None  # the message of a failure
        self.writes_user_files = False  # closing the window waits for such a job to finish

    def cancel(self):
        self.state._cancelled.set()
        if self._on_cancel is not None:
            self._on_cancel()

    def run(self):
        try:
            result = self._function(self.state, *self._args, **self._kwargs)
            # The job may outlive its work; what it worked on need not.
            self._args, self._kwargs = (), {}
        except self._expected as error:
            self._fail(_failed(self._failure, error) if self._failure else str(error))
        except Exception as error:  # a message for the user, never a dead window
            failure = self._failure or translate("Job", "Unexpected error")
            logger.error("%s: %s", failure, error, exc_info=logger.isEnabledFor(logging.DEBUG))
            self._fail(_failed(failure, error))
        else:
            self.succeeded.emit(result)

    def _fail(self, message):
        self.error = message
        self.failed.emit(message)
