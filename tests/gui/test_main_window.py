"""The main window driven as a user would.

Behaviour that does not depend on learning (pause, resume, layouts, stop,
closing) is driven with the fake trainer (tests/gui/fake_trainer.py). Two
runs train the real network on the real MNIST: one short run whose curves,
table, exports and session are checked, and one in a separate process that
exits the application while training.
"""

import os
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
    qtbot.waitUntil(lambda: all(job.isFinished() for job in window.controller.jobs), timeout=10_000)
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
        assert row["Variant"] == VARIANTS_BY_ID[variant].label
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
    assert view.stack.currentWidget() is view.plots_page
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
    assert set(predictions) == set(NOTEBOOK_PAIR)

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
    from bngui.gui.setup_panel import PRESETS

    panel = make_window().setup_panel
    panel.preset.setCurrentText("Why inference mode matters")
    assert set(panel.selected_variants()) == {
        "keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch-stats"}
    # A session lists its variants in its own order; the preset is still recognised.
    panel.select_variants(list(reversed(PRESETS["Learning-rate headroom (x10)"])))
    assert panel.preset.currentText() == "Learning-rate headroom (x10)"
    panel.select_variants(["baseline", "keras-conv-bn-relu-lr10"])
    assert panel.preset.currentText() == "Custom"
