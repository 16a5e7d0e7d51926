"""The lesson: a guided lecture in steps, and the runs it needs, prepared before class.

Each step says why (a title and a short text) and what the window shows for it:
the run (its variants and settings), the preset the setup panel then names, the
tab, the curves' layout, the layer of the activation view, what the network
view's heatmaps show, and whether it presents the canvas's bug toggle. The whole
lesson is plain data, like TensorFlow Playground's one serialisable state.

``bngui prepare-lesson DIR`` trains every run once and writes it as a session
into ``DIR/<run id>``, with ``DIR/lesson.json`` saying which step shows which
session; ``bngui --lesson DIR`` opens the window on them.

No Qt here. Titles and texts are English source texts marked with
``QT_TRANSLATE_NOOP`` in the context "Lesson", the call Qt's lupdate extracts; here it
returns the text unchanged, and the window translates it when it shows it.
"""

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bngui import __version__
from bngui.core import storage
from bngui.core.session import SESSION_FILE
from bngui.core.settings import SettingsError, TrainSettings

CONTEXT = "Lesson"


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate looks for)
    """Marks ``text`` for translation in ``context``; the window translates it."""
    return text


# Tabs, curve layouts and training-batch modes, as the window names them.
CURVES, NETWORK, DRAW = "curves", "network", "draw"
TABS = (CURVES, NETWORK, DRAW)
OVERLAY, SIDE_BY_SIDE = "overlay", "side"
INFERENCE_MODE, TRAINING_MODE = "inference", "training"
# What the network view's heatmaps show (its heatmap selector's keys): each layer's
# gradient, or the BN layers' population-statistics lag (variance ratio or mean shift).
GRADIENTS, BN_LAG_VARIANCE, BN_LAG_MEAN = "gradients", "variance", "mean"
HEATMAPS = (GRADIENTS, BN_LAG_VARIANCE, BN_LAG_MEAN)

LESSON_FILE = "lesson.json"
LESSON_FORMAT = "bngui-lesson"
LESSON_VERSION = 1


class LessonError(Exception):
    """A lesson folder that cannot be prepared or opened; the message is one line."""


@dataclass(frozen=True)
class LessonRun:
    """A training run the lesson shows: prepared as the session ``DIR/<id>``."""

    id: str
    variants: tuple
    settings: TrainSettings

    @property
    def model_batches(self) -> int:
        """Training steps of all its models together: what its training time grows with."""
        return len(self.variants) * self.settings.batches * len(self.settings.seed_list)

    def as_dict(self) -> dict:
        return {"variants": list(self.variants), "settings": self.settings.as_dict()}


@dataclass(frozen=True)
class LessonStep:
    """One step of the lesson.

    ``preset`` is the English name of the preset the setup panel shows once the
    step's run is set up (None: no preset, or no run): the run has exactly the
    preset's variants and settings. ``heatmap`` is what the network view's
    heatmaps show (a key of ``HEATMAPS``); ``canvas_bug_toggle`` says that the step
    presents the Draw tab's "batch statistics" toggle (shown, and off at first, so
    the lecturer turns it on in front of the room).
    """

    key: str
    title: str
    text: str
    tab: str
    run: LessonRun | None = None
    preset: str | None = None
    layout: str | None = None
    training_mode: str | None = None
    layer: str | None = None
    heatmap: str | None = None
    canvas_bug_toggle: bool = False


_NOTEBOOK = TrainSettings()  # 800 batches of 64, Adam at 0.002, the sigmoid loss, seed 0

NOTEBOOK_RUN = LessonRun("notebook", ("baseline", "keras-conv-bn-relu"), _NOTEBOOK)
PLACEMENTS_RUN = LessonRun(
    "placements",
    ("baseline", "keras-conv-bn-relu", "keras-convbias-bn-relu", "keras-convbias-relu-bn",
     "keras-conv-relu-bn"),
    _NOTEBOOK,
)
IMPLEMENTATIONS_RUN = LessonRun(
    "keras-vs-low-level", ("baseline", "keras-conv-bn-relu", "nn-conv-bn-relu"), _NOTEBOOK)
INFERENCE_RUN = LessonRun(
    "inference-mode",
    ("keras-conv-bn-relu", "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch-stats"),
    _NOTEBOOK,
)
# The preset "Population statistics: precise BN and decay": the decays 0.9, 0.99 and
# 0.999 side by side for 400 batches. 0.999 remembers about 1,000 batches, more than
# the run: its population statistics lag behind the weights, and precise BN shows
# what that costs.
POPULATION_RUN = LessonRun(
    "population-statistics",
    ("keras-conv-bn-relu", "keras-conv-bn-relu-decay90", "keras-conv-bn-relu-decay999",
     "nn-conv-bn-relu"),
    TrainSettings(batches=400),
)

STEPS = (
    LessonStep(
        "plain-network",
        QT_TRANSLATE_NOOP("Lesson", "A deep plain network is stuck near 10%"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "Nineteen convolution layers and no batch normalization: the baseline (left) guesses"
            " one digit in ten and stays there for all its 800 batches. Its twin with batch"
            " normalization (right) starts from its own random weights but sees the same batches"
            " in the same order, and passes 90% within a few hundred batches. Depth alone is not"
            " the problem; the rest of the lesson asks what normalizing each layer's input"
            " changes."),
        CURVES, run=NOTEBOOK_RUN, preset="Notebook: baseline vs BN", layout=SIDE_BY_SIDE,
        training_mode=INFERENCE_MODE,
    ),
    LessonStep(
        "placements",
        QT_TRANSLATE_NOOP("Lesson", "Add batch normalization: four placements"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "BN can come before or after the ReLU, and the convolution can keep its bias or drop"
            " it. All four placements learn, and they end within a few points of each other. A"
            " bias just before BN is wasted: BN subtracts the mean, bias and all, and its own β"
            " does the shifting instead. Ioffe and Szegedy put BN right before the nonlinearity,"
            " conv → BN → ReLU, the placement the notebook recommends."),
        CURVES, run=PLACEMENTS_RUN, preset="All four placements (Keras)", layout=OVERLAY,
        training_mode=INFERENCE_MODE,
    ),
    LessonStep(
        "implementations",
        QT_TRANSLATE_NOOP("Lesson", "Keras's layer and the low-level one"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "The low-level variant writes batch normalization out by hand: tf.nn.moments gives"
            " each feature map's mean and variance over the batch, tf.nn.batch_normalization"
            " subtracts, divides and applies γ and β, and the population statistics are moving"
            " averages updated at every training step. Its curves follow Keras's"
            " BatchNormalization closely: nothing hidden in the framework's layer matters here."
            " What differs a little is the initial weights."),
        CURVES, run=IMPLEMENTATIONS_RUN, preset="Keras vs low-level", layout=OVERLAY,
        training_mode=INFERENCE_MODE,
    ),
    LessonStep(
        "inference-mode",
        QT_TRANSLATE_NOOP("Lesson", "Inference mode: the 100-sample check and two classic bugs"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "In training mode BN normalizes with each batch's own statistics; in inference mode"
            " with the population statistics it gathered while training. Two classic bugs break"
            " the second: statistics never updated, and batch statistics at inference. Their"
            " training-mode curves (thin lines) look just like the correct model's. Inference"
            " shows them: the first collapses on validation and test, the second on the"
            " notebook's check, 100 test images scored one at a time (the table)."),
        CURVES, run=INFERENCE_RUN, preset="Why inference mode matters", layout=OVERLAY,
        training_mode=TRAINING_MODE,
    ),
    LessonStep(
        "inside",
        QT_TRANSLATE_NOOP("Lesson", "Inside the network: activations and vanishing gradients"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "Why does the plain network not learn? Top: what one layer's ReLU receives on a fixed"
            " batch of validation images, its 15th, 50th and 85th percentile over training; pick"
            " other layers to compare. Below, each layer's gradient over training: in the"
            " baseline the early layers get gradients orders of magnitude smaller than the last"
            " ones, so they hardly move. With BN every layer's input keeps its scale, and the"
            " gradient reaches the first layers."),
        NETWORK, run=NOTEBOOK_RUN, preset="Notebook: baseline vs BN", layer="conv10",
        heatmap=GRADIENTS,
    ),
    LessonStep(
        "draw",
        QT_TRANSLATE_NOOP("Lesson", "Draw a digit, and the bug on the canvas"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "Draw a digit: every model answers, one row each. The BN models read it; the baseline"
            " gives much the same answer whatever you draw. Now tick \"Inference with batch"
            " statistics\": the BN models normalize this one drawing with its own mean and"
            " variance, as in training. Over a single image the last BN layer sees no variance"
            " at all, so every drawing gets the same answer. That is why inference must use"
            " the population statistics."),
        # The notebook's run: its models (the baseline and BN) answer on the canvas.
        DRAW, run=NOTEBOOK_RUN, preset="Notebook: baseline vs BN", canvas_bug_toggle=True,
    ),
    LessonStep(
        "population-statistics",
        QT_TRANSLATE_NOOP("Lesson", "Population statistics: precise BN and the lag"),
        QT_TRANSLATE_NOOP(
            "Lesson",
            "The population statistics are moving averages: at each batch a BN layer keeps a"
            " share of them, the BN decay, and takes the rest from the batch. Here three decays"
            " train for 400 batches. At 0.999 they remember about 1,000 batches, longer than"
            " the run, and lag behind the weights; at 0.9 they follow within ten."
            " Precise BN re-estimates them after training with the weights fixed: compare the"
            " table's precise columns, and each BN layer's lag in the heatmaps."),
        NETWORK, run=POPULATION_RUN, preset="Population statistics: precise BN and decay",
        heatmap=BN_LAG_VARIANCE,
    ),
)
STEPS_BY_KEY = {step.key: step for step in STEPS}


def lesson_runs(steps=STEPS) -> tuple:
    """The runs the steps need, each once, in the order the lesson first needs them."""
    runs: dict = {}
    for step in steps:
        if step.run is not None:
            runs.setdefault(step.run.id, step.run)
    return tuple(runs.values())


# -- time ------------------------------------------------------------------------------

# Measured on the 2-core CPU bngui is made for (TensorFlow 2.21): training, with the
# statistics the window shows, costs about 25 ms per model and batch in runs of two to
# five variants; building and tracing a variant, scoring it on the validation and test
# sets, the 100 single samples and precise BN add about 10 s per variant.
SECONDS_PER_MODEL_BATCH = 0.025
SECONDS_PER_VARIANT = 10.0


def estimate_seconds(runs) -> float:
    """A rough wall time for training ``runs`` one after the other."""
    return sum(run.model_batches * SECONDS_PER_MODEL_BATCH + len(run.variants) * SECONDS_PER_VARIANT
               for run in runs)


# -- prepared folders --------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedLesson:
    """A lesson folder: the session of each prepared run, and what is wrong with the others.

    ``sessions`` maps a run id to its session folder; ``problems`` are one-line
    messages about runs listed in lesson.json that cannot be used (missing, or
    prepared for other variants or settings than this bngui's lesson).
    """

    folder: Path
    sessions: dict
    problems: tuple = ()

    def session_for(self, step: LessonStep) -> Path | None:
        """The session folder that shows ``step``'s run, or None when it is not prepared."""
        return self.sessions.get(step.run.id) if step.run is not None else None

    @property
    def missing_runs(self) -> tuple:
        return tuple(run for run in lesson_runs() if run.id not in self.sessions)


def lesson_manifest(prepared_runs) -> dict:
    """lesson.json's content for these prepared runs (LessonRun objects)."""
    prepared = {run.id for run in prepared_runs}
    return {
        "format": LESSON_FORMAT,
        "version": LESSON_VERSION,
        "bngui_version": __version__,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        # Each run's session is the subfolder of the same name.
        "runs": {run.id: run.as_dict() for run in lesson_runs() if run.id in prepared},
        "steps": {step.key: step.run.id if step.run is not None and step.run.id in prepared else None
                  for step in STEPS},
    }


def write_lesson_manifest(folder: str | os.PathLike, prepared_runs) -> Path:
    path = Path(folder) / LESSON_FILE
    storage.atomic_write_text(path, json.dumps(lesson_manifest(prepared_runs), indent=2) + "\n")
    return path


def check_lesson_folder(folder: str | os.PathLike) -> None:
    """Raise LessonError unless ``folder`` may receive a prepared lesson: new, empty
    (hidden files aside) or a lesson folder already (its runs are then reused or replaced)."""
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise LessonError(f"{folder}: not a folder")
    if (folder / LESSON_FILE).is_file():
        return
    if any(not entry.name.startswith(".") for entry in folder.iterdir()):
        raise LessonError(f"{folder}: not empty and not a bngui lesson; choose a new or empty folder")


def _read_manifest(path):
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LessonError(
            f"{path.parent}: not a prepared bngui lesson (no {LESSON_FILE});"
            " make one with bngui prepare-lesson") from None
    except (OSError, UnicodeDecodeError) as error:
        raise LessonError(f"{path}: cannot be read ({getattr(error, 'strerror', None) or error})") from None
    except json.JSONDecodeError as error:
        raise LessonError(f"{path}: damaged (not valid JSON: {error.msg} at line {error.lineno})") from None
    if not isinstance(document, dict) or document.get("format") != LESSON_FORMAT:
        raise LessonError(f"{path}: not a bngui lesson file (no \"format\": \"{LESSON_FORMAT}\")")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise LessonError(f"{path}: damaged (version {version!r} is not a whole number from 1)")
    if version > LESSON_VERSION:
        raise LessonError(f"{path}: written by a newer bngui (lesson version {version}); update bngui")
    runs = document.get("runs")
    if not isinstance(runs, dict) or not all(isinstance(value, dict) for value in runs.values()):
        raise LessonError(f"{path}: damaged (\"runs\" must map run ids to their variants and settings)")
    return runs


def _run_as_prepared(entry):
    """(variants, TrainSettings) of a run as lesson.json lists it; ValueError if damaged."""
    variants, settings = entry.get("variants"), entry.get("settings")
    if not isinstance(variants, list) or not isinstance(settings, dict):
        raise ValueError("no variants or settings")
    try:
        return tuple(variants), TrainSettings(**settings).validate()
    except (TypeError, SettingsError) as error:
        raise ValueError(str(error)) from None


def read_prepared_lesson(folder: str | os.PathLike) -> PreparedLesson:
    """The prepared lesson in ``folder``; LessonError (one line) if it is not one or is damaged.

    A run is used when lesson.json lists it with this lesson's variants and
    settings and its session folder holds a session file. The sessions
    themselves are read when a step shows them.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise LessonError(f"{folder}: no such folder" if not folder.exists() else f"{folder}: not a folder")
    listed = _read_manifest(folder / LESSON_FILE)
    sessions, problems = {}, []
    for run in lesson_runs():
        entry = listed.get(run.id)
        if entry is None:
            continue
        try:
            prepared = _run_as_prepared(entry)
        except ValueError as error:
            raise LessonError(f"{folder / LESSON_FILE}: damaged (run {run.id}: {error})") from None
        session = folder / run.id
        if prepared != (run.variants, run.settings):
            problems.append(f"{run.id}: prepared for other variants or settings; run bngui prepare-lesson"
                            " again")
        elif not (session / SESSION_FILE).is_file():
            problems.append(f"{session}: missing; run bngui prepare-lesson again")
        else:
            sessions[run.id] = session
    return PreparedLesson(folder, sessions, tuple(problems))
