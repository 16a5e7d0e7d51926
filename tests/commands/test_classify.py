"""Tests for ``bngui classify``: image files through the canvas's preprocessing and models."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bngui import cli

pytestmark = pytest.mark.mnist

REPOSITORY = Path(__file__).resolve().parents[2]
SEVEN, TWO, ONE = 0, 1, 2  # indices of the first MNIST test digits: 7, 2, 1


def _enlarge(image, height, width):
    """Bilinear enlargement of a (28, 28) float image to (height, width)."""
    from bngui.core.tf_runtime import tf

    return tf.image.resize(image[None, :, :, None], (height, width), method="bilinear")[0].numpy()


def _write(path, pixels, kind):
    from bngui.core.tf_runtime import tf

    pixels = tf.constant(np.clip(pixels, 0, 255).round().astype(np.uint8))
    encoded = tf.io.encode_png(pixels) if kind == "png" else tf.io.encode_jpeg(pixels, quality=90)
    Path(path).write_bytes(encoded.numpy())
    return str(path)


@pytest.fixture(scope="module")
def images(tmp_path_factory, mnist):
    """Good, empty and broken image files made from MNIST test digits."""
    folder = tmp_path_factory.mktemp("images")
    test = mnist.test_images[:, :, :, 0]
    assert list(mnist.test_labels[:3]) == [7, 2, 1]
    files = {
        # Dark ink on white paper, enlarged, as a scanned or photographed digit.
        "seven.png": _write(folder / "seven.png", 255 - 255 * _enlarge(test[SEVEN], 300, 300), "png"),
        # White on black, as a JPEG, on a picture taller than wide (the digit itself
        # keeps its shape, as on any photo).
        "two.jpg": _write(
            folder / "two.jpg",
            255 * np.pad(_enlarge(test[TWO], 160, 160), ((25, 25), (0, 0), (0, 0))), "jpeg"
        ),
        # Colour (RGB), dark ink on light grey paper.
        "one.png": _write(folder / "one.png",
                          np.repeat(230 - 200 * _enlarge(test[ONE], 120, 120), 3, axis=2), "png"),
        "empty.png": _write(folder / "empty.png", np.full((100, 100, 1), 255.0), "png"),
    }
    corrupt = folder / "corrupt.png"
    corrupt.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    files["corrupt.png"] = str(corrupt)
    return files


def test_classify_prints_each_models_digit_and_scores(images, capsys):
    code = cli.main(["classify", images["seven.png"], images["two.jpg"], images["one.png"]])
    out = capsys.readouterr().out
    assert code == 0
    blocks = out.strip().split(images["two.jpg"])
    assert images["seven.png"] in blocks[0]
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    assert set(lines) >= {"baseline", "keras-conv-bn-relu", "keras-conv-bn-relu-drawing", "model"}
    bn_rows = [line.split() for line in out.splitlines() if line.split()[:1] == ["keras-conv-bn-relu"]]
    assert [int(row[1]) for row in bn_rows] == [7, 2, 1]
    for row in bn_rows:
        scores = [float(value) for value in row[3:]]
        assert len(scores) == 10 and abs(sum(scores) - 1) < 0.03
        assert row[2].endswith("%")


def test_classify_json_reports_good_files_and_one_line_per_bad_file(images):
    """The real command in a subprocess: good, empty, corrupt and missing files together."""
    missing = str(Path(images["seven.png"]).with_name("missing.png"))
    arguments = [images["seven.png"], images["empty.png"], images["corrupt.png"], missing, images["two.jpg"]]
    environment = dict(os.environ, PYTHONPATH=str(REPOSITORY))
    result = subprocess.run(
        [sys.executable, "-m", "bngui", "classify", *arguments, "--json"],
        capture_output=True, text=True, timeout=300, cwd=REPOSITORY, env=environment,
    )
    assert result.returncode == 1, result.stderr  # some files failed
    document = json.loads(result.stdout)
    assert [entry["image"] for entry in document] == [images["seven.png"], images["two.jpg"]]
    for entry, digit in zip(document, (7, 2)):
        assert set(entry) == {"image", "predictions"}
        assert set(entry["predictions"]) == {"baseline", "keras-conv-bn-relu",
                                             "keras-conv-bn-relu-drawing"}
        for prediction in entry["predictions"].values():
            assert set(prediction) == {"digit", "probabilities"}
            assert isinstance(prediction["digit"], int)
            assert len(prediction["probabilities"]) == 10
            assert abs(sum(prediction["probabilities"]) - 1) < 1e-4
            assert prediction["digit"] == int(np.argmax(prediction["probabilities"]))
        assert entry["predictions"]["keras-conv-bn-relu"]["digit"] == digit
        assert entry["predictions"]["keras-conv-bn-relu-drawing"]["digit"] == digit
    errors = [line for line in result.stderr.splitlines() if line.startswith("bngui classify:")]
    assert len(errors) == 3, result.stderr
    assert errors[0].startswith(f"bngui classify: error: {images['empty.png']}: ") and "empty" in errors[0]
    assert errors[1].startswith(f"bngui classify: error: {images['corrupt.png']}: ")
    assert errors[2] == f"bngui classify: error: {missing}: no such file"


def test_classify_with_a_models_folder_skips_bad_model_files(images, tmp_path, shipped_models, capsys):
    from bngui.core.storage import save_models

    save_models({"keras-conv-bn-relu": shipped_models["keras-conv-bn-relu"]}, tmp_path)
    (tmp_path / "models" / "baseline.keras").write_bytes(b"not a zip archive")
    (tmp_path / "models" / "notes.keras").write_text("hello")
    code = cli.main(["classify", images["seven.png"], "--models", str(tmp_path), "--json"])
    captured = capsys.readouterr()
    assert code == 0
    document = json.loads(captured.out)
    assert list(document[0]["predictions"]) == ["keras-conv-bn-relu"]
    assert document[0]["predictions"]["keras-conv-bn-relu"]["digit"] == 7
    warnings = captured.err.strip().splitlines()
    assert len(warnings) == 2
    assert all(line.startswith("bngui classify: warning: skipped") for line in warnings)


def test_classify_without_usable_models_is_an_error(images, tmp_path, capsys):
    (tmp_path / "baseline.keras").write_bytes(b"broken")
    assert cli.main(["classify", images["seven.png"], "--models", str(tmp_path)]) == 1
    assert cli.main(["classify", images["seven.png"], "--models", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("bngui classify: error: ") for line in err)
    assert "no such folder" in err[1]
