"""The experiment panel: presets that carry their settings and lesson, "modified", the wheel."""

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea

from bngui import cli
from bngui.core.settings import MAX_BATCH_SIZE, MAX_BATCHES, TrainSettings
from bngui.gui.presets import NOTEBOOK_SETTINGS, PRESETS
from bngui.gui.setup_panel import CUSTOM, SetupPanel


@pytest.fixture
def panel(qtbot):
    widget = SetupPanel()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_every_preset_sets_its_variants_settings_and_lesson(panel):
    panel.set_settings(TrainSettings(batches=300, batch_size=32, learning_rate=0.01, loss="softmax", seed=7))
    for name, preset in PRESETS.items():
        index = panel.preset.findData(name)
        panel.preset.setCurrentIndex(index)
        panel.preset.activated.emit(index)  # chosen by the user, also when already shown
        assert set(panel.selected_variants()) == set(preset.variants)
        settings = panel.settings()
        # The settings the lesson depends on (the notebook's unless the preset says
        # otherwise); the seed is the user's.
        assert {key: getattr(settings, key) for key in preset.settings} == preset.settings
        assert set(preset.settings) >= set(NOTEBOOK_SETTINGS)
        assert settings.seed == 7
        assert panel.lesson.text() == preset.lesson and len(panel.lesson.text()) > 40
        assert not panel.is_modified() and not panel.modified.isVisible()


def test_the_inference_lesson_runs_the_notebooks_800_batches(panel):
    panel.batches.setValue(300)
    panel.preset.setCurrentIndex(panel.preset.findData("Why inference mode matters"))
    assert panel.batches.value() == 800


def test_a_preset_changed_by_hand_shows_as_modified_until_restored(qtbot, panel):
    panel.apply_preset("Why inference mode matters")
    with qtbot.waitSignal(panel.settings_changed):
        panel.batches.setValue(300)
    assert panel.is_modified()
    assert panel.preset.currentData() == "Why inference mode matters"  # still that preset
    assert panel.modified.isVisible() and "batches" in panel.modified.text()
    panel.learning_rate.setValue(0.01)
    assert "batches" in panel.modified.text() and "learning rate" in panel.modified.text()
    # The seed is not part of any lesson.
    qtbot.mouseClick(panel.restore_button, Qt.LeftButton)
    assert not panel.is_modified() and not panel.modified.isVisible()
    assert panel.batches.value() == 800 and panel.learning_rate.value() == pytest.approx(0.002)
    panel.seed.setValue(5)
    assert not panel.is_modified()


def test_other_variants_make_it_custom_and_the_custom_entry_cannot_be_chosen(panel):
    panel.apply_preset("All ten")
    panel.checkboxes["baseline"].setChecked(False)
    assert panel.preset.currentData() == CUSTOM and panel.current_preset is None
    assert not panel.is_modified()
    custom = panel.preset.model().item(panel.preset.findData(CUSTOM))
    assert not custom.isEnabled()
    # Ticking it back makes it the preset again, recognised whatever the order.
    panel.select_variants(list(reversed(PRESETS["Learning-rate headroom (x10)"].variants)))
    assert panel.preset.currentData() == "Learning-rate headroom (x10)"


def wheel(widget, steps=1):
    """A mouse wheel turned over ``widget`` by ``steps`` notches (up)."""
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event


def test_the_wheel_scrolls_the_panel_and_changes_a_field_only_when_it_has_the_focus(qtbot):
    """An unfocused field ignores the wheel; Qt then gives a real (spontaneous) wheel event to
    the parents, and the scroll area scrolls. A test cannot make a spontaneous event, so the
    second step is shown by giving the event to the scroll area's viewport, as Qt would."""
    scroll = QScrollArea()
    qtbot.addWidget(scroll)
    panel = SetupPanel()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    scroll.resize(320, 300)  # shorter than the panel: it scrolls
    scroll.show()
    qtbot.waitExposed(scroll)
    bar = scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum())
    for field in (panel.batch_size, panel.batches, panel.learning_rate, panel.seed, panel.loss, panel.preset):
        assert field.focusPolicy() == Qt.StrongFocus  # the wheel does not give the focus
        before = field.value() if hasattr(field, "value") else field.currentIndex()
        position = bar.value()
        event = wheel(field)
        after = field.value() if hasattr(field, "value") else field.currentIndex()
        assert after == before, f"the wheel changed {type(field).__name__} without the focus"
        assert not event.isAccepted()  # so Qt passes it on to the parents
        wheel(scroll.viewport())
        assert bar.value() < position, "the panel did not scroll"
        bar.setValue(bar.maximum())
    # Given the focus (clicked or tabbed to), the field takes the wheel, as usual.
    panel.batch_size.setFocus()
    qtbot.waitUntil(panel.batch_size.hasFocus, timeout=2000)
    wheel(panel.batch_size)
    assert panel.batch_size.value() == 65


def test_the_window_and_the_command_line_share_the_batch_limits(panel, capsys):
    assert panel.batches.maximum() == MAX_BATCHES
    assert panel.batch_size.maximum() == MAX_BATCH_SIZE
    TrainSettings(batches=MAX_BATCHES, batch_size=MAX_BATCH_SIZE).validate()
    for option, value in (("--batches", MAX_BATCHES + 1), ("--batch-size", MAX_BATCH_SIZE + 1)):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["train", "--variants", "baseline", option, str(value)])
        assert exit_info.value.code == cli.USAGE_ERROR
        assert f"{MAX_BATCHES:,}" in capsys.readouterr().err or option == "--batch-size"


def test_details_fold_away_and_come_back(qtbot, panel):
    assert panel.details.isVisible()
    qtbot.mouseClick(panel.details_button, Qt.LeftButton)
    assert not panel.details.isVisible() and not panel.details_shown
    assert panel.preset.isVisible() and panel.lesson.isVisible()  # the lesson stays
    qtbot.mouseClick(panel.details_button, Qt.LeftButton)
    assert panel.details.isVisible()


def test_the_setup_is_fixed_while_a_run_trains(panel):
    panel.set_running(True)
    assert not any(widget.isEnabled() for widget in
                   (panel.preset, panel.batches, panel.seed, *panel.checkboxes.values()))
    panel.set_running(False)
    assert panel.preset.isEnabled() and panel.checkboxes["baseline"].isEnabled()
