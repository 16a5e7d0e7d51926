"""Tests of the ``bngui`` command line (bngui.cli, bngui.commands.train), run as a subprocess."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bngui import cli
from bngui.core.variants import VARIANT_IDS

REPO = Path(__file__).resolve().parents[2]
# Argument errors are answered before TensorFlow is imported.
FAST_SECONDS = 3.0


def bngui(*args, env=None, timeout=600):
    environment = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    environment.update(env or {})
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "bngui", *args],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    completed.seconds = time.perf_counter() - started
    return completed


@pytest.mark.parametrize(
    "args",
    [
        ["--variants", "baseline", "resnet"],
        ["--batches", "0"],
        ["--batches", "-5"],
        ["--batches", "abc"],
        ["--lr", "0"],
        ["--lr", "1e9"],
        ["--lr", "nan"],
        ["--lr", "-1"],
        ["--lr", "1000"],
        ["--lr", "1e-6"],
        ["--batch-size", "0"],
        ["--batch-size", "99999"],
        ["--loss", "foo"],
        ["--seed", "-1"],
        ["--seed", "1.5"],
        ["--seed", "99999999999"],
        ["--seeds", "3", "3"],
        ["--precise-batches", "-1"],
        ["--bn-decay", "1"],
        ["--no-such-option"],
    ],
    ids=" ".join,
)
def test_bad_arguments_get_one_line_and_exit_code_2(args):
    completed = bngui("train", *args, env={"BNGUI_MNIST": "/nonexistent/mnist.npz"})
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert "error" in lines[0]
    assert "Traceback" not in completed.stderr
    assert completed.stdout == ""
    assert completed.seconds < FAST_SECONDS, f"took {completed.seconds:.1f} s"


# (arguments, the option the message names, the range it gives)
OUT_OF_RANGE = [
    (["--batches", "0"], "--batches", "1 to 100,000"),
    (["--batches", "100001"], "--batches", "1 to 100,000"),
    (["--batches", "ten"], "--batches", "1 to 100,000"),
    (["--lr", "0"], "--lr", "0.00001 to 10"),
    (["--lr", "-1"], "--lr", "0.00001 to 10"),
    (["--lr", "1000"], "--lr", "0.00001 to 10"),
    (["--lr", "inf"], "--lr", "0.00001 to 10"),
    (["--batch-size", "0"], "--batch-size", "1 to 4,096"),
    (["--seed", "-1"], "--seed", "0 to 2,147,483,647"),
    (["--seed", "2147483648"], "--seed", "0 to 2,147,483,647"),
    (["--seeds", "4", "-3"], "--seeds", "0 to 2,147,483,647"),
    (["--seeds", "4", "4"], "--seeds", "different"),
    (["--seeds", *map(str, range(21))], "--seeds", "at most 20"),
    (["--precise-batches", "10001"], "--precise-batches", "0 to 10,000"),
    (["--bn-decay", "0"], "--bn-decay", "between 0 and 1"),
]


@pytest.mark.parametrize(("args", "option", "allowed"), OUT_OF_RANGE,
                         ids=[" ".join(args)[:40] for args, *_ in OUT_OF_RANGE])
def test_an_out_of_range_setting_names_its_option_and_range(args, option, allowed, capsys):
    """One argparse-style line: the option, what was given, what is allowed (the window's ranges)."""
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["train", "--variants", "baseline", *args])
    assert exit_info.value.code == cli.USAGE_ERROR
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"bngui train: error: argument {option}: "), lines[0]
    assert allowed in lines[0]


def test_bench_checks_its_batches_the_same_way(capsys):
    for args in (["--batches", "0"], ["--batch-size", "5000"]):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(["bench", *args])
        assert exit_info.value.code == cli.USAGE_ERROR
        assert f"bngui bench: error: argument {args[0]}: {args[1]} is out of range" in (
            capsys.readouterr().err)


def test_unknown_variant_message_lists_the_known_ones():
    completed = bngui("train", "--variants", "resnet")
    assert "'resnet'" in completed.stderr
    assert all(variant_id in completed.stderr for variant_id in VARIANT_IDS)


def test_missing_data_file_is_one_line_not_a_traceback(tmp_path):
    missing = tmp_path / "nonexistent.npz"
    completed = bngui("train", "--variants", "baseline", "--batches", "1", "--data", str(missing))
    assert completed.returncode != 0
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert str(missing) in lines[0]
    assert "Traceback" not in completed.stderr
    assert completed.seconds < FAST_SECONDS, f"took {completed.seconds:.1f} s"


def test_list_variants():
    completed = bngui("train", "--list-variants")
    assert completed.returncode == 0
    listed = [line.split()[0] for line in completed.stdout.strip().splitlines()]
    assert listed == VARIANT_IDS  # the ten, then the pitfalls and learning-rate twins
    assert completed.seconds < FAST_SECONDS


# -- one real run ------------------------------------------------------------------------

RUN_BATCHES = 30


@pytest.fixture(scope="module")
def small_mnist(mnist_path, tmp_path_factory):
    """The real MNIST cut down to 5,640 training (5,000 of them validation) and 1,000 test
    images, to keep the run short; the command reads it through BNGUI_MNIST."""
    from bngui.core.data import read_npz

    if mnist_path.is_dir():
        from bngui.core.data import read_idx_folder

        arrays = read_idx_folder(mnist_path)
    else:
        arrays = read_npz(mnist_path)
    x_train, y_train, x_test, y_test = arrays
    path = tmp_path_factory.mktemp("mnist") / "mnist.npz"
    np.savez(path, x_train=x_train[:5640], y_train=y_train[:5640],
             x_test=x_test[:1000], y_test=y_test[:1000])
    return path


@pytest.fixture(scope="module")
def train_run(small_mnist, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "out"
    completed = bngui(
        "train", "--variants", "baseline", "keras-conv-bn-relu",
        "--batches", str(RUN_BATCHES), "--precise-batches", "20", "--out", str(out),
        env={"BNGUI_MNIST": str(small_mnist)},
    )
    return completed, out


@pytest.mark.mnist
def test_train_prints_the_notebook_log_and_a_table(train_run):
    completed, _ = train_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Traceback" not in completed.stderr
    out = completed.stdout
    assert "Batch:" in out and "Validation accuracy" in out and "Training accuracy" in out
    for variant_id in ("baseline", "keras-conv-bn-relu"):
        pattern = rf"^{variant_id} +Batch: +0/ +30: Validation loss: [0-9.]+, Validation accuracy:"
        assert re.search(pattern, out, re.MULTILINE), out[:2000]
    table = out[out.index("variant  "):].splitlines()
    assert table[0].split()[:4] == ["variant", "validation", "test", "100"]
    rows = {line.split()[0]: line.split() for line in table[1:3]}
    assert set(rows) == {"baseline", "keras-conv-bn-relu"}
    assert all("done" in row for row in rows.values())
    assert "wall time" in out


def batch_lines(stdout, variant_id):
    return [line for line in stdout.splitlines() if line.startswith(variant_id + " ") and "Batch:" in line]


@pytest.mark.mnist
def test_train_log_cadence(train_run):
    completed, _ = train_run
    lines = batch_lines(completed.stdout, "baseline")
    # validation 0, training 0 and 25, final validation at 30.
    assert len(lines) == 4
    assert "Validation" in lines[0] and "Training" in lines[1] and "Training" in lines[2]
    assert "30/  30: Validation" in lines[3]


@pytest.mark.mnist
def test_train_writes_the_run_folder(train_run, small_mnist):
    completed, out = train_run
    assert completed.returncode == 0, completed.stderr[-3000:]
    # A session folder (bngui.core.session): the run folder plus the session's own files.
    assert sorted(path.name for path in out.iterdir()) == [
        "events.json", "metrics.csv", "models", "results.json", "session.json", "tensorboard"
    ]

    header, *rows = (out / "metrics.csv").read_text().splitlines()
    assert header == "variant,batch,split,loss,accuracy"
    assert len(rows) == 2 * 4
    assert {row.split(",")[0] for row in rows} == {"baseline", "keras-conv-bn-relu"}

    document = json.loads((out / "results.json").read_text())
    assert document["settings"] == {
        "batches": RUN_BATCHES, "batch_size": 64, "learning_rate": 0.002, "loss": "sigmoid",
        "seed": 0, "bn_decay": 0.99, "augment": False, "precise_batches": 20, "seeds": [],
    }
    assert set(document["variants"]) == {"baseline", "keras-conv-bn-relu"}
    for entry in document["variants"].values():
        assert entry["status"] == "done"
        for key in ("validation_accuracy", "test_accuracy", "single_sample_accuracy"):
            assert 0.0 <= entry[key] <= 1.0

    # The saved models are the trained ones: on the first 100 test images
    # (scored one at a time by the run) they get what results.json says.
    from bngui.core.data import load_mnist
    from bngui.core.storage import load_models

    models, problems = load_models(out)
    assert problems == []
    # The BN model also with its precise-BN statistics (scored on the test set by the run).
    assert sorted(models) == ["baseline", "keras-conv-bn-relu", "keras-conv-bn-relu-precise"]
    data = load_mnist(small_mnist, allow_download=False)
    precise = models.pop("keras-conv-bn-relu-precise")
    logits = precise(data.test_images, training=False).numpy()
    assert float(np.mean(logits.argmax(axis=1) == data.test_labels)) == pytest.approx(
        document["variants"]["keras-conv-bn-relu"]["precise_test_accuracy"], abs=1e-9)
    for variant_id, model in models.items():
        logits = model(data.test_images[:100], training=False).numpy()
        assert np.isfinite(logits).all()
        accuracy = float(np.mean(logits.argmax(axis=1) == data.test_labels[:100]))
        assert accuracy == pytest.approx(
            document["variants"][variant_id]["single_sample_accuracy"], abs=1e-9
        )
