"""Live training curves, in two layouts (overlay and side by side), with the variant list beside.

Curve items are created once per layout and then only given new data, so a
redraw costs a few ``setData`` calls; the main window calls ``refresh`` from a
timer, never once per training event.

Every panel says how it was measured: the validation set is always scored in
inference mode (population statistics); the current training batch is scored
in inference mode too (the notebook's choice), or, with ``set_training_mode``,
shown as the training step itself saw it (batch statistics), the numbers of the
results table's "Training mode" column.
"""

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from bngui.core.variants import VARIANTS_BY_ID
from bngui.gui.batch_axis import BatchAxis, ValueAxis
from bngui.gui.built_when_shown import BuiltWhenShown
from bngui.gui.plot_grid import PlotGrid
from bngui.gui.plot_style import (
    FADED_ALPHA,
    GRID_ALPHA,
    HIGHLIGHT_WIDTH_FACTOR,
    MUTED_COLOR,
    TEXT_COLOR,
    PlotStyle,
    variant_pen,
)
from bngui.gui.variant_list import VariantList
from bngui.gui.variant_names import compact_label
from bngui.gui.widget_style import set_background, set_text_color

OVERLAY = "overlay"
SIDE_BY_SIDE = "side"
INFERENCE_MODE = "inference"
TRAINING_MODE = "training"

# Above this loss (chance is about 0.7 with the sigmoid loss, 2.3 with softmax)
# a loss has exploded, as a high learning rate can make it; its panel then
# switches to a log axis so the other curves do not flatten into a line at 0.
EXPLODED_LOSS = 5.0

# Room a plot takes beside its title (the y axis and spacing; normal and
# presentation size), and the smallest font a title is shrunk to.
TITLE_MARGIN_PX = {False: 70, True: 100}
MIN_TITLE_PT = 7
MAX_TITLE_LINES = 3  # of a variant's name, side by side
TITLE_HEIGHT_SHARE = 0.3  # of a side-by-side cell (its two plots), at most, for its title
TITLE_TINY = 0.75  # a title shrunk below this share of its size may take a line more
# Room at both ends of the batch axis, as a fraction of what it shows.
BATCH_AXIS_PADDING = {False: 0.03, True: 0.04}
# Side by side, up to this many columns each shows its own y values.
INNER_VALUES_UP_TO = 3
# Side by side, more variants than this wrap onto two rows of columns (ten: 2 × 5).
MAX_COLUMNS = 5
# Side by side, the least height of a variant's cell (title, accuracy and loss plots,
# batch axis), normal and presentation size: a lower window scrolls.
MIN_CELL_HEIGHT = {False: 240, True: 300}
# A planned run much longer than what was trained would squash the curves into
# a sliver at 0: the batch axis then shows at least this many batches and
# doubles the trained length (in steps of 1, 2, 5 × 10^k) until the run's end.
FOLLOW_MIN_SPAN = 1000
# A training curve with fewer points than this shows them as markers: one
# point is no line (a run of under 25 batches has one training point).
FEW_POINTS = 3
RAW_ALPHA = 70
BAND_ALPHA = 50  # the min-max band over seeds, behind the mean
SIDE_TRAINING_ALPHA = 160
SIDE_TRAINING_WIDTH = 0.6  # of the line width: training thinner than validation
DEFAULT_PLANNED_BATCHES = 800
HINT_HEIGHT_SHARE = 0.3  # the hint over empty plots is centred this far down

# What belongs to one layout's plot grid, kept with it while another layout is shown.
LAYOUT_STATE = ("_graphics", "_plots", "_titles", "_y_labels", "_curves", "_curve_plots", "_bands",
                "_pens", "_few_points", "_plots_of", "_divergence_marks", "_spanned_run", "_batch_end",
                "_zoomed_by_hand")

# (series, panel title) of the overlay layout, in reading order.
OVERLAY_PANELS = (
    ("train_loss", "Training loss"),
    ("train_accuracy", "Training accuracy"),
    ("validation_loss", "Validation loss"),
    ("validation_accuracy", "Validation accuracy"),
)
TRAINING_SERIES = ("train_loss", "train_accuracy")


def exponential_moving_average(values, weight):
    """Debiased EMA (as TensorBoard's smoothing) of ``values``; weight in [0, 1).

    Computed in blocks with a small matrix of powers instead of a Python loop
    over every point, so long runs stay cheap to redraw.
    """
    values = np.asarray(values, dtype=float)
    if weight <= 0 or len(values) < 2:
        return values
    block = 64
    powers = weight ** np.arange(block + 1)
    index = np.arange(block)
    # lower[i, k] = (1 - w) * w^(i - k) for k <= i
    exponents = index[:, None] - index[None, :]
    lower = np.where(exponents >= 0, (1 - weight) * weight ** np.maximum(exponents, 0), 0.0)
    smoothed = np.empty_like(values)
    previous = 0.0
    for start in range(0, len(values), block):
        chunk = values[start : start + block]
        size = len(chunk)
        smoothed[start : start + size] = lower[:size, :size] @ chunk + powers[1 : size + 1] * previous
        previous = smoothed[start + size - 1]
    # Debias: the average starts at 0, so early points are divided by the weight seen so far.
    smoothed /= 1 - weight ** np.arange(1, len(values) + 1)
    return smoothed


def nice_ceiling(value):
    """The smallest of 1, 2, 5 × 10^k that is at least ``value`` (at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def visible_batches(total, trained, finished):
    """How many batches the batch axis shows, of a run of ``total`` with ``trained`` done.

    A run's own length while it trains, unless that is much longer than what
    was trained; a run that ended early (stopped, or every variant diverged)
    shows what it trained.
    """
    if finished and 0 < trained < total:
        return trained
    return max(1, min(total, max(FOLLOW_MIN_SPAN, nice_ceiling(2 * trained))))


class CurvesWidget(BuiltWhenShown, QWidget):
    """Four views of training (train/validation × loss/accuracy) for the chosen variants."""

    def __init__(self, parent=None):
        super().__init__(parent)
        # One plot grid per layout, kept while its layout is not on screen: switching
        # back shows it again instead of building its plots anew (0.5 s with ten
        # variants), and plots are never removed from a scene that is painted.
        self._layouts = QStackedWidget()
        self._graphics = None  # the grid of the layout on screen
        self._built = {}  # layout -> (what it was built for, its state: LAYOUT_STATE)
        self.plot_area = QWidget()
        area_layout = QVBoxLayout(self.plot_area)
        area_layout.setContentsMargins(0, 0, 0, 0)
        # Side by side, a cell never gets lower than MIN_CELL_HEIGHT: a low window
        # scrolls the rows of variants rather than squash their plots under their labels.
        self._scroll = QScrollArea()
        self._scroll.setWidget(self._layouts)
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area_layout.addWidget(self._scroll)
        # What to do, over the empty plots (never over data: hidden once a run has started).
        self.hint = QLabel(self.plot_area)
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setFrameShape(QFrame.Shape.Box)
        self.hint.setMargin(14)
        set_background(self.hint, "#ffffff", border="#c8c8c8")
        set_text_color(self.hint, TEXT_COLOR)
        self.hint.hide()
        self.plot_area.installEventFilter(self)
        self.variant_list = VariantList()
        self.variant_list.hidden_changed.connect(self.set_hidden)
        self.variant_list.highlighted.connect(self.highlight)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.plot_area, 1)
        # The list scrolls when a short window cannot show all its rows at presentation size.
        self.variant_scroll = QScrollArea()
        self.variant_scroll.setWidget(self.variant_list)
        self.variant_scroll.setWidgetResizable(True)
        self.variant_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.variant_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.variant_scroll.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.variant_list.width_changed.connect(self._fit_variant_scroll)
        self._fit_variant_scroll(self.variant_list.width())
        layout.addWidget(self.variant_scroll)

        self.mode = OVERLAY
        self.training_mode = INFERENCE_MODE
        self.smoothing = 0.6
        self.presentation = False
        self.variant_ids = ()
        self.hidden = frozenset()
        self.highlighted = None
        self.planned_batches = DEFAULT_PLANNED_BATCHES  # the axis of empty plots
        self._hint_text = ""
        self._has_points = False
        self._plots = []  # every PlotItem of the current layout
        self._titles = []  # (plot, html of a point size (and narrow or not), preferred point size)
        self._y_labels = []
        # (variant, series) -> (smoothed curve, raw curve or None)
        self._curves = {}
        self._curve_plots = {}  # (variant, series) -> its plot
        self._bands = {}  # (variant, series) -> the min-max band over seeds
        self._shown_key = None  # what the grid on screen was built for (_layout_key)
        self._pens = {}  # curve item -> (variant, width, alpha, has markers)
        self._few_points = set()  # curve items drawn with markers for lack of points
        self._plots_of = {}  # variant -> the plots showing its curves
        self._divergence_marks = {}  # variant -> its dashed "diverged" lines
        self._drawn_version = None
        self._spanned_run = None
        self._batch_end = None
        self._zoomed_by_hand = False
        # The plots are built when first shown or used (BuiltWhenShown): at
        # start-up the restored variants, layout and presentation mode would
        # otherwise build them three or four times (0.1 s each) before the
        # window shows.

    # -- configuration --------------------------------------------------------

    def _rebuild_when_shown(self):
        """On screen, rebuilt when the event loop next turns (or when first read): the
        settings a lesson step or a preset changes together cost one build, not three."""
        self._stale = True
        if self.isVisible():
            QTimer.singleShot(0, self, self._build_if_stale)

    def set_variants(self, variant_ids):
        variant_ids = tuple(variant_ids)
        if variant_ids != self.variant_ids:
            self.variant_ids = variant_ids
            self.variant_list.set_variants(variant_ids)
            self.hidden = self.variant_list.hidden
            self._rebuild_when_shown()

    def set_mode(self, mode):
        if mode != self.mode:
            self.mode = mode
            self._rebuild_when_shown()

    def set_training_mode(self, mode):
        """Show the training batch as scored in INFERENCE_MODE or as the step saw it (TRAINING_MODE)."""
        if mode != self.training_mode:
            self.training_mode = mode
            self._rebuild_when_shown()

    def set_smoothing(self, weight):
        self.smoothing = float(weight)
        self._drawn_version = None

    def set_presentation(self, enabled):
        if enabled != self.presentation:
            self.presentation = enabled
            self._rebuild_when_shown()

    def set_planned_batches(self, batches):
        """The batch axis of the plots before a run (the length the next run would have)."""
        self.planned_batches = max(1, int(batches))
        if not self._has_points and not self._stale:
            self._fit_empty_batch_axes()

    def set_hint(self, text):
        """What the empty plots tell the user to do ("" for nothing)."""
        if text != self._hint_text:
            self._hint_text = text
            self._update_hint()

    def set_hidden(self, variant_ids):
        """Hide the curves of these variants (the variant list does it on a click)."""
        hidden = frozenset(variant_ids) & set(self.variant_ids)
        if hidden == self.hidden:
            return
        self.hidden = hidden
        self.variant_list.set_hidden(hidden)
        if self.mode == SIDE_BY_SIDE:
            self._rebuild_when_shown()  # the columns of the shown variants fill the width
        elif not self._stale:
            self._show_hidden()
        self._update_hint()

    def highlight(self, variant_id):
        """Draw this variant's curves thicker and the others faded; None or "" for none."""
        variant_id = variant_id or None
        if variant_id != self.highlighted:
            self.highlighted = variant_id
            self._apply_pens()

    @property
    def shown_variants(self):
        return tuple(variant_id for variant_id in self.variant_ids if variant_id not in self.hidden)

    @property
    def style(self):
        return PlotStyle(self.presentation)

    @property
    def graphics(self):
        """The pyqtgraph view holding the plots, for exporting."""
        self._build_if_stale()
        return self._graphics

    @property
    def plots(self):
        self._build_if_stale()
        return self._plots

    @property
    def curves(self):
        self._build_if_stale()
        return self._curves

    @property
    def divergence_marks(self):
        self._build_if_stale()
        return self._divergence_marks

    @property
    def columns(self):
        """Columns of plots: two in overlay; side by side, one per shown variant up to MAX_COLUMNS."""
        if self.mode == OVERLAY:
            return 2
        count = max(1, len(self.shown_variants))
        return count if count <= MAX_COLUMNS else math.ceil(count / 2)

    def showEvent(self, event):
        built_while_hidden = not self._stale
        super().showEvent(event)  # builds now if stale, which fits the titles too
        if built_while_hidden:
            self._fit_titles()  # the width was not known then

    def _fit_variant_scroll(self, width):
        """The list's scroll area: the list's width, and room for a scroll bar when it scrolls."""
        # (self.style is the plots' PlotStyle here; the scroll area has Qt's.)
        scrollbar = self.variant_scroll.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.variant_scroll.setFixedWidth(width + scrollbar)

    def eventFilter(self, watched, event):
        if watched is self.plot_area and event.type() == QEvent.Type.Resize:
            self._place_hint()
        return super().eventFilter(watched, event)

    # -- texts ----------------------------------------------------------------

    def _mode_text(self, series):
        if series.startswith("validation"):
            return self.tr("validation set, inference mode")
        if self.training_mode == TRAINING_MODE:
            return self.tr("current batch, training mode")
        return self.tr("current batch, inference mode")

    def _panel_title(self, series, title):
        titles = {"Training loss": self.tr("Training loss"),
                  "Training accuracy": self.tr("Training accuracy"),
                  "Validation loss": self.tr("Validation loss"),
                  "Validation accuracy": self.tr("Validation accuracy")}
        subtitle = self._mode_text(series)

        def html(size, lines=1):
            return (f"{titles[title]}<br><span style='font-size:{max(MIN_TITLE_PT, size - 3)}pt;"
                    f" color:{MUTED_COLOR}'>{subtitle}</span>")

        return html

    def _column_title(self, variant):
        name = compact_label(variant)
        if self.training_mode == TRAINING_MODE:
            subtitle = self.tr("batch: training mode")
        else:
            subtitle = self.tr("inference mode")

        def html(size, lines=1):
            # A narrow column breaks the name after its first word ("Keras", "tf.nn"),
            # a very narrow one also after the placement's first arrow.
            shown = name
            if lines >= 2:
                shown = shown.replace(" ", "<br>", 1)
            if lines >= 3 and "→" in shown:
                shown = shown.replace("→", "→<br>", 1)
            return (f"<span style='color:{variant.color}; font-weight:bold'>{shown}</span><br>"
                    f"<span style='font-size:{max(MIN_TITLE_PT, size - 3)}pt; color:{MUTED_COLOR}'>"
                    f"{subtitle}</span>")

        return html

    def _key_text(self):
        """What the kinds of line mean, below the variant list."""
        if self.mode == SIDE_BY_SIDE:
            if self.training_mode == TRAINING_MODE:
                return self.tr("Top: accuracy, below: loss. Thin line: the training batch as the"
                               " training step saw it (training mode). Dots: the validation set"
                               " (inference mode).")
            return self.tr("Top: accuracy, below: loss. Thin line: the current training batch;"
                           " dots: the validation set; both in inference mode.")
        return self.tr("Dots: the validation set, every 100 batches. Faint: the raw training values"
                       " behind the smoothed line.")

    # -- building -------------------------------------------------------------

    def _new_plot(self, row, column, title_html, y_label, x_label, x_values=True):
        plot = self._graphics.addPlot(row=row, col=column,
                                      axisItems={"bottom": BatchAxis("bottom"), "left": ValueAxis("left")})
        style = self.style
        if title_html is not None:
            size = self.title_pt
            plot.setTitle(title_html(size), size=f"{size}pt", color=TEXT_COLOR)
            self._titles.append((plot, title_html, size))
        # Six axes or more repaint with every redraw: cached, they repaint only
        # when their range changes.
        style.style_plot(plot, y_label, x_label, cached_axes=True)
        if y_label:
            self._y_labels.append((plot, y_label))
        if not x_values:
            plot.getAxis("bottom").setStyle(showValues=False)
            plot.getAxis("bottom").setHeight(6)
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
        plot.autoBtn.clicked.connect(self._on_auto_range_clicked)
        plot.getViewBox().sigRangeChangedManually.connect(self._on_zoomed_by_hand)
        self._plots.append(plot)
        return plot

    def _add_curves(self, plot, variant_id, series, with_raw, width, alpha=255):
        variant = VARIANTS_BY_ID[variant_id]
        raw = None
        if with_raw:
            raw = plot.plot()
            self._pens[raw] = (variant, max(1.0, width / 2), RAW_ALPHA, False)
        markers = series.startswith("validation")
        options = dict(symbol="o", symbolSize=self.style.marker_size, symbolPen=None) if markers else {}
        smoothed = plot.plot(**options)
        self._pens[smoothed] = (variant, width, alpha, markers)
        self._curves[(variant_id, series)] = (smoothed, raw)
        self._curve_plots[(variant_id, series)] = plot
        plots = self._plots_of.setdefault(variant_id, [])
        if plot not in plots:
            plots.append(plot)

    def _layout_key(self):
        """What the current layout's plots depend on: a grid built for another key is rebuilt."""
        shown = self.shown_variants if self.mode == SIDE_BY_SIDE else None
        return (self.mode, self.variant_ids, shown, self.training_mode, self.presentation,
                self.planned_batches)

    def _build(self):
        """Show the current layout's grid: the one kept from before if it is still right, else a
        new one. The grid it replaces is deleted whole, never emptied item by item."""
        if self._graphics is not None:
            self._built[self._shown_key[0]] = (self._shown_key,
                                               {name: getattr(self, name) for name in LAYOUT_STATE})
        key = self._layout_key()
        self._shown_key = key
        kept = self._built.pop(self.mode, None)
        self._drawn_version = None
        if kept is not None and kept[0] == key:
            for name, value in kept[1].items():
                setattr(self, name, value)
            self._layouts.setCurrentWidget(self._graphics)
            self._set_least_height()
            if self.mode == OVERLAY:
                self._show_hidden()
            self.variant_list.set_key(self._key_text())
            self._apply_pens()
            self._fit_titles()
            return
        if kept is not None:
            old = kept[1]["_graphics"]
            self._layouts.removeWidget(old)
            old.hide()  # a nested event loop deletes nothing later, but may paint
            old.deleteLater()
        self._graphics = PlotGrid()
        # A new grid gets its width once laid out; the titles are fitted to it then.
        self._graphics.resized.connect(self._fit_titles)
        self._layouts.addWidget(self._graphics)
        self._layouts.setCurrentWidget(self._graphics)
        self._plots = []
        self._titles = []
        self._y_labels = []  # (plot, its y label)
        self._curves = {}
        self._curve_plots = {}
        self._bands = {}  # the old ones belonged to the old grid's plots
        self._pens = {}
        self._few_points = set()
        self._plots_of = {}
        self._divergence_marks = {}
        self._drawn_version = None
        self._spanned_run = None
        self._batch_end = None
        self._zoomed_by_hand = False
        # Room between columns for half the last batch's label of one (it sits on the edge).
        spacing = QFontMetrics(self.style.font()).horizontalAdvance(f"{self.planned_batches}") // 2 + 6
        self._graphics.ci.layout.setHorizontalSpacing(spacing)
        # and room at the right for the last column's.
        self._graphics.ci.setContentsMargins(9, 9, spacing, 9)
        self._set_least_height()
        if self.mode == OVERLAY:
            self._build_overlay()
            self._show_hidden()
        else:
            self._build_side_by_side()
        self.variant_list.set_key(self._key_text())
        self._apply_pens()
        self._fit_empty_batch_axes()
        self._fit_titles()

    def _set_least_height(self):
        """Side by side, MIN_CELL_HEIGHT per row of variants (a lower window scrolls)."""
        rows = math.ceil(max(1, len(self.shown_variants)) / self.columns)
        least = rows * MIN_CELL_HEIGHT[self.presentation]
        self._layouts.setMinimumHeight(0 if self.mode == OVERLAY else least)

    def _fit_titles(self):
        """Titles too wide for their column break onto more lines, then get a smaller font.

        A pyqtgraph title is at least as wide as its text, and a layout wider
        than the view is cut off at the right: the overlay's titles at
        presentation size beside the panel, or side by side with many variants.
        """
        if self._stale or not self._titles or not self.isVisible():
            return  # a hidden widget's width is not final; shown, it fits again
        # A title spans its plot's view; the y axes beside the views, and the gaps
        # between the columns, are not its to take.
        columns = self.columns
        with_values = columns if self.mode == OVERLAY or len(self.shown_variants) <= INNER_VALUES_UP_TO else 1
        spacing = self._graphics.ci.layout.horizontalSpacing()
        taken = with_values * TITLE_MARGIN_PX[self.presentation] + (columns - 1) * (spacing + 8)
        room = max(40.0, (self._graphics.width() - taken) / columns)

        def fitting_size(html, preferred, lines):
            """The largest size (half points, at most ``preferred``) at which ``html`` fits."""
            label = self._titles[0][0].titleLabel
            label.setText(html(preferred, lines), size=f"{preferred}pt", color=TEXT_COLOR)
            width = label.itemRect().width()
            return preferred if width <= room else int(2 * preferred * room / width) / 2

        # More lines rather than a smaller font, as many as the height leaves room
        # for (a low window needs its plots more), and beyond that only against a
        # tiny font; then every title gets the same size and lines, so the layout
        # looks even.
        most_lines = self._title_lines_that_fit()
        lines = 1
        while lines < MAX_TITLE_LINES:
            shares = [fitting_size(html, preferred, lines) / preferred for _, html, preferred in self._titles]
            if min(shares) >= 1 or lines >= most_lines and min(shares) >= TITLE_TINY:
                break
            lines += 1
        sizes = [fitting_size(html, preferred, lines) for _, html, preferred in self._titles]
        size = max(MIN_TITLE_PT, min(sizes))
        for plot, html, _ in self._titles:
            plot.titleLabel.setText(html(size, lines), size=f"{size}pt", color=TEXT_COLOR)
        self._fit_axis_labels()
        # pyqtgraph gives a title a fixed height, too little for two lines; and
        # every title gets the height of the tallest, so the plots line up.
        height = max(plot.titleLabel.item.boundingRect().height() for plot, _, _ in self._titles)
        for plot, _, _ in self._titles:
            plot.titleLabel.setMaximumHeight(height)
            plot.layout.setRowFixedHeight(0, height)
        # The layout keeps the width it had to take for wider titles; once it
        # has taken in the new title sizes, give it the view's width again.
        QTimer.singleShot(0, self, self._fit_layout_to_view)  # not after the widget is gone

    @property
    def title_pt(self):
        """Panel titles a little larger than the text; side by side the variant's name, which
        has many columns beside it, as large as the text."""
        return self.style.title_pt if self.mode == OVERLAY else self.style.font_pt

    def _title_lines_that_fit(self):
        """How many lines a variant's name may take side by side, so that its title (with
        the line saying the mode) takes at most TITLE_HEIGHT_SHARE of its cell's height."""
        if self.mode == OVERLAY:
            return 1
        rows = math.ceil(max(1, len(self.shown_variants)) / self.columns)
        cell = self._graphics.height() / rows
        style = self.style
        name_line = QFontMetrics(style.font(self.title_pt)).height()
        mode_line = QFontMetrics(style.font(max(MIN_TITLE_PT, self.title_pt - 3))).height()
        return max(1, min(MAX_TITLE_LINES, int((TITLE_HEIGHT_SHARE * cell - mode_line) // name_line)))

    def _fit_axis_labels(self):
        """A y label longer than its plot is tall would run into the next one: it is left out
        (short plots: many variants side by side in a low window)."""
        metrics = QFontMetrics(self.style.font())
        for plot, label in self._y_labels:
            fits = metrics.horizontalAdvance(label) + 8 <= plot.getViewBox().height()
            axis = plot.getAxis("left")
            if axis.label.isVisible() != fits:
                axis.showLabel(fits)

    def _fit_layout_to_view(self):
        self._graphics.ci.setGeometry(self._graphics.range)

    def _build_overlay(self):
        width = self.style.line_width
        for index, (series, title) in enumerate(OVERLAY_PANELS):
            y_label = self.tr("loss") if series.endswith("loss") else self.tr("accuracy")
            # The batch axis is named once, below the bottom row.
            plot = self._new_plot(index // 2, index % 2, self._panel_title(series, title), y_label,
                                  self.tr("batch") if index >= 2 else "")
            if series.endswith("accuracy"):
                plot.setYRange(0, 1, padding=0.02)
            for variant_id in self.variant_ids:
                self._add_curves(plot, variant_id, series, series in TRAINING_SERIES, width)

    def _build_side_by_side(self):
        """A cell per variant (accuracy on top, loss below), wrapped into rows; all axes shared."""
        shown = self.shown_variants
        columns = self.columns
        rows = math.ceil(len(shown) / columns) if shown else 0
        width = self.style.line_width
        first_accuracy = first_loss = None
        for index, variant_id in enumerate(shown):
            variant = VARIANTS_BY_ID[variant_id]
            row, column = divmod(index, columns)
            first_column, last_row = column == 0, row == rows - 1
            accuracy = self._new_plot(2 * row, column, self._column_title(variant),
                                      self.tr("accuracy") if first_column else "", "", x_values=False)
            loss = self._new_plot(2 * row + 1, column, None, self.tr("loss") if first_column else "",
                                  self.tr("batch") if last_row else "")
            if first_accuracy is None:
                first_accuracy, first_loss = accuracy, loss
            else:
                accuracy.setYLink(first_accuracy)
                loss.setYLink(first_loss)
            accuracy.setXLink(first_loss)
            if loss is not first_loss:
                loss.setXLink(first_loss)
            accuracy.setYRange(0, 1, padding=0.02)
            if not first_column and len(shown) > INNER_VALUES_UP_TO:
                # The y axes are shared: with many columns only the first one
                # shows the values (the grid lines carry them across), so all
                # the columns fit a laptop's width.
                for plot in (accuracy, loss):
                    plot.getAxis("left").setStyle(showValues=False)
                    plot.getAxis("left").setWidth(6)
            for plot, kind in ((accuracy, "accuracy"), (loss, "loss")):
                # Training drawn thinner and lighter than validation, so the two read apart.
                self._add_curves(plot, variant_id, f"train_{kind}", True, width * SIDE_TRAINING_WIDTH,
                                 SIDE_TRAINING_ALPHA)
                self._add_curves(plot, variant_id, f"validation_{kind}", False, width)

    # -- pens: highlight and hidden ---------------------------------------------

    def _apply_pens(self):
        highlighted = self.highlighted if self.highlighted in self.variant_ids else None
        for item, (variant, width, alpha, markers) in self._pens.items():
            if highlighted is None:
                z = 0
            elif variant.id == highlighted:
                width, z = width * HIGHLIGHT_WIDTH_FACTOR, 10
            else:
                alpha, z = min(alpha, FADED_ALPHA), 0
            item.setPen(variant_pen(variant, width, alpha))
            item.setZValue(z)
            if markers or item in self._few_points:
                color = pg.mkColor(variant.color)
                color.setAlpha(alpha)
                item.setSymbolBrush(color)

    def _show_hidden(self):
        """Overlay: hidden variants' curves and marks are not drawn (nor counted by the autorange)."""
        for (variant_id, _), pair in self._curves.items():
            for item in pair:
                if item is not None:
                    item.setVisible(variant_id not in self.hidden)
        for variant_id, lines in self._divergence_marks.items():
            for line in lines:
                line.setVisible(variant_id not in self.hidden)
        for (variant_id, _), (_, _, fill) in self._bands.items():
            fill.setVisible(variant_id not in self.hidden)
        self._scale_loss_axes()

    # -- the hint over empty plots --------------------------------------------

    def _update_hint(self):
        text = self._hint_text if not self._has_points else ""
        if self._has_points and self.variant_ids and not self.shown_variants:
            text = self.tr("Every variant is hidden: click one in the list on the right to show it.")
        self.hint.setText(text)
        self.hint.setVisible(bool(text))
        self._place_hint()

    def _place_hint(self):
        if not self.hint.isVisible():
            return
        area = self.plot_area.rect()
        width = min(area.width() - 40, max(360, area.width() // 2))
        height = self.hint.heightForWidth(width)
        # In the upper row's data, where it hides no axis labels.
        top = max(0, int(area.height() * HINT_HEIGHT_SHARE) - height // 2)
        self.hint.setGeometry((area.width() - width) // 2, top, width, height)
        self.hint.raise_()

    # -- drawing --------------------------------------------------------------

    def refresh(self, history):
        """Give every curve the history's current data (skipped if nothing changed)."""
        self._build_if_stale()
        # The end of a run changes no curve, but the batch axis may then shrink to what was trained.
        version = (history.version, history.finished is not None,
                   history.statistics_version if self.training_mode == TRAINING_MODE else None)
        if version == self._drawn_version:
            return
        self._drawn_version = version
        self._has_points = bool(history.metrics)  # the hint goes with the first points
        self._update_hint()
        for (variant_id, series), (smoothed, raw) in self._curves.items():
            record = history.variants.get(variant_id)
            band = None
            if record is None:
                batches, values = np.array([]), np.array([])
            elif history.over_seeds:
                batches, values, low, high = self._over_seeds(history, variant_id, series)
                band = (low, high)
            else:
                batches, values = self._series(record, series)
            smooth = raw is not None
            if raw is not None:
                raw.setData(batches, values)
                smoothed.setData(batches, exponential_moving_average(values, self.smoothing))
            else:
                smoothed.setData(batches, values)
            self._show_band((variant_id, series), batches, band, smooth)
            self._mark_few_points(smoothed, len(batches))
        self._fit_batch_axes(history)
        self._scale_loss_axes()
        self._mark_divergences(history)

    def _over_seeds(self, history, variant_id, series):
        """(batches, mean, min, max) over the seeds so far, at every batch some seed reached."""
        runs = [self._series(record, series) for record in history.across_seeds(variant_id)]
        batches = np.unique(np.concatenate([run_batches for run_batches, _ in runs]))
        table = np.full((len(runs), len(batches)), np.nan)
        for row, (run_batches, values) in enumerate(runs):
            table[row, np.searchsorted(batches, run_batches)] = values
        with np.errstate(all="ignore"):
            return batches, np.nanmean(table, 0), np.nanmin(table, 0), np.nanmax(table, 0)

    def _show_band(self, key, batches, band, smooth):
        """The min-max band over seeds behind a mean curve (none for a run of one seed)."""
        existing = self._bands.get(key)
        if band is None:
            if existing is not None:
                for item in existing:
                    item.setVisible(False)
            return
        if existing is None:
            variant = VARIANTS_BY_ID[key[0]]
            low_curve, high_curve = pg.PlotDataItem(), pg.PlotDataItem()
            color = pg.mkColor(variant.color)
            color.setAlpha(BAND_ALPHA)
            fill = pg.FillBetweenItem(low_curve, high_curve, brush=pg.mkBrush(color))
            fill.setZValue(-5)  # behind every line
            self._curve_plots[key].addItem(fill)
            existing = self._bands[key] = (low_curve, high_curve, fill)
        low, high = band
        if smooth:
            low = exponential_moving_average(low, self.smoothing)
            high = exponential_moving_average(high, self.smoothing)
        existing[0].setData(batches, low)
        existing[1].setData(batches, high)
        existing[2].setVisible(key[0] not in self.hidden)

    def _series(self, record, series):
        if self.training_mode == TRAINING_MODE and series == "train_loss":
            return record.training_mode_loss()
        if self.training_mode == TRAINING_MODE and series == "train_accuracy":
            return record.training_mode_accuracy()
        return record.series(series)

    def _mark_few_points(self, item, count):
        """A curve of fewer than FEW_POINTS points shows them as markers (one point is no line)."""
        variant, _, alpha, markers = self._pens[item]
        few = count < FEW_POINTS
        if markers or few == (item in self._few_points):
            return
        if few:
            self._few_points.add(item)
            color = pg.mkColor(variant.color)
            color.setAlpha(alpha)
            item.setSymbol("o")
            item.setSymbolSize(self.style.marker_size)
            item.setSymbolPen(None)
            item.setSymbolBrush(color)
        else:
            self._few_points.discard(item)
            item.setSymbol(None)

    def _fit_empty_batch_axes(self):
        if not self._has_points:
            self._set_batch_end(self.planned_batches)

    def _fit_batch_axes(self, history):
        """The batch axes show the run, and follow it when it is much longer than what was trained.

        They change in a few steps, not with every point, so the class sees how
        far the run has come. Zooming by hand is kept until the next run or the
        "A" button.
        """
        started = history.started
        if started is None:
            self._fit_empty_batch_axes()
            return
        if started is not self._spanned_run:
            self._spanned_run = started
            self._zoomed_by_hand = False
            self._batch_end = None
        if not self._zoomed_by_hand:
            self._set_batch_end(visible_batches(started.total_batches, history.batches_done_in_seed,
                                                history.finished is not None))

    def _set_batch_end(self, end):
        if end == self._batch_end:
            return
        self._batch_end = end
        padding = BATCH_AXIS_PADDING[self.presentation]
        for plot in self._plots:
            plot.getAxis("bottom").set_end(end)
            plot.setXRange(0, end, padding=padding)

    def _on_zoomed_by_hand(self, _axes):
        self._zoomed_by_hand = True

    def _on_auto_range_clicked(self):
        """A plot's "A" button: the axes are fitted as at the start of a run, at the next redraw."""
        self._zoomed_by_hand = False
        self._batch_end = None
        self._drawn_version = None

    def _loss_panel_groups(self):
        """Loss panels that share a y axis: each overlay panel alone; side by side, all."""
        panels = [plot for plot in self._plots
                  if any(series.endswith("loss") and curve in plot.items
                         for (_, series), (curve, _) in self._curves.items())]
        if self.mode == SIDE_BY_SIDE:
            return [panels] if panels else []
        return [[panel] for panel in panels]

    def _scale_loss_axes(self):
        """A log loss axis where some shown loss has exploded; side by side, one range for all.

        Linked side-by-side views left to autorange each followed whichever
        column scaled last, and BN's falling loss ran off the bottom of its panel.
        """
        for group in self._loss_panel_groups():
            values = self._loss_values_in(group)
            exploded = bool(values.size) and float(values.max()) > EXPLODED_LOSS
            for plot in group:
                if plot.ctrl.logYCheck.isChecked() != exploded:
                    plot.setLogMode(y=exploded)
            if self.mode == SIDE_BY_SIDE:
                if exploded:
                    values = np.log10(values[values > 0])
                if values.size and not self._zoomed_by_hand:
                    for plot in group:
                        plot.enableAutoRange(y=False)
                    group[0].setYRange(values.min(), values.max(), padding=0.05)

    def _loss_values_in(self, panels):
        """Every finite loss value drawn (raw or smoothed) by a shown variant in these panels."""
        arrays = [np.asarray(curve.yData, dtype=float)
                  for (variant_id, series), pair in self._curves.items()
                  if series.endswith("loss") and variant_id not in self.hidden
                  for curve in pair
                  if curve is not None and curve.yData is not None
                  and any(curve in panel.items for panel in panels)]
        values = np.concatenate(arrays) if arrays else np.array([])
        return values[np.isfinite(values)]

    def _mark_divergences(self, history):
        """A dashed line where a variant diverged, in each plot that shows it."""
        for variant_id, plots in self._plots_of.items():
            record = history.variants.get(variant_id)
            if record is None or record.diverged_at is None or variant_id in self._divergence_marks:
                continue
            color = VARIANTS_BY_ID[variant_id].color
            pen = pg.mkPen(color, width=self.style.line_width * 0.7, style=Qt.PenStyle.DashLine)
            lines = []
            for plot in plots:
                line = pg.InfiniteLine(
                    pos=record.diverged_at, angle=90, pen=pen, label=self.tr("diverged"),
                    labelOpts=dict(position=0.85, color=color, fill=pg.mkBrush(255, 255, 255, 200)),
                )
                line.label.setFont(self.style.font())
                line.setVisible(variant_id not in self.hidden)
                plot.addItem(line)
                lines.append(line)
            self._divergence_marks[variant_id] = lines

    # -- export ---------------------------------------------------------------

    def export_parts(self):
        """What an export shows, left to right: the plots, then the variant list (the legend)."""
        self._build_if_stale()
        return [self._graphics, self.variant_scroll.viewport()]
