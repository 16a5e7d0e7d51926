"""The dialog shown when MNIST is not found: download it, or point at a copy."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from bngui.core.data import (
    ENV_PATH,
    GIVEN_PATH,
    KERAS_CACHE,
    NOT_FOUND,
    DataError,
    candidate_locations,
    load_mnist,
)
from bngui.gui import tasks
from bngui.gui.i18n import translate
from bngui.gui.jobs import Job


def where_we_looked(path=None):
    """Human-readable lines of the places searched for MNIST, in the user's language."""
    names = {GIVEN_PATH: translate("DataDialog", "given path"),
             ENV_PATH: translate("DataDialog", "BNGUI_MNIST environment variable"),
             KERAS_CACHE: translate("DataDialog", "Keras cache")}
    return [translate("DataDialog", "{why}: {location}").format(why=names.get(why, why), location=location)
            for why, location in candidate_locations(path)]


class DataDialog(QDialog):
    """Explains where MNIST was looked for and offers the ways to get it.

    ``data_loaded`` carries the loaded ``MnistSplits``; the dialog then closes.
    """

    data_loaded = Signal(object)

    def __init__(self, reason, path=None, origin=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("MNIST not found"))
        self.setMinimumWidth(560)
        self._origin = origin
        self._download = None
        self.data = None

        layout = QVBoxLayout(self)
        looked = "".join(f"<li>{line}</li>" for line in where_we_looked(path))
        if reason.startswith(NOT_FOUND):
            # The core's message lists the places again, in English: they are listed below.
            reason = self.tr("MNIST was not found in any of these places.")
        self.explanation = QLabel(self.tr(
            "<p><b>bngui needs the MNIST digits to train.</b></p><p>{reason}</p>"
            "<p>Places searched:</p><ul>{places}</ul>"
            "<p>Download it (about 11 MB, checked against Keras's sha256, kept in the Keras"
            " cache) or choose a copy: a Keras-layout <code>mnist.npz</code> or a folder with"
            " the four IDX <code>.gz</code> files.</p>").format(reason=reason, places=looked))
        self.explanation.setWordWrap(True)
        layout.addWidget(self.explanation)

        self.progress = QProgressBar()
        self.progress.setVisible(False)
        layout.addWidget(self.progress)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        self.download_button = QPushButton(self.tr("Download"))
        self.choose_file_button = QPushButton(self.tr("Choose .npz file…"))
        self.choose_folder_button = QPushButton(self.tr("Choose IDX folder…"))
        self.cancel_button = QPushButton(self.tr("Cancel"))
        for button in (self.download_button, self.choose_file_button,
                       self.choose_folder_button, self.cancel_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)

        self.download_button.clicked.connect(self.start_download)
        self.choose_file_button.clicked.connect(self.choose_file)
        self.choose_folder_button.clicked.connect(self._choose_folder)
        self.cancel_button.clicked.connect(self._cancel)

    # -- download -------------------------------------------------------------

    def start_download(self):
        self.message.clear()
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self._set_choices_enabled(False)
        self.cancel_button.setText(self.tr("Cancel download"))
        self._download = Job(tasks.download_data, self._origin, expected=(DataError,),
                             name="bngui-download", parent=self)
        self._download.progressed.connect(lambda done_total: self._show_progress(*done_total))
        self._download.succeeded.connect(self._accept_data)
        self._download.failed.connect(self._download_failed)
        self._download.finished.connect(self._download_ended)
        self._download.start()

    @property
    def downloading(self):
        return self._download is not None and self._download.isRunning()

    def _show_progress(self, done, total):
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(self.tr("{done} of {total} MB").format(
                done=f"{done / 1e6:.1f}", total=f"{total / 1e6:.1f}"))

    def _download_failed(self, message):
        self.message.setText(self.tr("Download failed: {reason}").format(reason=message))

    def _download_ended(self):
        self.progress.setVisible(False)
        self._set_choices_enabled(True)
        self.cancel_button.setText(self.tr("Cancel"))
        self._download = None

    def _set_choices_enabled(self, enabled):
        for button in (self.download_button, self.choose_file_button, self.choose_folder_button):
            button.setEnabled(enabled)

    def _cancel(self):
        if self.downloading:
            self._download.cancel()
        else:
            self.reject()

    # -- choosing a copy ------------------------------------------------------

    def choose_file(self):
        path, _ = QFileDialog.getOpenFileName(self, self.tr("MNIST .npz file"), "",
                                              self.tr("NumPy archive (*.npz)"))
        if path:
            self.load_from(path)

    def _choose_folder(self):
        path = QFileDialog.getExistingDirectory(self, self.tr("Folder with the four MNIST IDX files"))
        if path:
            self.load_from(path)

    def load_from(self, path):
        """Load a chosen copy; on failure explain why and let the user try again."""
        try:
            data = load_mnist(path, allow_download=False)
        except DataError as error:
            self.message.setText(str(error))
            return
        self._accept_data(data)

    def _accept_data(self, data):
        self.data = data
        self.data_loaded.emit(data)
        self.accept()

    def done(self, result):
        # Closing the dialog never leaves a download thread running.
        if self._download is not None:
            self._download.cancel()
            self._download.wait(5000)
        super().done(result)
