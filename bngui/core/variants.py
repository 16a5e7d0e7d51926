"""The catalogue of variants (SPEC.md, "The variants"): ids, labels, colours.

Every variant is the same 19-convolution network; they differ only in whether
and how batch normalization is inserted, and in which implementation does it.
This module imports no TensorFlow, so the GUI and the command line can list
and check variants instantly; ``bngui.core.models`` builds them.
"""

from dataclasses import dataclass

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
