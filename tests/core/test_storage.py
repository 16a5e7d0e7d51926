"""Tests of bngui.core.storage: run folders, atomic saves and careful model loading."""

import csv
import json
import math
import zipfile

import numpy as np
import pytest

from bngui.core import events, storage
from bngui.core.layers import LowLevelBatchNorm, LowLevelConv2D
from bngui.core.models import build_model
from bngui.core.settings import TrainSettings
from bngui.core.storage import ModelFileError
from bngui.core.tf_runtime import keras, tf
from bngui.core.trainer import loss_function, make_optimizer

SAVED_VARIANTS = ["keras-conv-bn-relu", "nn-convbias-relu-bn"]

# Keras's saving code trips numpy 2's copy-keyword deprecation hundreds of times.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def train_eagerly(model, rng):
    """A real Adam step and another training-mode pass, so that weights and BN
    statistics move away from their start."""
    optimizer = make_optimizer(0.01)
    loss_fn = loss_function("sigmoid")
    images = rng.uniform(size=(32, 28, 28, 1)).astype(np.float32)
    labels = rng.integers(0, 10, 32).astype(np.int32)
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
    model(rng.uniform(size=(32, 28, 28, 1)).astype(np.float32), training=True)


@pytest.fixture(scope="module")
def trained():
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    models = {variant_id: build_model(variant_id) for variant_id in SAVED_VARIANTS}
    for model in models.values():
        train_eagerly(model, rng)
    return models


@pytest.fixture(scope="module")
def probe_images():
    return np.random.default_rng(1).uniform(size=(20, 28, 28, 1)).astype(np.float32)


def folder_listing(folder):
    return sorted(path.name for path in folder.iterdir())


def test_statistics_are_not_trivial(trained):
    # Guards the round-trip test below: it would prove little with fresh layers.
    for variant_id, model in trained.items():
        bn = model.get_layer("bn5")
        mean = bn.pop_mean if isinstance(bn, LowLevelBatchNorm) else bn.moving_mean
        assert np.abs(mean.numpy()).max() > 1e-4, variant_id
        assert np.abs(bn.gamma.numpy() - 1).max() > 1e-4, variant_id


def test_round_trip_gives_identical_predictions(trained, probe_images, tmp_path):
    models_dir = storage.save_models(trained, tmp_path)
    assert models_dir == tmp_path / "models"
    assert folder_listing(models_dir) == sorted(f"{v}.keras" for v in SAVED_VARIANTS)

    loaded, problems = storage.load_models(tmp_path)
    assert problems == []
    assert sorted(loaded) == sorted(SAVED_VARIANTS)
    for variant_id, model in trained.items():
        again = loaded[variant_id]
        np.testing.assert_array_equal(
            again(probe_images, training=False).numpy(),
            model(probe_images, training=False).numpy(),
        )
        assert [w.path for w in again.weights] == [w.path for w in model.weights]
        for mine, theirs in zip(model.weights, again.weights):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    low = loaded["nn-convbias-relu-bn"]
    assert isinstance(low.get_layer("bn1"), LowLevelBatchNorm)
    assert isinstance(low.get_layer("conv1"), LowLevelConv2D)
    assert low.get_layer("conv1").use_bias and low.get_layer("conv3").strides == 2
    assert low.get_layer("bn1").decay == pytest.approx(0.99)
    # A model file can also be loaded on its own, and from a plain folder.
    variant_id, single = storage.load_model(models_dir / "keras-conv-bn-relu.keras")
    assert variant_id == "keras-conv-bn-relu"
    plain, problems = storage.load_models(models_dir)
    assert sorted(plain) == sorted(SAVED_VARIANTS) and problems == []


def metric_records():
    return [
        events.Metric("baseline", 0, events.VALIDATION, 0.6907, 0.1126),
        events.Metric("baseline", 0, events.TRAIN, 0.69, 0.140625),
        events.Metric("keras-conv-bn-relu", 25, events.TRAIN, 0.123456789, 0.5),
    ]


def finished_records():
    return [
        events.VariantFinished("baseline", events.DONE, 0.1126, 0.1135, 0.14, 19.123),
        events.VariantFinished("keras-conv-bn-relu", events.STOPPED, math.nan, math.nan, math.nan, 3.0),
        events.VariantFinished("nn-conv-bn-relu", events.DIVERGED, 0.098, 0.1, 0.09, 1.5),
    ]


def test_metrics_csv(tmp_path):
    path = tmp_path / "metrics.csv"
    storage.write_metrics_csv(path, metric_records())
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["variant", "batch", "split", "loss", "accuracy"]
    assert rows[1] == ["baseline", "0", "validation", "0.6907", "0.1126"]
    assert rows[3][:3] == ["keras-conv-bn-relu", "25", "train"]
    assert float(rows[3][3]) == pytest.approx(0.123456789, rel=1e-5)
    assert len(rows) == 4
    assert folder_listing(tmp_path) == ["metrics.csv"]


def test_results_json(tmp_path):
    settings = TrainSettings(batches=30).as_dict()
    path = tmp_path / "results.json"
    storage.write_results_json(path, settings, finished_records())
    document = json.loads(path.read_text(encoding="utf-8"))  # strict JSON: no NaN
    assert set(document) == {"settings", "variants"}
    assert document["settings"] == settings
    assert list(document["variants"]) == ["baseline", "keras-conv-bn-relu", "nn-conv-bn-relu"]
    keys = {"label", "validation_accuracy", "test_accuracy", "single_sample_accuracy",
            "precise_validation_accuracy", "precise_test_accuracy", "status", "train_seconds"}
    for entry in document["variants"].values():
        assert set(entry) == keys
    baseline = document["variants"]["baseline"]
    assert baseline == {
        "label": "Baseline (no BN)",
        "validation_accuracy": 0.1126,
        "test_accuracy": 0.1135,
        "single_sample_accuracy": 0.14,
        "precise_validation_accuracy": None,
        "precise_test_accuracy": None,
        "status": "done",
        "train_seconds": 19.12,
    }
    stopped = document["variants"]["keras-conv-bn-relu"]
    assert stopped["status"] == "stopped"
    assert stopped["validation_accuracy"] is None and stopped["test_accuracy"] is None
    assert document["variants"]["nn-conv-bn-relu"]["status"] == "diverged"
    assert "NaN" not in path.read_text(encoding="utf-8")


def test_write_run_writes_the_whole_folder(trained, tmp_path):
    one = {"keras-conv-bn-relu": trained["keras-conv-bn-relu"]}
    storage.write_run(tmp_path / "run", TrainSettings().as_dict(), finished_records()[:1],
                      metric_records(), one)
    assert folder_listing(tmp_path / "run") == ["metrics.csv", "models", "results.json"]
    assert folder_listing(tmp_path / "run" / "models") == ["keras-conv-bn-relu.keras"]


# -- atomic saving ------------------------------------------------------------------


def test_failed_model_save_keeps_the_previous_file(trained, tmp_path, monkeypatch):
    model = trained["keras-conv-bn-relu"]
    path = tmp_path / "models" / "keras-conv-bn-relu.keras"
    storage.save_model(model, path)
    good = path.read_bytes()
    calls = []

    def broken_save(self, filepath, *args, **kwargs):
        calls.append(str(filepath))
        with open(filepath, "wb") as file:
            file.write(b"PK\x03\x04 half a zip")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        storage.save_model(model, path)
    assert calls and calls[0] != str(path)  # it wrote elsewhere first
    assert path.read_bytes() == good
    assert folder_listing(path.parent) == ["keras-conv-bn-relu.keras"]
    # And a failed first save leaves nothing behind.
    with pytest.raises(OSError):
        storage.save_model(model, tmp_path / "other" / "baseline.keras")
    assert folder_listing(tmp_path / "other") == []
    monkeypatch.undo()
    storage.load_model(path)  # still a good model


def test_failed_text_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "metrics.csv"
    storage.write_metrics_csv(path, metric_records())
    before = path.read_text()

    class BadMetric:
        variant, batch, split, accuracy = "baseline", 1, "train", 0.5
        loss = "not a number"

    with pytest.raises(ValueError):
        storage.write_metrics_csv(path, metric_records() + [BadMetric()])
    assert path.read_text() == before
    assert folder_listing(tmp_path) == ["metrics.csv"]

    def fail(temporary):
        with open(temporary, "w") as file:
            file.write("partial")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        storage._atomic_write(path, fail)
    assert path.read_text() == before
    assert folder_listing(tmp_path) == ["metrics.csv"]


# -- loading errors ---------------------------------------------------------------------


def assert_model_error(path, *fragments):
    with pytest.raises(ModelFileError) as raised:
        storage.load_model(path)
    message = str(raised.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message
    return message


def test_random_bytes_are_refused(tmp_path):
    path = tmp_path / "baseline.keras"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    assert_model_error(path)


def test_a_zip_that_is_not_a_keras_model_is_refused(tmp_path):
    path = tmp_path / "baseline.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "hello")
    assert_model_error(path)


def test_a_foreign_keras_model_is_refused(tmp_path):
    inputs = keras.Input(shape=(4,))
    foreign = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    path = tmp_path / "baseline.keras"
    foreign.save(path)
    assert_model_error(path, "not a bngui model")


def test_an_unknown_variant_name_is_refused(trained, tmp_path):
    path = tmp_path / "resnet50.keras"
    storage.save_model(trained["keras-conv-bn-relu"], path)
    assert_model_error(path, "variant id")


def test_missing_file_and_empty_or_missing_folder(tmp_path):
    assert_model_error(tmp_path / "baseline.keras", "no such file")
    with pytest.raises(ModelFileError) as raised:
        storage.load_models(tmp_path)
    assert str(tmp_path) in str(raised.value)
    (tmp_path / "models").mkdir()
    with pytest.raises(ModelFileError) as raised:
        storage.load_models(tmp_path)
    assert str(tmp_path) in str(raised.value)
    with pytest.raises(ModelFileError) as raised:
        storage.load_models(tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(raised.value)


def test_good_models_load_and_bad_ones_are_reported(trained, probe_images, tmp_path):
    storage.save_models({"keras-conv-bn-relu": trained["keras-conv-bn-relu"]}, tmp_path)
    models_dir = tmp_path / "models"
    (models_dir / "baseline.keras").write_bytes(b"\x00" * 100)
    (models_dir / "mystery.keras").write_bytes(b"\x00" * 100)
    (models_dir / "readme.txt").write_text("not a model")

    loaded, problems = storage.load_models(tmp_path)
    assert list(loaded) == ["keras-conv-bn-relu"]
    np.testing.assert_array_equal(
        loaded["keras-conv-bn-relu"](probe_images, training=False).numpy(),
        trained["keras-conv-bn-relu"](probe_images, training=False).numpy(),
    )
    assert len(problems) == 2
    assert any(str(models_dir / "baseline.keras") in problem for problem in problems)
    assert any(str(models_dir / "mystery.keras") in problem for problem in problems)
