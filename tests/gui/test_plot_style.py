"""Colours and line styles of the variants: colour-blind-safe, one per variant, a second cue per group."""

import pytest
from PySide6.QtCore import Qt

from bngui.core.variants import (
    DASHED,
    DOTTED,
    KERAS_BN,
    LOW_LEVEL_BN,
    NO_BN,
    OKABE_ITO,
    SOLID,
    TOL_BRIGHT,
    TOL_MUTED,
    TOL_VIBRANT,
    VARIANTS,
)
from bngui.gui.plot_style import line_swatch, variant_pen
from bngui.gui.presets import PRESETS


def test_every_colour_is_from_okabe_ito_or_paul_tol():
    palette = {colour.lower() for scheme in (OKABE_ITO, TOL_MUTED, TOL_VIBRANT, TOL_BRIGHT)
               for colour in scheme.values()}
    assert all(variant.color.lower() in palette for variant in VARIANTS)


def test_each_variant_has_its_own_colour():
    colours = [variant.color.lower() for variant in VARIANTS]
    assert len(set(colours)) == len(colours)


def test_the_line_style_tells_the_implementation_apart():
    expected = {KERAS_BN: SOLID, LOW_LEVEL_BN: DASHED, NO_BN: DOTTED}
    assert all(variant.line_style == expected[variant.implementation] for variant in VARIANTS)


def luminance(colour):
    red, green, blue = (int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize("name", list(PRESETS))
def test_baseline_and_bn_differ_in_greyscale(name):
    """In every preset a baseline is dotted and a BN variant is not; and no two variants
    of a preset share both line style and (nearly) grey level."""
    variants = [variant for variant in VARIANTS if variant.id in PRESETS[name].variants]
    for one in variants:
        for other in variants:
            if one is other:
                continue
            if one.has_batch_norm != other.has_batch_norm:
                assert (one.line_style == DOTTED) != (other.line_style == DOTTED)
            if name != "All ten" and one.line_style == other.line_style:
                assert abs(luminance(one.color) - luminance(other.color)) > 0.04, (one.id, other.id)


def test_pens_carry_the_dash_pattern_and_the_swatch_shows_it(qapp):
    by_style = {variant.line_style: variant for variant in VARIANTS}
    assert variant_pen(by_style[SOLID], 2.5).style() == Qt.SolidLine
    for style in (DASHED, DOTTED):
        pen = variant_pen(by_style[style], 2.5)
        assert pen.style() == Qt.CustomDashLine and pen.dashPattern()
    dotted, dashed = variant_pen(by_style[DOTTED], 2.5), variant_pen(by_style[DASHED], 2.5)
    assert dotted.dashPattern()[0] < dashed.dashPattern()[0]
    image = line_swatch(by_style[DOTTED], 60, 12, 3).toImage()
    row = [image.pixelColor(x, 6).alpha() for x in range(60)]
    assert max(row) > 200 and row.count(0) > 10  # dots with gaps between them
