"""Everything a run has reported so far, kept as growing series per variant.

The GUI feeds every trainer event into a ``RunHistory`` as it arrives and
reads arrays from it when it redraws; no Qt here, so it is tested directly.
It also records the replayable events in the order they arrived: that list is
what a session saves, and replaying it into a new history shows the run again.

A run over several seeds keeps one set of series per seed (``seed_runs``);
``variants`` is the set of the seed being trained (or the last one).
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

# The final scores of a variant (fields of events.VariantFinished).
SCORES = ("validation_accuracy", "test_accuracy", "single_sample_accuracy",
          "precise_validation_accuracy", "precise_test_accuracy")


@dataclass(frozen=True)
class SeedSummary:
    """One score of a variant over several seeds: mean, standard deviation, the worst seed."""

    mean: float
    sd: float
    worst: float
    worst_seed: int
    count: int


def summarize_seeds(results: list) -> dict:
    """``{score: SeedSummary}`` from ``[(seed, VariantFinished)]``, for the scores some seed has.

    The standard deviation is the sample one (n - 1); NaN scores (stopped,
    no BN) are left out.
    """
    summary = {}
    for score in SCORES:
        pairs = [(seed, getattr(record, score)) for seed, record in results]
        pairs = [(seed, value) for seed, value in pairs if np.isfinite(value)]
        if not pairs:
            continue
        values = np.array([value for _, value in pairs])
        worst_seed, worst = min(pairs, key=lambda pair: pair[1])
        summary[score] = SeedSummary(float(values.mean()),
                                     float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                                     float(worst), worst_seed, len(values))
    return summary


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
    # events.BatchNormLag, in arrival order.
    lag_batches: list = field(default_factory=list)
    lag_variance_ratio: list = field(default_factory=list)  # a tuple per NONLINEAR_LAYERS
    lag_mean_shift: list = field(default_factory=list)

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

    def lag_matrix(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(batches, variance ratios, mean shifts): one row per measurement, one column per
        NONLINEAR_LAYERS (the BN layer of each)."""
        columns = len(NONLINEAR_LAYERS)
        return (
            np.asarray(self.lag_batches, dtype=float),
            np.asarray(self.lag_variance_ratio, dtype=float).reshape(-1, columns),
            np.asarray(self.lag_mean_shift, dtype=float).reshape(-1, columns),
        )

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
        self.variants = self._new_seed_run()
        # [(seed, {variant_id: VariantHistory})], one per seed; the seed is None
        # until a SeedStarted names it (a run of one seed never does).
        self.seed_runs: list = [(None, self.variants)]
        self.seeds: tuple = ()  # the run's seeds, when it repeats over several
        self.recorded: list = []  # the replayable events (events.REPLAYED_EVENTS), in arrival order
        self.metrics: list[events.Metric] = []  # every Metric in arrival order, for CSV export
        self.metric_seeds: list = []  # the seed of each of them (None: a run of one seed)
        self.progress: events.Progress | None = None
        self.scoring: events.ScoringProgress | None = None  # how far the final scoring is
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
    def total_batches(self) -> int:
        """The batches the run plans, over all its seeds (0 before it starts)."""
        if self.started is None:
            return 0
        return self.started.total_batches * max(1, len(self.seeds))

    @property
    def batches_done(self) -> int:
        """How many batches the run has trained, over all its seeds, as far as its events tell.

        Progress is not reported for the first batch (there is no speed yet), so
        the batches of the training metrics count too; a run that finished with
        every variant done trained them all.
        """
        done = self.progress.batches_done if self.progress is not None else 0
        per_seed = self.started.total_batches if self.started is not None else 0
        before = per_seed * (len(self.seed_runs) - 1)  # the seeds already trained
        for record in self.variants.values():
            for batches in (record.batches["train_loss"], record.step_batches):
                if batches:
                    done = max(done, before + int(batches[-1]) + 1)
        finished = self.finished
        if (finished is not None and finished.status == events.DONE and self.started is not None
                and all(record.state == events.DONE for record in self.variants.values())):
            done = self.total_batches
        return done

    @property
    def batches_done_in_seed(self) -> int:
        """How many batches of the seed on screen (the latest) have been trained."""
        if self.started is None:
            return 0
        per_seed = self.started.total_batches
        return max(0, min(per_seed, self.batches_done - per_seed * (len(self.seed_runs) - 1)))

    def _new_seed_run(self):
        return {variant_id: VariantHistory(variant_id) for variant_id in self.variant_ids}

    @property
    def over_seeds(self) -> bool:
        return len(self.seed_runs) > 1 or len(self.seeds) > 1

    def across_seeds(self, variant_id: str) -> list:
        """The variant's VariantHistory of every seed so far, in order."""
        return [variants[variant_id] for _, variants in self.seed_runs if variant_id in variants]

    def results_by_seed(self) -> dict:
        """``{variant_id: [(seed, VariantFinished)]}`` of the seeds finished so far."""
        return {
            variant_id: [(seed, variants[variant_id].result) for seed, variants in self.seed_runs
                         if variants[variant_id].result is not None]
            for variant_id in self.variant_ids
        }

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
            self.metric_seeds.append(self.seed_runs[-1][0])
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
        elif isinstance(event, events.BatchNormLag):
            self.statistics_version = next(_versions)
            record = self.variants[event.variant]
            record.lag_batches.append(event.batch)
            record.lag_variance_ratio.append(tuple(event.variance_ratio))
            record.lag_mean_shift.append(tuple(event.mean_shift))
        elif isinstance(event, events.Progress):
            self.progress = event
        elif isinstance(event, events.ScoringProgress):
            self.scoring = event
        elif isinstance(event, events.StatusChanged):
            self.phase, self.status = event.phase, event.message
            if event.phase in (events.Phase.PAUSED, events.Phase.TRAINING):
                self._set_states_of_unfinished(
                    PAUSED if event.phase == events.Phase.PAUSED else RUNNING
                )
        elif isinstance(event, events.RunStarted):
            self.version = next(_versions)  # the curves' batch axis spans the planned run
            self.started = event
            self.seeds = tuple(event.seeds)
            self._set_states_of_unfinished(RUNNING)
        elif isinstance(event, events.SeedStarted):
            self.version = self.statistics_version = next(_versions)
            if self.seed_runs[-1][0] is None:
                self.seed_runs[-1] = (event.seed, self.variants)
            else:
                self.variants = self._new_seed_run()
                self.seed_runs.append((event.seed, self.variants))
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
