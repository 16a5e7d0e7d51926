"""The network view: activation percentiles and gradient heatmaps on a synthetic history."""

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from bngui.core import events
from bngui.core.history import RunHistory
from bngui.core.layer_names import (
    ACTIVATION_PERCENTILES,
    DEFAULT_ACTIVATION_LAYER,
    NONLINEAR_LAYERS,
    WEIGHT_LAYERS,
)
from bngui.core.variants import VARIANT_IDS
from bngui.gui.network_view import EMPTY_HINT, MIN_COLUMN_PX, PLOTS_SHARE, NetworkView, layer_title

VARIANTS = ("baseline", "keras-conv-bn-relu")
BATCHES = 200


def gradient_norms(variant_index, batch):
    """Known, distinct norms: 10^(layer index / 4 - 6 + variant), times (1 + batch / 1000)."""
    layers = np.arange(len(WEIGHT_LAYERS))
    return 10.0 ** (layers / 4 - 6 + variant_index) * (1 + batch / 1000)


def percentiles(variant_index, batch):
    """One (p15, p50, p85) per layer, distinct for every layer, batch and variant."""
    return [(-1.0 - layer - variant_index, 0.01 * batch + layer, 1.0 + layer + batch / 100 + variant_index)
            for layer in range(len(NONLINEAR_LAYERS))]


def synthetic_history(variant_ids=VARIANTS, batches=BATCHES):
    """Statistics records as the trainer sends them: norms every 25 batches, activations every 100."""
    history = RunHistory(variant_ids)
    history.handle(events.RunStarted(tuple(variant_ids), batches, 64))
    for batch in range(0, batches + 1, 25):
        for index, variant in enumerate(variant_ids):
            history.handle(events.TrainingBatchStatistics(
                variant, batch, 1.0, 0.5, tuple(gradient_norms(index, batch))))
            if batch % 100 == 0:
                history.handle(events.ActivationPercentiles(variant, batch, tuple(percentiles(index, batch))))
    return history


@pytest.fixture
def view(qtbot):
    widget = NetworkView()
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    widget.show()
    return widget


def data(item):
    """The (x, y) a curve was given (getData would return log10 of y on a log axis)."""
    x, y = item.getOriginalDataset()
    return np.asarray([] if x is None else x), np.asarray([] if y is None else y)


def test_layer_names_are_readable():
    assert layer_title("conv10") == "conv 10 (middle)"
    assert layer_title("conv1") == "conv 1 (first)"
    assert layer_title("conv7") == "conv 7"
    assert layer_title("fc") == "fc (100 units)"


def test_empty_view_shows_the_hint_until_statistics_arrive(view):
    assert view.stack.currentWidget() is view.hint
    assert view.hint.text() == EMPTY_HINT
    history = RunHistory(VARIANTS)
    view.set_variants(VARIANTS)
    view.refresh(history)
    assert view.stack.currentWidget() is view.hint
    history.handle(events.ActivationPercentiles("baseline", 0, tuple(percentiles(0, 0))))
    view.refresh(history)
    assert view.stack.currentWidget() is view.plots_scroll


def test_activation_curves_follow_the_chosen_layer(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    assert view.activation_layer == DEFAULT_ACTIVATION_LAYER
    assert view.layer_picker.currentText() == "conv 10 (middle)"
    for layer in (DEFAULT_ACTIVATION_LAYER, "fc", "conv1"):
        # As the lecturer does: pick it in the combo box; the plots redraw at once.
        view.layer_picker.setCurrentIndex(view.layer_picker.findData(layer))
        assert view.activation_layer == layer
        for variant in VARIANTS:
            expected_x, expected = history.variants[variant].activation_series(layer)
            assert expected.shape == (3, len(ACTIVATION_PERCENTILES))  # batches 0, 100, 200
            for item, column in zip(view.activation_curves[variant][:3], range(3)):
                x, y = data(item)
                np.testing.assert_array_equal(x, expected_x)
                np.testing.assert_array_equal(y, expected[:, column])
    view.set_activation_layer("conv2")
    assert view.layer_picker.currentText() == "conv 2"


def test_heatmap_is_log10_of_the_norms_with_batches_across_and_layers_up(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    for variant in VARIANTS:
        batches, norms = history.variants[variant].gradient_matrix()
        image = view.heatmaps[variant]
        assert image.image.shape == (len(batches), len(WEIGHT_LAYERS)) == (9, 21)
        np.testing.assert_allclose(image.image, np.log10(norms))
        # Pixel (i, j) sits at batch i and layer j: conv1 at the bottom, logits at the top.
        first = image.mapToParent(QPointF(0.5, 0.5))
        last = image.mapToParent(QPointF(len(batches) - 0.5, len(WEIGHT_LAYERS) - 0.5))
        assert (first.x(), first.y()) == pytest.approx((batches[0], 0))
        assert (last.x(), last.y()) == pytest.approx((batches[-1], WEIGHT_LAYERS.index("logits")))
        assert not view.heatmap_plots[variant].getViewBox().yInverted()


def test_heatmaps_share_one_colour_scale(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    every_log = np.log10(np.concatenate([history.variants[v].gradient_matrix()[1] for v in VARIANTS]))
    expected = (math.floor(every_log.min()), math.ceil(every_log.max()))
    assert tuple(view.color_bar.levels()) == expected
    for image in view.heatmaps.values():
        assert tuple(image.getLevels()) == expected
    assert view.color_bar.getAxis("left").labelText == "log10 ‖∇W‖"


def test_profile_shows_the_latest_norms_per_variant(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    assert view.profile_plot.getAxis("left").logMode
    for variant in VARIANTS:
        x, y = data(view.profile_curves[variant])
        np.testing.assert_array_equal(x, np.arange(len(WEIGHT_LAYERS)))
        np.testing.assert_allclose(y, history.variants[variant].gradient_matrix()[1][-1])


def test_non_finite_and_zero_values_are_missing_not_fatal(view):
    history = RunHistory(VARIANTS)
    norms = gradient_norms(0, 0)
    norms[[0, 1, 2, 3]] = (0.0, np.nan, np.inf, -np.inf)
    history.handle(events.TrainingBatchStatistics("baseline", 0, 1.0, 0.5, tuple(norms)))
    history.handle(events.TrainingBatchStatistics("baseline", 25, np.nan, 0.1,
                                                  (np.nan,) * len(WEIGHT_LAYERS)))
    broken = percentiles(0, 0)
    broken[NONLINEAR_LAYERS.index(DEFAULT_ACTIVATION_LAYER)] = (np.nan, np.inf, -np.inf)
    history.handle(events.ActivationPercentiles("baseline", 0, tuple(broken)))
    view.set_variants(VARIANTS)
    view.refresh(history)
    view.grab()  # paints every item with the gaps

    image = view.heatmaps["baseline"].image
    assert np.isnan(image[0, :4]).all() and np.isfinite(image[0, 4:]).all()
    assert np.isnan(image[1]).all()
    # The latest row is all NaN: the profile of that variant is empty, not a crash.
    assert len(data(view.profile_curves["baseline"])[0]) == 0
    assert all(len(data(item)[0]) == 0 for item in view.activation_curves["baseline"][:3])
    # A variant without any statistics yet has no image.
    assert view.heatmaps["keras-conv-bn-relu"].image is None
    assert np.isfinite(view.color_bar.levels()).all()


def test_refresh_is_a_no_op_while_the_statistics_version_is_unchanged(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    median = view.activation_curves["baseline"][1]
    image = view.heatmaps["baseline"]
    items = (median, image, view.profile_curves["baseline"])
    before_median, before_image = data(median)[1].copy(), image.image.copy()

    # Changed behind the history's back: the version is the same, so nothing is redrawn.
    history.variants["baseline"].activation_percentiles[0] = tuple(percentiles(0, 50))
    history.variants["baseline"].gradient_norms[0] = tuple(gradient_norms(5, 0))
    view.refresh(history)
    np.testing.assert_array_equal(data(median)[1], before_median)
    np.testing.assert_array_equal(image.image, before_image)

    history.statistics_version += 1
    view.refresh(history)
    assert (median, image, view.profile_curves["baseline"]) == items  # same items, new data
    assert not np.array_equal(data(median)[1], before_median)
    assert not np.array_equal(image.image, before_image)


def test_a_reset_history_is_drawn_empty(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    history.reset(VARIANTS)
    view.refresh(history)
    assert view.stack.currentWidget() is view.hint
    assert view.heatmaps["baseline"].image is None
    assert len(data(view.activation_curves["baseline"][1])[0]) == 0


def test_set_variants_builds_items_once_per_set(view):
    view.set_variants(VARIANTS)
    items = (dict(view.activation_curves), dict(view.heatmaps), dict(view.profile_curves))
    view.set_variants(list(VARIANTS))  # the same set: nothing rebuilt
    assert (view.activation_curves, view.heatmaps, view.profile_curves) == items

    # One variant; the history is drawn into the new items at once.
    view.refresh(synthetic_history(VARIANTS[:1]))
    view.set_variants(VARIANTS[:1])
    assert list(view.activation_plots) == list(view.heatmaps) == list(view.profile_curves) == ["baseline"]
    assert view.heatmaps["baseline"].image.shape == (9, len(WEIGHT_LAYERS))
    view.same_scale.setChecked(False)  # a single plot to unlink
    assert len(data(view.activation_curves["baseline"][1])[0]) == 3


def test_every_variant_at_once_wraps_onto_rows_that_fit_the_width(qtbot, view):
    history = synthetic_history(VARIANT_IDS)
    view.set_variants(VARIANT_IDS)
    view.refresh(history)
    view.grab()
    count = len(VARIANT_IDS)
    assert len(view.activation_plots) == len(view.heatmaps) == len(view.profile_curves) == count
    layout = view.graphics.ci
    # Twenty variants: not ten columns of slivers in a 900-pixel view, but as many columns
    # as leave each its least width, and more rows.
    rows, columns = view._grid()
    assert rows > 2 and columns < -(-count // 2)
    assert columns * MIN_COLUMN_PX[False] <= PLOTS_SHARE * view.width()
    last = VARIANT_IDS[-1]
    assert layout.getItem((count - 1) // columns, (count - 1) % columns) is view.activation_plots[last]
    # A wider view takes more columns.
    view.resize(1800, 560)
    qtbot.waitUntil(lambda: view._built_columns is not None and view._built_columns > columns)
    view.refresh(history)
    assert view._built_columns == view._grid()[1]
    levels = tuple(view.color_bar.levels())
    assert all(tuple(image.getLevels()) == levels for image in view.heatmaps.values())


def test_activation_axes_are_linked_unless_unticked(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)
    first, second = (view.activation_plots[v].getViewBox() for v in VARIANTS)
    assert second.linkedView(second.YAxis) is first
    # The shared range covers every variant's band, not just the first plot's.
    low, high = first.viewRange()[1]
    for variant in VARIANTS:
        _, values = history.variants[variant].activation_series(DEFAULT_ACTIVATION_LAYER)
        assert low <= values.min() and values.max() <= high

    view.same_scale.setChecked(False)
    assert second.linkedView(second.YAxis) is None
    view.same_scale.setChecked(True)
    assert second.linkedView(second.YAxis) is first


def test_presentation_mode_draws_thicker_lines_and_bigger_text(view):
    history = synthetic_history()
    view.set_variants(VARIANTS)
    view.refresh(history)

    def median_width():
        return view.activation_curves["baseline"][1].opts["pen"].widthF()

    def tick_size():
        return view.heatmap_plots["baseline"].getAxis("left").style["tickFont"].pointSize()

    normal_width, normal_size = median_width(), tick_size()
    view.set_presentation_mode(True)
    assert median_width() > normal_width and tick_size() > normal_size
    assert view.font().pointSize() > 14
    # Rebuilt items are drawn at once, without waiting for new statistics.
    assert view.heatmaps["baseline"].image.shape == (9, len(WEIGHT_LAYERS))
    view.set_presentation_mode(False)
    assert median_width() == normal_width and tick_size() == normal_size


def test_a_hidden_view_builds_its_plots_only_when_shown(qtbot):
    # At launch the tab is hidden; building its plots then would delay the window.
    widget = NetworkView()
    qtbot.addWidget(widget)
    pair = ("baseline", "keras-conv-bn-relu")
    widget.set_variants(pair)
    assert widget.heatmaps == {}
    widget.show()
    qtbot.waitUntil(lambda: set(widget.heatmaps) == set(pair))


@pytest.mark.parametrize("count", [2, 10])
def test_every_batch_axis_labels_the_last_batch(qtbot, view, count):
    from PySide6.QtGui import QImage, QPainter

    variant_ids = VARIANT_IDS[:count]
    view.resize(1100, 600)
    view.set_variants(variant_ids)
    last = 275  # not a multiple of the tick spacing: only the end's own tick labels it
    view.refresh(synthetic_history(variant_ids, batches=last))
    # Activations are recorded every 100 batches (the last at 200), gradients every 25.
    plots = [(plot, 200) for plot in view.activation_plots.values()]
    plots += [(plot, last) for plot in view.heatmap_plots.values()]
    # The views fit their data at the next turn of the event loop.
    qtbot.waitUntil(lambda: all(plot.getAxis("bottom").range[1] >= end for plot, end in plots), timeout=2000)
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        for plot, end in plots:
            _, _, labels = plot.getAxis("bottom").generateDrawSpecs(painter)
            assert str(end) in {text for _, _, text in labels}
    finally:
        painter.end()


def lag_history():
    """A baseline and a BN variant, with the BN variant's lag every 100 batches: its first
    layer's variance ratio falls from 100 to 1.2, the others are 1; a mean shift of 0.5."""
    history = synthetic_history()
    for batch, ratio in ((0, 100.0), (100, 8.0), (200, 1.2)):
        ratios = (ratio,) + (1.0,) * (len(NONLINEAR_LAYERS) - 1)
        history.handle(events.BatchNormLag("keras-conv-bn-relu", batch, ratios,
                                           (0.5,) * len(NONLINEAR_LAYERS)))
    return history


def test_the_bn_lag_heatmap_shows_the_population_statistics_catching_up(view):
    view.set_variants(VARIANTS)
    view.refresh(lag_history())
    view.set_heatmap("variance")
    view.refresh(lag_history())
    assert view.heatmap_picker.currentData() == "variance"
    image = view.heatmaps["keras-conv-bn-relu"].image
    assert image.shape == (3, len(NONLINEAR_LAYERS))  # batches × BN layers
    np.testing.assert_allclose(image[:, 0], np.log10([100.0, 8.0, 1.2]))
    np.testing.assert_allclose(image[:, 1:], 0.0)
    assert view.heatmaps["baseline"].image is None  # no BN: nothing to lag behind
    low, high = view.color_bar.levels()
    assert low == -high and high >= 2  # centred on a ratio of 1, covering 100
    x, y = data(view.profile_curves["keras-conv-bn-relu"])
    assert y[0] == pytest.approx(1.2) and len(x) == len(NONLINEAR_LAYERS)

    view.set_heatmap("mean")
    view.refresh(lag_history())
    np.testing.assert_allclose(view.heatmaps["keras-conv-bn-relu"].image, np.log10(0.5))
    view.set_heatmap("gradients")
    view.refresh(lag_history())
    assert view.heatmaps["baseline"].image.shape[1] == len(WEIGHT_LAYERS)


@pytest.mark.parametrize("layers", [WEIGHT_LAYERS, NONLINEAR_LAYERS], ids=["weights", "bn"])
def test_layer_axes_label_the_ends_first_and_every_layer_once(layers):
    from bngui.gui.network_view import _layer_ticks

    levels = _layer_ticks(layers=layers)
    assert [name for _, name in levels[0]] == [layers[0], layers[-1]]
    assert [name for _, name in levels[1]] == ["conv10"]
    labelled = [index for level in levels for index, _ in level]
    assert sorted(labelled) == list(range(len(layers)))
    # Neighbours never share a level above the last, so they cannot overlap.
    for level in levels[:-1]:
        indices = sorted(index for index, _ in level)
        assert all(b - a > 1 for a, b in zip(indices, indices[1:]))
    compact = _layer_ticks(compact=True, layers=layers)
    assert [name for _, name in compact[1]] == ["10"]
