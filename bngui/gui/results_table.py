"""Per-variant results: state, validation, test and 100-sample accuracy, seconds."""

import math

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from bngui.core.variants import VARIANTS_BY_ID

COLUMNS = ("Variant", "State", "Training mode", "Validation", "Test", "100 samples", "Seconds")
TWO_LINE_HEADERS = ("Training mode", "100 samples")
TRAINING_MODE_TIP = (
    "Accuracy of the latest training batch as the training step sees it, with the"
    " batch's own statistics. The other columns are in inference mode."
)
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


class _NumberItem(QTableWidgetItem):
    """Sorts by the number it shows; empty cells sort first."""

    def __init__(self, value, text):
        super().__init__(text)
        self.value = value
        self.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)

    def __lt__(self, other):
        mine = -1.0 if self.value is None else self.value
        theirs = -1.0 if getattr(other, "value", None) is None else other.value
        return mine < theirs


def _accuracy_item(value):
    if value is None or not math.isfinite(value):
        return _NumberItem(None, "–")
    return _NumberItem(value, f"{value:.4f}")


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
    item.setText(item.text() + "  ⚠")
    item.setToolTip(tooltip)


class ResultsTable(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        # Two-word headers on two lines: the columns stay as narrow as their numbers.
        self.setHorizontalHeaderLabels([name.replace(" ", "\n") if name in TWO_LINE_HEADERS else name
                                        for name in COLUMNS])
        self.horizontalHeaderItem(COLUMNS.index("Training mode")).setToolTip(TRAINING_MODE_TIP)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.setAlternatingRowColors(True)
        header = self.horizontalHeader()
        # Every column as wide as its contents, so a variant's name is never cut
        # (with presentation-size fonts next to the panel, the table scrolls
        # sideways instead) and each number stays under its header.
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.setSortingEnabled(True)
        self._shown = None

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            # The header does not always inherit a new font (it did not when
            # presentation mode was restored at start-up): give it explicitly.
            self.horizontalHeader().setFont(self.font())

    def refresh(self, history):
        """Rewrite the rows from a ``RunHistory`` (only when it changed)."""
        snapshot = tuple(
            (
                record.variant,
                record.state,
                record.result,
                record.step_accuracy[-1] if record.step_accuracy else None,
            )
            for record in history.variants.values()
        )
        if snapshot == self._shown:
            return
        self._shown = snapshot
        self.setSortingEnabled(False)
        self.setRowCount(len(snapshot))
        for row, (variant_id, state, result, training_mode) in enumerate(snapshot):
            variant = VARIANTS_BY_ID[variant_id]
            name = QTableWidgetItem(variant.label)
            name.setForeground(QBrush(QColor(variant.color)))
            font = name.font()
            font.setBold(True)
            name.setFont(font)
            name.setToolTip(variant.id)
            state_item = QTableWidgetItem(state)
            if state in STATE_COLORS:
                state_item.setForeground(QBrush(QColor(STATE_COLORS[state])))
            training_item = _accuracy_item(training_mode)
            training_item.setToolTip(TRAINING_MODE_TIP)
            items = [name, state_item, training_item]
            if result is None:
                items += [_accuracy_item(None), _accuracy_item(None), _accuracy_item(None),
                          _NumberItem(None, "–")]
            else:
                single = _accuracy_item(result.single_sample_accuracy)
                if single_sample_flagged(result):
                    _flag(single, "Far below the test accuracy: single images are scored with the"
                          " wrong statistics (batch statistics at inference, or population"
                          " statistics never updated).")
                validation = _accuracy_item(result.validation_accuracy)
                if inference_gap_flagged(result, training_mode):
                    _flag(validation, "Far below the training-mode accuracy: in inference the"
                          " population statistics do not describe the trained network (never"
                          " updated, or still catching up).")
                items += [
                    validation,
                    _accuracy_item(result.test_accuracy),
                    single,
                    _NumberItem(result.train_seconds, f"{result.train_seconds:.1f}"),
                ]
            for column, item in enumerate(items):
                self.setItem(row, column, item)
        self.setSortingEnabled(True)
