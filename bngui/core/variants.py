"""The notebook's network and its variants (SPEC.md, "The network", "The variants").

Every variant is the same 19-convolution network; they differ only in whether
and how batch normalization is inserted, and in which implementation does it.
"""

from dataclasses import dataclass

from bngui.core.layers import LowLevelBatchNorm, LowLevelConv2D
from bngui.core.tf_runtime import keras

CONV_LAYERS = 19
HIDDEN_UNITS = 100
CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)

# Implementations of batch normalization.
NO_BN = "none"
KERAS_BN = "keras"
LOW_LEVEL_BN = "nn"

IMPLEMENTATION_GROUPS = {
    NO_BN: "No batch normalization",
    KERAS_BN: "Keras BatchNormalization",
    LOW_LEVEL_BN: "Low-level BN (tf.nn)",
}


@dataclass(frozen=True)
class Variant:
    """One way of building the network.

    ``bn_before_relu`` only matters when there is batch normalization: True is
    conv → BN → ReLU, False is conv → ReLU → BN.
    """

    id: str
    label: str
    implementation: str
    conv_bias: bool
    bn_before_relu: bool
    color: str

    @property
    def has_batch_norm(self):
        return self.implementation != NO_BN

    @property
    def low_level(self):
        """Convolutions written on tf.nn with the notebook's low-level initialisation."""
        return self.implementation == LOW_LEVEL_BN or self.id == "baseline-nn"

    @property
    def group(self):
        return IMPLEMENTATION_GROUPS[self.implementation]


def _placement_variants(prefix, implementation, title, colors):
    placements = [
        ("conv-bn-relu", False, True, "conv → BN → ReLU"),
        ("convbias-bn-relu", True, True, "conv+bias → BN → ReLU"),
        ("convbias-relu-bn", True, False, "conv+bias → ReLU → BN"),
        ("conv-relu-bn", False, False, "conv → ReLU → BN"),
    ]
    return [
        Variant(f"{prefix}-{suffix}", f"{title}: {text}", implementation, bias, before, color)
        for (suffix, bias, before, text), color in zip(placements, colors)
    ]


# Colours are chosen once here so that a variant looks the same in every plot,
# table and bar chart. Baselines are warm, batch-normalized variants cool.
VARIANTS = [
    Variant("baseline", "Baseline (no BN)", NO_BN, True, True, "#d62728"),
    Variant("baseline-nn", "Baseline, tf.nn init (no BN)", NO_BN, False, True, "#ff7f0e"),
    *_placement_variants(
        "keras", KERAS_BN, "Keras BN", ["#1f77b4", "#17becf", "#2ca02c", "#9467bd"]
    ),
    *_placement_variants(
        "nn", LOW_LEVEL_BN, "tf.nn BN", ["#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
    ),
]
VARIANTS_BY_ID = {variant.id: variant for variant in VARIANTS}
VARIANT_IDS = [variant.id for variant in VARIANTS]


class UnknownVariantError(ValueError):
    pass


def get_variant(variant_id):
    try:
        return VARIANTS_BY_ID[variant_id]
    except KeyError:
        raise UnknownVariantError(
            f"unknown variant {variant_id!r}; known variants: {', '.join(VARIANT_IDS)}"
        ) from None


def conv_filters(layer_number):
    return 4 * layer_number


def conv_strides(layer_number):
    return 2 if layer_number % 3 == 0 else 1


def _batch_norm(variant, name):
    if variant.implementation == KERAS_BN:
        # Keras's defaults already match the notebook: momentum 0.99, epsilon 1e-3.
        return keras.layers.BatchNormalization(momentum=0.99, epsilon=1e-3, name=name)
    return LowLevelBatchNorm(name=name)


def _conv(variant, layer_number, use_bias):
    filters, strides = conv_filters(layer_number), conv_strides(layer_number)
    name = f"conv{layer_number}"
    if variant.low_level:
        return LowLevelConv2D(filters, 3, strides, use_bias=use_bias, name=name)
    return keras.layers.Conv2D(filters, 3, strides, padding="same", use_bias=use_bias, name=name)


def _block(x, variant, conv_or_dense, suffix):
    """Apply a linear layer, then ReLU and (if any) BN in the variant's order."""
    x = conv_or_dense(x)
    if not variant.has_batch_norm:
        return keras.layers.ReLU(name=f"relu{suffix}")(x)
    if variant.bn_before_relu:
        x = _batch_norm(variant, f"bn{suffix}")(x)
        return keras.layers.ReLU(name=f"relu{suffix}")(x)
    x = keras.layers.ReLU(name=f"relu{suffix}")(x)
    return _batch_norm(variant, f"bn{suffix}")(x)


def build_model(variant):
    """Build the 19-conv network for ``variant`` (an id or a Variant); returns logits."""
    if isinstance(variant, str):
        variant = get_variant(variant)
    inputs = keras.Input(shape=IMAGE_SHAPE, name="image")
    x = inputs
    for number in range(1, CONV_LAYERS + 1):
        conv = _conv(variant, number, use_bias=variant.conv_bias)
        x = _block(x, variant, conv, number)
    x = keras.layers.Flatten(name="flatten")(x)
    # The 100-unit layer: dense(bias) → ReLU without BN, dense (no bias) → BN → ReLU
    # in every BN variant, whatever the convolution placement.
    if variant.has_batch_norm:
        x = keras.layers.Dense(HIDDEN_UNITS, use_bias=False, name="fc")(x)
        x = _batch_norm(variant, "bn_fc")(x)
    else:
        x = keras.layers.Dense(HIDDEN_UNITS, name="fc")(x)
    x = keras.layers.ReLU(name="relu_fc")(x)
    logits = keras.layers.Dense(CLASSES, name="logits")(x)
    return keras.Model(inputs, logits, name=variant.id.replace("-", "_"))


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
