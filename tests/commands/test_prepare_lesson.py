"""Tests of ``bngui prepare-lesson`` and ``bngui --lesson``, with a fast stand-in trainer."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bngui.commands import prepare_lesson
from bngui.commands.prepare_lesson import format_minutes, run_prepare_lesson
from bngui.core import events, session
from bngui.core.data import MnistSplits
from bngui.core.lesson import LESSON_FILE, STEPS, lesson_runs, read_prepared_lesson

REPO = Path(__file__).resolve().parents[2]


def blank_data():
    images = np.zeros((64, 28, 28, 1), np.float32)
    labels = np.arange(64, dtype=np.int32) % 10
    return MnistSplits(images, labels, images, labels, images, labels, source="blank")


class QuickTrainer:
    """Reports a whole run in a few events: validation at batch 0 and at the end."""

    made = []

    def __init__(self, variant_ids, data, settings, control, stop_after=None):
        self.variant_ids, self.settings, self.control = tuple(variant_ids), settings, control
        self.models = {}
        QuickTrainer.made.append(self)

    def run(self, emit):
        settings = self.settings
        emit(events.RunStarted(self.variant_ids, settings.batches, settings.batch_size))
        for batch in (0, settings.batches):
            for variant in self.variant_ids:
                emit(events.Metric(variant, batch, events.VALIDATION, 0.5, 0.9))
        stopped = self.control.stop_requested
        for variant in self.variant_ids:
            emit(events.VariantFinished(variant, events.STOPPED if stopped else events.DONE,
                                        0.9, 0.9, 0.9, 1.0))
        emit(events.RunFinished(events.STOPPED if stopped else events.DONE, 1.0))


@pytest.fixture(autouse=True)
def no_tensorboard(monkeypatch):
    """TensorBoard files need TensorFlow; sessions are written without them here."""
    monkeypatch.setattr(session, "write_tensorboard", lambda folder, history: None)
    QuickTrainer.made = []


def test_prepares_every_run_and_a_manifest(tmp_path, capsys):
    folder = tmp_path / "lesson"
    assert run_prepare_lesson(folder, data=blank_data(), make_trainer=QuickTrainer) == 0
    out = capsys.readouterr().out
    runs = lesson_runs()
    assert [tuple(trainer.variant_ids) for trainer in QuickTrainer.made] == [run.variants for run in runs]
    assert [trainer.settings for trainer in QuickTrainer.made] == [run.settings for run in runs]
    lines = out.splitlines()
    # The plan and the estimate first, then one line per run, then how to open it.
    assert lines[0] == f"Preparing the lesson in {folder}: 5 runs for 7 steps"
    assert "notebook" in lines[1] and "2 variants x 800 batches" in lines[1] and "(step 1, 5, 6)" in lines[1]
    assert "population-statistics" in lines[5] and "4 variants x 400 batches  (step 7)" in lines[5]
    assert lines[6].startswith("To train: 5 runs, 12,000 model-batches; estimated time about ")
    progress = [line for line in lines if line.startswith("[")]
    assert len(progress) == 5
    assert progress[0].startswith("[1/5] notebook: 2 variants x 800 batches … done in ")
    assert "validation baseline 0.900, keras-conv-bn-relu 0.900" in progress[0]
    assert "left" in progress[0] and "left" not in progress[-1]
    assert lines[-1].endswith(f"Open it with: bngui --lesson {folder}")

    prepared = read_prepared_lesson(folder)
    assert prepared.problems == () and not prepared.missing_runs
    for step in STEPS:
        if step.run is not None:
            opened = session.open_session(prepared.session_for(step))
            assert opened.variant_ids == step.run.variants
            assert opened.settings == step.run.settings
    manifest = json.loads((folder / LESSON_FILE).read_text())
    assert manifest["steps"]["inside"] == "notebook" and manifest["steps"]["draw"] == "notebook"


def test_a_second_time_keeps_what_is_prepared(tmp_path, capsys):
    folder = tmp_path / "lesson"
    run_prepare_lesson(folder, data=blank_data(), make_trainer=QuickTrainer)
    # One run lost: only that one is trained again.
    shutil.rmtree(folder / "placements")
    capsys.readouterr()
    QuickTrainer.made = []
    assert run_prepare_lesson(folder, data=blank_data(), make_trainer=QuickTrainer) == 0
    out = capsys.readouterr().out
    assert [trainer.variant_ids for trainer in QuickTrainer.made] == [lesson_runs()[1].variants]
    assert out.count("(already prepared, kept)") == 4
    assert "To train: 1 runs, 4,000 model-batches" in out
    QuickTrainer.made = []
    assert run_prepare_lesson(folder, data=blank_data(), make_trainer=QuickTrainer) == 0
    assert not QuickTrainer.made
    assert "Nothing to train" in capsys.readouterr().out


def test_stopping_keeps_the_finished_runs(tmp_path, capsys):
    folder = tmp_path / "lesson"

    def stops_in_the_second_run(variant_ids, data, settings, control):
        trainer = QuickTrainer(variant_ids, data, settings, control)
        if len(QuickTrainer.made) == 2:
            control.stop()  # what Ctrl+C does
        return trainer

    assert run_prepare_lesson(folder, data=blank_data(), make_trainer=stops_in_the_second_run) == 1
    out = capsys.readouterr().out
    assert "[2/5] placements: 5 variants x 800 batches … stopped" in out
    assert "Stopped: 1 of 5 runs are prepared" in out
    prepared = read_prepared_lesson(folder)
    assert list(prepared.sessions) == ["notebook"]
    assert not (folder / "placements" / "session.json").exists()


def test_a_foreign_folder_is_refused_before_anything(tmp_path, capsys):
    (tmp_path / "thesis.tex").write_text("mine")
    assert run_prepare_lesson(tmp_path, data=blank_data(), make_trainer=QuickTrainer) == 2
    captured = capsys.readouterr()
    assert not QuickTrainer.made and captured.out == ""
    assert captured.err.strip().count("\n") == 0
    assert "not empty and not a bngui lesson" in captured.err


def test_format_minutes():
    assert format_minutes(12.4) == "12 s"
    assert format_minutes(89) == "89 s"
    assert format_minutes(150) == "2 min"  # rounds half to even, as Python does
    assert format_minutes(3725) == "1 h 02 min"
    assert prepare_lesson.format_minutes(-3) == "0 s"


def _bngui(*args):
    environment = {**os.environ, "PYTHONPATH": str(REPO), "BNGUI_MNIST": "/nonexistent/mnist.npz"}
    return subprocess.run([sys.executable, "-m", "bngui", *args], cwd=REPO, env=environment,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("make, message", [
    (lambda path: None, "no such folder"),
    (lambda path: path.mkdir(), "not a prepared bngui lesson"),
    (lambda path: (path.mkdir(), (path / LESSON_FILE).write_text("{oops")), "damaged"),
], ids=["missing", "foreign", "damaged"])
def test_the_gui_refuses_a_wrong_lesson_folder_with_one_line(tmp_path, make, message):
    folder = tmp_path / "lesson"
    make(folder)
    completed = _bngui("--lesson", str(folder))
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bngui: error: --lesson ") and message in lines[0]


def test_prepare_lesson_refuses_a_foreign_folder_from_the_command_line(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    completed = _bngui("prepare-lesson", str(tmp_path))
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.strip().splitlines() == [
        f"bngui prepare-lesson: error: {tmp_path}: not empty and not a bngui lesson;"
        " choose a new or empty folder"]


def test_the_gui_gets_a_prepared_lesson_folder(tmp_path, monkeypatch):
    """``bngui --lesson DIR`` hands DIR to the application (which opens the lesson panel on it)."""
    import inspect

    from bngui import cli
    from bngui.gui import app

    folder = tmp_path / "lesson"
    run_prepare_lesson(folder, data=blank_data(), make_trainer=QuickTrainer)
    started = []
    accepts = inspect.signature(app.run_app)

    def run_app(**options):
        accepts.bind(**options)  # what the real one accepts
        started.append(options)
        return 0

    monkeypatch.setattr(app, "run_app", run_app)
    monkeypatch.setattr(cli, "_exit_without_teardown", lambda code: code)
    cli.main(["--lesson", str(folder)])
    assert started == [{"data_path": None, "session": None, "lesson": str(folder)}]
