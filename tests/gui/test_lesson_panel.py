"""The lesson panel: each step sets up what it says, from a prepared folder and without one;
the keys a presentation clicker sends move through the steps; the panel hides, comes back,
is remembered, and fits a projector in presentation mode."""

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_window_geometry import clipped_labels, fully_visible

from bngui.bench.fake_trainer import FakeTrainer, tiny_data
from bngui.core import lesson, session
from bngui.core.history import RunHistory
from bngui.core.lesson import STEPS, lesson_runs, write_lesson_manifest
from bngui.core.run_control import RunControl
from bngui.gui.network_view import HEATMAPS
from bngui.gui.presets import PRESETS

SESSION_TIMEOUT_MS = 60_000  # the first session opened in a process imports TensorFlow


def write_prepared_lesson(folder, runs=None):
    """A prepared lesson of fake runs (made-up curves, no models, no TensorBoard files)."""
    for run in lesson_runs():
        history = RunHistory(run.variants)
        FakeTrainer(run.variants, tiny_data(), run.settings, RunControl(), seconds_per_batch=0).run(
            history.handle)
        session.save_session(folder / run.id, run.settings, history, {})
    write_lesson_manifest(folder, lesson_runs() if runs is None else runs)
    return folder


@pytest.fixture
def prepared_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(session, "write_tensorboard", lambda folder, history: None)
    return write_prepared_lesson(tmp_path / "lesson")


def check_view(window, step):
    """The tab, layout, mode, layer, heatmap and toggle the step names are on screen."""
    tabs = {lesson.CURVES: 0, lesson.NETWORK: 1, lesson.DRAW: 2}
    assert window.tabs.currentIndex() == tabs[step.tab], step.key
    if step.layout is not None:
        assert window.curves.mode == step.layout
        assert window.side_button.isChecked() == (step.layout == lesson.SIDE_BY_SIDE)
    if step.training_mode is not None:
        assert window.curves.training_mode == step.training_mode
        assert window.training_mode_box.currentData() == step.training_mode
    view = window.network_view
    if step.layer is not None:
        assert view.activation_layer == step.layer
        assert view.layer_picker.currentData() == step.layer
    if step.heatmap is not None:
        assert view.heatmap is HEATMAPS[step.heatmap]
        assert view.heatmap_picker.currentData() == step.heatmap
    draw = window.draw_page
    if step.canvas_bug_toggle:
        assert draw.batch_statistics_box.isVisible() and not draw.batch_statistics
        assert window.focusWidget() is draw.batch_statistics_box  # the space bar turns it on


def check_setup(window, step):
    """The setup panel holds the step's run: its variants, its settings, its preset unmodified."""
    panel = window.setup_panel
    assert panel.selected_variants() == [v for v in panel.checkboxes if v in step.run.variants]
    assert panel.settings() == step.run.settings
    assert panel.current_preset is PRESETS[step.preset] and not panel.is_modified(), step.key


def scramble(window):
    """Set the window up unlike any step, so a step that sets something up is seen doing it."""
    window.tabs.setCurrentIndex(0)
    window.set_layout_mode(lesson.OVERLAY)
    window.set_training_mode(lesson.INFERENCE_MODE)
    window.network_view.set_activation_layer("fc")
    window.network_view.set_heatmap("mean")
    window.draw_page.batch_statistics_box.setChecked(True)
    window.setup_panel.select_variants(["baseline-lr10"])
    window.setup_panel.batches.setValue(37)


def test_the_steps_name_what_the_window_has():
    for step in STEPS:
        assert step.preset in PRESETS, step.key
        preset = PRESETS[step.preset]
        assert set(preset.variants) == set(step.run.variants), step.key
        assert all(getattr(step.run.settings, name) == value for name, value in preset.settings.items())
        assert step.heatmap is None or step.heatmap in HEATMAPS


def test_every_step_sets_up_what_it_says_without_a_prepared_folder(qtbot, fake_window):
    window = fake_window()
    panel = window.lesson_panel
    for index, step in enumerate(STEPS):
        scramble(window)
        assert window.show_lesson(index) is None  # nothing to open
        assert panel.current_step is step and window.lesson_in_front
        assert panel.position.text() == f"Step {index + 1} of {len(STEPS)}"
        assert step.title in panel.title.text() and panel.text.text() == step.text
        check_view(window, step)
        check_setup(window, step)
        # Not prepared: the panel offers to train the step's run here, and says how to prepare it.
        assert panel.start_button.isVisible() and panel.start_button.isEnabled()
        assert panel.start_button.text().startswith("Train this step's run (")
        assert "min)" in panel.start_button.text()
        assert "Not prepared" in panel.status.text()
        assert "bngui prepare-lesson DIR" in panel.status.text()
        assert panel.open_button.isVisible()


def test_train_this_steps_run_trains_it_live(qtbot, fake_window, prepared_folder):
    window = fake_window(seconds_per_batch=0)
    panel = window.lesson_panel
    panel.auto_box.setChecked(False)
    with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        window.open_lesson(prepared_folder, step=3)
    step = panel.current_step
    scramble(window)
    # Prepared or not, the step's run can be trained again, live: its settings, not the session.
    assert "Prepared" in panel.status.text() and panel.start_button.isVisible()
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        qtbot.mouseClick(panel.start_button, Qt.LeftButton)
        assert window.controller.running and not panel.start_button.isEnabled()
        assert "A run is training" in panel.status.text()
    assert window.history.variant_ids == step.run.variants
    assert window.controller.run_settings == step.run.settings
    assert window.history.finished is not None
    check_view(window, step)


def test_every_step_shows_its_prepared_session(qtbot, fake_window, prepared_folder):
    window = fake_window()
    panel = window.lesson_panel
    panel.auto_box.setChecked(False)  # each step set up by the test, to wait for its session
    with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        assert window.open_lesson(prepared_folder, step=len(STEPS) - 1) is True
    assert not panel.open_button.isVisible()
    previous_run = STEPS[-1].run
    for index, step in enumerate(STEPS):
        scramble(window)
        panel.show_step(index)
        job = window.set_up_lesson_step(step)
        # A session on screen already (the draw step after step 5: the notebook run) stays.
        assert (job is None) == (step.run == previous_run), step.key
        if job is not None:
            with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS) as opened:
                pass
            assert opened.args[0].folder == prepared_folder / step.run.id
        previous_run = step.run
        check_view(window, step)
        check_setup(window, step)
        history = window.history
        # The finished curves are on screen at once, and Start can train the same run live.
        assert history.variant_ids == step.run.variants and history.finished is not None
        assert history.variants[step.run.variants[0]].series("validation_accuracy")[0].size > 0
        assert "Prepared" in panel.status.text()
        assert window.run_bar.start_button.isEnabled()


def test_stepping_faster_than_sessions_open_ends_on_the_last_steps(qtbot, fake_window, prepared_folder):
    window = fake_window()
    panel = window.lesson_panel
    with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        window.open_lesson(prepared_folder, step=0)
    qtbot.waitUntil(lambda: window._lesson_job is None, timeout=5000)
    opened = []
    window.controller.session_opened.connect(lambda shown: opened.append(shown.folder.name))
    for _ in range(3):  # placements, keras-vs-low-level, inference-mode, faster than they open
        panel.next()
    assert panel.current_step.key == "inference-mode"
    qtbot.waitUntil(lambda: window._lesson_job is None and len(opened) > 0, timeout=SESSION_TIMEOUT_MS)
    # The one that was opening, then only the step the lecturer stopped at.
    assert opened == ["placements", "inference-mode"]
    assert window.history.variant_ids == panel.current_step.run.variants
    check_setup(window, panel.current_step)


def test_a_partly_prepared_lesson_offers_the_missing_runs(qtbot, fake_window, prepared_folder):
    write_lesson_manifest(prepared_folder, lesson_runs()[:1])
    window = fake_window()
    window.lesson_panel.auto_box.setChecked(False)
    with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        window.open_lesson(prepared_folder)
    panel = window.lesson_panel
    assert "Prepared" in panel.status.text() and not panel.open_button.isVisible()
    panel.show_step(1)
    assert window.set_up_lesson_step(panel.current_step) is None
    check_setup(window, panel.current_step)
    assert panel.start_button.isVisible() and "Missing from the prepared lesson" in panel.status.text()


def test_a_folder_that_is_not_a_lesson_gets_a_message(qtbot, fake_window, message_boxes, tmp_path):
    window = fake_window()
    assert window.open_lesson(tmp_path) is False
    assert len(message_boxes) == 1 and "not a prepared bngui lesson" in message_boxes[0]
    assert window.prepared_lesson is None
    message_boxes.clear()


def focus(qtbot, widget):
    window = widget.window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.waitUntil(widget.hasFocus, timeout=5000)


def press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def test_clicker_keys_move_through_the_steps_from_any_widget(qtbot, fake_window):
    window = fake_window()
    panel = window.lesson_panel
    window.show_lesson(0)
    panel.auto_box.setChecked(False)  # the steps only (setting each up is tested below)
    targets = [window.run_bar.start_button, window.results, window.smoothing_slider,
               window.setup_panel.preset, window.tabs.tabBar(), panel.next_button]
    smoothing = window.smoothing_slider.value()
    for widget in targets:
        index = panel.index
        focus(qtbot, widget)
        press(qtbot, Qt.Key.Key_PageDown)
        assert panel.index == index + 1, type(widget).__name__
        press(qtbot, Qt.Key.Key_PageUp)
        assert panel.index == index, type(widget).__name__
        press(qtbot, Qt.Key.Key_Right)
        assert panel.index == index + 1, type(widget).__name__
    assert window.smoothing_slider.value() == smoothing  # the arrows went to the lesson
    # "Set up each step as I go": the step a key moves to is on screen, whatever had the focus.
    panel.auto_box.setChecked(True)
    focus(qtbot, window.results)
    index = panel.index
    press(qtbot, Qt.Key.Key_Left)
    assert panel.index == index - 1
    check_view(window, panel.current_step)
    check_setup(window, panel.current_step)
    # The ends stay where they are.
    panel.show_step(0)
    press(qtbot, Qt.Key.Key_PageUp)
    assert panel.index == 0
    panel.show_step(len(STEPS) - 1)
    press(qtbot, Qt.Key.Key_PageDown)
    assert panel.index == len(STEPS) - 1


def test_fields_the_canvas_and_modifiers_keep_their_keys(qtbot, fake_window):
    window = fake_window()
    panel = window.lesson_panel
    window.show_lesson(2)
    window.setup_panel.set_details_shown(True)
    batches = window.setup_panel.batches
    window.setup_dock.raise_()
    focus(qtbot, batches)
    value = batches.value()
    press(qtbot, Qt.Key.Key_PageUp)  # a number field steps by ten
    assert panel.index == 2 and batches.value() > value
    press(qtbot, Qt.Key.Key_Left)
    assert panel.index == 2
    window.tabs.setCurrentWidget(window.draw_page)
    focus(qtbot, window.draw_page.canvas)
    for key in (Qt.Key.Key_Right, Qt.Key.Key_Left, Qt.Key.Key_PageDown):
        press(qtbot, key)
    assert panel.index == 2
    focus(qtbot, window.results)
    press(qtbot, Qt.Key.Key_PageDown, Qt.KeyboardModifier.ControlModifier)
    assert panel.index == 2
    # Behind the experiment panel's tab the lesson still takes the clicker, and comes forward.
    assert not window.lesson_in_front
    press(qtbot, Qt.Key.Key_PageDown)
    assert panel.index == 3
    qtbot.waitUntil(lambda: window.lesson_in_front, timeout=5000)


def test_the_panel_hides_comes_back_and_is_remembered(qtbot, fake_window):
    window = fake_window()
    panel = window.lesson_panel
    window.show_lesson(2)
    assert window.lesson_action.isChecked()
    window.lesson_action.trigger()  # View > Lesson panel
    assert window.lesson_dock.isHidden() and not window.lesson_action.isChecked()
    focus(qtbot, window.results)
    press(qtbot, Qt.Key.Key_PageDown)  # a hidden lesson leaves the keys alone
    assert panel.index == 2
    window.save_settings()
    again = fake_window()
    assert again.lesson_dock.isHidden() and again.lesson_panel.index == 2
    again.lesson_action.trigger()
    assert again.lesson_dock.isVisible() and again.lesson_action.isChecked()
    focus(qtbot, again.results)
    press(qtbot, Qt.Key.Key_PageDown)
    assert again.lesson_panel.index == 3
    again.save_settings()
    assert fake_window().lesson_dock.isVisible()


def test_the_lesson_goes_on_where_it_was_in_the_same_folder(qtbot, fake_window, prepared_folder,
                                                            tmp_path):
    window = fake_window()
    window.lesson_panel.auto_box.setChecked(False)
    with qtbot.waitSignal(window.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        window.open_lesson(prepared_folder)  # a new lesson starts at step 1
    assert window.lesson_panel.index == 0
    window.lesson_panel.show_step(4)
    window.save_settings()
    again = fake_window()
    assert again.lesson_panel.index == 4 and not again.lesson_panel.auto_box.isChecked()
    with qtbot.waitSignal(again.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        again.open_lesson(prepared_folder)  # what bngui --lesson DIR does
    assert again.lesson_panel.index == 4
    other = write_prepared_lesson(tmp_path / "another")
    with qtbot.waitSignal(again.controller.session_opened, timeout=SESSION_TIMEOUT_MS):
        again.open_lesson(other)
    assert again.lesson_panel.index == 0


@pytest.mark.parametrize("size", [(1280, 720), (1440, 900)], ids=["1280x720", "1440x900"])
def test_every_step_fits_a_projector_in_presentation_mode(qtbot, fake_window, size):
    window = fake_window()
    window.presentation_action.trigger()
    window.resize(*size)
    qtbot.waitUntil(lambda: (window.width(), window.height()) == size, timeout=5000)
    panel = window.lesson_panel
    assert panel.text.font().pointSize() >= 12 and panel.title.font().pointSize() >= 16
    for index in range(len(STEPS)):
        window.show_lesson(index)
        qtbot.wait(20)  # the panel's layout settles at the next turn of the event loop
        window.grab()  # painted, as on the projector (plots and labels take their sizes)
        assert window.size().toTuple() == size, f"step {index + 1}: the window grew"
        assert window.lesson_in_front
        for button in (panel.previous_button, panel.next_button, panel.set_up_button,
                       panel.start_button, panel.auto_box, panel.open_button):
            problem = fully_visible(button, window)
            assert problem is None, f"step {index + 1}, {button.text()!r}: {problem}"
        assert not clipped_labels(panel), clipped_labels(panel)
        # The whole why-text is on screen, without scrolling.
        assert panel.text_scroll.verticalScrollBar().maximum() == 0, f"step {index + 1} scrolls"
    assert window.curves.graphics.width() > 0.35 * size[0]  # the plots keep their room
