"""Saving and loading runs: metrics, results and trained models.

A run folder looks like this (``bngui train --out DIR`` and the GUI's Save
write the same layout)::

    DIR/metrics.csv            variant,batch,split,loss,accuracy
    DIR/results.json           {"settings": {...}, "variants": {ID: {...}}}
    DIR/models/ID.keras        one Keras model per variant

Every file is written to a temporary name first and then renamed, so a crash
mid-save leaves the previous files intact.
"""

import csv
import io
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from bngui.core.variants import VARIANTS_BY_ID, is_model_id

METRICS_FILE = "metrics.csv"
RESULTS_FILE = "results.json"
MODELS_DIR = "models"
MODEL_SUFFIX = ".keras"
METRIC_COLUMNS = ("variant", "batch", "split", "loss", "accuracy")


class ModelFileError(Exception):
    """A model file or folder that is missing, damaged or not a bngui model."""


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write(path, write, suffix=".tmp"):
    """Call ``write(temporary_path)``, then move the result onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    # mkstemp makes the file private (0600); give it the permissions of a normal new file.
    os.chmod(temporary, 0o666 & ~current_umask())
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write a UTF-8 text file atomically (the previous file survives a failed write)."""

    def write(temporary):
        with open(temporary, "w", encoding="utf-8", newline="") as file:
            file.write(text)

    _atomic_write(path, write)


def metrics_csv_text(metrics: Iterable, seeds: Iterable | None = None) -> str:
    """CSV text of ``events.Metric`` records (or objects with the same fields).

    With ``seeds`` (the seed of each metric, for a run over several seeds) a
    last column says which seed each row belongs to.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    seeds = list(seeds) if seeds is not None and any(s is not None for s in seeds) else None
    writer.writerow(METRIC_COLUMNS + (("seed",) if seeds else ()))
    for index, metric in enumerate(metrics):
        row = (metric.variant, metric.batch, metric.split, f"{metric.loss:.6g}",
               f"{metric.accuracy:.6g}")
        writer.writerow(row + ((seeds[index],) if seeds else ()))
    return buffer.getvalue()


def write_metrics_csv(path: str | os.PathLike, metrics: Iterable,
                      seeds: Iterable | None = None) -> None:
    atomic_write_text(path, metrics_csv_text(metrics, seeds))


def _finite_or_none(value):
    return None if value is None or not math.isfinite(value) else float(value)


def _scores(record) -> dict:
    return {
        "validation_accuracy": _finite_or_none(record.validation_accuracy),
        "test_accuracy": _finite_or_none(record.test_accuracy),
        "single_sample_accuracy": _finite_or_none(record.single_sample_accuracy),
        # Inference with the population statistics re-estimated by precise BN.
        "precise_validation_accuracy": _finite_or_none(record.precise_validation_accuracy),
        "precise_test_accuracy": _finite_or_none(record.precise_test_accuracy),
        "status": str(record.status),
        "train_seconds": round(record.train_seconds, 2),
    }


def results_document(settings: dict, finished: Iterable, by_seed: dict | None = None) -> dict:
    """The results.json content for ``settings`` (a dict) and ``VariantFinished`` records.

    For a run over several seeds, ``by_seed`` is ``{variant_id: [(seed,
    VariantFinished)]}``: each variant then also gets every seed's scores
    and, per score, the mean, standard deviation and worst seed.
    """
    from bngui.core.history import summarize_seeds

    variants = {}
    for record in finished:
        entry = {"label": VARIANTS_BY_ID[record.variant].label, **_scores(record)}
        seeds = (by_seed or {}).get(record.variant, [])
        if len(seeds) > 1:
            entry["seeds"] = {str(seed): _scores(result) for seed, result in seeds}
            entry["over_seeds"] = {
                score: {"mean": summary.mean, "sd": summary.sd, "worst": summary.worst,
                        "worst_seed": summary.worst_seed, "seeds": summary.count}
                for score, summary in summarize_seeds(seeds).items()
            }
        variants[record.variant] = entry
    return {"settings": dict(settings), "variants": variants}


def write_results_json(path: str | os.PathLike, settings: dict, finished: Iterable,
                       by_seed: dict | None = None) -> None:
    text = json.dumps(results_document(settings, finished, by_seed), indent=2)
    atomic_write_text(path, text + "\n")


def save_model(model, path: str | os.PathLike) -> None:
    """Save a Keras model atomically (the previous file survives a failed save)."""
    # Keras insists that the file name ends in .keras, temporary or not.
    _atomic_write(path, model.save, suffix=MODEL_SUFFIX)


def save_models(models: dict, folder: str | os.PathLike) -> Path:
    """Save ``{variant_id: model}`` as ``folder/models/ID.keras``."""
    models_dir = Path(folder) / MODELS_DIR
    for variant_id, model in models.items():
        save_model(model, models_dir / f"{variant_id}{MODEL_SUFFIX}")
    return models_dir


def write_run(folder: str | os.PathLike, settings: dict, finished: Iterable, metrics: Iterable,
              models: dict, metric_seeds: Iterable | None = None,
              by_seed: dict | None = None) -> None:
    """Write a whole run folder: metrics, results and models."""
    folder = Path(folder)
    save_models(models, folder)
    write_metrics_csv(folder / METRICS_FILE, metrics, metric_seeds)
    write_results_json(folder / RESULTS_FILE, settings, finished, by_seed)


def _check_bngui_model(model, path):
    """Refuse models that do not take a 28x28x1 image and return 10 scores."""
    try:
        input_shape = tuple(model.input_shape)
        output_shape = tuple(model.output_shape)
    except (AttributeError, ValueError) as error:
        raise ModelFileError(f"{path}: not a bngui model ({error})") from None
    if input_shape[1:] != (28, 28, 1) or output_shape[1:] != (10,):
        raise ModelFileError(
            f"{path}: not a bngui model (takes {input_shape[1:]}, returns {output_shape[1:]};"
            " expected a 28x28x1 image in and 10 class scores out)"
        )


def load_model(path: str | os.PathLike) -> tuple[str, object]:
    """Load one saved model; its model id (a variant id, ``ID-precise``, the drawing model's)
    is the file name without ``.keras``."""
    # Importing layers registers bngui's own layer classes for deserialisation.
    import bngui.core.layers  # noqa: F401
    from bngui.core.tf_runtime import keras

    path = Path(path)
    variant_id = path.name[: -len(MODEL_SUFFIX)] if path.name.endswith(MODEL_SUFFIX) else path.stem
    if not is_model_id(variant_id):
        raise ModelFileError(
            f"{path}: not a bngui model file (the name must be a variant id followed by"
            f" {MODEL_SUFFIX}, such as baseline{MODEL_SUFFIX})"
        )
    if not path.is_file():
        raise ModelFileError(f"{path}: no such file")
    if not zipfile.is_zipfile(path):
        raise ModelFileError(f"{path}: damaged or not a Keras model file (not a .keras archive)")
    try:
        model = keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many types for foreign or broken files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelFileError(f"{path}: could not be loaded as a bngui model ({reason[:200]})") from None
    _check_bngui_model(model, path)
    return variant_id, model


def model_files(folder: str | os.PathLike) -> list[Path]:
    """The .keras files of a run folder (its models/ subfolder) or of a plain folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such folder")
    search = folder / MODELS_DIR if (folder / MODELS_DIR).is_dir() else folder
    files = sorted(search.glob(f"*{MODEL_SUFFIX}"))
    if not files:
        raise ModelFileError(f"{folder}: no bngui models found (no *{MODEL_SUFFIX} files)")
    return files


def load_models(folder: str | os.PathLike) -> tuple[dict, list[str]]:
    """Load every model of a folder; returns ``({variant_id: model}, [error messages])``.

    A bad file does not stop the others from loading: its message is returned.
    """
    models, problems = {}, []
    for path in model_files(folder):
        try:
            variant_id, model = load_model(path)
        except ModelFileError as error:
            problems.append(str(error))
        else:
            models[variant_id] = model
    return models, problems
