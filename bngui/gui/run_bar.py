"""The run bar across the top of the window: Start, Pause, Stop, the progress and the status.

As in media players and IDEs, the controls of the run sit in one bar that is
always on screen, whatever the panel beside the plots shows or hides and at
every window size (so a lecturer never has to scroll for Stop). Below it, when
there is something the user must do first, a notice says what and offers it.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from bngui.gui.plot_style import MUTED_COLOR, TEXT_COLOR
from bngui.gui.widget_style import set_background, set_text_color

NOTICE_BACKGROUND = "#fff4d6"
NOTICE_BORDER = "#c9a23c"


def format_duration(seconds):
    """"2:05", or "1:02:05" from an hour on."""
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


class RunBar(QWidget):
    """Emits ``start_requested``, ``pause_requested``, ``stop_requested`` from its buttons."""

    start_requested = Signal()
    pause_requested = Signal()
    stop_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        style = self.style()
        self.start_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay),
                                        self.tr("Start"))
        self._start_tip = self.tr("Train the ticked variants (Ctrl+Return)")
        self.start_button.setToolTip(self._start_tip)
        self.pause_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaPause),
                                        self.tr("Pause"))
        self.pause_button.setToolTip(self.tr("Pause or resume between two batches (Ctrl+P)"))
        self.stop_button = QPushButton(style.standardIcon(QStyle.StandardPixmap.SP_MediaStop),
                                       self.tr("Stop"))
        self.stop_button.setToolTip(self.tr("End the run; what was trained stays on screen (Ctrl+.)"))
        for button in (self.start_button, self.pause_button, self.stop_button):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
            layout.addWidget(button)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)
        layout.addSpacing(8)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat(self.tr("no run yet"))
        self.progress.setMinimumWidth(self.fontMetrics().horizontalAdvance("batch 100000 / 100000") + 40)
        # Fixed in height: a notice below must not stretch the bar.
        self.progress.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        layout.addWidget(self.progress, 1)
        layout.addSpacing(8)

        # Speed above status: two short lines take less width than one long one.
        info = QVBoxLayout()
        info.setSpacing(0)
        self.speed = QLabel("")
        set_text_color(self.speed, MUTED_COLOR)
        self.status = QLabel(self.tr("Loading TensorFlow…"))
        info.addWidget(self.status)
        info.addWidget(self.speed)
        layout.addLayout(info)
        self.set_state(running=False, paused=False, can_start=False)

    def set_presentation(self, enabled):
        """Taller buttons and progress bar for a projector (the font comes from the window)."""
        height = self.fontMetrics().height()
        for widget in (self.start_button, self.pause_button, self.stop_button, self.progress):
            widget.setMinimumHeight(int(height * 1.9) if enabled else 0)

    def set_state(self, running, paused, can_start, stopping=False):
        self.start_button.setEnabled(can_start)
        self.pause_button.setEnabled(running and not stopping)
        icon = QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause
        self.pause_button.setIcon(self.style().standardIcon(icon))
        self.pause_button.setText(self.tr("Resume") if paused else self.tr("Pause"))
        self.stop_button.setEnabled(running and not stopping)

    def set_start_problems(self, problems):
        """Start's tooltip says what keeps it disabled (settings out of their range, one a line),
        or what it does."""
        self.start_button.setToolTip(
            "\n".join([self.tr("Start needs settings in their range:"), *problems])
            if problems else self._start_tip)

    def set_status(self, text):
        self.status.setText(text)

    def show_progress(self, batches_done, total, progress=None, going_on=True):
        """Batches done of ``total``; images per second and, while the run ``going_on``, the time
        left, from a ``Progress`` event."""
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(batches_done, total))
        self.progress.setFormat(self.tr("batch {done} / {total}").format(done=batches_done, total=total))
        if progress is None:
            self.speed.setText("")
        elif progress.batches_done >= progress.total_batches or not going_on:
            self.speed.setText(self.tr("{rate:.0f} images/s").format(rate=progress.images_per_second))
        else:
            self.speed.setText(self.tr("{rate:.0f} images/s · {left} left").format(
                rate=progress.images_per_second, left=format_duration(progress.seconds_left)))

    def reset_progress(self, total):
        self.show_progress(0, total)


class NoticeBar(QFrame):
    """A line that says what must happen first, with buttons that do it (hidden when not needed)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.Box)
        set_background(self, NOTICE_BACKGROUND, border=NOTICE_BORDER)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        set_text_color(self.text, TEXT_COLOR)
        layout.addWidget(self.text, 1)
        self._buttons = QHBoxLayout()
        layout.addLayout(self._buttons)
        self.buttons = []
        self.setVisible(False)

    def show_notice(self, text, actions=()):
        """Show ``text`` with a button per ``(label, callback)``."""
        for button in self.buttons:
            self._buttons.removeWidget(button)
            button.hide()  # a nested event loop deletes nothing later, but may paint
            button.deleteLater()
        self.buttons = []
        self.text.setText(text)
        for label, callback in actions:
            button = QPushButton(label)
            button.clicked.connect(callback)
            self._buttons.addWidget(button)
            self.buttons.append(button)
        self.setVisible(True)

    def clear_notice(self):
        self.setVisible(False)
