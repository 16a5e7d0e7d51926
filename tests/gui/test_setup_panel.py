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


# -- out-of-range settings say so at the field ------------------------------------

# (field, what a user types, the value it had, what the field says)
OUT_OF_RANGE = [
    ("batches", "0", 800, "Batches: 1 to 100,000"),
    ("batches", "250000", 800, "Batches: 1 to 100,000"),
    ("batch_size", "0", 64, "Batch size: 1 to 4,096"),
    ("batch_size", "9999", 64, "Batch size: 1 to 4,096"),
    ("learning_rate", "1000", 0.002, "Learning rate: 0.00001 to 10"),
    ("learning_rate", "0", 0.002, "Learning rate: 0.00001 to 10"),
    ("learning_rate", "-1", 0.002, "Learning rate: 0.00001 to 10"),
    ("seed", "-1", 0, "Seed: 0 to 2,147,483,647"),
    ("seed", "99999999999", 0, "Seed: 0 to 2,147,483,647"),
    ("repeats", "0", 1, "Repeat over seeds: 1 to 20"),
    ("repeats", "21", 1, "Repeat over seeds: 1 to 20"),
    ("precise_batches", "-5", 200, "Precise BN batches: 0 to 10,000"),
    ("precise_batches", "20000", 200, "Precise BN batches: 0 to 10,000"),
    ("batches", "", 800, "Batches: a whole number from 1 to 100,000"),
    ("batches", "12.5", 800, "Batches: a whole number from 1 to 100,000"),
    ("batch_size", "abc", 64, "Batch size: a whole number from 1 to 4,096"),
    ("learning_rate", "fast", 0.002, "Learning rate: a number from 0.00001 to 10"),
]


@pytest.fixture
def typed_panel(qtbot, panel):
    qtbot.waitExposed(panel)
    panel.apply_preset("Why inference mode matters")  # the notebook's settings
    panel.repeats.setValue(1)
    return panel


def type_into(qtbot, field, text):
    """Click into ``field``, replace its text by ``text`` as typed, press Enter and leave it
    for another field of the panel (the preset's)."""
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    field.lineEdit().selectAll()
    qtbot.keyClick(field.lineEdit(), Qt.Key_Delete)
    qtbot.keyClicks(field.lineEdit(), text)
    qtbot.keyClick(field.lineEdit(), Qt.Key_Return)
    panel = field.parent()
    while not isinstance(panel, SetupPanel):
        panel = panel.parent()
    panel.preset.setFocus()
    qtbot.waitUntil(lambda: not field.hasFocus(), timeout=2000)


@pytest.mark.parametrize(("name", "text", "before", "message"), OUT_OF_RANGE,
                         ids=[f"{name}={text!r}" for name, text, *_ in OUT_OF_RANGE])
def test_an_out_of_range_value_stays_as_typed_and_the_field_says_what_is_allowed(
        qtbot, typed_panel, name, text, before, message):
    panel = typed_panel
    field = getattr(panel, name)
    checked = panel.checked_fields[field]
    assert not panel.problems() and not checked.message.isVisible()
    with qtbot.waitSignal(panel.problems_changed):
        type_into(qtbot, field, text)
    # Not silently replaced: the text is what was typed, after Enter and after leaving the field.
    assert field.lineEdit().text() == text
    assert checked.problem == message and checked.message.isVisible()
    assert checked.message.text() == message
    assert checked.wrong  # the red frame
    assert panel.problems() == [message]
    # Folding the details away and back (presentation mode does) keeps it too.
    panel.set_details_shown(False)
    panel.set_details_shown(True)
    assert field.lineEdit().text() == text and panel.problems() == [message]
    # The settings keep the last right value meanwhile: always a valid TrainSettings.
    panel.settings().validate()
    # A right value clears it.
    with qtbot.waitSignal(panel.problems_changed):
        type_into(qtbot, field, str(before))
    assert not panel.problems() and checked.problem is None
    assert not checked.message.isVisible() and not checked.wrong
    assert field.value() == pytest.approx(before)


def test_a_preset_or_restored_settings_replace_a_wrong_text(qtbot, typed_panel):
    panel = typed_panel
    type_into(qtbot, panel.batches, "0")
    type_into(qtbot, panel.learning_rate, "1000")
    assert len(panel.problems()) == 2
    panel.set_settings(panel.settings())  # the same values as before: the texts are set again
    assert not panel.problems()
    assert panel.batches.lineEdit().text() == "800"
    type_into(qtbot, panel.batch_size, "0")
    panel.apply_preset("All ten")
    assert not panel.problems() and panel.batch_size.lineEdit().text() == "64"


def test_stepping_from_a_wrong_text_clears_the_problem(qtbot, typed_panel):
    panel = typed_panel
    type_into(qtbot, panel.batches, "0")
    assert panel.problems()
    panel.batches.stepBy(1)  # the arrow or the wheel: from the last right value
    assert not panel.problems()
    assert panel.batches.lineEdit().text() == str(panel.batches.value())


def test_the_seeds_of_a_repeated_run_must_all_be_seeds(qtbot, typed_panel):
    panel = typed_panel
    type_into(qtbot, panel.seed, "2147483647")
    assert not panel.problems()
    type_into(qtbot, panel.repeats, "3")
    assert panel.problems() == ["Seed: 0 to 2,147,483,645 with 3 seeds"]
    assert panel.checked_fields[panel.seed].wrong
    type_into(qtbot, panel.seed, "2147483645")
    assert not panel.problems()
    panel.settings().validate()


def test_settings_a_session_may_hold_fit_the_fields_unchanged(panel):
    """The fields' ranges are the ones the command line accepts: a session trained there opens
    as it was, not clamped (a learning rate of 5 stayed 1.0 before)."""
    from bngui.core.settings import MAX_LEARNING_RATE, MAX_SEED, MIN_LEARNING_RATE

    for settings in (TrainSettings(learning_rate=MAX_LEARNING_RATE, seed=MAX_SEED, batches=1),
                     TrainSettings(learning_rate=MIN_LEARNING_RATE, batch_size=MAX_BATCH_SIZE,
                                   batches=MAX_BATCHES, precise_batches=0)):
        panel.set_settings(settings.validate())
        assert panel.settings() == settings and not panel.problems()


def test_start_is_disabled_and_says_why_while_a_field_is_wrong(qtbot, fake_window):
    window = fake_window()
    panel, start = window.setup_panel, window.run_bar.start_button
    assert start.isEnabled() and window.start_action.isEnabled()
    type_into(qtbot, panel.batches, "0")
    type_into(qtbot, panel.learning_rate, "1000")
    assert not start.isEnabled() and not window.start_action.isEnabled()
    assert start.toolTip().splitlines()[1:] == ["Batches: 1 to 100,000", "Learning rate: 0.00001 to 10"]
    assert "Batches: 1 to 100,000 (and 1 more)" in window.statusBar().currentMessage()
    assert window.run_status.text() == "Correct the settings to start"
    assert "out of its range" in window.curves.hint.text()  # the empty plots say it too
    window.start_training()  # Ctrl+Return, or a click that slipped through: nothing starts
    assert not window.controller.running
    type_into(qtbot, panel.batches, "300")
    assert not start.isEnabled()  # the learning rate is still wrong
    type_into(qtbot, panel.learning_rate, "0.002")
    assert start.isEnabled() and window.start_action.isEnabled()
    assert "Batches" not in start.toolTip()
    assert window.run_status.text() == "Ready to start"
    assert "Press Start" in window.curves.hint.text()
    assert panel.settings().batches == 300


def test_folded_away_the_wrong_fields_are_still_named(qtbot, typed_panel):
    panel = typed_panel
    type_into(qtbot, panel.batches, "0")
    assert not panel.folded_problems.isVisible()  # the field itself says it
    panel.set_details_shown(False)  # presentation mode folds the details
    assert panel.folded_problems.isVisible()
    assert panel.folded_problems.text() == "Batches: 1 to 100,000"
    panel.set_details_shown(True)
    assert not panel.folded_problems.isVisible()
    assert panel.batches.lineEdit().text() == "0"
