"""The live curves: smoothing, both layouts and cheap refreshes, on a synthetic history."""

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtWidgets import QApplication, QLabel

from bngui.core import events
from bngui.core.history import SERIES, RunHistory
from bngui.core.variants import NOTEBOOK_VARIANT_IDS, VARIANTS_BY_ID
from bngui.core.variants import VARIANTS as ALL_VARIANTS
from bngui.gui.curves_widget import (
    MIN_TITLE_PT,
    OVERLAY,
    OVERLAY_PANELS,
    SIDE_BY_SIDE,
    TRAINING_MODE,
    CurvesWidget,
    exponential_moving_average,
    visible_batches,
)
from bngui.gui.plot_style import FADED_ALPHA, HIGHLIGHT_WIDTH_FACTOR
from bngui.gui.variant_names import compact_label

VARIANTS = ("baseline", "keras-conv-bn-relu", "nn-conv-bn-relu")
EVERY_VARIANT = tuple(variant.id for variant in ALL_VARIANTS)


def reference_ema(values, weight):
    """TensorBoard's debiased exponential moving average, one point at a time."""
    smoothed, last = [], 0.0
    for step, value in enumerate(values, start=1):
        last = weight * last + (1 - weight) * value
        smoothed.append(last / (1 - weight**step))
    return smoothed


@pytest.mark.parametrize("length", [1, 2, 63, 64, 65, 200, 1000])
@pytest.mark.parametrize("weight", [0.3, 0.6, 0.95])
def test_ema_matches_a_plain_loop(length, weight):
    values = np.random.default_rng(length).normal(1.0, 0.5, length)
    np.testing.assert_allclose(
        exponential_moving_average(values, weight), reference_ema(values, weight), rtol=0, atol=1e-9
    )


def test_ema_with_weight_zero_is_the_input():
    values = [0.3, 0.1, 0.7, 0.2]
    assert exponential_moving_average(values, 0).tolist() == values


def synthetic_history(variant_ids=VARIANTS[:2], batches=200):
    """A run's history fed with Metric records, as the trainer would send them."""
    history = RunHistory(variant_ids)
    history.handle(events.RunStarted(tuple(variant_ids), batches, 64))
    for batch in range(0, batches, 25):
        for index, variant in enumerate(variant_ids):
            accuracy = min(1.0, 0.1 + batch / batches * (0.5 + 0.2 * index))
            history.handle(events.Metric(variant, batch, events.TRAIN, 2.0 - accuracy, accuracy))
            if batch % 100 == 0:
                history.handle(events.Metric(variant, batch, events.VALIDATION, 1.9 - accuracy, accuracy))
    return history


@pytest.fixture
def curves(qtbot):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def curve_data(widget, variant, series):
    x, y = widget.curves[(variant, series)][0].getData()
    return np.asarray([] if x is None else x), np.asarray([] if y is None else y)


def test_refresh_gives_every_curve_its_series(curves):
    history = synthetic_history()
    curves.set_variants(history.variant_ids)
    curves.set_smoothing(0)
    curves.refresh(history)
    assert set(curves.curves) == {(v, s) for v in history.variant_ids for s in SERIES}
    for (variant, series), (_, raw) in curves.curves.items():
        expected_x, expected_y = history.variants[variant].series(series)
        x, y = curve_data(curves, variant, series)
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_allclose(y, expected_y)
        assert len(x) == (8 if series.startswith("train") else 2)
        assert (raw is not None) == series.startswith("train")  # a faint raw curve behind
        if raw is not None:
            np.testing.assert_allclose(raw.getData()[1], expected_y)


def test_training_curves_are_smoothed_and_validation_curves_are_not(curves):
    history = synthetic_history()
    curves.set_variants(history.variant_ids)
    curves.set_smoothing(0.6)
    curves.refresh(history)
    _, values = history.variants["baseline"].series("train_loss")
    np.testing.assert_allclose(curve_data(curves, "baseline", "train_loss")[1],
                               exponential_moving_average(values, 0.6))
    _, values = history.variants["baseline"].series("validation_loss")
    np.testing.assert_allclose(curve_data(curves, "baseline", "validation_loss")[1], values)


def test_overlay_has_four_panels(curves):
    curves.set_variants(VARIANTS)
    assert curves.mode == OVERLAY
    assert len(curves.plots) == 4
    assert len(curves.curves) == len(VARIANTS) * len(SERIES)


def test_side_by_side_has_a_column_per_variant_with_linked_axes(curves):
    curves.set_variants(VARIANTS)
    curves.set_mode(SIDE_BY_SIDE)
    assert len(curves.plots) == 2 * len(VARIANTS)
    layout = curves.graphics.ci
    accuracy = [layout.getItem(0, column) for column in range(len(VARIANTS))]
    loss = [layout.getItem(1, column) for column in range(len(VARIANTS))]
    assert all(plot is not None for plot in accuracy + loss)
    batch_axis = loss[0].getViewBox()  # every plot's batch axis follows the first loss plot
    for plot in accuracy + loss[1:]:
        view = plot.getViewBox()
        assert view.linkedView(view.XAxis) is batch_axis
    for row in (accuracy, loss):
        first = row[0].getViewBox()
        for plot in row[1:]:
            view = plot.getViewBox()
            assert view.linkedView(view.YAxis) is first
    # Linked: zooming the first column's loss zooms the others.
    loss[0].getViewBox().setXRange(10, 50, padding=0)
    for plot in loss[1:]:
        assert plot.getViewBox().viewRange()[0] == pytest.approx([10, 50], abs=1e-6)


def test_refresh_reuses_the_curve_items(curves):
    history = RunHistory(VARIANTS[:2])
    curves.set_variants(history.variant_ids)
    items = {key: tuple(map(id, pair)) for key, pair in curves.curves.items()}
    plots = list(map(id, curves.plots))
    for batch in range(0, 100, 25):
        history.handle(events.Metric("baseline", batch, events.TRAIN, 1.0, 0.5))
        curves.refresh(history)
        assert {key: tuple(map(id, pair)) for key, pair in curves.curves.items()} == items
        assert list(map(id, curves.plots)) == plots
    assert len(curve_data(curves, "baseline", "train_loss")[0]) == 4


def test_refresh_skips_when_the_history_did_not_change(curves):
    history = synthetic_history()
    curves.set_variants(history.variant_ids)
    curves.refresh(history)
    before = curve_data(curves, "baseline", "validation_accuracy")[1].copy()

    # Changed behind the history's back: the version is the same, so no redraw.
    history.variants["baseline"].values["validation_accuracy"][0] = 0.99
    curves.refresh(history)
    np.testing.assert_array_equal(curve_data(curves, "baseline", "validation_accuracy")[1], before)

    history.version += 1
    curves.refresh(history)
    assert curve_data(curves, "baseline", "validation_accuracy")[1][0] == 0.99


def test_a_new_layout_or_variant_set_is_drawn_at_the_next_refresh(curves):
    history = synthetic_history()
    curves.set_variants(history.variant_ids)
    curves.refresh(history)
    curves.set_mode(SIDE_BY_SIDE)
    assert len(curve_data(curves, "baseline", "train_loss")[0]) == 0  # new items, not drawn yet
    curves.refresh(history)  # same version, but the new items must get the data
    assert len(curve_data(curves, "baseline", "train_loss")[0]) == 8


def test_presentation_mode_draws_thicker_lines(curves):
    curves.set_variants(VARIANTS[:1])

    def width():
        return curves.curves[("baseline", "validation_accuracy")][0].opts["pen"].widthF()

    normal = width()
    curves.set_presentation(True)
    assert width() > normal
    curves.set_presentation(False)
    assert width() == normal


def test_a_diverged_variant_is_marked_where_it_diverged(qtbot):
    curves = CurvesWidget()
    qtbot.addWidget(curves)
    curves.set_variants(("baseline-lr10", "keras-conv-bn-relu-lr10"))
    history = RunHistory(("baseline-lr10", "keras-conv-bn-relu-lr10"))
    history.handle(events.Metric("baseline-lr10", 0, events.TRAIN, 0.7, 0.1))
    curves.refresh(history)
    assert curves.divergence_marks == {}
    history.handle(events.VariantDiverged("baseline-lr10", 137))
    curves.refresh(history)
    lines = curves.divergence_marks["baseline-lr10"]
    assert len(lines) == len(OVERLAY_PANELS)  # every overlay panel shows it
    assert all(line.value() == 137 for line in lines)
    assert "keras-conv-bn-relu-lr10" not in curves.divergence_marks
    curves.set_mode(SIDE_BY_SIDE)
    curves.refresh(history)
    assert len(curves.divergence_marks["baseline-lr10"]) == 2  # its own column only


def test_a_loss_panel_turns_logarithmic_when_a_loss_explodes(qtbot):
    curves = CurvesWidget()
    qtbot.addWidget(curves)
    variants = ("keras-conv-bn-relu", "keras-conv-bn-relu-lr10")
    curves.set_variants(variants)
    history = RunHistory(variants)
    for batch, loss in ((0, 0.7), (25, 0.4)):
        for variant in variants:
            history.handle(events.Metric(variant, batch, events.TRAIN, loss, 0.1))
    curves.refresh(history)
    train_loss_plot = curves.plots[0]
    assert not train_loss_plot.ctrl.logYCheck.isChecked()
    history.handle(events.Metric("keras-conv-bn-relu-lr10", 50, events.TRAIN, 900.0, 0.1))
    curves.refresh(history)
    assert train_loss_plot.ctrl.logYCheck.isChecked()
    assert not curves.plots[1].ctrl.logYCheck.isChecked()  # accuracy stays linear
    assert not curves.plots[2].ctrl.logYCheck.isChecked()  # validation loss did not explode


def batch_axis_ranges(widget):
    return [plot.getViewBox().viewRange()[0] for plot in widget.plots]


@pytest.mark.parametrize("mode", [OVERLAY, SIDE_BY_SIDE])
def test_the_batch_axes_span_the_planned_run_from_its_start(curves, mode):
    curves.set_mode(mode)
    curves.set_variants(VARIANTS[:2])
    history = RunHistory(VARIANTS[:2])
    history.handle(events.RunStarted(VARIANTS[:2], 800, 64))
    history.handle(events.Metric("baseline", 0, events.TRAIN, 0.7, 0.1))
    curves.refresh(history)
    for low, high in batch_axis_ranges(curves):
        assert low <= 0 and 800 <= high < 850
    # Later points do not rescale them.
    history.handle(events.Metric("baseline", 25, events.TRAIN, 0.6, 0.2))
    curves.refresh(history)
    for low, high in batch_axis_ranges(curves):
        assert low <= 0 and 800 <= high < 850
    # A new run with another length gets its own span.
    history.reset(VARIANTS[:2])
    history.handle(events.RunStarted(VARIANTS[:2], 200, 64))
    curves.refresh(history)
    for low, high in batch_axis_ranges(curves):
        assert low <= 0 and 200 <= high < 215


def test_axes_are_cached_between_repaints(curves):
    from PySide6.QtWidgets import QGraphicsItem

    for plot in curves.plots:
        for name in ("left", "bottom"):
            assert plot.getAxis(name).cacheMode() == QGraphicsItem.CacheMode.DeviceCoordinateCache


def loss_panels(widget):
    return [plot for plot in widget.plots
            if any(series.endswith("loss") and curve in plot.items
                   for (_, series), (curve, _) in widget.curves.items())]


def side_by_side_run(curves):
    """The notebook pair side by side, and the history of a 300-batch run of it."""
    variants = ("baseline", "keras-conv-bn-relu")
    curves.set_mode(SIDE_BY_SIDE)
    curves.set_variants(variants)
    history = RunHistory(variants)
    history.handle(events.RunStarted(variants, 300, 64))
    return history


def add_training_point(curves, history, batch):
    """The baseline stays on the plateau; BN's loss falls far below it."""
    history.handle(events.Metric("baseline", batch, events.TRAIN, 0.33, 0.1))
    history.handle(events.Metric("keras-conv-bn-relu", batch, events.TRAIN,
                                 0.7 - 0.002 * batch, 0.1 + 0.003 * batch))
    curves.refresh(history)


def test_side_by_side_loss_panels_show_every_columns_curves(qtbot, curves):
    history = side_by_side_run(curves)
    for batch in range(0, 300, 25):
        add_training_point(curves, history, batch)

    def every_panel_spans(low_value, high_value):
        # Linked views follow the first one at the next turn of the event loop.
        ranges = [plot.getViewBox().viewRange()[1] for plot in loss_panels(curves)]
        return len(ranges) == 2 and all(low <= low_value and high >= high_value for low, high in ranges)

    qtbot.waitUntil(lambda: every_panel_spans(0.7 - 0.002 * 275, 0.7), timeout=2000)
    # An exploding loss turns every linked loss panel logarithmic together.
    history.handle(events.Metric("keras-conv-bn-relu", 300, events.TRAIN, 900.0, 0.1))
    curves.refresh(history)
    assert all(plot.ctrl.logYCheck.isChecked() for plot in loss_panels(curves))
    qtbot.waitUntil(lambda: every_panel_spans(np.log10(0.15), np.log10(900.0)), timeout=2000)


def test_a_loss_zoom_by_hand_is_kept_until_the_a_button(qtbot, curves):
    history = side_by_side_run(curves)
    add_training_point(curves, history, 0)
    add_training_point(curves, history, 25)
    first_loss = loss_panels(curves)[0]
    view = first_loss.getViewBox()
    # What a mouse wheel over the panel does: a new range, then this signal.
    view.setYRange(0.4, 0.5, padding=0)
    view.sigRangeChangedManually.emit([False, True])
    add_training_point(curves, history, 50)
    add_training_point(curves, history, 75)
    assert view.viewRange()[1] == pytest.approx([0.4, 0.5])
    first_loss.autoBtn.clicked.emit(first_loss.autoBtn)  # its "A" button
    add_training_point(curves, history, 100)
    qtbot.waitUntil(lambda: view.viewRange()[1][0] <= 0.5 and view.viewRange()[1][1] >= 0.7, timeout=2000)
    low, high = view.viewRange()[0]
    assert low <= 0 and 300 <= high < 320  # the batch axis spans the planned run again


@pytest.mark.parametrize("mode, count, presentation, width, shrunk", [
    (OVERLAY, 2, True, 640, True),  # presentation size beside the panel at 1280 pixels
    (OVERLAY, 2, True, 1300, False),  # the titles fit as they are
    (SIDE_BY_SIDE, 5, True, 1100, True),
    (SIDE_BY_SIDE, 4, False, 560, True),
    (SIDE_BY_SIDE, 10, True, 1100, True),  # all ten, the panel hidden, two rows of five
])
def test_titles_adapt_so_the_plots_fit_the_view(qtbot, mode, count, presentation, width, shrunk):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_presentation(presentation)
    widget.set_mode(mode)
    widget.set_variants(EVERY_VARIANT[:count])
    widget.resize(width + widget.variant_scroll.width(), 650)  # the plots get ``width``
    widget.show()
    layout = widget.graphics.ci
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= widget.graphics.width()
    preferred = f"{widget.title_pt}pt"
    assert widget.title_pt == (18 if presentation else 11) + (2 if mode == OVERLAY else 0)
    titled = [plot for plot in widget.plots if plot.titleLabel.text]
    # Adapted: smaller, or broken onto more lines than the name and the mode's.
    adapted = [plot.titleLabel.opts["size"] != preferred or plot.titleLabel.text.count("<br>") > 1
               for plot in titled]
    assert any(adapted) == shrunk
    # Wide enough, every title has its full size again.
    widget.resize(600 * max(count, 4), 650)
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert all(plot.titleLabel.opts["size"] == preferred and plot.titleLabel.text.count("<br>") == 1
               for plot in titled)


def test_with_many_columns_only_the_first_shows_the_shared_y_values(curves):
    curves.set_mode(SIDE_BY_SIDE)

    def value_columns():
        return [plot.getAxis("left").style["showValues"] for plot in curves.plots]

    curves.set_variants(VARIANTS[:2])
    assert value_columns() == [True] * 4
    curves.set_variants(EVERY_VARIANT[:5])
    assert value_columns() == [True, True] + [False] * 8  # accuracy and loss of column 1 only


def test_titles_also_fit_when_the_plots_were_built_while_hidden(qtbot):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_presentation(True)
    widget.set_variants(VARIANTS[:2])
    widget.resize(940, 650)
    assert len(widget.plots) == 4  # built now, before the widget knows its width
    widget.show()
    layout = widget.graphics.ci
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= widget.graphics.width()


@pytest.mark.parametrize("presentation", [False, True])
def test_the_batch_axis_labels_its_first_and_last_batch(qtbot, presentation):

    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_presentation(presentation)
    widget.set_variants(VARIANTS[:2])
    widget.resize(940, 560)  # the overlay beside the experiment panel
    widget.show()
    history = RunHistory(VARIANTS[:2])
    history.handle(events.RunStarted(VARIANTS[:2], 800, 64))
    widget.refresh(history)
    check_batch_labels(qtbot, widget, 800, widget.plots)


# -- the variant list: the legend beside the plots ------------------------------------


def ten_variant_curves(qtbot, mode=OVERLAY, width=1200):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_mode(mode)
    widget.set_variants(NOTEBOOK_VARIANT_IDS)
    widget.resize(width, 650)
    widget.show()
    qtbot.waitExposed(widget)
    history = RunHistory(NOTEBOOK_VARIANT_IDS)
    history.handle(events.RunStarted(tuple(NOTEBOOK_VARIANT_IDS), 800, 64))
    for batch in range(0, 300, 25):
        for index, variant in enumerate(NOTEBOOK_VARIANT_IDS):
            accuracy = 0.1 if variant.startswith("baseline") else min(0.97, 0.1 + batch / 300)
            history.handle(events.Metric(variant, batch, events.TRAIN, 1 - accuracy + index / 100, accuracy))
            if batch % 100 == 0:
                history.handle(events.Metric(variant, batch, events.VALIDATION, 1 - accuracy, accuracy))
    widget.refresh(history)
    return widget, history


def test_the_variant_list_beside_the_plots_is_the_legend(qtbot):
    widget, _ = ten_variant_curves(qtbot)
    assert all(plot.legend is None for plot in widget.plots)  # no legend box over the data
    rows = widget.variant_list.rows
    assert list(rows) == NOTEBOOK_VARIANT_IDS  # all ten, in the catalogue's order
    assert all(row.isVisible() for row in rows.values())
    plots, variants = widget.plot_area.geometry(), widget.variant_scroll.geometry()
    assert variants.left() >= plots.right()  # beside the plots, not over them
    # Each row shows its variant's line: the colour and the group's dash pattern.
    swatch = rows["nn-conv-bn-relu"].swatch.pixmap().toImage()
    middle = swatch.height() // 2
    line = [swatch.pixelColor(x, middle) for x in range(swatch.width())]
    assert any(color.alpha() == 0 for color in line[3:-3])  # gaps: dashed
    assert any(color.name() == VARIANTS_BY_ID["nn-conv-bn-relu"].color.lower() for color in line)
    # Group headings name the implementations, as the setup panel does.
    headings = [label.text() for label in widget.variant_list.findChildren(QLabel)]
    assert {"No BN", "Keras BN", "tf.nn BN"} <= set(headings)


def pen_of(widget, variant, series):
    return widget.curves[(variant, series)][0].opts["pen"]


def test_pointing_at_a_variant_highlights_its_curves_in_every_panel(qtbot):
    widget, _ = ten_variant_curves(qtbot)
    normal = {(variant, series): pen_of(widget, variant, series).widthF()
              for variant in NOTEBOOK_VARIANT_IDS for series in SERIES}
    row = widget.variant_list.rows["keras-conv-bn-relu"]
    QApplication.sendEvent(row, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert widget.highlighted == "keras-conv-bn-relu"
    for series in SERIES:
        highlighted = pen_of(widget, "keras-conv-bn-relu", series)
        expected = normal[("keras-conv-bn-relu", series)] * HIGHLIGHT_WIDTH_FACTOR
        assert highlighted.widthF() == pytest.approx(expected)
        assert highlighted.color().alpha() == 255
        assert pen_of(widget, "baseline", series).color().alpha() == FADED_ALPHA
    QApplication.sendEvent(row, QEvent(QEvent.Type.Leave))
    assert widget.highlighted is None
    assert {key: pen_of(widget, *key).widthF() for key in normal} == normal
    assert pen_of(widget, "baseline", "validation_loss").color().alpha() == 255
    # The keyboard reaches the same: a focused row highlights, Space hides it.
    row.setFocus()
    qtbot.waitUntil(lambda: widget.highlighted == "keras-conv-bn-relu", timeout=2000)
    qtbot.keyClick(row, Qt.Key_Space)
    assert "keras-conv-bn-relu" in widget.hidden


def test_clicking_a_variant_hides_and_shows_its_curves(qtbot):
    widget, history = ten_variant_curves(qtbot)
    row = widget.variant_list.rows["baseline-nn"]
    with qtbot.waitSignal(widget.variant_list.hidden_changed):
        qtbot.mouseClick(row, Qt.LeftButton)
    assert widget.hidden == {"baseline-nn"}
    for series in SERIES:
        smoothed, raw = widget.curves[("baseline-nn", series)]
        assert not smoothed.isVisible() and (raw is None or not raw.isVisible())
        assert widget.curves[("baseline", series)][0].isVisible()
    assert row.hidden and row.name.font().strikeOut()
    assert widget.variant_list.show_all_button.isVisibleTo(widget)
    qtbot.mouseClick(row, Qt.LeftButton)
    assert widget.hidden == set()
    assert all(widget.curves[("baseline-nn", series)][0].isVisible() for series in SERIES)
    assert not widget.variant_list.show_all_button.isVisibleTo(widget)

    # Side by side a hidden variant gives its column to the others.
    widget.set_mode(SIDE_BY_SIDE)
    widget.refresh(history)
    assert len(widget.plots) == 20
    qtbot.mouseClick(widget.variant_list.rows["baseline"], Qt.LeftButton)
    assert len(widget.plots) == 18 and ("baseline", "train_loss") not in widget.curves
    qtbot.mouseClick(widget.variant_list.show_all_button, Qt.LeftButton)
    assert len(widget.plots) == 20 and widget.hidden == set()


def test_hidden_curves_leave_the_shared_loss_range(qtbot):
    widget, history = ten_variant_curves(qtbot, SIDE_BY_SIDE)
    history.handle(events.Metric("nn-conv-relu-bn", 300, events.TRAIN, 900.0, 0.1))  # it explodes
    widget.refresh(history)
    assert all(plot.ctrl.logYCheck.isChecked() for plot in loss_panels(widget))
    widget.set_hidden({"nn-conv-relu-bn"})
    widget.refresh(history)
    assert not any(plot.ctrl.logYCheck.isChecked() for plot in loss_panels(widget))


def test_ten_variants_side_by_side_wrap_into_two_rows_of_five(qtbot):
    widget, _ = ten_variant_curves(qtbot, SIDE_BY_SIDE, width=1440 - 260)  # beside the panel
    layout = widget.graphics.ci
    assert widget.columns == 5
    placed = {}
    for index, variant in enumerate(NOTEBOOK_VARIANT_IDS):
        row, column = divmod(index, 5)
        accuracy, loss = layout.getItem(2 * row, column), layout.getItem(2 * row + 1, column)
        assert widget.curves[(variant, "validation_accuracy")][0] in accuracy.items
        assert widget.curves[(variant, "validation_loss")][0] in loss.items
        placed[variant] = accuracy
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= widget.graphics.width()
    # Every title is readable (not shrunk to the smallest size) and names its variant.
    for variant, plot in placed.items():
        assert float(plot.titleLabel.opts["size"].rstrip("pt")) > MIN_TITLE_PT
        assert compact_label(variant).split(" ")[-1] in plot.titleLabel.text.replace("<br>", "")
    # Five columns of tick labels that do not run into each other.
    check_batch_labels(qtbot, widget, 800, [layout.getItem(3, column) for column in range(5)])


# -- what each panel measures -----------------------------------------------------------


def test_every_panel_says_how_it_was_measured(curves):
    curves.set_variants(VARIANTS[:2])
    titles = [plot.titleLabel.text for plot in curves.plots]
    assert all("inference mode" in title for title in titles)
    assert sum("current batch" in title for title in titles) == 2
    assert sum("validation set" in title for title in titles) == 2
    curves.set_training_mode(TRAINING_MODE)
    titles = {plot.titleLabel.text.split("<br>")[0]: plot.titleLabel.text for plot in curves.plots}
    assert "training mode" in titles["Training loss"] and "training mode" in titles["Training accuracy"]
    assert "inference mode" in titles["Validation loss"] and "inference mode" in titles["Validation accuracy"]
    curves.set_mode(SIDE_BY_SIDE)
    assert all("training mode" in plot.titleLabel.text for plot in curves.plots if plot.titleLabel.text)
    assert "training mode" in curves.variant_list.key.text()


def test_training_mode_curves_show_what_the_training_step_saw(curves):
    variants = ("keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats")
    curves.set_variants(variants)
    curves.set_smoothing(0)
    history = RunHistory(variants)
    history.handle(events.RunStarted(variants, 800, 64))
    for batch in range(0, 200, 25):
        for variant in variants:
            # Inference mode: the frozen statistics break it; the step itself learns.
            inference = 0.1 if variant.endswith("stats") else 0.2 + batch / 400
            history.handle(events.Metric(variant, batch, events.TRAIN, 2.0, inference))
            history.handle(events.TrainingBatchStatistics(variant, batch, 1.0 - batch / 400,
                                                          0.3 + batch / 400, (1.0,) * 21))
    curves.refresh(history)
    frozen = "keras-conv-bn-relu-frozen-stats"
    np.testing.assert_allclose(curve_data(curves, frozen, "train_accuracy")[1], 0.1)
    curves.set_training_mode(TRAINING_MODE)
    curves.refresh(history)
    batches, accuracy = history.variants[frozen].training_mode_accuracy()
    np.testing.assert_array_equal(curve_data(curves, frozen, "train_accuracy")[0], batches)
    np.testing.assert_allclose(curve_data(curves, frozen, "train_accuracy")[1], accuracy)
    np.testing.assert_allclose(curve_data(curves, frozen, "train_loss")[1],
                               history.variants[frozen].training_mode_loss()[1])
    # Statistics alone (no new metric) redraw a training-mode curve.
    history.handle(events.TrainingBatchStatistics(frozen, 200, 0.5, 0.8, (1.0,) * 21))
    curves.refresh(history)
    assert curve_data(curves, frozen, "train_accuracy")[1][-1] == pytest.approx(0.8)


# -- short and long runs ----------------------------------------------------------------


def test_a_run_of_one_batch_shows_its_points(qtbot, curves):
    curves.set_variants(VARIANTS[:1])
    history = RunHistory(VARIANTS[:1])
    history.handle(events.RunStarted(VARIANTS[:1], 1, 64))
    history.handle(events.Metric("baseline", 0, events.VALIDATION, 0.7, 0.1))
    history.handle(events.Metric("baseline", 0, events.TRAIN, 0.7, 0.1))
    history.handle(events.Metric("baseline", 1, events.VALIDATION, 0.69, 0.11))
    curves.refresh(history)
    for series in ("train_loss", "train_accuracy"):
        smoothed, _ = curves.curves[("baseline", series)]
        assert len(curve_data(curves, "baseline", series)[0]) == 1
        assert smoothed.opts["symbol"] == "o"  # one point is no line: a marker shows it
    low, high = curves.plots[0].getViewBox().viewRange()[0]
    assert low < 0 and 1 < high < 1.5
    # With enough points for a line the markers go.
    for batch in (25, 50):
        history.handle(events.Metric("baseline", batch, events.TRAIN, 0.6, 0.2))
    curves.refresh(history)
    assert curves.curves[("baseline", "train_loss")][0].opts["symbol"] is None


def test_visible_batches_follow_a_long_run():
    assert visible_batches(800, 0, False) == 800
    assert visible_batches(800, 500, False) == 800
    assert visible_batches(100_000, 0, False) == 1000
    assert visible_batches(100_000, 300, False) == 1000
    assert visible_batches(100_000, 600, False) == 2000
    assert visible_batches(100_000, 30_000, False) == 100_000
    assert visible_batches(5000, 1200, False) == 5000
    assert visible_batches(100_000, 350, True) == 350  # stopped: what was trained
    assert visible_batches(800, 800, True) == 800


def test_the_batch_axis_follows_a_long_run_during_and_after_it(qtbot, curves):
    curves.set_variants(VARIANTS[:1])
    history = RunHistory(VARIANTS[:1])
    history.handle(events.RunStarted(VARIANTS[:1], 100_000, 64))
    for batch in range(0, 301, 25):
        history.handle(events.Metric("baseline", batch, events.TRAIN, 0.7, 0.1))
    curves.refresh(history)
    for low, high in batch_axis_ranges(curves):
        assert low <= 0 and 1000 <= high < 1100  # not 100,000: the curves fill the plot
    for batch in range(325, 701, 25):
        history.handle(events.Metric("baseline", batch, events.TRAIN, 0.7, 0.1))
    curves.refresh(history)
    assert all(2000 <= high < 2200 for _, high in batch_axis_ranges(curves))
    # Stopped at batch 700: the axes show what was trained.
    history.handle(events.VariantFinished("baseline", events.STOPPED, math.nan, math.nan, math.nan, 9.0))
    history.handle(events.RunFinished(events.STOPPED, 9.0))
    curves.refresh(history)
    assert all(701 <= high < 780 for _, high in batch_axis_ranges(curves))
    assert all(plot.getAxis("bottom").end == 701 for plot in curves.plots)


def test_empty_plots_say_what_to_do_and_show_the_planned_run(qtbot, curves):
    curves.set_variants(VARIANTS[:2])
    curves.set_hint("Choose a preset and press Start")
    curves.set_planned_batches(300)
    assert curves.hint.isVisible() and curves.hint.text() == "Choose a preset and press Start"
    hint, area = curves.hint.geometry(), curves.plot_area.rect()
    assert area.contains(hint) and abs(hint.center().x() - area.center().x()) <= 2
    assert hint.center().y() < area.center().y()  # over the upper plots, off the axes between
    for low, high in batch_axis_ranges(curves):
        assert low <= 0 and 300 <= high < 320
    history = RunHistory(VARIANTS[:2])
    history.handle(events.RunStarted(VARIANTS[:2], 800, 64))
    curves.refresh(history)
    assert curves.hint.isVisible()  # a run being prepared has no points yet (the window says so)
    history.handle(events.Metric("baseline", 0, events.VALIDATION, 0.7, 0.1))
    curves.refresh(history)
    assert not curves.hint.isVisible()  # never over data
    # Every variant hidden: the plots say how to bring them back.
    curves.set_hidden(VARIANTS[:2])
    assert curves.hint.isVisible() and "hidden" in curves.hint.text()


def check_batch_labels(qtbot, widget, last, plots):
    """Each plot's batch axis labels 0 and ``last``; neighbouring plots' labels do not overlap."""
    from PySide6.QtGui import QImage, QPainter

    layout = widget.graphics.ci
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)

    def labels_of(plot):
        # The labels pyqtgraph would draw; it leaves out those crossing the plot's edge.
        painter = QPainter(image)
        try:
            specs = plot.getAxis("bottom").generateDrawSpecs(painter)
        finally:
            painter.end()
        return [] if specs is None else [(rect, text) for rect, _, text in specs[2]]

    def all_labelled():
        return all({"0", str(last)} <= {text for _, text in labels_of(plot)} for plot in plots)

    # The axes take their view's range and size at the next turns of the event loop.
    qtbot.waitUntil(all_labelled, timeout=3000)
    spans = [plot.getAxis("bottom").mapRectToScene(rect) for plot in plots for rect, _ in labels_of(plot)]
    for one in spans:
        for other in spans:
            if one is not other and one.intersects(other):
                overlap = one.intersected(other)
                assert overlap.width() <= 0.5 or overlap.height() <= 0.5, "tick labels run into each other"


def test_a_run_over_seeds_draws_the_mean_and_a_band_holding_every_seed(curves):
    """Three seeds of two variants: each curve is the mean over the seeds, and its band spans
    the lowest and the highest seed at every batch, so every seed's curve lies inside it."""
    ids = VARIANTS[:2]
    history = RunHistory(ids)
    history.handle(events.RunStarted(ids, 200, 64, (0, 1, 2)))
    by_seed = {}
    for seed in (0, 1, 2):
        history.handle(events.SeedStarted(seed))
        for batch in (0, 100, 200):
            for index, variant in enumerate(ids):
                accuracy = 0.1 + index * (0.2 + 0.1 * seed) * batch / 200
                by_seed.setdefault(variant, []).append((seed, batch, accuracy))
                history.handle(events.Metric(variant, batch, events.VALIDATION, 1 - accuracy, accuracy))
    curves.set_variants(ids)
    curves.set_smoothing(0)
    curves.refresh(history)
    for variant in ids:
        x, y = curve_data(curves, variant, "validation_accuracy")
        assert x.tolist() == [0, 100, 200]
        values = np.array([[a for s, b, a in by_seed[variant] if s == seed] for seed in (0, 1, 2)])
        np.testing.assert_allclose(y, values.mean(axis=0))
        low, high, fill = curves._bands[(variant, "validation_accuracy")]
        assert fill.isVisible()
        np.testing.assert_allclose(low.getData()[1], values.min(axis=0))
        np.testing.assert_allclose(high.getData()[1], values.max(axis=0))
        assert np.all(values >= low.getData()[1] - 1e-12) and np.all(values <= high.getData()[1] + 1e-12)
    # Hiding a variant hides its band too.
    curves.set_hidden({ids[1]})
    assert not curves._bands[(ids[1], "validation_accuracy")][2].isVisible()
