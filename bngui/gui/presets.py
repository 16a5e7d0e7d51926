"""Ready-made comparisons: which variants, the settings their lesson depends on, the lesson.

A preset sets the number of batches and the other hyperparameters its lesson
needs (the notebook's: 800 batches of 64, Adam at 0.002, the sigmoid loss),
because several lessons only hold there: at 300 batches "Why inference mode
matters" shows the correct BN model below the batch-statistics bug. The seed
is left as it is. Names and lessons are English source texts; the setup panel
shows them translated (context "Presets").
"""

from dataclasses import dataclass, field

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

from bngui.core.settings import TrainSettings
from bngui.core.variants import NOTEBOOK_VARIANT_IDS

CONTEXT = "Presets"
_NOTEBOOK = TrainSettings()
# The settings every preset sets (TrainSettings field names); the seed is the user's.
NOTEBOOK_SETTINGS = {
    "batches": _NOTEBOOK.batches,
    "batch_size": _NOTEBOOK.batch_size,
    "learning_rate": _NOTEBOOK.learning_rate,
    "loss": _NOTEBOOK.loss,
}


@dataclass(frozen=True)
class Preset:
    name: str
    variants: tuple
    lesson: str
    settings: dict = field(default_factory=lambda: dict(NOTEBOOK_SETTINGS))

    @property
    def title(self):
        return QCoreApplication.translate(CONTEXT, self.name)

    @property
    def lesson_text(self):
        return QCoreApplication.translate(CONTEXT, self.lesson)

    def differences(self, settings):
        """The names of the fields of ``settings`` (a TrainSettings) that differ from the preset's."""
        return [name for name, value in self.settings.items() if getattr(settings, name) != value]


_PRESETS = [
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Notebook: baseline vs BN"),
        ("baseline", "keras-conv-bn-relu"),
        QT_TRANSLATE_NOOP("Presets", "Without BN the 19-layer network stays near chance (10%); with BN"
                          " it passes 90% within a few hundred batches."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "All four placements (Keras)"),
        ("baseline", "keras-conv-bn-relu", "keras-convbias-bn-relu", "keras-convbias-relu-bn",
         "keras-conv-relu-bn"),
        QT_TRANSLATE_NOOP("Presets", "Where BN goes: all four placements learn and end within a few"
                          " points of each other; a convolution's bias before BN is redundant."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Keras vs low-level"),
        ("baseline", "keras-conv-bn-relu", "nn-conv-bn-relu"),
        QT_TRANSLATE_NOOP("Presets", "BN written by hand on tf.nn learns like Keras's layer: BN is a"
                          " few lines of arithmetic."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "All ten"),
        tuple(NOTEBOOK_VARIANT_IDS),
        QT_TRANSLATE_NOOP("Presets", "The notebook's whole comparison: both baselines stay near 10%,"
                          " all eight BN variants climb past 90%."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Why inference mode matters"),
        ("keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch-stats"),
        QT_TRANSLATE_NOOP("Presets", "Two BN bugs beside the correct model: in training mode all three"
                          " look alike; in inference mode (validation, test, 100 single images)"
                          " the bugs show."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Learning-rate headroom (x10)"),
        ("baseline", "baseline-lr10", "keras-conv-bn-relu", "keras-conv-bn-relu-lr10"),
        QT_TRANSLATE_NOOP("Presets", "Ten times the learning rate: see how BN and the baseline cope; a"
                          " loss that turns NaN is marked diverged."),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Population statistics: precise BN and decay"),
        ("keras-conv-bn-relu", "keras-conv-bn-relu-decay90", "keras-conv-bn-relu-decay999",
         "nn-conv-bn-relu"),
        QT_TRANSLATE_NOOP("Presets", "BN's population statistics are moving averages that lag behind"
                          " the weights: decay 0.999 remembers 1,000 batches and lags most, 0.9"
                          " follows in 10. Precise BN re-estimates them after the run; watch the lag"
                          " under Inside the network and the precise columns of the table."),
        dict(NOTEBOOK_SETTINGS, batches=400),
    ),
    Preset(
        QT_TRANSLATE_NOOP("Presets", "Batch size and BN"),
        ("baseline", "baseline-batch16", "baseline-batch4", "keras-conv-bn-relu",
         "keras-conv-bn-relu-batch16", "keras-conv-bn-relu-batch4"),
        QT_TRANSLATE_NOOP("Presets", "The same images in batches of 64, 16 and 4: with small batches"
                          " BN normalizes with noisy statistics, and training mode and inference"
                          " mode drift apart; the baseline learns nothing at any size."),
        dict(NOTEBOOK_SETTINGS, batches=300),
    ),
]
# By English name (what the settings file and the tests use).
PRESETS = {preset.name: preset for preset in _PRESETS}
DEFAULT_PRESET = "Notebook: baseline vs BN"


def preset_for(variant_ids):
    """The preset of exactly these variants (in any order), or None."""
    wanted = set(variant_ids)
    return next((preset for preset in _PRESETS if set(preset.variants) == wanted), None)
