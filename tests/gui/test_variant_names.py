"""The window's names of the variants: all there, translatable, the catalogue's labels."""

from bngui.core.variants import GROUPS, VARIANTS
from bngui.gui import variant_names
from bngui.gui.variant_names import (
    compact_label,
    group_title,
    name_in_group,
    short_group_title,
    variant_label,
)


def test_every_variant_and_group_has_its_names(qapp):
    for variant in VARIANTS:
        assert variant_label(variant) == variant.label  # the command line's, untranslated
        assert compact_label(variant) and name_in_group(variant)
        assert len(compact_label(variant)) <= 24  # one short line in the table and titles
    for group in GROUPS:
        assert group_title(group) and short_group_title(group)


def test_names_under_a_group_heading_do_not_repeat_it(qapp):
    for variant in VARIANTS:
        if variant.group in GROUPS[1:3]:  # Keras BN, tf.nn BN
            assert not name_in_group(variant).startswith(("Keras", "tf.nn"))
            assert "→" in name_in_group(variant)


def test_variants_are_listed_by_group_in_catalogue_order(qapp):
    grouped = variant_names.variants_by_group(["nn-conv-bn-relu", "baseline", "keras-conv-bn-relu"])
    assert [(group, [variant.id for variant in members]) for group, members in grouped] == [
        (GROUPS[0], ["baseline"]), (GROUPS[1], ["keras-conv-bn-relu"]), (GROUPS[2], ["nn-conv-bn-relu"])]
