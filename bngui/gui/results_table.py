"""Per-variant results: state, training-mode accuracy, validation, test and 100-sample accuracy, time.

The columns are defined in one list (``COLUMN_SPECS``) with short headers of at
most two lines, so the table fits beside the experiment panel at 1280 pixels in
presentation mode with room for more columns. The table always belongs to one
run: when the variants or settings change after it, ``set_previous_run`` greys
its rows (the window says so above it) until the next run starts.
"""

import math

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from bngui.core.history import summarize_seeds
from bngui.core.variants import VARIANTS_BY_ID
from bngui.gui.variant_names import compact_label, variant_label

CONTEXT = "ResultsTable"
TRAINING_MODE_TIP = QT_TRANSLATE_NOOP(
    "ResultsTable",
    "Accuracy of the latest training batch as the training step sees it, with the batch's own"
    " statistics (training mode). The other scores are in inference mode.")
# (name, header, tooltip) of every column, in order. The name is the column's
# key (and its English text on one line); headers break onto two lines at most.
COLUMN_SPECS = (
    ("Variant", QT_TRANSLATE_NOOP("ResultsTable", "Variant"), ""),
    ("State", QT_TRANSLATE_NOOP("ResultsTable", "State"), ""),
    ("Training mode", QT_TRANSLATE_NOOP("ResultsTable", "Training\nmode"), TRAINING_MODE_TIP),
    ("Validation", QT_TRANSLATE_NOOP("ResultsTable", "Validation"),
     QT_TRANSLATE_NOOP("ResultsTable", "Accuracy on the validation set at the end, inference mode")),
    ("Test", QT_TRANSLATE_NOOP("ResultsTable", "Test"),
     QT_TRANSLATE_NOOP("ResultsTable", "Accuracy on the test set at the end, inference mode")),
    ("100 samples", QT_TRANSLATE_NOOP("ResultsTable", "100\nsamples"),
     QT_TRANSLATE_NOOP("ResultsTable", "The first 100 test images scored one at a time, inference"
                       " mode: the notebook's check that inference uses the right statistics")),
    ("Precise BN", QT_TRANSLATE_NOOP("ResultsTable", "Precise BN\nval. / test"),
     QT_TRANSLATE_NOOP("ResultsTable", "Validation and test accuracy in inference mode after"
                       " precise BN re-estimated the population statistics with the weights"
                       " fixed")),
    ("Seconds", QT_TRANSLATE_NOOP("ResultsTable", "Seconds"),
     QT_TRANSLATE_NOOP("ResultsTable", "Training time of the variant")),
)
COLUMNS = tuple(name for name, _, _ in COLUMN_SPECS)
STATE_TEXTS = {
    "waiting": QT_TRANSLATE_NOOP("ResultsTable", "waiting"),
    "running": QT_TRANSLATE_NOOP("ResultsTable", "running"),
    "paused": QT_TRANSLATE_NOOP("ResultsTable", "paused"),
    "done": QT_TRANSLATE_NOOP("ResultsTable", "done"),
    "stopped": QT_TRANSLATE_NOOP("ResultsTable", "stopped"),
    "diverged": QT_TRANSLATE_NOOP("ResultsTable", "diverged"),
}
# A 100-sample accuracy this far below test accuracy means single images are
# scored with the wrong statistics (inference running in training mode, or
# population statistics that were never updated).
SINGLE_SAMPLE_GAP = 0.10
# Validation accuracy this far below the training step's own accuracy means the
# population statistics do not describe the trained network (never updated, or
# still catching up early in a run).
INFERENCE_GAP = 0.30
FLAG_COLOR = QColor("#ffd6d6")
STATE_COLORS = {"diverged": "#b00020", "stopped": "#8a6d00", "done": "#1b5e20"}
PREVIOUS_RUN_COLOR = QColor("#8c8c8c")
# Precise BN this much above the moving averages' score: their lag cost that much.
PRECISE_GAIN = 0.05
GAIN_COLOR = QColor("#d8f0d8")


def _translate(text):
    return QCoreApplication.translate(CONTEXT, text)


class _NumberItem(QTableWidgetItem):
    """Sorts by the number it shows; empty cells sort first."""

    def __init__(self, value, text):
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other):
        mine = -1.0 if self.value is None else self.value
        theirs = -1.0 if getattr(other, "value", None) is None else other.value
        return mine < theirs


def _accuracy_item(value):
    if value is None or not math.isfinite(value):
        return _NumberItem(None, "–")
    return _NumberItem(value, f"{value:.4f}")


def _pair_item(first, second):
    """Two accuracies in one cell ("0.9746 / 0.9753"), sorted by the first."""
    if first is None or not math.isfinite(first):
        return _NumberItem(None, "–")
    return _NumberItem(first, f"{first:.4f} / {second:.4f}")


def single_sample_flagged(result):
    if result is None:
        return False
    test, single = result.test_accuracy, result.single_sample_accuracy
    return math.isfinite(test) and math.isfinite(single) and single < test - SINGLE_SAMPLE_GAP


def inference_gap_flagged(result, training_mode_accuracy):
    if result is None or training_mode_accuracy is None:
        return False
    validation = result.validation_accuracy
    return math.isfinite(validation) and validation < training_mode_accuracy - INFERENCE_GAP


def _flag(item, tooltip):
    item.setBackground(QBrush(FLAG_COLOR))
    item.setText(item.text() + " ⚠")
    item.setToolTip(tooltip)


class ResultsTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([_translate(header) for _, header, _ in COLUMN_SPECS])
        for column, (_, _, tip) in enumerate(COLUMN_SPECS):
            if tip:
                self.horizontalHeaderItem(column).setToolTip(_translate(tip))
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        # Every column as wide as its contents, so a variant's name is never cut
        # and each number stays under its header.
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.setSortingEnabled(True)
        # Rows in the run's order until a header is clicked. Qt's sort arrow takes
        # room beside every header whether sorted or not: the sorted column's
        # header carries an arrow in its text instead.
        header.setSortIndicatorShown(False)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.sortIndicatorChanged.connect(self._show_sort_order)
        self.previous_run = False
        self._shown = None
        self._fit_minimum_height()

    def _show_sort_order(self, column, order):
        for index, (_, header, _) in enumerate(COLUMN_SPECS):
            text = _translate(header)
            if index == column:
                text += " ▲" if order == Qt.SortOrder.AscendingOrder else " ▼"
            self.horizontalHeaderItem(index).setText(text)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            # The header does not always inherit a new font (it did not when
            # presentation mode was restored at start-up): give it explicitly.
            self.horizontalHeader().setFont(self.font())
            self._fit_minimum_height()

    def _fit_minimum_height(self):
        """Never less than the header and two rows."""
        rows = 2 * (self.fontMetrics().height() + 8)
        self.setMinimumHeight(self.horizontalHeader().sizeHint().height() + rows + 2 * self.frameWidth())

    def set_previous_run(self, previous):
        """Grey the rows: they belong to a run whose variants or settings are no longer chosen."""
        if previous != self.previous_run:
            self.previous_run = previous
            self._shown = None  # rewritten at the next refresh, greyed or not

    def refresh(self, history):
        """Rewrite the rows from a ``RunHistory`` (only when it changed)."""
        by_seed = history.results_by_seed() if history.over_seeds else {}
        snapshot = tuple(
            (
                record.variant,
                record.state,
                record.result,
                record.step_accuracy[-1] if record.step_accuracy else None,
                tuple(by_seed.get(record.variant, ())),
            )
            for record in history.variants.values()
        )
        if snapshot == self._shown:
            return
        self._shown = snapshot
        self.setSortingEnabled(False)
        self.setRowCount(len(snapshot))
        for row, (variant_id, state, result, training_mode, seeds) in enumerate(snapshot):
            cells = self._row_items(VARIANTS_BY_ID[variant_id], state, result, training_mode)
            if len(seeds) > 1:
                self._show_over_seeds(cells, seeds)
            for column, name in enumerate(COLUMNS):
                item = cells[name]
                if self.previous_run:
                    item.setForeground(QBrush(PREVIOUS_RUN_COLOR))
                    font = item.font()
                    font.setItalic(True)
                    item.setFont(font)
                self.setItem(row, column, item)
        self.setSortingEnabled(True)
        self.horizontalHeader().setSortIndicatorShown(False)  # enabling sorting shows it again

    def _row_items(self, variant, state, result, training_mode):
        """{column name: item} of one variant's row."""
        name = QTableWidgetItem(compact_label(variant))
        name.setForeground(QBrush(QColor(variant.color)))
        font = name.font()
        font.setBold(True)
        name.setFont(font)
        name.setToolTip(variant.id)
        name.setData(Qt.ItemDataRole.AccessibleTextRole, variant_label(variant))
        state_item = QTableWidgetItem(_translate(STATE_TEXTS.get(str(state), str(state))))
        state_item.setData(Qt.ItemDataRole.UserRole, str(state))
        if state in STATE_COLORS:
            state_item.setForeground(QBrush(QColor(STATE_COLORS[state])))
        training_item = _accuracy_item(training_mode)
        training_item.setToolTip(_translate(TRAINING_MODE_TIP))
        cells = {"Variant": name, "State": state_item, "Training mode": training_item}
        if result is None:
            cells.update({name: _accuracy_item(None) for name in (
                "Validation", "Test", "100 samples", "Precise BN")})
            cells["Seconds"] = _NumberItem(None, "–")
            return cells
        single = _accuracy_item(result.single_sample_accuracy)
        if single_sample_flagged(result):
            _flag(single, self.tr("Far below the test accuracy: single images are scored with the"
                                  " wrong statistics (batch statistics at inference, or population"
                                  " statistics never updated)."))
        validation = _accuracy_item(result.validation_accuracy)
        if inference_gap_flagged(result, training_mode):
            _flag(validation, self.tr("Far below the training-mode accuracy: in inference the"
                                      " population statistics do not describe the trained network"
                                      " (never updated, or still catching up)."))
        cells.update({
            "Validation": validation,
            "Test": _accuracy_item(result.test_accuracy),
            "100 samples": single,
            "Precise BN": _pair_item(result.precise_validation_accuracy,
                                     result.precise_test_accuracy),
            "Seconds": _NumberItem(result.train_seconds, f"{result.train_seconds:.1f}"),
        })
        ema, precise = result.validation_accuracy, result.precise_validation_accuracy
        if math.isfinite(ema) and math.isfinite(precise) and precise >= ema + PRECISE_GAIN:
            item = cells["Precise BN"]
            item.setBackground(QBrush(GAIN_COLOR))
            item.setToolTip(self.tr(
                "{points:.1f} points above the moving averages' score: with the same weights,"
                " only the population statistics differ; the moving averages lagged behind"
                " the training.").format(points=100 * (precise - ema)))
        return cells

    def _show_over_seeds(self, cells, seeds):
        """Scores of a run over several seeds: mean ± standard deviation, the worst in the tip."""
        summary = summarize_seeds(list(seeds))
        for column, score in (("Validation", "validation_accuracy"), ("Test", "test_accuracy"),
                              ("100 samples", "single_sample_accuracy"),
                              ("Precise BN", "precise_validation_accuracy")):
            if score not in summary:
                continue
            s = summary[score]
            item = _NumberItem(s.mean, f"{s.mean:.4f} ±{s.sd:.3f}")
            item.setToolTip(self.tr("Mean ± standard deviation over {count} seeds; the worst:"
                                    " {worst:.4f} (seed {seed})").format(
                count=s.count, worst=s.worst, seed=s.worst_seed))
            cells[column] = item
