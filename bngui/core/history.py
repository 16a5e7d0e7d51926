"""Everything a run has reported so far, kept as growing series per variant.

The GUI feeds every trainer event into a ``RunHistory`` as it arrives and
reads arrays from it when it redraws; no Qt here, so it is tested directly.
It also records the replayable events in the order they arrived: that list is
what a session saves, and replaying it into a new history shows the run again.
"""

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bngui.core import events
from bngui.core.events import State
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS

# States a variant goes through in the results table, before its final one.
WAITING, RUNNING, PAUSED = State.WAITING, State.RUNNING, State.PAUSED
_UNFINISHED = (WAITING, RUNNING, PAUSED)

# Versions are unique across histories, so a view that drew one history never
# mistakes a new one for what it already shows.
_versions = itertools.count(1)

SERIES = ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy")


@dataclass
class VariantHistory:
    variant: str
    state: State = WAITING
    batches: dict = field(default_factory=lambda: {name: [] for name in SERIES})
    values: dict = field(default_factory=lambda: {name: [] for name in SERIES})
    result: events.VariantFinished | None = None
    diverged_at: int | None = None
    # What the training step saw (events.TrainingBatchStatistics), in arrival order.
    step_batches: list = field(default_factory=list)
    step_loss: list = field(default_factory=list)
    step_accuracy: list = field(default_factory=list)
    gradient_norms: list = field(default_factory=list)  # a tuple per WEIGHT_LAYERS
    # events.ActivationPercentiles, in arrival order.
    activation_batches: list = field(default_factory=list)
    activation_percentiles: list = field(default_factory=list)  # [layer][percentile]

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(batches, values) of one series as float arrays."""
        return (
            np.asarray(self.batches[name], dtype=float),
            np.asarray(self.values[name], dtype=float),
        )

    def gradient_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """(batches, norms): norms has one row per recorded batch, one column per WEIGHT_LAYERS."""
        norms = np.asarray(self.gradient_norms, dtype=float).reshape(-1, len(WEIGHT_LAYERS))
        return np.asarray(self.step_batches, dtype=float), norms

    def training_mode_accuracy(self) -> tuple[np.ndarray, np.ndarray]:
        """(batches, accuracy) of the training step itself, with batch statistics."""
        return np.asarray(self.step_batches, dtype=float), np.asarray(self.step_accuracy, dtype=float)

    def training_mode_loss(self) -> tuple[np.ndarray, np.ndarray]:
        """(batches, loss) of the training step itself, with batch statistics."""
        return np.asarray(self.step_batches, dtype=float), np.asarray(self.step_loss, dtype=float)

    def activation_series(self, layer: str) -> tuple[np.ndarray, np.ndarray]:
        """(batches, percentiles) of one layer in NONLINEAR_LAYERS; one row per batch,
        one column per ACTIVATION_PERCENTILES."""
        index = NONLINEAR_LAYERS.index(layer)
        table = np.asarray(self.activation_percentiles, dtype=float)
        table = table.reshape(-1, len(NONLINEAR_LAYERS), len(ACTIVATION_PERCENTILES))
        return np.asarray(self.activation_batches, dtype=float), table[:, index, :]


class RunHistory:
    def __init__(self, variant_ids: Iterable[str] = ()) -> None:
        self.reset(variant_ids)

    def reset(self, variant_ids: Iterable[str]) -> None:
        self.variant_ids = tuple(variant_ids)
        self.variants = {variant_id: VariantHistory(variant_id) for variant_id in self.variant_ids}
        self.recorded: list = []  # the replayable events (events.REPLAYED_EVENTS), in arrival order
        self.metrics: list[events.Metric] = []  # every Metric in arrival order, for CSV export
        self.progress: events.Progress | None = None
        self.phase: events.Phase | None = None  # the latest one
        self.status = ""  # its message
        self.finished: events.RunFinished | None = None
        self.started: events.RunStarted | None = None  # the planned length of this run
        # Changed when the curves' data change (a new run, a new metric), so the
        # plots redraw only then; progress every batch must not redraw them.
        self.version = next(_versions)
        # The same for the statistics views (gradient norms, activations).
        self.statistics_version = next(_versions)

    @property
    def batches_done(self) -> int:
        """How many batches the run has trained, as far as its events tell.

        Progress is not reported for the first batch (there is no speed yet), so
        the batches of the training metrics count too; a run that finished with
        every variant done trained them all.
        """
        done = self.progress.batches_done if self.progress is not None else 0
        for record in self.variants.values():
            for batches in (record.batches["train_loss"], record.step_batches):
                if batches:
                    done = max(done, int(batches[-1]) + 1)
        finished = self.finished
        if (finished is not None and finished.status == events.DONE and self.started is not None
                and all(record.state == events.DONE for record in self.variants.values())):
            done = self.started.total_batches
        return done

    def copy(self) -> "RunHistory":
        """A new history with the same recorded events: a snapshot a new run cannot change."""
        return RunHistory.replayed(self.variant_ids, tuple(self.recorded))

    @classmethod
    def replayed(cls, variant_ids: Iterable[str], recorded: Iterable) -> "RunHistory":
        """A history rebuilt from recorded events (a saved session's)."""
        history = cls(variant_ids)
        for event in recorded:
            history.handle(event)
        return history

    def handle(self, event: object) -> None:
        """Record one trainer event."""
        if isinstance(event, events.REPLAYED_EVENTS):
            self.recorded.append(event)
        if isinstance(event, events.Metric):
            self.version = next(_versions)
            self.metrics.append(event)
            record = self.variants[event.variant]
            prefix = "validation" if event.split == events.VALIDATION else "train"
            for suffix, value in (("loss", event.loss), ("accuracy", event.accuracy)):
                record.batches[f"{prefix}_{suffix}"].append(event.batch)
                record.values[f"{prefix}_{suffix}"].append(value)
        elif isinstance(event, events.TrainingBatchStatistics):
            self.statistics_version = next(_versions)
            record = self.variants[event.variant]
            record.step_batches.append(event.batch)
            record.step_loss.append(event.loss)
            record.step_accuracy.append(event.accuracy)
            record.gradient_norms.append(tuple(event.gradient_norms))
        elif isinstance(event, events.ActivationPercentiles):
            self.statistics_version = next(_versions)
            record = self.variants[event.variant]
            record.activation_batches.append(event.batch)
            record.activation_percentiles.append(event.percentiles)
        elif isinstance(event, events.Progress):
            self.progress = event
        elif isinstance(event, events.StatusChanged):
            self.phase, self.status = event.phase, event.message
            if event.phase in (events.Phase.PAUSED, events.Phase.TRAINING):
                self._set_states_of_unfinished(
                    PAUSED if event.phase == events.Phase.PAUSED else RUNNING
                )
        elif isinstance(event, events.RunStarted):
            self.version = next(_versions)  # the curves' batch axis spans the planned run
            self.started = event
            self._set_states_of_unfinished(RUNNING)
        elif isinstance(event, events.VariantDiverged):
            self.version = next(_versions)  # the curves mark where it diverged
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
        for record in self.variants.values():
            if record.state in _UNFINISHED:
                record.state = state
