"""Input fields that ignore the mouse wheel unless they have the keyboard focus.

A wheel turned over a scrolling panel must scroll it, not change the batch size
the pointer happens to pass (Qt's idiom: a strong focus policy, so a field
takes the focus only when clicked or tabbed to, and an unfocused field ignores
the wheel event, which then goes to the scroll area around it).
"""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSlider, QSpinBox


class _WheelOnlyWhenFocused:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def wheelEvent(self, event):
        if self.hasFocus():
            super().wheelEvent(event)
        else:
            event.ignore()  # on to the parent: the panel scrolls


class SpinBox(_WheelOnlyWhenFocused, QSpinBox):
    pass


class DoubleSpinBox(_WheelOnlyWhenFocused, QDoubleSpinBox):
    pass


class ComboBox(_WheelOnlyWhenFocused, QComboBox):
    pass


class Slider(_WheelOnlyWhenFocused, QSlider):
    pass
