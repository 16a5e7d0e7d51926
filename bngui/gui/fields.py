"""Input fields that ignore the mouse wheel unless they have the keyboard focus,
and number fields that never replace what was typed.

A wheel turned over a scrolling panel must scroll it, not change the batch size
the pointer happens to pass (Qt's idiom: a strong focus policy, so a field
takes the focus only when clicked or tabbed to, and an unfocused field ignores
the wheel event, which then goes to the scroll area around it).

Qt's spin boxes refuse a keystroke that leaves their range and, on Enter or on
leaving the field, put their previous value back over a number they cannot take
(0 batches became 800 without a word). Here what was typed stays: ``problem``
says when the text is not a number of the range, and a ``CheckedField`` around
the field frames it in red with what is allowed, until the text is right again.
``value()`` is meanwhile the last value of the range, so the settings stay
valid; the window does not start a run while a field shows a problem.
"""

import math

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen, QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

ERROR_COLOR = "#b00020"  # dark red: readable on the panel and on the pale field
ERROR_BACKGROUND = "#fde8ea"
OUTLINE_WIDTH = 2


class _WheelOnlyWhenFocused:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # on to the parent: the panel scrolls


# Where Qt's spin box writes its value over the text it could not take.
_REWRITING_EVENTS = (QEvent.Type.FocusOut, QEvent.Type.Hide, QEvent.Type.Show,
                     QEvent.Type.ActivationChange, QEvent.Type.LocaleChange)
_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class _KeepsWhatWasTyped(_WheelOnlyWhenFocused):
    """A spin box whose text stays as typed, out of range or not a number alike.

    ``edited`` is emitted whenever the text may have changed: typed, set with
    ``setValue``, stepped (Qt writes its value then without the line edit's signal).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lineEdit().textChanged.connect(self.edited)

    def setValue(self, value):
        super().setValue(value)
        self.edited.emit()

    def stepBy(self, steps):
        super().stepBy(steps)
        self.edited.emit()

    def validate(self, text, position):
        state, text, position = super().validate(text, position)
        if state == QValidator.State.Invalid:  # Qt would refuse the keystroke
            state = QValidator.State.Intermediate
        return state, text, position

    def is_acceptable(self):
        """True when the text is a number of the field's range (and so its value)."""
        text = self.lineEdit().text()
        return super().validate(text, len(text))[0] == QValidator.State.Acceptable

    def typed_number(self):
        """The number the text says, in or out of range, or None."""
        raise NotImplementedError

    def event(self, event):
        kind = event.type()
        rewrites = kind in _REWRITING_EVENTS or (
            kind == QEvent.Type.KeyPress and event.key() in _ENTER_KEYS)
        if not rewrites:
            return super().event(event)
        if self.is_acceptable():
            handled = super().event(event)
            self.edited.emit()
            return handled
        edit = self.lineEdit()
        text, cursor = edit.text(), edit.cursorPosition()
        handled = super().event(event)
        if edit.text() != text:
            edit.setText(text)  # emits edited
            edit.setCursorPosition(cursor)
        return handled


class SpinBox(_KeepsWhatWasTyped, QSpinBox):
    edited = Signal()

    def typed_number(self):
        text = self.lineEdit().text().strip().replace(self.locale().groupSeparator(), "")
        try:
            return int(text)
        except ValueError:
            return None


class DoubleSpinBox(_KeepsWhatWasTyped, QDoubleSpinBox):
    edited = Signal()

    def typed_number(self):
        locale = self.locale()
        text = self.lineEdit().text().strip().replace(locale.groupSeparator(), "")
        try:
            number = float(text.replace(locale.decimalPoint(), "."))
        except ValueError:
            return None
        return number if math.isfinite(number) else None


class ComboBox(_WheelOnlyWhenFocused, QComboBox):
    pass


class Slider(_WheelOnlyWhenFocused, QSlider):
    pass


class CheckedField(QWidget):
    """Holds a field and frames it in red while ``set_problem`` gives a text, which
    ``message`` says: a label of its own, for the layout to put under the field across
    the whole row (a range message is longer than a number field is wide)."""

    def __init__(self, field, parent=None):
        super().__init__(parent)
        self.field = field
        self.wrong = False
        self._palette = field.palette()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(*(OUTLINE_WIDTH,) * 4)
        layout.addWidget(field)
        self.message = QLabel()
        self.message.setWordWrap(True)
        palette = self.message.palette()
        palette.setColor(QPalette.ColorRole.WindowText, QColor(ERROR_COLOR))
        self.message.setPalette(palette)
        self.message.setVisible(False)

    @property
    def problem(self):
        return self.message.text() if self.wrong else None

    def set_problem(self, text):
        """Mark the field wrong with ``text`` (what is allowed), or right with None."""
        wrong = bool(text)
        self.message.setText(text or "")
        self.message.setVisible(wrong)
        if wrong != self.wrong:
            self.wrong = wrong
            palette = QPalette(self._palette)
            if wrong:
                palette.setColor(QPalette.ColorRole.Base, QColor(ERROR_BACKGROUND))
            self.field.setPalette(palette)
            self.update()

    def paintEvent(self, event):
        if self.wrong:
            painter = QPainter(self)
            painter.setPen(QPen(QColor(ERROR_COLOR), OUTLINE_WIDTH))
            half = OUTLINE_WIDTH // 2
            painter.drawRect(self.rect().adjusted(half, half, -half, -half))
