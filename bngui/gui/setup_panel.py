"""The experiment panel: a preset and its lesson, then the variants and hyperparameters.

The run controls (Start, Pause, Stop, the progress) are not here but in the run
bar at the top of the window, so they stay visible however tall this panel is.
The variants and hyperparameters fold away under "Details" (presentation mode
folds them), leaving the preset, its lesson and whether it was changed by hand.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from bngui.core.settings import (
    BN_DECAYS,
    LOSSES,
    MAX_BATCH_SIZE,
    MAX_BATCHES,
    MAX_LEARNING_RATE,
    MAX_PRECISE_BATCHES,
    MAX_SEED,
    MAX_SEEDS,
    MIN_LEARNING_RATE,
    TrainSettings,
    number_text,
)
from bngui.core.variants import GROUPS, VARIANTS
from bngui.gui.fields import ERROR_COLOR, CheckedField, ComboBox, DoubleSpinBox, SpinBox
from bngui.gui.plot_style import MUTED_COLOR, line_swatch
from bngui.gui.presets import DEFAULT_PRESET, PRESETS, preset_for
from bngui.gui.variant_names import group_title, name_in_group, variant_label
from bngui.gui.widget_style import set_text_color

CUSTOM = "Custom"
MODIFIED_COLOR = "#8a4b00"  # dark orange: readable on the panel, and not a variant's colour


class SetupPanel(QWidget):
    """Emits ``variants_changed(ids)`` when the ticked variants change,
    ``settings_changed()`` when a hyperparameter does, and ``problems_changed()``
    when a number field becomes wrong (out of its range, or not a number) or
    right again: ``problems()`` says what is wrong, and ``settings()`` keeps the
    last right values meanwhile."""

    variants_changed = Signal(list)
    settings_changed = Signal()
    problems_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._applying_preset = False
        self._problems = []  # what is wrong with the number fields, as shown
        layout = QVBoxLayout(self)

        lesson_box = QGroupBox(self.tr("Preset"))
        lesson_layout = QVBoxLayout(lesson_box)
        self.preset = ComboBox()
        self.preset.setModel(QStandardItemModel(self.preset))
        for name, preset in PRESETS.items():
            self.preset.addItem(preset.title, name)
        self.preset.addItem(self.tr("Custom"), CUSTOM)
        # "Custom" says that the ticked variants match no preset; it cannot be chosen.
        self.preset.model().item(self.preset.count() - 1).setEnabled(False)
        self.preset.setToolTip(self.tr("Ready-made comparisons: the variants and the settings their"
                                       " lesson needs. Ticking other variants makes it Custom."))
        lesson_layout.addWidget(self.preset)
        self.lesson = QLabel()
        self.lesson.setWordWrap(True)
        set_text_color(self.lesson, MUTED_COLOR)
        lesson_layout.addWidget(self.lesson)
        modified_row = QHBoxLayout()
        self.modified = QLabel()
        self.modified.setWordWrap(True)
        set_text_color(self.modified, MODIFIED_COLOR)
        self.restore_button = QPushButton(self.tr("Restore"))
        self.restore_button.setToolTip(self.tr("Set the preset's own settings again"))
        self.restore_button.clicked.connect(self.restore_preset_settings)
        modified_row.addWidget(self.modified, 1)
        modified_row.addWidget(self.restore_button, 0, Qt.AlignmentFlag.AlignTop)
        lesson_layout.addLayout(modified_row)
        layout.addWidget(lesson_box)

        self.details_button = QToolButton()
        self.details_button.setText(self.tr("Variants and hyperparameters"))
        self.details_button.setCheckable(True)
        self.details_button.setChecked(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setAutoRaise(True)
        self.details_button.toggled.connect(self.set_details_shown)
        layout.addWidget(self.details_button)
        # Folded away (presentation mode folds), the wrong fields are still named here.
        self.folded_problems = QLabel()
        self.folded_problems.setWordWrap(True)
        set_text_color(self.folded_problems, ERROR_COLOR)
        self.folded_problems.setVisible(False)
        layout.addWidget(self.folded_problems)
        self.details = QWidget()
        details_layout = QVBoxLayout(self.details)
        details_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.details)

        self.checkboxes = {}
        swatch_height = self.fontMetrics().height()
        for group in GROUPS:
            box_group = QGroupBox(group_title(group))
            group_layout = QVBoxLayout(box_group)
            group_layout.setSpacing(2)
            for variant in VARIANTS:
                if variant.group != group:
                    continue
                box = QCheckBox(name_in_group(variant))
                box.setIcon(QIcon(line_swatch(variant, 2 * swatch_height, swatch_height, 3)))
                box.setToolTip(f"{variant_label(variant)}  ({variant.id})")
                box.toggled.connect(self._on_variant_toggled)
                group_layout.addWidget(box)
                self.checkboxes[variant.id] = box
            details_layout.addWidget(box_group)

        defaults = TrainSettings()
        hyper = QGroupBox(self.tr("Hyperparameters"))
        form = QFormLayout(hyper)
        self.batches = SpinBox()
        self.batches.setRange(1, MAX_BATCHES)
        self.batches.setSingleStep(100)
        self.batches.setValue(defaults.batches)
        self.batches.setToolTip(self.tr("Training batches per variant (the notebook: 800)"))
        self.batch_size = SpinBox()
        self.batch_size.setRange(1, MAX_BATCH_SIZE)
        self.batch_size.setValue(defaults.batch_size)
        self.learning_rate = DoubleSpinBox()
        self.learning_rate.setDecimals(5)
        self.learning_rate.setRange(MIN_LEARNING_RATE, MAX_LEARNING_RATE)
        self.learning_rate.setSingleStep(0.001)
        self.learning_rate.setValue(defaults.learning_rate)
        self.learning_rate.setToolTip(self.tr("Adam's learning rate (the notebook: 0.002)"))
        self.loss = ComboBox()
        loss_tips = {
            "sigmoid": self.tr("sigmoid cross-entropy on one-hot labels (the notebook's)"),
            "softmax": self.tr("softmax cross-entropy"),
        }
        for loss in LOSSES:
            self.loss.addItem(loss, loss)
            self.loss.setItemData(self.loss.count() - 1, loss_tips[loss], Qt.ItemDataRole.ToolTipRole)
        self.seed = SpinBox()
        self.seed.setRange(0, MAX_SEED)
        self.seed.setValue(defaults.seed)
        self.seed.setToolTip(self.tr("The same seed gives the same initial weights and batches"))
        self.repeats = SpinBox()
        self.repeats.setRange(1, MAX_SEEDS)
        self.repeats.setValue(1)
        self.repeats.setToolTip(self.tr(
            "Train the same run once per seed (the seed, then the next ones) and show each"
            " variant's mean with its range over the seeds: one run is one draw"))
        # The number fields, with the names their messages give them (the rows' labels).
        self.checked_fields = {}
        self._field_names = {}
        for name, field in ((self.tr("Batches"), self.batches),
                            (self.tr("Batch size"), self.batch_size),
                            (self.tr("Learning rate"), self.learning_rate),
                            (self.tr("Loss"), self.loss),
                            (self.tr("Seed"), self.seed),
                            (self.tr("Repeat over seeds"), self.repeats)):
            self._add_row(form, name, field)
        details_layout.addWidget(hyper)

        bn_box = QGroupBox(self.tr("Batch normalization"))
        bn_form = QFormLayout(bn_box)
        self.bn_decay = ComboBox()
        for decay in BN_DECAYS:
            self.bn_decay.addItem(f"{decay:g}", decay)
        self.bn_decay.setToolTip(self.tr(
            "How much of its population statistics a BN layer keeps at each training batch."))
        self.decay_note = QLabel(self.tr(
            "Keras's momentum 0.99 is PyTorch's momentum 0.01: about 100 batches of memory"
            " (0.9: 10, 0.999: 1,000)."))
        self.decay_note.setWordWrap(True)
        set_text_color(self.decay_note, MUTED_COLOR)
        self.precise_batches = SpinBox()
        self.precise_batches.setRange(0, MAX_PRECISE_BATCHES)
        self.precise_batches.setSingleStep(50)
        self.precise_batches.setValue(defaults.precise_batches)
        self.precise_batches.setToolTip(self.tr(
            "After the run, re-estimate every BN layer's population statistics over this many"
            " training batches with the weights fixed (precise BN) and score again; 0: no"))
        self.augment = QCheckBox(self.tr("Augment the training batches"))
        self.augment.setToolTip(self.tr(
            "Shift, rotate, scale, shear, thicken or thin and bend every training batch at"
            " random, the same way for every variant (off in the notebook)"))
        bn_form.addRow(self.tr("BN decay"), self.bn_decay)
        bn_form.addRow(self.decay_note)
        self._add_row(bn_form, self.tr("Precise BN batches"), self.precise_batches)
        bn_form.addRow(self.augment)
        details_layout.addWidget(bn_box)
        layout.addStretch(1)

        for spin in (self.batches, self.batch_size, self.seed, self.repeats, self.precise_batches):
            spin.valueChanged.connect(self._on_setting_changed)
        self.learning_rate.valueChanged.connect(self._on_setting_changed)
        for combo in (self.loss, self.bn_decay):
            combo.currentIndexChanged.connect(self._on_setting_changed)
        self.augment.toggled.connect(self._on_setting_changed)
        for field in self.checked_fields:
            field.edited.connect(self._check_fields)
        self.preset.currentIndexChanged.connect(self._on_preset_chosen)
        # Choosing the preset shown again sets its settings again, as Restore does.
        self.preset.activated.connect(self._on_preset_chosen)
        self.apply_preset(DEFAULT_PRESET)
        self.set_details_shown(True)
        self._check_fields()

    def _add_row(self, form, name, field):
        """A row for ``field``; a number field in its ``CheckedField``, with its message under
        the row, across the label's width too."""
        if not isinstance(field, (SpinBox, DoubleSpinBox)):
            form.addRow(name, field)
            return
        self._field_names[field] = name
        checked = self.checked_fields[field] = CheckedField(field)
        form.addRow(name, checked)
        form.addRow(checked.message)

    # -- what is wrong --------------------------------------------------------

    def field_problem(self, field):
        """What is wrong with a number field's text ("Batches: 1 to 100,000"), or None."""
        name = self._field_names[field]
        low, high = field.minimum(), field.maximum()
        if field is self.seed and field.is_acceptable() and self.repeats.is_acceptable():
            # The seeds of a repeated run are the seed and the next ones: all must be seeds.
            count = self.repeats.value()
            if field.value() + count - 1 > MAX_SEED:
                return self.tr("{name}: {low} to {high} with {count} seeds").format(
                    name=name, low=number_text(low), high=number_text(MAX_SEED - count + 1),
                    count=count)
        if field.is_acceptable():
            return None
        number = field.typed_number()
        if number is not None and not low <= number <= high:
            text = self.tr("{name}: {low} to {high}")
        elif isinstance(field, SpinBox):
            text = self.tr("{name}: a whole number from {low} to {high}")
        else:
            text = self.tr("{name}: a number from {low} to {high}")
        return text.format(name=name, low=number_text(low), high=number_text(high))

    def problems(self):
        """What is wrong with the number fields, in their order (empty when all are right)."""
        return list(self._problems)

    def _check_fields(self):
        problems = []
        for field, checked in self.checked_fields.items():
            problem = self.field_problem(field)
            checked.set_problem(problem)
            if problem:
                problems.append(problem)
        if problems != self._problems:
            self._problems = problems
            self._show_folded_problems()
            self.problems_changed.emit()

    def _show_folded_problems(self):
        self.folded_problems.setText("\n".join(self._problems))
        self.folded_problems.setVisible(bool(self._problems) and not self.details_shown)

    # -- presets --------------------------------------------------------------

    @property
    def current_preset(self):
        """The preset whose variants are ticked (its settings may differ), or None."""
        return preset_for(self.selected_variants())

    def apply_preset(self, name):
        """Tick the preset's variants and set its settings."""
        preset = PRESETS[name]
        self._applying_preset = True
        try:
            for variant_id, box in self.checkboxes.items():
                box.setChecked(variant_id in preset.variants)
            self._set_fields(preset.settings)
        finally:
            self._applying_preset = False
        self._show_preset_state()
        self.variants_changed.emit(self.selected_variants())
        self.settings_changed.emit()

    def restore_preset_settings(self):
        preset = self.current_preset
        if preset is not None:
            self.apply_preset(preset.name)

    def is_modified(self):
        """True when the ticked variants are a preset's but its settings were changed."""
        preset = self.current_preset
        return preset is not None and bool(preset.differences(self.settings()))

    def _on_preset_chosen(self, index):
        name = self.preset.itemData(index)
        if not self._applying_preset and name in PRESETS:
            self.apply_preset(name)

    def _show_preset_state(self):
        """The combo names the preset of the ticked variants; its lesson below, and what differs."""
        preset = self.current_preset
        name = preset.name if preset is not None else CUSTOM
        self.preset.blockSignals(True)
        self.preset.setCurrentIndex(self.preset.findData(name))
        self.preset.blockSignals(False)
        if preset is None:
            self.lesson.setText(self.tr("Your own choice of variants."))
            differences = []
        else:
            self.lesson.setText(preset.lesson_text)
            differences = preset.differences(self.settings())
        if differences:
            names = {"batches": self.tr("batches"), "batch_size": self.tr("batch size"),
                     "learning_rate": self.tr("learning rate"), "loss": self.tr("loss"),
                     "bn_decay": self.tr("BN decay"), "augment": self.tr("augmentation")}
            self.modified.setText(self.tr("Modified: {fields} differ from the preset's.").format(
                # The list's separator is the language's too (Chinese: "、").
                fields=self.tr(", ", "between the names of a list").join(
                    names.get(name, name) for name in differences)))
        self.modified.setVisible(bool(differences))
        self.restore_button.setVisible(bool(differences))

    # -- variants -------------------------------------------------------------

    def selected_variants(self):
        return [variant_id for variant_id, box in self.checkboxes.items() if box.isChecked()]

    def select_variants(self, variant_ids):
        """Tick exactly these variants (the settings stay as they are)."""
        self._applying_preset = True
        try:
            for variant_id, box in self.checkboxes.items():
                box.setChecked(variant_id in variant_ids)
        finally:
            self._applying_preset = False
        self._show_preset_state()
        self.variants_changed.emit(self.selected_variants())

    def _on_variant_toggled(self):
        if self._applying_preset:
            return
        self._show_preset_state()
        self.variants_changed.emit(self.selected_variants())

    # -- settings -------------------------------------------------------------

    def settings(self):
        seed, repeats = self.seed.value(), self.repeats.value()
        return TrainSettings(
            batches=self.batches.value(),
            batch_size=self.batch_size.value(),
            learning_rate=round(self.learning_rate.value(), 6),
            loss=self.loss.currentData(),
            seed=seed,
            bn_decay=self.bn_decay.currentData(),
            augment=self.augment.isChecked(),
            precise_batches=self.precise_batches.value(),
            seeds=tuple(range(seed, seed + repeats)) if repeats > 1 else (),
        )

    def set_settings(self, settings):
        self._applying_preset = True
        try:
            self._set_fields(settings.as_dict())
        finally:
            self._applying_preset = False
        self._show_preset_state()
        self.settings_changed.emit()

    def _set_fields(self, values):
        fields = {"batches": self.batches, "batch_size": self.batch_size, "seed": self.seed,
                  "learning_rate": self.learning_rate, "precise_batches": self.precise_batches}
        for name, value in values.items():
            if name == "loss":
                self.loss.setCurrentIndex(max(0, self.loss.findData(value)))
            elif name == "bn_decay":
                self._choose_decay(value)
            elif name == "augment":
                self.augment.setChecked(bool(value))
            elif name == "seeds":
                # Seeds the window can show are consecutive from the seed; others count alike.
                self.repeats.setValue(max(1, len(value)))
            elif name in fields:
                fields[name].setValue(value)

    def _choose_decay(self, decay):
        index = self.bn_decay.findData(decay)
        if index < 0:  # a decay from a session or the command line that the list lacks
            self.bn_decay.addItem(f"{decay:g}", decay)
            index = self.bn_decay.count() - 1
        self.bn_decay.setCurrentIndex(index)

    def _on_setting_changed(self):
        if self._applying_preset:
            return
        self._show_preset_state()
        self.settings_changed.emit()

    # -- state ----------------------------------------------------------------

    def set_details_shown(self, shown):
        """Show or fold away the variants and hyperparameters."""
        self.details.setVisible(shown)
        self.details_button.blockSignals(True)
        self.details_button.setChecked(shown)
        self.details_button.blockSignals(False)
        self.details_button.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self._show_folded_problems()
        self.details_button.setToolTip(self.tr("Hide the variants and hyperparameters") if shown
                                       else self.tr("Show the variants and hyperparameters"))

    @property
    def details_shown(self):
        return self.details_button.isChecked()

    def set_running(self, running):
        """The setup is fixed while a run trains."""
        for widget in (self.preset, self.restore_button, self.batches, self.batch_size,
                       self.learning_rate, self.loss, self.seed, self.repeats, self.bn_decay,
                       self.precise_batches, self.augment, *self.checkboxes.values()):
            widget.setEnabled(not running)
