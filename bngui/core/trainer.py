"""The lockstep trainer: several variants trained side by side on the same batches.

Every variant is a ``CompiledVariant``: its network, its Adam state and its
own compiled functions (a training step, scoring, statistics), each traced
once for any batch size. The lockstep trainer feeds every batch to all of
them, two at a time in parallel threads (TensorFlow releases the GIL while a
graph runs), so the variants see the same images in the same order: a fair
comparison. One graph per variant keeps tracing proportional to the number
of variants, and a variant compiled once can be trained again, re-initialised,
in the next run (``CompiledVariants``, the window's cache).

Progress is reported as records from ``events``.
"""

import logging
import math
import threading
import time
import zlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np

from bngui.core import bn_statistics, events
from bngui.core.compile_cache import default_cache
from bngui.core.events import Phase
from bngui.core.layer_names import ACTIVATION_PERCENTILES, WEIGHT_LAYERS
from bngui.core.models import CLASSES, build_model, nonlinearity_inputs_model
from bngui.core.run_control import RunControl
from bngui.core.settings import LOSSES, SettingsError, TrainSettings
from bngui.core.tf_runtime import keras, tf
from bngui.core.variants import PRECISE_SUFFIX, Variant, get_variant

logger = logging.getLogger(__name__)

TRAIN_METRIC_EVERY = 25
VALIDATION_EVERY = 100
SINGLE_SAMPLES = 100
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
# Variants computed at once: one per core of the 2-core laptops bngui is made for.
PARALLEL_VARIANTS = 2

# Adam as TF1's AdamOptimizer, which the notebook used: epsilon 1e-8.
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-8

_IMAGES = tf.TensorSpec([None, 28, 28, 1], tf.float32, name="images")
_LABELS = tf.TensorSpec([None], tf.int32, name="labels")
_SEED = tf.TensorSpec([2], tf.int64, name="seed")
_STATISTICS = 2 + len(WEIGHT_LAYERS)  # loss, accuracy, one gradient norm per layer
# Each compiled function's signature, by name (the disk cache's keys).
_SIGNATURES = {
    "train": (_IMAGES, _LABELS), "evaluate": (_IMAGES, _LABELS), "percentiles": (_IMAGES,),
    "lag_and_moments": (_IMAGES,), "single_sample_correct": (_IMAGES, _LABELS),
}
# What a run needs before its final scoring, without and with BN.
_TRAINING_FUNCTIONS = ("train", "evaluate", "percentiles")
_BN_FUNCTIONS = ("lag_and_moments",)


def loss_function(name: str) -> Callable:
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


def loss_exploded(losses, first_losses) -> np.ndarray:
    """Per variant, whether a training loss counts as diverged (see ``LOSS_EXPLOSION``).

    ``first_losses`` are the same variants' losses on the run's first batch.
    """
    losses = np.asarray(losses, np.float64)
    with np.errstate(invalid="ignore"):  # a NaN first loss compares as False
        return ~np.isfinite(losses) | (losses > LOSS_EXPLOSION * np.asarray(first_losses))


class _Stopped(Exception):
    """A stop was requested: raised before the next compiled call, caught by ``run``."""


def variant_seed(seed: int, variant_id: str) -> int:
    """A reproducible per-variant seed (the same in every process, unlike hash())."""
    return (seed * 1_000_003 + zlib.crc32(variant_id.encode())) % 2**32


def keras_loss(name: str):
    """The same loss as a Keras loss object, for ``model.fit`` (the benchmark's reference)."""
    if name == "sigmoid":
        return keras.losses.BinaryCrossentropy(from_logits=True)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def make_optimizer(learning_rate: float):
    """Keras's Adam with the trainer's constants (the benchmark's ``model.fit`` uses it)."""
    return keras.optimizers.Adam(learning_rate=learning_rate, beta_1=ADAM_BETA_1,
                                 beta_2=ADAM_BETA_2, epsilon=ADAM_EPSILON)


def initial_model(variant: Variant, seed: int, bn_decay: float):
    """The variant's network with its initial weights for ``seed``.

    The weights come from the seed and the variant's own id (or its twin's),
    so a variant starts the same whichever others are trained beside it, and
    a twin starts exactly like its original.
    """
    keras.utils.set_random_seed(variant_seed(seed, variant.init_id))
    return build_model(variant, bn_decay)


def _percentiles(values, quantiles):
    # Exact percentiles by sorting; the probe batch keeps this small.
    ordered = tf.sort(tf.reshape(values, [-1]))
    last = tf.cast(tf.size(ordered) - 1, tf.float32)
    return tf.gather(ordered, tf.cast(tf.round(quantiles * last), tf.int32))


class CompiledVariant:
    """One variant's network, Adam state and compiled functions, for one loss and BN decay.

    ``trace()`` compiles every function (and runs each once, so TensorFlow
    optimises its graph then, not during the first batch) without changing
    the network; ``reinitialize(seed, learning_rate)`` gives it the initial
    weights of a seed and fresh optimizer state, so it can train again.

    The functions are concrete functions traced for batches of any size:
    ``train`` (one Adam step in training mode; a step whose loss or
    gradients are not finite changes no weight), ``evaluate``,
    ``single_sample_correct`` (each image scored alone, as a batch of one),
    ``percentiles`` (of every ReLU's input) and, with BN, ``lag_and_moments``
    (the population statistics' lag and the batch moments of every BN layer's
    input, in training mode).
    """

    def __init__(self, variant: Variant, loss: str = "sigmoid", bn_decay: float = 0.99,
                 seed: int = 0):
        self.variant = variant
        # Traced functions kept between launches (None when BNGUI_COMPILE_CACHE is off).
        self._disk_cache = default_cache()
        self.key = (variant.id, loss, float(bn_decay))
        self._loss = loss_function(loss)
        self._bn_decay = float(bn_decay)
        self.model = initial_model(variant, seed, bn_decay)
        self._seed = seed
        self._initial_weights = self.model.get_weights()
        variables = self.model.trainable_variables
        self._momentums = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self._velocities = [tf.Variable(tf.zeros_like(v), trainable=False) for v in variables]
        self._steps = tf.Variable(0.0, trainable=False)  # applied Adam steps
        self.learning_rate = tf.Variable(0.001, trainable=False, dtype=tf.float32)
        self._lock = threading.Lock()
        # Seconds of the last call of each unbound method (``LockstepTrainer._each``).
        self.seconds: defaultdict = defaultdict(float)
        self._traced = False  # every function compiled
        self._ready_for_training = False  # every function a run uses before its end compiled
        # The functions still to compile (a generator), once begun.
        self._compiling: Iterator | None = None
        self.lag_and_moments: Callable | None = None  # with BN, once compiled

    # -- state -----------------------------------------------------------------------

    def reinitialize(self, seed: int, learning_rate: float) -> None:
        """The seed's initial weights and population statistics, no optimizer history."""
        with self._lock:
            if seed != self._seed:
                # Built with the seed's random numbers, then copied: the compiled
                # functions keep using this network's variables.
                self._initial_weights = initial_model(self.variant, seed, self._bn_decay).get_weights()
                self._seed = seed
            self._restore_initial_state()
            self.learning_rate.assign(learning_rate)

    def _restore_initial_state(self):
        self.model.set_weights(self._initial_weights)
        for slot in (*self._momentums, *self._velocities):
            slot.assign(tf.zeros_like(slot))
        self._steps.assign(0.0)

    @property
    def has_batch_norm(self) -> bool:
        return self.variant.has_batch_norm

    # -- compiling -------------------------------------------------------------------

    def trace(self, cancelled: Callable[[], bool] = lambda: False, for_training=False,
              first_calls_in: Executor | None = None) -> bool:
        """Compile every function now (once); the network's state is as before afterwards.

        With ``for_training``, only those a run needs before its final scoring
        (the single-sample scoring is compiled when first needed, so a run's
        first batch comes sooner). ``cancelled`` is asked between the
        functions (a compile cannot be interrupted): when it says so, the rest
        is left for the next call. Returns whether those asked for are compiled.

        Each function's first call lets TensorFlow optimise its graph. Those
        calls release the GIL: with ``first_calls_in`` (an executor) they run
        there while the caller goes on (building or tracing the next variant),
        and this variant is busy (its other methods wait) until they are done.
        """
        self._lock.acquire()
        handed_over = False
        try:
            if self._traced or (for_training and self._ready_for_training):
                return True
            if self._compiling is None:
                self._compiling = self._compile()
            first_calls: list[Callable] = []
            try:
                reached = self._compile_into(first_calls, cancelled, for_training)
            except BaseException:
                self._compiling = None  # a failed compile starts again at the next call
                raise
            if reached is None:
                return False
            # Compiling changed nothing; the first calls will, and are undone.
            restore = self._state_restorer()
            if first_calls_in is None:
                self._make_first_calls(first_calls, restore, reached)
            else:
                first_calls_in.submit(self._make_first_calls, first_calls, restore, reached,
                                      release=True)
                handed_over = True
            return True
        finally:
            if not handed_over:
                self._lock.release()

    def loads_from_disk(self) -> bool:
        """Whether the disk cache holds every function a run needs before its final scoring."""
        if self._ready_for_training or self._disk_cache is None:
            return False
        wanted = [*_TRAINING_FUNCTIONS, *(_BN_FUNCTIONS if self.has_batch_norm else ())]
        return all(self._disk_cache.has(self.key, name, _SIGNATURES[name]) for name in wanted)

    def _state_restorer(self) -> Callable[[], None]:
        """A function that puts the weights and the Adam state back as they are now."""
        weights = self.model.get_weights()
        steps = float(self._steps.numpy())
        slots = [slot.numpy() for slot in (*self._momentums, *self._velocities)]

        def restore():
            self.model.set_weights(weights)
            for slot, value in zip((*self._momentums, *self._velocities), slots):
                slot.assign(value)
            self._steps.assign(steps)

        return restore

    def _make_first_calls(self, first_calls, restore, reached, release=False):
        """Call each new function once on a tiny batch, then restore the state.

        With ``release`` (in an executor, see ``trace``) a failure is logged
        and the compile starts again at the next ``trace``, which reports it;
        the variant's lock is released in any case.
        """
        images, labels = np.zeros((2, 28, 28, 1), np.float32), np.zeros(2, np.int32)
        try:
            try:
                if release:
                    for call in first_calls:
                        call(images, labels)
                else:
                    with _first_call_pool() as pool:
                        list(pool.map(lambda call: call(images, labels), first_calls))
            finally:
                restore()
            self._traced = reached == "everything"
        except Exception:
            # Compiled again at the next trace (a disk cache entry that failed is gone).
            self._compiling, self._ready_for_training = None, False
            if not release:
                raise
            logger.warning("compiling %s failed; it is compiled again before its run",
                           self.variant.id, exc_info=True)
        finally:
            if release:
                self._lock.release()

    def _compile_into(self, first_calls: list, cancelled, for_training) -> str | None:
        """Compile on until asked for; each compiled function's first call into ``first_calls``.

        Returns "training" (what a run needs before its end is compiled, and
        ``for_training``), "everything", or None when ``cancelled`` said so.
        """
        assert self._compiling is not None
        for first_call in self._compiling:
            if first_call is None:  # what a run needs before its end is compiled
                self._ready_for_training = True
                if for_training:
                    return "training"
                continue
            if cancelled():
                return None
            first_calls.append(first_call)
        return "everything"

    def _compile(self):
        model, loss_fn = self.model, self._loss
        variables = model.trainable_variables
        position = {id(variable): index for index, variable in enumerate(variables)}
        kernels = [position[id(model.get_layer(name).kernel)] for name in WEIGHT_LAYERS]

        def train(images, labels):
            with tf.GradientTape() as tape:
                logits = model(images, training=True)
                loss = loss_fn(labels, logits)
            gradients = tape.gradient(loss, variables)
            finite = tf.reduce_all(
                [tf.math.is_finite(loss)]
                + [tf.reduce_all(tf.math.is_finite(gradient)) for gradient in gradients]
            )
            self._apply_adam(variables, gradients, finite)
            predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
            accuracy = tf.reduce_mean(tf.cast(predicted == labels, tf.float32))
            norms = [tf.norm(gradients[index]) for index in kernels]
            return finite, tf.stack([loss, accuracy, *norms])

        def evaluate(images, labels):
            # In inference mode: summed loss and number correct.
            logits = model(images, training=False)
            count = tf.cast(tf.shape(labels)[0], tf.float32)
            predicted = tf.argmax(logits, axis=1, output_type=tf.int32)
            return loss_fn(labels, logits) * count, tf.reduce_sum(tf.cast(predicted == labels, tf.float32))

        def single_sample_correct(images, labels):
            # Each image alone, as a batch of one: what breaks BN at inference
            # when it wrongly normalises with the batch's own statistics.
            def digit(image):
                logits = model(image[None], training=False)
                return tf.argmax(logits[0], output_type=tf.int32)

            predicted = tf.map_fn(digit, images, fn_output_signature=tf.int32)
            return tf.reduce_sum(tf.cast(predicted == labels, tf.float32))

        def percentiles(images):
            # Per ReLU: percentiles of its input, in inference mode.
            relu_inputs = nonlinearity_inputs_model(model)
            quantiles = tf.constant([p / 100 for p in ACTIVATION_PERCENTILES], tf.float32)
            return tf.stack([_percentiles(values, quantiles)
                             for values in relu_inputs(images, training=False)])

        def lag_and_moments(images):
            # One function for the lag while training and the moments of precise BN after it.
            return bn_statistics.batch_norm_probe(model).lag_and_moments(images)

        every_variable = self._variables()

        def concrete(name, function):
            signature = _SIGNATURES[name]
            # Loaded from the disk cache when an earlier launch traced it.
            if self._disk_cache is not None:
                loaded = self._disk_cache.load(self.key, name, signature, every_variable)
                if loaded is not None:
                    return loaded
            # Traced explicitly for its one signature: it never retraces, and a
            # graph per variant is not mistaken for retracing by TensorFlow's warning.
            # No AutoGraph: nothing here branches on a tensor, and converting every
            # layer's code was about a sixth of the tracing time.
            traced = tf.function(function, autograph=False).get_concrete_function(*signature)
            if self._disk_cache is not None:
                self._disk_cache.save(self.key, name, signature, traced, every_variable)
            return traced

        # One function at a time, each with its first call (a generator, so that
        # compiling can stop between them and go on later).
        self.train = concrete("train", train)
        yield self.train
        self.evaluate = concrete("evaluate", evaluate)
        yield self.evaluate
        self.percentiles = concrete("percentiles", percentiles)
        yield lambda images, labels: self.percentiles(images)
        if self.has_batch_norm:
            lag = self.lag_and_moments = concrete("lag_and_moments", lag_and_moments)
            yield lambda images, labels: lag(images)
        yield None  # the rest is used only in a run's final scoring
        self.single_sample_correct = concrete("single_sample_correct", single_sample_correct)
        yield lambda images, labels: self.single_sample_correct(images[:1], labels[:1])

    def _variables(self) -> list:
        """Every variable the compiled functions use, in a fixed order (the disk cache's)."""
        return [*self.model.variables, *self._momentums, *self._velocities, self._steps,
                self.learning_rate]

    def _apply_adam(self, variables, gradients, finite):
        """One fused Adam update per variable; nothing changes when ``finite`` is false.

        A non-finite step gets a learning rate of 0 and zero gradients, so the
        weights keep their last finite values (a diverged variant can still
        be scored) and its step count does not advance.
        """
        steps = self._steps + tf.cast(finite, tf.float32)
        power = tf.maximum(steps, 1.0)
        beta_1_power, beta_2_power = ADAM_BETA_1**power, ADAM_BETA_2**power
        learning_rate = tf.where(finite, self.learning_rate, 0.0)
        for variable, gradient, momentum, velocity in zip(
            variables, gradients, self._momentums, self._velocities
        ):
            tf.raw_ops.ResourceApplyAdam(
                var=variable.value.handle, m=momentum.handle, v=velocity.handle,
                beta1_power=beta_1_power, beta2_power=beta_2_power, lr=learning_rate,
                beta1=ADAM_BETA_1, beta2=ADAM_BETA_2, epsilon=ADAM_EPSILON,
                grad=tf.where(finite, gradient, tf.zeros_like(gradient)),
            )
        self._steps.assign(steps)

    # Unbound forms of the calls, for running several variants in a thread pool.

    def train_on(self, images, labels):
        """One step on the batch, or with ``batch_split``, one step on each part of it.

        The parts' losses and accuracies are averaged; the gradient norms are
        the last part's. A non-finite part ends the batch there (the variant
        is then frozen).
        """
        split = self.variant.batch_split
        if split == 1:
            return self.train(images, labels)
        size = max(1, int(images.shape[0]) // split)
        statistics = []
        for start in range(0, size * split, size):
            finite, measured = self.train(images[start : start + size], labels[start : start + size])
            statistics.append(measured)
            if not bool(finite):
                break
        averaged = tf.concat([tf.reduce_mean(tf.stack(statistics)[:, :2], axis=0),
                              statistics[-1][2:]], axis=0)
        return finite, averaged

    def evaluate_on(self, images, labels):
        return self.evaluate(images, labels)

    def single_samples_on(self, images, labels):
        return self.single_sample_correct(images, labels)

    def probe_statistics_on(self, images):
        """Activation percentiles and (with BN) the population statistics' lag."""
        if self.lag_and_moments is None:
            return self.percentiles(images), None
        ratio, shift, _ = self.lag_and_moments(images)
        return self.percentiles(images), (ratio, shift)

    def batch_moments_on(self, images):
        """Every BN layer's batch moments in training mode, as one vector (see ``bn_statistics``)."""
        assert self.lag_and_moments is not None, "only variants with BN have batch moments"
        return self.lag_and_moments(images)[2]

    def detached_model(self):
        """A copy of the network as it is now, which later runs of this one do not touch."""
        copy = keras.models.clone_model(self.model)
        copy.set_weights(self.model.get_weights())
        return copy


def _first_call_pool() -> ThreadPoolExecutor:
    """Threads for compiled functions' first calls (see ``CompiledVariant.trace``)."""
    return ThreadPoolExecutor(PARALLEL_VARIANTS, thread_name_prefix="bngui-first-call")


def _timed_call(function, entry, *args):
    """``function(entry, *args)``, its duration kept in ``entry.seconds[function]``."""
    started = time.perf_counter()
    result = function(entry, *args)
    entry.seconds[function] = time.perf_counter() - started
    return result


class CompiledVariants:
    """Compiled variants kept from run to run: a cache of at most ``limit``, oldest dropped.

    A run of variants already here starts without tracing; ``prepare`` traces
    them ahead of a run (the window does it in the background as soon as the
    choice of variants is known).
    """

    def __init__(self, limit: int = 16):
        self.limit = limit
        self._entries: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, variant: Variant, settings: TrainSettings) -> CompiledVariant:
        decay = variant.decay(settings.bn_decay)
        key = (variant.id, settings.loss, float(decay))
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                entry = CompiledVariant(variant, settings.loss, decay, settings.seed)
            self._entries[key] = entry  # now the most recent
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)
            return entry

    def is_traced(self, variant_ids: Iterable[str], settings: TrainSettings) -> bool:
        with self._lock:
            return all(
                (entry := self._entries.get(
                    (vid, settings.loss, float(get_variant(vid).decay(settings.bn_decay)))))
                is not None and entry._traced
                for vid in variant_ids
            )

    def prepare(self, variant_ids: Iterable[str], settings: TrainSettings,
                cancelled: Callable[[], bool] = lambda: False) -> None:
        """Build and trace the variants now, one by one, unless ``cancelled``.

        First what every variant's batches need, then the rest (the final
        scoring's), so a run started meanwhile waits as little as it can.
        """
        variant_ids = list(variant_ids)
        for for_training in (True, False):
            with _first_call_pool() as first_calls:
                for variant_id in variant_ids:
                    entry = self.get(get_variant(variant_id), settings)
                    if cancelled() or not entry.trace(cancelled, for_training=for_training,
                                                      first_calls_in=first_calls):
                        return


_shared = None
_shared_lock = threading.Lock()


def shared_compiled_variants() -> CompiledVariants:
    """The process's cache of compiled variants (the window keeps its runs' variants there)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = CompiledVariants()
        return _shared


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
        with _first_call_pool() as first_calls:
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
        with _first_call_pool() as first_calls:
            for entry in self.compiled.values():
                entry.trace(cancelled, for_training=not everything, first_calls_in=first_calls)
        for entry in self.compiled.values():
            # Again what failed there, to report it (or what was cancelled: nothing).
            entry.trace(cancelled, for_training=not everything)
        if self.settings.augment and self._augment is None:
            from bngui.core.augment import augment_batch

            self._augment = tf.function(augment_batch).get_concrete_function(_IMAGES, _SEED)

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
        measured = np.zeros((len(entries), _STATISTICS), dtype=np.float32)
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
        self.timings = dict.fromkeys(("compile", "train", "evaluate", "final"), 0.0)
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

            reporting = batch % TRAIN_METRIC_EVERY == 0
            if self.collect_statistics and reporting:
                self._emit_batch_statistics(emit, batch, measured, was_active & applied)
            with self._timed("evaluate"):
                if batch % VALIDATION_EVERY == 0:
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
        precise_validation, precise_test = self._precise_scores(emit, pool, diverged)
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


class SeedsTrainer:
    """The same run repeated once per seed in ``settings.seed_list``, as one run.

    Each seed's run reuses the variants compiled for the first (re-initialised
    with that seed), so only the first seed compiles. Events are those of one
    run: one RunStarted (listing the seeds) and one RunFinished, and before
    each seed's events a SeedStarted; progress counts the batches of all seeds.
    The trained models are the first seed's.
    """

    def __init__(self, variant_ids, data, settings=None, control=None, collect_statistics=True,
                 compiled: CompiledVariants | None = None):
        self.settings = (settings or TrainSettings()).validate(len(data.train_labels))
        self.control = control or RunControl()
        self.variant_ids = tuple(variant_ids)
        self._data = data
        self._collect_statistics = collect_statistics
        self._compiled = compiled or CompiledVariants(limit=len(self.variant_ids))
        # The first seed's trainer is made now, so bad choices are refused at once.
        self.first = self._trainer(self.settings.seed_list[0])
        self.results: dict = {}  # {seed: [VariantFinished]}
        self.models: dict = {}
        self.precise: dict = {}

    def _trainer(self, seed):
        import dataclasses

        settings = dataclasses.replace(self.settings, seed=seed, seeds=())
        return LockstepTrainer(self.variant_ids, self._data, settings, self.control,
                               self._collect_statistics, self._compiled)

    def run(self, emit: Callable = lambda event: None) -> list:
        """Train every seed in turn; returns the last seed's ``VariantFinished`` records."""
        seeds, batches = self.settings.seed_list, self.settings.batches
        emit(events.RunStarted(self.variant_ids, batches, self.settings.batch_size, tuple(seeds)))
        started = time.perf_counter()
        results: list = []
        stopped = False
        for number, seed in enumerate(seeds):
            if self.control.stop_requested:
                stopped = True
                break
            trainer = self.first if number == 0 else self._trainer(seed)
            emit(events.SeedStarted(seed))

            def forward(event, done_before=number * batches):
                if isinstance(event, (events.RunStarted, events.RunFinished)):
                    return
                if isinstance(event, events.Progress):
                    total, done = batches * len(seeds), done_before + event.batches_done
                    rate = event.images_per_second
                    seconds_per_batch = self.settings.batch_size / rate if rate > 0 else 0.0
                    event = events.Progress(done, total, rate, seconds_per_batch * (total - done))
                emit(event)

            results = trainer.run(forward)
            self.results[seed] = results
            if number == 0:
                kept = trainer.trained_models()
                self.models = {vid: model for vid, model in kept.items() if vid in self.variant_ids}
                self.precise = trainer.precise_models()
            stopped = any(record.status == events.STOPPED for record in results)
            if stopped:
                break
        emit(events.RunFinished(events.STOPPED if stopped else events.DONE,
                                time.perf_counter() - started))
        return results

    def trained_models(self) -> dict:
        precise = {f"{vid}{PRECISE_SUFFIX}": model for vid, model in self.precise.items()}
        return {**self.models, **precise}

    def precise_models(self) -> dict:
        return dict(self.precise)


def make_trainer(variant_ids, data, settings=None, control=None, collect_statistics=True,
                 compiled: CompiledVariants | None = None):
    """A LockstepTrainer, or a SeedsTrainer when the settings list several seeds."""
    kind = SeedsTrainer if settings is not None and len(settings.seed_list) > 1 else LockstepTrainer
    return kind(variant_ids, data, settings, control, collect_statistics, compiled)


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
