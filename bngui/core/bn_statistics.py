"""Batch normalization's population statistics: find them, measure their lag, re-estimate them.

A BN layer normalizes with one of two sets of per-feature statistics. In
training it uses the mean and variance of the batch in front of it. At
inference it uses its population statistics: an exponential moving average
(EMA) of the batch statistics seen in training, ``pop = pop*decay +
batch*(1-decay)``, starting from mean 0 and variance 1. The EMA remembers
about ``1/(1-decay)`` batches (100 at Keras's default ``momentum=0.99``, which
PyTorch calls ``momentum=0.01``), computed with older weights than the current
ones. So early in a run, or while the weights change fast, the population
statistics lag behind the true statistics of the layer's input, and a model
with good weights can still score poorly at inference.

This module works on any functional or Sequential Keras model with one input
(bngui's networks and others):

- ``batch_norm_layers``: the model's BN layers in forward order, each behind
  one interface (``BatchNormLayer``) whatever its implementation.
- ``population_lag``: for each BN layer, how far its population statistics
  are from the statistics of its input on a fixed probe batch.
- ``precise_statistics``, ``with_statistics``, ``precise_bn_model``: "precise
  BN", which keeps the weights fixed and replaces each EMA by the plain
  average of the per-batch moments over many training batches.

Nothing here changes the model it measures. The training-mode forward passes
run inside a Keras ``StatelessScope``, which drops the layers' updates of
their moving statistics instead of writing them: no variable is assigned, not
even for a moment, so another thread may use the model at the same time.

Measurements are compiled: one ``BatchNormProbe`` per model holds
``tf.function``s with an input signature (batch size left open), each traced
once. ``batch_norm_probe(model)`` builds it at the first request and keeps it
while the model lives; ``MultiModelLag(models)`` compiles one graph for
several models, for a caller that measures all its variants at once.
"""

import threading
import weakref
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bngui.core.layers import LowLevelBatchNorm
from bngui.core.tf_runtime import keras, tf

# Training batches that precise BN averages over by default.
PRECISE_BATCHES = 200

# {layer name: (population mean, population variance)}, float32 arrays of one value per feature.
Statistics = dict[str, tuple[np.ndarray, np.ndarray]]


class PopulationLag(NamedTuple):
    """Per BN layer, in forward order: how far the population statistics are from the true ones.

    ``variance_ratio`` is 1 and ``mean_shift`` 0 when they agree; see ``population_lag``.
    """

    variance_ratio: np.ndarray
    mean_shift: np.ndarray


def is_batch_norm(layer: keras.layers.Layer) -> bool:
    """Whether ``layer`` is a BN layer this module knows how to read and write."""
    return isinstance(layer, (keras.layers.BatchNormalization, LowLevelBatchNorm))


class BatchNormLayer:
    """One BN layer behind one interface, whatever its implementation.

    Keras's ``BatchNormalization`` (and its subclasses, such as bngui's
    ``BatchStatisticsBatchNorm``) keeps its population statistics in
    ``moving_mean`` and ``moving_variance`` and calls its decay ``momentum``;
    bngui's ``LowLevelBatchNorm`` has ``pop_mean``, ``pop_variance`` and
    ``decay``. Both update ``pop = pop*decay + batch*(1-decay)`` with the batch
    variance divided by n (PyTorch's running variance divides by n-1), and both
    normalize by ``sqrt(variance + epsilon)``.
    """

    def __init__(self, layer: keras.layers.Layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            self.mean_variable, self.variance_variable = layer.moving_mean, layer.moving_variance
            self._decay_attribute = "momentum"
            self.feature_axis = layer.axis
        elif isinstance(layer, LowLevelBatchNorm):
            self.mean_variable, self.variance_variable = layer.pop_mean, layer.pop_variance
            self._decay_attribute = "decay"
            self.feature_axis = -1
        else:
            raise TypeError(f"{layer.name} ({type(layer).__name__}) is not a batch normalization")
        self.layer = layer

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def epsilon(self) -> float:
        return float(self.layer.epsilon)

    @property
    def decay(self) -> float:
        """The share of the old population statistics kept at each training batch."""
        return float(getattr(self.layer, self._decay_attribute))

    @decay.setter
    def decay(self, value: float) -> None:
        # A graph traced before (a compiled training step) keeps the decay it was traced with.
        setattr(self.layer, self._decay_attribute, float(value))

    @property
    def features(self) -> int:
        return int(self.mean_variable.shape[0])

    def population_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """The population mean and variance, as float32 arrays (copies)."""
        return (
            np.array(self.mean_variable.numpy(), np.float32),
            np.array(self.variance_variable.numpy(), np.float32),
        )

    def set_population_statistics(self, mean, variance) -> None:
        """Write the population mean and variance (one value per feature each)."""
        mean = np.asarray(mean, np.float32)
        variance = np.asarray(variance, np.float32)
        expected = (self.features,)
        if mean.shape != expected or variance.shape != expected:
            raise ValueError(
                f"{self.name} has {self.features} features; got a mean shaped {mean.shape} "
                f"and a variance shaped {variance.shape}"
            )
        self.mean_variable.assign(mean)
        self.variance_variable.assign(variance)

    def batch_moments(self, inputs: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Per-feature mean and variance (divided by n) of ``inputs``, as the layer takes them.

        The moments are over every axis but the feature axis (batch, height and
        width for a convolution), with ``tf.nn.moments`` as both layers use;
        half-precision inputs are measured in float32, as Keras's layer does.
        """
        rank = len(inputs.shape)
        feature_axis = self.feature_axis % rank
        axes = [axis for axis in range(rank) if axis != feature_axis]
        if inputs.dtype in (tf.float16, tf.bfloat16):
            inputs = tf.cast(inputs, tf.float32)
        return tf.nn.moments(inputs, axes)


def _nested_batch_norm(layer) -> bool:
    """Whether a nested model holds a BN layer (those are not reachable from the outer graph)."""
    return any(
        is_batch_norm(inner) or _nested_batch_norm(inner) for inner in getattr(layer, "layers", ())
    )


def batch_norm_layers(model: keras.Model) -> list[BatchNormLayer]:
    """The BN layers of ``model`` in forward order (the model's layer order), possibly none.

    Keras ``BatchNormalization`` and its subclasses, and bngui's
    ``LowLevelBatchNorm``. A BN layer inside a nested model raises
    ValueError: measuring it needs its input in the outer model's graph.
    BN layers hidden inside a custom layer are not seen.
    """
    found = []
    for layer in model.layers:
        if is_batch_norm(layer):
            found.append(BatchNormLayer(layer))
        elif _nested_batch_norm(layer):
            raise ValueError(
                f"{model.name}: the nested model {layer.name} has BN layers; "
                "flatten it into one functional model to measure them"
            )
    return found


def population_statistics(model: keras.Model) -> Statistics:
    """The current population statistics of every BN layer: ``{name: (mean, variance)}``."""
    return {layer.name: layer.population_statistics() for layer in batch_norm_layers(model)}


def set_population_statistics(model: keras.Model, statistics: Statistics) -> None:
    """Write ``statistics`` (``{name: (mean, variance)}``) into the model's BN layers, in place.

    The names must be exactly those of the model's BN layers.
    """
    layers = {layer.name: layer for layer in batch_norm_layers(model)}
    if set(statistics) != set(layers):
        missing = sorted(set(layers) - set(statistics))
        unknown = sorted(set(statistics) - set(layers))
        raise ValueError(
            f"{model.name}: statistics must name every BN layer and no other "
            f"(missing: {missing or 'none'}; not BN layers of the model: {unknown or 'none'})"
        )
    for name, (mean, variance) in statistics.items():
        layers[name].set_population_statistics(mean, variance)


def with_statistics(model: keras.Model, statistics: Statistics) -> keras.Model:
    """A copy of ``model`` with the given population statistics; ``model`` is left as it is.

    The copy (``keras.models.clone_model``, then every weight copied exactly)
    has the same layers, names and configuration, including each layer's
    decay; only the population statistics differ. ``statistics`` must name
    every BN layer; for a model without BN layers it is ``{}`` and the result
    is a plain copy, so the result is always a new model that can be trained
    or saved on its own.
    """
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    set_population_statistics(copy, statistics)
    return copy


def precise_batch_indices(count: int, batch_size: int, batches: int, seed: int = 0) -> np.ndarray:
    """Indices of the training batches precise BN uses, shaped [batches, batch_size].

    Shuffled like training batches: each pass over the ``count`` images is a
    fresh permutation cut into whole batches (a batch never mixes two
    passes). The same arguments give the same batches.
    """
    if batch_size < 2:
        # A dense layer's variance over one image is 0: no population statistic to learn.
        raise ValueError(f"precise BN needs batches of at least 2 images, not {batch_size}")
    if batches < 1:
        raise ValueError(f"precise BN needs at least one batch, not {batches}")
    if count < batch_size:
        raise ValueError(f"{count} images cannot make a batch of {batch_size}")
    rng = np.random.default_rng(seed)
    per_pass = count // batch_size
    passes = -(-batches // per_pass)
    chosen = [
        rng.permutation(count)[: per_pass * batch_size].reshape(per_pass, batch_size)
        for _ in range(passes)
    ]
    return np.concatenate(chosen)[:batches]


def _input_spec(model: keras.Model) -> tf.TensorSpec:
    if len(model.inputs) != 1:
        raise ValueError(f"{model.name}: only models with one input are supported")
    model_input = model.inputs[0]
    return tf.TensorSpec([None, *model_input.shape[1:]], tf.as_dtype(model_input.dtype), "images")


class BatchNormProbe:
    """Compiled measurements of one model's BN layers.

    It builds a model sharing ``model``'s layers whose outputs are the inputs
    of its BN layers, run in training mode: the forward pass the layers see
    while training. Every BN normalizes with its batch's statistics, and
    other layers behave as in training too (dropout drops; a Keras BN layer
    set to ``trainable=False`` normalizes with its population statistics,
    Keras's convention for fine-tuning). The current weights are read at
    every call, so one probe serves a model for its whole run.

    ``lag_outputs`` and ``batch_moments`` return tensors and may be called
    inside a caller's own ``tf.function`` (build the probe outside it).
    ``population_lag`` and ``precise_statistics`` run the probe's compiled
    functions (``lag_function``, ``moments_function``), each traced once at
    its first call, for any batch size.

    The probe refers to the model's layers and variables, not to the model
    object, so ``batch_norm_probe``'s cache does not keep a model alive.
    """

    def __init__(self, model: keras.Model):
        self.layers = batch_norm_layers(model)
        self.layer_names = [layer.name for layer in self.layers]
        self.input_spec = _input_spec(model)
        self._feature_counts = [layer.features for layer in self.layers]
        self._bn_inputs = (
            keras.Model(
                model.inputs[0],
                [layer.layer.input for layer in self.layers],
                name=f"{model.name}_bn_inputs",
            )
            if self.layers
            else None
        )
        signature = [self.input_spec]
        self.moments_function = tf.function(self._stacked_moments, input_signature=signature,
                                            autograph=False)
        self.lag_function = tf.function(self.lag_outputs, input_signature=signature,
                                        autograph=False)

    def _traced(self, function):
        # Called through its one concrete function: tracing a graph per model is
        # then not mistaken for retracing by TensorFlow's warning.
        return function.get_concrete_function(self.input_spec)

    # -- graph pieces -------------------------------------------------------------

    def batch_moments(self, images: tf.Tensor) -> list[tuple[tf.Tensor, tf.Tensor]]:
        """Per BN layer: the mean and variance of its input on ``images`` in training mode.

        Changes no variable (see the module's docstring).
        """
        if self._bn_inputs is None:
            return []
        with keras.StatelessScope():
            bn_inputs = self._bn_inputs(images, training=True)
        return [layer.batch_moments(x) for layer, x in zip(self.layers, bn_inputs)]

    def lag_outputs(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """``(variance_ratio, mean_shift)``: two float32 tensors of one value per BN layer.

        See ``population_lag`` for what they measure.
        """
        ratios, shifts, _ = self.lag_and_moments(images)
        return ratios, shifts

    def lag_and_moments(self, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """``lag_outputs`` and the moments ``moments_function`` returns, from one forward pass.

        The trainer compiles this one function for both uses: the lag while
        training and the moments for precise BN after it.
        """
        if not self.layers:
            return tf.zeros([0]), tf.zeros([0]), tf.zeros([0])
        moments = self.batch_moments(images)
        ratios, shifts = [], []
        for layer, (batch_mean, batch_variance) in zip(self.layers, moments):
            # Read outside the stateless scope, where the layers' dropped updates would show.
            population_mean = tf.cast(layer.mean_variable.value, batch_mean.dtype)
            population_variance = tf.cast(layer.variance_variable.value, batch_mean.dtype)
            # The squared scales the layer divides by at inference and in training.
            inference_scale = population_variance + layer.epsilon
            training_scale = batch_variance + layer.epsilon
            log_ratio = tf.math.log(inference_scale) - tf.math.log(training_scale)
            ratios.append(tf.exp(tf.reduce_mean(log_ratio)))
            shift = (population_mean - batch_mean) * tf.math.rsqrt(training_scale)
            shifts.append(tf.sqrt(tf.reduce_mean(tf.square(shift))))
        return tf.stack(ratios), tf.stack(shifts), self._stack(moments)

    def _stacked_moments(self, images):
        return self._stack(self.batch_moments(images))

    @staticmethod
    def _stack(moments):
        # One flat vector (every mean, then every variance): one small output per call.
        return tf.concat([mean for mean, _ in moments] + [variance for _, variance in moments], 0)

    # -- compiled measurements ----------------------------------------------------------

    def _as_input(self, images):
        return np.asarray(images, dtype=self.input_spec.dtype.as_numpy_dtype)

    def population_lag(self, probe_images) -> PopulationLag:
        """See the module-level ``population_lag``."""
        if not self.layers:
            return PopulationLag(np.zeros(0, np.float32), np.zeros(0, np.float32))
        ratio, shift = self._traced(self.lag_function)(self._as_input(probe_images))
        return PopulationLag(ratio.numpy(), shift.numpy())

    def precise_statistics(
        self, images, batch_size: int, batches: int = PRECISE_BATCHES, seed: int = 0
    ) -> Statistics:
        """See the module-level ``precise_statistics``."""
        images = np.asarray(images)
        indices = precise_batch_indices(len(images), batch_size, batches, seed)
        if not self.layers:
            return {}
        total = np.zeros(2 * sum(self._feature_counts), np.float64)
        moments = self._traced(self.moments_function)
        for batch in indices:
            total += moments(self._as_input(images[batch])).numpy()
        return self.statistics_from_moments(total / len(indices))

    def statistics_from_moments(self, moments) -> Statistics:
        """``{layer name: (mean, variance)}`` from one vector as ``moments_function`` returns
        (every layer's mean, then every layer's variance), for example an average of them."""
        means, variances = np.split(np.asarray(moments).astype(np.float32), 2)
        boundaries = np.cumsum(self._feature_counts)[:-1]
        return {
            name: (mean, variance)
            for name, mean, variance in zip(
                self.layer_names, np.split(means, boundaries), np.split(variances, boundaries)
            )
        }


# model -> BatchNormProbe, dropped with the model
_probes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_probes_lock = threading.Lock()


def batch_norm_probe(model: keras.Model) -> BatchNormProbe:
    """The model's ``BatchNormProbe``, built at the first request and kept while the model lives."""
    with _probes_lock:
        probe = _probes.get(model)
        if probe is None:
            probe = _probes[model] = BatchNormProbe(model)
        return probe


def population_lag(model: keras.Model, probe_images) -> PopulationLag:
    """How far each BN layer's population statistics are from its input's true statistics.

    The true statistics are the per-feature mean and variance of the layer's
    input on ``probe_images`` in training mode (the forward pass the layer
    sees while training, with the current weights). Changes no variable.
    Per BN layer, in forward order:

    - ``variance_ratio``: the geometric mean over features of
      ``(population variance + eps) / (true variance + eps)``, the ratio of the
      squared scales the layer divides by at inference and in training. 1
      means agreement; above 1, inference shrinks that layer's normalized
      output by the square root. The geometric mean lets a factor k and a
      factor 1/k weigh the same; with epsilon, a feature that is always 0
      (a dead ReLU in front of the layer) counts as agreeing, not as infinite.
      Features off in opposite directions can cancel.
    - ``mean_shift``: the root mean square over features of
      ``(population mean - true mean) / sqrt(true variance + eps)``, the shift
      inference adds to the normalized output, in units of its training-time
      standard deviation. 0 means agreement.

    The population variance averages variances of training batches (each
    divided by its n), so measure on a probe batch of the training batch size
    for both sides to share that small-sample bias. The probe batch is itself
    a sample, so statistics that agree read close to 1 and 0, not exactly;
    the deepest layers, with one value per image and feature, are the
    noisiest. Compiled once per model (``batch_norm_probe``).
    """
    return batch_norm_probe(model).population_lag(probe_images)


def lag_outputs(model: keras.Model, images: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """``population_lag`` as tensors, for use inside a caller's own ``tf.function``.

    Returns ``(variance_ratio, mean_shift)``, one float32 value per BN layer
    each (empty for a model without BN). It works inside a trace even for a
    model not probed yet; building the probes first
    (``[batch_norm_probe(m) for m in models]``) keeps that work out of the trace.
    """
    return batch_norm_probe(model).lag_outputs(images)


class MultiModelLag:
    """``population_lag`` of several models at once, in one compiled graph.

    Calling it with a probe batch returns one ``PopulationLag`` per model, in
    order (empty for a model without BN). ``function`` is the ``tf.function``,
    traced once at the first call; the models run side by side in it. Every
    model must take the same input shape.
    """

    def __init__(self, models: Sequence[keras.Model]):
        probes = [batch_norm_probe(model) for model in models]
        if not probes:
            raise ValueError("MultiModelLag needs at least one model")
        specs = {(tuple(probe.input_spec.shape), probe.input_spec.dtype) for probe in probes}
        if len(specs) != 1:
            raise ValueError("MultiModelLag needs models with the same input shape")
        self._dtype = probes[0].input_spec.dtype.as_numpy_dtype

        def all_lags(images):
            return [probe.lag_outputs(images) for probe in probes]

        self.function = tf.function(all_lags, input_signature=[probes[0].input_spec],
                                    autograph=False)

    def __call__(self, probe_images) -> list[PopulationLag]:
        outputs = self.function(np.asarray(probe_images, dtype=self._dtype))
        return [PopulationLag(ratio.numpy(), shift.numpy()) for ratio, shift in outputs]


def precise_statistics(
    model: keras.Model, images, batch_size: int, batches: int = PRECISE_BATCHES, seed: int = 0
) -> Statistics:
    """Precise BN: every BN layer's population statistics re-estimated with the weights fixed.

    Runs ``batches`` batches of ``batch_size`` images drawn from ``images``
    (``precise_batch_indices``: deterministic for a seed) through the model
    in training mode, each BN normalizing with its batch's statistics as in
    training, and returns per layer the plain average over the batches of the
    batch means and of the batch variances (each divided by its n, as the
    layer takes it): what the EMA estimates, without its lag behind changing
    weights and its memory of the starting values. It is not the variance
    of all the images pooled, which would add the spread of the batch means.

    ``{layer name: (mean, variance)}``, float32 arrays; ``{}`` for a model
    without BN. Changes neither the weights nor the model's statistics; pass
    the result to ``with_statistics`` (or ``set_population_statistics``).
    The statistics are re-estimated for the deliberate bugs too: for frozen
    statistics (momentum 1.0) they replace the never-updated 0 and 1, which
    repairs the model; for batch statistics at inference they are never used,
    so they change nothing there.
    """
    return batch_norm_probe(model).precise_statistics(images, batch_size, batches, seed)


def precise_bn_model(
    model: keras.Model, images, batch_size: int, batches: int = PRECISE_BATCHES, seed: int = 0
) -> keras.Model:
    """A copy of ``model`` with precise-BN statistics (``precise_statistics``); ``model`` is kept.

    A model without BN layers comes back as a plain copy.
    """
    return with_statistics(model, precise_statistics(model, images, batch_size, batches, seed))
