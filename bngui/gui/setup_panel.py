"""The left-hand panel: which variants, presets, hyperparameters, Start/Pause/Stop."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bngui.core.settings import LOSSES, TrainSettings
from bngui.core.variants import GROUPS, NOTEBOOK_VARIANT_IDS, VARIANTS

PRESETS = {
    "Notebook: baseline vs BN": ["baseline", "keras-conv-bn-relu"],
    "All four placements (Keras)": [
        "baseline",
        "keras-conv-bn-relu",
        "keras-convbias-bn-relu",
        "keras-convbias-relu-bn",
        "keras-conv-relu-bn",
    ],
    "Keras vs low-level": ["baseline", "keras-conv-bn-relu", "nn-conv-bn-relu"],
    "All ten": list(NOTEBOOK_VARIANT_IDS),
    "Why inference mode matters": [
        "keras-conv-bn-relu",
        "keras-conv-bn-relu-frozen-stats",
        "keras-conv-bn-relu-batch-stats",
    ],
    "Learning-rate headroom (x10)": [
        "baseline",
        "baseline-lr10",
        "keras-conv-bn-relu",
        "keras-conv-bn-relu-lr10",
    ],
}
DEFAULT_PRESET = "Notebook: baseline vs BN"
CUSTOM = "Custom"


def color_swatch(color, size=14):
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


def format_duration(seconds):
    seconds = max(0, int(round(seconds)))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}:{seconds:02d}"


class SetupPanel(QWidget):
    start_requested = Signal()
    pause_requested = Signal()
    stop_requested = Signal()
    variants_changed = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        layout = QVBoxLayout(self)

        self.preset = QComboBox()
        self.preset.addItems([*PRESETS, CUSTOM])
        self.preset.setToolTip("Ready-made comparisons; ticking boxes by hand makes it Custom")
        layout.addWidget(QLabel("Preset"))
        layout.addWidget(self.preset)

        self.checkboxes = {}
        for title in GROUPS:
            group = QGroupBox(title)
            group_layout = QVBoxLayout(group)
            group_layout.setSpacing(2)
            for variant in VARIANTS:
                if variant.group != title:
                    continue
                box = QCheckBox(variant.label.split(": ")[-1])
                box.setIcon(color_swatch(variant.color))
                box.setToolTip(f"{variant.label}  ({variant.id})")
                box.toggled.connect(self._on_variant_toggled)
                group_layout.addWidget(box)
                self.checkboxes[variant.id] = box
            layout.addWidget(group)

        defaults = TrainSettings()
        hyper = QGroupBox("Hyperparameters")
        form = QFormLayout(hyper)
        self.batches = QSpinBox()
        self.batches.setRange(1, 100_000)
        self.batches.setSingleStep(100)
        self.batches.setValue(defaults.batches)
        self.batch_size = QSpinBox()
        self.batch_size.setRange(1, 1024)
        self.batch_size.setValue(defaults.batch_size)
        self.learning_rate = QDoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(0.00001, 1.0)
        self.learning_rate.setSingleStep(0.001)
        self.learning_rate.setValue(defaults.learning_rate)
        self.loss = QComboBox()
        self.loss.addItems(LOSSES)
        self.loss.setItemData(0, "sigmoid cross-entropy on one-hot labels (the notebook's)", Qt.ToolTipRole)
        self.loss.setItemData(1, "softmax cross-entropy", Qt.ToolTipRole)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setValue(defaults.seed)
        form.addRow("Batches", self.batches)
        form.addRow("Batch size", self.batch_size)
        form.addRow("Learning rate", self.learning_rate)
        form.addRow("Loss", self.loss)
        form.addRow("Seed", self.seed)
        layout.addWidget(hyper)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setDefault(True)
        self.pause_button = QPushButton("Pause")
        self.stop_button = QPushButton("Stop")
        for button in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start_requested)
        self.pause_button.clicked.connect(self.pause_requested)
        self.stop_button.clicked.connect(self.stop_requested)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("idle")
        layout.addWidget(self.progress)
        self.speed = QLabel("")
        layout.addWidget(self.speed)
        self.status = QLabel("Loading TensorFlow…")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self.preset.currentTextChanged.connect(self._apply_preset)
        self._applying_preset = False
        self._apply_preset(DEFAULT_PRESET)
        self.set_running(False, False, ready=False)

    # -- variants -------------------------------------------------------------

    def selected_variants(self):
        return [variant_id for variant_id, box in self.checkboxes.items() if box.isChecked()]

    def select_variants(self, variant_ids):
        self._applying_preset = True
        for variant_id, box in self.checkboxes.items():
            box.setChecked(variant_id in variant_ids)
        self._applying_preset = False
        self._sync_preset_name()
        self.variants_changed.emit(self.selected_variants())

    def _apply_preset(self, name):
        if name in PRESETS:
            self.select_variants(PRESETS[name])

    def _on_variant_toggled(self):
        if self._applying_preset:
            return
        self._sync_preset_name()
        self.variants_changed.emit(self.selected_variants())

    def _sync_preset_name(self):
        selected = self.selected_variants()
        # Compared as sets: the boxes list variants in catalogue order, a preset in its own.
        name = next((name for name, ids in PRESETS.items() if set(ids) == set(selected)), CUSTOM)
        self.preset.blockSignals(True)
        self.preset.setCurrentText(name)
        self.preset.blockSignals(False)

    # -- settings -------------------------------------------------------------

    def settings(self):
        return TrainSettings(
            batches=self.batches.value(),
            batch_size=self.batch_size.value(),
            learning_rate=round(self.learning_rate.value(), 6),
            loss=self.loss.currentText(),
            seed=self.seed.value(),
        )

    def set_settings(self, settings):
        self.batches.setValue(settings.batches)
        self.batch_size.setValue(settings.batch_size)
        self.learning_rate.setValue(settings.learning_rate)
        self.loss.setCurrentText(settings.loss)
        self.seed.setValue(settings.seed)

    # -- state ----------------------------------------------------------------

    def set_running(self, running, paused, ready=True):
        """Enable what makes sense: setup while idle, Pause/Stop while training."""
        self.start_button.setEnabled(ready and not running)
        self.pause_button.setEnabled(running)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(running)
        for widget in (self.preset, self.batches, self.batch_size, self.learning_rate,
                       self.loss, self.seed, *self.checkboxes.values()):
            widget.setEnabled(not running)

    def show_progress(self, progress):
        """Show a ``Progress`` event: batches done, images per second, time left."""
        self.progress.setRange(0, progress.total_batches)
        self.progress.setValue(progress.batches_done)
        self.progress.setFormat(f"batch {progress.batches_done} / {progress.total_batches}")
        self.speed.setText(
            f"{progress.images_per_second:.0f} images/s · {format_duration(progress.seconds_left)} left"
        )

    def reset_progress(self, total):
        self.progress.setRange(0, total)
        self.progress.setValue(0)
        self.progress.setFormat(f"batch 0 / {total}")
        self.speed.setText("")
