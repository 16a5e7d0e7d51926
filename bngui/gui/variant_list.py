"""The variant list beside the plots: the legend, and the way to hide, show and highlight.

Modelled on TensorBoard's run selector: one row per variant of the run, with a
sample of its line (colour and dash pattern) and its name under its group's
heading. Clicking a row (or Space on it) hides or shows the variant's curves;
pointing at it (or giving it the focus) highlights them in every panel. The
plots carry no legend box over the data.
"""

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from bngui.core.variants import VARIANTS_BY_ID
from bngui.gui.plot_style import MUTED_COLOR, line_swatch
from bngui.gui.variant_names import name_in_group, short_group_title, variant_label, variants_by_group
from bngui.gui.widget_style import set_emphasis, set_text_color

HIDDEN_TEXT_COLOR = "#9a9a9a"
HOVER_BACKGROUND = QColor(0, 0, 0, 22)
# Names wrap beyond this many average characters, so the list stays narrow.
NAME_CHARS = 22


class VariantRow(QWidget):
    """One variant: its line sample and its name. ``toggled`` on click or Space."""

    toggled = Signal(str)
    hovered = Signal(str, bool)  # variant id, entered (True) or left (False)

    def __init__(self, variant, parent=None):
        super().__init__(parent)
        self.variant = variant
        self.hidden = False
        self._pointed = False
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.swatch = QLabel()
        self.swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # A zero-width space after each arrow: a long name may wrap there.
        self.name = QLabel(name_in_group(variant).replace("→", "→\u200b"))
        self.name.setWordWrap(True)
        layout.addWidget(self.swatch, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.name, 1)
        self.setToolTip(self.tr("{label}\nClick to hide or show its curves; point at it to highlight"
                                " them.").format(label=variant_label(variant)))
        self._restyle()

    def set_hidden(self, hidden):
        if hidden != self.hidden:
            self.hidden = hidden
            self._restyle()

    def _restyle(self):
        height = self.fontMetrics().height()
        self.swatch.setPixmap(line_swatch(self.variant, int(2.4 * height), height,
                                          max(2.5, height / 6), faded=self.hidden))
        self.swatch.setFixedSize(int(2.4 * height), height)
        font = QFont()  # nothing else set: the size follows the window's (presentation mode)
        font.setStrikeOut(self.hidden)
        self.name.setFont(font)
        palette = self.name.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(HIDDEN_TEXT_COLOR) if self.hidden
                         else self.palette().color(QPalette.ColorRole.WindowText))
        self.name.setPalette(palette)
        self.setAccessibleName(self.tr("{label}, hidden").format(label=variant_label(self.variant))
                               if self.hidden else variant_label(self.variant))

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._restyle()

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self.toggled.emit(self.variant.id)
            event.accept()
        else:
            super().mousePressEvent(event)

    def keyPressEvent(self, event):
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.toggled.emit(self.variant.id)
        else:
            super().keyPressEvent(event)

    def _set_pointed(self, pointed):
        if pointed != self._pointed:
            self._pointed = pointed
            self.update()
            self.hovered.emit(self.variant.id, pointed)

    def enterEvent(self, event):
        self._set_pointed(True)
        super().enterEvent(event)

    def leaveEvent(self, event):
        self._set_pointed(self.hasFocus())
        super().leaveEvent(event)

    def focusInEvent(self, event):
        self._set_pointed(True)
        super().focusInEvent(event)

    def focusOutEvent(self, event):
        self._set_pointed(self.underMouse())
        super().focusOutEvent(event)

    def paintEvent(self, event):
        if self._pointed:
            painter = QPainter(self)
            painter.fillRect(self.rect(), HOVER_BACKGROUND)
            painter.end()
        super().paintEvent(event)


class VariantList(QWidget):
    """``hidden_changed(frozenset)`` when the user hides or shows a variant;
    ``highlighted(id)`` while one is pointed at, ``highlighted("")`` after."""

    hidden_changed = Signal(object)
    highlighted = Signal(str)
    width_changed = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.variant_ids = ()
        self.hidden = frozenset()
        self.rows = {}
        self._headers = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 4, 4)
        layout.setSpacing(2)
        self.title = QLabel(self.tr("Variants"))
        set_emphasis(self.title, bold=True)
        layout.addWidget(self.title)
        self.hint = QLabel(self.tr("Click to hide or show, point to highlight."))
        self.hint.setWordWrap(True)
        set_text_color(self.hint, MUTED_COLOR)
        layout.addWidget(self.hint)
        self._rows_layout = QVBoxLayout()
        self._rows_layout.setSpacing(0)
        layout.addLayout(self._rows_layout)
        self.show_all_button = QPushButton(self.tr("Show all"))
        self.show_all_button.clicked.connect(lambda: self._set_hidden(frozenset()))
        self.show_all_button.setVisible(False)
        layout.addWidget(self.show_all_button)
        self.key = QLabel()
        self.key.setWordWrap(True)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        set_text_color(self.key, MUTED_COLOR)
        layout.addSpacing(6)
        layout.addWidget(self.key)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self._fit_width()

    def set_variants(self, variant_ids):
        """One row per variant, under group headings; hidden ones stay hidden if still listed."""
        variant_ids = tuple(variant_ids)
        if variant_ids == self.variant_ids:
            return
        self.variant_ids = variant_ids
        for widget in [*self.rows.values(), *self._headers]:
            self._rows_layout.removeWidget(widget)
            widget.hide()  # a nested event loop deletes nothing later, but may paint
            widget.deleteLater()
        self.rows, self._headers = {}, []
        for group, variants in variants_by_group(variant_ids):
            header = QLabel(short_group_title(group))
            set_text_color(header, MUTED_COLOR)
            set_emphasis(header, bold=True)
            header.setContentsMargins(0, 4, 0, 0)
            self._rows_layout.addWidget(header)
            self._headers.append(header)
            for variant in variants:
                row = VariantRow(variant)
                row.toggled.connect(self._toggle)
                row.hovered.connect(self._on_row_hovered)
                self._rows_layout.addWidget(row)
                self.rows[variant.id] = row
        self.hidden = frozenset(self.hidden & set(variant_ids))
        self._show_hidden()
        self._fit_width()

    def set_hidden(self, variant_ids):
        """Hide these variants (without emitting ``hidden_changed``)."""
        self.hidden = frozenset(variant_ids) & set(self.variant_ids)
        self._show_hidden()

    def set_key(self, html):
        """The key of the line kinds below the list (what dots and thin lines mean)."""
        self.key.setText(html)

    def _toggle(self, variant_id):
        self._set_hidden(self.hidden ^ {variant_id})

    def _set_hidden(self, hidden):
        hidden = frozenset(hidden)
        if hidden != self.hidden:
            self.hidden = hidden
            self._show_hidden()
            self.hidden_changed.emit(hidden)

    def _show_hidden(self):
        for variant_id, row in self.rows.items():
            row.set_hidden(variant_id in self.hidden)
        self.show_all_button.setVisible(bool(self.hidden))

    def _on_row_hovered(self, variant_id, entered):
        self.highlighted.emit(variant_id if entered else "")

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_width()

    def _fit_width(self):
        """As wide as the longest name (up to NAME_CHARS characters, longer ones wrap) beside
        its line sample; the names get that width exactly, so a wrapped one makes its row taller."""
        metrics = self.fontMetrics()
        longest = max([metrics.horizontalAdvance(name_in_group(VARIANTS_BY_ID[variant_id]))
                       for variant_id in self.variant_ids] or [0])
        names = min(longest + 2, NAME_CHARS * metrics.averageCharWidth())
        swatch = int(2.4 * metrics.height())
        row_margins = 8 + 6  # the row's margins and the gap between sample and name
        for row in self.rows.values():
            row.name.setFixedWidth(names)
        content = max(names + swatch + row_margins, metrics.horizontalAdvance(self.title.text()),
                      metrics.horizontalAdvance(self.show_all_button.text()) + 24)
        margins = self.layout().contentsMargins()
        width = content + margins.left() + margins.right()
        if width != self.width() or self.minimumWidth() != width:
            self.setFixedWidth(width)
            self.width_changed.emit(width)
