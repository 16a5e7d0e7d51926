"""What a trainer is to the window and the commands, and the notebook's cadence.

No TensorFlow here: the GUI tests' fake trainer (``tests/gui/fake_trainer.py``)
implements ``Trainer`` with these same constants, so it sends the events of a
real run at the same cadence and in the same order.

The events of a run, in order (``core/events.py``):

1. ``RunStarted``, ``StatusChanged(COMPILING)``.
2. Per batch, after its training step (``StatusChanged(TRAINING)`` after the
   first; ``PAUSED`` then ``TRAINING`` around a pause): ``VariantDiverged`` for
   a variant whose loss exploded; every TRAIN_METRIC_EVERY batches
   ``TrainingBatchStatistics``; every VALIDATION_EVERY batches the validation
   ``Metric`` and the probe statistics (``ActivationPercentiles``,
   ``BatchNormLag``); every TRAIN_METRIC_EVERY batches the training-batch
   ``Metric``; from the second batch on, ``Progress``.
3. Done: ``StatusChanged(SCORING)`` and ``ScoringProgress`` (validation,
   test, single samples), with precise BN ``StatusChanged(PRECISE)`` and its
   ``ScoringProgress``; then the last validation ``Metric`` (batch = the
   total) and probe statistics; one ``VariantFinished`` per variant;
   ``RunFinished(DONE)``.
   Stopped (at any moment): ``StatusChanged(STOPPING)``, one
   ``VariantFinished`` per variant (STOPPED or DIVERGED, NaN scores: a
   stopped run is not scored), ``RunFinished(STOPPED)``.
"""

from collections.abc import Callable
from typing import Protocol

TRAIN_METRIC_EVERY = 25  # the training batch's loss and accuracy, and the step's statistics
VALIDATION_EVERY = 100  # the whole validation set, and the probe statistics
SINGLE_SAMPLES = 100  # the first test images, scored one at a time at the end


def reports_training_batch(batch: int) -> bool:
    """Whether the run reports the training batch ``batch`` (counted from 0)."""
    return batch % TRAIN_METRIC_EVERY == 0


def validates(batch: int) -> bool:
    """Whether the run scores the validation set after batch ``batch`` (counted from 0)."""
    return batch % VALIDATION_EVERY == 0


class Trainer(Protocol):
    """A run of some variants: ``make_trainer``'s trainers and the GUI tests' fake.

    ``run`` is called once, in a worker thread; it reports through ``emit``
    (the events above) and honours its ``RunControl``'s pause and stop.
    """

    variant_ids: tuple

    def run(self, emit: Callable[[object], None]) -> list:
        """Train; returns the ``VariantFinished`` records."""
        ...

    @property
    def models(self) -> dict:
        """``{variant_id: keras model}`` as trained (live: a later run may change them)."""
        ...

    def trained_models(self) -> dict:
        """Copies of the trained models to keep, with precise BN's as ``ID-precise``."""
        ...

    def precise_models(self) -> dict:
        """``{variant_id: keras model}`` with precise-BN statistics (after a run)."""
        ...
