"""Sessions: a whole run saved to a folder and opened again, curves and all.

A lecturer trains before class and presents from the saved session. A session
folder is a run folder (see ``storage``) plus three things::

    DIR/session.json         the manifest: format, version, variants, settings, status
    DIR/events.json          the recorded trainer events, in order, to rebuild the curves
    DIR/tensorboard/ID/      the same curves as TensorBoard event files, one run per variant

Opening a session replays ``events.json`` into a fresh ``RunHistory``, so every
curve, statistic and result is exactly what was saved. Floats are stored as
JSON numbers (Python writes the shortest text that reads back to the same
float); NaN and infinities, which strict JSON lacks, as the strings "NaN",
"Infinity" and "-Infinity".

No Qt here, and TensorFlow is imported only to write the TensorBoard files.
"""

import json
import math
import numbers
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any

from bngui import __version__
from bngui.core import events, storage
from bngui.core.history import RunHistory, VariantHistory
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS
from bngui.core.settings import SettingsError, TrainSettings
from bngui.core.variants import (
    PRECISE_SUFFIX,
    VARIANTS_BY_ID,
    is_model_id,
    model_info,
    model_order,
)

SESSION_FILE = "session.json"
EVENTS_FILE = "events.json"
TENSORBOARD_DIR = "tensorboard"
SESSION_FORMAT = "bngui-session"
EVENTS_FORMAT = "bngui-events"
SESSION_VERSION = 1  # the newest session layout this bngui reads and writes
# Settings that older sessions do not list; they ran with the defaults.
SETTINGS_ADDED_LATER = {"bn_decay", "augment", "precise_batches", "seeds"}
UNFINISHED = "unfinished"  # run_status of a session saved before its run finished


class SessionError(Exception):
    """A session folder that cannot be saved or opened; the message is one line naming the file."""


@dataclass(frozen=True)
class Session:
    folder: Path
    settings: TrainSettings
    history: RunHistory
    variant_ids: tuple
    model_ids: tuple  # the saved models: variant ids (and ``ID-precise``), in catalogue order
    models_dir: Path
    created: str  # ISO 8601 local time with offset
    bngui_version: str  # the bngui that saved it

    @property
    def run_status(self) -> str:
        """events.DONE or events.STOPPED, or UNFINISHED if saved mid-run."""
        return self.history.finished.status if self.history.finished else UNFINISHED


# -- events as JSON -------------------------------------------------------------------

_NON_FINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _to_json(value):
    if isinstance(value, (tuple, list)):
        return [_to_json(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    value = float(value)
    if math.isfinite(value):
        return value
    return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"


def _number(value):
    if isinstance(value, str) and value in _NON_FINITE:
        return _NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    return float(value)


def _batch(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"batch {value!r} is not a whole number from 0")
    return value


def _text(value):
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _one_of(enum, choices):
    """A reader that accepts the values of ``choices`` (members of ``enum``)."""

    def check(value):
        if value not in [choice.value for choice in choices]:
            raise ValueError(
                f"{value!r} is not one of {', '.join(choice.value for choice in choices)}"
            )
        return enum(value)

    return check


def _whole_number(value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{value!r} is not a whole number from 1")
    return value


def _seed_list(value):
    if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and item >= 0 for item in value):
        raise ValueError("expected a list of seeds")
    return tuple(value)


def _variant_ids(value):
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of variant ids")
    return tuple(value)


def _numbers(count):
    def check(value):
        if not isinstance(value, list) or len(value) != count:
            raise ValueError(f"expected a list of {count} numbers")
        return tuple(_number(item) for item in value)

    return check


def _percentile_table(value):
    if not isinstance(value, list) or len(value) != len(NONLINEAR_LAYERS):
        raise ValueError(f"expected one row per layer ({len(NONLINEAR_LAYERS)})")
    return tuple(_numbers(len(ACTIVATION_PERCENTILES))(row) for row in value)


# The events a session keeps, with how each field is read back (and checked).
_EVENT_FIELDS = {
    events.RunStarted: {
        "variant_ids": _variant_ids, "total_batches": _whole_number, "batch_size": _whole_number,
        "seeds": _seed_list,
    },
    events.SeedStarted: {"seed": _batch},
    events.Metric: {
        "variant": _text, "batch": _batch, "split": _one_of(events.Split, events.Split),
        "loss": _number, "accuracy": _number,
    },
    events.TrainingBatchStatistics: {
        "variant": _text, "batch": _batch, "loss": _number, "accuracy": _number,
        "gradient_norms": _numbers(len(WEIGHT_LAYERS)),
    },
    events.ActivationPercentiles: {
        "variant": _text, "batch": _batch, "percentiles": _percentile_table,
    },
    events.BatchNormLag: {
        "variant": _text, "batch": _batch, "variance_ratio": _numbers(len(NONLINEAR_LAYERS)),
        "mean_shift": _numbers(len(NONLINEAR_LAYERS)),
    },
    events.VariantDiverged: {"variant": _text, "batch": _batch},
    events.VariantFinished: {
        "variant": _text, "status": _one_of(events.State, events.FINAL_STATES),
        "validation_accuracy": _number, "test_accuracy": _number,
        "single_sample_accuracy": _number, "train_seconds": _number,
        "precise_validation_accuracy": _number, "precise_test_accuracy": _number,
    },
    events.RunFinished: {"status": _one_of(events.State, events.RUN_OUTCOMES), "seconds": _number},
}
_EVENT_TYPES = {kind.__name__: kind for kind in _EVENT_FIELDS}


def event_to_json(event: Any) -> dict:
    """A JSON-ready dict of one event: its type name and its fields."""
    values = {f.name: _to_json(getattr(event, f.name)) for f in fields(event)}
    return {"type": type(event).__name__, **values}


def event_from_json(document: object) -> object:
    """The event a dict from ``event_to_json`` describes; ValueError saying what is wrong."""
    if not isinstance(document, dict):
        raise ValueError("not an object")
    kind = _EVENT_TYPES.get(str(document.get("type")))
    if kind is None:
        raise ValueError(f"unknown event type {document.get('type')!r}")
    readers = _EVENT_FIELDS[kind]
    # Fields with a default came later: older files may not have them.
    optional = {f.name for f in fields(kind) if f.default is not MISSING}
    given = set(document) - {"type"}
    if not set(readers) - optional <= given <= set(readers):
        raise ValueError(f"{kind.__name__} needs the fields {', '.join(readers)}")
    values = {}
    for name, read in readers.items():
        if name not in document:
            continue
        try:
            values[name] = read(document[name])
        except ValueError as error:
            raise ValueError(f"{kind.__name__}.{name}: {error}") from None
    return kind(**values)


def events_json_text(recorded: Iterable) -> str:
    """events.json: one event per line, so the file reads like the run."""
    lines = ",\n".join(json.dumps(event_to_json(event), allow_nan=False) for event in recorded)
    return (
        f'{{"format": "{EVENTS_FORMAT}", "version": {SESSION_VERSION}, "events": [\n{lines}\n]}}\n'
    )


# -- saving ---------------------------------------------------------------------------


def _of_the_run(model_id, variant_ids):
    """Whether a model id is one of the run's variants, or one of them with precise BN."""
    return is_model_id(model_id) and model_info(model_id).variant.id in variant_ids and (
        model_id in variant_ids or model_id.endswith(PRECISE_SUFFIX))



def check_session_folder(folder: str | os.PathLike) -> None:
    """Raise SessionError unless ``folder`` may be written as a session.

    It must be new, empty (hidden files aside), or already a bngui session or
    run folder: saving replaces files, and must never clear someone's other work.
    """
    folder = Path(folder)
    if not folder.exists():
        return
    if not folder.is_dir():
        raise SessionError(f"{folder}: not a folder")
    if (folder / SESSION_FILE).is_file() or (folder / storage.RESULTS_FILE).is_file():
        return
    if any(not entry.name.startswith(".") for entry in folder.iterdir()):
        raise SessionError(
            f"{folder}: not empty and not a bngui session; choose a new or empty folder"
        )


def save_session(folder: str | os.PathLike, settings: TrainSettings, history: RunHistory,
                 models: dict) -> Path:
    """Save a run as a session folder; returns its path.

    ``settings`` is the run's TrainSettings, ``history`` its RunHistory (a
    snapshot, ``RunHistory.copy()``, when a run may start meanwhile) and
    ``models`` ``{variant_id: keras model}`` for any of its variants. The
    history's recorded events are written as they arrived. Saving
    over an existing session replaces it: models of variants no longer in it
    are removed. The manifest is written last and stale models are removed
    after it, so a save that fails midway leaves the previous manifest with all
    its model files (open_session then reports that events.json does not match
    it, by its event count).
    """
    folder = Path(folder)
    check_session_folder(folder)
    variant_ids = tuple(history.variant_ids)
    if not variant_ids:
        raise ValueError("a session needs at least one variant")
    strangers = sorted(model_id for model_id in models if not _of_the_run(model_id, variant_ids))
    if strangers:
        raise ValueError(f"models for variants that are not in the run: {', '.join(strangers)}")
    models = {model_id: models[model_id] for model_id in sorted(models, key=model_order)}
    results = [history.variants[v].result for v in variant_ids if history.variants[v].result]
    recorded = tuple(history.recorded)

    storage.write_run(folder, settings.as_dict(), results, history.metrics, models,
                      history.metric_seeds, history.results_by_seed())
    write_tensorboard(folder, history)
    storage.atomic_write_text(folder / EVENTS_FILE, events_json_text(recorded))
    manifest = {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "bngui_version": __version__,
        "created": datetime.now().astimezone().isoformat(timespec="seconds"),
        "variant_ids": list(variant_ids),
        "models": list(models),
        "settings": settings.as_dict(),
        "run_status": history.finished.status.value if history.finished else UNFINISHED,
        "events": len(recorded),
    }
    storage.atomic_write_text(folder / SESSION_FILE, json.dumps(manifest, indent=2) + "\n")
    for path in (folder / storage.MODELS_DIR).glob(f"*{storage.MODEL_SUFFIX}"):
        if path.name[: -len(storage.MODEL_SUFFIX)] not in models:
            path.unlink()
    return folder


# -- TensorBoard ----------------------------------------------------------------------

_SERIES_TAGS = {
    "train_loss": "train/loss",
    "train_accuracy": "train/accuracy",
    "validation_loss": "validation/loss",
    "validation_accuracy": "validation/accuracy",
}


def tensorboard_scalars(record: VariantHistory) -> list[tuple[str, int, float]]:
    """(tag, step, value) rows of everything TensorBoard shows for one VariantHistory."""
    rows: list[tuple[str, int, float]] = []

    def add(tag, steps, values):
        rows.extend((tag, int(step), float(value)) for step, value in zip(steps, values))

    for name, tag in _SERIES_TAGS.items():
        add(tag, *record.series(name))
    steps, accuracy = record.training_mode_accuracy()
    add("training_mode/accuracy", steps, accuracy)
    add("training_mode/loss", steps, record.step_loss)
    steps, norms = record.gradient_matrix()
    for column, layer in enumerate(WEIGHT_LAYERS):
        add(f"gradient_norm/{layer}", steps, norms[:, column])
    for layer in NONLINEAR_LAYERS:
        steps, table = record.activation_series(layer)
        for column, percentile in enumerate(ACTIVATION_PERCENTILES):
            add(f"activation/{layer}/p{percentile}", steps, table[:, column])
    steps, ratios, shifts = record.lag_matrix()
    for column, layer in enumerate(NONLINEAR_LAYERS):
        if len(steps):
            add(f"bn_lag/variance_ratio/{layer}", steps, ratios[:, column])
            add(f"bn_lag/mean_shift/{layer}", steps, shifts[:, column])
    result = record.result
    if result is not None and math.isfinite(result.precise_validation_accuracy):
        last = int(steps[-1]) if len(steps) else 0
        add("precise_bn/validation_accuracy", [last], [result.precise_validation_accuracy])
        add("precise_bn/test_accuracy", [last], [result.precise_test_accuracy])
    return rows


def _write_scalars(tf, logdir, rows):
    """Write ``rows`` as TensorBoard scalars into one event file under ``logdir``.

    tf.summary.scalar lives in the tensorboard package, which TensorFlow does
    not install. The records tf.summary.write would make (an Event per value,
    with the scalars plugin's metadata) are built here as protocol buffers and
    written with TensorFlow's record writer: no graph to trace, and one pass.
    """
    logdir = Path(logdir)
    logdir.mkdir(parents=True, exist_ok=True)
    now = time.time()
    path = logdir / f"events.out.tfevents.{now:.0f}.{socket.gethostname()}.{os.getpid()}.0.v2"
    metadata = tf.compat.v1.SummaryMetadata(
        plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    with tf.io.TFRecordWriter(str(path)) as writer:
        writer.write(tf.compat.v1.Event(wall_time=now, file_version="brain.Event:2")
                     .SerializeToString())
        for tag, step, value in rows:
            value_proto = tf.compat.v1.Summary.Value(
                tag=tag, metadata=metadata,
                tensor=tf.make_tensor_proto(value, dtype=tf.float32, shape=[]),
            )
            event = tf.compat.v1.Event(wall_time=now, step=step,
                                       summary=tf.compat.v1.Summary(value=[value_proto]))
            writer.write(event.SerializeToString())


def write_tensorboard(folder: str | os.PathLike, history: RunHistory) -> Path:
    """Write ``folder/tensorboard/ID/events.out.tfevents.*``, one run per variant, so
    TensorBoard overlays the variants; replaces an existing tensorboard folder."""
    from bngui.core.tf_runtime import tf

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / TENSORBOARD_DIR
    # Written beside the old folder first, then swapped in: TensorBoard would
    # show old and new event files side by side if they shared a folder.
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=f".{TENSORBOARD_DIR}.new."))
    retired = Path(tempfile.mkdtemp(dir=folder, prefix=f".{TENSORBOARD_DIR}.old."))
    try:
        os.chmod(staging, 0o777 & ~storage.current_umask())  # mkdtemp makes it private
        for seed, variants in history.seed_runs:
            for variant_id, record in variants.items():
                # A run over several seeds: one TensorBoard run per variant and seed.
                logdir = staging / variant_id if seed is None else staging / variant_id / f"seed_{seed}"
                _write_scalars(tf, logdir, tensorboard_scalars(record))
        if target.exists():
            os.rename(target, retired / TENSORBOARD_DIR)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(retired, ignore_errors=True)
    return target


# -- opening --------------------------------------------------------------------------


def _read_json(path):
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SessionError(f"{path}: missing; the session is incomplete") from None
    except OSError as error:
        raise SessionError(f"{path}: cannot be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise SessionError(f"{path}: damaged (not text)") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise SessionError(
            f"{path}: damaged or truncated (not valid JSON: {error.msg}"
            f" at line {error.lineno}, column {error.colno})"
        ) from None


def _read_version(path, document, expected_format, what):
    """Check ``document``'s format and version; newer versions get their own message."""
    if not isinstance(document, dict) or document.get("format") != expected_format:
        raise SessionError(f"{path}: not a bngui {what} (no \"format\": \"{expected_format}\")")
    version = document.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SessionError(f"{path}: damaged (version {version!r} is not a whole number from 1)")
    if version > SESSION_VERSION:
        raise SessionError(
            f"{path}: written by a newer bngui (session version {version}; bngui {__version__}"
            f" opens up to version {SESSION_VERSION}); update bngui to open it"
        )


def _read_manifest(path):
    """(variant_ids, model_ids, settings, event count, created, bngui version) from session.json."""
    manifest = _read_json(path)
    _read_version(path, manifest, SESSION_FORMAT, "session file")

    variant_ids = manifest.get("variant_ids")
    listed = isinstance(variant_ids, list) and all(isinstance(v, str) for v in variant_ids)
    if not listed or not variant_ids:
        raise SessionError(f"{path}: damaged (\"variant_ids\" must be a list of variant ids)")
    unknown = [v for v in variant_ids if v not in VARIANTS_BY_ID]
    if unknown:
        raise SessionError(
            f"{path}: unknown variant id(s) {', '.join(map(repr, unknown))}; this bngui does not"
            " know them (written by a newer bngui?)"
        )
    if len(set(variant_ids)) != len(variant_ids):
        raise SessionError(f"{path}: damaged (a variant id is listed twice)")

    model_ids = manifest.get("models")
    if not isinstance(model_ids, list) or not all(
            isinstance(v, str) and _of_the_run(v, variant_ids) for v in model_ids):
        raise SessionError(f"{path}: damaged (\"models\" must list some of the session's variants)")

    settings = manifest.get("settings")
    if not isinstance(settings, dict):
        raise SessionError(f"{path}: damaged (no \"settings\")")
    known = {f.name for f in fields(TrainSettings)}
    strange = sorted(set(settings) - known)
    # Sessions saved before a setting existed ran with its default.
    missing = sorted(known - set(settings) - SETTINGS_ADDED_LATER)
    if strange:
        raise SessionError(
            f"{path}: unknown setting(s) {', '.join(strange)} (written by a newer bngui?)"
        )
    if missing:
        raise SessionError(f"{path}: damaged (settings lack {', '.join(missing)})")
    try:
        settings = TrainSettings(**settings).validate()
    except SettingsError as error:
        raise SessionError(f"{path}: invalid settings ({error})") from None

    count = manifest.get("events")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise SessionError(f"{path}: damaged (\"events\" must be the number of saved events)")
    created = manifest.get("created")
    saved_by = manifest.get("bngui_version")
    return (
        tuple(variant_ids), tuple(model_ids), settings, count,
        created if isinstance(created, str) else "",
        saved_by if isinstance(saved_by, str) else "",
    )


def _read_events(path, variant_ids, expected_count):
    document = _read_json(path)
    _read_version(path, document, EVENTS_FORMAT, "events file")
    listed = document.get("events")
    if not isinstance(listed, list):
        raise SessionError(f"{path}: damaged (no \"events\" list)")
    if len(listed) != expected_count:
        raise SessionError(
            f"{path}: holds {len(listed)} events but {SESSION_FILE} says {expected_count};"
            " it is truncated or from another save"
        )
    recorded = []
    for index, item in enumerate(listed):
        try:
            event = event_from_json(item)
        except ValueError as error:
            raise SessionError(f"{path}: event {index} is damaged ({error})") from None
        if isinstance(event, events.RunStarted) and event.variant_ids != tuple(variant_ids):
            raise SessionError(
                f"{path}: event {index} (RunStarted) lists other variants than {SESSION_FILE};"
                " the files do not belong together"
            )
        variant_id = getattr(event, "variant", None)
        if variant_id is not None and variant_id not in variant_ids:
            raise SessionError(
                f"{path}: event {index} ({type(event).__name__}) is for variant {variant_id!r},"
                f" which {SESSION_FILE} does not list; the files do not belong together"
            )
        recorded.append(event)
    return recorded


def open_session(folder: str | os.PathLike) -> Session:
    """Open a saved session: its settings and a RunHistory rebuilt from its events.

    Models are not loaded here (that takes seconds); see ``load_session_models``.
    Raises SessionError with a one-line message naming the file at fault.
    """
    folder = Path(folder)
    if not folder.exists():
        raise SessionError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise SessionError(f"{folder}: not a folder; a session is a folder")
    manifest_path = folder / SESSION_FILE
    if not manifest_path.is_file():
        if (folder / storage.RESULTS_FILE).is_file():
            raise SessionError(
                f"{folder}: a run folder from an older bngui, not a session (it has"
                f" {storage.RESULTS_FILE} but no {SESSION_FILE}), so it has no curves to show;"
                " its models can still be opened with Load models"
            )
        raise SessionError(f"{folder}: not a bngui session (no {SESSION_FILE})")
    variant_ids, model_ids, settings, count, created, saved_by = _read_manifest(manifest_path)
    recorded = _read_events(folder / EVENTS_FILE, variant_ids, count)

    history = RunHistory.replayed(variant_ids, recorded)
    return Session(
        folder=folder,
        settings=settings,
        history=history,
        variant_ids=variant_ids,
        model_ids=model_ids,
        models_dir=folder / storage.MODELS_DIR,
        created=created,
        bngui_version=saved_by,
    )


def load_session_models(session: Session) -> tuple[dict, list[str]]:
    """Load the session's saved models: ``({variant_id: model}, [error messages])``.

    A missing or damaged model file does not stop the others; its message is returned.
    """
    models, problems = {}, []
    for variant_id in session.model_ids:
        path = session.models_dir / f"{variant_id}{storage.MODEL_SUFFIX}"
        try:
            _, model = storage.load_model(path)
        except storage.ModelFileError as error:
            problems.append(str(error))
        else:
            models[variant_id] = model
    return models, problems
