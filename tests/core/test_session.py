"""Tests of bngui.core.session: saving a run as a session and opening it again."""

import dataclasses
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bngui.core import events, storage
from bngui.core.history import RunHistory
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS
from bngui.core.session import (
    SessionError,
    load_session_models,
    open_session,
    save_session,
)
from bngui.core.settings import TrainSettings

REPO = Path(__file__).resolve().parents[2]
IDS = ("baseline", "keras-conv-bn-relu", "nn-conv-bn-relu")
SETTINGS = TrainSettings(batches=50, batch_size=32, learning_rate=0.0125, loss="softmax", seed=7)

# Keras's saving code trips numpy 2's copy-keyword deprecation hundreds of times.
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)


def trainer_like_events():
    """A run in the order the trainer reports it, with floats that are hard to round-trip:
    float32 values widened to float64, 0.1 + 0.2, subnormals, NaN and infinities."""
    rng = np.random.default_rng(3)

    def value():
        return float(np.float32(rng.uniform(0, 3)))

    def norms():
        return tuple(value() for _ in WEIGHT_LAYERS)

    def percentiles(scale=1.0):
        return tuple(tuple(value() * scale for _ in ACTIVATION_PERCENTILES) for _ in NONLINEAR_LAYERS)

    recorded = []
    for batch in (0, 25):
        if batch == 25:
            recorded.append(events.VariantDiverged("nn-conv-bn-relu", 25))
        for variant_id in IDS:
            if batch == 0 or variant_id != "nn-conv-bn-relu":
                statistics = events.TrainingBatchStatistics(variant_id, batch, value(), value(), norms())
                recorded.append(statistics)
        if batch == 0:
            for variant_id in IDS:
                recorded.append(events.Metric(variant_id, batch, events.VALIDATION, value(), 0.1 + 0.2))
            for variant_id in IDS:
                recorded.append(events.ActivationPercentiles(variant_id, batch, percentiles()))
        for variant_id in IDS:
            loss = math.nan if (batch, variant_id) == (25, "nn-conv-bn-relu") else value()
            recorded.append(events.Metric(variant_id, batch, events.TRAIN, loss, 1 / 3))
    recorded.append(events.ActivationPercentiles("baseline", 40, percentiles(math.inf)))
    recorded.append(events.Metric("baseline", 50, events.VALIDATION, 5e-324, -math.inf))
    recorded += [
        events.VariantFinished("baseline", events.DONE, 0.9731, 0.9702, 0.97, 12.345678),
        events.VariantFinished("keras-conv-bn-relu", events.STOPPED, math.nan, math.nan, math.nan, 3.0),
        events.VariantFinished("nn-conv-bn-relu", events.DIVERGED, 0.098, 0.1, 0.09, 1.5),
        events.RunFinished(events.DONE, 14.25),
    ]
    return recorded


def history_of(recorded, variant_ids=IDS):
    history = RunHistory(variant_ids)
    history.handle(events.RunStarted(variant_ids, SETTINGS.batches, SETTINGS.batch_size))
    history.handle(events.StatusChanged.of(events.Phase.TRAINING))
    for event in recorded:
        history.handle(event)
        history.handle(events.Progress(1, 50, 100.0, 1.0))  # not part of a session
    return history


def assert_same_event(mine, theirs):
    assert type(mine) is type(theirs)
    if mine is None:
        return
    for field in dataclasses.fields(mine):
        a, b = getattr(mine, field.name), getattr(theirs, field.name)
        if isinstance(a, (str, tuple)) and not isinstance(b, float):
            assert a == b
        else:  # equal bit for bit, NaN included
            np.testing.assert_array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


def assert_same_history(mine, theirs):
    assert theirs.variant_ids == mine.variant_ids
    assert len(theirs.metrics) == len(mine.metrics)
    for a, b in zip(mine.metrics, theirs.metrics):
        assert_same_event(a, b)
    assert_same_event(mine.finished, theirs.finished)
    for variant_id in mine.variant_ids:
        a, b = mine.variants[variant_id], theirs.variants[variant_id]
        for name in ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy"):
            for x, y in zip(a.series(name), b.series(name)):
                np.testing.assert_array_equal(x, y)
        for x, y in zip(a.gradient_matrix(), b.gradient_matrix()):
            np.testing.assert_array_equal(x, y)
        for x, y in zip(a.training_mode_accuracy(), b.training_mode_accuracy()):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(a.step_loss, b.step_loss)
        for layer in NONLINEAR_LAYERS:
            for x, y in zip(a.activation_series(layer), b.activation_series(layer)):
                np.testing.assert_array_equal(x, y)
        assert_same_event(a.result, b.result)
        assert (b.state, b.diverged_at) == (a.state, a.diverged_at)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A session of the synthetic run, without models, saved once; tests copy it."""
    history = history_of(trainer_like_events())
    folder = tmp_path_factory.mktemp("saved") / "session"
    assert save_session(folder, SETTINGS, history, {}) == folder
    return folder, history


@pytest.fixture
def copy(saved, tmp_path):
    folder = tmp_path / "session"
    shutil.copytree(saved[0], folder)
    return folder


def listing(folder):
    return sorted(path.name for path in Path(folder).iterdir())


def test_round_trip_rebuilds_the_history_exactly(saved):
    folder, history = saved
    session = open_session(folder)
    assert session.folder == folder
    assert session.settings == SETTINGS
    assert session.variant_ids == IDS
    assert session.model_ids == ()
    assert session.models_dir == folder / "models"
    assert session.run_status == events.DONE
    assert session.bngui_version and session.created
    assert_same_history(history, session.history)
    assert session.history.variants["nn-conv-bn-relu"].diverged_at == 25
    assert [v.state for v in session.history.variants.values()] == ["done", "stopped", "diverged"]


def test_the_files_are_strict_json_and_the_events_keep_their_order(saved):
    folder, history = saved
    assert listing(folder) == [
        "events.json", "metrics.csv", "results.json", "session.json", "tensorboard"
    ]

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    manifest = json.loads((folder / "session.json").read_text(), parse_constant=refuse)
    assert manifest["format"] == "bngui-session" and manifest["version"] == 1
    assert manifest["variant_ids"] == list(IDS)
    assert manifest["settings"] == SETTINGS.as_dict()
    assert manifest["run_status"] == "done"
    document = json.loads((folder / "events.json").read_text(), parse_constant=refuse)
    # Every recorded event, in the order the trainer sent it (status and progress aside).
    original = [events.RunStarted(IDS, SETTINGS.batches, SETTINGS.batch_size),
                *trainer_like_events()]
    assert len(document["events"]) == len(original) == len(history.recorded)
    assert [item["type"] for item in document["events"]] == [type(e).__name__ for e in original]
    for mine, theirs in zip(original, history.recorded):
        assert_same_event(mine, theirs)
    for mine, theirs in zip(original, open_session(folder).history.recorded):
        assert_same_event(mine, theirs)
    # The run-folder files are the usual ones.
    results = json.loads((folder / "results.json").read_text())
    assert list(results["variants"]) == list(IDS)
    assert (folder / "metrics.csv").read_text() == storage.metrics_csv_text(history.metrics)


def test_models_round_trip_with_identical_predictions(tmp_path):
    from bngui.core.models import build_model
    from bngui.core.tf_runtime import keras

    keras.utils.set_random_seed(0)
    models = {variant_id: build_model(variant_id) for variant_id in ("baseline", "keras-conv-bn-relu")}
    history = history_of(trainer_like_events())
    save_session(tmp_path / "s", SETTINGS, history, models)
    assert listing(tmp_path / "s" / "models") == ["baseline.keras", "keras-conv-bn-relu.keras"]

    session = open_session(tmp_path / "s")
    assert session.model_ids == ("baseline", "keras-conv-bn-relu")
    loaded, problems = storage.load_models(session.models_dir)
    assert problems == [] and sorted(loaded) == ["baseline", "keras-conv-bn-relu"]
    images = np.random.default_rng(1).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    for variant_id, model in models.items():
        np.testing.assert_array_equal(
            loaded[variant_id](images, training=False).numpy(), model(images, training=False).numpy()
        )

    # Saving a smaller run into the same folder replaces it cleanly.
    one = ("baseline",)
    smaller = history_of([events.Metric("baseline", 0, events.TRAIN, 0.5, 0.25)], one)
    save_session(tmp_path / "s", SETTINGS, smaller, {"baseline": models["baseline"]})
    assert listing(tmp_path / "s") == [
        "events.json", "metrics.csv", "models", "results.json", "session.json", "tensorboard"
    ]
    assert listing(tmp_path / "s" / "models") == ["baseline.keras"]
    assert listing(tmp_path / "s" / "tensorboard") == ["baseline"]
    assert len(listing(tmp_path / "s" / "tensorboard" / "baseline")) == 1
    again = open_session(tmp_path / "s")
    assert again.variant_ids == one and again.run_status == "unfinished"
    np.testing.assert_array_equal(again.history.variants["baseline"].series("train_loss")[1], [0.5])

    # A model file that went missing is reported, not fatal.
    (tmp_path / "s" / "models" / "baseline.keras").unlink()
    loaded, problems = load_session_models(again)
    assert loaded == {} and len(problems) == 1 and "baseline.keras" in problems[0]


# -- TensorBoard -----------------------------------------------------------------------


def read_scalars(run_folder):
    from bngui.core.tf_runtime import tf

    files = list(run_folder.glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    scalars = {}
    for event in tf.compat.v1.train.summary_iterator(str(files[0])):
        for value in event.summary.value:
            assert value.metadata.plugin_data.plugin_name == "scalars"
            scalars.setdefault(value.tag, []).append((event.step, tf.make_ndarray(value.tensor)))
    return scalars


def test_tensorboard_holds_every_curve_per_variant(saved):
    folder, history = saved
    assert listing(folder / "tensorboard") == sorted(IDS)
    scalars = read_scalars(folder / "tensorboard" / "baseline")
    expected_tags = {
        "train/loss", "train/accuracy", "validation/loss", "validation/accuracy",
        "training_mode/accuracy", "training_mode/loss",
        *(f"gradient_norm/{layer}" for layer in WEIGHT_LAYERS),
        *(f"activation/{layer}/p{p}" for layer in NONLINEAR_LAYERS for p in ACTIVATION_PERCENTILES),
    }
    assert set(scalars) == expected_tags

    record = history.variants["baseline"]

    def check(tag, steps, values):
        written = scalars[tag]
        assert [step for step, _ in written] == [int(step) for step in steps]
        assert all(value.shape == () and value.dtype == np.float32 for _, value in written)
        np.testing.assert_array_equal([value for _, value in written], np.float32(values))

    check("train/loss", *record.series("train_loss"))
    check("validation/accuracy", *record.series("validation_accuracy"))  # 0.3, then -inf
    check("training_mode/accuracy", *record.training_mode_accuracy())
    check("training_mode/loss", record.step_batches, record.step_loss)
    steps, norms = record.gradient_matrix()
    check("gradient_norm/conv7", steps, norms[:, WEIGHT_LAYERS.index("conv7")])
    check("gradient_norm/logits", steps, norms[:, -1])
    steps, table = record.activation_series("conv10")
    check("activation/conv10/p85", steps, table[:, 2])
    assert [step for step, _ in scalars["activation/fc/p15"]] == [0, 40]

    diverged = read_scalars(folder / "tensorboard" / "nn-conv-bn-relu")
    assert [step for step, _ in diverged["train/loss"]] == [0, 25]
    assert np.isnan(diverged["train/loss"][1][1])


# -- what cannot be opened or saved -------------------------------------------------------


def assert_session_error(folder, *fragments):
    with pytest.raises(SessionError) as raised:
        open_session(folder)
    message = str(raised.value)
    assert "\n" not in message and "Traceback" not in message
    for fragment in fragments:
        assert str(fragment) in message, message
    return message


def edit_json(path, change):
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_missing_folder_file_and_plain_folder(tmp_path):
    assert_session_error(tmp_path / "nowhere", tmp_path / "nowhere", "no such folder")
    (tmp_path / "file").write_text("x")
    assert_session_error(tmp_path / "file", tmp_path / "file", "not a folder")
    assert_session_error(tmp_path, tmp_path, "not a bngui session", "session.json")


def test_a_run_folder_from_an_older_bngui_is_recognised(tmp_path):
    storage.write_run(tmp_path, SETTINGS.as_dict(), [], [], {})
    assert_session_error(tmp_path, tmp_path, "older bngui", "Load models")


def without_run_started(folder):
    """Make ``folder`` a session as bngui wrote them before it recorded RunStarted."""
    edit_json(folder / "events.json", lambda d: d["events"].pop(0))
    edit_json(folder / "session.json", lambda d: d.update(events=d["events"] - 1))


def test_a_session_from_before_run_started_was_recorded_still_opens(saved, copy):
    without_run_started(copy)
    session = open_session(copy)
    assert session.history.started is None
    _, history = saved
    assert session.history.recorded == history.recorded[1:]


def test_every_replayed_event_type_can_be_saved_and_read():
    from bngui.core.session import _EVENT_FIELDS

    assert set(_EVENT_FIELDS) == set(events.REPLAYED_EVENTS)


@pytest.mark.parametrize(
    "damage, fragments",
    [
        (lambda f: (f / "session.json").write_text('{"format": "bngui-session", "vers'),
         ("session.json", "damaged or truncated")),
        (lambda f: (f / "session.json").write_bytes(b"\xff\xfe\x00garbage"),
         ("session.json", "damaged")),
        (lambda f: edit_json(f / "session.json", lambda d: d.update(format="something-else")),
         ("session.json", "not a bngui session file")),
        (lambda f: edit_json(f / "session.json", lambda d: d.update(version=2)),
         ("session.json", "newer bngui", "version 2")),
        (lambda f: edit_json(f / "session.json", lambda d: d.update(version="one")),
         ("session.json", "damaged")),
        (lambda f: edit_json(f / "session.json", lambda d: d["variant_ids"].append("resnet")),
         ("session.json", "unknown variant", "'resnet'")),
        (lambda f: edit_json(f / "session.json", lambda d: d["settings"].update(momentum=0.9)),
         ("session.json", "unknown setting", "momentum")),
        (lambda f: edit_json(f / "session.json", lambda d: d["settings"].update(batches=0)),
         ("session.json", "invalid settings", "batches")),
        (lambda f: edit_json(f / "session.json", lambda d: d["settings"].pop("seed")),
         ("session.json", "damaged", "seed")),
        (lambda f: (f / "events.json").unlink(), ("events.json", "missing")),
        (lambda f: (f / "events.json").write_text((f / "events.json").read_text()[:500]),
         ("events.json", "damaged or truncated")),
        (lambda f: edit_json(f / "events.json", lambda d: d["events"].pop()),
         ("events.json", "truncated", "holds 24 events")),
        (lambda f: edit_json(f / "events.json", lambda d: d.update(version=3)),
         ("events.json", "newer bngui")),
        (lambda f: edit_json(f / "events.json", lambda d: d["events"][3].update(loss=None)),
         ("events.json", "event 3 is damaged", "loss")),
        (lambda f: edit_json(f / "events.json", lambda d: d["events"][5].update(type="Hologram")),
         ("events.json", "event 5 is damaged", "Hologram")),
        (lambda f: edit_json(f / "events.json", lambda d: d["events"][1]["gradient_norms"].pop()),
         ("events.json", "event 1 is damaged", "gradient_norms")),
        (lambda f: edit_json(f / "session.json", lambda d: d.update(variant_ids=IDS[:2])),
         ("events.json", "RunStarted", "do not belong together")),
        (lambda f: (without_run_started(f),
                    edit_json(f / "session.json", lambda d: d.update(variant_ids=IDS[:2]))),
         ("events.json", "'nn-conv-bn-relu'", "does not list")),
    ],
    ids=[
        "truncated manifest", "binary manifest", "wrong format", "newer version", "bad version",
        "unknown variant", "unknown setting", "invalid setting", "missing setting", "no events",
        "truncated events",
        "event missing", "newer events", "bad number", "unknown event", "short gradient list",
        "run of other variants", "events of a variant not listed",
    ],
)
def test_damaged_sessions_give_one_line_naming_the_file(copy, damage, fragments):
    damage(copy)
    assert_session_error(copy, *fragments)


def test_saving_never_clears_a_foreign_folder(tmp_path):
    (tmp_path / "thesis.tex").write_text("precious")
    with pytest.raises(SessionError, match="not empty and not a bngui session"):
        save_session(tmp_path, SETTINGS, history_of([]), {})
    assert listing(tmp_path) == ["thesis.tex"]


# -- the command line ------------------------------------------------------------------------


def bngui_train(*args, env):
    environment = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2", **env}
    return subprocess.run(
        [sys.executable, "-m", "bngui", "train", *args],
        cwd=REPO, env=environment, capture_output=True, text=True, timeout=600,
    )


def test_train_refuses_a_foreign_out_folder_before_training(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    completed = bngui_train("--variants", "baseline", "--batches", "2", "--out", str(tmp_path),
                            env={"BNGUI_MNIST": "/nonexistent/mnist.npz"})
    assert completed.returncode == 2
    assert completed.stderr.strip().count("\n") == 0 and str(tmp_path) in completed.stderr
    assert listing(tmp_path) == ["notes.txt"]


@pytest.mark.mnist
def test_train_out_writes_a_session(mnist_path, tmp_path, capsys):
    from bngui.cli import main
    from bngui.core.data import read_idx_folder, read_npz

    # The real MNIST cut down (5,000 of the training images become validation) to stay quick.
    read = read_idx_folder if mnist_path.is_dir() else read_npz
    x_train, y_train, x_test, y_test = read(mnist_path)
    small = tmp_path / "mnist.npz"
    np.savez(small, x_train=x_train[:5200], y_train=y_train[:5200],
             x_test=x_test[:500], y_test=y_test[:500])

    # In this process rather than a subprocess: TensorFlow is already imported here.
    out = tmp_path / "out"
    code = main(["train", "--variants", "baseline", "--batches", "2", "--data", str(small),
                 "--out", str(out)])
    assert code == 0, capsys.readouterr()
    assert "wrote the session" in capsys.readouterr().out
    session = open_session(out)
    assert session.variant_ids == ("baseline",) and session.settings.batches == 2
    assert session.run_status == events.DONE
    record = session.history.variants["baseline"]
    assert record.state == events.DONE and 0 <= record.result.test_accuracy <= 1
    assert list(record.series("validation_loss")[0]) == [0, 2]
    assert list(record.gradient_matrix()[0]) == [0]
    assert list(record.activation_series("conv10")[0]) == [0, 2]  # and after the last batch
    models, problems = load_session_models(session)
    assert problems == [] and list(models) == ["baseline"]
    assert listing(out / "tensorboard") == ["baseline"]
