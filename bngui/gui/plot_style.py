"""How every plot looks: colours, fonts, line widths, at normal and presentation size.

One ``PlotStyle`` per size; the curves, the network view and the exports all
take their sizes from it, so presentation mode enlarges everything alike.
"""

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsItem

from bngui.core.variants import DASHED, DOTTED, SOLID

TEXT_COLOR = "#202020"
AXIS_COLOR = "#404040"
MUTED_COLOR = "#505050"
GRID_ALPHA = 0.25
LEGEND_BRUSH = (255, 255, 255, 210)
# The window's font in presentation mode; plots use their own sizes below.
PRESENTATION_FONT_PT = 17

# The second cue of a variant beside its colour (core/variants.py LINE_STYLES), as
# dash patterns in units of the pen's width: dashes and dots stay visible on a
# projector at every line width, and round caps make the dots round.
DASH_PATTERNS = {SOLID: None, DASHED: (3.2, 1.8), DOTTED: (0.01, 2.0)}
# A highlighted variant (pointed at in the variant list) is drawn this much
# thicker; the others fade to this opacity.
HIGHLIGHT_WIDTH_FACTOR = 1.8
FADED_ALPHA = 45


def configure_pyqtgraph():
    """Process-wide pyqtgraph options: anti-aliased lines, dark text on white."""
    pg.setConfigOptions(antialias=True, background="w", foreground=TEXT_COLOR)


@dataclass(frozen=True)
class PlotStyle:
    presentation: bool = False

    @property
    def font_pt(self):
        """Tick labels, axis labels and legends."""
        return 18 if self.presentation else 11

    @property
    def title_pt(self):
        return self.font_pt + 2

    @property
    def line_width(self):
        return 5.0 if self.presentation else 2.5

    @property
    def marker_size(self):
        return 11 if self.presentation else 7

    @property
    def axis_pen_width(self):
        return 1.5 if self.presentation else 1.0

    def font(self, point_size=None):
        font = QFont()
        font.setPointSizeF(point_size or self.font_pt)
        return font

    def label_options(self, point_size=None):
        """Keyword options of ``PlotItem.setLabel`` in this style."""
        return {"font-size": f"{point_size or self.font_pt}pt", "color": TEXT_COLOR}

    def set_title(self, plot, title, point_size=None):
        plot.setTitle(title, size=f"{point_size or self.title_pt}pt", color=TEXT_COLOR)

    def style_axis(self, axis, cached=False):
        axis.setTickFont(self.font())
        axis.setTextPen(TEXT_COLOR)
        axis.setPen(pg.mkPen(AXIS_COLOR, width=self.axis_pen_width))
        # Plain numbers: "0.3" reads better on a projector than "300 (x0.001)".
        axis.enableAutoSIPrefix(False)
        if cached:
            # Repainting an axis replays its tick labels (milliseconds each);
            # cached, an axis is only redrawn when its range changes.
            axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def style_plot(self, plot, y_label, x_label="batch", cached_axes=False):
        """Fonts, pens and labels of a plot's left and bottom axes."""
        for name in ("left", "bottom"):
            self.style_axis(plot.getAxis(name), cached=cached_axes)
        for name, label in (("left", y_label), ("bottom", x_label)):
            if label:
                plot.setLabel(name, label, **self.label_options())
            else:
                plot.getAxis(name).showLabel(False)  # an empty label would still take its room

    def legend(self, **options):
        """A legend item (not yet placed) in this style."""
        options.setdefault("labelTextSize", f"{self.font_pt}pt")
        options.setdefault("labelTextColor", TEXT_COLOR)
        return pg.LegendItem(**options)


def variant_pen(variant, width, alpha=255):
    """The pen of a variant's curve: its colour, and its group's dash pattern."""
    color = QColor(variant.color)
    color.setAlpha(alpha)
    pen = pg.mkPen(color, width=width)
    pattern = DASH_PATTERNS[variant.line_style]
    if pattern is not None:
        pen.setDashPattern(list(pattern))
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def line_swatch(variant, width, height, line_width, faded=False):
    """A small picture of a variant's line (colour and dash pattern), for lists and icons."""
    pixmap = QPixmap(width, height)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(variant_pen(variant, line_width, FADED_ALPHA if faded else 255))
        middle = height / 2
        margin = line_width
        painter.drawLine(QPointF(margin, middle), QPointF(width - margin, middle))
    finally:
        painter.end()
    return pixmap


def coloured_html(text, color, bold=True):
    weight = "; font-weight:bold" if bold else ""
    return f'<span style="color:{color}{weight}">{text}</span>'
