"""What the window calls each variant and group, in the user's language.

The catalogue (``core/variants.py``) holds the English labels the command line
prints. The window needs them translatable, and shorter where room is short:

- ``variant_label``: the full label ("Keras BN: conv+bias → ReLU → BN"), for tooltips;
- ``compact_label``: one short line naming the variant on its own
  ("Keras conv+bias→ReLU→BN"), for the results table and the plot titles;
- ``name_in_group``: the name under its group's heading ("conv+bias→ReLU→BN"),
  for the setup panel's check boxes and the variant list beside the plots;
- ``group_title``, ``short_group_title``: the headings themselves;
- ``model_label``: a model's name on the draw page (a variant's, precise BN's, the drawing model's).

The texts are listed with ``QT_TRANSLATE_NOOP`` so Qt's lupdate finds them.
"""

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from bngui.core.variants import (
    DRAWING_MODEL_BATCHES,
    DRAWING_MODEL_ID,
    GROUPS,
    PRECISE_SUFFIX,
    VARIANTS,
    VARIANTS_BY_ID,
    UnknownVariantError,
    Variant,
    model_info,
)

CONTEXT = "VariantNames"

_LABELS = {
    "baseline": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN)"),
    "baseline-nn": QT_TRANSLATE_NOOP("VariantNames", "Baseline, tf.nn init (no BN)"),
    "keras-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "Keras BN: conv → BN → ReLU"),
    "keras-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "Keras BN: conv+bias → BN → ReLU"),
    "keras-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "Keras BN: conv+bias → ReLU → BN"),
    "keras-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "Keras BN: conv → ReLU → BN"),
    "nn-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "tf.nn BN: conv → BN → ReLU"),
    "nn-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "tf.nn BN: conv+bias → BN → ReLU"),
    "nn-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "tf.nn BN: conv+bias → ReLU → BN"),
    "nn-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "tf.nn BN: conv → ReLU → BN"),
    "keras-conv-bn-relu-frozen-stats": QT_TRANSLATE_NOOP(
        "VariantNames", "Pitfall: BN statistics never updated"),
    "keras-conv-bn-relu-batch-stats": QT_TRANSLATE_NOOP(
        "VariantNames", "Pitfall: batch statistics at inference"),
    "baseline-lr10": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN), 10x learning rate"),
    "keras-conv-bn-relu-lr10": QT_TRANSLATE_NOOP(
        "VariantNames", "Keras BN: conv → BN → ReLU, 10x learning rate"),
    "keras-conv-bn-relu-batch16": QT_TRANSLATE_NOOP(
        "VariantNames", "Keras BN: conv → BN → ReLU, batches 4x smaller"),
    "keras-conv-bn-relu-batch4": QT_TRANSLATE_NOOP(
        "VariantNames", "Keras BN: conv → BN → ReLU, batches 16x smaller"),
    "baseline-batch16": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN), batches 4x smaller"),
    "baseline-batch4": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN), batches 16x smaller"),
    "keras-conv-bn-relu-decay90": QT_TRANSLATE_NOOP(
        "VariantNames", "Keras BN: conv → BN → ReLU, BN decay 0.9"),
    "keras-conv-bn-relu-decay999": QT_TRANSLATE_NOOP(
        "VariantNames", "Keras BN: conv → BN → ReLU, BN decay 0.999"),
}

_COMPACT = {
    "baseline": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN)"),
    "baseline-nn": QT_TRANSLATE_NOOP("VariantNames", "Baseline, tf.nn init"),
    "keras-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "Keras conv→BN→ReLU"),
    "keras-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "Keras conv+bias→BN→ReLU"),
    "keras-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "Keras conv+bias→ReLU→BN"),
    "keras-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "Keras conv→ReLU→BN"),
    "nn-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "tf.nn conv→BN→ReLU"),
    "nn-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "tf.nn conv+bias→BN→ReLU"),
    "nn-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "tf.nn conv+bias→ReLU→BN"),
    "nn-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "tf.nn conv→ReLU→BN"),
    "keras-conv-bn-relu-frozen-stats": QT_TRANSLATE_NOOP("VariantNames", "BN stats never updated"),
    "keras-conv-bn-relu-batch-stats": QT_TRANSLATE_NOOP("VariantNames", "Batch stats at inference"),
    "baseline-lr10": QT_TRANSLATE_NOOP("VariantNames", "Baseline, 10× rate"),
    "keras-conv-bn-relu-lr10": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, 10× rate"),
    "keras-conv-bn-relu-batch16": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, batches ÷4"),
    "keras-conv-bn-relu-batch4": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, batches ÷16"),
    "baseline-batch16": QT_TRANSLATE_NOOP("VariantNames", "Baseline, batches ÷4"),
    "baseline-batch4": QT_TRANSLATE_NOOP("VariantNames", "Baseline, batches ÷16"),
    "keras-conv-bn-relu-decay90": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, decay 0.9"),
    "keras-conv-bn-relu-decay999": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, decay 0.999"),
}

_IN_GROUP = {
    "baseline": QT_TRANSLATE_NOOP("VariantNames", "Baseline"),
    "baseline-nn": QT_TRANSLATE_NOOP("VariantNames", "Baseline, tf.nn init"),
    "keras-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "conv→BN→ReLU"),
    "keras-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "conv+bias→BN→ReLU"),
    "keras-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "conv+bias→ReLU→BN"),
    "keras-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "conv→ReLU→BN"),
    "nn-conv-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "conv→BN→ReLU"),
    "nn-convbias-bn-relu": QT_TRANSLATE_NOOP("VariantNames", "conv+bias→BN→ReLU"),
    "nn-convbias-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "conv+bias→ReLU→BN"),
    "nn-conv-relu-bn": QT_TRANSLATE_NOOP("VariantNames", "conv→ReLU→BN"),
    "keras-conv-bn-relu-frozen-stats": QT_TRANSLATE_NOOP("VariantNames", "Statistics never updated"),
    "keras-conv-bn-relu-batch-stats": QT_TRANSLATE_NOOP("VariantNames", "Batch statistics at inference"),
    "baseline-lr10": QT_TRANSLATE_NOOP("VariantNames", "Baseline (no BN)"),
    "keras-conv-bn-relu-lr10": QT_TRANSLATE_NOOP("VariantNames", "Keras conv→BN→ReLU"),
    "keras-conv-bn-relu-batch16": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, 4× smaller batches"),
    "keras-conv-bn-relu-batch4": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, 16× smaller batches"),
    "baseline-batch16": QT_TRANSLATE_NOOP("VariantNames", "Baseline, 4× smaller batches"),
    "baseline-batch4": QT_TRANSLATE_NOOP("VariantNames", "Baseline, 16× smaller batches"),
    "keras-conv-bn-relu-decay90": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, decay 0.9"),
    "keras-conv-bn-relu-decay999": QT_TRANSLATE_NOOP("VariantNames", "Keras BN, decay 0.999"),
}

# Keyed by the catalogue's group names (core/variants.py GROUPS).
_GROUP_TITLES = {
    GROUPS[0]: QT_TRANSLATE_NOOP("VariantNames", "No batch normalization"),
    GROUPS[1]: QT_TRANSLATE_NOOP("VariantNames", "Keras BatchNormalization"),
    GROUPS[2]: QT_TRANSLATE_NOOP("VariantNames", "Low-level BN (tf.nn)"),
    GROUPS[3]: QT_TRANSLATE_NOOP("VariantNames", "Pitfalls"),
    GROUPS[4]: QT_TRANSLATE_NOOP("VariantNames", "10× learning rate"),
    GROUPS[5]: QT_TRANSLATE_NOOP("VariantNames", "Small batches"),
    GROUPS[6]: QT_TRANSLATE_NOOP("VariantNames", "BN decay (the notebook: 0.99)"),
}
_SHORT_GROUP_TITLES = {
    GROUPS[0]: QT_TRANSLATE_NOOP("VariantNames", "No BN"),
    GROUPS[1]: QT_TRANSLATE_NOOP("VariantNames", "Keras BN"),
    GROUPS[2]: QT_TRANSLATE_NOOP("VariantNames", "tf.nn BN"),
    GROUPS[3]: QT_TRANSLATE_NOOP("VariantNames", "Pitfalls"),
    GROUPS[4]: QT_TRANSLATE_NOOP("VariantNames", "10× learning rate"),
    GROUPS[5]: QT_TRANSLATE_NOOP("VariantNames", "Small batches"),
    GROUPS[6]: QT_TRANSLATE_NOOP("VariantNames", "BN decay"),
}


def _variant(variant):
    return variant if isinstance(variant, Variant) else VARIANTS_BY_ID[variant]


def _translated(table, key):
    return QCoreApplication.translate(CONTEXT, table[key])


def variant_label(variant):
    """The full label: "Keras BN: conv+bias → ReLU → BN"."""
    return _translated(_LABELS, _variant(variant).id)


def compact_label(variant):
    """One short line that names the variant on its own: "Keras conv+bias→ReLU→BN"."""
    return _translated(_COMPACT, _variant(variant).id)


def name_in_group(variant):
    """The name under its group's heading: "conv+bias→ReLU→BN"."""
    return _translated(_IN_GROUP, _variant(variant).id)


def model_label(model_id):
    """The name of a model on the draw page: a variant's full label, a variant's model after
    precise BN, or the model shipped for drawing; an unknown id as it is."""
    try:
        info = model_info(model_id)
    except UnknownVariantError:
        return model_id
    if model_id == DRAWING_MODEL_ID:
        return QCoreApplication.translate(
            "VariantNames", "BN, trained for drawing: {batches} batches, augmented").format(
                batches=f"{DRAWING_MODEL_BATCHES:,}")
    if model_id.endswith(PRECISE_SUFFIX):
        return QCoreApplication.translate("VariantNames", "{label} (precise BN)").format(
            label=variant_label(info.variant))
    return variant_label(info.variant)


def short_model_label(model_id):
    """``model_label`` in one short line, for a table column: "Keras conv→BN→ReLU"."""
    try:
        info = model_info(model_id)
    except UnknownVariantError:
        return model_id
    if model_id == DRAWING_MODEL_ID:
        return QCoreApplication.translate("VariantNames", "BN for drawing")
    if model_id.endswith(PRECISE_SUFFIX):
        return QCoreApplication.translate("VariantNames", "{label} (precise BN)").format(
            label=compact_label(info.variant))
    return compact_label(info.variant)


def group_title(group):
    return _translated(_GROUP_TITLES, group)


def short_group_title(group):
    return _translated(_SHORT_GROUP_TITLES, group)


def variants_by_group(variant_ids):
    """``[(group, [variant, ...]), ...]`` of ``variant_ids``, groups and variants in catalogue order."""
    wanted = set(variant_ids)
    grouped = []
    for group in GROUPS:
        members = [variant for variant in VARIANTS if variant.group == group and variant.id in wanted]
        if members:
            grouped.append((group, members))
    return grouped
