"""The results table: one row per variant, the 100-sample warning, numeric sorting."""

import math

import pytest
from PySide6.QtCore import Qt

from bngui.core import events
from bngui.core.history import RunHistory
from bngui.gui.results_table import (
    COLUMNS,
    FLAG_COLOR,
    GAIN_COLOR,
    ResultsTable,
    single_sample_flagged,
)

TEST = COLUMNS.index("Test")
SINGLE = COLUMNS.index("100 samples")
SECONDS = COLUMNS.index("Seconds")
NAN = math.nan


def finished(variant, test, single, seconds=10.0, status=events.DONE, validation=0.95):
    return events.VariantFinished(variant, status, validation, test, single, seconds)


@pytest.fixture
def table(qtbot):
    widget = ResultsTable()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def show(table, *records, waiting=()):
    history = RunHistory([record.variant for record in records] + list(waiting))
    for record in records:
        history.handle(record)
    table.refresh(history)
    return history


def row_of(table, variant):
    for row in range(table.rowCount()):
        if table.item(row, 0).toolTip() == variant:
            return row
    raise AssertionError(f"no row for {variant}")


def column_order(table, column=0):
    return [table.item(row, column).toolTip() for row in range(table.rowCount())]


def test_single_sample_far_below_test_is_flagged(table):
    show(table,
         finished("baseline", test=0.97, single=0.96),
         finished("keras-conv-bn-relu", test=0.97, single=0.30))

    assert single_sample_flagged(finished("x", 0.97, 0.30))
    assert not single_sample_flagged(finished("x", 0.97, 0.96))
    assert not single_sample_flagged(finished("x", NAN, NAN, status=events.STOPPED))
    assert not single_sample_flagged(None)

    flagged = table.item(row_of(table, "keras-conv-bn-relu"), SINGLE)
    assert "⚠" in flagged.text() and flagged.text().startswith("0.3000")
    assert flagged.background().color() == FLAG_COLOR
    assert "wrong statistics" in flagged.toolTip()
    fine = table.item(row_of(table, "baseline"), SINGLE)
    assert fine.text() == "0.9600" and "⚠" not in fine.text()
    assert fine.toolTip() == ""


def test_rows_show_state_and_numbers(table):
    show(table,
         finished("baseline", test=0.9712, single=0.97, seconds=12.34),
         finished("nn-conv-bn-relu", test=NAN, single=NAN, status=events.STOPPED),
         waiting=["keras-conv-bn-relu"])
    cells = {variant: [table.item(row_of(table, variant), c).text() for c in range(len(COLUMNS))]
             for variant in ("baseline", "nn-conv-bn-relu", "keras-conv-bn-relu")}
    assert cells["baseline"][1:] == ["done", "–", "0.9500", "0.9712", "0.9700", "–", "12.3"]
    assert cells["nn-conv-bn-relu"][1:6] == ["stopped", "–", "0.9500", "–", "–"]
    assert cells["keras-conv-bn-relu"][1:] == ["waiting", "–", "–", "–", "–", "–", "–"]


def test_sorting_by_test_and_seconds_is_numeric(table):
    show(table,
         finished("baseline", test=0.5, single=0.5, seconds=9.0),
         finished("keras-conv-bn-relu", test=0.97, single=0.96, seconds=100.0),
         finished("nn-conv-bn-relu", test=NAN, single=NAN, seconds=12.5, status=events.STOPPED),
         finished("keras-conv-relu-bn", test=0.1, single=0.1, seconds=10.5))

    table.sortByColumn(TEST, Qt.AscendingOrder)
    # Empty (stopped) first, then by value: as text "–" would sort last.
    assert column_order(table) == ["nn-conv-bn-relu", "keras-conv-relu-bn", "baseline", "keras-conv-bn-relu"]
    table.sortByColumn(TEST, Qt.DescendingOrder)
    assert column_order(table) == ["keras-conv-bn-relu", "baseline", "keras-conv-relu-bn", "nn-conv-bn-relu"]

    # As text "100.0" < "12.5" < "9.0"; as numbers the other way round.
    table.sortByColumn(SECONDS, Qt.AscendingOrder)
    assert column_order(table) == ["baseline", "keras-conv-relu-bn", "nn-conv-bn-relu", "keras-conv-bn-relu"]


def test_sorting_survives_a_refresh(table):
    records = [finished("baseline", test=0.5, single=0.5),
               finished("keras-conv-bn-relu", test=0.97, single=0.96)]
    show(table, *records)
    table.sortByColumn(TEST, Qt.DescendingOrder)
    assert column_order(table) == ["keras-conv-bn-relu", "baseline"]
    show(table, records[0], finished("keras-conv-bn-relu", test=0.2, single=0.2))
    assert column_order(table) == ["baseline", "keras-conv-bn-relu"]
    # Every cell of a row belongs to the same variant after the re-sort.
    for row in range(table.rowCount()):
        variant = table.item(row, 0).toolTip()
        expected = "0.5000" if variant == "baseline" else "0.2000"
        assert table.item(row, TEST).text() == expected


def test_an_unchanged_history_is_not_rewritten(table):
    history = show(table, finished("baseline", test=0.9, single=0.9))
    item = table.item(0, TEST)
    history.handle(events.Progress(5, 10, 100.0, 1.0))  # no change to the rows
    table.refresh(history)
    assert table.item(0, TEST) is item


def step_statistics(variant, accuracy, batch=775):
    return events.TrainingBatchStatistics(variant, batch, 0.05, accuracy, (1.0,) * 21)


def test_training_mode_column_and_inference_gap_flag(table):
    history = RunHistory(["keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats"])
    history.handle(step_statistics("keras-conv-bn-relu", 0.96875))
    history.handle(step_statistics("keras-conv-bn-relu-frozen-stats", 0.953125))
    table.refresh(history)
    training = COLUMNS.index("Training mode")
    validation = COLUMNS.index("Validation")
    # Live, before any result: the training step's own accuracy.
    assert table.item(row_of(table, "keras-conv-bn-relu"), training).text() == "0.9688"
    history.handle(finished("keras-conv-bn-relu", test=0.97, single=0.97, validation=0.96))
    history.handle(finished("keras-conv-bn-relu-frozen-stats", test=0.1, single=0.1, validation=0.1))
    table.refresh(history)
    broken = table.item(row_of(table, "keras-conv-bn-relu-frozen-stats"), validation)
    assert "⚠" in broken.text() and "population statistics" in broken.toolTip()
    assert broken.background().color() == FLAG_COLOR
    fine = table.item(row_of(table, "keras-conv-bn-relu"), validation)
    assert fine.text() == "0.9600"


def test_names_are_never_cut_and_the_header_follows_the_font(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    holder = QWidget()
    qtbot.addWidget(holder)
    table = ResultsTable()
    QVBoxLayout(holder).addWidget(table)
    holder.resize(700, 200)
    holder.show()
    history = RunHistory(("keras-conv-bn-relu", "baseline"))
    table.refresh(history)
    # Presentation size, as the main window sets it on itself.
    font = holder.font()
    font.setPointSize(20)
    holder.setFont(font)
    qtbot.waitUntil(lambda: table.horizontalHeader().font().pointSize() == 20)
    name = table.item(0, 0)
    needed = table.fontMetrics().horizontalAdvance(name.text())
    assert table.columnWidth(0) >= needed
    assert table.horizontalHeaderItem(COLUMNS.index("Training mode")).text() == "Training\nmode"


def test_columns_come_from_one_list_with_short_headers(table):
    from bngui.gui.results_table import COLUMN_SPECS

    assert tuple(name for name, _, _ in COLUMN_SPECS) == COLUMNS
    for column, (_, header, tip) in enumerate(COLUMN_SPECS):
        item = table.horizontalHeaderItem(column)
        assert item.text() == header and header.count("\n") <= 1
        assert item.toolTip() == tip
    assert "inference mode" in table.horizontalHeaderItem(COLUMNS.index("Validation")).toolTip()


def test_rows_keep_the_runs_order_and_a_sorted_header_shows_its_arrow(table):
    records = [finished("keras-conv-bn-relu", test=0.97, single=0.96),
               finished("baseline", test=0.5, single=0.5)]
    show(table, *records)
    assert column_order(table) == ["keras-conv-bn-relu", "baseline"]  # as the run lists them
    assert not table.horizontalHeader().isSortIndicatorShown()  # it would widen every header
    table.sortByColumn(TEST, Qt.AscendingOrder)
    assert table.horizontalHeaderItem(TEST).text() == "Test ▲"
    table.sortByColumn(TEST, Qt.DescendingOrder)
    assert table.horizontalHeaderItem(TEST).text() == "Test ▼"
    assert table.horizontalHeaderItem(SECONDS).text() == "Seconds"


def test_the_previous_runs_rows_are_greyed(table):
    from bngui.gui.results_table import PREVIOUS_RUN_COLOR

    history = show(table, finished("baseline", test=0.5, single=0.5))
    assert table.item(0, TEST).foreground().color() != PREVIOUS_RUN_COLOR
    table.set_previous_run(True)
    table.refresh(history)
    for column in range(len(COLUMNS)):
        item = table.item(0, column)
        assert item.foreground().color() == PREVIOUS_RUN_COLOR and item.font().italic()
    table.set_previous_run(False)
    table.refresh(history)
    assert table.item(0, TEST).foreground().color() != PREVIOUS_RUN_COLOR


@pytest.mark.parametrize("point_size, width", [(9, 1280), (17, 1280)])
def test_all_columns_fit_a_1280_pixel_window_at_presentation_size(qtbot, point_size, width):
    """The worst case: the longest names, flagged cells and a diverged state in every row."""
    from bngui.core.variants import VARIANT_IDS

    table = ResultsTable()
    qtbot.addWidget(table)
    font = table.font()
    font.setPointSize(point_size)
    table.setFont(font)
    table.resize(width, 300)
    table.show()
    history = RunHistory(VARIANT_IDS)
    for variant in VARIANT_IDS:
        history.handle(step_statistics(variant, 0.96875))
        history.handle(finished(variant, test=0.97, single=0.1, validation=0.1, seconds=1234.5,
                                status=events.DIVERGED))
    table.refresh(history)
    qtbot.waitUntil(lambda: table.horizontalHeader().length() > 0, timeout=2000)
    assert table.horizontalScrollBar().maximum() == 0
    # Room left for another column of numbers.
    assert table.horizontalHeader().length() <= 0.95 * table.viewport().width()


def test_precise_bn_and_seeds_in_the_table(qtbot):
    """The precise-BN column, highlighted where the moving averages lagged; a run over seeds
    shows mean ± standard deviation with the worst seed in the tooltip."""
    import dataclasses

    table = ResultsTable()
    qtbot.addWidget(table)
    history = RunHistory(["keras-conv-bn-relu"])
    history.handle(events.RunStarted(("keras-conv-bn-relu",), 10, 64, (0, 1)))
    column = COLUMNS.index("Precise BN")
    for seed, (ema, precise) in zip((0, 1), ((0.60, 0.95), (0.90, 0.97))):
        history.handle(events.SeedStarted(seed))
        record = finished("keras-conv-bn-relu", test=ema, single=ema, validation=ema, seconds=1.0)
        history.handle(dataclasses.replace(record, precise_validation_accuracy=precise,
                                           precise_test_accuracy=precise))
        if seed == 0:
            single = RunHistory(["keras-conv-bn-relu"])
            single.handle(dataclasses.replace(record, precise_validation_accuracy=precise,
                                              precise_test_accuracy=precise))
            table.refresh(single)
            assert table.item(0, column).text() == "0.9500 / 0.9500"
            assert table.item(0, column).background().color() == GAIN_COLOR  # 35 points gained
    table.refresh(history)
    validation = table.item(0, COLUMNS.index("Validation"))
    assert validation.text() == "0.7500 ±0.212"
    assert "seed 0" in validation.toolTip() and "0.6000" in validation.toolTip()
    assert table.item(0, column).text().startswith("0.9600 ±")
