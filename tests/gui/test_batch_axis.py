"""The axes: readable spacing, and the batch axis's end always labelled."""

import pytest
from PySide6.QtGui import QFont

from bngui.gui.batch_axis import BatchAxis, readable_spacing


def test_readable_spacing_takes_the_next_1_2_5_step_that_fits():
    assert readable_spacing(0.2, 100, 20, gap=0) == 0.2  # 20 px per 0.2: fits
    assert readable_spacing(0.2, 50, 20, gap=0) == 0.5  # 10 px per 0.2: too little
    assert readable_spacing(50, 1.0, 90, whole=True, gap=0) == 100
    assert readable_spacing(0.2, 10, 5, whole=True) == 2  # batches are whole


@pytest.mark.parametrize("end, size", [(800, 400), (300, 380), (1, 200), (12345, 150)])
def test_the_end_of_the_run_is_always_a_labelled_tick(qapp, end, size):
    axis = BatchAxis("bottom")
    axis.setTickFont(QFont())
    axis.set_end(end)
    low, high = -0.04 * end, 1.04 * end
    levels = axis.tickValues(low, high, size)
    major = levels[0][1]
    assert end in major and 0 in major
    # No other tick label close enough to collide with it.
    room = axis._label_width(end)
    pixels_per_unit = size / (high - low)
    for _, values in levels:
        for value in values:
            assert value == end or abs(value - end) * pixels_per_unit >= room
    assert all(float(value).is_integer() for _, values in levels for value in values)
