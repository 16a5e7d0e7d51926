"""The live curves: smoothing, both layouts and cheap refreshes, on a synthetic history."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from bngui.core import events
from bngui.core.history import SERIES, RunHistory
from bngui.core.variants import VARIANTS as ALL_VARIANTS
from bngui.gui.curves_widget import (
    OVERLAY,
    OVERLAY_PANELS,
    SIDE_BY_SIDE,
    CurvesWidget,
    exponential_moving_average,
)

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
    for row in (accuracy, loss):
        first = row[0].getViewBox()
        for plot in row[1:]:
            view = plot.getViewBox()
            assert view.linkedView(view.XAxis) is first
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


@pytest.mark.parametrize("mode, count, presentation, width", [
    (OVERLAY, 2, True, 940),  # presentation size beside the experiment panel
    (SIDE_BY_SIDE, 5, True, 1100),
    (SIDE_BY_SIDE, 4, False, 640),
    (SIDE_BY_SIDE, 10, True, 1420),  # all ten, the panel hidden
])
def test_titles_shrink_so_the_plots_fit_the_view(qtbot, mode, count, presentation, width):
    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_presentation(presentation)
    widget.set_mode(mode)
    widget.set_variants(EVERY_VARIANT[:count])
    widget.resize(width, 650)
    widget.show()
    layout = widget.graphics.ci
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert layout.effectiveSizeHint(Qt.SizeHint.MinimumSize).width() <= widget.graphics.width()
    preferred = f"{(18 if presentation else 11) + 2}pt"
    titled = [plot for plot in widget.plots if plot.titleLabel.text]
    assert any(plot.titleLabel.opts["size"] != preferred for plot in titled)
    # Wide enough, every title has its full size again.
    widget.resize(600 * max(count, 4), 650)
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    assert all(plot.titleLabel.opts["size"] == preferred for plot in titled)


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
    from PySide6.QtGui import QImage, QPainter

    widget = CurvesWidget()
    qtbot.addWidget(widget)
    widget.set_presentation(presentation)
    widget.set_variants(VARIANTS[:2])
    widget.resize(940, 560)  # the overlay beside the experiment panel
    widget.show()
    history = RunHistory(VARIANTS[:2])
    history.handle(events.RunStarted(VARIANTS[:2], 800, 64))
    widget.refresh(history)
    layout = widget.graphics.ci
    qtbot.waitUntil(lambda: layout.geometry().width() == widget.graphics.width(), timeout=2000)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for plot in widget.plots:
            # The labels pyqtgraph would draw; it leaves out those crossing the plot's edge.
            _, _, labels = plot.getAxis("bottom").generateDrawSpecs(painter)
            shown = {text for _, _, text in labels}
            assert {"0", "800"} <= shown, shown
    finally:
        painter.end()
