"""One row per model: its colour, name, predicted digit, confidence and ten bars.

Rows are painted directly with QPainter (no child widgets), so showing ten
models' predictions costs well under a millisecond, and every size follows the
widget's font: presentation mode (a bigger font) makes digits and bars bigger.
"""

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

from bngui.core.predict import uses_batch_statistics
from bngui.core.variants import UnknownVariantError, model_info
from bngui.gui.variant_names import model_label

CONTEXT = "PredictionsWidget"
SCORES_TOOLTIP = QT_TRANSLATE_NOOP(
    "PredictionsWidget",
    "Scores are softmax(logits): the ten bars of a model sum to 100%, and the confidence"
    " is the tallest bar.\nThe models were trained with the notebook's sigmoid loss, which"
    " scores each digit on its own; softmax of the same logits keeps their order and makes"
    " models comparable.\n`bngui classify` reports the same numbers."
)
BUG_DETAIL = QT_TRANSLATE_NOOP("PredictionsWidget", "batch statistics: the bug")
BUG_COLOR = QColor("#c62828")
BUG_BACKGROUND = QColor("#fdeaea")
MUTED = QColor("#6b6b6b")
GRID = QColor("#d0d0d0")
ROW_SPACING = 4
WIDE_ROW_LINES = 30  # rows at least this many text lines wide use the one-line layout
# Row heights in text lines: rows share the available height within these bounds.
MIN_ROW_LINES = 3.4
MIN_NARROW_ROW_LINES = 5.0
MAX_ROW_LINES = 9.0


def _tr(text):
    return QCoreApplication.translate(CONTEXT, text)


def _lighter(color, amount):
    """``color`` blended towards white by ``amount`` (0 = unchanged, 1 = white)."""
    return QColor(
        round(color.red() + (255 - color.red()) * amount),
        round(color.green() + (255 - color.green()) * amount),
        round(color.blue() + (255 - color.blue()) * amount),
    )


def _fits(font, rect, flags, text):
    """Whether ``text``, wrapped with ``flags``, fits ``rect`` in ``font``."""
    needed = QFontMetricsF(font).boundingRect(QRectF(0, 0, rect.width(), 1e6), flags, text)
    return needed.height() <= rect.height() + 0.5 and needed.width() <= rect.width() + 0.5


def _fitted(font, rect, flags, text, smallest=0.7):
    """``font``, made smaller (down to ``smallest`` of its size) until ``text`` fits ``rect``:
    a name is never cut off at the top or the bottom of its row."""
    for scale in (1.0, 0.9, 0.8, smallest):
        fitted = QFont(font)
        fitted.setPointSizeF(font.pointSizeF() * scale)
        if _fits(fitted, rect, flags, text):
            return fitted
    return fitted


def is_wide(width, font):
    """Whether a row this wide fits name, digit, confidence and bars on one line."""
    return width >= QFontMetricsF(font).height() * WIDE_ROW_LINES


class _Layout:
    """Where each part of a row goes, for a row of a given size and font.

    Wide rows: stripe | name over source | digit | confidence | bars.
    Narrow rows: stripe | digit | name, source, then confidence and bars below.
    """

    def __init__(self, width, height, font):
        unit = QFontMetricsF(font).height()
        self.unit = unit
        pad = unit * 0.3
        self.wide = is_wide(width, font)
        self.stripe = QRectF(0, pad, unit * 0.45, height - 2 * pad)
        self.digit_font = QFont(font)
        self.digit_font.setBold(True)
        self.confidence_font = QFont(font)
        self.confidence_font.setPointSizeF(font.pointSizeF() * 1.35)
        self.confidence_font.setBold(True)
        confidence_width = QFontMetricsF(self.confidence_font).horizontalAdvance("100%") + unit * 0.4
        x = unit * 0.8
        if self.wide:
            name_width = min(max(unit * 9, width * 0.30), unit * 15)
            self.name = QRectF(x, pad, name_width, height * 0.62 - pad)
            self.detail = QRectF(x, height * 0.62, name_width, height * 0.38 - pad / 2)
            x += name_width + unit * 0.5
            digit_size = height * 0.78
            digit_width = height * 0.75
            self.digit = QRectF(x, 0, digit_width, height)
            x += digit_width + unit * 0.3
            self.confidence = QRectF(x, 0, confidence_width, height)
            x += confidence_width + unit * 0.8
            bars = QRectF(x, pad, max(0.0, width - x - pad), height - 2 * pad)
        else:
            digit_size = min(height * 0.78, width * 0.22)
            digit_width = digit_size * 0.95
            self.digit = QRectF(x, 0, digit_width, height)
            x += digit_width + unit * 0.5
            text_width = max(0.0, width - x - pad)
            # The name may take two lines; then the source line gives way.
            self.name = QRectF(x, pad, text_width, unit * 2.3)
            self.detail = QRectF(x, pad + unit * 1.2, text_width, unit * 1.1)
            top = pad + unit * 2.4
            self.confidence = QRectF(x, top, confidence_width, height - top - pad)
            bars_left = x + confidence_width + unit * 0.5
            bars = QRectF(bars_left, top, max(0.0, width - bars_left - pad), height - top - pad)
        self.digit_font.setPixelSize(max(8, round(digit_size)))
        self.label_height = unit * 1.05
        self.chart = QRectF(bars.left(), bars.top(), bars.width(),
                            max(0.0, bars.height() - self.label_height))
        self.slot = self.chart.width() / 10
        self.bar_width = self.slot * 0.72
        self.has_bars = bars.width() >= 30 and self.chart.height() >= 4
        self.label_font = QFont(font)
        self.label_font.setPointSizeF(font.pointSizeF() * 0.9)
        self.bold_label_font = QFont(self.label_font)
        self.bold_label_font.setBold(True)

    def label_cell(self, index):
        return QRectF(self.chart.left() + index * self.slot, self.chart.bottom(), self.slot,
                      self.label_height)

    def bar(self, index, value):
        height = max(value * self.chart.height(), 1.0)
        left = self.chart.left() + index * self.slot + (self.slot - self.bar_width) / 2
        return QRectF(left, self.chart.bottom() - height, self.bar_width, height)


class PredictionRow(QWidget):
    """One model's prediction.

    What changes only with the row's size, font, source or mode (name, colour
    stripe, bar labels) is painted once into a cached pixmap; a new prediction
    repaints just the digit, the confidence and ten rectangles.
    """

    def __init__(self, variant_id, source_text="", parent=None):
        super().__init__(parent)
        self.variant_id = variant_id
        try:
            color = model_info(variant_id).color
            self.label = model_label(variant_id)
        except UnknownVariantError:
            self.label, color = variant_id, "#555555"
        self.color = QColor(color)
        self.muted_color = _lighter(self.color, 0.45)
        self.digit_color = self.color.darker(125)
        self.source_text = source_text
        self.probabilities = None
        self._values = None
        self.batch_statistics = False
        self._static = None
        self._static_key = None
        self._layout = None
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip(f"{self.label} ({variant_id})\n\n{_tr(SCORES_TOOLTIP)}")

    @property
    def digit(self):
        return None if self.probabilities is None else int(np.argmax(self.probabilities))

    @property
    def confidence(self):
        return None if self.probabilities is None else float(np.max(self.probabilities))

    def set_prediction(self, probabilities, batch_statistics=False):
        if probabilities is None:
            self.probabilities = self._values = None
        else:
            self.probabilities = np.asarray(probabilities, dtype=float)
            self._values = np.clip(self.probabilities, 0.0, 1.0).tolist()
        self.batch_statistics = bool(batch_statistics) and uses_batch_statistics(
            self.variant_id, True
        )
        self.update()

    def _unit(self):
        return QFontMetricsF(self.font()).height()

    def sizeHint(self):
        unit = self._unit()
        return QSize(round(unit * 30), round(unit * MIN_ROW_LINES))

    def minimumSizeHint(self):
        unit = self._unit()
        return QSize(round(unit * 12), round(unit * MIN_ROW_LINES))

    def _static_pixmap(self):
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio, self.font().key(), self.batch_statistics,
               self.source_text, self.palette().cacheKey())
        if key == self._static_key:
            return self._static
        layout = self._layout = _Layout(self.width(), self.height(), self.font())
        pixmap = QPixmap(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(BUG_BACKGROUND if self.batch_statistics else Qt.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.Antialiasing, True)
        painter.fillRect(layout.stripe, self.color)
        name_font = QFont(self.font())
        name_font.setBold(True)
        painter.setFont(name_font)
        painter.setPen(self.palette().color(self.foregroundRole()))
        show_detail = True
        if layout.wide:
            name_rect, flags = layout.name, Qt.AlignLeft | Qt.AlignBottom | Qt.TextWordWrap
            if not _fits(name_font, name_rect, flags, self.label):
                # A long name (a precise-BN twin, a small row) takes the source line's room too.
                name_rect = QRectF(layout.name.left(), layout.stripe.top(), layout.name.width(),
                                   layout.stripe.height())
                flags, show_detail = Qt.AlignLeft | Qt.AlignVCenter | Qt.TextWordWrap, False
        else:
            name_rect, flags = layout.name, Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap
            show_detail = QFontMetricsF(name_font).horizontalAdvance(self.label) <= layout.name.width()
        painter.setFont(_fitted(name_font, name_rect, flags, self.label))
        painter.drawText(name_rect, flags, self.label)
        small = QFont(self.font())
        small.setPointSizeF(self.font().pointSizeF() * 0.85)
        painter.setFont(small)
        painter.setPen(BUG_COLOR if self.batch_statistics else MUTED)
        detail = _tr(BUG_DETAIL) if self.batch_statistics else self.source_text
        detail = QFontMetricsF(small).elidedText(detail, Qt.ElideRight, layout.detail.width())
        if show_detail:
            painter.drawText(layout.detail, Qt.AlignLeft | Qt.AlignTop | Qt.TextSingleLine, detail)
        if layout.has_bars:
            painter.setPen(QPen(GRID, 1))
            painter.drawLine(layout.chart.bottomLeft(), layout.chart.bottomRight())
            painter.setFont(layout.label_font)
            painter.setPen(MUTED)
            for index in range(10):
                painter.drawText(layout.label_cell(index), Qt.AlignCenter, str(index))
        painter.end()
        self._static, self._static_key = pixmap, key
        return pixmap

    def paintEvent(self, event):
        static = self._static_pixmap()
        layout = self._layout
        painter = QPainter(self)
        painter.drawPixmap(0, 0, static)
        if self._values is None:  # no prediction: a small dash, not a big bar-like one
            painter.setFont(layout.confidence_font)
            painter.setPen(MUTED)
            painter.drawText(layout.digit, Qt.AlignCenter, "–")
            painter.end()
            return
        digit = self.digit
        painter.setFont(layout.digit_font)
        painter.setPen(self.digit_color)
        painter.drawText(layout.digit, Qt.AlignCenter, str(digit))
        foreground = self.palette().color(self.foregroundRole())
        painter.setFont(layout.confidence_font)
        painter.setPen(foreground)
        painter.drawText(layout.confidence, Qt.AlignRight | Qt.AlignVCenter, f"{self._values[digit]:.0%}")
        if layout.has_bars:
            for index, value in enumerate(self._values):
                painter.fillRect(layout.bar(index, value), self.color if index == digit else self.muted_color)
            # The winning digit's label, bold and dark, over the grey one.
            cell = layout.label_cell(digit)
            painter.setFont(layout.bold_label_font)
            painter.drawText(cell, Qt.AlignCenter, str(digit))
        painter.end()


class PredictionsWidget(QWidget):
    """The rows for every available model, or a hint when there is nothing to show."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = {}
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAlignment(Qt.AlignCenter)
        self.hint.setObjectName("predictionsHint")
        self._rows_box = QWidget()
        self._rows_layout = QVBoxLayout(self._rows_box)
        self._rows_layout.setContentsMargins(0, 0, 0, 0)
        self._rows_layout.setSpacing(ROW_SPACING)
        self._rows_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(self._rows_box)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        scroll.viewport().setAutoFillBackground(False)
        self._rows_box.setAutoFillBackground(False)
        self.scroll = scroll
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(scroll, 1)
        self.setToolTip(_tr(SCORES_TOOLTIP))
        self.show_hint("")

    def set_models(self, models):
        """``models``: a list of ``(variant_id, source_text)`` in display order."""
        for row in self.rows.values():
            self._rows_layout.removeWidget(row)
            row.hide()  # a nested event loop deletes nothing later, but may paint
            row.deleteLater()
        self.rows = {}
        for index, (variant_id, source_text) in enumerate(models):
            row = PredictionRow(variant_id, source_text)
            # Rows made after a style sheet was set on the window would not
            # inherit its font (presentation mode): hand it down explicitly.
            row.setFont(self.font())
            self.rows[variant_id] = row
            self._rows_layout.insertWidget(index, row)
        self._fit_rows()

    def _fit_rows(self):
        """Share the visible height between the rows, within readable bounds."""
        if not self.rows:
            return
        unit = QFontMetricsF(self.font()).height()
        available = self.scroll.viewport().height() - ROW_SPACING * (len(self.rows) - 1)
        wide = is_wide(self.scroll.viewport().width(), self.font())
        minimum = unit * (MIN_ROW_LINES if wide else MIN_NARROW_ROW_LINES)
        height = min(max(available / len(self.rows), minimum), unit * MAX_ROW_LINES)
        for row in self.rows.values():
            row.setFixedHeight(round(height))

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._fit_rows()

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.FontChange:
            for row in self.rows.values():
                row.setFont(self.font())
            self._fit_rows()

    def show_predictions(self, probabilities, batch_statistics=False):
        """Show ``{variant_id: ten probabilities}``; rows without one show a dash."""
        if self.hint.isVisible():
            self.hint.hide()
            self._fit_rows()
        for variant_id, row in self.rows.items():
            row.set_prediction(probabilities.get(variant_id), batch_statistics)

    def show_hint(self, text):
        """Clear every row's prediction and show ``text`` above them."""
        for row in self.rows.values():
            row.set_prediction(None)
        self.hint.setText(text)
        self.hint.setVisible(bool(text))
        self._fit_rows()

    def predicted_digits(self):
        """``{variant_id: digit or None}`` as currently shown (for tests)."""
        return {variant_id: row.digit for variant_id, row in self.rows.items()}
