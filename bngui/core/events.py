"""What a training run reports, as small immutable records.

The trainer hands these to a callback; the command line prints them, the GUI
forwards them through a queued signal. They hold only plain Python values so
they can cross threads safely.
"""

from dataclasses import dataclass

TRAIN = "train"
VALIDATION = "validation"

# Final states of a variant in a run.
DONE = "done"
STOPPED = "stopped"
DIVERGED = "diverged"


@dataclass(frozen=True)
class RunStarted:
    variant_ids: tuple
    total_batches: int
    batch_size: int


@dataclass(frozen=True)
class StatusChanged:
    """A short human-readable phase of the run: preparing, compiling, paused, ..."""

    message: str


@dataclass(frozen=True)
class Metric:
    """Loss and accuracy of one variant, measured in inference mode.

    ``split`` is TRAIN (the current training batch) or VALIDATION (the whole
    validation set). ``batch`` counts as the notebook does: the index of the
    batch just trained, starting at 0; the final measurement uses the total.
    """

    variant: str
    batch: int
    split: str
    loss: float
    accuracy: float


@dataclass(frozen=True)
class Progress:
    batches_done: int
    total_batches: int
    images_per_second: float
    seconds_left: float


@dataclass(frozen=True)
class VariantDiverged:
    """The variant's loss or gradients became NaN or infinite; it is frozen from here on."""

    variant: str
    batch: int


@dataclass(frozen=True)
class VariantFinished:
    variant: str
    status: str
    validation_accuracy: float
    test_accuracy: float
    single_sample_accuracy: float
    train_seconds: float


@dataclass(frozen=True)
class RunFinished:
    status: str
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
