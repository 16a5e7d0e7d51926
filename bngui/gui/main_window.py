"""The main window: the run bar on top, the experiment panel on the left, the views in the middle.

The run bar (Start, Pause, Stop, the progress and the status) spans the top of
the window and is always on screen; the experiment panel (preset, variants,
hyperparameters) may scroll or be hidden (Ctrl+E). In the middle: the training
curves with the variant list beside them, the network view and the drawing
page; below them the results table of the run on screen.
"""

import contextlib
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QDeadlineTimer, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QRadioButton,
    QScrollArea,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from bngui import __version__
from bngui.core import lesson
from bngui.core.events import Phase, ScoringPart
from bngui.core.settings import SettingsError, TrainSettings
from bngui.core.storage import write_metrics_csv
from bngui.gui import export, i18n
from bngui.gui.curves_widget import INFERENCE_MODE, OVERLAY, SIDE_BY_SIDE, TRAINING_MODE, CurvesWidget
from bngui.gui.draw_page import DrawPage
from bngui.gui.fields import ComboBox, Slider
from bngui.gui.garbage import collect_on_the_gui_thread
from bngui.gui.icons import app_icon
from bngui.gui.inference import LOADED, TRAINED
from bngui.gui.lesson_panel import LessonKeys, LessonPanel
from bngui.gui.network_view import NetworkView
from bngui.gui.plot_style import MUTED_COLOR, PRESENTATION_FONT_PT
from bngui.gui.results_table import ResultsTable
from bngui.gui.run_bar import NoticeBar, RunBar
from bngui.gui.run_controller import RunController, lockstep_trainer
from bngui.gui.setup_panel import SetupPanel
from bngui.gui.widget_style import set_emphasis, set_text_color

REDRAW_INTERVAL_MS = 100  # at most ten redraws a second, however fast events arrive
# Closing waits this long for the threads that can stop (each told to), then leaves.
QUIT_WAIT_MS = 300
# Said when View → Language changes the language: in the window's language and in the new one.
LANGUAGE_CHANGED = QT_TRANSLATE_NOOP(
    "MainWindow", "bngui will be in {language} the next time it starts. Until then this window"
    " stays as it is.")
MODEL_SOURCES = {"trained": TRAINED, "loaded": LOADED}
DEFAULT_SIZE = (1440, 900)
# In presentation mode the room reads the plots, the variant list, the run bar and
# the table at the presentation size; the lecturer's own controls (the experiment
# panel, the plot options) are read up close, and a smaller size leaves the plots
# their width on a 1280-pixel projector.
CONTROLS_PRESENTATION_PT = 12
# The variant list is the plots' legend, read by the room, but it takes its
# width from the plots: a little smaller than the window's presentation font.
LEGEND_PRESENTATION_PT = 14
# The results table's first height, as a share of the window's (its edge can be dragged).
RESULTS_SHARE = 0.21
# The lesson panel, in front, widens the left column to this share of the window
# (at most LESSON_MAX_WIDTH pixels) and takes its whole height, so a step's text fits.
# In presentation mode at most LESSON_PRESENTATION_MAX_WIDTH, so that from 1440 pixels up
# the results table beside it shows every column.
LESSON_SHARE = 0.25
LESSON_PRESENTATION_SHARE = 0.31
LESSON_MAX_WIDTH = 560
LESSON_PRESENTATION_MAX_WIDTH = 400


class MainWindow(QMainWindow):
    """The window: lays out the views and wires them to a ``RunController``.

    ``settings`` is the QSettings store (tests pass a temporary one);
    ``make_trainer`` the controller's trainer factory (tests pass a fake).
    """

    def __init__(self, settings=None, data_path=None, make_trainer=lockstep_trainer):
        super().__init__()
        self.setWindowTitle(self.tr("bngui: why batch normalization matters"))
        self.setWindowIcon(app_icon())
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
            lambda models, source, folder: self.draw_page.add_models(models, MODEL_SOURCES[source],
                                                                   folder))

        self._data_missing = False
        self._redraw_pending = False
        self._hidden_for_presentation = []  # the docks presentation mode hid, shown again after it
        self._results_wanted = True  # View > Results table
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
        self._build_run_bar()

        self.setup_panel = SetupPanel()
        self.setup_panel.variants_changed.connect(self._on_setup_changed)
        self.setup_panel.settings_changed.connect(self._on_setup_changed)
        self.setup_panel.problems_changed.connect(self._update_state)
        self.setup_panel.details_button.toggled.connect(lambda _: QTimer.singleShot(0, self._fit_dock))
        self.setup_scroll = QScrollArea()
        self.setup_scroll.setWidget(self.setup_panel)
        self.setup_scroll.setWidgetResizable(True)
        self.setup_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setup_dock = QDockWidget(self.tr("Experiment"), self)
        self.setup_dock.setObjectName("setup_dock")
        self.setup_dock.setWidget(self.setup_scroll)
        # Closable, so View > Experiment panel (Ctrl+E) can hide it and give the
        # plots the whole width; the same menu entry brings it back.
        self.setup_dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.setup_dock)
        self._build_lesson_dock()

        self.curves = CurvesWidget()
        curves_page = QWidget()
        page_layout = QVBoxLayout(curves_page)
        page_layout.setContentsMargins(4, 4, 4, 4)
        self.curve_controls = QWidget()
        self.curve_controls.setLayout(self._build_curve_controls())
        page_layout.addWidget(self.curve_controls)
        page_layout.addWidget(self.curves, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(curves_page, self.tr("Training curves"))
        self.network_view = NetworkView()
        self.tabs.addTab(self.network_view, self.tr("Inside the network"))
        self.draw_page = DrawPage()
        self.draw_page.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.draw_page.error.connect(self._show_error)
        self.tabs.addTab(self.draw_page, self.tr("Draw a digit"))
        # The results table is about training; drawing gets its height.
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.results = ResultsTable()
        self.results_caption = QLabel(self.tr(
            "Previous run: the variants or settings have changed since. Start trains the new choice."))
        self.results_caption.setWordWrap(True)
        set_text_color(self.results_caption, MUTED_COLOR)
        set_emphasis(self.results_caption, italic=True)
        self.results_caption.setVisible(False)
        self.results_area = QWidget()
        results_layout = QVBoxLayout(self.results_area)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.setSpacing(2)
        results_layout.addWidget(self.results_caption)
        results_layout.addWidget(self.results, 1)

        self.setCentralWidget(self.tabs)
        # The table spans the whole width under the experiment panel too, so all its
        # columns fit at presentation size on a 1280-pixel projector. No title bar:
        # its height goes to the rows; View > Results table hides and shows it.
        self.results_dock = QDockWidget(self.tr("Results"), self)
        self.results_dock.setObjectName("results_dock")
        self.results_dock.setWidget(self.results_area)
        self.results_dock.setTitleBarWidget(QWidget())
        self.results_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.results_dock)
        self.statusBar().showMessage(self.tr("Loading TensorFlow and MNIST…"))
        self._set_shown_variants(self.setup_panel.selected_variants())

    def _build_lesson_dock(self):
        """The lesson panel: a tab beside the experiment panel, so it leaves the plots their room."""
        self.prepared_lesson = None  # the PreparedLesson whose sessions the steps show
        self.prepared_lesson_folder = None  # its folder (resolved), kept for the next launch
        self._session_on_screen = None  # the folder of the session on screen, while it is unchanged
        # One lesson session opens at a time: the step chosen meanwhile waits, only the latest.
        self._lesson_job = None
        self._lesson_opening = None  # the folder the job opens
        self._lesson_wanted = None  # the folder the current step wants on screen
        self.lesson_panel = LessonPanel()
        self.lesson_panel.set_up_requested.connect(self.set_up_lesson_step)
        self.lesson_panel.start_requested.connect(self.start_lesson_run)
        self.lesson_panel.open_requested.connect(self.open_lesson_dialog)
        self.lesson_dock = QDockWidget(self.tr("Lesson"), self)
        self.lesson_dock.setObjectName("lesson_dock")
        self.lesson_dock.setWidget(self.lesson_panel)
        self.lesson_dock.setFeatures(self.setup_dock.features())
        self.setTabPosition(Qt.DockWidgetArea.LeftDockWidgetArea, QTabWidget.TabPosition.North)
        self.tabifyDockWidget(self.setup_dock, self.lesson_dock)
        self.setup_dock.raise_()
        # Presentation clickers send PageDown/PageUp or the arrows: they reach the lesson
        # from any widget of the window (the filter goes with the window).
        # They act while the panel is open, even behind the experiment panel's tab, and
        # bring it forward.
        self.lesson_keys = LessonKeys(self, self.lesson_panel, lambda: not self.lesson_dock.isHidden())
        self.lesson_keys.moved.connect(self.lesson_dock.raise_)
        self.lesson_in_front = False
        self.lesson_dock.visibilityChanged.connect(self._on_lesson_visibility_changed)
        QApplication.instance().installEventFilter(self.lesson_keys)

    def _build_run_bar(self):
        self.run_bar = RunBar()
        self.run_bar.start_requested.connect(self.start_training)
        self.run_bar.pause_requested.connect(self.toggle_pause)
        self.run_bar.stop_requested.connect(self.stop_training)
        self.notice = NoticeBar()
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.setSpacing(2)
        top_layout.addWidget(self.run_bar)
        top_layout.addWidget(self.notice)
        # A fixed tool bar across the top: it cannot be moved, floated or hidden.
        self.run_toolbar = QToolBar(self.tr("Run"), self)
        self.run_toolbar.setObjectName("run_toolbar")
        self.run_toolbar.setMovable(False)
        self.run_toolbar.setFloatable(False)
        self.run_toolbar.toggleViewAction().setVisible(False)
        self.run_toolbar.addWidget(top)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.run_toolbar)

    def _build_curve_controls(self):
        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        self.overlay_button = QRadioButton(self.tr("Overlay"))
        self.overlay_button.setToolTip(self.tr("Four panels, every variant in each (Ctrl+1)"))
        self.side_button = QRadioButton(self.tr("Side by side"))
        self.side_button.setToolTip(self.tr("A column per variant, on shared axes (Ctrl+2)"))
        self.layout_buttons = QButtonGroup(self)
        self.layout_buttons.addButton(self.overlay_button)
        self.layout_buttons.addButton(self.side_button)
        self.overlay_button.setChecked(True)
        self.overlay_button.toggled.connect(
            lambda checked: self.set_layout_mode(OVERLAY if checked else SIDE_BY_SIDE)
        )
        controls.addWidget(self.overlay_button)
        controls.addWidget(self.side_button)
        controls.addSpacing(16)
        controls.addWidget(QLabel(self.tr("Smoothing")))
        self.smoothing_slider = Slider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setRange(0, 95)
        self.smoothing_slider.setValue(60)
        self.smoothing_slider.setMinimumWidth(80)
        self.smoothing_slider.setMaximumWidth(200)
        self.smoothing_slider.setToolTip(self.tr("Exponential moving average of the training curves;"
                                                 " the raw curve stays faint behind"))
        self.smoothing_slider.valueChanged.connect(self._on_smoothing_changed)
        self.smoothing_label = QLabel("0.60")
        self.smoothing_label.setMinimumWidth(self.smoothing_label.fontMetrics().horizontalAdvance("0.00"))
        controls.addWidget(self.smoothing_slider)
        controls.addWidget(self.smoothing_label)
        controls.addSpacing(16)
        controls.addWidget(QLabel(self.tr("Training batch")))
        self.training_mode_box = ComboBox()
        self.training_mode_box.addItem(self.tr("inference mode"), INFERENCE_MODE)
        self.training_mode_box.addItem(self.tr("training mode"), TRAINING_MODE)
        self.training_mode_box.setToolTip(self.tr(
            "How the training curves score the current batch: in inference mode (population"
            " statistics, the notebook's choice) or as the training step itself saw it, with the"
            " batch's own statistics (the table's Training mode column)"))
        self.training_mode_box.currentIndexChanged.connect(
            lambda _: self.set_training_mode(self.training_mode_box.currentData()))
        controls.addWidget(self.training_mode_box)
        controls.addStretch(1)
        return controls

    def _on_tab_changed(self, _index):
        self._show_results_dock()
        self.redraw()  # a hidden view is not redrawn, so bring it up to date now

    def _on_results_toggled(self, shown):
        self._results_wanted = shown

    def _show_results_dock(self):
        """The results table is about training: the drawing page gets its height."""
        drawing = self.tabs.currentWidget() is self.draw_page
        self.results_dock.setVisible(self._results_wanted and not drawing)

    def _set_shown_variants(self, variant_ids):
        self.curves.set_variants(variant_ids)
        self.network_view.set_variants(variant_ids)

    def _build_menus(self):
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.open_session_action = file_menu.addAction(self.tr("&Open session…"), self.open_session_dialog)
        self.open_session_action.setShortcut(QKeySequence.StandardKey.Open)
        self.save_session_action = file_menu.addAction(self.tr("&Save session…"), self.save_session_dialog)
        self.save_session_action.setShortcut(QKeySequence.StandardKey.Save)
        self.open_lesson_action = file_menu.addAction(self.tr("Open a prepared l&esson…"),
                                                      self.open_lesson_dialog)
        file_menu.addSeparator()
        self.export_png_action = file_menu.addAction(self.tr("Export plots as &PNG…"),
                                                     self.export_png_dialog)
        self.export_svg_action = file_menu.addAction(self.tr("Export plots as S&VG…"),
                                                     self.export_svg_dialog)
        self.export_pdf_action = file_menu.addAction(self.tr("Export plots as P&DF…"),
                                                     self.export_pdf_dialog)
        self.export_csv_action = file_menu.addAction(self.tr("Export metrics as &CSV…"),
                                                     self.export_csv_dialog)
        file_menu.addSeparator()
        self.load_models_action = file_menu.addAction(self.tr("&Load models…"), self.load_models_dialog)
        self.save_models_action = file_menu.addAction(self.tr("Save &models…"), self.save_models_dialog)
        file_menu.addSeparator()
        self.get_data_action = file_menu.addAction(
            self.tr("&Get MNIST…"), lambda: self.show_data_dialog(self.tr("Download MNIST or choose a"
                                                                          " copy of it."))
        )
        file_menu.addSeparator()
        quit_action = file_menu.addAction(self.tr("&Quit"), self.close)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)

        run_menu = self.menuBar().addMenu(self.tr("&Run"))
        self.start_action = run_menu.addAction(self.tr("&Start"), self.start_training)
        self.start_action.setShortcut(QKeySequence("Ctrl+Return"))
        self.pause_action = run_menu.addAction(self.tr("&Pause / Resume"), self.toggle_pause)
        self.pause_action.setShortcut(QKeySequence("Ctrl+P"))
        self.stop_action = run_menu.addAction(self.tr("S&top"), self.stop_training)
        self.stop_action.setShortcut(QKeySequence("Ctrl+."))

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        group = QActionGroup(self)
        self.overlay_action = QAction(self.tr("&Overlay"), self, checkable=True, checked=True)
        self.overlay_action.setShortcut(QKeySequence("Ctrl+1"))
        self.side_action = QAction(self.tr("&Side by side"), self, checkable=True)
        self.side_action.setShortcut(QKeySequence("Ctrl+2"))
        for action, mode in ((self.overlay_action, OVERLAY), (self.side_action, SIDE_BY_SIDE)):
            group.addAction(action)
            view_menu.addAction(action)
            action.triggered.connect(lambda _=False, mode=mode: self.set_layout_mode(mode))
        self.training_mode_action = QAction(self.tr("&Training batch in training mode"), self,
                                            checkable=True)
        self.training_mode_action.setToolTip(self.training_mode_box.toolTip())
        self.training_mode_action.toggled.connect(
            lambda checked: self.set_training_mode(TRAINING_MODE if checked else INFERENCE_MODE))
        view_menu.addAction(self.training_mode_action)
        view_menu.addSeparator()
        self.presentation_action = QAction(self.tr("&Presentation mode"), self, checkable=True)
        self.presentation_action.setShortcut(QKeySequence("F5"))
        self.presentation_action.setToolTip(self.tr("Large fonts, lines and controls for a projector"))
        self.presentation_action.toggled.connect(self.set_presentation_mode)
        view_menu.addAction(self.presentation_action)
        # Hiding the experiment panel gives the plots the whole width, which
        # many side-by-side columns need on a projector at presentation size.
        self.panel_action = self.setup_dock.toggleViewAction()
        self.panel_action.setText(self.tr("&Experiment panel"))
        self.panel_action.setShortcut(QKeySequence("Ctrl+E"))
        view_menu.addAction(self.panel_action)
        self.results_action = self.results_dock.toggleViewAction()
        self.results_action.setText(self.tr("&Results table"))
        self.results_action.triggered.connect(self._on_results_toggled)
        view_menu.addAction(self.results_action)
        self.lesson_action = self.lesson_dock.toggleViewAction()
        self.lesson_action.setText(self.tr("&Lesson panel"))
        self.lesson_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lesson_action.triggered.connect(lambda shown: shown and self.lesson_dock.raise_())
        view_menu.addAction(self.lesson_action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        self.about_action = help_menu.addAction(self.tr("&About bngui"), self.show_about)
        self._build_language_menu(view_menu)

    def _build_language_menu(self, view_menu):
        """View → Language: English or 简体中文, each by its own name; saved, for the next launch."""
        view_menu.addSeparator()
        self.language_menu = view_menu.addMenu(self.tr("La&nguage"))
        self.language_menu.menuAction().setStatusTip(self.tr(
            "The window's language: a new choice takes effect the next time bngui starts"))
        group = QActionGroup(self)
        chosen = i18n.saved_language(self.store) or i18n.current_language()
        self.language_actions = {}
        for language, name in i18n.LANGUAGES.items():
            action = QAction(name, self, checkable=True)
            action.setChecked(language == chosen)
            action.setStatusTip(self.tr("{language} from the next launch of bngui").format(language=name))
            action.triggered.connect(lambda _=False, language=language: self.choose_language(language))
            group.addAction(action)
            self.language_menu.addAction(action)
            self.language_actions[language] = action

    # -- settings between launches --------------------------------------------

    def _restore_settings(self):
        store = self.store
        geometry = store.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(*DEFAULT_SIZE)
        self._fit_to_screen()
        state = store.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.run_toolbar.setVisible(True)  # whatever an older layout said
        variants = store.value("setup/variants")
        if variants:
            self.setup_panel.select_variants(list(variants) if isinstance(variants, list) else [variants])
        # A damaged settings file falls back to the notebook's defaults.
        with contextlib.suppress(SettingsError, TypeError, ValueError):
            defaults = TrainSettings()
            seed = int(store.value("setup/seed", defaults.seed))
            repeats = int(store.value("setup/repeats", 1))
            self.setup_panel.set_settings(TrainSettings(
                batches=int(store.value("setup/batches", defaults.batches)),
                batch_size=int(store.value("setup/batch_size", defaults.batch_size)),
                learning_rate=float(store.value("setup/learning_rate", defaults.learning_rate)),
                loss=str(store.value("setup/loss", defaults.loss)),
                seed=seed,
                bn_decay=float(store.value("setup/bn_decay", defaults.bn_decay)),
                augment=str(store.value("setup/augment", "false")).lower() == "true",
                precise_batches=int(store.value("setup/precise_batches", defaults.precise_batches)),
                seeds=tuple(range(seed, seed + repeats)) if repeats > 1 else (),
            ).validate())
        self.set_layout_mode(str(store.value("view/layout", OVERLAY)))
        self.set_training_mode(str(store.value("view/training_mode", INFERENCE_MODE)))
        self.smoothing_slider.setValue(int(store.value("view/smoothing", 60)))
        self.presentation_action.setChecked(str(store.value("view/presentation", "false")) == "true")
        with contextlib.suppress(TypeError, ValueError):
            self.lesson_panel.show_step(int(store.value("lesson/step", 0)))
        self.lesson_panel.auto_box.setChecked(str(store.value("lesson/auto", "true")) == "true")
        # The lesson folder the step belongs to: --lesson on it again goes on from there.
        self.prepared_lesson_folder = str(store.value("lesson/folder", "")) or None
        if not self.presentation_action.isChecked():
            QTimer.singleShot(0, self, self._fit_dock)
        if state is None:
            QTimer.singleShot(0, self, self._fit_results_height)

    def _fit_to_screen(self):
        """The window within the available part of the screen it opens on (a projector's
        1280×720 may be smaller than the default size or than the size saved on a desk)."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        available = screen.availableGeometry()
        width, height = min(self.width(), available.width()), min(self.height(), available.height())
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        left = min(max(self.x(), available.left()), available.right() + 1 - width)
        top = min(max(self.y(), available.top()), available.bottom() + 1 - height)
        if (left, top) != (self.x(), self.y()):
            self.move(left, top)

    def save_settings(self):
        store = self.store
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("setup/variants", self.setup_panel.selected_variants())
        settings = self.setup_panel.settings()
        for key, value in settings.as_dict().items():
            if key == "seeds":
                store.setValue("setup/repeats", len(settings.seed_list))
            elif key == "augment":
                store.setValue("setup/augment", "true" if value else "false")
            else:
                store.setValue(f"setup/{key}", value)
        store.setValue("view/layout", self.curves.mode)
        store.setValue("view/training_mode", self.curves.training_mode)
        store.setValue("view/smoothing", self.smoothing_slider.value())
        store.setValue("view/presentation", "true" if self.presentation_action.isChecked() else "false")
        store.setValue("lesson/step", self.lesson_panel.index)
        store.setValue("lesson/auto", "true" if self.lesson_panel.auto_box.isChecked() else "false")
        store.setValue("lesson/folder", self.prepared_lesson_folder or "")
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

    def _download_data(self):
        self.show_data_dialog(self.tr("Download MNIST or choose a copy of it.")).start_download()

    def _choose_data_file(self):
        self.show_data_dialog(self.tr("Choose a copy of MNIST.")).choose_file()

    def _show_draw_page(self):
        self.tabs.setCurrentWidget(self.draw_page)

    def _update_state(self):
        """Enable what can be done now, and say what the window waits for."""
        controller = self.controller
        running = controller.running
        problem = self._settings_problem()
        can_start = controller.can_start and problem is None
        stopping = controller.stopping
        self.run_bar.set_state(running, controller.paused, can_start=can_start, stopping=stopping)
        self.run_bar.set_start_problems(self.setup_panel.problems())
        self.setup_panel.set_running(running)
        self.lesson_panel.set_run_state(running, controller.can_start)
        self.open_lesson_action.setEnabled(not running)
        self.start_action.setEnabled(can_start)
        self.pause_action.setEnabled(running and not stopping)
        self.stop_action.setEnabled(running and not stopping)
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
        self._show_notice()
        self.curves.set_hint(self._empty_plots_hint())
        if running or controller.history.finished is not None:
            self.redraw()  # the run's own status
            if problem is not None and not running:
                self.statusBar().showMessage(self._readiness_text())
            return
        self.statusBar().showMessage(self._readiness_text())
        self.run_bar.set_status(self._short_readiness_text())

    def _show_notice(self):
        """While MNIST is missing, a notice under the run bar says how to get it and what works."""
        if self.controller.data is None and self._data_missing:
            self.notice.show_notice(
                self.tr("<b>Training needs the MNIST digits.</b> Download them (about 11 MB) or"
                        " choose a copy (<i>mnist.npz</i> or a folder of the IDX files). Meanwhile"
                        " <b>Draw a digit</b> already works, with the models shipped with bngui."),
                [(self.tr("Download MNIST"), self._download_data),
                 (self.tr("Choose a file…"), self._choose_data_file),
                 (self.tr("Draw a digit"), self._show_draw_page)])
        else:
            self.notice.clear_notice()

    def _empty_plots_hint(self):
        controller = self.controller
        if controller.running:
            return self.tr("Preparing the run: building the models and tracing the training step.\n"
                           "With many variants the first points can take a minute.")
        if controller.data is None and self._data_missing:
            return self.tr("Training needs MNIST: see the notice above.\n"
                           "Drawing a digit already works (the Draw a digit tab).")
        if not controller.ready:
            return self.tr("Loading TensorFlow and MNIST…\nThen choose a preset and press Start.")
        if self._settings_problem() is not None:
            return self.tr("A setting is out of its range: see the field framed in red\n"
                           "in the experiment panel. Correct it, then press Start.")
        return self.tr("Press Start (Ctrl+Return) to train the ticked variants,\n"
                       "or choose another preset in the experiment panel first.")

    def _settings_problem(self):
        """What keeps Start from training the settings as typed ("Batches: 1 to 100,000"; the
        first of them, on one line for the status bar), or None."""
        problems = self.setup_panel.problems()
        if len(problems) > 1:
            return self.tr("{problem} (and {count} more)").format(problem=problems[0],
                                                                  count=len(problems) - 1)
        return problems[0] if problems else None

    def _short_readiness_text(self):
        controller = self.controller
        if controller.data is None and self._data_missing:
            return self.tr("MNIST is needed to train")
        if not controller.tensorflow_ready and controller.data is None:
            return self.tr("Loading TensorFlow and MNIST…")
        if not controller.tensorflow_ready:
            return self.tr("Loading TensorFlow…")
        if controller.data is None:
            return self.tr("Loading MNIST…")
        if self._settings_problem() is not None:
            return self.tr("Correct the settings to start")
        return self.tr("Ready to start")

    def _readiness_text(self):
        controller = self.controller
        if controller.data is None and self._data_missing:
            return self.tr("MNIST not found. Use the notice above or File → Get MNIST… to get it.")
        problem = self._settings_problem()
        if problem is not None and not controller.running:
            return self.tr("Start needs settings in their range: {problem}").format(problem=problem)
        if controller.ready:
            return self.tr("Ready · MNIST: {source}").format(source=controller.data.source)
        return self._short_readiness_text()

    @property
    def ready(self):
        return self.controller.ready

    def _on_setup_changed(self, *_):
        """The setup changed: the run on screen becomes the previous one, or the empty plots follow."""
        panel = self.setup_panel
        self.curves.set_planned_batches(panel.batches.value())
        # Compile the chosen variants ahead, so that Start trains at once.
        self.controller.prepare(panel.selected_variants(), panel.settings())
        if self.controller.running:
            return
        if self._run_on_screen():
            self._mark_previous_run()
        else:
            self._set_shown_variants(panel.selected_variants())
            self._redraw_soon()

    def _run_on_screen(self):
        history = self.history
        return bool(history.variant_ids) and (history.started is not None or history.recorded)

    def _mark_previous_run(self):
        history, panel = self.history, self.setup_panel
        previous = self._run_on_screen() and (
            set(panel.selected_variants()) != set(history.variant_ids)
            or panel.settings() != self.controller.run_settings)
        self.results.set_previous_run(previous)
        self.results_caption.setVisible(previous)
        self.results.refresh(history)

    # -- training -------------------------------------------------------------

    def start_training(self):
        variant_ids = self.setup_panel.selected_variants()
        settings = self.setup_panel.settings()
        if self.controller.running:
            return
        problem = self._settings_problem()
        if problem is not None:  # the field says so too, in red
            self.statusBar().showMessage(self.tr("Start needs settings in their range: {problem}")
                                         .format(problem=problem), 5000)
            return
        if not self.controller.ready:
            problem = self.controller.why_not_start(variant_ids, settings)
            self.statusBar().showMessage(self.tr("Cannot start yet: {problem}").format(problem=problem),
                                         5000)
            return
        if not self.controller.start(variant_ids, settings):
            return
        self._set_shown_variants(variant_ids)
        self._session_on_screen = None
        self.statusBar().clearMessage()  # "Ready" is over; the run bar says what the run does
        self.results.set_previous_run(False)
        self.results_caption.setVisible(False)
        self.run_bar.reset_progress(settings.batches)
        if self.presentation_action.isChecked():
            QTimer.singleShot(0, self, self._fit_results_height)  # as many rows as variants
        self.redraw()

    def toggle_pause(self):
        self.controller.toggle_pause()

    def stop_training(self):
        self.controller.stop()

    # -- drawing --------------------------------------------------------------

    def _redraw_soon(self):
        """Redraw when the event loop next turns: the settings changed together (a lesson
        step, a preset) are drawn once."""
        if not self._redraw_pending:
            self._redraw_pending = True
            QTimer.singleShot(0, self, self.redraw)

    def redraw(self):
        self._redraw_pending = False
        history = self.history
        current = self.tabs.currentWidget()
        if current is self.network_view:
            self.network_view.refresh(history)
        elif current is not self.draw_page:
            self.curves.refresh(history)
        self.results.refresh(history)
        if history.started is not None:
            going_on = self.controller.running and not self.controller.stopping
            self.run_bar.show_progress(history.batches_done, history.started.total_batches,
                                       history.progress, going_on=going_on)
        status = self._run_status_text()
        if status:
            self.run_bar.set_status(status)
        self.curves.set_hint(self._empty_plots_hint())

    def _run_status_text(self):
        history = self.history
        if self.controller.running and history.finished is not None:
            # Training has halted; the run's thread still keeps its trained models.
            return self.tr("Run ended in {seconds} s; keeping its models…").format(
                seconds=f"{history.finished.seconds:.0f}")
        if self.controller.stopping:
            if history.phase in (Phase.SCORING, Phase.PRECISE):
                return self.tr("Stopping: ending the scoring…")
            return self.tr("Stopping…")
        if self.controller.running:
            phases = {
                Phase.COMPILING: self.tr("Compiling the training step…"),
                Phase.TRAINING: self.tr("Training"),
                Phase.PAUSED: self.tr("Paused"),
                Phase.SCORING: self.tr("Scoring validation and test sets…"),
                Phase.PRECISE: self.tr("Precise BN: re-estimating the population statistics…"),
                Phase.STOPPING: self.tr("Stopping…"),
            }
            scoring = history.scoring
            if history.phase in (Phase.SCORING, Phase.PRECISE) and scoring is not None:
                return self._scoring_text(scoring)
            return phases.get(history.phase, self.tr("Preparing the run…"))
        if history.finished is not None:
            seconds = f"{history.finished.seconds:.0f}"
            if history.finished.status == "stopped":
                return self.tr("Run stopped in {seconds} s, not scored").format(seconds=seconds)
            return self.tr("Run done in {seconds} s").format(seconds=seconds)
        return ""

    def _scoring_text(self, scoring):
        """What the final scoring measures now and how far it is."""
        parts = {
            ScoringPart.VALIDATION: self.tr("Scoring the validation set"),
            ScoringPart.TEST: self.tr("Scoring the test set"),
            ScoringPart.SINGLE_SAMPLES: self.tr("Scoring 100 test images one at a time"),
            ScoringPart.PRECISE_STATISTICS: self.tr("Precise BN: re-estimating the statistics"),
            ScoringPart.PRECISE_VALIDATION: self.tr("Precise BN: scoring the validation set"),
            ScoringPart.PRECISE_TEST: self.tr("Precise BN: scoring the test set"),
        }
        return self.tr("{part}: {done} of {total}…").format(
            part=parts.get(scoring.part, scoring.part), done=f"{scoring.done:,}", total=f"{scoring.total:,}")

    @property
    def run_status(self):
        """The label that says what the run is doing."""
        return self.run_bar.status

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
        self.curves.refresh(self.history)  # at once: a switch never shows empty plots

    def set_training_mode(self, mode):
        """Training curves scored in INFERENCE_MODE (the notebook's) or as the step saw them."""
        if mode not in (INFERENCE_MODE, TRAINING_MODE):
            mode = INFERENCE_MODE
        self.curves.set_training_mode(mode)
        for widget, value in ((self.training_mode_box, self.training_mode_box.findData(mode)),
                              (self.training_mode_action, mode == TRAINING_MODE)):
            widget.blockSignals(True)
            if widget is self.training_mode_box:
                widget.setCurrentIndex(value)
            else:
                widget.setChecked(value)
            widget.blockSignals(False)
        self._redraw_soon()

    def _on_smoothing_changed(self, value):
        self.smoothing_label.setText(f"{value / 100:.2f}")
        self.curves.set_smoothing(value / 100)
        self._redraw_soon()

    def set_presentation_mode(self, enabled):
        font = self.font()
        font.setPointSize(PRESENTATION_FONT_PT if enabled else self._normal_font_size)
        self.setFont(font)
        self.run_bar.set_presentation(enabled)
        controls_font = QFont()  # nothing set: the window's font
        if enabled:
            controls_font.setPointSize(CONTROLS_PRESENTATION_PT)
        # The menus and the tabs' names are the lecturer's too.
        for controls in (self.setup_scroll, self.curve_controls, self.lesson_panel, self.menuBar(),
                         self.tabs.tabBar()):
            controls.setFont(controls_font)
        self.lesson_panel.set_presentation(enabled)
        legend_font = QFont()
        if enabled:
            legend_font.setPointSize(LEGEND_PRESENTATION_PT)
        self.curves.variant_scroll.setFont(legend_font)
        self.curves.set_presentation(enabled)
        self._redraw_soon()
        self.network_view.set_presentation_mode(enabled)
        # A projector needs the plots more than the lecturer's controls: the setup
        # details fold away and the experiment panel makes way for the plots unless the
        # lesson is in front (Ctrl+E brings it back); the results table takes the height
        # of its rows. Leaving presentation mode brings back what was there.
        self.setup_panel.set_details_shown(not enabled)
        if enabled and not self.lesson_in_front:
            # The lesson's tab behind it would come forward in its place: it goes too.
            self._hidden_for_presentation = [dock for dock in (self.setup_dock, self.lesson_dock)
                                             if not dock.isHidden()]
            for dock in self._hidden_for_presentation:
                dock.hide()
        elif not enabled:
            for dock in self._hidden_for_presentation:
                dock.show()
            if self.setup_dock in self._hidden_for_presentation:
                self.setup_dock.raise_()
            self._hidden_for_presentation = []
        # The status line's messages are for the lecturer; its height is the plots' on a
        # 720-pixel projector (the run bar says what the run does).
        self.statusBar().setVisible(not enabled)
        self._fit_dock()
        QTimer.singleShot(0, self, self._fit_results_height)
        if self.presentation_action.isChecked() != enabled:
            # Keep the menu's tick in step without running this method twice.
            self.presentation_action.blockSignals(True)
            self.presentation_action.setChecked(enabled)
            self.presentation_action.blockSignals(False)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        # The results table keeps its share of the height (a dock keeps its pixels):
        # dragged larger or smaller by hand, it keeps that share.
        old = event.oldSize().height()
        if old > 0 and self.results_dock.isVisible() and event.size().height() != old:
            share = min(0.6, self.results_dock.height() / old)
            self.resizeDocks([self.results_dock], [int(share * event.size().height())],
                             Qt.Orientation.Vertical)

    def _fit_results_height(self):
        """The results table's share of the height; in presentation mode no more than its rows need."""
        height = int(self.height() * RESULTS_SHARE)
        if self.presentation_action.isChecked():
            table = self.results
            rows = max(2, table.rowCount())
            needed = (table.horizontalHeader().height() + rows * table.verticalHeader().defaultSectionSize()
                      + 2 * table.frameWidth() + table.horizontalScrollBar().sizeHint().height())
            if self.results_caption.isVisible():
                needed += self.results_caption.sizeHint().height()
            height = min(height, needed)
        self.resizeDocks([self.results_dock], [height], Qt.Orientation.Vertical)

    def _fit_dock(self):
        """The experiment panel as wide as its widest label, with room for its scroll bar;
        the lesson panel, when it is in front, wider (a share of the window)."""
        self.setup_panel.adjustSize()
        scrollbar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        width = self.setup_panel.minimumSizeHint().width() + scrollbar + 2 * self.setup_scroll.frameWidth()
        self.setup_scroll.setMinimumWidth(width)
        if self.lesson_in_front:
            if self.presentation_action.isChecked():
                share, widest = LESSON_PRESENTATION_SHARE, LESSON_PRESENTATION_MAX_WIDTH
            else:
                share, widest = LESSON_SHARE, LESSON_MAX_WIDTH
            width = max(width, min(widest, int(share * self.width())))
        self.resizeDocks([self.setup_dock], [width], Qt.Orientation.Horizontal)

    def _on_lesson_visibility_changed(self, shown):
        """The lesson panel came in front (or went behind the experiment panel, or closed):
        with it in front the left column takes the whole height, beside the results table."""
        in_front = shown and self.dockWidgetArea(self.lesson_dock) == Qt.DockWidgetArea.LeftDockWidgetArea \
            and not self.lesson_dock.isFloating()
        if in_front == self.lesson_in_front:
            return
        self.lesson_in_front = in_front
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea if in_front
                       else Qt.DockWidgetArea.BottomDockWidgetArea)
        QTimer.singleShot(0, self, self._fit_dock)

    # -- export ---------------------------------------------------------------

    def _export_parts(self):
        """The views of the current tab that an export shows, left to right."""
        if self.tabs.currentWidget() is self.network_view:
            return self.network_view.export_parts()
        return self.curves.export_parts()

    def export_plots(self, path):
        """Write the plots of the current tab to ``path``: PNG, SVG or PDF by its suffix, at their
        size on screen. The training curves (with the variant list as their legend) unless
        "Inside the network" is showing."""
        suffix = str(path).lower().rpartition(".")[2]
        if suffix == "svg":
            export.write_svg(self._export_parts(), path, title=self.tr("bngui plots"))
        elif suffix == "pdf":
            export.write_pdf(self._export_parts(), path, title=self.tr("bngui plots"))
        else:
            export.write_png(self._export_parts(), path)

    def export_metrics(self, path):
        write_metrics_csv(path, self.history.metrics)

    def _export_with_dialog(self, title, pattern, suffix, write):
        path, _ = QFileDialog.getSaveFileName(self, title, f"bngui{suffix}", pattern)
        if not path:
            return
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            write(path)
        except OSError as error:
            self._show_error(self.tr("Could not write {path}: {reason}").format(
                path=path, reason=error.strerror or error))
        else:
            self.statusBar().showMessage(self.tr("Saved {path}").format(path=path), 5000)

    def export_png_dialog(self):
        self._export_with_dialog(self.tr("Export plots"), self.tr("PNG image (*.png)"), ".png",
                                 self.export_plots)

    def export_svg_dialog(self):
        self._export_with_dialog(self.tr("Export plots"), self.tr("SVG drawing (*.svg)"), ".svg",
                                 self.export_plots)

    def export_pdf_dialog(self):
        self._export_with_dialog(self.tr("Export plots"), self.tr("PDF document (*.pdf)"), ".pdf",
                                 self.export_plots)

    def export_csv_dialog(self):
        self._export_with_dialog(self.tr("Export metrics"), self.tr("CSV (*.csv)"), ".csv",
                                 self.export_metrics)

    def load_models_dialog(self):
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Load models: a folder written by bngui train --out or by Save models")
        )
        if folder:
            self.draw_page.load_models_folder(folder)

    def save_models_dialog(self):
        folder = QFileDialog.getExistingDirectory(self, self.tr("Save the trained models into a folder"))
        if folder:
            self.draw_page.save_models_folder(folder)

    # -- sessions -------------------------------------------------------------

    def save_session_dialog(self):
        problem = self.controller.why_not_save()
        if problem:
            self._show_error(problem)
            return
        # A file dialog, not a folder picker: the folder may be new, and typing
        # its name is how one makes it.
        suggested = Path(self.store.value("paths/sessions", str(Path.home()))) / (
            "bngui-session-" + datetime.now().strftime("%Y-%m-%d-%H%M"))
        folder, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save the session into a new or empty folder (type its name)"), str(suggested),
            "", options=QFileDialog.Option.DontConfirmOverwrite)
        if folder:
            self.store.setValue("paths/sessions", str(Path(folder).parent))
            self.save_session(folder)

    def save_session(self, folder):
        """Save the run on screen into ``folder`` (made if new) in the background; the job or None.

        A folder that exists, is not empty and is not a session is refused at once.
        """
        from bngui.core.session import SessionError, check_session_folder

        try:
            check_session_folder(folder)
        except SessionError as error:
            self._show_error(self.tr("Cannot save the session there: {reason}").format(reason=error))
            return None
        return self.controller.save_session(folder)

    def open_session_dialog(self):
        if self.controller.running:
            self._show_error(self.tr("Stop the run before opening a session."))
            return
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Open a session: a folder saved by bngui or written by bngui train --out")
        )
        if folder:
            self.open_session(folder)

    def open_session(self, folder):
        """Open the session in ``folder`` in the background; returns the job or None."""
        return self.controller.open_session(folder)

    def _on_session_opened(self, session):
        self._session_on_screen = Path(session.folder)
        self._set_shown_variants(session.variant_ids)
        self.setup_panel.select_variants(list(session.variant_ids))
        self.setup_panel.set_settings(session.settings)
        self._mark_previous_run()
        self.redraw()

    # -- the lesson -----------------------------------------------------------

    def open_lesson_dialog(self):
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Open a prepared lesson: a folder written by bngui prepare-lesson"))
        if folder:
            self.open_lesson(folder)

    def open_lesson(self, folder, step=None):
        """Show the lesson panel on the prepared lesson in ``folder`` at ``step`` (0-based),
        set up; by default at the step shown last if it was this lesson, else at the first.
        False, after a message, when the folder is not a prepared lesson."""
        try:
            prepared = lesson.read_prepared_lesson(folder)
        except lesson.LessonError as error:
            self._show_error(self.tr("Cannot open the lesson: {reason}").format(reason=error))
            return False
        if step is None:
            same = self.prepared_lesson_folder == str(Path(folder).resolve())
            step = self.lesson_panel.index if same else 0
        self.prepared_lesson = prepared
        self.prepared_lesson_folder = str(Path(folder).resolve())
        self.lesson_panel.set_prepared(prepared)
        self.show_lesson(step)
        if prepared.problems:
            self.statusBar().showMessage(
                self.tr("Some of the lesson's runs are not prepared: {problems}").format(
                    problems="; ".join(prepared.problems)), 15000)
        return True

    def show_lesson(self, step=0):
        """Bring the lesson panel forward at ``step`` and set the window up for it."""
        self.lesson_dock.show()
        self.lesson_dock.raise_()
        self.lesson_panel.show_step(step)
        return self.set_up_lesson_step(self.lesson_panel.current_step)

    def set_up_lesson_step(self, step, open_prepared=True):
        """Set the window up for a lesson step (a ``core.lesson.LessonStep``).

        The step's run: with a prepared lesson (and ``open_prepared``), its session
        is opened in the background (its finished curves; Start still trains it
        live); without one, its variants and settings are chosen, ready for Start.
        Then the tab, the curves' layout and mode, the layer, the heatmap and the
        canvas's toggle. While a run trains, its variants and curves stay. Returns
        the job opening the session, or None when there is nothing to open.
        """
        job = None
        if step.run is not None and not self.controller.running:
            folder = self.prepared_lesson.session_for(step) if self.prepared_lesson else None
            if not open_prepared:
                folder = None
            self._lesson_wanted = folder
            if folder is not None and folder != self._session_on_screen:
                job = self._open_lesson_session(folder)
            else:  # nothing to open, or its session is on screen already
                self.setup_panel.select_variants(list(step.run.variants))
                self.setup_panel.set_settings(step.run.settings)
        # The views' settings first, the tab last: a view set up while hidden is built
        # once, when shown, and the curves' mode before their layout, which draws at once.
        if step.training_mode is not None:
            self.set_training_mode(step.training_mode)
        if step.layout is not None:
            self.set_layout_mode(step.layout)
        if step.layer is not None:
            self.network_view.set_activation_layer(step.layer)
        if step.heatmap is not None:
            self.network_view.set_heatmap(step.heatmap)
        tabs = {lesson.CURVES: self.tabs.widget(0), lesson.NETWORK: self.network_view,
                lesson.DRAW: self.draw_page}
        self.tabs.setCurrentWidget(tabs[step.tab])
        if step.canvas_bug_toggle:
            self.draw_page.present_bug_toggle()
        return job

    def _open_lesson_session(self, folder):
        """Open a step's session through the controller's job; while one opens, the job
        opening it (the step's own opens after it, if it is still wanted)."""
        if self._lesson_job is not None:
            return self._lesson_job
        job = self.open_session(folder)
        if job is not None:
            self._lesson_job, self._lesson_opening = job, folder
            job.finished.connect(self._on_lesson_session_job_ended)
        return job

    def _on_lesson_session_job_ended(self):
        self._lesson_job = None
        opened, self._lesson_opening = self._lesson_opening, None
        wanted = self._lesson_wanted
        # Steps passed by while it opened: the current one's session, unless it was this one.
        if wanted is not None and wanted != opened and wanted != self._session_on_screen \
                and not self.controller.running:
            self._open_lesson_session(wanted)

    def start_lesson_run(self, step):
        """"Train this step's run": its variants and settings (not its prepared session),
        the rest of the step set up, and training now, live."""
        if step.run is None or self.controller.running:
            return
        self.set_up_lesson_step(step, open_prepared=False)
        self.start_training()

    # -- messages and closing -------------------------------------------------

    def show_about(self):
        QMessageBox.about(self, self.tr("About bngui"), self.tr(
            "<h3>bngui {version}</h3><p>Watch, live, why batch normalization matters: a deep plain"
            " network stays at chance while its batch-normalized twins learn.</p>").format(
                version=__version__))

    def choose_language(self, language):
        """Save ``language`` (a key of ``i18n.LANGUAGES``) for the next launch; when it is not
        the window's, say so in a message, in both languages. Returns the message box or None."""
        i18n.save_language(self.store, language)
        for code, action in self.language_actions.items():
            action.setChecked(code == language)
        if language == i18n.current_language():
            self.statusBar().showMessage(self.tr("The window stays in {language}.").format(
                language=i18n.LANGUAGES[language]), 5000)
            return None
        name = i18n.LANGUAGES[language]
        here = self.tr(LANGUAGE_CHANGED).format(language=name)
        there = i18n.in_language(language, "MainWindow", LANGUAGE_CHANGED).format(language=name)
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("Language"),
                          here if there == here else f"{here}\n\n{there}", QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.language_box = box
        return box

    def _show_error(self, message):
        self.statusBar().showMessage(message, 10000)
        QMessageBox.warning(self, "bngui", message)

    def shutdown(self, timeout_ms=None):
        """Stop training and background jobs; True when every thread has ended.

        Waits ``timeout_ms`` in all for the training, the jobs and the drawing's models (by
        default 2.5 s for the first two and 15 s for the last); files the user asked to save
        are written first, however long that takes.
        """
        self.redraw_timer.stop()
        if timeout_ms is None:
            ended = self.controller.shutdown(2500)
            ended = self.draw_page.shutdown(15000) and ended
        else:  # closing: one deadline for the threads that can stop, none for loading
            deadline = QDeadlineTimer(timeout_ms)
            ended = self.controller.shutdown(timeout_ms, wait_for_loading=False)
            ended = self.draw_page.shutdown(max(0, deadline.remainingTime())) and ended
        dialog = getattr(self, "data_dialog", None)
        if dialog is not None and dialog.downloading:
            dialog.done(0)
        return ended

    def closeEvent(self, event):
        self.save_settings()
        # A thread busy with what it cannot interrupt (importing TensorFlow, tracing a
        # model) is not waited for: the application leaves without it (app.run_app).
        self.shutdown(QUIT_WAIT_MS)
        event.accept()
