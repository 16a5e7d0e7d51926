"""Everything a run has reported so far, kept as growing series per variant.

The GUI feeds every trainer event into a ``RunHistory`` as it arrives and
reads arrays from it when it redraws; no Qt here, so it is tested directly.
"""

from dataclasses import dataclass, field

import numpy as np

from bngui.core import events
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS

# States a variant goes through in the results table.
WAITING = "waiting"
RUNNING = "running"
PAUSED = "paused"

SERIES = ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy")


@dataclass
class VariantHistory:
    variant: str
    state: str = WAITING
    batches: dict = field(default_factory=lambda: {name: [] for name in SERIES})
    values: dict = field(default_factory=lambda: {name: [] for name in SERIES})
    result: events.VariantFinished = None
    diverged_at: int = None
    # What the training step saw (events.TrainingBatchStatistics), in arrival order.
    step_batches: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    step_accuracy: list = field(default_factory=list)
    gradient_norms: list = field(default_factory=list)  # a tuple per WEIGHT_LAYERS
    # events.ActivationPercentiles, in arrival order.
    activation_batches: list = field(default_factory=list)
    activation_percentiles: list = field(default_factory=list)  # [layer][percentile]

    def series(self, name):
        """(batches, values) of one series as float arrays."""
        return (
            np.asarray(self.batches[name], dtype=float),
            np.asarray(self.values[name], dtype=float),
        )

    def gradient_matrix(self):
        """(batches, norms): norms has one row per recorded batch, one column per WEIGHT_LAYERS."""
        norms = np.asarray(self.gradient_norms, dtype=float).reshape(-1, len(WEIGHT_LAYERS))
        return np.asarray(self.step_batches, dtype=float), norms

    def training_mode_accuracy(self):
        """(batches, accuracy) of the training step itself, with batch statistics."""
        return np.asarray(self.step_batches, dtype=float), np.asarray(self.step_accuracy, dtype=float)

    def activation_series(self, layer):
        """(batches, percentiles) of one layer in NONLINEAR_LAYERS; one row per batch,
        one column per ACTIVATION_PERCENTILES."""
        index = NONLINEAR_LAYERS.index(layer)
        table = np.asarray(self.activation_percentiles, dtype=float)
        table = table.reshape(-1, len(NONLINEAR_LAYERS), len(ACTIVATION_PERCENTILES))
        return np.asarray(self.activation_batches, dtype=float), table[:, index, :]


class RunHistory:
    def __init__(self, variant_ids=()):
        self.reset(variant_ids)

    def reset(self, variant_ids):
        self.variant_ids = tuple(variant_ids)
        self.variants = {variant_id: VariantHistory(variant_id) for variant_id in variant_ids}
        self.metrics = []  # every Metric in arrival order, for CSV export
        self.progress = None
        self.status = ""
        self.finished = None  # the RunFinished record
        self.started = None  # the RunStarted record (planned length) of this run
        # Bumped when the curves' data change (a new run, a new metric), so the
        # plots redraw only then; progress every batch must not redraw them.
        self.version = getattr(self, "version", 0) + 1
        # The same for the statistics views (gradient norms, activations).
        self.statistics_version = getattr(self, "statistics_version", 0) + 1

    def handle(self, event):
        """Record one trainer event."""
        if isinstance(event, events.Metric):
            self.version += 1
            self.metrics.append(event)
            record = self.variants[event.variant]
            prefix = "validation" if event.split == events.VALIDATION else "train"
            for suffix, value in (("loss", event.loss), ("accuracy", event.accuracy)):
                record.batches[f"{prefix}_{suffix}"].append(event.batch)
                record.values[f"{prefix}_{suffix}"].append(value)
        elif isinstance(event, events.TrainingBatchStatistics):
            self.statistics_version += 1
            record = self.variants[event.variant]
            record.step_batches.append(event.batch)
            record.step_loss.append(event.loss)
            record.step_accuracy.append(event.accuracy)
            record.gradient_norms.append(tuple(event.gradient_norms))
        elif isinstance(event, events.ActivationPercentiles):
            self.statistics_version += 1
            record = self.variants[event.variant]
            record.activation_batches.append(event.batch)
            record.activation_percentiles.append(event.percentiles)
        elif isinstance(event, events.Progress):
            self.progress = event
        elif isinstance(event, events.StatusChanged):
            self.status = event.message
            self._set_states_of_unfinished(
                PAUSED if event.message == "Paused" else RUNNING if event.message == "Training" else None
            )
        elif isinstance(event, events.RunStarted):
            self.version += 1  # the curves' batch axis spans the planned run
            self.started = event
            self._set_states_of_unfinished(RUNNING)
        elif isinstance(event, events.VariantDiverged):
            self.version += 1  # the curves mark where it diverged
            record = self.variants[event.variant]
            record.state = events.DIVERGED
            record.diverged_at = event.batch
        elif isinstance(event, events.VariantFinished):
            record = self.variants[event.variant]
            record.result = event
            record.state = event.status
        elif isinstance(event, events.RunFinished):
            self.finished = event

    def _set_states_of_unfinished(self, state):
        if state is None:
            return
        for record in self.variants.values():
            if record.state in (WAITING, RUNNING, PAUSED):
                record.state = state
