"""The notebook's network (19 convolutions, then 100 units, then 10 logits), built for any variant."""

import numbers

from bngui.core.layer_names import CONV_LAYERS, NONLINEAR_LAYERS, relu_layer_name
from bngui.core.layers import (
    EPSILON,
    POPULATION_DECAY,
    BatchStatisticsBatchNorm,
    FusedBatchNormalization,
    LowLevelBatchNorm,
    LowLevelConv2D,
)
from bngui.core.tf_runtime import keras
from bngui.core.variants import BATCH_STATS, FROZEN_STATS, KERAS_BN, get_variant

HIDDEN_UNITS = 100
CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)

# The share of its population statistics a BN layer keeps at each training batch.
BN_DECAY = POPULATION_DECAY


def conv_filters(layer_number):
    return 4 * layer_number


def conv_strides(layer_number):
    return 2 if layer_number % 3 == 0 else 1


def validate_bn_decay(bn_decay):
    """``bn_decay`` as a float; it must be a real number strictly between 0 and 1.

    0 would forget everything at each batch and 1 would never learn the
    statistics (that is the frozen-statistics pitfall, which is built on purpose).
    """
    if isinstance(bn_decay, bool) or not isinstance(bn_decay, numbers.Real):
        raise TypeError(f"the BN decay must be a number between 0 and 1, not {bn_decay!r}")
    decay = float(bn_decay)
    if not 0.0 < decay < 1.0:  # also rejects NaN
        raise ValueError(f"the BN decay must be strictly between 0 and 1, not {bn_decay!r}")
    return decay


def _batch_norm(variant, name, decay):
    if variant.pitfall == FROZEN_STATS:
        # Momentum 1 keeps the population statistics at their initial 0 and 1,
        # exactly what happens when the update ops never run, whatever the decay.
        return FusedBatchNormalization(momentum=1.0, epsilon=EPSILON, name=name)
    if variant.pitfall == BATCH_STATS:
        return BatchStatisticsBatchNorm(momentum=decay, epsilon=EPSILON, name=name)
    if variant.implementation == KERAS_BN:
        # With the default decay Keras's defaults match the notebook: momentum 0.99, epsilon 1e-3.
        return FusedBatchNormalization(momentum=decay, epsilon=EPSILON, name=name)
    return LowLevelBatchNorm(decay=decay, epsilon=EPSILON, name=name)


def _conv(variant, layer_number, use_bias):
    filters, strides = conv_filters(layer_number), conv_strides(layer_number)
    name = f"conv{layer_number}"
    if variant.low_level:
        return LowLevelConv2D(filters, 3, strides, use_bias=use_bias, name=name)
    return keras.layers.Conv2D(filters, 3, strides, padding="same", use_bias=use_bias, name=name)


def _block(x, variant, conv_or_dense, suffix, bn_decay):
    """Apply a linear layer, then ReLU and (if any) BN in the variant's order."""
    x = conv_or_dense(x)
    if not variant.has_batch_norm:
        return keras.layers.ReLU(name=f"relu{suffix}")(x)
    if variant.bn_before_relu:
        x = _batch_norm(variant, f"bn{suffix}", bn_decay)(x)
        return keras.layers.ReLU(name=f"relu{suffix}")(x)
    x = keras.layers.ReLU(name=f"relu{suffix}")(x)
    return _batch_norm(variant, f"bn{suffix}", bn_decay)(x)


def build_model(variant, bn_decay=BN_DECAY):
    """Build the 19-conv network for ``variant`` (an id or a Variant); returns logits.

    ``bn_decay`` is the share of the old population statistics a BN layer keeps
    at each training batch: ``pop = pop*decay + batch*(1-decay)``. It becomes
    Keras's ``momentum`` and the low-level layer's ``decay`` (the same
    convention); PyTorch counts the other way, so Keras's ``momentum=0.99`` is
    PyTorch's ``momentum=0.01``. The statistics then remember about
    ``1/(1-decay)`` batches: 100 at 0.99, and the starting values (mean 0,
    variance 1) still weigh ``decay**n`` after ``n`` batches, about 1% after
    460 batches at 0.99. The frozen-statistics pitfall keeps momentum 1.0
    whatever the setting; variants without BN ignore it. The weights do not
    depend on it: the same seed gives the same initial weights for any decay.
    """
    if isinstance(variant, str):
        variant = get_variant(variant)
    bn_decay = validate_bn_decay(bn_decay)
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for number in range(1, CONV_LAYERS + 1):
        conv = _conv(variant, number, use_bias=variant.conv_bias)
        x = _block(x, variant, conv, number, bn_decay)
    x = keras.layers.Flatten(name="flatten")(x)
    # The 100-unit layer: dense(bias) → ReLU without BN, dense (no bias) → BN → ReLU
    # in every BN variant, whatever the convolution placement.
    if variant.has_batch_norm:
        x = keras.layers.Dense(HIDDEN_UNITS, use_bias=False, name="fc")(x)
        x = _batch_norm(variant, "bn_fc", bn_decay)(x)
    else:
        x = keras.layers.Dense(HIDDEN_UNITS, name="fc")(x)
    x = keras.layers.ReLU(name="relu_fc")(x)
    logits = keras.layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inputs, logits, name=variant.id.replace("-", "_"))


def nonlinearity_inputs_model(model):
    """A model with ``model``'s weights whose outputs are the inputs of its ReLUs.

    One output per layer of ``layer_names.NONLINEAR_LAYERS``; used to watch the
    distribution of what each nonlinearity receives while training.
    """
    outputs = [model.get_layer(relu_layer_name(layer)).input for layer in NONLINEAR_LAYERS]
    return keras.Model(model.inputs, outputs, name=f"{model.name}_nonlinearity_inputs")


def multiply_adds_per_image(model):
    """Multiply-adds of one forward pass, counted from the model's conv and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, LowLevelConv2D)):
            kernel = layer.kernel.shape  # (k, k, in, out)
            _, height, width, _ = layer.output.shape
            total += height * width * kernel[0] * kernel[1] * kernel[2] * kernel[3]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.kernel.shape[0] * layer.kernel.shape[1]
    return int(total)
