"""The missing-MNIST dialog, on its own and as the main window shows it."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from bngui.core.data import DataError, load_mnist

UNREACHABLE = "file:///nonexistent/mnist.npz"


@pytest.fixture
def nothing_found(monkeypatch, tmp_path):
    """No BNGUI_MNIST and an empty Keras cache in a temporary home."""
    monkeypatch.delenv("BNGUI_MNIST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    return tmp_path


def choices_enabled(dialog):
    return all(button.isEnabled() for button in
               (dialog.download_button, dialog.choose_file_button, dialog.choose_folder_button))


def test_a_failed_download_is_explained_and_can_be_retried(qtbot, make_dialog, nothing_found):
    dialog = make_dialog("MNIST not found (test)", origin=UNREACHABLE)
    qtbot.mouseClick(dialog.download_button, Qt.LeftButton)
    assert not choices_enabled(dialog)
    assert dialog.cancel_button.text() == "Cancel download"

    qtbot.waitUntil(lambda: choices_enabled(dialog), timeout=30_000)
    message = dialog.message.text()
    assert message.startswith("Download failed: could not download MNIST from " + UNREACHABLE), message
    assert not dialog.downloading
    assert dialog.isVisible() and dialog.result() != QDialog.Accepted
    assert dialog.cancel_button.text() == "Cancel"
    assert not dialog.progress.isVisible()
    # The failed download left nothing behind in the cache.
    cache = nothing_found / "keras" / "datasets"
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_bad_file_shows_the_data_error(qtbot, make_dialog, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a numpy archive")
    with pytest.raises(DataError) as expected:
        load_mnist(bad, allow_download=False)

    dialog = make_dialog("MNIST not found (test)", origin=UNREACHABLE)
    with qtbot.assertNotEmitted(dialog.data_loaded):
        dialog.load_from(bad)
    assert dialog.message.text() == str(expected.value)
    assert str(bad) in dialog.message.text()
    assert dialog.isVisible() and choices_enabled(dialog)


def test_a_good_copy_is_loaded_and_accepted(qtbot, make_dialog, mnist_path):
    dialog = make_dialog("MNIST not found (test)", origin=UNREACHABLE)
    with qtbot.waitSignal(dialog.data_loaded, timeout=60_000) as loaded:
        dialog.load_from(mnist_path)
    data = loaded.args[0]
    assert len(data.train_labels) == 55_000 and len(data.validation_labels) == 5_000
    assert dialog.data is data
    assert dialog.result() == QDialog.Accepted and not dialog.isVisible()


def test_cancel_closes_the_dialog(qtbot, make_dialog):
    dialog = make_dialog("MNIST not found (test)", origin=UNREACHABLE)
    qtbot.mouseClick(dialog.cancel_button, Qt.LeftButton)
    assert dialog.result() == QDialog.Rejected and not dialog.isVisible()


@pytest.mark.parametrize("where", ["nonexistent file", "nowhere"])
def test_the_window_asks_for_mnist_and_keeps_working(
    qtbot, make_window, tensorflow, nothing_found, mnist_path, where
):
    data_path = str(nothing_found / "missing" / "mnist.npz") if where == "nonexistent file" else None
    window = make_window(data_path=data_path)
    window.start_loading()
    qtbot.waitUntil(
        lambda: getattr(window, "data_dialog", None) is not None and window.data_dialog.isVisible(),
        timeout=30_000,
    )
    dialog = window.data_dialog
    if data_path is not None:
        assert data_path in dialog.explanation.text()
    assert "Keras cache" in dialog.explanation.text()

    # TensorFlow still loads; without data the window waits, usable, for MNIST.
    qtbot.waitUntil(lambda: window.controller.tensorflow_ready, timeout=120_000)
    assert window.controller.data is None and not window.ready
    assert not window.run_bar.start_button.isEnabled()
    assert window.statusBar().currentMessage().startswith("MNIST not")  # found / loaded
    assert not window.start_action.isEnabled()
    window.start_training()  # nothing happens but a word in the status bar
    assert not window.controller.running
    window.side_action.trigger()
    assert window.curves.mode == "side"

    # A copy chosen in the dialog makes the window ready.
    dialog.load_from(mnist_path)
    assert not dialog.isVisible()
    assert window.ready and window.run_bar.start_button.isEnabled()
    assert window.statusBar().currentMessage().startswith("Ready")


def test_the_file_menu_opens_the_dialog_again(qtbot, make_window):
    window = make_window()
    window.get_data_action.trigger()
    qtbot.waitUntil(lambda: window.data_dialog.isVisible(), timeout=5_000)
    qtbot.mouseClick(window.data_dialog.cancel_button, Qt.LeftButton)
    assert not window.data_dialog.isVisible()

