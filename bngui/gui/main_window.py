"""The main window: setup on the left, live curves in the middle, results below."""

import contextlib

import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401  (registers the PNG and SVG exporters)
from PySide6.QtCore import QRectF, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QButtonGroup,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bngui.core.settings import SettingsError, TrainSettings
from bngui.core.storage import write_metrics_csv
from bngui.gui.curves_widget import OVERLAY, SIDE_BY_SIDE, CurvesWidget
from bngui.gui.draw_page import DrawPage
from bngui.gui.garbage import collect_on_the_gui_thread
from bngui.gui.inference import LOADED, TRAINED
from bngui.gui.network_view import NetworkView
from bngui.gui.plot_style import PRESENTATION_FONT_PT
from bngui.gui.results_table import ResultsTable
from bngui.gui.run_controller import RunController, lockstep_trainer
from bngui.gui.setup_panel import SetupPanel

REDRAW_INTERVAL_MS = 100  # at most ten redraws a second, however fast events arrive
MODEL_SOURCES = {"trained": TRAINED, "loaded": LOADED}
PRESENTATION_STYLE = """
QCheckBox::indicator, QRadioButton::indicator { width: 26px; height: 26px; }
QPushButton { padding: 10px 16px; }
QProgressBar { min-height: 34px; }
QSlider::handle:horizontal { width: 28px; }
"""


class MainWindow(QMainWindow):
    """The window: lays out the views and wires them to a ``RunController``.

    ``settings`` is the QSettings store (tests pass a temporary one);
    ``make_trainer`` the controller's trainer factory (tests pass a fake).
    """

    def __init__(self, settings=None, data_path=None, make_trainer=lockstep_trainer):
        super().__init__()
        self.setWindowTitle("bngui: why batch normalization matters")
        self.store = settings if settings is not None else QSettings("bngui", "bngui")
        self.data_path = data_path
        collect_on_the_gui_thread()
        self.controller = RunController(make_trainer, self)
        self.controller.changed.connect(self._update_state)
        self.controller.message.connect(lambda text: self.statusBar().showMessage(text, 10000))
        self.controller.error.connect(self._show_error)
        self.controller.data_missing.connect(self._on_data_missing)
        self.controller.session_opened.connect(self._on_session_opened)
        self.controller.models_ready.connect(
            lambda models, source: self.draw_page.add_models(models, MODEL_SOURCES[source]))

        self._data_missing = False
        self._normal_font_size = self.font().pointSize()  # restored when presentation ends
        self._build_widgets()
        self._build_menus()
        self._restore_settings()
        self._update_state()

        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(REDRAW_INTERVAL_MS)
        self.redraw_timer.timeout.connect(self.redraw)
        self.redraw_timer.start()

    # -- construction ---------------------------------------------------------

    def _build_widgets(self):
        self.setup_panel = SetupPanel()
        self.setup_panel.start_requested.connect(self.start_training)
        self.setup_panel.pause_requested.connect(self.toggle_pause)
        self.setup_panel.stop_requested.connect(self.stop_training)
        self.setup_panel.variants_changed.connect(self._on_variants_changed)
        scroll = QScrollArea()
        scroll.setWidget(self.setup_panel)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setup_dock = QDockWidget("Experiment", self)
        self.setup_dock.setObjectName("setup_dock")
        self.setup_dock.setWidget(scroll)
        # Closable, so View > Experiment panel (Ctrl+E) can hide it and give the
        # plots the whole width; the same menu entry brings it back.
        self.setup_dock.setFeatures(
            QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
            | QDockWidget.DockWidgetClosable
        )
        self.addDockWidget(Qt.LeftDockWidgetArea, self.setup_dock)

        self.curves = CurvesWidget()
        curves_page = QWidget()
        page_layout = QVBoxLayout(curves_page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        controls = QHBoxLayout()
        self.overlay_button = QRadioButton("Overlay")
        self.side_button = QRadioButton("Side by side")
        self.layout_buttons = QButtonGroup(self)
        self.layout_buttons.addButton(self.overlay_button)
        self.layout_buttons.addButton(self.side_button)
        self.overlay_button.setChecked(True)
        self.overlay_button.toggled.connect(
            lambda checked: self.set_layout_mode(OVERLAY if checked else SIDE_BY_SIDE)
        )
        controls.addWidget(QLabel("Layout:"))
        controls.addWidget(self.overlay_button)
        controls.addWidget(self.side_button)
        controls.addSpacing(24)
        controls.addWidget(QLabel("Smoothing:"))
        self.smoothing_slider = QSlider(Qt.Horizontal)
        self.smoothing_slider.setRange(0, 95)
        self.smoothing_slider.setValue(60)
        self.smoothing_slider.setMaximumWidth(220)
        self.smoothing_slider.setToolTip("Exponential moving average of the training curves;"
                                         " the raw curve stays faint behind")
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self.smoothing_label = QLabel("0.60")
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_label)
        controls.addStretch(1)
        self.run_status = QLabel("")
        controls.addWidget(self.run_status)
        page_layout.addLayout(controls)
        page_layout.addWidget(self.curves, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(curves_page, "Training curves")
        self.network_view = NetworkView()
        self.tabs.addTab(self.network_view, "Inside the network")
        self.draw_page = DrawPage()
        self.draw_page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.draw_page.error.connect(self._show_error)
        self.tabs.addTab(self.draw_page, "Draw a digit")
        # The results table is about training; drawing gets its height.
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.results = ResultsTable()
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.tabs)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([700, 170])
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.statusBar().showMessage("Loading TensorFlow and MNIST…")
        self._set_shown_variants(self.setup_panel.selected_variants())

    def _on_tab_changed(self, _index):
        self.results.setVisible(self.tabs.currentWidget() is not self.draw_page)
        self.redraw()  # a hidden view is not redrawn, so bring it up to date now

    def _set_shown_variants(self, variant_ids):
        self.curves.set_variants(variant_ids)
        self.network_view.set_variants(variant_ids)

    def _build_menus(self):
        file_menu = self.menuBar().addMenu("&File")
        self.open_session_action = file_menu.addAction("&Open session…", self.open_session_dialog)
        self.open_session_action.setShortcut(QKeySequence.Open)
        self.save_session_action = file_menu.addAction("Save s&ession…", self.save_session_dialog)
        self.save_session_action.setShortcut(QKeySequence.Save)
        file_menu.addSeparator()
        self.export_png_action = file_menu.addAction("Export plots as &PNG…", self.export_png_dialog)
        self.export_svg_action = file_menu.addAction("Export plots as &SVG…", self.export_svg_dialog)
        self.export_csv_action = file_menu.addAction("Export metrics as &CSV…", self.export_csv_dialog)
        file_menu.addSeparator()
        self.load_models_action = file_menu.addAction("&Load models…", self.load_models_dialog)
        self.save_models_action = file_menu.addAction("&Save models…", self.save_models_dialog)
        file_menu.addSeparator()
        self.get_data_action = file_menu.addAction(
            "&Get MNIST…", lambda: self.show_data_dialog("Download MNIST or choose a copy of it.")
        )
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit", self.close)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ApplicationShortcut)

        run_menu = self.menuBar().addMenu("&Run")
        self.start_action = run_menu.addAction("&Start", self.start_training)
        self.start_action.setShortcut(QKeySequence("Ctrl+Return"))
        self.pause_action = run_menu.addAction("&Pause / Resume", self.toggle_pause)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.stop_action = run_menu.addAction("S&top", self.stop_training)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))

        view_menu = self.menuBar().addMenu("&View")
        group = QActionGroup(self)
        self.overlay_action = QAction("&Overlay", self, checkable=True, checked=True)
        self.overlay_action.setShortcut(QKeySequence("Ctrl+1"))
        self.side_action = QAction("&Side by side", self, checkable=True)
        self.side_action.setShortcut(QKeySequence("Ctrl+2"))
        for action, mode in ((self.overlay_action, OVERLAY), (self.side_action, SIDE_BY_SIDE)):
            group.addAction(action)
            view_menu.addAction(action)
            action.triggered.connect(lambda _=False, mode=mode: self.set_layout_mode(mode))
        view_menu.addSeparator()
        self.presentation_action = QAction("&Presentation mode", self, checkable=True)
        self.presentation_action.setShortcut(QKeySequence("F5"))
        self.presentation_action.setToolTip("Large fonts, lines and controls for a projector")
        self.presentation_action.toggled.connect(self.set_presentation_mode)
        view_menu.addAction(self.presentation_action)
        # Hiding the experiment panel gives the plots the whole width, which
        # many side-by-side columns need on a projector at presentation size.
        self.panel_action = self.setup_dock.toggleViewAction()
        self.panel_action.setText("&Experiment panel")
        self.panel_action.setShortcut(QKeySequence("Ctrl+E"))
        view_menu.addAction(self.panel_action)

    # -- settings between launches --------------------------------------------

    def _restore_settings(self):
        store = self.store
        geometry = store.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 900)
        state = store.value("window/state")
        if state is not None:
            self.restoreState(state)
        variants = store.value("setup/variants")
        if variants:
            self.setup_panel.select_variants(list(variants) if isinstance(variants, list) else [variants])
        # A damaged settings file falls back to the notebook's defaults.
        with contextlib.suppress(SettingsError, TypeError, ValueError):
            self.setup_panel.set_settings(TrainSettings(
                batches=int(store.value("setup/batches", 800)),
                batch_size=int(store.value("setup/batch_size", 64)),
                learning_rate=float(store.value("setup/learning_rate", 0.002)),
                loss=str(store.value("setup/loss", "sigmoid")),
                seed=int(store.value("setup/seed", 0)),
            ).validate())
        self.set_layout_mode(str(store.value("view/layout", OVERLAY)))
        self.smoothing_slider.setValue(int(store.value("view/smoothing", 60)))
        self.presentation_action.setChecked(str(store.value("view/presentation", "false")) == "true")

    def save_settings(self):
        store = self.store
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("setup/variants", self.setup_panel.selected_variants())
        settings = self.setup_panel.settings()
        for key, value in settings.as_dict().items():
            store.setValue(f"setup/{key}", value)
        store.setValue("view/layout", self.curves.mode)
        store.setValue("view/smoothing", self.smoothing_slider.value())
        store.setValue("view/presentation", "true" if self.presentation_action.isChecked() else "false")
        store.sync()

    # -- state ------------------------------------------------------------------

    @property
    def history(self):
        """The run on screen (the controller's)."""
        return self.controller.history

    def start_loading(self):
        """Import TensorFlow and load MNIST in the background."""
        self.controller.start_loading(self.data_path)

    def _on_data_missing(self, reason):
        self._data_missing = True
        self._update_state()
        self.show_data_dialog(reason)

    def show_data_dialog(self, reason):
        from bngui.gui.data_dialog import DataDialog

        self.data_dialog = DataDialog(reason, self.data_path, parent=self)
        self.data_dialog.data_loaded.connect(self.controller.set_data)
        self.data_dialog.open()
        return self.data_dialog

    def _update_state(self):
        """Enable what can be done now, and say what the window waits for."""
        controller = self.controller
        running = controller.running
        self.setup_panel.set_running(running, controller.paused, ready=controller.ready)
        self.start_action.setEnabled(controller.can_start)
        self.pause_action.setEnabled(running)
        self.stop_action.setEnabled(running)
        self.open_session_action.setEnabled(not running)
        why_not_save = controller.why_not_save()
        self.save_session_action.setEnabled(why_not_save is None)
        # A disabled menu entry says why in the status bar when pointed at.
        self.save_session_action.setStatusTip(why_not_save or "")
        if controller.data is not None:
            self.draw_page.set_company_digits(controller.data.test_images,
                                              controller.data.test_labels)
        if controller.tensorflow_ready:
            self.draw_page.set_tensorflow_ready()
            controller.prepare(self.setup_panel.selected_variants(), self.setup_panel.settings())
        if running or controller.history.finished is not None:
            self.redraw()  # the run's own status
            return
        text = self._readiness_text()
        self.statusBar().showMessage(text)
        self.setup_panel.status.setText("Ready to start." if controller.ready else text)

    def _readiness_text(self):
        controller = self.controller
        if controller.data is None and self._data_missing:
            return "MNIST not found. Use the dialog or File → Get MNIST… to get it."
        parts = []
        if not controller.tensorflow_ready:
            parts.append("loading TensorFlow…")
        if controller.data is None:
            parts.append("MNIST not loaded")
        text = "; ".join(parts) or "Ready"
        if controller.data is not None:
            text += f" · MNIST: {controller.data.source}"
        return text

    @property
    def ready(self):
        return self.controller.ready

    # -- training -------------------------------------------------------------

    def start_training(self):
        variant_ids = self.setup_panel.selected_variants()
        settings = self.setup_panel.settings()
        if self.controller.running:
            return
        if not self.controller.ready:
            problem = self.controller.why_not_start(variant_ids, settings)
            self.statusBar().showMessage(f"Cannot start yet: {problem}", 5000)
            return
        if not self.controller.start(variant_ids, settings):
            return
        self._set_shown_variants(variant_ids)
        self.setup_panel.reset_progress(settings.batches)
        self.redraw()

    def toggle_pause(self):
        self.controller.toggle_pause()

    def stop_training(self):
        self.controller.stop()

    # -- drawing --------------------------------------------------------------

    def redraw(self):
        history = self.history
        current = self.tabs.currentWidget()
        if current is self.network_view:
            self.network_view.refresh(history)
        elif current is not self.draw_page:
            self.curves.refresh(history)
        self.results.refresh(history)
        if history.progress is not None:
            self.setup_panel.show_progress(history.progress)
        if self.controller.running:
            self.run_status.setText(history.status)
            self.setup_panel.status.setText(history.status)
        elif history.finished is not None:
            summary = f"Run {history.finished.status} in {history.finished.seconds:.0f} s"
            self.run_status.setText(summary)
            self.setup_panel.status.setText(summary)

    def set_layout_mode(self, mode):
        if mode not in (OVERLAY, SIDE_BY_SIDE):
            mode = OVERLAY
        self.curves.set_mode(mode)
        for widget, checked in ((self.overlay_button, mode == OVERLAY),
                                (self.side_button, mode == SIDE_BY_SIDE),
                                (self.overlay_action, mode == OVERLAY),
                                (self.side_action, mode == SIDE_BY_SIDE)):
            widget.blockSignals(True)
            widget.setChecked(checked)
            widget.blockSignals(False)
        self.curves.refresh(self.history)

    def _on_smoothing_changed(self, value):
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self.curves.set_smoothing(value / 100)
        self.curves.refresh(self.history)

    def _on_variants_changed(self, variant_ids):
        self.controller.prepare(variant_ids, self.setup_panel.settings())
        if not self.controller.running:
            self._set_shown_variants(variant_ids)
            self.curves.refresh(self.history)

    def set_presentation_mode(self, enabled):
        font = self.font()
        font.setPointSize(PRESENTATION_FONT_PT if enabled else self._normal_font_size)
        self.setFont(font)
        self.setStyleSheet(PRESENTATION_STYLE if enabled else "")
        self.curves.set_presentation(enabled)
        self.curves.refresh(self.history)
        self.network_view.set_presentation_mode(enabled)
        # Widen the setup panel to its new text size so nothing is clipped.
        self.setup_panel.adjustSize()
        scrollbar = self.style().pixelMetric(self.style().PixelMetric.PM_ScrollBarExtent)
        self.resizeDocks([self.setup_dock], [self.setup_panel.sizeHint().width() + scrollbar + 8],
                         Qt.Horizontal)
        if self.presentation_action.isChecked() != enabled:
            # Keep the menu's tick in step without running this method twice.
            self.presentation_action.blockSignals(True)
            self.presentation_action.setChecked(enabled)
            self.presentation_action.blockSignals(False)

    # -- export ---------------------------------------------------------------

    def export_plots(self, path):
        """Write the plots of the current tab to ``path``: PNG or SVG by its suffix.

        The training curves unless "Inside the network" is showing.
        """
        svg = str(path).lower().endswith(".svg")
        if self.tabs.currentWidget() is self.network_view:
            if svg:
                _render_svg(self.network_view.plot_scenes(), path)
            elif not self.network_view.grab_plots().save(str(path)):
                raise OSError(f"cannot write {path}")
            return
        scene = self.curves.graphics.scene()
        if not svg:
            pg.exporters.ImageExporter(scene).export(str(path))
            return
        try:
            pg.exporters.SVGExporter(scene).export(str(path))
        except ValueError:
            # pyqtgraph 0.14.0 cannot read the closed paths ("... Z") that Qt
            # 6.10 and newer write (pyqtgraph issue 3495): let Qt write the SVG.
            _render_svg([scene], path)

    def export_metrics(self, path):
        write_metrics_csv(path, self.history.metrics)

    def _export_with_dialog(self, title, pattern, suffix, export):
        path, _ = QFileDialog.getSaveFileName(self, title, f"bngui{suffix}", pattern)
        if not path:
            return
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            export(path)
        except OSError as error:
            self._show_error(f"Could not write {path}: {error.strerror or error}")
        else:
            self.statusBar().showMessage(f"Saved {path}", 5000)

    def export_png_dialog(self):
        self._export_with_dialog("Export plots", "PNG image (*.png)", ".png", self.export_plots)

    def export_svg_dialog(self):
        self._export_with_dialog("Export plots", "SVG drawing (*.svg)", ".svg", self.export_plots)

    def export_csv_dialog(self):
        self._export_with_dialog("Export metrics", "CSV (*.csv)", ".csv", self.export_metrics)

    def load_models_dialog(self):
        folder = QFileDialog.getExistingDirectory(
            self, "Load models: a folder written by bngui train --out or by Save models"
        )
        if folder:
            self.draw_page.load_models_folder(folder)

    def save_models_dialog(self):
        folder = QFileDialog.getExistingDirectory(self, "Save the trained models into a folder")
        if folder:
            self.draw_page.save_models_folder(folder)

    # -- sessions -------------------------------------------------------------

    def save_session_dialog(self):
        problem = self.controller.why_not_save()
        if problem:
            self._show_error(problem)
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Save the session (curves, statistics, results, models) into a new or empty folder"
        )
        if folder:
            self.save_session(folder)

    def save_session(self, folder):
        """Save the run on screen into ``folder`` in the background; returns the job or None."""
        return self.controller.save_session(folder)

    def open_session_dialog(self):
        if self.controller.running:
            self._show_error("Stop the run before opening a session.")
            return
        folder = QFileDialog.getExistingDirectory(
            self, "Open a session: a folder saved by bngui or written by bngui train --out"
        )
        if folder:
            self.open_session(folder)

    def open_session(self, folder):
        """Open the session in ``folder`` in the background; returns the job or None."""
        return self.controller.open_session(folder)

    def _on_session_opened(self, session):
        self.setup_panel.select_variants(list(session.variant_ids))
        self.setup_panel.set_settings(session.settings)
        self._set_shown_variants(session.variant_ids)
        self.redraw()

    # -- messages and closing -------------------------------------------------

    def _show_error(self, message):
        self.statusBar().showMessage(message, 10000)
        QMessageBox.warning(self, "bngui", message)

    def shutdown(self, timeout_ms=2500):
        """Stop training and background jobs; True when every thread has ended."""
        self.redraw_timer.stop()
        ended = self.controller.shutdown(timeout_ms)
        ended = self.draw_page.shutdown() and ended
        dialog = getattr(self, "data_dialog", None)
        if dialog is not None and dialog.downloading:
            dialog.done(0)
        return ended

    def closeEvent(self, event):
        self.save_settings()
        self.shutdown()
        event.accept()


def _render_svg(scenes, path):
    """Draw ``scenes`` side by side into an SVG file with Qt's own generator, on white."""
    rects = [scene.sceneRect() for scene in scenes]
    width = sum(rect.width() for rect in rects)
    height = max(rect.height() for rect in rects)
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QRectF(0, 0, width, height).size().toSize())
    generator.setViewBox(QRectF(0, 0, width, height))
    generator.setTitle("bngui plots")
    painter = QPainter()
    if not painter.begin(generator):
        raise OSError(f"cannot write {path}")
    try:
        painter.fillRect(QRectF(0, 0, width, height), Qt.white)
        left = 0.0
        for scene, rect in zip(scenes, rects):
            target = QRectF(left, 0, rect.width(), rect.height())
            scene.render(painter, target, rect)
            left += rect.width()
    finally:
        painter.end()
