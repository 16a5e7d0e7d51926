"""The lockstep trainer: several variants trained side by side on the same batches.

All chosen variants are trained in one compiled ``tf.function`` step, so they
see the same images in the same order (a fair comparison) and TensorFlow can
run the independent networks in parallel, which makes a variant cheaper than
training it on its own. Progress is reported as records from ``events``.
"""

import time
import zlib

import numpy as np

from bngui.core import events
from bngui.core.events import Phase
from bngui.core.layer_names import ACTIVATION_PERCENTILES, WEIGHT_LAYERS
from bngui.core.models import CLASSES, build_model, nonlinearity_inputs_model
from bngui.core.run_control import RunControl
from bngui.core.settings import LOSSES, SettingsError, TrainSettings
from bngui.core.tf_runtime import keras, tf
from bngui.core.variants import get_variant

TRAIN_METRIC_EVERY = 25
VALIDATION_EVERY = 100
SINGLE_SAMPLES = 100
# Images evaluated per call across all variants; keeps one evaluation call
# short enough that a stop request is honoured within about half a second.
EVAL_IMAGES_PER_CALL = 2000
# The fixed probe batch for activation statistics: the first validation images.
PROBE_IMAGES = 64


def loss_function(name):
    """Mean loss of logits against integer labels."""
    if name == "sigmoid":
        # The notebook's choice: ten independent sigmoids against one-hot labels.
        def loss(labels, logits):
            targets = tf.one_hot(labels, CLASSES, dtype=logits.dtype)
            return tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
            )
    elif name == "softmax":
        def loss(labels, logits):
            return tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
            )
    else:
        raise SettingsError(f"loss must be one of {', '.join(LOSSES)}, not {name!r}")
    return loss


def variant_seed(seed, variant_id):
    """A reproducible per-variant seed (the same in every process, unlike hash())."""
    return (seed * 1_000_003 + zlib.crc32(variant_id.encode())) % 2**32


def keras_loss(name):
    """The same loss as a Keras loss object, for ``model.fit`` (the benchmark's reference)."""
    if name == "sigmoid":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_optimizer(learning_rate):
    # epsilon 1e-8 is TF1 AdamOptimizer's default, which the notebook used.
    return keras.optimizers.Adam(learning_rate=learning_rate, epsilon=1e-8)


class LockstepTrainer:
    """Train ``variant_ids`` side by side on ``data`` (a ``data.MnistSplits``).

    With ``collect_statistics`` the run also reports, per variant, the training
    step's own loss, accuracy and per-layer gradient norms every
    TRAIN_METRIC_EVERY batches, and the percentiles of every ReLU's input on a
    fixed probe batch at the validation cadence.
    """

    def __init__(self, variant_ids, data, settings=None, control=None, collect_statistics=True):
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

        self.models = {}
        for variant in self.variants:
            # Each variant's initial weights come from the seed and its own id (or
            # its twin's), so a variant starts the same whichever others are
            # trained beside it, and a twin starts exactly like its original.
            keras.utils.set_random_seed(variant_seed(self.settings.seed, variant.init_id))
            self.models[variant.id] = build_model(variant)
        self.optimizers = {
            variant.id: make_optimizer(self.settings.learning_rate * variant.learning_rate_factor)
            for variant in self.variants
        }
        for variant_id, model in self.models.items():
            # Create the optimizer's slots now, outside the compiled step.
            self.optimizers[variant_id].build(model.trainable_variables)
        self._loss = loss_function(self.settings.loss)
        self._train_step = self._compile_train_step()
        self._evaluate = self._compile_evaluate()
        self._probe = self._compile_probe() if collect_statistics else None

    # -- compiled functions -------------------------------------------------

    def _compile_train_step(self):
        models = [self.models[variant_id] for variant_id in self.variant_ids]
        optimizers = [self.optimizers[variant_id] for variant_id in self.variant_ids]
        loss_fn = self._loss

        def train_one(model, optimizer, images, labels, collect):
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = loss_fn(labels, logits)
            variables = model.trainable_variables
            gradients = tape.gradient(loss, variables)
            finite = tf.reduce_all(
                [tf.math.is_finite(loss)]
                + [tf.reduce_all(tf.math.is_finite(g)) for g in gradients]
            )
            kernel_gradients = _kernel_gradients(model, variables, gradients)

            def statistics():
                predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
                accuracy = tf.reduce_mean(tf.cast(predicted == labels, tf.float32))
                norms = [tf.norm(gradient) for gradient in kernel_gradients]
                return tf.stack([loss, accuracy, *norms])

            # The statistics are computed only on the batches that report them.
            measured = tf.cond(
                collect, statistics, lambda: tf.zeros([2 + len(WEIGHT_LAYERS)])
            )

            def apply():
                optimizer.apply(gradients, variables)
                return tf.constant(True)

            # A non-finite step is not applied, so a diverged variant keeps its
            # last finite weights and can still be evaluated.
            return tf.cond(finite, apply, lambda: tf.constant(False)), measured

        def skip():
            return tf.constant(False), tf.zeros([2 + len(WEIGHT_LAYERS)])

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 28, 28, 1], tf.float32),
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([len(models)], tf.bool),
                tf.TensorSpec([], tf.bool),
            ]
        )
        def train_step(images, labels, active, collect):
            applied, measured = [], []
            for index, (model, optimizer) in enumerate(zip(models, optimizers)):
                was_applied, statistics = tf.cond(
                    active[index],
                    lambda m=model, o=optimizer: train_one(m, o, images, labels, collect),
                    skip,
                )
                applied.append(was_applied)
                measured.append(statistics)
            return tf.stack(applied), tf.stack(measured)

        return train_step

    def _compile_evaluate(self):
        models = [self.models[variant_id] for variant_id in self.variant_ids]
        loss_fn = self._loss

        @tf.function(
            input_signature=[
                tf.TensorSpec([None, 28, 28, 1], tf.float32),
                tf.TensorSpec([None], tf.int32),
            ]
        )
        def evaluate(images, labels):
            # Per variant, in inference mode: summed loss and number correct.
            count = tf.cast(tf.shape(labels)[0], tf.float32)
            loss_sums, correct = [], []
            for model in models:
                logits = model(images, training=False)
                loss_sums.append(loss_fn(labels, logits) * count)
                predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
                correct.append(tf.reduce_sum(tf.cast(predicted == labels, tf.float32)))
            return tf.stack(loss_sums), tf.stack(correct)

        return evaluate

    def _compile_probe(self):
        probes = [nonlinearity_inputs_model(self.models[i]) for i in self.variant_ids]
        quantiles = tf.constant([p / 100 for p in ACTIVATION_PERCENTILES], tf.float32)

        def percentiles(values):
            # Exact percentiles by sorting; the probe batch keeps this small.
            ordered = tf.sort(tf.reshape(values, [-1]))
            last = tf.cast(tf.size(ordered) - 1, tf.float32)
            positions = tf.cast(tf.round(quantiles * last), tf.int32)
            return tf.gather(ordered, positions)

        @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32)])
        def probe(images):
            # Per variant, per ReLU: percentiles of its input, in inference mode.
            return tf.stack(
                [
                    tf.stack([percentiles(values) for values in probe_model(images, training=False)])
                    for probe_model in probes
                ]
            )

        return probe

    def train_step(self, images, labels, active=None, collect=False):
        """Train every active variant on one batch.

        Returns which variants were updated, and per variant the training-mode
        loss, accuracy and gradient norms (zeros unless ``collect``).
        """
        if active is None:
            active = np.ones(len(self.variant_ids), dtype=bool)
        applied, measured = self._train_step(images, labels, active, tf.constant(collect))
        return applied.numpy(), measured.numpy()

    # -- measuring ------------------------------------------------------------

    @property
    def _eval_chunk(self):
        """Images per evaluation call, so that all variants together see about EVAL_IMAGES_PER_CALL."""
        return max(64, EVAL_IMAGES_PER_CALL // len(self.variant_ids))

    def _measure(self, images, labels):
        """Mean loss and accuracy per variant over a whole set, in chunks.

        Returns None if a stop was requested on the way.
        """
        loss_sums = np.zeros(len(self.variant_ids))
        correct = np.zeros(len(self.variant_ids))
        chunk = self._eval_chunk
        for start in range(0, len(labels), chunk):
            if self.control.stop_requested:
                return None
            chunk_loss, chunk_correct = self._evaluate(
                images[start : start + chunk], labels[start : start + chunk]
            )
            loss_sums += chunk_loss.numpy()
            correct += chunk_correct.numpy()
        return loss_sums / len(labels), correct / len(labels)

    def _single_sample_accuracy(self):
        """The notebook's check: the first 100 test images scored one at a time.

        Returns None if a stop was requested on the way.
        """
        correct = np.zeros(len(self.variant_ids))
        images, labels = self.data.test_images, self.data.test_labels
        for index in range(min(SINGLE_SAMPLES, len(labels))):
            if self.control.stop_requested:
                return None
            _, hit = self._evaluate(images[index : index + 1], labels[index : index + 1])
            correct += hit.numpy()
        return correct / min(SINGLE_SAMPLES, len(labels))

    # -- the run -------------------------------------------------------------

    def run(self, emit=lambda event: None):
        """Train until done or stopped; report every event through ``emit``.

        Returns the list of ``VariantFinished`` records.
        """
        settings, control = self.settings, self.control
        ids = self.variant_ids
        data = self.data
        train_images = data.train_images
        train_labels = data.train_labels.astype(np.int32)
        validation_labels = data.validation_labels.astype(np.int32)
        order = _BatchOrder(len(train_labels), settings.batch_size, settings.seed)

        emit(events.RunStarted(ids, settings.batches, settings.batch_size))
        emit(events.StatusChanged.of(Phase.COMPILING))
        self._trace_measurements()
        active = np.ones(len(ids), dtype=bool)
        diverged = np.zeros(len(ids), dtype=bool)
        finished_seconds = np.zeros(len(ids))

        run_started = time.perf_counter()
        paused_seconds = 0.0
        train_started = None
        batches_done = 0
        for batch in range(settings.batches):
            if control.paused:
                emit(events.StatusChanged.of(Phase.PAUSED))
                paused_seconds += control.wait_while_paused()
                if not control.stop_requested:
                    emit(events.StatusChanged.of(Phase.TRAINING))
            if control.stop_requested:
                break
            indices = order.next_batch()
            batch_images, batch_labels = train_images[indices], train_labels[indices]
            reporting = batch % TRAIN_METRIC_EVERY == 0
            was_active = active.copy()
            applied, measured = self.train_step(
                batch_images, batch_labels, active, self.collect_statistics and reporting
            )
            if train_started is None:
                # The first call includes tracing; time the throughput after it.
                train_started = time.perf_counter()
                paused_seconds = 0.0
                emit(events.StatusChanged.of(Phase.TRAINING))
            batches_done = batch + 1

            newly_diverged = active & ~applied
            for index in np.flatnonzero(newly_diverged):
                emit(events.VariantDiverged(ids[index], batch))
                finished_seconds[index] = time.perf_counter() - run_started
            diverged |= newly_diverged
            active &= applied

            if self.collect_statistics and reporting:
                self._emit_batch_statistics(emit, batch, measured, was_active & applied)
            if batch % VALIDATION_EVERY == 0:
                validation = self._measure(data.validation_images, validation_labels)
                if validation is None:
                    break
                self._emit_metrics(emit, batch, events.VALIDATION, *validation)
                if self.collect_statistics:
                    self._emit_activation_percentiles(emit, batch)
            if reporting:
                loss_sums, correct = self._evaluate(batch_images, batch_labels)
                count = len(batch_labels)
                self._emit_metrics(
                    emit, batch, events.TRAIN, loss_sums.numpy() / count, correct.numpy() / count
                )
            if batch > 0:
                elapsed = time.perf_counter() - train_started - paused_seconds
                per_batch = elapsed / batch
                emit(
                    events.Progress(
                        batches_done,
                        settings.batches,
                        settings.batch_size / per_batch if per_batch > 0 else 0.0,
                        per_batch * (settings.batches - batches_done),
                    )
                )
            if not active.any():
                break

        stopped = control.stop_requested
        train_end = time.perf_counter() - run_started
        finished_seconds[~diverged] = train_end

        results, stopped = self._final_results(emit, stopped, diverged, finished_seconds)
        emit(events.RunFinished(events.STOPPED if stopped else events.DONE,
                                time.perf_counter() - run_started))
        return results

    def _final_results(self, emit, stopped, diverged, finished_seconds):
        """Validation, test and 100-sample accuracy per variant, unless stopped.

        Returns the ``VariantFinished`` records and whether the run ended stopped
        (a stop may also arrive during this scoring).
        """
        ids, data = self.variant_ids, self.data
        nan = np.full(len(ids), np.nan)
        validation_accuracy = test_accuracy = single_accuracy = nan
        if not stopped:
            emit(events.StatusChanged.of(Phase.SCORING))
            validation = self._measure(
                data.validation_images, data.validation_labels.astype(np.int32)
            )
            test = self._measure(data.test_images, data.test_labels.astype(np.int32))
            single = None
            if validation is not None and test is not None:
                single = self._single_sample_accuracy()
            if single is None:
                stopped = True
            else:
                self._emit_metrics(emit, self.settings.batches, events.VALIDATION, *validation)
                if self.collect_statistics:
                    # Like the validation curve, the activations get a last point at the end.
                    self._emit_activation_percentiles(emit, self.settings.batches)
                validation_accuracy, test_accuracy, single_accuracy = validation[1], test[1], single
        results = []
        for index, variant_id in enumerate(ids):
            if diverged[index]:
                status = events.DIVERGED
            else:
                status = events.STOPPED if stopped else events.DONE
            record = events.VariantFinished(
                variant_id,
                status,
                float(validation_accuracy[index]),
                float(test_accuracy[index]),
                float(single_accuracy[index]),
                float(finished_seconds[index]),
            )
            results.append(record)
            emit(record)
        return results, stopped

    def _emit_metrics(self, emit, batch, split, losses, accuracies):
        for variant_id, loss, accuracy in zip(self.variant_ids, losses, accuracies):
            emit(events.Metric(variant_id, batch, split, float(loss), float(accuracy)))

    def _emit_batch_statistics(self, emit, batch, measured, trained):
        for index in np.flatnonzero(trained):
            loss, accuracy, *norms = (float(value) for value in measured[index])
            emit(events.TrainingBatchStatistics(
                self.variant_ids[index], batch, loss, accuracy, tuple(norms)
            ))

    def _trace_measurements(self):
        """Trace the evaluation and probe functions now, before the first batch.

        Their first calls would otherwise trace at batch 0: inside the
        throughput timing, and while a window already shows "Training" and
        draws the first curves. Both run in inference mode, so one validation
        image changes no weight and no statistic.
        """
        image = self.data.validation_images[:1]
        self._evaluate(image, self.data.validation_labels[:1].astype(np.int32))
        if self._probe is not None:
            self._probe(image)

    def probe_percentiles(self):
        """Per variant, per ReLU: the 15th/50th/85th percentile of its input on the probe batch."""
        if self._probe is None:
            raise RuntimeError("this trainer does not collect statistics")
        return self._probe(self.data.validation_images[:PROBE_IMAGES]).numpy()

    def _emit_activation_percentiles(self, emit, batch):
        for variant_id, per_layer in zip(self.variant_ids, self.probe_percentiles()):
            emit(events.ActivationPercentiles(
                variant_id, batch, tuple(tuple(float(v) for v in row) for row in per_layer)
            ))


def _kernel_gradients(model, variables, gradients):
    """The gradients of the weight kernels of WEIGHT_LAYERS, in that order."""
    position = {id(variable): index for index, variable in enumerate(variables)}
    return [gradients[position[id(model.get_layer(name).kernel)]] for name in WEIGHT_LAYERS]


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
