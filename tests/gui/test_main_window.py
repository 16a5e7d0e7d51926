"""The main window driven as a user would.

Behaviour that does not depend on learning (pause, resume, layouts, stop,
closing) is driven with the fake trainer (bngui/bench/fake_trainer.py). Two
runs train the real network on the real MNIST: one short run whose curves,
table, exports and session are checked, and one in a separate process that
exits the application while training.
"""

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QImage

import bngui
from bngui.core import events
from bngui.core.events import Phase
from bngui.core.variants import VARIANTS_BY_ID
from bngui.gui.curves_widget import OVERLAY, SIDE_BY_SIDE
from bngui.gui.results_table import COLUMNS
from bngui.gui.variant_names import compact_label

BASELINE, BN = "baseline", "keras-conv-bn-relu"
NOTEBOOK_PAIR = [BASELINE, BN]  # the default preset
SHORT_RUN_BATCHES = 120  # validation at batch 0, at batch 100 and at the end
BATCH_SIZE = 64
LONG_RUN_BATCHES = 5000  # for runs that are stopped or closed long before the end
# Tracing the training step takes 8-15 s per pair of variants on an idle
# 2-core machine, and much longer while it is busy with other work.
FIRST_PROGRESS_TIMEOUT_MS = 180_000
RUN_TIMEOUT_MS = 300_000


def configure_run(window, variants, batches, batch_size=BATCH_SIZE):
    """Set the setup panel as a user would before pressing Start."""
    panel = window.setup_panel
    panel.select_variants(variants)
    panel.batches.setValue(batches)
    panel.batch_size.setValue(batch_size)
    panel.precise_batches.setValue(20)  # a short precise BN: the runs here are short too
    assert panel.selected_variants() == list(variants)


def click(qtbot, button):
    assert button.isEnabled(), f"{button.text()} is disabled"
    qtbot.mouseClick(button, Qt.LeftButton)


def batches_done(window):
    return window.history.progress.batches_done if window.history.progress else 0


def points(window, variant, series):
    """(x, y) of the smoothed or only curve of ``series`` in the current layout."""
    x, y = window.curves.curves[(variant, series)][0].getData()
    return (np.array([]), np.array([])) if x is None else (np.asarray(x), np.asarray(y))


def table_rows(window):
    """{variant id: {column name: cell text}} of the results table."""
    table = window.results
    rows = {}
    for row in range(table.rowCount()):
        variant = table.item(row, 0).toolTip()
        rows[variant] = {name: table.item(row, column).text() for column, name in enumerate(COLUMNS)}
    return rows


def start_and_wait_for_first_progress(qtbot, window):
    click(qtbot, window.run_bar.start_button)
    assert window.controller.running
    assert not window.run_bar.start_button.isEnabled()
    assert window.run_bar.pause_button.isEnabled() and window.run_bar.stop_button.isEnabled()
    qtbot.waitUntil(lambda: window.history.progress is not None, timeout=FIRST_PROGRESS_TIMEOUT_MS)


# -- pause, resume and layouts while training (fake trainer) ---------------------------


def test_pause_resume_and_layout_switches_while_training(qtbot, fake_window):
    window = fake_window(seconds_per_batch=0.02)
    configure_run(window, NOTEBOOK_PAIR, 1000)
    start_and_wait_for_first_progress(qtbot, window)
    assert not window.start_action.isEnabled() and window.stop_action.isEnabled()
    assert not window.open_session_action.isEnabled()

    # Pause: the trainer acknowledges it, and no batch is trained while paused.
    click(qtbot, window.run_bar.pause_button)
    qtbot.waitUntil(lambda: window.history.phase == Phase.PAUSED, timeout=10_000)
    assert window.controller.paused
    assert window.run_bar.pause_button.text() == "Resume"
    paused_at = batches_done(window)
    assert paused_at < 1000
    for _ in range(2):
        with qtbot.waitSignal(window.redraw_timer.timeout, timeout=2000):
            pass
    assert batches_done(window) == paused_at
    assert {row["State"] for row in table_rows(window).values()} == {"paused"}

    # Resume: training goes on.
    click(qtbot, window.run_bar.pause_button)
    assert window.run_bar.pause_button.text() == "Pause"
    qtbot.waitUntil(lambda: batches_done(window) > paused_at, timeout=10_000)
    assert window.history.phase == Phase.TRAINING

    # Side by side while training: the new curves get the data so far, then more.
    click(qtbot, window.side_button)
    assert window.curves.mode == SIDE_BY_SIDE and window.side_action.isChecked()
    assert len(window.curves.plots) == 2 * len(NOTEBOOK_PAIR)
    shown = len(points(window, BN, "train_loss")[0])
    assert shown >= 1, "the side-by-side curves start empty"
    qtbot.waitUntil(lambda: len(points(window, BN, "train_loss")[0]) > shown, timeout=10_000)

    # Back to overlay (through the View menu) while still training.
    assert window.controller.running
    window.overlay_action.trigger()
    assert window.curves.mode == OVERLAY and window.overlay_button.isChecked()
    assert len(window.curves.plots) == 4
    shown = len(points(window, BN, "train_loss")[0])
    assert shown >= 2
    qtbot.waitUntil(lambda: len(points(window, BN, "train_loss")[0]) > shown, timeout=10_000)

    # The end: Start comes back once the run has finished.
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=60_000)
    assert not window.controller.running and window.start_action.isEnabled()
    assert window.history.finished.status == events.DONE
    assert not window.run_bar.pause_button.isEnabled()
    assert window.run_status.text().startswith("Run done in")
    assert window.save_session_action.isEnabled()


# -- one real short run ------------------------------------------------------------------


@pytest.mark.mnist
def test_a_short_real_run_shows_its_curves_results_and_saves_a_session(
        qtbot, make_window, mnist_path, tmp_path):
    # Start-up as the application does it: TensorFlow and MNIST loaded in the background.
    window = make_window(data_path=str(mnist_path))
    assert not window.run_bar.start_button.isEnabled() and not window.start_action.isEnabled()
    assert not window.save_session_action.isEnabled()
    window.start_loading()
    qtbot.waitUntil(lambda: window.ready, timeout=120_000)
    qtbot.waitUntil(lambda: all(job.isFinished() for job in window.controller.jobs), timeout=120_000)
    assert window.statusBar().currentMessage().startswith("Ready")
    assert window.setup_panel.selected_variants() == NOTEBOOK_PAIR
    configure_run(window, NOTEBOOK_PAIR, SHORT_RUN_BATCHES)

    start_and_wait_for_first_progress(qtbot, window)
    qtbot.waitUntil(lambda: window.run_bar.start_button.isEnabled(), timeout=RUN_TIMEOUT_MS)
    assert not window.controller.running
    assert window.history.finished.status == events.DONE
    assert window.run_status.text().startswith("Run done in")

    check_curves_after_run(window)
    check_results_table_after_run(window)
    check_exports_after_run(window, tmp_path)
    check_network_view_after_run(window, tmp_path)
    check_session_round_trip(qtbot, window, tmp_path / "session")


def check_curves_after_run(window):
    for variant in NOTEBOOK_PAIR:
        x, y = points(window, variant, "validation_accuracy")
        assert x.tolist() == [0, 100, SHORT_RUN_BATCHES], variant
        assert np.all((y >= 0) & (y <= 1)), y
        x, y = points(window, variant, "validation_loss")
        assert x.tolist() == [0, 100, SHORT_RUN_BATCHES] and np.all(np.isfinite(y))
        for series in ("train_loss", "train_accuracy"):
            smoothed, raw = window.curves.curves[(variant, series)]
            assert np.asarray(raw.getData()[0]).tolist() == [0, 25, 50, 75, 100]
            assert np.asarray(smoothed.getData()[0]).tolist() == [0, 25, 50, 75, 100]


def check_results_table_after_run(window):
    rows = table_rows(window)
    assert set(rows) == set(NOTEBOOK_PAIR)
    for variant, row in rows.items():
        assert row["Variant"] == compact_label(variant)
        assert row["State"] == "done"
        # Flagged cells end with a warning sign (early in a run, BN's population
        # statistics still lag behind its training-mode accuracy).
        for column in ("Validation", "Test", "100 samples"):
            value = float(row[column].replace("⚠", ""))
            assert 0 <= value <= 1, (variant, column, row[column])
        assert float(row["Seconds"]) > 0


def check_exports_after_run(window, folder):
    png = folder / "p.png"
    window.export_plots(png)
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 1000
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 0 and image.height() > 0

    svg = folder / "p.svg"
    window.export_plots(svg)
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text and "<path" in text
    assert ElementTree.fromstring(text).tag.endswith("svg")
    for variant in NOTEBOOK_PAIR:  # the curves are drawn in the variants' colours
        assert VARIANTS_BY_ID[variant].color.lower() in text.lower(), variant

    csv_path = folder / "m.csv"
    window.export_metrics(csv_path)
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "variant,batch,split,loss,accuracy"
    rows = [line.split(",") for line in lines[1:]]
    assert len(rows) == len(window.history.metrics)
    assert {(row[0], row[2]) for row in rows} == {
        (variant, split) for variant in NOTEBOOK_PAIR for split in (events.TRAIN, events.VALIDATION)
    }
    assert ["baseline", str(SHORT_RUN_BATCHES), "validation"] == next(
        row[:3] for row in reversed(rows) if row[0] == "baseline"
    )


def check_network_view_after_run(window, folder):
    """The "Inside the network" tab shows the run's statistics, and exports them."""
    window.tabs.setCurrentWidget(window.network_view)  # redraws the tab
    view = window.network_view
    assert view.stack.currentWidget() is view.plots_scroll
    for variant in NOTEBOOK_PAIR:
        low, median, high, _ = view.activation_curves[variant]
        x, _ = median.getData()
        assert np.asarray(x).tolist() == [0, 100, SHORT_RUN_BATCHES], variant  # as validation
        image = view.heatmaps[variant].image
        assert image is not None and image.size > 0
    png, svg = folder / "network.png", folder / "network.svg"
    window.export_plots(png)
    assert not QImage(str(png)).isNull()
    window.export_plots(svg)
    assert "<path" in svg.read_text(encoding="utf-8")
    window.tabs.setCurrentIndex(0)


def shown_curves(window):
    return {key: [np.asarray(values).copy() for values in pair[0].getData()]
            for key, pair in window.curves.curves.items()}


def check_session_round_trip(qtbot, window, folder):
    """Save the finished run, blank the window, open the session: everything is back."""
    curves, rows = shown_curves(window), table_rows(window)
    _, gradients = window.history.variants[BN].gradient_matrix()
    images = np.random.default_rng(1).uniform(size=(5, 28, 28, 1)).astype(np.float32)
    controller = window.controller
    predictions = {vid: model(images, training=False).numpy()
                   for vid, model in controller.run_models.items()}
    # The trained models, and the BN model with precise-BN statistics beside the original.
    assert set(predictions) == {*NOTEBOOK_PAIR, f"{BN}-precise"}

    job = window.save_session(folder)
    qtbot.waitUntil(job.isFinished, timeout=60_000)
    assert (folder / "session.json").is_file() and (folder / "tensorboard" / BN).is_dir()

    window.history.reset(NOTEBOOK_PAIR)
    controller.run_models = {}
    window.redraw()
    assert len(points(window, BN, "validation_accuracy")[0]) == 0

    job = window.open_session(folder)
    qtbot.waitUntil(lambda: job.isFinished() and bool(controller.run_models), timeout=60_000)
    window.redraw()
    reopened = shown_curves(window)
    assert reopened.keys() == curves.keys()
    for key, (x, y) in curves.items():
        np.testing.assert_array_equal(reopened[key][0], x)
        np.testing.assert_array_equal(reopened[key][1], y)
    assert table_rows(window) == rows
    np.testing.assert_array_equal(window.history.variants[BN].gradient_matrix()[1], gradients)
    for vid, expected in predictions.items():
        np.testing.assert_array_equal(controller.run_models[vid](images, training=False).numpy(),
                                      expected)


def test_opening_a_folder_that_is_not_a_session_explains_why(qtbot, make_window, message_boxes, tmp_path):
    (tmp_path / "results.json").write_text("{}")
    window = make_window()
    job = window.open_session(tmp_path)
    qtbot.waitUntil(job.isFinished, timeout=60_000)
    qtbot.waitUntil(lambda: bool(message_boxes), timeout=5000)
    assert "older bngui" in message_boxes[0] and str(tmp_path) in message_boxes[0]
    message_boxes.clear()


def test_save_session_without_a_finished_run_says_so(make_window, message_boxes, tmp_path):
    window = make_window()
    assert window.save_session(tmp_path / "s") is None
    assert "no finished run" in message_boxes[0]
    assert not (tmp_path / "s").exists()
    message_boxes.clear()


# -- stopping and closing --------------------------------------------------------


def test_stop_ends_the_run_within_seconds(qtbot, fake_window):
    window = fake_window(seconds_per_batch=0.01)
    configure_run(window, [BASELINE], LONG_RUN_BATCHES)
    start_and_wait_for_first_progress(qtbot, window)

    started = time.perf_counter()
    with qtbot.waitSignal(window.controller.run_finished, timeout=10_000):
        click(qtbot, window.run_bar.stop_button)
    assert time.perf_counter() - started < 5

    assert not window.controller.running
    assert window.history.finished.status == events.STOPPED
    assert {record.state for record in window.history.variants.values()} == {events.STOPPED}
    assert {row["State"] for row in table_rows(window).values()} == {events.STOPPED}
    bar = window.run_bar
    assert bar.start_button.isEnabled()
    assert not bar.pause_button.isEnabled() and not bar.stop_button.isEnabled()
    assert window.setup_panel.batches.isEnabled()
    assert window.run_status.text().startswith("Run stopped in")


def test_stopping_says_so_at_once_and_the_time_left_goes(qtbot, fake_window):
    # Batches of 0.3 s: a stop takes effect at the end of the one in progress.
    window = fake_window(seconds_per_batch=0.3)
    configure_run(window, [BASELINE], LONG_RUN_BATCHES)
    start_and_wait_for_first_progress(qtbot, window)
    bar = window.run_bar
    qtbot.waitUntil(lambda: "left" in bar.speed.text(), timeout=5000)
    click(qtbot, bar.stop_button)
    assert window.controller.stopping
    assert window.run_status.text() == "Stopping…"
    assert not bar.stop_button.isEnabled() and not window.stop_action.isEnabled()
    assert not bar.pause_button.isEnabled()
    assert "left" not in bar.speed.text()
    qtbot.waitUntil(lambda: not window.controller.running, timeout=10_000)
    qtbot.wait(50)
    assert window.run_status.text().endswith("not scored")
    assert "left" not in bar.speed.text()


def test_closing_the_window_during_training_ends_the_thread(qtbot, fake_window, settings_path):
    window = fake_window(seconds_per_batch=0.01)
    configure_run(window, [BASELINE], LONG_RUN_BATCHES)
    start_and_wait_for_first_progress(qtbot, window)
    assert window.controller.running

    started = time.perf_counter()
    window.close()
    seconds = time.perf_counter() - started

    assert seconds < 3, f"closing took {seconds:.1f} s"
    assert not window.controller.running
    assert not window.redraw_timer.isActive()
    assert not window.isVisible()
    # Closing saves the settings.
    assert QSettings(str(settings_path), QSettings.IniFormat).value("setup/batches") in (
        LONG_RUN_BATCHES, str(LONG_RUN_BATCHES))


APP_EXIT_SCRIPT = textwrap.dedent(
    """
    import os, sys, time
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from bngui.gui.app import run_app

    app = QApplication(sys.argv)  # run_app reuses it
    started = False

    def drive():
        global started
        windows = [w for w in app.topLevelWidgets() if type(w).__name__ == "MainWindow"]
        if not windows:
            return
        window = windows[0]
        if not started:
            if window.ready:
                window.setup_panel.select_variants(["baseline"])
                window.setup_panel.batches.setValue(5000)
                window.run_bar.start_button.click()
                started = window.controller.running
                print("training started", flush=True)
            return
        if window.history.progress is not None:
            driver.stop()
            began = time.perf_counter()
            window.close()  # the last window: the application quits
            print(f"closed in {time.perf_counter() - began:.2f} s,"
                  f" training thread running: {window.controller.running}", flush=True)

    driver = QTimer()
    driver.timeout.connect(drive)
    driver.start(50)
    QTimer.singleShot(170_000, lambda: (print("driver gave up", flush=True), app.exit(3)))
    code = run_app()
    print("run_app returned", code, flush=True)
    sys.exit(code)
    """
)


@pytest.mark.mnist
def test_application_exits_cleanly_when_closed_during_training(tmp_path, mnist_path):
    """The real start-up and exit path (run_app), in its own process."""
    environment = dict(os.environ)
    project_root = str(Path(bngui.__file__).resolve().parents[1])
    environment.update(
        QT_QPA_PLATFORM="offscreen",
        BNGUI_MNIST=str(mnist_path),
        HOME=str(tmp_path),  # QSettings("bngui", "bngui") and the Keras cache land here
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        KERAS_HOME=str(tmp_path / "keras"),
        PYTHONPATH=os.pathsep.join(filter(None, [project_root, os.environ.get("PYTHONPATH")])),
    )
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", APP_EXIT_SCRIPT],
        env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=200,
    )
    seconds = time.perf_counter() - started
    report = f"after {seconds:.0f} s\nstdout:\n{result.stdout}\nstderr (end):\n{result.stderr[-3000:]}"
    assert result.returncode == 0, report
    assert "training thread running: False" in result.stdout, report
    closed_in = float(result.stdout.split("closed in ")[1].split(" s")[0])
    assert closed_in < 3, report
    for bad in ("QThread: Destroyed", "Segmentation fault", "Fatal Python error", "Traceback"):
        assert bad not in result.stderr, report
    assert (tmp_path / "config" / "bngui" / "bngui.conf").exists(), "settings were not saved on exit"


# -- no training needed ------------------------------------------------------------


def test_settings_are_restored_in_the_next_window(qtbot, make_window):
    window = make_window()
    window.setup_panel.select_variants(["baseline", "nn-conv-bn-relu"])
    window.setup_panel.batches.setValue(321)
    window.setup_panel.batch_size.setValue(32)
    window.setup_panel.loss.setCurrentText("softmax")
    click(qtbot, window.side_button)
    window.presentation_action.trigger()
    window.smoothing_slider.setValue(30)
    window.save_settings()
    window.close()

    again = make_window()  # the same settings file
    panel = again.setup_panel
    assert panel.selected_variants() == ["baseline", "nn-conv-bn-relu"]
    assert panel.preset.currentText() == "Custom"
    settings = panel.settings()
    assert (settings.batches, settings.batch_size, settings.loss) == (321, 32, "softmax")
    assert again.curves.mode == SIDE_BY_SIDE
    assert again.side_button.isChecked() and again.side_action.isChecked()
    assert again.presentation_action.isChecked()
    assert again.font().pointSize() == window.font().pointSize()
    assert again.smoothing_slider.value() == 30 and again.curves.smoothing == pytest.approx(0.3)


def test_presentation_mode_enlarges_fonts_and_lines(qtbot, make_window):
    window = make_window()
    with qtbot.waitActive(window):
        window.activateWindow()  # shortcuts reach the active window only

    def line_width():
        return window.curves.curves[(BASELINE, "validation_accuracy")][0].opts["pen"].widthF()

    font_before, width_before = window.font().pointSize(), line_width()
    qtbot.keyClick(window, Qt.Key_F5)
    assert window.presentation_action.isChecked()
    assert window.font().pointSize() > font_before
    assert line_width() > width_before
    assert window.run_bar.start_button.font().pointSize() > font_before  # children inherit it

    qtbot.keyClick(window, Qt.Key_F5)
    assert not window.presentation_action.isChecked()
    assert line_width() == width_before


def test_a_layout_switch_without_a_run_keeps_empty_curves(qtbot, make_window):
    window = make_window()
    for mode, button in ((SIDE_BY_SIDE, window.side_button), (OVERLAY, window.overlay_button)):
        click(qtbot, button)
        assert window.curves.mode == mode
        assert all(len(points(window, v, s)[0]) == 0 for v, s in window.curves.curves)


def test_the_experiment_panel_can_be_hidden_and_brought_back(qtbot, make_window):
    window = make_window()
    assert window.panel_action.isEnabled() and window.setup_dock.isVisible()
    window.panel_action.trigger()  # View > Experiment panel, Ctrl+E
    assert not window.setup_dock.isVisible()
    assert window.panel_action.shortcut().toString() == "Ctrl+E"
    window.panel_action.trigger()
    assert window.setup_dock.isVisible()


def test_presets_of_issue_five_and_their_names_whatever_the_order(make_window):
    from bngui.gui.presets import PRESETS

    panel = make_window().setup_panel
    panel.preset.setCurrentText("Why inference mode matters")
    assert set(panel.selected_variants()) == {
        "keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch-stats"}
    # A session lists its variants in its own order; the preset is still recognised.
    panel.select_variants(list(reversed(PRESETS["Learning-rate headroom (x10)"].variants)))
    assert panel.preset.currentText() == "Learning-rate headroom (x10)"
    panel.select_variants(["baseline", "keras-conv-bn-relu-lr10"])
    assert panel.preset.currentText() == "Custom"


# -- classroom-ready (issue 12) ----------------------------------------------------------


def run_fake(qtbot, window, variants=NOTEBOOK_PAIR, batches=60):
    configure_run(window, variants, batches)
    with qtbot.waitSignal(window.controller.run_finished, timeout=30_000):
        click(qtbot, window.run_bar.start_button)
    window.redraw()


def test_the_table_is_marked_as_the_previous_run_when_the_setup_changes(qtbot, fake_window):
    window = fake_window()
    run_fake(qtbot, window)
    panel = window.setup_panel
    assert not window.results_caption.isVisible() and not window.results.previous_run
    panel.batches.setValue(61)  # the settings changed
    assert window.results_caption.isVisible() and window.results.previous_run
    assert window.results.item(0, 0).font().italic()
    panel.batches.setValue(60)  # back to the run's own
    assert not window.results_caption.isVisible() and not window.results.previous_run
    panel.apply_preset("All ten")  # the selection changed
    assert window.results_caption.isVisible()
    assert set(table_rows(window)) == set(NOTEBOOK_PAIR)  # still that run's rows, greyed
    assert window.curves.variant_ids == tuple(NOTEBOOK_PAIR)  # and its curves
    # A new run belongs to the table again.
    panel.batches.setValue(30)
    run_fake(qtbot, window, window.setup_panel.selected_variants(), 30)
    assert not window.results_caption.isVisible() and len(table_rows(window)) == 10


def test_a_one_batch_run_counts_its_batch_and_shows_its_points(qtbot, fake_window):
    window = fake_window()
    run_fake(qtbot, window, NOTEBOOK_PAIR, 1)
    progress = window.run_bar.progress
    assert progress.text() == "batch 1 / 1" and progress.value() == progress.maximum() == 1
    smoothed, _ = window.curves.curves[(BN, "train_accuracy")]
    assert len(points(window, BN, "train_accuracy")[0]) == 1 and smoothed.opts["symbol"] == "o"


def test_menus_have_distinct_mnemonics(make_window):
    import re

    window = make_window()
    menus = [action for action in window.menuBar().actions() if action.menu()]

    def letters(actions):
        found = [re.search(r"&(\w)", action.text()) for action in actions
                 if not action.isSeparator() and action.isVisible()]
        assert all(found), [action.text() for action in actions]
        return [match.group(1).lower() for match in found]

    top = letters(menus)
    assert len(top) == len(set(top)), top
    for menu in menus:
        inner = letters(menu.menu().actions())
        assert len(inner) == len(set(inner)), (menu.text(), inner)


def test_the_training_batch_mode_is_chosen_in_the_window_and_kept(qtbot, make_window):
    from bngui.gui.curves_widget import INFERENCE_MODE, TRAINING_MODE

    window = make_window()
    window.training_mode_box.setCurrentIndex(window.training_mode_box.findData(TRAINING_MODE))
    assert window.curves.training_mode == TRAINING_MODE and window.training_mode_action.isChecked()
    assert "training mode" in window.curves.plots[0].titleLabel.text
    window.save_settings()
    window.close()
    again = make_window()
    assert again.curves.training_mode == TRAINING_MODE
    again.training_mode_action.trigger()
    assert again.curves.training_mode == INFERENCE_MODE
    assert again.training_mode_box.currentData() == INFERENCE_MODE


def test_presentation_mode_folds_the_setup_details_but_keeps_the_run_bar(qtbot, make_window):
    window = make_window()
    assert window.setup_panel.details_shown
    window.presentation_action.trigger()
    assert not window.setup_panel.details_shown
    assert window.run_bar.isVisible() and window.run_bar.start_button.isVisible()
    assert window.run_bar.font().pointSize() > window.setup_panel.font().pointSize()
    window.presentation_action.trigger()
    assert window.setup_panel.details_shown


def test_first_launch_with_mnist_says_what_to_do(fake_window):
    window = fake_window()
    assert window.curves.hint.isVisible()
    assert "Press Start" in window.curves.hint.text() and "preset" in window.curves.hint.text()
    assert not window.notice.isVisible()
    assert window.run_bar.status.text() == "Ready to start"
    assert window.windowIcon().availableSizes()  # bngui's own icon


def test_first_launch_without_mnist_says_drawing_works_and_how_to_get_it(qtbot, make_window):
    window = make_window(data_path="/nowhere/mnist.npz")
    window.controller.data_missing.emit("MNIST was not found at /nowhere/mnist.npz")
    qtbot.waitUntil(lambda: window.data_dialog.isVisible(), timeout=5000)
    window.data_dialog.reject()  # closed: the notice stays
    notice = window.notice
    assert notice.isVisible()
    text = notice.text.text()
    assert "Draw a digit" in text and "shipped" in text and "Download" in text
    labels = [button.text() for button in notice.buttons]
    assert labels == ["Download MNIST", "Choose a file…", "Draw a digit"]
    # In the run bar, which is always on screen, and above the empty plots.
    assert notice.parentWidget().isAncestorOf(window.run_bar)
    assert "MNIST" in window.run_bar.status.text() and not window.run_bar.start_button.isEnabled()
    assert "Drawing a digit already works" in window.curves.hint.text()
    qtbot.mouseClick(notice.buttons[2], Qt.LeftButton)
    assert window.tabs.currentWidget() is window.draw_page
    # MNIST arrives: the notice goes.
    from bngui.bench.fake_trainer import tiny_data

    window.controller.set_data(tiny_data())
    assert not notice.isVisible()


def exported_parts_size(window):
    from bngui.gui.export import parts_size

    return parts_size(window._export_parts())


def svg_size(path):
    """(width, height) in CSS pixels, and the viewBox, of an SVG file."""
    root = ElementTree.parse(path).getroot()

    def pixels(value):
        number = float(value.rstrip("mpx"))
        return number * 96 / 25.4 if value.endswith("mm") else number

    box = [float(value) for value in root.get("viewBox").split()]
    return pixels(root.get("width")), pixels(root.get("height")), box


def colour_pixels(image, colour):
    """How many pixels of ``image`` are near ``colour`` (a '#rrggbb')."""
    from PySide6.QtGui import QColor

    target = QColor(colour)
    converted = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(converted.constBits(), np.uint8).reshape(converted.height(), -1, 4)
    bits = rows[:, :converted.width()]
    close = ((np.abs(bits[..., 2].astype(int) - target.red()) < 40)
             & (np.abs(bits[..., 1].astype(int) - target.green()) < 40)
             & (np.abs(bits[..., 0].astype(int) - target.blue()) < 40))
    return int(close.sum())


def render_svg(path, size):
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(path))
    assert renderer.isValid()
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(Qt.white)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


@pytest.mark.parametrize("tab", ["curves", "network"])
def test_exports_have_the_plots_size_and_hold_every_curve(qtbot, fake_window, tmp_path, tab):
    window = fake_window()
    window.resize(1440, 900)
    run_fake(qtbot, window, NOTEBOOK_PAIR, 300)
    if tab == "network":
        window.tabs.setCurrentWidget(window.network_view)
        window.redraw()
    size = exported_parts_size(window)
    assert size.width() > 500 and size.height() > 300
    svg = tmp_path / "plots.svg"
    window.export_plots(svg)
    width, height, box = svg_size(svg)
    for measured, expected in ((width, size.width()), (height, size.height()),
                               (box[2], size.width()), (box[3], size.height())):
        assert abs(measured - expected) <= 0.05 * expected, (measured, expected)
    if tab == "curves":
        # Vectors: the only pictures are the variant list's line samples (the markers are
        # paths too, not copies of a pixmap).
        assert svg.read_text(encoding="utf-8").count("<image") <= len(window.curves.variant_list.rows)
    # Every curve inside, as on screen: as many pixels of BN's colour in the drawing as
    # in the window's own picture of the same views.
    drawn = render_svg(svg, size)
    png = tmp_path / "plots.png"
    window.export_plots(png)
    picture = QImage(str(png))
    assert abs(picture.width() / picture.devicePixelRatio() - size.width()) <= 1
    colour = VARIANTS_BY_ID[BN].color
    on_screen = colour_pixels(picture.scaled(size), colour)
    assert on_screen > 200
    assert 0.7 * on_screen <= colour_pixels(drawn, colour) <= 1.3 * on_screen


def image_array(image, size):
    """``image`` scaled (smoothly) to ``size``, as an array of RGB values (height, width, 3)."""
    scaled = image.convertToFormat(QImage.Format.Format_RGB32).scaled(
        size, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)
    rows = np.frombuffer(scaled.constBits(), np.uint8).reshape(scaled.height(), -1, 4)
    return rows[:, :scaled.width(), 2::-1].astype(float)  # BGRA in memory


def strongly_coloured_share(pixels):
    """The share of pixels that are strongly coloured (the curves, not grey text or grid)."""
    return float(((pixels.max(axis=2) - pixels.min(axis=2)) > 80).mean())


def render_with_rsvg(rsvg_convert, path, size, out):
    subprocess.run([rsvg_convert, "-w", str(size.width()), "-h", str(size.height()), "-o",
                    str(out), str(path)], check=True, timeout=60)
    image = QImage(str(out))
    assert not image.isNull() and image.size() == size
    return image


def export_for_renderers(qtbot, window, tmp_path, view):
    """Export the window's plots (``view``: what the export shows) as SVG and as PNG; the
    size of the export."""
    window.resize(1440, 900)
    run_fake(qtbot, window, NOTEBOOK_PAIR, 300)
    if view == "network":
        window.tabs.setCurrentWidget(window.network_view)
        window.redraw()
    elif view == "zoomed curves":
        # Parts of every curve lie outside its plot: the SVG must not draw them there.
        for plot in window.curves.plots:
            plot.setXRange(100, 200, padding=0)
            plot.setYRange(0.3, 0.6, padding=0)
        window.redraw()
    svg, png = tmp_path / "plots.svg", tmp_path / "plots.png"
    window.export_plots(svg)
    window.export_plots(png)
    return svg, QImage(str(png)), exported_parts_size(window)


@pytest.mark.parametrize("view", ["curves", "zoomed curves", "network"])
def test_the_exported_svg_draws_the_same_in_rsvg_as_in_qt(qtbot, fake_window, tmp_path,
                                                         rsvg_convert, view):
    """librsvg (rsvg-convert, GNOME, many converters) once drew every plot under solid slabs
    of colour (pyqtgraph's cosmetic pens under huge transforms), and Qt's renderer shows
    what a clip hides in the others: both drawings of the SVG, and the window's own picture
    (the PNG export), agree."""
    svg, on_screen, size = export_for_renderers(qtbot, fake_window(), tmp_path, view)
    small = size / 4
    by_qt = image_array(render_svg(svg, size), small)
    by_rsvg = image_array(render_with_rsvg(rsvg_convert, svg, size, tmp_path / "rsvg.png"), small)
    picture = image_array(on_screen, small)
    colours = [strongly_coloured_share(pixels) for pixels in (picture, by_qt, by_rsvg)]
    assert colours[0] > 0.002, colours  # the curves are there
    for share in colours[1:]:
        assert 0.85 * colours[0] <= share <= 1.18 * colours[0], colours
    for drawing in (by_qt, by_rsvg):
        assert np.abs(drawing - picture).mean() < 4, np.abs(drawing - picture).mean()
    assert np.abs(by_rsvg - by_qt).mean() < 4


@pytest.mark.parametrize("view", ["curves", "zoomed curves"])
def test_the_exported_svg_needs_no_vector_effects_or_clips_and_keeps_its_text(
        qtbot, fake_window, tmp_path, view):
    """What makes renderers disagree is gone: no stroke that depends on
    vector-effect="non-scaling-stroke" (librsvg and ImageMagick ignore it), no stroke under
    a scaling transform, no clip (Qt's renderer ignores them). The titles, axis labels and
    the variant list are text, in the family Qt drew them with."""
    window = fake_window()
    svg, _, _ = export_for_renderers(qtbot, window, tmp_path, view)
    text = svg.read_text(encoding="utf-8")
    assert "non-scaling-stroke" not in text and "clip-path" not in text
    root = ElementTree.fromstring(text)
    shapes = {"path", "polyline", "polygon", "rect", "ellipse", "line"}

    def walk(element, scale):
        transform = element.get("transform")
        if transform:
            a, b, c, d = (float(value) for value in transform[7:-1].split(",")[:4])
            scale = max(scale, abs(a), abs(b), abs(c), abs(d))
        if element.tag.rpartition("}")[2] in shapes:
            stroke = element.get("stroke") or parents_stroke.get(element, "none")
            assert stroke == "none" or scale <= 1.001, (element.attrib, scale)
        for child in element:
            if child.get("stroke") is None and element.get("stroke"):
                parents_stroke[child] = element.get("stroke")
            elif child.get("stroke") is None and element in parents_stroke:
                parents_stroke[child] = parents_stroke[element]
            walk(child, scale)

    parents_stroke = {}
    walk(root, 0.0)
    words = [element.text.strip().replace("\u200b", "")  # the list's break opportunities
             for element in root.iter() if element.text and element.text.strip()]
    for label in ("Training loss", "Validation accuracy", "loss", "accuracy", "batch",
                  "Variants", "Baseline", "Keras BN", "conv→BN→ReLU"):  # the variant list
        assert any(label in word for word in words), (label, words[:40])
    families = {element.get("font-family") for element in root.iter() if element.get("font-family")}
    assert families and all(family.endswith("sans-serif") and family.startswith("'")
                            for family in families), families


def test_the_exported_pdf_holds_the_plots_as_vectors_at_their_size(qtbot, fake_window, tmp_path):
    window = fake_window()
    window.resize(1440, 900)
    run_fake(qtbot, window, NOTEBOOK_PAIR, 300)
    size = exported_parts_size(window)
    pdf = tmp_path / "plots.pdf"
    window.export_plots(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # One page, of the plots' size at the text's dots per inch (96 here; 72 points an inch).
    from bngui.gui.export import _text_dpi

    points_per_pixel = 72 / _text_dpi(window._export_parts())
    boxes = re.findall(rb"/MediaBox \[\s*([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)\s*\]", data)
    assert len(boxes) == 1, boxes
    width, height = float(boxes[0][2]) - float(boxes[0][0]), float(boxes[0][3]) - float(boxes[0][1])
    assert abs(width - size.width() * points_per_pixel) <= 1
    assert abs(height - size.height() * points_per_pixel) <= 1
    # Vectors: the only pictures are the variant list's line samples (each with its mask).
    assert data.count(b"/Subtype /Image") <= 2 * len(window.curves.variant_list.rows)
    assert b"/Font" in data  # text, not pictures of text


def test_save_session_makes_a_new_folder_and_refuses_someone_elses(qtbot, fake_window, tmp_path,
                                                                   monkeypatch, message_boxes):
    from PySide6.QtWidgets import QFileDialog

    window = fake_window()
    run_fake(qtbot, window)
    target = tmp_path / "lectures" / "week 3"  # neither exists yet
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(target), "")))
    window.save_session_dialog()
    qtbot.waitUntil(lambda: (target / "session.json").is_file(), timeout=30_000)
    qtbot.waitUntil(lambda: not window.controller.jobs, timeout=30_000)
    assert window.statusBar().currentMessage().startswith("Session saved to")
    # Saving over a session replaces it; a folder of other files is refused at once.
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.tex").write_text("text")
    assert window.save_session(foreign) is None
    assert "not empty and not a bngui session" in message_boxes[-1]
    assert sorted(path.name for path in foreign.iterdir()) == ["chapter1.tex"]
    message_boxes.clear()


def test_the_empty_plots_say_when_a_run_is_being_prepared(qtbot, fake_window):
    window = fake_window(seconds_per_batch=0.05)
    configure_run(window, NOTEBOOK_PAIR, 200)
    click(qtbot, window.run_bar.start_button)
    assert "Preparing the run" in window.curves.hint.text() and window.curves.hint.isVisible()
    qtbot.waitUntil(lambda: bool(window.history.metrics), timeout=10_000)
    window.redraw()
    assert not window.curves.hint.isVisible()
    with qtbot.waitSignal(window.controller.run_finished, timeout=10_000):
        window.stop_training()


def test_the_notice_does_not_stretch_the_run_bar(qtbot, make_window):
    window = make_window()
    height = window.run_bar.progress.height()
    window.controller.data_missing.emit("MNIST was not found")
    qtbot.waitUntil(lambda: window.data_dialog.isVisible(), timeout=5000)
    window.data_dialog.reject()
    qtbot.waitUntil(lambda: window.notice.isVisible(), timeout=2000)
    qtbot.wait(20)  # the tool bar lays itself out again at the next turn of the event loop
    assert window.run_bar.progress.height() == height
    assert window.run_bar.start_button.height() <= window.run_bar.start_button.sizeHint().height()


def test_every_phase_of_a_run_has_its_own_status(monkeypatch, fake_window):
    from bngui.gui.run_controller import RunController

    window = fake_window()
    monkeypatch.setattr(RunController, "running", property(lambda controller: True))
    texts = {}
    for phase in Phase:
        window.history.handle(events.StatusChanged.of(phase))
        texts[phase] = window._run_status_text()
    assert len(set(texts.values())) == len(Phase), texts
    assert not any(text.startswith("Preparing") for text in texts.values()), texts


def test_the_final_scoring_says_what_it_scores_and_how_far(monkeypatch, fake_window):
    from bngui.gui.run_controller import RunController

    window = fake_window()
    monkeypatch.setattr(RunController, "running", property(lambda controller: True))
    window.history.handle(events.StatusChanged.of(Phase.SCORING))
    window.history.handle(events.ScoringProgress(events.ScoringPart.TEST, 3000, 10000))
    assert window._run_status_text() == "Scoring the test set: 3,000 of 10,000…"
    window.history.handle(events.StatusChanged.of(Phase.PRECISE))
    window.history.handle(events.ScoringProgress(events.ScoringPart.PRECISE_STATISTICS, 50, 200))
    assert window._run_status_text() == "Precise BN: re-estimating the statistics: 50 of 200…"


def test_a_full_garbage_collection_follows_every_run(qtbot, monkeypatch, fake_window):
    """Runs hold off full collections; without one afterwards, each run's released models
    and graphs piled up (about 30 MB a run in bngui bench --soak)."""
    import gc

    window = fake_window()
    collections = []
    real_collect = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *args: collections.append(args) or real_collect(*args))
    configure_run(window, NOTEBOOK_PAIR, 5)
    with qtbot.waitSignal(window.controller.run_finished, timeout=10_000):
        window.start_training()
    qtbot.waitUntil(lambda: () in collections, timeout=5_000)
