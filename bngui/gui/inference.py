"""The draw page's models, kept and run in one background thread.

Everything that touches the models (loading, saving, tracing graphs,
predicting) happens in this thread, one job at a time, so the window never
waits on TensorFlow, not even while a training run keeps the CPU busy.

Prediction requests follow "latest request wins": a new drawing replaces a
request that has not started yet, so a fast-drawing hand never builds a queue.
Requests also go before background jobs (tracing graphs for models that just
arrived), which are split into small steps for that reason.
"""

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QThread, Signal

from bngui.core.predict import has_batch_norm
from bngui.core.variants import PRECISE_SUFFIX, model_order
from bngui.gui.i18n import translate

logger = logging.getLogger(__name__)

SHIPPED = "shipped"
TRAINED = "trained"
LOADED = "loaded"
UNTRAINED = "untrained"


@dataclass
class ModelEntry:
    model: object
    source: str  # SHIPPED, TRAINED, LOADED or UNTRAINED
    origin: str = ""  # the folder it was loaded from, if any

    @property
    def source_text(self):
        if self.source == SHIPPED:
            return translate("InferenceThread", "shipped with bngui")
        if self.source == TRAINED:
            return translate("InferenceThread", "trained in this session")
        if self.source == UNTRAINED:
            return translate("InferenceThread", "untrained")
        return translate("InferenceThread", "loaded from {folder}").format(
            folder=Path(self.origin).name or self.origin)


class _SavingJob:
    """A job that writes what the user asked to save: a stop waits for it, never drops it."""

    def __init__(self, work):
        self._work = work

    def __call__(self):
        self._work()


def _ordered_ids(ids):
    return sorted(ids, key=model_order)


class InferenceThread(QThread):
    """Holds the available models and predicts with them, off the GUI thread.

    Signals (delivered to the GUI thread):
    ``models_changed(list)``: ``[(variant_id, source_text), ...]`` in display order;
    ``predicted(request_id, {variant_id: probabilities}, batch_statistics, seconds)``;
    ``loaded(folder, [variant ids], [problems], quiet)`` after ``load_folder``;
    ``saved(folder, [variant ids], error)``, ``error`` empty on success;
    ``idle()`` when the background jobs are done; ``failed(message)``.
    """

    models_changed = Signal(object)
    predicted = Signal(int, object, bool, float)
    # (request id, {company name: {variant_id: probabilities}}) with batch statistics
    company_predicted = Signal(int, object)
    loaded = Signal(str, object, object, bool)
    saved = Signal(str, object, str)
    idle = Signal()
    failed = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("bngui-inference")
        self._condition = threading.Condition()
        self._request = None
        self._company = {}  # name -> (63, 28, 28, 1) digits the drawing is batched with
        self._jobs = deque()
        self._saving = False  # a _SavingJob is running
        self._stopping = False
        self._entries = {}  # variant_id -> ModelEntry; touched only in this thread
        self._generation = 0
        self._predictor = None
        self.busy = False

    # -- called from the GUI thread ---------------------------------------------

    def request(self, request_id, digit, batch_statistics=False):
        """Predict ``digit`` (28x28) with every model; replaces a request not yet started."""
        with self._condition:
            self._request = (request_id, digit, bool(batch_statistics))
            self._condition.notify()

    def set_company(self, company):
        """``{name: digits}``: batches the drawing also joins when batch statistics are on.

        In training mode a BN layer normalizes the drawing with the statistics
        of the batch it is in, so the same drawing can get another answer in
        other company.
        """
        with self._condition:
            self._company = {name: np.asarray(digits, np.float32) for name, digits in company.items()}

    def cancel_request(self):
        with self._condition:
            self._request = None

    def add_models(self, models, source=TRAINED, origin=""):
        """Make ``{variant_id: model}`` available; a model replaces one of the same id."""
        models = dict(models)
        self._post(lambda: self._add(models, source, origin))

    def load_folder(self, folder, source=LOADED, quiet=False):
        """Load a run folder's models (``bngui train --out`` or Save) in the background."""
        self._post(lambda: self._load(str(folder), source, quiet))

    def save_models(self, folder, sources=(TRAINED,)):
        """Save the models that came from ``sources`` into ``folder/models/``."""
        job = _SavingJob(lambda: self._save(str(folder), tuple(sources)))
        self._post(job)

    @property
    def saving(self):
        """Whether models the user asked to save are still being written or wait to be."""
        with self._condition:
            return self._saving or any(isinstance(job, _SavingJob) for job in self._jobs)

    def stop(self, timeout_ms=5000):
        """Stop after the job in hand; models being saved are saved first. True once it has ended."""
        with self._condition:
            self._stopping = True
            self._request = None
            saves = [job for job in self._jobs if isinstance(job, _SavingJob)]
            self._jobs.clear()
            self._jobs.extend(saves)
            self._condition.notify()
        return self.wait(timeout_ms)

    def _post(self, job):
        with self._condition:
            self._jobs.append(job)
            self._condition.notify()

    # -- the thread -----------------------------------------------------------------

    def run(self):
        try:
            from bngui.core.predict import Predictor

            self._predictor = Predictor()
        except Exception as error:  # TensorFlow missing or broken: say so once
            logger.error("the models cannot run: %s", error, exc_info=logger.isEnabledFor(logging.DEBUG))
            self.failed.emit(translate("InferenceThread", "The models cannot run: {reason}").format(
                reason=error))
            return
        worked = False
        while True:
            with self._condition:
                while not self._stopping and self._request is None and not self._jobs:
                    if worked:
                        worked = False
                        self.busy = False
                        self.idle.emit()
                    self._condition.wait()
                if self._stopping and not self._jobs:
                    return
                self.busy = True
                if self._request is not None:
                    request, self._request = self._request, None
                    job = lambda request=request: self._predict(*request)  # noqa: E731
                else:
                    job = self._jobs.popleft()
                self._saving = isinstance(job, _SavingJob)
            worked = True
            try:
                job()
            except Exception as error:  # a message for the user, never a dead thread
                logger.error("a model job failed: %s", error,
                             exc_info=logger.isEnabledFor(logging.DEBUG))
                self.failed.emit(translate(
                    "InferenceThread", "The models could not do that: {reason}").format(reason=error))
            finally:
                with self._condition:
                    self._saving = False

    def _models(self):
        return {variant_id: self._entries[variant_id].model for variant_id in _ordered_ids(self._entries)}

    def _predict(self, request_id, digit, batch_statistics):
        started = time.perf_counter()
        models = self._models()
        probabilities = (
            # Untraced models run eagerly; the background jobs trace them.
            self._predictor.probabilities(models, digit, batch_statistics, trace=False) if models else {}
        )
        self.predicted.emit(request_id, probabilities, batch_statistics, time.perf_counter() - started)
        with self._condition:
            company = dict(self._company)
        # Precise-BN twins are left out: with batch statistics their population statistics
        # are unused, so they would answer exactly as the model they were made from.
        with_bn = {vid: model for vid, model in models.items()
                   if has_batch_norm(vid) and not vid.endswith(PRECISE_SUFFIX)}
        if batch_statistics and company and with_bn:
            single = np.asarray(digit, np.float32).reshape(1, 28, 28, 1)
            answers = {
                name: {vid: scores[0] for vid, scores in self._predictor.probabilities(
                    with_bn, np.concatenate([single, digits]), True, trace=False).items()}
                for name, digits in company.items()
            }
            self.company_predicted.emit(request_id, answers)

    def _add(self, models, source, origin):
        changed = False
        for variant_id, model in models.items():
            current = self._entries.get(variant_id)
            if source == SHIPPED and current is not None:
                continue  # never hide a model trained or loaded by the user
            if current is not None and current.model is model:
                continue
            self._entries[variant_id] = ModelEntry(model, source, origin)
            changed = True
        if changed:
            self._models_changed()

    def _models_changed(self):
        self._generation += 1
        models = self._models()
        self._predictor.retain(models.values())
        self.models_changed.emit(
            [(variant_id, self._entries[variant_id].source_text) for variant_id in models]
        )
        self._schedule_preparation(self._generation)

    def _schedule_preparation(self, generation):
        """Trace every graph now, one model per job, so requests can slip in between."""

        def step(action):
            def job():
                if generation == self._generation:  # skip work for a model set that is gone
                    action()

            return job

        models = self._models()
        steps = [step(lambda model=model: self._predictor.prepare_model(model)) for model in models.values()]
        steps.append(step(lambda: self._predictor.prepare(self._models())))
        with_batch_norm = [
            model for variant_id, model in models.items()
            if has_batch_norm(variant_id)
        ]
        steps += [
            step(lambda model=model: self._predictor.prepare_model(model, training=True))
            for model in with_batch_norm
        ]
        if with_batch_norm:
            steps.append(step(lambda: self._predictor.prepare(self._models(), batch_statistics=True)))
        with self._condition:
            self._jobs.extend(steps)

    def _load(self, folder, source, quiet):
        from bngui.core.storage import ModelFileError, load_models

        try:
            models, problems = load_models(folder)
        except ModelFileError as error:
            self.loaded.emit(folder, [], [str(error)], quiet)
            return
        self._add(models, source, folder)
        self.loaded.emit(folder, _ordered_ids(models), problems, quiet)

    def _save(self, folder, sources):
        from bngui.core.storage import save_models

        models = {
            variant_id: entry.model
            for variant_id, entry in self._entries.items()
            if entry.source in sources
        }
        if not models:
            self.saved.emit(folder, [], translate(
                "InferenceThread", "There are no trained models to save yet: train first."))
            return
        try:
            save_models(models, folder)
        except Exception as error:  # disk full, no permission, ...
            self.saved.emit(folder, [], translate(
                "InferenceThread", "Could not save the models in {folder}: {reason}").format(
                    folder=folder, reason=error))
            return
        self.saved.emit(folder, _ordered_ids(models), "")
