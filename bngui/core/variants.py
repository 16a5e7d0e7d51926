"""The catalogue of variants: ids, labels, colours.

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

# The classic batch-normalization bugs, reproduced on purpose.
FROZEN_STATS = "frozen-stats"  # population statistics never updated
BATCH_STATS = "batch-stats"  # batch statistics used at inference too

# Groups beyond the notebook's ten, in the order the GUI lists them.
PITFALLS_GROUP = "Pitfalls"
HEADROOM_GROUP = "Learning-rate headroom"
BATCH_SIZE_GROUP = "Small batches"
DECAY_GROUP = "BN decay"
GROUPS = [*IMPLEMENTATION_GROUPS.values(), PITFALLS_GROUP, HEADROOM_GROUP, BATCH_SIZE_GROUP,
          DECAY_GROUP]


@dataclass(frozen=True)
class Variant:
    """One way of building the network.

    ``bn_before_relu`` only matters when there is batch normalization: True is
    conv → BN → ReLU, False is conv → ReLU → BN. ``pitfall`` names a
    deliberate BN bug (FROZEN_STATS, BATCH_STATS). ``learning_rate_factor``
    scales the run's learning rate for this variant. ``batch_split`` cuts
    each of the run's batches into that many smaller ones, one training step
    each: the same images in the same order, in smaller batches. ``twin_of``
    names the variant whose initial weights it shares, so the two differ only
    in the bug, the rate, the batch size or the BN decay. ``bn_decay``, when
    set, is this variant's BN decay whatever the run's setting.
    """

    id: str
    label: str
    implementation: str
    conv_bias: bool
    bn_before_relu: bool
    color: str
    pitfall: str | None = None
    learning_rate_factor: float = 1.0
    twin_of: str | None = None
    batch_split: int = 1
    bn_decay: float | None = None

    def decay(self, run_decay: float) -> float:
        """The BN decay this variant trains with in a run whose setting is ``run_decay``."""
        return self.bn_decay if self.bn_decay is not None else run_decay

    @property
    def has_batch_norm(self) -> bool:
        return self.implementation != NO_BN

    @property
    def low_level(self) -> bool:
        """Convolutions written on tf.nn with the notebook's low-level initialisation."""
        return self.implementation == LOW_LEVEL_BN or self.id == "baseline-nn"

    @property
    def group(self) -> str:
        if self.pitfall:
            return PITFALLS_GROUP
        if self.learning_rate_factor != 1.0:
            return HEADROOM_GROUP
        if self.batch_split != 1:
            return BATCH_SIZE_GROUP
        if self.bn_decay is not None:
            return DECAY_GROUP
        return IMPLEMENTATION_GROUPS[self.implementation]

    @property
    def line_style(self) -> str:
        """SOLID (Keras BN), DASHED (low-level BN) or DOTTED (no BN): the cue besides colour."""
        return LINE_STYLES[self.implementation]

    @property
    def init_id(self) -> str:
        """The id that seeds this variant's initial weights."""
        return self.twin_of or self.id


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


# Colour-blind-safe colours from Okabe & Ito's palette and Paul Tol's "muted"
# scheme (their pale and yellow tones left out: too faint on white for a projector),
# chosen once here so a variant looks the same in every plot, table and bar chart.
# The baselines take the oranges (vermillion, orange; wine at 10x), which no BN
# variant uses; the line style is the second cue (LINE_STYLES), so baseline and
# BN also differ in greyscale.
OKABE_ITO = {
    "orange": "#E69F00", "sky blue": "#56B4E9", "bluish green": "#009E73",
    "blue": "#0072B2", "vermillion": "#D55E00", "reddish purple": "#CC79A7", "black": "#000000",
}
TOL_MUTED = {
    "indigo": "#332288", "cyan": "#88CCEE", "teal": "#44AA99", "green": "#117733",
    "olive": "#999933", "rose": "#CC6677", "wine": "#882255", "purple": "#AA4499",
}
# Two more of Paul Tol's schemes, for the variants beyond the first fourteen.
TOL_VIBRANT = {"cyan": "#33BBEE", "magenta": "#EE3377"}
TOL_BRIGHT = {"red": "#EE6677", "green": "#228833", "purple": "#AA3377", "blue": "#4477AA"}

# The second cue per implementation group, as words (the GUI maps them to pens).
SOLID, DASHED, DOTTED = "solid", "dashed", "dotted"
LINE_STYLES = {KERAS_BN: SOLID, LOW_LEVEL_BN: DASHED, NO_BN: DOTTED}

NOTEBOOK_VARIANTS = [
    Variant("baseline", "Baseline (no BN)", NO_BN, True, True, OKABE_ITO["vermillion"]),
    Variant("baseline-nn", "Baseline, tf.nn init (no BN)", NO_BN, False, True, OKABE_ITO["orange"]),
    *_placement_variants(
        "keras", KERAS_BN, "Keras BN",
        [OKABE_ITO["blue"], OKABE_ITO["bluish green"], OKABE_ITO["reddish purple"], TOL_MUTED["indigo"]],
    ),
    *_placement_variants(
        "nn", LOW_LEVEL_BN, "tf.nn BN",
        [OKABE_ITO["sky blue"], TOL_MUTED["olive"], TOL_MUTED["purple"], TOL_MUTED["green"]],
    ),
]
NOTEBOOK_VARIANT_IDS = [variant.id for variant in NOTEBOOK_VARIANTS]

_KERAS_BN_BLOCK: dict = dict(implementation=KERAS_BN, conv_bias=False, bn_before_relu=True)
EXTRA_VARIANTS = [
    Variant(
        f"keras-conv-bn-relu-{FROZEN_STATS}", "Pitfall: BN statistics never updated",
        color=TOL_MUTED["rose"], pitfall=FROZEN_STATS, twin_of="keras-conv-bn-relu", **_KERAS_BN_BLOCK,
    ),
    Variant(
        f"keras-conv-bn-relu-{BATCH_STATS}", "Pitfall: batch statistics at inference",
        color=OKABE_ITO["black"], pitfall=BATCH_STATS, twin_of="keras-conv-bn-relu", **_KERAS_BN_BLOCK,
    ),
    Variant(
        "baseline-lr10", "Baseline (no BN), 10x learning rate", NO_BN, True, True,
        color=TOL_MUTED["wine"], learning_rate_factor=10.0, twin_of="baseline",
    ),
    Variant(
        "keras-conv-bn-relu-lr10", "Keras BN: conv → BN → ReLU, 10x learning rate",
        color=TOL_MUTED["teal"], learning_rate_factor=10.0, twin_of="keras-conv-bn-relu",
        **_KERAS_BN_BLOCK,
    ),
]

# The notebook's BN model and the baseline in batches of 16 and 4 (with the
# run's batch size of 64): the same images, four or sixteen times as many steps.
BATCH_SIZE_VARIANTS = [
    Variant(f"{twin}-batch{64 // split}", f"{label}, batches {split}x smaller",
            color=color, twin_of=twin, batch_split=split, **block)
    for twin, label, block, colors in (
        ("keras-conv-bn-relu", "Keras BN: conv → BN → ReLU", _KERAS_BN_BLOCK,
         (TOL_VIBRANT["cyan"], TOL_MUTED["cyan"])),
        ("baseline", "Baseline (no BN)", dict(implementation=NO_BN, conv_bias=True,
                                              bn_before_relu=True),
         (TOL_VIBRANT["magenta"], TOL_BRIGHT["red"])),
    )
    for split, color in zip((4, 16), colors)
]

# The notebook's BN model with a shorter and a longer memory of its population
# statistics (0.99 is the notebook's): how fast they follow against how noisy.
DECAY_VARIANTS = [
    Variant(f"keras-conv-bn-relu-decay{name}", f"Keras BN: conv → BN → ReLU, BN decay {decay:g}",
            color=color, twin_of="keras-conv-bn-relu", bn_decay=decay, **_KERAS_BN_BLOCK)
    for name, decay, color in (("90", 0.9, TOL_BRIGHT["green"]),
                               ("999", 0.999, TOL_BRIGHT["purple"]))
]

# Every variant bngui can train: the notebook's ten first, then the extras.
VARIANTS = NOTEBOOK_VARIANTS + EXTRA_VARIANTS + BATCH_SIZE_VARIANTS + DECAY_VARIANTS
VARIANTS_BY_ID = {variant.id: variant for variant in VARIANTS}
VARIANT_IDS = [variant.id for variant in VARIANTS]


class UnknownVariantError(ValueError):
    pass


def get_variant(variant_id: str) -> Variant:
    try:
        return VARIANTS_BY_ID[variant_id]
    except KeyError:
        raise UnknownVariantError(
            f"unknown variant {variant_id!r}; known variants: {', '.join(VARIANT_IDS)}"
        ) from None


# -- models beyond the variants --------------------------------------------------------
# A model is named by the variant whose network it is, possibly with a suffix: a
# variant's trained network with the population statistics of precise BN, or the
# BN model shipped for drawing (trained longer, on augmented batches).

PRECISE_SUFFIX = "-precise"
DRAWING_MODEL_ID = "keras-conv-bn-relu-drawing"
DRAWING_MODEL_VARIANT = "keras-conv-bn-relu"
DRAWING_MODEL_BATCHES = 8000
DRAWING_MODEL_COLOR = TOL_BRIGHT["blue"]  # a colour no variant of a run has


@dataclass(frozen=True)
class ModelInfo:
    """What a model id names: its network's variant, and how to show it."""

    id: str
    variant: Variant
    label: str
    color: str

    @property
    def has_batch_norm(self) -> bool:
        return self.variant.has_batch_norm


def model_info(model_id: str) -> ModelInfo:
    """The variant and label of a model id: a variant id, ``ID-precise`` or the drawing model."""
    if model_id in VARIANTS_BY_ID:
        variant = VARIANTS_BY_ID[model_id]
        return ModelInfo(model_id, variant, variant.label, variant.color)
    if model_id == DRAWING_MODEL_ID:
        variant = VARIANTS_BY_ID[DRAWING_MODEL_VARIANT]
        return ModelInfo(model_id, variant,
                         f"BN, trained for drawing: {DRAWING_MODEL_BATCHES:,} batches, augmented",
                         DRAWING_MODEL_COLOR)
    if model_id.endswith(PRECISE_SUFFIX):
        variant = get_variant(model_id[: -len(PRECISE_SUFFIX)])
        if variant.has_batch_norm:
            return ModelInfo(model_id, variant, f"{variant.label} (precise BN)", variant.color)
    raise UnknownVariantError(
        f"unknown model {model_id!r}: a variant id, a BN variant's id followed by"
        f" {PRECISE_SUFFIX}, or {DRAWING_MODEL_ID}"
    )


def is_model_id(model_id: str) -> bool:
    try:
        model_info(model_id)
    except UnknownVariantError:
        return False
    return True


def model_order(model_id: str) -> tuple:
    """A key that sorts models as the catalogue lists variants, each followed by its kin."""
    try:
        info = model_info(model_id)
    except UnknownVariantError:
        return (len(VARIANT_IDS), 0, model_id)
    kin = 0 if info.id == info.variant.id else 1 if info.id.endswith(PRECISE_SUFFIX) else 2
    return (VARIANT_IDS.index(info.variant.id), kin, model_id)
