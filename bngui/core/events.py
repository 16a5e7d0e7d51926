"""What a training run reports, as small immutable records.

The trainer hands these to a callback; the command line prints them, the GUI
forwards them through a queued signal. They hold only plain Python values so
they can cross threads safely. Phases and states are enums whose values are
the words stored in session files; what a user reads is derived from them.
"""

import math
from dataclasses import dataclass
from enum import Enum


class _Word(str, Enum):
    """An enum whose members are their words, also in f-strings and str() (as StrEnum)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(self, format_spec)


class Split(_Word):
    """Which images a ``Metric`` was measured on."""

    TRAIN = "train"  # the current training batch
    VALIDATION = "validation"  # the whole validation set


class Phase(_Word):
    """What the trainer is doing now (``StatusChanged``)."""

    COMPILING = "compiling"  # building the models and tracing the step
    TRAINING = "training"
    PAUSED = "paused"
    SCORING = "scoring"  # final validation, test and 100-sample scores
    PRECISE = "precise"  # precise BN: population statistics re-estimated, then scored
    STOPPING = "stopping"  # a stop was seen: the run ends now, unscored (see ``LockstepTrainer.run``)


class State(_Word):
    """Where one variant is in a run; the last three are final (``VariantFinished``)."""

    WAITING = "waiting"
    RUNNING = "running"
    PAUSED = "paused"
    DONE = "done"
    STOPPED = "stopped"
    DIVERGED = "diverged"


FINAL_STATES = (State.DONE, State.STOPPED, State.DIVERGED)
RUN_OUTCOMES = (State.DONE, State.STOPPED)  # how a whole run ends (``RunFinished``)

# Short names, as the rest of the code reads them.
TRAIN, VALIDATION = Split.TRAIN, Split.VALIDATION
DONE, STOPPED, DIVERGED = State.DONE, State.STOPPED, State.DIVERGED

PHASE_MESSAGES = {
    Phase.COMPILING: "Compiling the training step",
    Phase.TRAINING: "Training",
    Phase.PAUSED: "Paused",
    Phase.SCORING: "Scoring validation and test sets",
    Phase.PRECISE: "Precise BN: re-estimating the population statistics",
    Phase.STOPPING: "Stopping",
}


class ScoringPart(_Word):
    """What the final scoring is measuring now (``ScoringProgress``)."""

    VALIDATION = "validation"  # the whole validation set, population (EMA) statistics
    TEST = "test"  # the whole test set
    SINGLE_SAMPLES = "single samples"  # the first 100 test images, one at a time
    PRECISE_STATISTICS = "precise statistics"  # precise BN's training batches (counted in batches)
    PRECISE_VALIDATION = "precise validation"  # the validation set with precise-BN statistics
    PRECISE_TEST = "precise test"  # the test set with precise-BN statistics


@dataclass(frozen=True)
class RunStarted:
    """A run begins; ``total_batches`` per seed, and ``seeds`` when it repeats over several."""

    variant_ids: tuple
    total_batches: int
    batch_size: int
    seeds: tuple = ()


@dataclass(frozen=True)
class SeedStarted:
    """In a run over several seeds, what follows (until the next one) is this seed's."""

    seed: int


@dataclass(frozen=True)
class StatusChanged:
    """The run entered ``phase``; ``message`` is its English description (the command line's)."""

    phase: Phase
    message: str = ""

    @classmethod
    def of(cls, phase: Phase) -> "StatusChanged":
        return cls(phase, PHASE_MESSAGES[phase])


@dataclass(frozen=True)
class Metric:
    """Loss and accuracy of one variant, measured in inference mode.

    ``split`` is TRAIN (the current training batch) or VALIDATION (the whole
    validation set). ``batch`` counts as the notebook does: the index of the
    batch just trained, starting at 0; the final measurement uses the total.
    """

    variant: str
    batch: int
    split: Split
    loss: float
    accuracy: float


@dataclass(frozen=True)
class Progress:
    batches_done: int
    total_batches: int
    images_per_second: float
    seconds_left: float


@dataclass(frozen=True)
class ScoringProgress:
    """How far the final scoring has come: ``done`` of ``total`` images of ``part``.

    Sent after each chunk of the final scoring (for ``PRECISE_STATISTICS``
    the count is of training batches). A passing state of a live run, like
    ``Progress``: sessions do not keep it.
    """

    part: ScoringPart
    done: int
    total: int


@dataclass(frozen=True)
class VariantDiverged:
    """The variant's training loss exploded; it is frozen from here on.

    Exploded means: the loss or a gradient became NaN or infinite (that step
    changed no weight), or the loss grew beyond ``trainer.LOSS_EXPLOSION``
    times its first batch's loss (see ``trainer.loss_exploded``).
    """

    variant: str
    batch: int


@dataclass(frozen=True)
class VariantFinished:
    """A variant's final scores, in inference mode with its population (EMA) statistics.

    The precise ones are scored again after precise BN re-estimated the
    population statistics with the weights fixed; NaN for a variant without
    BN, or when precise BN was off or the run was stopped.
    """

    variant: str
    status: State  # one of FINAL_STATES
    validation_accuracy: float
    test_accuracy: float
    single_sample_accuracy: float
    train_seconds: float
    precise_validation_accuracy: float = math.nan
    precise_test_accuracy: float = math.nan


@dataclass(frozen=True)
class RunFinished:
    status: State  # one of RUN_OUTCOMES
    seconds: float


@dataclass(frozen=True)
class TrainingBatchStatistics:
    """What the training step itself saw on one batch, in training mode.

    ``loss`` and ``accuracy`` use the batch's own statistics, as training does
    (so they rise even for a model whose inference is broken).
    ``gradient_norms`` holds the L2 norm of each layer's weight gradient, one
    per name in ``layer_names.WEIGHT_LAYERS``.
    """

    variant: str
    batch: int
    loss: float
    accuracy: float
    gradient_norms: tuple


@dataclass(frozen=True)
class ActivationPercentiles:
    """Percentiles of what each ReLU receives, on a fixed probe batch in inference mode.

    ``percentiles`` has one tuple per name in ``layer_names.NONLINEAR_LAYERS``,
    each holding the ``layer_names.ACTIVATION_PERCENTILES`` (15th, 50th, 85th).
    """

    variant: str
    batch: int
    percentiles: tuple


@dataclass(frozen=True)
class BatchNormLag:
    """How far each BN layer's population statistics are from its input's true statistics.

    Measured on the fixed probe batch in training mode (nothing changed), at
    the validation cadence, for variants with BN. One value per name in
    ``layer_names.NONLINEAR_LAYERS`` (the BN layer of that convolution or of
    the 100-unit layer): ``variance_ratio`` is population over true variance
    (geometric mean over features; 1 is agreement), ``mean_shift`` the
    population mean's distance from the true mean in true standard
    deviations (root mean square over features; 0 is agreement).
    """

    variant: str
    batch: int
    variance_ratio: tuple
    mean_shift: tuple


# The events that make up what a run showed: a session saves them in arrival
# order and replays them to show the run again. Progress and status are
# passing states of a live run.
REPLAYED_EVENTS = (
    RunStarted, SeedStarted, Metric, TrainingBatchStatistics, ActivationPercentiles, BatchNormLag,
    VariantDiverged, VariantFinished, RunFinished,
)
