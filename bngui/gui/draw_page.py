"""The "Draw a digit" page: canvas, what the models see, and every model's answer.

Drawing → ``to_mnist`` (stray marks dropped, strokes brought to MNIST's width,
then the MNIST recipe; in the GUI thread, a few milliseconds) → the 28x28
preview → a prediction request to the inference thread → one row per model.
A stroke's end always asks for a prediction; while drawing, the canvas asks at
a throttled rate.
"""

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QDeadlineTimer, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QImage,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
    QShortcut,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bngui.core.predict import has_batch_norm
from bngui.core.preprocess import MNIST_SIZE, to_mnist
from bngui.core.variants import model_info
from bngui.gui.canvas_widget import CanvasWidget
from bngui.gui.inference import LOADED, SHIPPED, TRAINED, InferenceThread
from bngui.gui.jobs import Job
from bngui.gui.predictions_widget import BUG_COLOR, PredictionsWidget
from bngui.gui.variant_names import model_label, short_model_label

# English source texts, shown translated (context "DrawPage").
EMPTY_HINT = QT_TRANSLATE_NOOP(
    "DrawPage", "Draw a digit on the black square.\nAn empty canvas is not a digit: no prediction.")
NO_MODELS_HINT = QT_TRANSLATE_NOOP(
    "DrawPage",
    "No models yet. The shipped models load once TensorFlow is ready;"
    " train some (Run → Start) or use File → Load models…"
)
LOADING_HINT = QT_TRANSLATE_NOOP("DrawPage", "Loading the models…")
BATCH_STATISTICS_TEXT = QT_TRANSLATE_NOOP("DrawPage", "Inference with batch statistics (the\u00a0bug)")
BATCH_STATISTICS_TOOLTIP = QT_TRANSLATE_NOOP(
    "DrawPage",
    "Off (correct): every model runs in inference mode; batch normalization uses the\n"
    "population statistics it learned during training.\n\n"
    "On (the bug): the batch-normalized models run in training mode on this single\n"
    "drawing, so each BN layer normalizes it with its own mean and variance. Over one\n"
    "image the fully connected layer's variance is zero, its output no longer depends\n"
    "on the drawing, and every drawing gets the same answer. That is why the notebook\n"
    "scores 100 test images one at a time. The models' weights are left untouched."
)
BUG_EXPLANATION = QT_TRANSLATE_NOOP(
    "DrawPage",
    "BN models now normalize this one drawing with its own statistics, as in training:"
    " their answers no longer depend on the drawing."
)


# The company a drawing keeps in "Same digit, different company": 63 other
# test digits drawn at random, or 63 copies of the first test digit of this class.
COMPANY_SIZE = 63
COPIED_DIGIT = 1
COMPANY_RANDOM, COMPANY_COPIES = "random", "copies"


def _tr(text):
    """``text`` (marked with QT_TRANSLATE_NOOP above) in the user's language."""
    return QCoreApplication.translate("DrawPage", text)


def company_batches(test_images, test_labels, seed=0):
    """``{COMPANY_RANDOM: 63 random test digits, COMPANY_COPIES: 63 copies of one digit}``."""
    rng = np.random.default_rng(seed)
    random = test_images[rng.choice(len(test_images), COMPANY_SIZE, replace=False)]
    first = int(np.flatnonzero(np.asarray(test_labels) == COPIED_DIGIT)[0])
    copies = np.repeat(test_images[first : first + 1], COMPANY_SIZE, axis=0)
    return {COMPANY_RANDOM: random, COMPANY_COPIES: copies}


class CompanyTable(QTableWidget):
    """Same digit, different company: each BN model's answer for the drawing normalized
    with batch statistics alone, inside 63 random test digits, inside 63 copies of one.

    Precise-BN twins are not among them (the inference thread leaves them out).
    """

    def __init__(self, parent=None):
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels([
            self.tr("Model"), self.tr("Alone"),
            self.tr("With {count}\nrandom digits").format(count=COMPANY_SIZE),
            self.tr("With {count}\ncopies of a {digit}").format(count=COMPANY_SIZE,
                                                               digit=COPIED_DIGIT),
        ])
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.NoSelection)
        self.setFocusPolicy(Qt.NoFocus)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setStretchLastSection(True)
        # As tall as its rows when there is room, scrolling when there is not: a fixed
        # height made the window taller than a projector's screen.
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Maximum)
        self.setToolTip(self.tr(
            "In training mode, batch normalization normalizes the drawing with the mean and\n"
            "variance of the batch it is in. Alone, in a batch of varied digits or in a batch\n"
            "of identical ones, the same drawing gets different answers: the answer depends\n"
            "on the company. In inference mode (the correct way) it would not."))

    def show_answers(self, alone, company):
        """``alone``: ``{variant_id: probabilities}``; ``company``: ``{name: {variant_id: ...}}``."""
        rows = [vid for vid in alone if vid in company.get(COMPANY_RANDOM, {})]
        self.setRowCount(len(rows))
        for row, variant_id in enumerate(rows):
            info = model_info(variant_id)
            name = QTableWidgetItem(short_model_label(variant_id))
            name.setToolTip(model_label(variant_id))
            name.setForeground(QBrush(QColor(info.color)))
            self.setItem(row, 0, name)
            for column, scores in enumerate(
                    (alone[variant_id], company[COMPANY_RANDOM][variant_id],
                     company[COMPANY_COPIES][variant_id]), start=1):
                digit = int(np.argmax(scores))
                item = QTableWidgetItem(f"{digit}  ({scores[digit]:.0%})")
                item.setTextAlignment(Qt.AlignCenter)
                self.setItem(row, column, item)
        self.setMaximumHeight(self.horizontalHeader().sizeHint().height() + sum(
            self.rowHeight(row) for row in range(self.rowCount())) + 2 * self.frameWidth())

    def sizeHint(self):
        return QSize(super().sizeHint().width(), self.maximumHeight())


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
        self.setToolTip(self.tr(
            "What the models see: the drawing cropped to its ink, its longer side scaled to\n"
            "20 pixels, centred by its centre of mass in a 28x28 field (MNIST's recipe)."
        ))

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
        self._company = None  # the digits a drawing is batched with, once MNIST is loaded
        self._alone = {}  # the BN models' answers for the drawing alone
        self._build()

    # -- construction ---------------------------------------------------------

    def _build(self):
        self.canvas = CanvasWidget()
        self.canvas.stroke_finished.connect(self.refresh)
        self.canvas.drawing_changed.connect(self.refresh)
        self.canvas.cleared.connect(self.refresh)
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.setToolTip(self.tr("Clear the canvas (Delete)"))
        self.clear_button.clicked.connect(self.canvas.clear)
        self.undo_button = QPushButton(self.tr("Undo stroke"))
        self.undo_button.setToolTip(self.tr("Remove the last stroke (Ctrl+Z)"))
        self.undo_button.clicked.connect(self.canvas.undo)
        self.save_button = QPushButton(self.tr("Save drawing…"))
        self.save_button.setToolTip(self.tr("Save the drawing as a PNG image (bngui classify reads it)"))
        self.save_button.clicked.connect(self.save_drawing_dialog)
        self.open_button = QPushButton(self.tr("Open image…"))
        self.open_button.setToolTip(self.tr(
            "Classify an image file: a scan or a phone photo of a digit on paper (PNG, JPEG,"
            " WebP, TIFF, ...). It is turned upright, its lighting evened out and the digit"
            " found, as bngui classify does."))
        self.open_button.clicked.connect(self.open_image_dialog)
        self._opening = None  # the job reading an image file
        for sequence, slot in (("Ctrl+Z", self.canvas.undo), ("Delete", self.canvas.clear),
                               ("Backspace", self.canvas.clear)):
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.setContext(Qt.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.preview = DigitPreview()
        # Rich text for bold: a font or style sheet of its own would stop the
        # label from following the window's font (presentation mode).
        preview_title = QLabel(self.tr("<b>← What the models see</b><br>28 × 28 pixels, enlarged"))
        preview_title.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        preview_title.setWordWrap(True)
        self.preview_title = preview_title
        side = QVBoxLayout()
        side.addWidget(preview_title)
        side.addSpacing(6)
        for button in (self.clear_button, self.undo_button, self.open_button, self.save_button):
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
        self.batch_statistics_box.setToolTip(_tr(BATCH_STATISTICS_TOOLTIP))
        self.batch_statistics_box.toggled.connect(self._on_batch_statistics_toggled)
        self.batch_statistics_label = _ToggleLabel(_tr(BATCH_STATISTICS_TEXT), self.batch_statistics_box)
        self.batch_statistics_label.setToolTip(_tr(BATCH_STATISTICS_TOOLTIP))
        toggle = QHBoxLayout()
        toggle.addWidget(self.batch_statistics_box, 0, Qt.AlignTop)
        toggle.addWidget(self.batch_statistics_label, 1)
        self.bug_label = QLabel(_tr(BUG_EXPLANATION))
        self.bug_label.setWordWrap(True)
        _set_text_colour(self.bug_label, BUG_COLOR)
        self.bug_label.hide()
        self.company_title = QLabel(self.tr("<b>Same digit, different company</b>"))
        self.company = CompanyTable()
        for widget in (self.company_title, self.company):
            widget.hide()
        self.predictions = PredictionsWidget()
        self.timing_label = QLabel("")
        _set_text_colour(self.timing_label, QColor("#6b6b6b"))
        right = QVBoxLayout()
        right.addLayout(toggle)
        right.addWidget(self.bug_label)
        right.addWidget(self.predictions, 1)
        right.addWidget(self.company_title)
        right.addWidget(self.company)
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
            self.inference.company_predicted.connect(self._on_company_predicted)
            if self._company is not None:
                self.inference.set_company(self._company)
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

    def add_models(self, models, source=TRAINED, origin=""):
        """Make ``{variant_id: keras model}`` available (a model replaces one of the same id);
        ``origin``: the folder they were loaded from, if any."""
        if models:
            self.start(load_shipped=False)
            self.inference.add_models(models, source, origin)

    def load_models_folder(self, folder):
        self.start(load_shipped=False)
        self.message.emit(self.tr("Loading models from {folder}…").format(folder=folder))
        self.inference.load_folder(folder, LOADED)

    def save_models_folder(self, folder):
        if self.inference is None:
            self.error.emit(self.tr("There are no trained models to save yet: train first."))
            return
        self.message.emit(self.tr("Saving models to {folder}…").format(folder=folder))
        self.inference.save_models(folder)

    def shutdown(self, timeout_ms=15000):
        """Stop the inference thread; True when it has ended within ``timeout_ms``.

        A job already running (loading or tracing one model) is finished first:
        usually well under a second, a few seconds on a busy CPU. Models the user
        asked to save are saved, however long that takes.
        """
        deadline = QDeadlineTimer(timeout_ms)
        opened = self._opening is None or self._opening.wait(deadline)
        if self.inference is None:
            return opened
        ended = self.inference.stop(max(0, deadline.remainingTime()))
        while not ended and self.inference.saving:
            ended = self.inference.wait(1000)
        return ended and opened

    def _on_models_changed(self, models):
        self.models = list(models)
        self._loading = False
        self.predictions.set_models(self.models)
        self.refresh()

    def _on_loaded(self, folder, variant_ids, problems, quiet):
        self._loading = False
        if variant_ids:
            loaded = self.tr("Loaded %n model(s) from {folder}: {models}", "", len(variant_ids))
            self.message.emit(loaded.format(folder=folder, models=", ".join(variant_ids)))
        if problems:
            text = "\n".join(problems)
            if quiet:
                self.message.emit(self.tr("Shipped models: {problems}").format(problems=text))
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
            self.message.emit(self.tr("Saved %n model(s) to {folder}", "", len(variant_ids)).format(
                folder=f"{folder}/models"))

    def present_bug_toggle(self):
        """For the lesson's step on the bug: the toggle off, with the focus, so the lecturer
        turns it on in front of the room (a click, or the space bar)."""
        self.batch_statistics_box.setChecked(False)
        self.batch_statistics_box.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- drawing and predicting ---------------------------------------------------

    @property
    def batch_statistics(self):
        return self.batch_statistics_box.isChecked()

    def set_company_digits(self, test_images, test_labels):
        """Test digits for "Same digit, different company" (once MNIST is loaded)."""
        if self._company is not None:
            return
        self._company = company_batches(test_images, test_labels)
        if self.inference is not None:
            self.inference.set_company(self._company)

    def _on_company_predicted(self, request_id, company):
        if request_id != self.shown_id or not self.batch_statistics:
            return
        self.company.show_answers(self._alone, company)
        for widget in (self.company_title, self.company):
            widget.setVisible(self.company.rowCount() > 0)

    def _on_batch_statistics_toggled(self, checked):
        if not checked:
            for widget in (self.company_title, self.company):
                widget.hide()
        self.bug_label.setVisible(checked)
        _set_text_colour(self.batch_statistics_label, BUG_COLOR if checked else None)
        self.refresh()

    def _show_state_hint(self):
        """The hint for an empty canvas or a page without models."""
        if not self.models:
            self.predictions.show_hint(_tr(LOADING_HINT if self._loading else NO_MODELS_HINT))
        else:
            self.predictions.show_hint(_tr(EMPTY_HINT))
        self.timing_label.setText("")

    def refresh(self):
        """Preprocess the drawing, show it, and ask for predictions (or show a hint)."""
        self.request_id += 1
        # An opened image alone is preprocessed at its full size, as bngui classify does.
        opened = self.canvas.opened_ink_alone()
        if self.canvas.is_empty():
            digit = None
        else:
            digit = to_mnist(opened if opened is not None else self.canvas.ink())
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
        self._alone = {vid: scores for vid, scores in probabilities.items() if has_batch_norm(vid)}
        self.predictions.show_predictions(probabilities, batch_statistics)
        if request_id == self.request_id:
            timing = self.tr("%n model(s), {ms} ms", "", len(probabilities))
        else:
            timing = self.tr("%n model(s), {ms} ms (still drawing)", "", len(probabilities))
        self.timing_label.setText(timing.format(ms=f"{seconds * 1000:.0f}"))
        self.predictions_shown.emit(request_id)

    def open_image_dialog(self):
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open an image of a digit"), "",
            self.tr("Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"))
        if path:
            self.open_image(path)

    def open_image(self, path):
        """Read an image file in the background and put its ink on the canvas; the job."""
        from bngui.core.preprocess import ImageError, load_image_file

        job = Job(lambda state: load_image_file(path), expected=(ImageError, OSError),
                  name="bngui-open-image", parent=self)
        job.succeeded.connect(self._on_image_opened)
        job.failed.connect(self.error)
        self._opening = job
        job.start()
        return job

    def _on_image_opened(self, ink):
        self.canvas.set_opened_ink(ink)
        if self.last_digit is None:
            self.error.emit(self.tr("No digit was found in that image."))

    def save_drawing_dialog(self):
        if self.canvas.is_empty():
            self.error.emit(self.tr("The canvas is empty: draw a digit first."))
            return
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save drawing"), "digit.png",
                                              self.tr("PNG image (*.png)"))
        if not path:
            return
        if not path.lower().endswith(".png"):
            path += ".png"
        try:
            self.canvas.save_png(path)
        except OSError as error:
            self.error.emit(self.tr("Could not write {path}: {reason}").format(
                path=path, reason=error.strerror or error))
        else:
            self.message.emit(self.tr("Saved {path}").format(path=path))
