"""Inside the network while it trains: activations and gradient flow, per variant.

One column per variant. Top: what one layer's ReLU receives on a fixed probe
batch (15th, 50th and 85th percentile over training, as in Ioffe & Szegedy
2015, Figure 1(b, c)), on a scale shared by all columns. Below: the norm of
every layer's weight gradient over training, as heatmaps on one shared colour
scale. On the right, full height: the latest norms per layer on a log axis.

Items are created once per variant set and then only given new data, and a
refresh is skipped unless the history's ``statistics_version`` changed.
"""

import math
import re
import textwrap
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from bngui.core.layer_names import (
    DEFAULT_ACTIVATION_LAYER,
    NONLINEAR_LAYERS,
    WEIGHT_LAYERS,
)
from bngui.core.variants import get_variant
from bngui.gui.batch_axis import BatchAxis
from bngui.gui.built_when_shown import BuiltWhenShown
from bngui.gui.i18n import translate
from bngui.gui.plot_grid import PlotGrid
from bngui.gui.plot_style import (
    AXIS_COLOR,
    GRID_ALPHA,
    MUTED_COLOR,
    PRESENTATION_FONT_PT,
    TEXT_COLOR,
    PlotStyle,
    coloured_html,
)
from bngui.gui.variant_names import variant_label

EMPTY_HINT = QT_TRANSLATE_NOOP("NetworkView", "Statistics appear when training starts: activations"
                               " at batch 0 and every 100 batches, gradients every 25.")
COLOR_BAR_LABEL = "log10 ‖∇W‖"
COLOR_MAP = "viridis"  # perceptual: dark = small gradient, bright = large
CONTEXT = "NetworkView"


@dataclass(frozen=True)
class Heatmap:
    """What the heatmaps below the activations show, one row per layer over training.

    Values are drawn as log10; ``symmetric`` scales are centred on 0 (a ratio of 1).
    """

    key: str
    heading: str
    bar_label: str
    colormap: str
    layers: tuple
    profile_title: str
    profile_label: str
    default_levels: tuple
    symmetric: bool = False


HEATMAPS = {
    heatmap.key: heatmap for heatmap in (
        Heatmap("gradients",
                QT_TRANSLATE_NOOP("NetworkView", "Gradient flow per layer<br>(dark = vanishing;"
                                  " blank = 0 or not finite)"),
                COLOR_BAR_LABEL, COLOR_MAP, WEIGHT_LAYERS,
                QT_TRANSLATE_NOOP("NetworkView", "Latest ‖∇W‖<br>per layer"), "‖∇W‖", (-4, 1)),
        Heatmap("variance",
                QT_TRANSLATE_NOOP("NetworkView", "BN lag: population / true variance of each BN layer's"
                                  " input<br>(white = 1: they agree; red: too large; blue: too small)"),
                QT_TRANSLATE_NOOP("NetworkView", "log10 variance ratio"), "CET-D1", NONLINEAR_LAYERS,
                QT_TRANSLATE_NOOP("NetworkView", "Latest variance<br>ratio per BN layer"),
                QT_TRANSLATE_NOOP("NetworkView", "population / true"), (-1, 1), symmetric=True),
        Heatmap("mean",
                QT_TRANSLATE_NOOP("NetworkView", "BN lag: population mean − true mean of each BN layer's"
                                  " input<br>in true standard deviations (dark: they agree)"),
                QT_TRANSLATE_NOOP("NetworkView", "log10 mean shift (σ)"), "plasma", NONLINEAR_LAYERS,
                QT_TRANSLATE_NOOP("NetworkView", "Latest mean shift<br>per BN layer"),
                QT_TRANSLATE_NOOP("NetworkView", "shift (σ)"), (-2, 0)),
    )
}
HEATMAP_CHOICES = (
    ("gradients", QT_TRANSLATE_NOOP("NetworkView", "Gradient flow")),
    ("variance", QT_TRANSLATE_NOOP("NetworkView", "BN lag: variance")),
    ("mean", QT_TRANSLATE_NOOP("NetworkView", "BN lag: mean")),
)
NO_BN_TEXT = QT_TRANSLATE_NOOP("NetworkView", "no BN")


def _tr(text):
    return QCoreApplication.translate(CONTEXT, text)
MAX_COLUMNS = 5  # more variants than this are wrapped onto two rows of plots
# A column of per-variant plots never gets narrower than this (normal, presentation size):
# a narrower view wraps the variants onto more rows.
MIN_COLUMN_PX = {False: 100, True: 190}
MIN_ROW_PX = {False: 170, True: 260}  # the least height of a row of plots, with its title and axis
PLOTS_SHARE = 0.75  # of the view's width, about what the per-variant plots get beside the profile
TITLE_LINE_CHARS = 18


def layer_title(layer):
    """A readable name for the layer picker: "conv 10 (middle)", "fc (100 units)"."""
    if layer == "fc":
        return translate("NetworkView", "fc (100 units)")
    number = int(layer[len("conv"):])
    where = {1: translate("NetworkView", "conv {number} (first)"),
             10: translate("NetworkView", "conv {number} (middle)"),
             len(NONLINEAR_LAYERS) - 1: translate("NetworkView", "conv {number} (last conv)")}
    return where.get(number, translate("NetworkView", "conv {number}")).format(number=number)


def finite_or_nan(values):
    """``values`` as floats with inf and NaN both turned into NaN (drawn as missing)."""
    values = np.array(values, dtype=float)
    values[~np.isfinite(values)] = np.nan
    return values


def log_norms(norms):
    """log10 of gradient norms; 0, negative and non-finite norms become NaN (missing)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return finite_or_nan(np.log10(np.asarray(norms, dtype=float)))


def shared_levels(images):
    """One colour range (whole decades) covering every finite value of ``images``, or None.

    Whole decades keep the colour bar's ends from jittering at every refresh.
    """
    finite = [image[np.isfinite(image)] for image in images]
    finite = np.concatenate(finite) if finite else np.empty(0)
    if finite.size == 0:
        return None
    low, high = math.floor(finite.min()), math.ceil(finite.max())
    return (low, high) if high > low else (low, low + 1)


class PowerOfTenAxis(pg.AxisItem):
    """A log axis labelled 10⁻⁶, 10⁻³, 10⁰ throughout: narrower than "0.0001",
    and one style from bottom to top."""

    def logTickStrings(self, values, scale, spacing):
        superscript = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
        return ["10" + str(round(value)).translate(superscript) if abs(value - round(value)) < 1e-6 else ""
                for value in values]


class NetworkView(BuiltWhenShown, QWidget):
    """Activation percentiles and gradient flow for the chosen variants, side by side."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.variant_ids = ()
        self.presentation = False
        self.activation_layer = DEFAULT_ACTIVATION_LAYER
        self.heatmap = HEATMAPS["gradients"]
        self.activation_plots = {}  # variant -> PlotItem
        self.activation_curves = {}  # variant -> (p15, p50, p85 PlotDataItems, band)
        self.heatmap_plots = {}  # variant -> PlotItem
        self.heatmaps = {}  # variant -> ImageItem
        self.profile_curves = {}  # variant -> PlotDataItem
        self.profile_plot = None
        self.color_bar = None
        self._history = None  # kept so a new layer or variant set redraws at once
        self._drawn_version = None

        self.hint = QLabel(_tr(EMPTY_HINT))
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet(f"color: {MUTED_COLOR}; padding: 24px;")
        self._style_hint()

        self.layer_picker = QComboBox()
        for layer in NONLINEAR_LAYERS:
            self.layer_picker.addItem(layer_title(layer), layer)
        self.layer_picker.setCurrentIndex(NONLINEAR_LAYERS.index(self.activation_layer))
        self.layer_picker.setMaxVisibleItems(len(NONLINEAR_LAYERS))
        self.layer_picker.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        self.layer_picker.currentIndexChanged.connect(self._on_layer_picked)
        self.same_scale = QCheckBox(translate("NetworkView", "Same scale for all"))
        self.same_scale.setChecked(True)
        self.same_scale.setToolTip(translate(
            "NetworkView", "Link the activation plots' y axes, so their spreads compare directly"))
        self.same_scale.toggled.connect(self._link_activation_axes)
        self.heatmap_picker = QComboBox()
        self.heatmap_picker.setSizeAdjustPolicy(QComboBox.AdjustToContents)
        for key, text in HEATMAP_CHOICES:
            self.heatmap_picker.addItem(_tr(text), key)
        self.heatmap_picker.setToolTip(translate(
            "NetworkView",
            "Below the activations: the gradient flow per layer, or how far each BN layer's"
            " population statistics (moving averages) are from the true statistics of its input,"
            " measured on the probe batch in training mode every 100 batches"))
        self.heatmap_picker.currentIndexChanged.connect(
            lambda index: self.set_heatmap(self.heatmap_picker.itemData(index)))

        # Short texts: these labels set the left part's minimum width, also at 17 pt.
        controls = QHBoxLayout()
        controls.addWidget(QLabel(translate("NetworkView", "ReLU input at")))
        controls.addWidget(self.layer_picker)
        controls.addWidget(self.same_scale)
        controls.addStretch(1)
        # On a line of its own: beside the controls it wrapped into a tall column.
        percentiles = QLabel(translate("NetworkView", "Lines: 15th, 50th and 85th percentile on a"
                                       " fixed probe batch, inference mode"))
        # Activations above, gradient heatmaps below, in one grid: each variant
        # has one column, so its two plots line up and share one title.
        self.graphics = PlotGrid()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(controls)
        percentiles.setWordWrap(True)  # at presentation size it is wider than a 1280-pixel screen
        left_layout.addWidget(percentiles)
        left_layout.addWidget(self.graphics, 1)
        # The profile takes the full height on the right, where its log axis has
        # room for its decades and its legend hides no curve. The heatmap picker
        # sits above it: it chooses what the heatmaps and the profile show, and
        # beside the activation controls it pushed them off a projector's width.
        self.profile_graphics = PlotGrid()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(QLabel(translate("NetworkView", "Heatmaps and profile:")))
        right_layout.addWidget(self.heatmap_picker)
        right_layout.addWidget(self.profile_graphics, 1)
        self.plots_page = QWidget()
        page_layout = QHBoxLayout(self.plots_page)
        page_layout.setContentsMargins(0, 0, 0, 0)
        page_layout.addWidget(left, 3)
        page_layout.addWidget(right, 1)
        self._page_layout = page_layout
        # A low view (a projector beside the lesson panel) scrolls the plots rather than
        # squash them under their labels: each row of plots keeps MIN_ROW_PX.
        self.plots_scroll = QScrollArea()
        self.plots_scroll.setWidget(self.plots_page)
        self.plots_scroll.setWidgetResizable(True)
        self.plots_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.plots_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.hint)
        self.stack.addWidget(self.plots_scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self._built_columns = None  # the columns of the plots built last
        self._stale = False  # True while new plots wait for the view to be shown
        self._build()

    # -- public API -----------------------------------------------------------

    def set_variants(self, variant_ids):
        """Show these variants (rebuilds the plots only if the set changed)."""
        variant_ids = tuple(variant_ids)
        if variant_ids != self.variant_ids:
            self.variant_ids = variant_ids
            self._rebuild_when_shown()

    def refresh(self, history):
        """Draw the history's statistics; a no-op unless ``statistics_version`` changed."""
        self._build_if_stale()
        if history is self._history and history.statistics_version == self._drawn_version:
            return
        self._history = history
        self._redraw()

    def set_presentation_mode(self, enabled):
        """Bigger fonts, lines and markers for a projector."""
        enabled = bool(enabled)
        if enabled != self.presentation:
            self.presentation = enabled
            font = QFont()  # an empty font inherits everything from the parent again
            if enabled:
                font.setPointSize(PRESENTATION_FONT_PT)
            self.setFont(font)
            self._style_hint()
            self._rebuild_when_shown()

    def set_heatmap(self, key):
        """What the heatmaps show: a key of HEATMAPS ("gradients", "variance", "mean")."""
        heatmap = HEATMAPS[key]
        if heatmap != self.heatmap:
            self.heatmap = heatmap
            self.heatmap_picker.blockSignals(True)
            self.heatmap_picker.setCurrentIndex(self.heatmap_picker.findData(key))
            self.heatmap_picker.blockSignals(False)
            self._rebuild_when_shown()

    def set_activation_layer(self, layer):
        """Show the activations of ``layer`` (one of NONLINEAR_LAYERS)."""
        self.layer_picker.setCurrentIndex(NONLINEAR_LAYERS.index(layer))

    def plot_scenes(self):
        """The two pyqtgraph scenes (per-variant plots, profile), for exporting as vector graphics."""
        self._build_if_stale()
        return self.graphics.scene(), self.profile_graphics.scene()

    def grab_plots(self):
        """All plots as one QPixmap, as they appear on screen, for exporting as an image."""
        self._build_if_stale()
        return self.plots_page.grab()

    def export_parts(self):
        """What an export shows, left to right: the per-variant plots, then the profile."""
        self._build_if_stale()
        return [self.graphics, self.profile_graphics]

    # -- building -------------------------------------------------------------

    def _build_if_stale(self):
        # The tab is hidden at launch: building its dozens of plots then would
        # delay the window by about 0.15 s.
        if self._stale:
            super()._build_if_stale()
            self._redraw()

    def _style_hint(self):
        font = self.hint.font()
        font.setPointSize(22 if self.presentation else 14)  # it has the whole view to itself
        self.hint.setFont(font)

    @property
    def style(self):
        return PlotStyle(self.presentation)

    def _first_axis_width(self):
        """Width of the left axes of the first column: the heatmaps' layer labels fit
        from the first paint on, and the activation plot above lines up with them."""
        metrics = QFontMetrics(self.style.font())
        return max(metrics.horizontalAdvance(name) for name in WEIGHT_LAYERS) + metrics.height() + 12

    def _grid(self):
        """(rows, columns) of the per-variant plots: one row, or two for many variants, or
        more rows where the view is too narrow for a column per variant (a projector's
        1280 pixels beside the lesson panel at presentation size)."""
        count = max(1, len(self.variant_ids))
        columns = count if count <= MAX_COLUMNS else math.ceil(count / 2)
        if self.isVisible():
            # The plots' share of the view's width (the profile takes the rest): the
            # view's own width, which no rebuild changes.
            room = self.width() * PLOTS_SHARE - self._first_axis_width()
            columns = max(1, min(columns, int(room // MIN_COLUMN_PX[self.presentation])))
        return math.ceil(count / columns), columns

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if not self._stale and self._built_columns is not None and self._grid()[1] != self._built_columns:
            self._rebuild_when_shown()

    def _style_plot(self, plot, title, y_label, x_label=None):
        style = self.style
        if x_label is None:
            x_label = translate("NetworkView", "batch")
        size = style.font_pt
        if title is not None:
            # Titles set the columns' minimum width: a point smaller when many
            # columns share the row, so five fit in the main window's default size.
            title_size = size if self._grid()[1] <= 3 else size - (3 if self.presentation else 1)
            style.set_title(plot, title, title_size)
        style.style_plot(plot, y_label, x_label)

    @staticmethod
    def _fit_titles(plots):
        """Give every title of ``plots`` the height of the tallest.

        pyqtgraph gives a title a fixed 30 px, too little for two lines or a big
        font; and equal heights keep the linked plots' axes level with each other.
        """
        height = max(plot.titleLabel.item.boundingRect().height() for plot in plots)
        for plot in plots:
            plot.titleLabel.setMaximumHeight(height)
            plot.layout.setRowFixedHeight(0, height)

    def _build(self):
        self.graphics.clear()
        self.profile_graphics.clear()
        self.activation_plots, self.activation_curves = {}, {}
        self.heatmap_plots, self.heatmaps, self.profile_curves = {}, {}, {}
        self.profile_plot = self.color_bar = None
        self._drawn_version = None
        rows, self._built_columns = self._grid()
        # Activations and heatmaps: two plots a row of variants, and the controls above.
        self.plots_page.setMinimumHeight(2 * rows * MIN_ROW_PX[self.presentation])
        if self.variant_ids:
            self._build_activations()
            self._build_gradients()
        # Five columns need a bigger share of the width than the profile's quarter leaves.
        self._page_layout.setStretch(0, 4 if self._grid()[1] > 4 else 3)
        self._link_activation_axes(self.same_scale.isChecked())

    def _build_activations(self):
        _, columns = self._grid()
        first = None
        for index, variant_id in enumerate(self.variant_ids):
            variant = get_variant(variant_id)
            # No right-click menu on the per-variant plots: its axis and export panels are
            # built with every plot (40% of its cost, ten variants' plots took a second),
            # and the "A" button and the window's export do what they offered.
            plot = self.graphics.addPlot(row=index // columns, col=index % columns, enableMenu=False,
                                         axisItems={"bottom": BatchAxis("bottom")})
            self._style_plot(plot, _title_html(variant),
                             translate("NetworkView", "ReLU input") if index % columns == 0 else "")
            plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
            # A dashed zero line: what falls below it is cut off by the ReLU.
            plot.addLine(y=0, pen=pg.mkPen("#808080", width=1, style=Qt.DashLine))
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            if index % columns == 0:
                plot.getAxis("left").setWidth(self._first_axis_width())
            width = self.style.line_width
            outer = pg.mkColor(variant.color)
            outer.setAlpha(170)
            marker = self.style.marker_size
            low, median, high = (
                plot.plot(pen=pg.mkPen(color, width=line_width), connect="finite", symbol="o",
                          symbolSize=size, symbolBrush=color, symbolPen=None)
                for color, line_width, size in ((outer, width * 0.5, marker * 0.7),
                                                 (variant.color, width, marker),
                                                 (outer, width * 0.5, marker * 0.7))
            )
            faint = pg.mkColor(variant.color)
            faint.setAlpha(45)
            band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(faint))
            band.setZValue(-1)  # behind the lines
            plot.addItem(band)
            self.activation_plots[variant_id] = plot
            self.activation_curves[variant_id] = (low, median, high, band)
        self._fit_titles(list(self.activation_plots.values()))

    def _build_gradients(self):
        rows, columns = self._grid()
        style = self.style
        size = style.font_pt
        font = style.font()
        heatmap = self.heatmap
        layers = heatmap.layers
        layer_ticks = _layer_ticks(layers=layers)
        heading = self.graphics.addLabel(
            _tr(heatmap.heading), row=rows, col=0, colspan=columns + 1, size=f"{size}pt",
            color=TEXT_COLOR)
        heading.setMaximumHeight(heading.item.boundingRect().height())
        # Never wider than the plots under it: a long heading must not push columns off screen.
        heading.setMinimumWidth(0)
        first = None
        for index, variant_id in enumerate(self.variant_ids):
            variant = get_variant(variant_id)
            plot = self.graphics.addPlot(row=rows + 1 + index // columns, col=index % columns,
                                         enableMenu=False, axisItems={"bottom": BatchAxis("bottom")})
            # Under its activation plot, so a title is only needed once the
            # variants wrap onto several rows.
            self._style_plot(plot, _title_html(variant) if rows > 1 else None, "")
            left = plot.getAxis("left")
            left.setTicks(layer_ticks)
            if index % columns:
                left.setStyle(showValues=False)  # the first column's labels serve the row
            else:
                left.setWidth(self._first_axis_width())
            plot.setYRange(-0.5, len(layers) - 0.5, padding=0)
            plot.setMouseEnabled(x=True, y=False)
            plot.getViewBox().enableAutoRange(y=False)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            # Column-major: image[batch index, layer index], so layers run up the y axis.
            image = pg.ImageItem(axisOrder="col-major")
            plot.addItem(image)
            if heatmap.key != "gradients" and not variant.has_batch_norm:
                # Nothing to lag behind: say so where the heatmap would be.
                note = pg.TextItem(_tr(NO_BN_TEXT), color=MUTED_COLOR, anchor=(0.5, 0.5))
                note.setFont(font)
                plot.addItem(note)
                note.setPos(0, (len(layers) - 1) / 2)
                plot.getViewBox().sigXRangeChanged.connect(
                    lambda _, x_range, note=note: note.setPos(sum(x_range) / 2, note.pos().y()))
            self.heatmap_plots[variant_id] = plot
            self.heatmaps[variant_id] = image

        # One colour scale for every heatmap, so dark means the same everywhere.
        # Its range until there are data: about where healthy and vanishing meet.
        self.color_bar = pg.ColorBarItem(values=heatmap.default_levels,
                                         colorMap=pg.colormap.get(heatmap.colormap),
                                         label=_tr(heatmap.bar_label), interactive=False,
                                         width=20 if self.presentation else 15)
        self.color_bar.setImageItem(list(self.heatmaps.values()))
        for name in ("left", "right"):
            style.style_axis(self.color_bar.getAxis(name))
            self.color_bar.getAxis(name).setPen(pg.mkPen(AXIS_COLOR))
        self.color_bar.getAxis("left").setLabel(_tr(heatmap.bar_label), **style.label_options())
        self.graphics.addItem(self.color_bar, row=rows + 1, col=columns, rowspan=rows)
        if rows > 1:
            self._fit_titles(list(self.heatmap_plots.values()))

        self.profile_plot = plot = self.profile_graphics.addPlot(axisItems={"left": PowerOfTenAxis("left")})
        self._style_plot(plot, _tr(heatmap.profile_title), _tr(heatmap.profile_label),
                         x_label=translate("NetworkView", "layer"))
        self._fit_titles([plot])
        plot.setLogMode(y=True)
        # No vertical grid: with one, pyqtgraph would clip the "logits" label below.
        plot.showGrid(x=False, y=True, alpha=GRID_ALPHA)
        bottom = plot.getAxis("bottom")
        bottom.setTicks(_layer_ticks(compact=True, layers=layers))
        if heatmap.symmetric:
            plot.addLine(y=0, pen=pg.mkPen("#808080", width=1, style=Qt.DashLine))  # a ratio of 1
        # "logits" sits at the right end: let its label reach past the axis,
        # into a margin kept free for it.
        logits_width = QFontMetrics(font).horizontalAdvance("logits")
        bottom.setStyle(hideOverlappingLabels=logits_width)
        plot.layout.setContentsMargins(0, 0, logits_width // 2, 0)
        plot.setXRange(-1, len(layers), padding=0)
        # The legend sits below the plot, where it never hides a curve.
        legend = style.legend(verSpacing=-2 if self.presentation else -5)
        self.profile_graphics.addItem(legend, row=1, col=0)
        for variant_id in self.variant_ids:
            variant = get_variant(variant_id)
            curve = plot.plot(
                pen=pg.mkPen(variant.color, width=style.line_width), connect="finite",
                symbol="o", symbolSize=style.marker_size - 1,
                symbolBrush=variant.color, symbolPen=None)
            legend.addItem(curve, "<br>".join(_title_lines(variant)))
            self.profile_curves[variant_id] = curve

    def _link_activation_axes(self, linked):
        plots = list(self.activation_plots.values())
        for index, plot in enumerate(plots):
            if index:
                plot.setYLink(plots[0] if linked else None)
            # On a shared scale, the first plot of each row carries the numbers.
            plot.getAxis("left").setStyle(showValues=not linked or index % self._grid()[1] == 0)
        self._fit_activation_ranges()

    def _fit_activation_ranges(self):
        plots = list(self.activation_plots.values())
        if not self.same_scale.isChecked():
            for plot in plots:
                plot.enableAutoRange(y=True)  # each fits its own data
            return
        # Linked plots follow the first, whose autorange sees only its own data:
        # so it is given the range of every variant's data.
        values = [item.getData()[1] for low, _, high, _ in self.activation_curves.values()
                  for item in (low, high)]
        values = np.concatenate([np.asarray(v, dtype=float) for v in values if v is not None] or [[]])
        values = values[np.isfinite(values)]
        if values.size:
            # Generous padding: with a grid, pyqtgraph hides a tick label that
            # would stick out above the plot, and the top one matters.
            plots[0].setYRange(values.min(), values.max(), padding=0.12)
        elif plots:
            plots[0].enableAutoRange(y=True)

    def _on_layer_picked(self, index):
        self.activation_layer = NONLINEAR_LAYERS[index]
        if self._history is not None:
            self._draw_activations(self._history)
            self._fit_layouts()

    # -- drawing --------------------------------------------------------------

    def _redraw(self):
        history = self._history
        if history is None:
            self.stack.setCurrentWidget(self.hint)
            return
        self._drawn_version = history.statistics_version
        records = [history.variants.get(variant_id) for variant_id in self.variant_ids]
        has_statistics = any(record is not None and (record.step_batches or record.activation_batches
                                                     or record.lag_batches)
                             for record in records)
        self.stack.setCurrentWidget(self.plots_scroll if has_statistics else self.hint)
        self._draw_activations(history)
        self._draw_gradients(history)
        self._fit_layouts()

    def _fit_layouts(self):
        # A layout grows when its items need more room (longer tick labels, a
        # rebuild) but never shrinks back by itself: fit it to its view again.
        for graphics in (self.graphics, self.profile_graphics):
            if graphics.ci.geometry() != graphics.range:
                graphics.ci.setGeometry(graphics.range)

    def _draw_activations(self, history):
        for variant_id, (low, median, high, _band) in self.activation_curves.items():
            record = history.variants.get(variant_id)
            if record is None:
                batches, percentiles = np.empty(0), np.empty((0, 3))
            else:
                batches, percentiles = record.activation_series(self.activation_layer)
            percentiles = finite_or_nan(percentiles)
            for item, column in ((low, 0), (median, 1), (high, 2)):
                _set_curve(item, batches, percentiles[:, column])
        self._label_last_batches(history)
        self._fit_activation_ranges()

    def _label_last_batches(self, history):
        """Every batch axis labels the last batch recorded (pyqtgraph would leave it out at the edge)."""
        records = history.variants.values()
        heatmap_batches = [r.step_batches if self.heatmap.key == "gradients" else r.lag_batches
                           for r in records]
        for plots, batches in ((self.activation_plots, [r.activation_batches for r in records]),
                               (self.heatmap_plots, heatmap_batches)):
            last = [series[-1] for series in batches if series]
            for plot in plots.values():
                plot.getAxis("bottom").set_end(max(last) if last else None)

    def _heatmap_values(self, record):
        """(batches, values) of the chosen heatmap: one row per measurement, one column per layer."""
        key, layers = self.heatmap.key, self.heatmap.layers
        if record is None:
            return np.empty(0), np.empty((0, len(layers)))
        if key == "gradients":
            return record.gradient_matrix()
        batches, ratios, shifts = record.lag_matrix()
        return batches, ratios if key == "variance" else shifts

    def _draw_gradients(self, history):
        images, latest = {}, {}
        layers = self.heatmap.layers
        for variant_id in self.heatmaps:
            batches, values = self._heatmap_values(history.variants.get(variant_id))
            images[variant_id] = (batches, log_norms(values))
            # Zero or non-finite values cannot sit on a log axis: leave a gap there.
            last = finite_or_nan(values[-1] if len(values) else np.full(len(layers), np.nan))
            last[last <= 0] = np.nan
            latest[variant_id] = last

        levels = shared_levels([image for _, image in images.values()])
        if levels is not None and self.heatmap.symmetric:
            reach = max(1, abs(levels[0]), abs(levels[1]))  # centred: white is a ratio of 1
            levels = (-reach, reach)
        for variant_id, (batches, image) in images.items():
            item = self.heatmaps[variant_id]
            if len(batches) == 0:
                item.clear()
                continue
            item.setImage(image, autoLevels=False, levels=levels or self.color_bar.levels())
            # Each column is centred on its batch and as wide as the recording interval.
            step = float(np.median(np.diff(batches))) if len(batches) > 1 else 25.0
            item.setRect(QRectF(batches[0] - step / 2, -0.5, step * len(batches), len(layers)))
        if levels is not None:
            self.color_bar.setLevels(levels)

        x = np.arange(len(layers), dtype=float)
        for variant_id, item in self.profile_curves.items():
            _set_curve(item, x, latest[variant_id])


def _set_curve(item, x, y):
    """Give a curve its data, NaN marking gaps; a curve with no finite point is left empty."""
    if np.isfinite(y).any():
        item.setData(x, y)
    else:
        item.setData([], [])


def _layer_ticks(compact=False, layers=WEIGHT_LAYERS):
    """Tick levels for a layer axis: the first and last layer always labelled, then
    conv10, then conv5 and conv15, then the rest, each level only if there is room
    (pyqtgraph stops at the first level that would crowd the axis). So "fc" and
    "logits", neighbours, never overlap, nor do labels on a short presentation plot.

    ``compact`` labels convolutions by number only ("10" for conv10), for the
    narrow horizontal axis of the profile.
    """
    def text(name):
        return name[len("conv"):] if compact and name.startswith("conv") else name

    ends = {layers[0], layers[-1]}
    tiers = [ends, {"conv10"} - ends, {"conv5", "conv15"} - ends]
    levels = [[(index, text(name)) for index, name in enumerate(layers) if name in tier]
              for tier in tiers]
    shown = set().union(*tiers)
    levels.append([(index, text(name)) for index, name in enumerate(layers) if name not in shown])
    return levels


def _title_lines(variant):
    """The variant's label in short lines: "Keras BN", "conv→BN→ReLU".

    Narrow, so five columns fit side by side in the main window's default size.
    """
    lines = []
    label = variant_label(variant).replace(" → ", "→")
    for part in re.split(r": |, |：|，", label):
        lines += textwrap.wrap(part, TITLE_LINE_CHARS)
    return lines


def _title_html(variant):
    """The variant's label in its colour, broken into short lines.

    A plot title never wraps by itself and its width sets the column's minimum
    width, so long labels would push the colour bar and profile off screen.
    """
    return coloured_html("<br>".join(_title_lines(variant)), variant.color)
