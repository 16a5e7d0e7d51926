"""The run controller: what the window runs, apart from how it looks.

It owns the start-up loading (TensorFlow, MNIST), the training job, the
history of the run on screen, the trained models and the session jobs, and
says what can be done now (``can_start``, ``why_not_save``...). The window
lays out widgets, wires them to it, and enables its actions from its state.

The trainer is made by a factory ``make_trainer(variant_ids, data, settings,
control)`` returning an object with ``run(emit)`` and ``models``; the default
is the lockstep trainer. Tests of behaviour that does not depend on learning
pass a fast fake.
"""

import logging

from PySide6.QtCore import QDeadlineTimer, QObject, Signal

from bngui.core.data import DataError
from bngui.core.history import RunHistory
from bngui.core.run_control import RunControl
from bngui.core.settings import SettingsError
from bngui.gui import tasks
from bngui.gui.garbage import collect_fully_soon
from bngui.gui.jobs import Job

logger = logging.getLogger(__name__)


def lockstep_trainer(variant_ids, data, settings, control):
    """The lockstep trainer (over several seeds if the settings say so), on the variants
    compiled for earlier runs or ahead of this one."""
    from bngui.core.trainer import make_trainer, shared_compiled_variants

    return make_trainer(variant_ids, data, settings, control, compiled=shared_compiled_variants())


class RunController(QObject):
    """Loading, training, sessions; signals tell the window what changed.

    ``changed`` follows every change of what can be done (ready, running,
    paused, a finished run); ``run_finished`` comes when a training thread
    has ended (finished, stopped or failed); ``message`` is status-bar text and ``error`` text
    for a message box; ``data_missing(reason)`` asks the window to offer ways
    to get MNIST; ``models_ready(models, source, folder)`` gives the draw page models
    (trained here, or a session's and its folder); ``session_opened(session)`` says a session
    is now on screen.
    """

    changed = Signal()
    run_finished = Signal()
    message = Signal(str)
    error = Signal(str)
    data_missing = Signal(str)
    models_ready = Signal(object, str, str)
    session_opened = Signal(object)

    def __init__(self, make_trainer=lockstep_trainer, parent=None):
        super().__init__(parent)
        self.make_trainer = make_trainer
        self.history = RunHistory()
        self.data = None
        self.tensorflow_ready = False
        # The settings and trained models of the run on screen (trained here or
        # opened from a session): what Save session writes.
        self.run_settings = None
        self.run_models = {}
        self._control = None
        self._run = None  # the training job
        self._preparing = None  # the job compiling variants ahead of a run
        self._prepared_for = None  # (variant ids, loss, BN decay) it compiles or compiled
        self._jobs = []  # every other job; closing waits for them

    # -- state --------------------------------------------------------------------

    @property
    def ready(self):
        return self.tensorflow_ready and self.data is not None

    @property
    def running(self):
        return self._run is not None and self._run.isRunning()

    @property
    def paused(self):
        return self.running and self._control.paused

    @property
    def stopping(self):
        """Stop was asked for and the run has not ended yet."""
        return self.running and self._control is not None and self._control.stop_requested

    @property
    def can_start(self):
        return self.ready and not self.running

    def why_not_save(self):
        """Why Save session would not work now, or None."""
        if self.running:
            return self.tr("Stop the run, or let it finish, before saving the session.")
        history = self.history
        if not history.variant_ids or history.finished is None or self.run_settings is None:
            return self.tr("There is no finished run to save yet: train first, or open a session.")
        return None

    def why_not_start(self, variant_ids, settings):
        """Why a run of these variants with these settings cannot start now, or None."""
        if self.running:
            return self.tr("A run is in progress.")
        if not self.tensorflow_ready:
            return self.tr("TensorFlow is still loading.")
        if self.data is None:
            return self.tr("MNIST is not loaded.")
        if not variant_ids:
            return self.tr("Choose at least one variant to train.")
        try:
            settings.validate(len(self.data.train_labels))
        except SettingsError as error:
            return str(error)
        return None

    # -- start-up loading ---------------------------------------------------------

    def start_loading(self, data_path=None):
        """Import TensorFlow and load MNIST in the background."""
        # A DataError's own message says where MNIST was looked for.
        data = self._new_job(tasks.load_data, data_path, expected=(DataError,))
        data.succeeded.connect(self.set_data)
        data.failed.connect(self.data_missing)
        tensorflow = self._new_job(tasks.load_tensorflow, failure=self.tr("TensorFlow could not be loaded"))
        tensorflow.succeeded.connect(lambda _result: self.set_tensorflow_ready())
        tensorflow.failed.connect(self.error)
        data.start()
        tensorflow.start()

    def set_tensorflow_ready(self):
        self.tensorflow_ready = True
        self.changed.emit()

    def set_data(self, data):
        self.data = data
        self.changed.emit()

    # -- training -----------------------------------------------------------------

    def prepare(self, variant_ids, settings):
        """Compile these variants in the background now, so that Start trains at once.

        Only for the lockstep trainer, once TensorFlow is loaded and no run is
        in progress; a new choice replaces one still being compiled (what is
        compiled stays compiled for later runs).
        """
        if self.make_trainer is not lockstep_trainer or not self.tensorflow_ready or self.running:
            return
        wanted = (tuple(variant_ids), settings.loss, settings.bn_decay)
        if not variant_ids or wanted == self._prepared_for:
            return
        if self._preparing is not None:
            self._preparing.cancel()
        self._prepared_for = wanted
        job = self._new_job(tasks.prepare_training, list(variant_ids), settings,
                            failure=self.tr("Compiling ahead failed"), name="bngui-prepare")
        # Not a message box: the run compiles whatever is missing itself.
        job.failed.connect(lambda message: logger.warning("%s", message))
        self._preparing = job
        job.start()

    def start(self, variant_ids, settings):
        """Start a run; returns False (after an ``error``) when it cannot start now."""
        problem = self.why_not_start(variant_ids, settings)
        if problem:
            self.error.emit(problem)
            return False
        if self._preparing is not None:
            # Its variant being compiled now is finished (the run waits for it); no others.
            self._preparing.cancel()
            self._prepared_for = None
        self.history.reset(variant_ids)
        self.run_settings, self.run_models = settings, {}
        self._control = RunControl()
        run = Job(tasks.train, self.make_trainer, list(variant_ids), self.data, settings,
                  self._control, failure=self.tr("Training failed"), on_cancel=self._control.stop,
                  name="bngui-training")
        run.progressed.connect(self.history.handle)
        run.succeeded.connect(self._on_trained)
        run.failed.connect(self.error)
        run.finished.connect(self._on_run_ended)
        self._run = run
        run.start()
        self.changed.emit()
        return True

    def toggle_pause(self):
        if not self.running:
            return
        if self._control.paused:
            self._control.resume()
        else:
            self._control.pause()
        self.changed.emit()

    def stop(self):
        """Stop the run at its next check (its models are kept); ``changed`` says it is stopping."""
        if self.running and not self._control.stop_requested:
            self._control.stop()
            self.changed.emit()

    def _on_run_ended(self):
        self.changed.emit()
        self.run_finished.emit()
        collect_fully_soon()

    def _on_trained(self, models):
        self.run_models = models
        self.models_ready.emit(models, "trained", "")

    # -- sessions -----------------------------------------------------------------

    def save_session(self, folder):
        """Save the run on screen into ``folder`` in the background; the job, or None."""
        from bngui.core.session import SessionError

        problem = self.why_not_save()
        if problem:
            self.error.emit(problem)
            return None
        # A snapshot: a run started while saving cannot change what is written.
        job = self._new_job(tasks.save_session, str(folder), self.run_settings,
                            self.history.copy(), dict(self.run_models),
                            failure=self.tr("Cannot save the session"), expected=(SessionError, OSError))
        job.writes_user_files = True  # closing the window waits for it
        job.succeeded.connect(
            lambda saved: self.message.emit(self.tr("Session saved to {folder}").format(folder=saved)))
        job.failed.connect(self.error)
        self.message.emit(self.tr("Saving the session to {folder}…").format(folder=folder))
        job.start()
        return job

    def open_session(self, folder):
        """Open the session in ``folder`` in the background; the job, or None."""
        from bngui.core.session import SessionError
        from bngui.core.storage import ModelFileError

        if self.running:
            self.error.emit(self.tr("Stop the run before opening a session."))
            return None
        job = self._new_job(tasks.open_session, str(folder), failure=self.tr("Cannot open the session"),
                            expected=(SessionError, ModelFileError))
        job.succeeded.connect(self._on_session_read)
        job.failed.connect(self.error)
        self.message.emit(self.tr("Opening the session {folder}…").format(folder=folder))
        job.start()
        return job

    def _on_session_read(self, result):
        session, models, problems = result
        if self.running:
            return  # a run started meanwhile keeps the screen
        # Replayed into the controller's own history, so every view sees a new version.
        self.history.reset(session.variant_ids)
        for event in session.history.recorded:
            self.history.handle(event)
        self.run_settings, self.run_models = session.settings, models
        self.session_opened.emit(session)
        self.models_ready.emit(models, "loaded", str(session.folder))
        self.changed.emit()
        status = {"done": self.tr("done"), "stopped": self.tr("stopped"),
                  "unfinished": self.tr("unfinished")}.get(
            session.run_status, session.run_status)
        self.message.emit(self.tr("Opened the session {folder} (%n variant(s), run {status}, saved {saved})",
                                  "", len(session.variant_ids)).format(
            folder=session.folder, status=status, saved=session.created[:16].replace("T", " ")))
        if problems:
            if models:
                shown = self.tr("The curves are shown, but some models could not be loaded:\n{problems}")
            else:
                shown = self.tr("The curves are shown, but none of the models could be loaded:\n{problems}")
            self.error.emit(shown.format(problems="\n".join(problems)))

    # -- jobs and closing ---------------------------------------------------------

    def _new_job(self, function, *args, **options):
        """A job, not started yet: its signals are connected first, or a quick one's
        result could arrive before anyone listens.

        The controller holds it until it has finished, then lets it go, so a
        finished job never keeps its arguments (a run's history and models) alive.
        """
        job = Job(function, *args, **options)
        self._jobs.append(job)
        job.finished.connect(self._forget_finished_job)
        return job

    def _forget_finished_job(self):
        job = self.sender()
        job.wait()  # "finished" may arrive just before the thread has quite ended
        if job in self._jobs:
            self._jobs.remove(job)

    @property
    def jobs(self):
        """The background jobs that have not finished yet (training aside)."""
        return list(self._jobs)

    def shutdown(self, timeout_ms=2500, wait_for_loading=True):
        """Stop training and every job, and wait ``timeout_ms`` in all for their threads; True
        when every thread has ended. A session being saved is waited for until it is written.

        Without ``wait_for_loading`` (closing the window) the jobs that load or compile are
        not waited for at all: they cannot be interrupted, and importing TensorFlow holds
        Python's lock for most of a second at a time, so every wait costs that much again.
        """
        deadline = QDeadlineTimer(timeout_ms)
        if self._run is not None:
            self._run.cancel()  # stops, and keeps no model: the window is closing
        for job in self._jobs:
            job.cancel()
        ended = self._run is None or self._run.wait(deadline)
        for job in self._jobs:
            if job.writes_user_files:
                job.wait()
            elif wait_for_loading:
                ended = job.wait(deadline) and ended
            else:
                ended = job.isFinished() and ended
        return ended
