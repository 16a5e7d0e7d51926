"""The lesson panel: the lesson's steps one at a time, and the keys a presentation clicker sends.

The panel shows a step's title, its short explanation and where it is in the
lesson, with Previous and Next, one button that sets the window up for the
step and one that trains the step's run live (with the time it takes: the
offer of a step whose run is not prepared). What a step sets up is data
(``core/lesson.py``); the window does the setting up
(``MainWindow.set_up_lesson_step``).

``LessonKeys`` lets PageDown/PageUp and the arrow keys (what presentation
clickers send) move through the steps whatever widget has the focus, except a
text or number field or the canvas, which need them themselves.
"""

import html

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from bngui.core.lesson import CONTEXT, STEPS, estimate_seconds
from bngui.gui.canvas_widget import CanvasWidget
from bngui.gui.plot_style import MUTED_COLOR
from bngui.gui.widget_style import set_text_color

# In presentation mode the room reads the step's title larger than the controls;
# its text has the controls' size, so that about 80 words fit the panel's column
# at 1280 x 720 without scrolling.
TITLE_PRESENTATION_PT = 16
TEXT_PRESENTATION_PT = 12
NEXT_KEYS = (Qt.Key.Key_PageDown, Qt.Key.Key_Right)
PREVIOUS_KEYS = (Qt.Key.Key_PageUp, Qt.Key.Key_Left)
# Widgets that keep these keys: the cursor in a text, a number's steps, the canvas.
KEEP_KEYS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit, CanvasWidget)


def step_title(step):
    return QCoreApplication.translate(CONTEXT, step.title)


def step_text(step):
    return QCoreApplication.translate(CONTEXT, step.text)


def minutes_text(seconds):
    """"about 2 min", "under a minute": the time a run takes, for the panel."""
    minutes = round(seconds / 60)
    if minutes < 1:
        return QCoreApplication.translate("LessonPanel", "under a minute")
    return QCoreApplication.translate("LessonPanel", "about {minutes} min").format(minutes=minutes)


class LessonPanel(QWidget):
    """Emits ``step_changed(index)`` when another step is shown, ``set_up_requested(step)``
    from "Set up this step" (and on each new step while "Set up each step as I go" is
    ticked), ``start_requested(step)`` from "Train this step's run" and ``open_requested()``
    from "Open a prepared lesson…"."""

    step_changed = Signal(int)
    set_up_requested = Signal(object)
    start_requested = Signal(object)
    open_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.steps = STEPS
        self.index = 0
        self.prepared = None  # a PreparedLesson, or None
        self._running = False
        self._can_start = False

        self.position = QLabel()
        self.position.setAlignment(Qt.AlignmentFlag.AlignCenter)
        set_text_color(self.position, MUTED_COLOR)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        # A long text in a short window scrolls; the buttons below stay on screen.
        self.text_scroll = QScrollArea()
        self.text_scroll.setWidget(self.text)
        self.text_scroll.setWidgetResizable(True)
        self.text_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.status = QLabel()
        self.status.setWordWrap(True)
        set_text_color(self.status, MUTED_COLOR)

        self.previous_button = QPushButton(self.tr("◀ Previous"))
        self.previous_button.setToolTip(self.tr("The previous step (Page Up or ←)"))
        self.previous_button.clicked.connect(self.previous)
        self.next_button = QPushButton(self.tr("Next ▶"))
        self.next_button.setToolTip(self.tr("The next step (Page Down or →)"))
        self.next_button.clicked.connect(self.next)
        self.set_up_button = QPushButton(self.tr("Set up this step"))
        self.set_up_button.setToolTip(self.tr(
            "Choose this step's variants and settings, tab, layout and layer; with a prepared"
            " lesson, show the step's finished run"))
        self.set_up_button.clicked.connect(lambda: self.set_up_requested.emit(self.current_step))
        self.start_button = QPushButton()
        self.start_button.clicked.connect(lambda: self.start_requested.emit(self.current_step))
        self.auto_box = QCheckBox(self.tr("Set up each step as I go"))
        self.auto_box.setToolTip(self.tr(
            "Next and Previous (and a presentation clicker) also set the window up for the step"))
        self.auto_box.setChecked(True)
        self.open_button = QPushButton(self.tr("Open a prepared lesson…"))
        self.open_button.setToolTip(self.tr(
            "A folder written by bngui prepare-lesson: every step's run, trained before class"))
        self.open_button.clicked.connect(self.open_requested)
        for button in (self.previous_button, self.next_button, self.set_up_button, self.start_button,
                       self.open_button):
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.auto_box.setFocusPolicy(Qt.FocusPolicy.TabFocus)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.text_scroll, 1)
        layout.addWidget(self.status)
        moves = QHBoxLayout()
        moves.addWidget(self.previous_button)
        moves.addWidget(self.position, 1)
        moves.addWidget(self.next_button)
        layout.addLayout(moves)
        layout.addWidget(self.set_up_button)
        layout.addWidget(self.start_button)
        layout.addWidget(self.auto_box)
        layout.addWidget(self.open_button)
        self.set_presentation(False)
        self.show_step(0)

    # -- steps ------------------------------------------------------------------

    @property
    def current_step(self):
        return self.steps[self.index]

    def show_step(self, index, set_up=False):
        """Show step ``index`` (0-based, clamped); with ``set_up`` and "as I go", set it up too."""
        index = max(0, min(len(self.steps) - 1, index))
        changed = index != self.index
        self.index = index
        step = self.current_step
        self.position.setText(self.tr("Step {number} of {count}").format(
            number=index + 1, count=len(self.steps)))
        self.title.setText(f"<b>{html.escape(step_title(step), quote=False)}</b>")
        self.text.setText(step_text(step))
        self.text_scroll.verticalScrollBar().setValue(0)
        self.previous_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.steps) - 1)
        self._show_state()
        if changed:
            self.step_changed.emit(index)
        if changed and set_up and self.auto_box.isChecked():
            self.set_up_requested.emit(step)

    def next(self):
        self.show_step(self.index + 1, set_up=True)

    def previous(self):
        self.show_step(self.index - 1, set_up=True)

    # -- state ------------------------------------------------------------------

    def set_prepared(self, prepared):
        """The prepared lesson whose sessions the steps show (a PreparedLesson), or None."""
        self.prepared = prepared
        self._show_state()

    def set_run_state(self, running, can_start):
        self._running, self._can_start = running, can_start
        self._show_state()

    def is_prepared(self, step):
        return self.prepared is not None and self.prepared.session_for(step) is not None

    def _show_state(self):
        """What the step shows (its prepared session, or nothing yet) and the offer to train it."""
        step = self.current_step
        prepared = self.is_prepared(step)
        self.open_button.setVisible(self.prepared is None)
        self.start_button.setVisible(step.run is not None)
        self.start_button.setEnabled(step.run is not None and self._can_start)
        if step.run is None:
            text = self.tr("This step needs no run.")
        else:
            time = minutes_text(estimate_seconds([step.run]))
            self.start_button.setText(self.tr("Train this step's run ({time})").format(time=time))
            self.start_button.setToolTip(self.tr(
                "Choose this step's variants and settings and train them now, live"))
            if prepared:
                text = self.tr("Prepared: the step's finished run is shown.")
            elif self.prepared is not None:
                text = self.tr("Missing from the prepared lesson: train it here, or run"
                               " bngui prepare-lesson DIR again.")
            else:
                text = self.tr("Not prepared: train it here, or prepare every step before class"
                               " with bngui prepare-lesson DIR.")
        if self._running:
            text += " " + self.tr("A run is training: its curves stay until it ends.")
        self.status.setText(text)

    def set_presentation(self, enabled):
        """The step's title and text at a size the room can read (the buttons keep the panel's)."""
        title_font, text_font = QFont(), QFont()  # nothing set: the panel's font
        if enabled:
            title_font.setPointSize(TITLE_PRESENTATION_PT)
            text_font.setPointSize(TEXT_PRESENTATION_PT)
        self.title.setFont(title_font)
        self.text.setFont(text_font)


class LessonKeys(QObject):
    """An application-wide event filter: the clicker's keys move the lesson on.

    PageDown and → go to the next step, PageUp and ← to the previous one, for
    key presses without modifiers aimed at ``window`` (not at a dialog, menu or
    pop-up), while ``active()`` says the lesson is open, unless the widget with
    the focus keeps them (a text or number field, the canvas). ``moved`` says a
    key moved the lesson on (so the window brings the panel forward).
    """

    moved = Signal()

    def __init__(self, window, panel, active):
        super().__init__(window)  # destroyed with the window, which removes the filter
        self.window = window
        self.panel = panel
        self.active = active

    def eventFilter(self, watched, event):
        if event.type() != QEvent.Type.KeyPress:
            return False
        key = event.key()
        if key not in NEXT_KEYS + PREVIOUS_KEYS:
            return False
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers != Qt.KeyboardModifier.NoModifier or not self.active():
            return False
        focus = QApplication.focusWidget()
        # A key travels from the focus widget up to its parents: act on it once, at its start.
        receiver = focus if focus is not None else self.window
        if watched is not receiver or not isinstance(watched, QWidget):
            return False
        if not self._in_window(watched) or isinstance(focus, KEEP_KEYS):
            return False
        if key in NEXT_KEYS:
            self.panel.next()
        else:
            self.panel.previous()
        self.moved.emit()
        return True

    def _in_window(self, widget):
        """In the main window, or in one of its docks floated out of it (the lesson's own)."""
        top = widget.window()
        return top is self.window or (isinstance(top, QDockWidget) and top.parentWidget() is self.window)
