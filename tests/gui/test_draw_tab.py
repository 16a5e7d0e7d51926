"""The "Draw a digit" tab inside the main window, and the File menu's models."""

import pytest

WAIT_MS = 60_000


def test_the_window_has_a_draw_tab_and_model_menu_entries(make_window):
    window = make_window()
    titles = [window.tabs.tabText(index) for index in range(window.tabs.count())]
    assert titles == ["Training curves", "Inside the network", "Draw a digit"]
    file_actions = [action.text() for action in window.menuBar().actions()[0].menu().actions()]
    assert "&Load models…" in file_actions and "Save &models…" in file_actions
    # The results table makes room for drawing, and comes back with the curves.
    assert window.results.isVisible()
    window.tabs.setCurrentWidget(window.draw_page)
    assert not window.results.isVisible()
    window.tabs.setCurrentIndex(0)
    assert window.results.isVisible()
    # Until TensorFlow is ready the page loads nothing and says why.
    assert window.draw_page.inference is None
    assert "No models yet" in window.draw_page.predictions.hint.text()


def test_shipped_models_load_when_the_tab_is_shown_after_tensorflow(qtbot, make_window, tensorflow):
    window = make_window()
    window.controller.set_tensorflow_ready()
    assert window.draw_page.inference is None  # the tab is not shown: nothing to load yet
    window.tabs.setCurrentWidget(window.draw_page)
    qtbot.waitUntil(lambda: len(window.draw_page.models) == 3, timeout=WAIT_MS)
    assert [source for _, source in window.draw_page.models] == ["shipped with bngui"] * 3


def train_fake_run(qtbot, window, variant_ids):
    """A one-batch run of the fake trainer, whose models are then the window's trained ones."""
    window.setup_panel.select_variants(variant_ids)
    window.setup_panel.batches.setValue(1)
    with qtbot.waitSignal(window.controller.run_finished, timeout=WAIT_MS):
        window.start_action.trigger()


def test_models_trained_in_the_window_become_available(qtbot, fake_window, tensorflow,
                                                       shipped_models):
    trained = {"keras-conv-bn-relu": shipped_models["keras-conv-bn-relu"]}
    window = fake_window(models=trained)
    train_fake_run(qtbot, window, list(trained))
    qtbot.waitUntil(lambda: bool(window.draw_page.models), timeout=WAIT_MS)
    assert window.draw_page.models == [("keras-conv-bn-relu", "trained in this session")]


def test_file_menu_loads_and_saves_models(qtbot, fake_window, tensorflow, shipped_models, tmp_path,
                                          monkeypatch, message_boxes):
    from PySide6.QtWidgets import QFileDialog

    from bngui.core.storage import load_models, save_models

    trained = {"keras-conv-bn-relu": shipped_models["keras-conv-bn-relu"]}
    window = fake_window(models=trained)
    source = tmp_path / "run"
    save_models({"baseline": shipped_models["baseline"]}, source)
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *args, **kwargs: str(source)))
    window.load_models_action.trigger()
    qtbot.waitUntil(lambda: bool(window.draw_page.models), timeout=WAIT_MS)
    assert window.draw_page.models == [("baseline", "loaded from run")]

    # Saving with nothing trained is a message, not a crash or an empty folder.
    target = tmp_path / "saved"
    target.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *args, **kwargs: str(target)))
    window.save_models_action.trigger()
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=WAIT_MS)
    assert "no trained models" in message_boxes.pop()

    train_fake_run(qtbot, window, list(trained))
    qtbot.waitUntil(lambda: len(window.draw_page.models) == 2, timeout=WAIT_MS)
    window.save_models_action.trigger()
    qtbot.waitUntil(lambda: (target / "models" / "keras-conv-bn-relu.keras").exists(), timeout=WAIT_MS)
    models, problems = load_models(target)
    assert list(models) == ["keras-conv-bn-relu"] and not problems


def test_loading_a_folder_without_models_says_none_were_loaded(qtbot, fake_window, tensorflow,
                                                             shipped_models, tmp_path, message_boxes):
    from bngui.core.storage import save_models

    window = fake_window()
    empty = tmp_path / "empty"
    empty.mkdir()
    window.draw_page.load_models_folder(empty)
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=WAIT_MS)
    message = message_boxes.pop()
    assert message.startswith(f"No models were loaded from {empty}") and "Some models" not in message
    # A folder with one good model and one damaged file: that one could not be loaded.
    mixed = tmp_path / "mixed"
    save_models({"baseline": shipped_models["baseline"]}, mixed)
    (mixed / "models" / "keras-conv-bn-relu.keras").write_bytes(b"not a model")
    window.draw_page.load_models_folder(mixed)
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=WAIT_MS)
    message = message_boxes.pop()
    assert message.startswith("Loaded: baseline.") and "Some models could not be loaded" in message


@pytest.mark.parametrize("presentation", [False, True])
def test_prediction_rows_grow_with_presentation_mode(qtbot, make_window, presentation):
    window = make_window()
    window.presentation_action.setChecked(presentation)  # what F5 does
    window.tabs.setCurrentWidget(window.draw_page)
    window.draw_page.predictions.set_models([("baseline", "shipped with bngui")])
    row = window.draw_page.predictions.rows["baseline"]
    qtbot.waitUntil(lambda: row.isVisible())
    assert row.font().pointSize() == window.font().pointSize()
    assert (row.font().pointSize() == 17) == presentation
    assert row.height() >= row.fontMetrics().height() * 3
