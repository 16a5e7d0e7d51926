"""The lockstep trainer: several variants trained side by side on the same batches.

Every batch goes to every variant (a ``CompiledVariant``), PARALLEL_VARIANTS
at a time in threads (TensorFlow releases the GIL while a graph runs), so the
variants see the same images in the same order: a fair comparison. Progress
is reported as records from ``events``, in the order ``run_protocol`` states.
"""

import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from bngui.core import bn_statistics, events
from bngui.core.compiled_variant import (
    IMAGES_SPEC,
    PARALLEL_VARIANTS,
    SEED_SPEC,
    STEP_STATISTICS,
    CompiledVariant,
    CompiledVariants,
    first_call_pool,
)
from bngui.core.events import Phase
from bngui.core.run_control import RunControl
from bngui.core.run_protocol import SINGLE_SAMPLES, reports_training_batch, validates
from bngui.core.settings import SettingsError, TrainSettings
from bngui.core.tf_runtime import tf
from bngui.core.variants import PRECISE_SUFFIX, get_variant

# Images per scoring call of one variant. A stop is checked before every compiled
# call, so it waits for at most one such call per thread: 500 images take 50-70 ms
# for one variant on one core (about 0.2 s on a busy machine).
EVALUATION_CHUNK = 500
SINGLE_SAMPLE_CHUNK = 25
# A variant has diverged when its training loss is not finite, or above this many
# times its first batch's loss: at a learning rate of 1.0 the plain network's loss
# reaches 1e25 and stays finite. A run that learns only lowers its loss (sigmoid:
# 0.69 at the start), and one that merely struggles stays near it.
LOSS_EXPLOSION = 100.0
# The fixed probe batch for the activation and BN-lag statistics: the first validation images.
PROBE_IMAGES = 64


def loss_exploded(losses, first_losses) -> np.ndarray:
    """Per variant, whether a training loss counts as diverged (see ``LOSS_EXPLOSION``).

    ``first_losses`` are the same variants' losses on the run's first batch.
    """
    losses = np.asarray(losses, np.float64)
    with np.errstate(invalid="ignore"):  # a NaN first loss compares as False
        return ~np.isfinite(losses) | (losses > LOSS_EXPLOSION * np.asarray(first_losses))


class _Stopped(Exception):
    """A stop was requested: raised before the next compiled call, caught by ``run``."""


def _timed_call(function, entry, *args):
    """``function(entry, *args)``, its duration kept in ``entry.seconds[function]``."""
    started = time.perf_counter()
    result = function(entry, *args)
    entry.seconds[function] = time.perf_counter() - started
    return result


class LockstepTrainer:
    """Train ``variant_ids`` side by side on ``data`` (a ``data.MnistSplits``).

    With ``collect_statistics`` the run also reports, per variant, the training
    step's own loss, accuracy and per-layer gradient norms every
    TRAIN_METRIC_EVERY batches, and at the validation cadence the percentiles
    of every ReLU's input and, with BN, the lag of the population statistics,
    on a fixed probe batch. ``compiled`` is a ``CompiledVariants`` cache to
    take compiled variants from (a new one by default).
    """

    def __init__(self, variant_ids, data, settings=None, control=None, collect_statistics=True,
                 compiled: CompiledVariants | None = None):
        if not variant_ids:
            raise SettingsError("choose at least one variant")
        self.variants = [get_variant(variant_id) for variant_id in variant_ids]
        if len({variant.id for variant in self.variants}) != len(self.variants):
            raise SettingsError("each variant may be chosen only once")
        self.data = data
        self.settings = (settings or TrainSettings()).validate(len(data.train_labels))
        self.control = control or RunControl()
        self.variant_ids = tuple(variant.id for variant in self.variants)
        self.collect_statistics = collect_statistics
        cache = compiled or CompiledVariants(limit=len(self.variants))
        self.compiled = {}
        # A variant whose functions are on disk loads them as soon as it is built; their
        # first calls then run beside the building of the next variants.
        with first_call_pool() as first_calls:
            for variant in self.variants:
                entry = self.compiled[variant.id] = cache.get(variant, self.settings)
                entry.reinitialize(self.settings.seed,
                                   self.settings.learning_rate * variant.learning_rate_factor)
                if entry.loads_from_disk():
                    entry.trace(for_training=True, first_calls_in=first_calls)
        self._augment = None
        self.precise: dict = {}  # {variant_id: precise-BN statistics} after a run
        self.timings: dict = {}

    @property
    def models(self) -> dict:
        """``{variant_id: keras model}``, trained in place."""
        return {variant_id: entry.model for variant_id, entry in self.compiled.items()}

    @property
    def learning_rates(self) -> dict:
        return {vid: float(entry.learning_rate.numpy()) for vid, entry in self.compiled.items()}

    def trained_models(self) -> dict:
        """The trained models to keep after the run: copies, which the next run of the same
        (compiled, reused) variants leaves alone, and those with precise-BN statistics
        (``ID-precise``)."""
        kept = {variant_id: entry.detached_model() for variant_id, entry in self.compiled.items()}
        precise = {f"{vid}{PRECISE_SUFFIX}": model for vid, model in self.precise_models().items()}
        return {**kept, **precise}

    # -- compiled pieces -------------------------------------------------------------

    def trace(self, everything=False, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Compile what a run needs before its final scoring (with ``everything``, every
        function) for every variant, unless compiled already, and the augmentation.

        ``cancelled`` is asked between functions; when it says so, the rest is left.
        """
        with first_call_pool() as first_calls:
            for entry in self.compiled.values():
                entry.trace(cancelled, for_training=not everything, first_calls_in=first_calls)
        for entry in self.compiled.values():
            # Again what failed there, to report it (or what was cancelled: nothing).
            entry.trace(cancelled, for_training=not everything)
        if self.settings.augment and self._augment is None:
            from bngui.core.augment import augment_batch

            self._augment = tf.function(augment_batch).get_concrete_function(IMAGES_SPEC, SEED_SPEC)

    def _check_stop(self) -> None:
        """Raise ``_Stopped`` if a stop was requested (asked before every compiled call)."""
        if self.control.stop_requested:
            raise _Stopped

    def _each(self, pool, function, items, *args):
        """``function(item, *args)`` for every item, PARALLEL_VARIANTS at a time; results in order.

        A stop request is seen before each call (``_Stopped``). The items that
        took longest last time start first, so that the threads finish
        together rather than one waiting for a long item started last.
        """
        def call(item):
            self._check_stop()
            return _timed_call(function, item, *args)

        if pool is None or len(items) == 1:
            return [call(item) for item in items]
        futures = {}
        for index in sorted(range(len(items)), key=lambda index: -items[index].seconds[function]):
            futures[index] = pool.submit(call, items[index])
        return [futures[index].result() for index in range(len(items))]

    def train_step(self, images, labels, active=None, pool=None):
        """Train every active variant on one batch (the same batch for all).

        Returns which variants were updated (inactive ones and non-finite
        steps are not) and per variant the training-mode loss, accuracy and
        gradient norms (zeros for inactive ones).
        """
        entries = list(self.compiled.values())
        if active is None:
            active = np.ones(len(entries), dtype=bool)
        chosen = [entry for entry, on in zip(entries, active) if on]
        images = tf.convert_to_tensor(images, tf.float32)
        labels = tf.convert_to_tensor(labels, tf.int32)
        outputs = iter(self._each(pool, CompiledVariant.train_on, chosen, images, labels))
        applied = np.zeros(len(entries), dtype=bool)
        measured = np.zeros((len(entries), STEP_STATISTICS), dtype=np.float32)
        for index, on in enumerate(active):
            if on:
                finite, statistics = next(outputs)
                applied[index], measured[index] = bool(finite), statistics.numpy()
        return applied, measured

    # -- measuring -------------------------------------------------------------------

    def _measure(self, pool, images, labels, entries, progress=None):
        """Mean loss and accuracy of each entry over a whole set, in chunks.

        ``progress(done, total)`` is called after each chunk (``_progress``).
        """
        loss_sums, correct = np.zeros(len(entries)), np.zeros(len(entries))
        for start in range(0, len(labels), EVALUATION_CHUNK):
            chunk_images = tf.convert_to_tensor(images[start : start + EVALUATION_CHUNK])
            chunk_labels = tf.convert_to_tensor(labels[start : start + EVALUATION_CHUNK])
            results = self._each(pool, CompiledVariant.evaluate_on, entries, chunk_images,
                                 chunk_labels)
            loss_sums += [float(loss) for loss, _ in results]
            correct += [float(hits) for _, hits in results]
            if progress is not None:
                progress(min(start + EVALUATION_CHUNK, len(labels)), len(labels))
        return loss_sums / len(labels), correct / len(labels)

    def _single_sample_accuracy(self, emit, pool, entries):
        """The notebook's check: the first 100 test images scored one at a time."""
        count = min(SINGLE_SAMPLES, len(self.data.test_labels))
        images, labels = self.data.test_images[:count], self.data.test_labels[:count]
        # The single-sample scoring is compiled at its first use.
        self.trace(everything=True, cancelled=lambda: self.control.stop_requested)
        correct = np.zeros(len(entries))
        for start in range(0, count, SINGLE_SAMPLE_CHUNK):
            chunk_images = tf.convert_to_tensor(images[start : start + SINGLE_SAMPLE_CHUNK])
            chunk_labels = tf.convert_to_tensor(labels[start : start + SINGLE_SAMPLE_CHUNK],
                                                tf.int32)
            correct += [float(hits) for hits in self._each(
                pool, CompiledVariant.single_samples_on, entries, chunk_images, chunk_labels)]
            emit(events.ScoringProgress(events.ScoringPart.SINGLE_SAMPLES,
                                        min(start + SINGLE_SAMPLE_CHUNK, count), count))
        return correct / count

    def probe_percentiles(self) -> np.ndarray:
        """Per variant, per ReLU: the 15th/50th/85th percentile of its input on the probe batch."""
        probe = tf.convert_to_tensor(self.data.validation_images[:PROBE_IMAGES])
        return np.stack([entry.percentiles(probe).numpy() for entry in self.compiled.values()])

    # -- the run ---------------------------------------------------------------------

    def run(self, emit: Callable = lambda event: None) -> list:
        """Train until done or stopped; report every event through ``emit``.

        A stop (``control.stop()``, from any thread) is seen before the next
        compiled call: one variant's training step, one scoring chunk
        (EVALUATION_CHUNK images, SINGLE_SAMPLE_CHUNK single samples, one of
        precise BN's batches) or, while compiling, the next function. With
        PARALLEL_VARIANTS threads the run ends once the calls under way are
        done: well under half a second, in training, validation, precise BN
        and the final scoring alike. It then sends
        ``StatusChanged(Phase.STOPPING)``, one ``VariantFinished`` per variant
        and ``RunFinished(STOPPED)``.

        A stopped run is not scored: its ``VariantFinished`` records have
        status STOPPED (DIVERGED for a variant that had diverged) and NaN
        scores, also when the stop came during the final scoring, and nothing
        of an unfinished final scoring is reported (no last validation point,
        no last statistics). What was measured before the stop stays: the
        validation set every VALIDATION_EVERY batches, the training batch
        every TRAIN_METRIC_EVERY. The final scoring (phases SCORING then
        PRECISE) reports how far it is with ``ScoringProgress`` events.

        Returns the list of ``VariantFinished`` records.
        """
        settings, control = self.settings, self.control
        ids = self.variant_ids
        emit(events.RunStarted(ids, settings.batches, settings.batch_size))
        emit(events.StatusChanged.of(Phase.COMPILING))
        # Seconds spent in each part of the run (bngui bench reports them).
        # "final" is the final scoring without precise BN ("precise").
        self.timings = dict.fromkeys(("compile", "train", "evaluate", "final", "precise"), 0.0)
        diverged = np.zeros(len(ids), dtype=bool)
        finished_seconds = np.full(len(ids), np.nan)
        self._run_started = time.perf_counter()
        scores = None
        try:
            with ThreadPoolExecutor(PARALLEL_VARIANTS, thread_name_prefix="bngui-step") as pool:
                with self._timed("compile"):
                    self.trace(cancelled=lambda: control.stop_requested)
                self._check_stop()
                last_validation = self._train(emit, pool, diverged, finished_seconds)
                finished_seconds[~diverged] = time.perf_counter() - self._run_started
                with self._timed("final"):
                    scores = self._final_scores(emit, pool, diverged, last_validation)
        except _Stopped:
            emit(events.StatusChanged.of(Phase.STOPPING))
        unset = np.isnan(finished_seconds)
        finished_seconds[unset] = time.perf_counter() - self._run_started
        results = self._finish(emit, diverged, finished_seconds, scores)
        emit(events.RunFinished(events.STOPPED if scores is None else events.DONE,
                                time.perf_counter() - self._run_started))
        return results

    def _train(self, emit, pool, diverged, finished_seconds):
        """The batches, with their metrics at the notebook's cadence, until done or all
        diverged (``_Stopped`` on a stop). Marks ``diverged`` variants (and when they
        stopped, in ``finished_seconds``); returns the last validation scores."""
        settings, control, data, ids = self.settings, self.control, self.data, self.variant_ids
        entries = list(self.compiled.values())
        train_images = data.train_images
        train_labels = data.train_labels.astype(np.int32)
        validation_labels = data.validation_labels.astype(np.int32)
        order = _BatchOrder(len(train_labels), settings.batch_size, settings.seed)
        active = ~diverged
        first_losses = None
        last_validation = [None] * len(ids)  # a frozen variant's scores do not change
        paused_seconds = 0.0
        train_started = None
        for batch in range(settings.batches):
            if control.paused:
                emit(events.StatusChanged.of(Phase.PAUSED))
                paused_seconds += control.wait_while_paused()
                if not control.stop_requested:
                    emit(events.StatusChanged.of(Phase.TRAINING))
            self._check_stop()
            indices = order.next_batch()
            batch_images, batch_labels = train_images[indices], train_labels[indices]
            if self._augment is not None:
                # One augmented batch, the same for every variant.
                batch_images = self._augment(tf.convert_to_tensor(batch_images),
                                             tf.constant([settings.seed, batch], tf.int64))
            was_active = active.copy()
            with self._timed("train"):
                applied, measured = self.train_step(batch_images, batch_labels, active, pool)
            if train_started is None:
                # The first batch's graphs were optimised then: time the throughput after it.
                train_started = time.perf_counter()
                paused_seconds = 0.0
                emit(events.StatusChanged.of(Phase.TRAINING))
            batches_done = batch + 1

            if first_losses is None:
                first_losses = measured[:, 0].copy()
            exploded = loss_exploded(measured[:, 0], first_losses)
            newly_diverged = active & (~applied | exploded)
            for index in np.flatnonzero(newly_diverged):
                emit(events.VariantDiverged(ids[index], batch))
                finished_seconds[index] = time.perf_counter() - self._run_started
            diverged |= newly_diverged
            active &= ~newly_diverged

            reporting = reports_training_batch(batch)
            if self.collect_statistics and reporting:
                self._emit_batch_statistics(emit, batch, measured, was_active & applied)
            with self._timed("evaluate"):
                if validates(batch):
                    self._validate(emit, pool, batch, validation_labels, active, last_validation)
                    if self.collect_statistics:
                        self._emit_probe_statistics(emit, pool, batch)
                if reporting:
                    # The training batch, scored in inference mode (the notebook's curve).
                    images = tf.convert_to_tensor(batch_images)
                    labels = tf.convert_to_tensor(batch_labels)
                    scores = self._each(pool, CompiledVariant.evaluate_on, entries, images,
                                        labels)
                    count = len(batch_labels)
                    self._emit_metrics(emit, batch, events.TRAIN,
                                       [float(loss) / count for loss, _ in scores],
                                       [float(hits) / count for _, hits in scores])
            if batch > 0:
                elapsed = time.perf_counter() - train_started - paused_seconds
                per_batch = elapsed / batch
                emit(events.Progress(
                    batches_done, settings.batches,
                    settings.batch_size / per_batch if per_batch > 0 else 0.0,
                    per_batch * (settings.batches - batches_done),
                ))
            if not active.any():
                break
        return last_validation

    @contextmanager
    def _timed(self, part):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[part] += time.perf_counter() - started

    def _validate(self, emit, pool, batch, labels, active, last_validation, progress=None):
        """Validation scores of every variant; a frozen (diverged) one keeps its last."""
        entries = list(self.compiled.values())
        changed = [index for index, on in enumerate(active) if on or last_validation[index] is None]
        measured = self._measure(pool, self.data.validation_images, labels,
                                 [entries[index] for index in changed], progress)
        for position, index in enumerate(changed):
            last_validation[index] = (measured[0][position], measured[1][position])
        self._emit_metrics(emit, batch, events.VALIDATION,
                           [loss for loss, _ in last_validation],
                           [accuracy for _, accuracy in last_validation])

    def _final_scores(self, emit, pool, diverged, last_validation) -> dict:
        """Validation, test and 100-sample accuracy per variant, and precise BN's.

        Returns ``{field of VariantFinished: array per variant}``. The last
        validation point and statistics are sent only once everything is
        scored (a stop on the way, ``_Stopped``, leaves nothing half-reported).
        """
        data, settings = self.data, self.settings
        entries = list(self.compiled.values())
        parts = events.ScoringPart
        emit(events.StatusChanged.of(Phase.SCORING))
        validation_labels = data.validation_labels.astype(np.int32)
        held: list = []  # the last point of the curves and statistics, sent at the end
        self._validate(held.append, pool, settings.batches, validation_labels, ~diverged,
                       last_validation, _progress(emit, parts.VALIDATION))
        test = self._measure(pool, data.test_images, data.test_labels.astype(np.int32), entries,
                             _progress(emit, parts.TEST))
        single = self._single_sample_accuracy(emit, pool, entries)
        if self.collect_statistics:
            # Like the validation curve, the statistics get a last point at the end.
            self._emit_probe_statistics(held.append, pool, settings.batches)
        with self._timed("precise"):
            precise_validation, precise_test = self._precise_scores(emit, pool, diverged)
        self.timings["final"] -= self.timings["precise"]  # counted apart
        for event in held:
            emit(event)
        return {
            "validation_accuracy": np.asarray([accuracy for _, accuracy in last_validation]),
            "test_accuracy": test[1], "single_sample_accuracy": single,
            "precise_validation_accuracy": precise_validation,
            "precise_test_accuracy": precise_test,
        }

    def _finish(self, emit, diverged, finished_seconds, scores) -> list:
        """One ``VariantFinished`` per variant, sent and returned; ``scores`` None if stopped."""
        results = []
        for index, variant_id in enumerate(self.variant_ids):
            if diverged[index]:
                status = events.DIVERGED
            else:
                status = events.STOPPED if scores is None else events.DONE
            figures = {name: float(values[index]) for name, values in (scores or {}).items()}
            record = events.VariantFinished(
                variant_id, status, figures.get("validation_accuracy", math.nan),
                figures.get("test_accuracy", math.nan),
                figures.get("single_sample_accuracy", math.nan),
                float(finished_seconds[index]),
                figures.get("precise_validation_accuracy", math.nan),
                figures.get("precise_test_accuracy", math.nan),
            )
            results.append(record)
            emit(record)
        return results

    # -- precise BN ------------------------------------------------------------------

    def precise_statistics(self, pool=None, variant_ids=None, emit=None):
        """Precise BN for the BN variants (or those of ``variant_ids`` with BN), weights fixed.

        Every BN layer's population statistics re-estimated as the plain
        average of its per-batch moments over ``settings.precise_batches``
        training batches of the run's batch size, in training mode. Returns
        ``{variant_id: statistics}`` (``bn_statistics.Statistics``); raises
        ``_Stopped`` if a stop was requested on the way. With ``emit``, a
        ``ScoringProgress`` after each batch. Changes nothing.
        """
        settings = self.settings
        chosen = [vid for vid in (variant_ids or self.variant_ids)
                  if self.compiled[vid].has_batch_norm]
        if not chosen or settings.precise_batches < 1 or settings.batch_size < 2:
            return {}
        for vid in chosen:
            self.compiled[vid].trace(for_training=True)  # compiled already in a run
        entries = [self.compiled[vid] for vid in chosen]
        indices = bn_statistics.precise_batch_indices(
            len(self.data.train_labels), settings.batch_size, settings.precise_batches,
            settings.seed)
        totals = dict.fromkeys(chosen, 0.0)
        for done, batch in enumerate(indices, 1):
            images = tf.convert_to_tensor(self.data.train_images[batch])
            measured = self._each(pool, CompiledVariant.batch_moments_on, entries, images)
            for vid, values in zip(chosen, measured):
                totals[vid] = totals[vid] + values.numpy().astype(np.float64)
            if emit is not None:
                emit(events.ScoringProgress(events.ScoringPart.PRECISE_STATISTICS, done,
                                            len(indices)))
        return {vid: bn_statistics.batch_norm_probe(self.compiled[vid].model)
                .statistics_from_moments(totals[vid] / len(indices)) for vid in chosen}

    def _precise_scores(self, emit, pool, diverged):
        """Validation and test accuracy with precise-BN statistics, per variant (NaN without BN).

        The statistics are put into the trained models for the scoring and the
        models' own (EMA) ones restored afterwards.
        """
        ids, data, parts = self.variant_ids, self.data, events.ScoringPart
        validation, test = np.full(len(ids), np.nan), np.full(len(ids), np.nan)
        candidates = [vid for vid, gone in zip(ids, diverged) if not gone]
        self.precise = {}
        if (self.settings.precise_batches < 1
                or not any(self.compiled[vid].has_batch_norm for vid in candidates)):
            return validation, test
        emit(events.StatusChanged.of(Phase.PRECISE))
        precise = self.precise_statistics(pool, candidates, emit)
        chosen = list(precise)
        entries = [self.compiled[vid] for vid in chosen]
        ema = {vid: bn_statistics.population_statistics(self.compiled[vid].model) for vid in chosen}
        try:
            for vid in chosen:
                bn_statistics.set_population_statistics(self.compiled[vid].model, precise[vid])
            scored_validation = self._measure(pool, data.validation_images,
                                              data.validation_labels.astype(np.int32), entries,
                                              _progress(emit, parts.PRECISE_VALIDATION))
            scored_test = self._measure(pool, data.test_images, data.test_labels.astype(np.int32),
                                        entries, _progress(emit, parts.PRECISE_TEST))
        finally:
            for vid in chosen:
                bn_statistics.set_population_statistics(self.compiled[vid].model, ema[vid])
        self.precise = precise
        for position, vid in enumerate(chosen):
            index = ids.index(vid)
            validation[index], test[index] = scored_validation[1][position], scored_test[1][position]
        return validation, test

    def precise_models(self) -> dict:
        """Copies of the trained BN models with their precise-BN statistics (after a run)."""
        return {vid: bn_statistics.with_statistics(self.compiled[vid].model, statistics)
                for vid, statistics in self.precise.items()}

    # -- events ----------------------------------------------------------------------

    def _emit_metrics(self, emit, batch, split, losses, accuracies):
        for variant_id, loss, accuracy in zip(self.variant_ids, losses, accuracies):
            emit(events.Metric(variant_id, batch, split, float(loss), float(accuracy)))

    def _emit_batch_statistics(self, emit, batch, measured, trained):
        for index in np.flatnonzero(trained):
            loss, accuracy, *norms = (float(value) for value in measured[index])
            emit(events.TrainingBatchStatistics(
                self.variant_ids[index], batch, loss, accuracy, tuple(norms)
            ))

    def _emit_probe_statistics(self, emit, pool, batch):
        """Activation percentiles of every variant and the BN lag of those with BN."""
        probe = tf.convert_to_tensor(self.data.validation_images[:PROBE_IMAGES])
        entries = list(self.compiled.values())

        measured = self._each(pool, CompiledVariant.probe_statistics_on, entries, probe)
        for variant_id, (percentiles, lag) in zip(self.variant_ids, measured):
            emit(events.ActivationPercentiles(
                variant_id, batch, tuple(tuple(float(v) for v in row) for row in percentiles.numpy())
            ))
            if lag is not None:
                ratio, shift = (tuple(float(v) for v in values.numpy()) for values in lag)
                emit(events.BatchNormLag(variant_id, batch, ratio, shift))


def _progress(emit, part):
    """A ``progress(done, total)`` callback that sends ``ScoringProgress`` of ``part``."""
    return lambda done, total: emit(events.ScoringProgress(part, done, total))


class _BatchOrder:
    """Shuffled mini-batches, reshuffled every epoch, like the notebook's ``next_batch``."""

    def __init__(self, size, batch_size, seed):
        self._rng = np.random.default_rng(seed)
        self._size = size
        self._batch_size = batch_size
        self._permutation = self._rng.permutation(size)
        self._position = 0

    def next_batch(self):
        if self._position + self._batch_size > self._size:
            self._permutation = self._rng.permutation(self._size)
            self._position = 0
        indices = self._permutation[self._position : self._position + self._batch_size]
        self._position += self._batch_size
        return indices
