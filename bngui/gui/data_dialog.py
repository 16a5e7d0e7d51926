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

from bngui.core.data import DataError, candidate_locations, load_mnist
from bngui.gui import tasks
from bngui.gui.jobs import Job


def where_we_looked(path=None):
    """Human-readable lines of the places searched for MNIST."""
    return [f"{why}: {location}" for why, location in candidate_locations(path)]


class DataDialog(QDialog):
    """Explains where MNIST was looked for and offers the ways to get it.

    ``data_loaded`` carries the loaded ``MnistSplits``; the dialog then closes.
    """

    data_loaded = Signal(object)

    def __init__(self, reason, path=None, origin=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("MNIST not found")
        self.setMinimumWidth(560)
        self._origin = origin
        self._download = None
        self.data = None

        layout = QVBoxLayout(self)
        looked = "".join(f"<li>{line}</li>" for line in where_we_looked(path))
        self.explanation = QLabel(
            f"<p><b>bngui needs the MNIST digits to train.</b></p><p>{reason}</p>"
            f"<p>Places searched:</p><ul>{looked}</ul>"
            "<p>Download it (about 11 MB, checked against Keras's sha256, kept in the Keras"
            " cache) or choose a copy: a Keras-layout <code>mnist.npz</code> or a folder with"
            " the four IDX <code>.gz</code> files.</p>"
        )
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
        self.download_button = QPushButton("Download")
        self.choose_file_button = QPushButton("Choose .npz file…")
        self.choose_folder_button = QPushButton("Choose IDX folder…")
        self.cancel_button = QPushButton("Cancel")
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
        self.cancel_button.setText("Cancel download")
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
            self.progress.setFormat(f"{done / 1e6:.1f} of {total / 1e6:.1f} MB")

    def _download_failed(self, message):
        self.message.setText(f"Download failed: {message}")

    def _download_ended(self):
        self.progress.setVisible(False)
        self._set_choices_enabled(True)
        self.cancel_button.setText("Cancel")
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
        path, _ = QFileDialog.getOpenFileName(self, "MNIST .npz file", "", "NumPy archive (*.npz)")
        if path:
            self.load_from(path)

    def _choose_folder(self):
        path = QFileDialog.getExistingDirectory(self, "Folder with the four MNIST IDX files")
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
