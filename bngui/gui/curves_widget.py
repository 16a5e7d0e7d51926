"""Live training curves, in two layouts: overlay and side by side.

Curve items are created once per layout and then only given new data, so a
redraw costs a few ``setData`` calls; the main window calls ``refresh`` from a
timer, never once per training event.
"""

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bngui.core.variants import VARIANTS_BY_ID
from bngui.gui.built_when_shown import BuiltWhenShown
from bngui.gui.plot_style import GRID_ALPHA, LEGEND_BRUSH, TEXT_COLOR, PlotStyle, coloured_html

OVERLAY = "overlay"
SIDE_BY_SIDE = "side"

# Above this loss (chance is about 0.7 with the sigmoid loss, 2.3 with softmax)
# a loss has exploded, as a high learning rate can make it; its panel then
# switches to a log axis so the other curves do not flatten into a line at 0.
EXPLODED_LOSS = 5.0

# Room a plot takes beside its title (the y axis and spacing; normal and
# presentation size), and the smallest font a title is shrunk to.
TITLE_MARGIN_PX = {False: 70, True: 100}
MIN_TITLE_PT = 7
# Room at both ends of the batch axis (a fraction of the planned run), normal
# and presentation size: pyqtgraph leaves out a tick label that would cross
# the plot's edge, and with less room the first (0) and last batch lost theirs.
BATCH_AXIS_PADDING = {False: 0.06, True: 0.09}
# Side by side, up to this many columns each shows its own y values.
INNER_VALUES_UP_TO = 3

# (series, panel title, y label) of the overlay layout, in reading order.
OVERLAY_PANELS = (
    ("train_loss", "Training loss (current batch)", "loss"),
    ("train_accuracy", "Training accuracy (current batch)", "accuracy"),
    ("validation_loss", "Validation loss", "loss"),
    ("validation_accuracy", "Validation accuracy", "accuracy"),
)


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


class CurvesWidget(BuiltWhenShown, QWidget):
    """Four views of training (train/validation × loss/accuracy) for the chosen variants."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._graphics = pg.GraphicsLayoutWidget()
        self._graphics.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._graphics)
        self.mode = OVERLAY
        self.smoothing = 0.6
        self.presentation = False
        self.variant_ids = ()
        self._plots = []  # every PlotItem of the current layout
        self._titles = []  # (plot, title, preferred point size)
        # (variant, series) -> (smoothed curve, raw curve or None)
        self._curves = {}
        self._plots_of = {}  # variant -> the plots showing its curves
        self._divergence_marks = {}  # variant -> its dashed "diverged" lines
        self._drawn_version = None
        # The plots are built when first shown or used (BuiltWhenShown): at
        # start-up the restored variants, layout and presentation mode would
        # otherwise build them three or four times (0.1 s each) before the
        # window shows.

    # -- configuration --------------------------------------------------------

    def set_variants(self, variant_ids):
        variant_ids = tuple(variant_ids)
        if variant_ids != self.variant_ids:
            self.variant_ids = variant_ids
            self._rebuild_when_shown()

    def set_mode(self, mode):
        if mode != self.mode:
            self.mode = mode
            self._rebuild_when_shown()

    def set_smoothing(self, weight):
        self.smoothing = float(weight)
        self._drawn_version = None

    def set_presentation(self, enabled):
        if enabled != self.presentation:
            self.presentation = enabled
            self._rebuild_when_shown()

    @property
    def style(self):
        return PlotStyle(self.presentation)

    @property
    def graphics(self):
        """The pyqtgraph scene holder, for exporting."""
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

    def showEvent(self, event):
        built_while_hidden = not self._stale
        super().showEvent(event)  # builds now if stale, which fits the titles too
        if built_while_hidden:
            self._fit_titles()  # the width was not known then

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_titles()

    # -- building -------------------------------------------------------------

    def _new_plot(self, row, column, title, y_label, x_label="batch"):
        plot = self._graphics.addPlot(row=row, col=column)
        style = self.style
        style.set_title(plot, title)
        if title:
            self._titles.append((plot, title, style.title_pt))
        # Six axes or more repaint with every redraw: cached, they repaint only
        # when their range changes.
        style.style_plot(plot, y_label, x_label, cached_axes=True)
        plot.showGrid(x=True, y=True, alpha=GRID_ALPHA)
        plot.autoBtn.clicked.connect(self._on_auto_range_clicked)
        if y_label == "accuracy":
            plot.setYRange(0, 1, padding=0.02)
        self._plots.append(plot)
        return plot

    def _add_curves(self, plot, variant_id, series, with_raw, name=None):
        color = VARIANTS_BY_ID[variant_id].color
        line_width = self.style.line_width
        raw = None
        if with_raw:
            faint = pg.mkColor(color)
            faint.setAlpha(70)
            raw = plot.plot(pen=pg.mkPen(faint, width=max(1.0, line_width / 2)))
        is_validation = series.startswith("validation")
        symbol = dict(symbol="o", symbolSize=self.style.marker_size,
                      symbolBrush=color, symbolPen=None) if is_validation else {}
        smoothed = plot.plot(pen=pg.mkPen(color, width=line_width), name=name, **symbol)
        self._curves[(variant_id, series)] = (smoothed, raw)
        plots = self._plots_of.setdefault(variant_id, [])
        if plot not in plots:
            plots.append(plot)

    def _build(self):
        self._graphics.clear()
        self._plots = []
        self._titles = []
        self._curves = {}
        self._plots_of = {}
        self._divergence_marks = {}
        self._drawn_version = None
        self._spanned_run = None  # the RunStarted record the batch axes were fitted to
        self._loss_zoomed_by_hand = False
        if self.mode == OVERLAY:
            self._build_overlay()
        else:
            self._build_side_by_side()
        self._fit_titles()

    def _fit_titles(self):
        """Titles too wide for their column get a smaller font.

        A pyqtgraph title is at least as wide as its text, and a layout wider
        than the view is cut off at the right: the overlay's titles at
        presentation size beside the panel, or side by side with many variants.
        """
        if self._stale or not self._titles or not self.isVisible():
            return  # a hidden widget's width is not final; shown, it fits again
        columns = 2 if self.mode == OVERLAY else max(1, len(self.variant_ids))
        room = max(40.0, self.width() / columns - TITLE_MARGIN_PX[self.presentation])
        for plot, title, preferred in self._titles:
            label = plot.titleLabel
            label.setText(title, size=f"{preferred}pt", color=TEXT_COLOR)
            width = label.itemRect().width()
            if width > room:
                size = max(MIN_TITLE_PT, int(2 * preferred * room / width) / 2)  # half points
                label.setText(title, size=f"{size}pt", color=TEXT_COLOR)
        # The layout keeps the width it had to take for wider titles; once it
        # has taken in the new title sizes, give it the view's width again.
        QTimer.singleShot(0, self, self._fit_layout_to_view)  # not after the widget is gone

    def _fit_layout_to_view(self):
        self._graphics.ci.setGeometry(self._graphics.range)

    def _build_overlay(self):
        for index, (series, title, y_label) in enumerate(OVERLAY_PANELS):
            plot = self._new_plot(index // 2, index % 2, title, y_label)
            if series == "validation_loss":
                # Losses fall from the top left, so the top right stays free for the legend.
                legend = plot.addLegend(offset=(-10, 10), labelTextSize=f"{self.style.font_pt}pt",
                                        brush=pg.mkBrush(*LEGEND_BRUSH))
                legend.setLabelTextColor(TEXT_COLOR)
            for variant_id in self.variant_ids:
                label = VARIANTS_BY_ID[variant_id].label
                self._add_curves(plot, variant_id, series, series.startswith("train"), name=label)

    def _build_side_by_side(self):
        """One column per variant; accuracy on top, loss below; all axes shared."""
        first_accuracy = first_loss = None
        for column, variant_id in enumerate(self.variant_ids):
            variant = VARIANTS_BY_ID[variant_id]
            accuracy = self._new_plot(0, column, _title_html(variant), "accuracy" if column == 0 else "")
            loss = self._new_plot(1, column, "", "loss" if column == 0 else "")
            if column == 0:
                # Top left: empty early on, and the baseline never climbs there.
                accuracy.addLegend(offset=(10, 10), labelTextSize=f"{self.style.font_pt}pt",
                                   brush=pg.mkBrush(*LEGEND_BRUSH))
                first_accuracy, first_loss = accuracy, loss
                names = {"train": "training (batch)", "validation": "validation"}
            else:
                accuracy.setXLink(first_accuracy)
                accuracy.setYLink(first_accuracy)
                loss.setXLink(first_loss)
                loss.setYLink(first_loss)
                names = {"train": None, "validation": None}
            accuracy.setYRange(0, 1, padding=0.02)
            if column > 0 and len(self.variant_ids) > INNER_VALUES_UP_TO:
                # The y axes are shared: with many columns only the first one
                # shows the values (the grid lines carry them across), so all
                # the columns fit a laptop's width.
                for plot in (accuracy, loss):
                    plot.getAxis("left").setStyle(showValues=False)
            # The shared loss range is fitted at every redraw, unless the user
            # zooms or pans it (kept until the next run or the "A" button).
            loss.getViewBox().sigRangeChangedManually.connect(self._on_loss_zoomed_by_hand)
            for plot, kind in ((accuracy, "accuracy"), (loss, "loss")):
                self._add_curves(plot, variant_id, f"train_{kind}", True,
                                 name=names["train"] if kind == "accuracy" else None)
                self._add_curves(plot, variant_id, f"validation_{kind}", False,
                                 name=names["validation"] if kind == "accuracy" else None)
            # Training is drawn thinner and lighter than validation so the two read apart.
            for kind in ("accuracy", "loss"):
                smoothed, _ = self._curves[(variant_id, f"train_{kind}")]
                pen = pg.mkColor(variant.color)
                pen.setAlpha(160)
                smoothed.setPen(pg.mkPen(pen, width=self.style.line_width * 0.6))

    # -- drawing --------------------------------------------------------------

    def refresh(self, history):
        """Give every curve the history's current data (skipped if nothing changed)."""
        self._build_if_stale()
        if history.version == self._drawn_version:
            return
        self._drawn_version = history.version
        self._span_the_planned_run(history)
        for (variant_id, series), (smoothed, raw) in self._curves.items():
            record = history.variants.get(variant_id)
            if record is None:
                smoothed.setData([], [])
                if raw is not None:
                    raw.setData([], [])
                continue
            batches, values = record.series(series)
            if raw is not None:
                raw.setData(batches, values)
                smoothed.setData(batches, exponential_moving_average(values, self.smoothing))
            else:
                smoothed.setData(batches, values)
        self._scale_loss_axes()
        self._mark_divergences(history)

    def _span_the_planned_run(self, history):
        """The batch axes run from 0 to the planned last batch from the start.

        The class sees how far the run has come, and the axes do not rescale
        (and repaint) with every new point. Zooming by hand is kept until the
        next run.
        """
        started = history.started
        if started is not None and started is not self._spanned_run:
            self._spanned_run = started
            self._loss_zoomed_by_hand = False
            for plot in self._plots:
                plot.setXRange(0, started.total_batches,
                               padding=BATCH_AXIS_PADDING[self.presentation])

    def _on_loss_zoomed_by_hand(self, _axes):
        self._loss_zoomed_by_hand = True

    def _on_auto_range_clicked(self):
        """A plot's "A" button: the axes are fitted as at the start of a run, at the next redraw."""
        self._spanned_run = None
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
                if values.size and not self._loss_zoomed_by_hand:
                    for plot in group:
                        plot.enableAutoRange(y=False)
                    group[0].setYRange(values.min(), values.max(), padding=0.05)

    def _loss_values_in(self, panels):
        """Every finite loss value drawn (raw or smoothed) in these panels."""
        arrays = [np.asarray(curve.yData, dtype=float)
                  for (_, series), pair in self._curves.items() if series.endswith("loss")
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
            pen = pg.mkPen(color, width=self.style.line_width * 0.7, style=Qt.DashLine)
            lines = []
            for plot in plots:
                line = pg.InfiniteLine(
                    pos=record.diverged_at, angle=90, pen=pen, label="diverged",
                    labelOpts=dict(position=0.85, color=color, fill=pg.mkBrush(255, 255, 255, 200)),
                )
                line.label.setFont(self.style.font())
                plot.addItem(line)
                lines.append(line)
            self._divergence_marks[variant_id] = lines


def _title_html(variant):
    # Two lines (implementation, then placement) so narrow columns do not clip it.
    return coloured_html(variant.label.replace(": ", "<br>").replace(", ", ",<br>"), variant.color)
