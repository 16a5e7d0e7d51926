"""One variant compiled for training: its network, Adam state and traced functions.

A ``CompiledVariant`` owns its network and optimizer state and its concrete
functions (a training step, scoring, statistics), each traced once for any
batch size, loaded from the disk cache (``compile_cache``) when an earlier
launch traced it. ``CompiledVariants`` keeps them from run to run (the
window's cache), so a variant compiled once trains again, re-initialised.
"""

import logging
import threading
import zlib
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor

import numpy as np

from bngui.core import bn_statistics
from bngui.core.compile_cache import default_cache
from bngui.core.layer_names import ACTIVATION_PERCENTILES, WEIGHT_LAYERS
from bngui.core.models import CLASSES, build_model, nonlinearity_inputs_model
from bngui.core.settings import LOSSES, SettingsError, TrainSettings
from bngui.core.tf_runtime import keras, tf
from bngui.core.variants import Variant, get_variant

logger = logging.getLogger(__name__)

# Variants computed at once: one per core of the 2-core laptops bngui is made for.
PARALLEL_VARIANTS = 2

# Adam as TF1's AdamOptimizer, which the notebook used: epsilon 1e-8.
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-8

IMAGES_SPEC = tf.TensorSpec([None, 28, 28, 1], tf.float32, name="images")
LABELS_SPEC = tf.TensorSpec([None], tf.int32, name="labels")
SEED_SPEC = tf.TensorSpec([2], tf.int64, name="seed")
STEP_STATISTICS = 2 + len(WEIGHT_LAYERS)  # loss, accuracy, one gradient norm per layer
# Each compiled function's signature, by name (the disk cache's keys).
_SIGNATURES = {
    "train": (IMAGES_SPEC, LABELS_SPEC), "evaluate": (IMAGES_SPEC, LABELS_SPEC),
    "percentiles": (IMAGES_SPEC,), "lag_and_moments": (IMAGES_SPEC,),
    "single_sample_correct": (IMAGES_SPEC, LABELS_SPEC),
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
        # Taken and released by the same thread; first calls made in an executor are
        # waited for (``_settle``) by whatever uses the variant next.
        self._lock = threading.Lock()
        self._first_calls: Future | None = None
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
            self._settle()
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
        there while the caller goes on (building or tracing the next variant);
        the next ``trace`` or ``reinitialize`` waits for them.
        """
        with self._lock:
            self._settle()
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
                self._first_calls = first_calls_in.submit(
                    self._make_first_calls, first_calls, restore, reached, in_background=True)
            return True

    def _settle(self) -> None:
        """Wait for first calls under way in an executor (with the lock held)."""
        if self._first_calls is not None:
            pending, self._first_calls = self._first_calls, None
            pending.result()  # a failure was logged there, and is compiled again

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

    def _make_first_calls(self, first_calls, restore, reached, in_background=False):
        """Call each new function once on a tiny batch, then restore the state.

        A failure means compiling again at the next ``trace`` (a disk cache
        entry that failed is gone by then). ``in_background`` (in an executor,
        see ``trace``): it is logged, and the next ``trace`` reports it.
        """
        images, labels = np.zeros((2, 28, 28, 1), np.float32), np.zeros(2, np.int32)
        try:
            try:
                if in_background:
                    for call in first_calls:
                        call(images, labels)
                else:
                    with first_call_pool() as pool:
                        list(pool.map(lambda call: call(images, labels), first_calls))
            finally:
                restore()
            self._traced = reached == "everything"
        except Exception:
            self._compiling, self._ready_for_training = None, False
            if not in_background:
                raise
            logger.warning("compiling %s failed; it is compiled again before its run",
                           self.variant.id, exc_info=True)

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


def first_call_pool() -> ThreadPoolExecutor:
    """Threads for compiled functions' first calls (see ``CompiledVariant.trace``)."""
    return ThreadPoolExecutor(PARALLEL_VARIANTS, thread_name_prefix="bngui-first-call")


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
            with first_call_pool() as first_calls:
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
