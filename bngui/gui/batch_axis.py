"""The axes of the plots: labels that never collide, and the batch axis's end labelled.

pyqtgraph keeps at least two tick intervals however short the axis, which
smears "0200400600" across a narrow plot (and stacks "0.4" on "0.6" in a low
one); here the spacing grows (1, 2, 5 × 10^k) until the labels fit. pyqtgraph
also leaves out a label that would cross the plot's edge, and the last batch of
a run is exactly such a label: the batch axis labels the end of the run
(``set_end``) always, and a regular tick too close to it gives way.
"""

import math

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontMetrics

LABEL_GAP_PX = 10  # at least this much space between two labels


def readable_spacing(spacing, pixels_per_unit, label_size, whole=False, gap=LABEL_GAP_PX):
    """The smallest of 1, 2, 5 × 10^k, from ``spacing`` on, that leaves ``label_size`` pixels
    and a gap between labels (``whole``: at least 1, for batches)."""
    step = max(spacing, 1.0) if whole else spacing
    if step <= 0 or pixels_per_unit <= 0:
        return step
    power = 10.0 ** math.floor(math.log10(step))
    candidates = (power * factor * 10**decade for decade in range(12) for factor in (1, 2, 5))
    needed = (label_size + gap) / pixels_per_unit
    return next(value for value in candidates if value >= step - 1e-12 and value >= needed)


class ValueAxis(pg.AxisItem):
    """A left axis whose labels never overlap, however low the plot."""

    def boundingRect(self):
        rect = super().boundingRect()
        if self.grid is not False:
            # With a grid pyqtgraph forgets the room it allows the labels past the
            # ends, and "0" and "1" of an accuracy axis sit on them.
            half = QFontMetrics(self.style["tickFont"] or QFont()).height() // 2 + 1
            rect = rect.adjusted(0, -half, 0, half)
        return rect

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or size <= 0 or maxVal <= minVal or self.logMode:
            return levels
        font = self.style["tickFont"] or QFont()
        # Labels one above the other need little more than their height.
        spacing = readable_spacing(levels[0][0], size / (maxVal - minVal), QFontMetrics(font).height(),
                                   gap=2)
        return [(spacing, 0), *[(step, offset) for step, offset in levels[1:] if step < spacing]]


class BatchAxis(pg.AxisItem):
    def __init__(self, orientation="bottom", **options):
        super().__init__(orientation, **options)
        self._end = None

    @property
    def end(self):
        return self._end

    def set_end(self, end):
        """Label ``end`` (the last batch shown), whatever the regular spacing."""
        end = None if end is None else float(end)
        if end != self._end:
            self._end = end
            self.picture = None  # pyqtgraph's cached drawing of the ticks
            self.update()

    def setTickFont(self, font):
        super().setTickFont(font)
        # Half a label may reach past the axis's end (the last batch sits on the
        # edge); the neighbouring plot's margin has that room.
        self.setStyle(hideOverlappingLabels=int(self._label_width(100000) // 2 + 4))

    def boundingRect(self):
        rect = super().boundingRect()
        margin = self.style["hideOverlappingLabels"]
        if self.grid is not False and not isinstance(margin, bool):
            # With a grid pyqtgraph forgets the room it allows labels past the ends.
            rect = rect.adjusted(-margin, 0, margin, 0)
        return rect

    def _label_width(self, value):
        font = self.style["tickFont"] or QFont()
        return QFontMetrics(font).horizontalAdvance(f"{value:.0f}")

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        if not levels or size <= 0 or maxVal <= minVal:
            return levels
        widest = self._label_width(max(abs(minVal), abs(maxVal)))
        spacing = readable_spacing(levels[0][0], size / (maxVal - minVal), 1.5 * widest, whole=True)
        minor = [(step, start) for step, start in levels[1:] if step >= 1 and step < spacing]
        return [(spacing, 0), *minor]

    def tickValues(self, minVal, maxVal, size):
        levels = super().tickValues(minVal, maxVal, size)
        end = self._end
        if end is None or not levels or not minVal <= end <= maxVal or maxVal <= minVal:
            return levels
        pixels_per_unit = size / (maxVal - minVal)
        room = self._label_width(end) + LABEL_GAP_PX

        def far_from_end(value):
            return math.isclose(value, end) or abs(value - end) * pixels_per_unit >= room

        spacing, values = levels[0]
        major = sorted({*(value for value in values if far_from_end(value)), end})
        return [(spacing, major)] + [
            (step, [value for value in values if far_from_end(value) and value not in major])
            for step, values in levels[1:]
        ]
