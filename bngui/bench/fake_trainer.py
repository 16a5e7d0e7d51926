"""A fast stand-in for the lockstep trainer: GUI tests whose subject is not learning, and the monkey.

A ``run_protocol.Trainer``: it sends the events the real trainer sends, in the
order and at the cadence ``run_protocol`` describes (its constants), with
made-up numbers, and honours pause and stop between batches. No TensorFlow.
"""

import time

import numpy as np

from bngui.core import events
from bngui.core.data import MnistSplits
from bngui.core.events import Phase
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS
from bngui.core.run_protocol import Trainer, reports_training_batch, validates


def tiny_data(train_images=640):
    """An MnistSplits of blank images: enough for a controller to start a fake run."""
    def images(count):
        return np.zeros((count, 28, 28, 1), np.float32)

    def labels(count):
        return np.arange(count, dtype=np.int32) % 10

    return MnistSplits(images(train_images), labels(train_images), images(100), labels(100),
                       images(100), labels(100), source="blank test images")


class FakeTrainer:
    def __init__(self, variant_ids, data, settings, control, models=None, seconds_per_batch=0.002):
        self.variant_ids = tuple(variant_ids)
        self.settings = settings
        self.control = control
        self.models = dict(models or {})
        self.seconds_per_batch = seconds_per_batch

    def trained_models(self):
        return dict(self.models)

    def precise_models(self):
        return {}

    def _accuracy(self, index, batch):
        """Baselines stay at chance, the others climb."""
        if self.variant_ids[index].startswith("baseline"):
            return 0.1
        return min(0.98, 0.1 + batch / 300)

    def run(self, emit):
        ids, settings, control = self.variant_ids, self.settings, self.control
        emit(events.RunStarted(ids, settings.batches, settings.batch_size))
        emit(events.StatusChanged.of(Phase.COMPILING))
        started = time.perf_counter()
        batches_done = 0
        for batch in range(settings.batches):
            if control.paused:
                emit(events.StatusChanged.of(Phase.PAUSED))
                control.wait_while_paused()
                if not control.stop_requested:
                    emit(events.StatusChanged.of(Phase.TRAINING))
            if control.stop_requested:
                break
            time.sleep(self.seconds_per_batch)
            if batch == 0:
                emit(events.StatusChanged.of(Phase.TRAINING))
            batches_done = batch + 1
            if reports_training_batch(batch):
                for index, variant in enumerate(ids):
                    accuracy = self._accuracy(index, batch)
                    norms = tuple(10.0 ** -(layer / 4) for layer in range(len(WEIGHT_LAYERS)))
                    emit(events.TrainingBatchStatistics(variant, batch, 1 - accuracy, accuracy,
                                                        norms))
            if validates(batch):
                self._metrics(emit, batch, events.VALIDATION)
                self._percentiles(emit, batch)
            if reports_training_batch(batch):
                self._metrics(emit, batch, events.TRAIN)
            if batch > 0:
                elapsed = time.perf_counter() - started
                emit(events.Progress(batches_done, settings.batches,
                                     batch * settings.batch_size / elapsed,
                                     elapsed / batch * (settings.batches - batches_done)))
        stopped = control.stop_requested
        if stopped:
            emit(events.StatusChanged.of(Phase.STOPPING))
        else:
            emit(events.StatusChanged.of(Phase.SCORING))
            emit(events.ScoringProgress(events.ScoringPart.TEST, 1, 1))
            self._metrics(emit, settings.batches, events.VALIDATION)
            self._percentiles(emit, settings.batches)
        seconds = time.perf_counter() - started
        for index, variant in enumerate(ids):
            accuracy = np.nan if stopped else self._accuracy(index, settings.batches)
            emit(events.VariantFinished(variant, events.STOPPED if stopped else events.DONE,
                                        accuracy, accuracy, accuracy, seconds))
        emit(events.RunFinished(events.STOPPED if stopped else events.DONE, seconds))

    def _metrics(self, emit, batch, split):
        for index, variant in enumerate(self.variant_ids):
            accuracy = self._accuracy(index, batch)
            emit(events.Metric(variant, batch, split, 1 - accuracy, accuracy))

    def _percentiles(self, emit, batch):
        row = tuple(float(p) / 100 for p in ACTIVATION_PERCENTILES)
        for variant in self.variant_ids:
            emit(events.ActivationPercentiles(variant, batch, (row,) * len(NONLINEAR_LAYERS)))


def fake_trainer(models=None, seconds_per_batch=0.002):
    """A trainer factory for ``MainWindow(make_trainer=...)``."""
    def make(variant_ids, data, settings, control) -> Trainer:
        return FakeTrainer(variant_ids, data, settings, control, models, seconds_per_batch)

    return make
