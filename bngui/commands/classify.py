"""``bngui classify``: the canvas's preprocessing and models, on image files.

Each image goes through the same steps as a drawing on the canvas (ink from
the picture, whatever its polarity and size, then ``to_mnist``), then through
every model in the folder. Scores are softmax probabilities, as in the GUI
(see ``bngui.core.predict``).

An image that cannot be read or holds no ink is reported on stderr in one
line and skipped; the others are still classified. The exit code is 0 when
every image was classified, 1 when any image (or the models) failed.
"""

import json
import sys

import numpy as np

from bngui.core.variants import model_order

PROGRAM = "bngui classify"


def _error(message):
    one_line = " ".join(str(message).split())
    print(f"{PROGRAM}: error: {one_line}", file=sys.stderr, flush=True)


def _ordered(models):
    """Models in the catalogue's order (baseline first), unknown ids last."""
    return dict(sorted(models.items(), key=lambda item: model_order(item[0])))


def load_classifier_models(models_dir=None):
    """``({variant_id: model}, problems)`` from ``models_dir`` or the shipped models.

    Raises ``ModelFileError`` when the folder holds no usable model.
    """
    from bngui.core.storage import ModelFileError, load_models
    from bngui.resource_files import shipped_models_dir

    folder = models_dir if models_dir is not None else shipped_models_dir()
    models, problems = load_models(folder)
    if not models:
        raise ModelFileError(f"{folder}: none of its model files could be loaded")
    return _ordered(models), problems


def classify_images(paths, models):
    """Preprocess and classify ``paths``.

    Returns ``(results, errors)``: ``results`` is a list of
    ``(path, {variant_id: probabilities})`` in the order given, ``errors`` a
    list of one-line messages for the files that failed.
    """
    from bngui.core.predict import Predictor
    from bngui.core.preprocess import ImageError, preprocess_file

    digits, good_paths, errors = [], [], []
    for path in paths:
        try:
            digits.append(preprocess_file(path))
            good_paths.append(path)
        except ImageError as error:
            errors.append(str(error))
        except (ValueError, OSError) as error:  # odd pixel layouts, I/O trouble
            errors.append(f"{path}: {error}")
    if not digits:
        return [], errors
    # One eager call per model for the whole batch: cheaper than tracing graphs.
    probabilities = Predictor(compile=False).probabilities(models, np.stack(digits))
    results = [
        (path, {variant_id: scores[index] for variant_id, scores in probabilities.items()})
        for index, path in enumerate(good_paths)
    ]
    return results, errors


def json_document(results):
    """The ``--json`` list: one object per classified image."""
    return [
        {
            "image": str(path),
            "predictions": {
                variant_id: {
                    "digit": int(np.argmax(scores)),
                    "probabilities": [round(float(value), 6) for value in scores],
                }
                for variant_id, scores in predictions.items()
            },
        }
        for path, predictions in results
    ]


def text_report(results):
    """One block per image: each model's digit, confidence and ten scores."""
    lines = []
    for path, predictions in results:
        width = max([len("model")] + [len(variant_id) for variant_id in predictions])
        lines.append(str(path))
        lines.append(
            f"  {'model':<{width}}  digit  confidence  scores for 0 1 2 3 4 5 6 7 8 9"
        )
        for variant_id, scores in predictions.items():
            digit = int(np.argmax(scores))
            ten = " ".join(f"{value:.2f}" for value in scores)
            lines.append(
                f"  {variant_id:<{width}}  {digit:>5}  {scores[digit]:>10.1%}  {ten}"
            )
    return "\n".join(lines)


def run_classify(images, models_dir=None, as_json=False):
    from bngui.core.storage import ModelFileError

    try:
        models, problems = load_classifier_models(models_dir)
    except ModelFileError as error:
        _error(error)
        return 1
    for problem in problems:
        print(f"{PROGRAM}: warning: skipped {problem}", file=sys.stderr, flush=True)

    results, errors = classify_images(images, models)
    for message in errors:
        _error(message)
    if as_json:
        print(json.dumps(json_document(results), indent=2))
    elif results:
        print(text_report(results))
    return 1 if errors else 0
