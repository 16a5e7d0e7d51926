"""The "Draw a digit" page: canvas, what the models see, and every model's answer.

Drawing → ``to_mnist`` (the MNIST recipe, in the GUI thread: about a
millisecond) → the 28x28 preview → a prediction request to the inference
thread → one row per model. A stroke's end always asks for a prediction;
while drawing, the canvas asks at a throttled rate.
"""

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeySequence, QPainter, QPalette, QPen, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from bngui.core.preprocess import MNIST_SIZE, to_mnist
from bngui.gui.canvas_widget import CanvasWidget
from bngui.gui.inference import LOADED, SHIPPED, TRAINED, InferenceThread
from bngui.gui.predictions_widget import BUG_COLOR, PredictionsWidget

EMPTY_HINT = "Draw a digit on the black square.\nAn empty canvas is not a digit: no prediction."
NO_MODELS_HINT = (
    "No models yet. The shipped models load once TensorFlow is ready;"
    " train some (Run → Start) or use File → Load models…"
)
LOADING_HINT = "Loading the models…"
BATCH_STATISTICS_TEXT = "Inference with batch statistics (the\u00a0bug)"
BATCH_STATISTICS_TOOLTIP = (
    "Off (correct): every model runs in inference mode; batch normalization uses the\n"
    "population statistics it learned during training.\n\n"
    "On (the bug): the batch-normalized models run in training mode on this single\n"
    "drawing, so each BN layer normalizes it with its own mean and variance. Over one\n"
    "image the fully connected layer's variance is zero, its output no longer depends\n"
    "on the drawing, and every drawing gets the same answer. That is why the notebook\n"
    "scores 100 test images one at a time. The models' weights are left untouched."
)
BUG_EXPLANATION = (
    "BN models now normalize this one drawing with its own statistics, as in training:"
    " their answers no longer depend on the drawing."
)


def _set_text_colour(widget, colour):
    """Text colour by palette (``None``: the default), leaving the font inherited."""
    palette = widget.palette()
    default = QApplication.palette(widget).color(QPalette.WindowText)
    palette.setColor(QPalette.WindowText, colour if colour is not None else default)
    widget.setPalette(palette)


class _ToggleLabel(QLabel):
    """A word-wrapped label that toggles a check box when clicked."""

    def __init__(self, text, box):
        super().__init__(text)
        self.box = box
        self.setWordWrap(True)
        self.setCursor(Qt.PointingHandCursor)

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self.box.toggle()
            event.accept()
        else:
            super().mousePressEvent(event)


class DigitPreview(QWidget):
    """The 28x28 image the models see, enlarged with visible pixels and a grid."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.digit = None
        self.setMinimumSize(MNIST_SIZE * 4, MNIST_SIZE * 4)
        policy = QSizePolicy(QSizePolicy.Preferred, QSizePolicy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setToolTip(
            "What the models see: the drawing cropped to its ink, its longer side scaled to\n"
            "20 pixels, centred by its centre of mass in a 28x28 field (MNIST's recipe)."
        )

    def sizeHint(self):
        return QSize(MNIST_SIZE * 8, MNIST_SIZE * 8)

    def heightForWidth(self, width):
        return width

    def hasHeightForWidth(self):
        return True

    def set_digit(self, digit):
        self.digit = None if digit is None else np.asarray(digit, dtype=np.float32)
        self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        side = min(self.width(), self.height()) - 1
        cell = max(1, side // MNIST_SIZE)
        size = cell * MNIST_SIZE
        left = (self.width() - size) // 2
        top = (self.height() - size) // 2
        target = QRectF(left, top, size, size)
        if self.digit is None:
            painter.fillRect(target, QColor(0, 0, 0))
        else:
            grey = np.ascontiguousarray(np.clip(self.digit * 255.0 + 0.5, 0, 255).astype(np.uint8))
            image = QImage(grey.data, MNIST_SIZE, MNIST_SIZE, MNIST_SIZE, QImage.Format_Grayscale8)
            painter.setRenderHint(QPainter.SmoothPixmapTransform, False)  # nearest neighbour
            painter.drawImage(target, image)
        if cell >= 4:
            painter.setPen(QPen(QColor(70, 70, 70), 1))
            for index in range(1, MNIST_SIZE):
                offset = index * cell
                painter.drawLine(left + offset, top, left + offset, top + size)
                painter.drawLine(left, top + offset, left + size, top + offset)
        painter.setPen(QPen(QColor("#7a7a7a"), 1))
        painter.drawRect(QRectF(left - 0.5, top - 0.5, size + 1, size + 1))
        painter.end()


class DrawPage(QWidget):
    """Canvas, 28x28 preview, predictions and the batch-statistics toggle.

    Call ``start()`` once TensorFlow is importable: it starts the inference
    thread and loads the shipped models. ``add_models`` makes models trained
    in the window available. ``message`` carries status-bar text, ``error``
    text for a message box.
    """

    predictions_shown = Signal(int)  # the request id whose results are now on screen
    message = Signal(str)
    error = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.inference = None
        self.models = []
        self._loading = False
        self._tensorflow_ready = False
        self._shipped_requested = False
        self.request_id = 0  # the latest request
        self.shown_id = 0  # the latest request whose results are on screen
        self.last_digit = None
        self.last_seconds = None
        self._build()

    # -- construction ---------------------------------------------------------

    def _build(self):
        self.canvas = CanvasWidget()
        self.canvas.stroke_finished.connect(self.refresh)
        self.canvas.drawing_changed.connect(self.refresh)
        self.canvas.cleared.connect(self.refresh)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the canvas (Delete)")
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button = QPushButton("Undo stroke")
        self.undo_button.setToolTip("Remove the last stroke (Ctrl+Z)")
        self.undo_button.clicked.connect(self.canvas.undo)
        self.save_button = QPushButton("Save drawing…")
        self.save_button.setToolTip("Save the drawing as a PNG image (bngui classify reads it)")
        self.save_button.clicked.connect(self.save_drawing_dialog)
        for sequence, slot in (("Ctrl+Z", self.canvas.undo), ("Delete", self.canvas.clear),
                               ("Backspace", self.canvas.clear)):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.preview = DigitPreview()
        # Rich text for bold: a font or style sheet of its own would stop the
        # label from following the window's font (presentation mode).
        preview_title = QLabel("<b>← What the models see</b><br>28 × 28 pixels, enlarged")
        preview_title.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        preview_title.setWordWrap(True)
        self.preview_title = preview_title
        side = QVBoxLayout()
        side.addWidget(preview_title)
        side.addSpacing(6)
        for button in (self.clear_button, self.undo_button, self.save_button):
            side.addWidget(button)
        side.addStretch(1)
        under_canvas = QHBoxLayout()
        under_canvas.addWidget(self.preview, 0, Qt.AlignTop)
        under_canvas.addSpacing(10)
        under_canvas.addLayout(side, 1)
        # Canvas on top, what the models see and the buttons under it; the
        # predictions get the whole right half, wide enough for their bars.
        left = QVBoxLayout()
        left.addWidget(self.canvas)
        left.addLayout(under_canvas)
        left.addStretch(1)

        # The toggle's text wraps (a check box's own text cannot), so the page
        # stays narrow enough beside the experiment panel in presentation mode.
        self.batch_statistics_box = QCheckBox()
        self.batch_statistics_box.setToolTip(BATCH_STATISTICS_TOOLTIP)
        self.batch_statistics_box.toggled.connect(self._on_batch_statistics_toggled)
        self.batch_statistics_label = _ToggleLabel(BATCH_STATISTICS_TEXT, self.batch_statistics_box)
        self.batch_statistics_label.setToolTip(BATCH_STATISTICS_TOOLTIP)
        toggle = QHBoxLayout()
        toggle.addWidget(self.batch_statistics_box, 0, Qt.AlignTop)
        toggle.addWidget(self.batch_statistics_label, 1)
        self.bug_label = QLabel(BUG_EXPLANATION)
        self.bug_label.setWordWrap(True)
        _set_text_colour(self.bug_label, BUG_COLOR)
        self.bug_label.hide()
        self.predictions = PredictionsWidget()
        self.timing_label = QLabel("")
        _set_text_colour(self.timing_label, QColor("#6b6b6b"))
        right = QVBoxLayout()
        right.addLayout(toggle)
        right.addWidget(self.bug_label)
        right.addWidget(self.predictions, 1)
        right.addWidget(self.timing_label)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(left, 1)
        layout.addSpacing(12)
        layout.addLayout(right, 1)
        self._show_state_hint()

    # -- models -----------------------------------------------------------------

    def set_tensorflow_ready(self):
        """TensorFlow is imported: load the shipped models now, or when the page is first shown.

        Waiting for the page keeps start-up and a first training run free of
        the models' loading and tracing when nobody draws.
        """
        if self._tensorflow_ready:
            return
        self._tensorflow_ready = True
        if self.isVisible():
            self.start()

    def showEvent(self, event):
        super().showEvent(event)
        if self._tensorflow_ready and not self._shipped_requested:
            self.start()

    def start(self, load_shipped=True):
        """Start the inference thread (TensorFlow must be importable) and load shipped models."""
        if self.inference is None:
            self.inference = InferenceThread(self)
            self.inference.models_changed.connect(self._on_models_changed)
            self.inference.predicted.connect(self._on_predicted)
            self.inference.loaded.connect(self._on_loaded)
            self.inference.saved.connect(self._on_saved)
            self.inference.failed.connect(self.error)
            self.inference.start()
        if load_shipped and not self._shipped_requested:
            from bngui.resource_files import shipped_models_dir

            self._shipped_requested = True
            self._loading = not self.models
            if self._loading:
                self._show_state_hint()
            self.inference.load_folder(shipped_models_dir(), SHIPPED, quiet=True)

    def add_models(self, models, source=TRAINED):
        """Make ``{variant_id: keras model}`` available (a model replaces one of the same id)."""
        if models:
            self.start(load_shipped=False)
            self.inference.add_models(models, source)

    def load_models_folder(self, folder):
        self.start(load_shipped=False)
        self.message.emit(f"Loading models from {folder}…")
        self.inference.load_folder(folder, LOADED)

    def save_models_folder(self, folder):
        if self.inference is None:
            self.error.emit("There are no trained models to save yet: train first.")
            return
        self.message.emit(f"Saving models to {folder}…")
        self.inference.save_models(folder)

    def shutdown(self, timeout_ms=15000):
        """Stop the inference thread; True when it has ended.

        A job already running (loading or tracing one model) is finished
        first: usually well under a second, a few seconds on a busy CPU.
        """
        if self.inference is None:
            return True
        return self.inference.stop(timeout_ms)

    def _on_models_changed(self, models):
        self.models = list(models)
        self._loading = False
        self.predictions.set_models(self.models)
        self.refresh()

    def _on_loaded(self, folder, variant_ids, problems, quiet):
        self._loading = False
        if variant_ids:
            self.message.emit(f"Loaded {len(variant_ids)} model(s) from {folder}: {', '.join(variant_ids)}")
        if problems:
            text = "\n".join(problems)
            if quiet:
                self.message.emit(f"Shipped models: {text}")
            else:
                if variant_ids:
                    self.error.emit(self.tr("Loaded: {loaded}.\n\nSome models could not be loaded:\n"
                                            "{problems}").format(loaded=", ".join(variant_ids),
                                                                 problems=text))
                else:
                    self.error.emit(self.tr("No models were loaded from {folder}:\n{problems}").format(
                        folder=folder, problems=text))
        if not self.models or self.canvas.is_empty():
            self._show_state_hint()

    def _on_saved(self, folder, variant_ids, error):
        if error:
            self.error.emit(error)
        else:
            self.message.emit(f"Saved {len(variant_ids)} model(s) to {folder}/models")

    # -- drawing and predicting ---------------------------------------------------

    @property
    def batch_statistics(self):
        return self.batch_statistics_box.isChecked()

    def _on_batch_statistics_toggled(self, checked):
        self.bug_label.setVisible(checked)
        _set_text_colour(self.batch_statistics_label, BUG_COLOR if checked else None)
        self.refresh()

    def _show_state_hint(self):
        """The hint for an empty canvas or a page without models."""
        if not self.models:
            self.predictions.show_hint(LOADING_HINT if self._loading else NO_MODELS_HINT)
        else:
            self.predictions.show_hint(EMPTY_HINT)
        self.timing_label.setText("")

    def refresh(self):
        """Preprocess the drawing, show it, and ask for predictions (or show a hint)."""
        self.request_id += 1
        digit = None if self.canvas.is_empty() else to_mnist(self.canvas.ink())
        self.last_digit = digit
        self.preview.set_digit(digit)
        if digit is None or not self.models or self.inference is None:
            if self.inference is not None:
                self.inference.cancel_request()
            self._show_state_hint()
            return self.request_id
        self.inference.request(self.request_id, digit, self.batch_statistics)
        return self.request_id

    def _on_predicted(self, request_id, probabilities, batch_statistics, seconds):
        # Show only results newer than what is shown, for the current drawing and mode.
        if request_id <= self.shown_id or self.last_digit is None:
            return
        if batch_statistics != self.batch_statistics:
            return
        self.shown_id = request_id
        self.last_seconds = seconds
        self.predictions.show_predictions(probabilities, batch_statistics)
        self.timing_label.setText(
            f"{len(probabilities)} model(s), {seconds * 1000:.0f} ms"
            + ("" if request_id == self.request_id else " (still drawing)")
        )
        self.predictions_shown.emit(request_id)

    def save_drawing_dialog(self):
        if self.canvas.is_empty():
            self.error.emit("The canvas is empty: draw a digit first.")
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save drawing", "digit.png", "PNG image (*.png)")
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            self.canvas.save_png(path)
        except OSError as error:
            self.error.emit(f"Could not write {path}: {error.strerror or error}")
        else:
            self.message.emit(f"Saved {path}")
