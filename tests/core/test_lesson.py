"""Tests of bngui.core.lesson: the steps as data, and prepared lesson folders."""

import json
import re
from pathlib import Path

import pytest

from bngui.core import lesson
from bngui.core.layer_names import NONLINEAR_LAYERS
from bngui.core.lesson import (
    LESSON_FILE,
    STEPS,
    LessonError,
    check_lesson_folder,
    lesson_runs,
    read_prepared_lesson,
    write_lesson_manifest,
)
from bngui.core.settings import TrainSettings
from bngui.core.variants import VARIANTS_BY_ID

MAX_WORDS = 85  # "at most about 80 words"


def test_the_steps_are_those_of_the_issue_in_order():
    assert [step.key for step in STEPS] == [
        "plain-network", "placements", "implementations", "inference-mode", "inside", "draw",
        "population-statistics"]
    assert len({step.key for step in STEPS}) == len(STEPS)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.key)
def test_every_step_is_complete_and_consistent(step):
    assert step.title and not step.title.endswith(".")
    words = len(step.text.split())
    assert 30 <= words <= MAX_WORDS, f"{step.key}: {words} words"
    assert "  " not in step.text and not re.search(r"\s[,.;:]", step.text)
    assert step.tab in lesson.TABS
    assert step.layer is None or step.layer in NONLINEAR_LAYERS
    assert step.layout in (None, lesson.OVERLAY, lesson.SIDE_BY_SIDE)
    assert step.training_mode in (None, lesson.INFERENCE_MODE, lesson.TRAINING_MODE)
    assert step.heatmap is None or step.heatmap in lesson.HEATMAPS
    assert (step.heatmap is not None) == (step.tab == lesson.NETWORK)
    if step.tab == lesson.CURVES:
        assert step.layout is not None and step.training_mode is not None
    if step.run is not None:
        assert step.preset is not None
        assert all(variant in VARIANTS_BY_ID for variant in step.run.variants)
        assert step.run.settings.validate() == step.run.settings
        assert re.fullmatch(r"[a-z0-9-]+", step.run.id)  # a folder name on every system
    assert step.canvas_bug_toggle == (step.tab == lesson.DRAW)


def test_runs_are_listed_once_in_the_order_first_needed():
    runs = lesson_runs()
    assert [run.id for run in runs] == [
        "notebook", "placements", "keras-vs-low-level", "inference-mode", "population-statistics"]
    # One id, one definition: two steps that share a run share all of it.
    for step in STEPS:
        if step.run is not None:
            assert next(run for run in runs if run.id == step.run.id) == step.run


def test_every_step_has_a_run_and_the_draw_step_its_models():
    assert all(step.run is not None for step in STEPS)
    by_key = lesson.STEPS_BY_KEY
    assert by_key["draw"].run == by_key["plain-network"].run  # the baseline and BN on the canvas


def test_runs_use_the_notebooks_settings_but_the_decay_step():
    for run in lesson_runs():
        expected = TrainSettings(batches=400) if run.id == "population-statistics" else TrainSettings()
        assert run.settings == expected


def test_estimate_grows_with_model_batches():
    runs = lesson_runs()
    assert lesson.estimate_seconds([]) == 0
    total = lesson.estimate_seconds(runs)
    assert total == pytest.approx(sum(lesson.estimate_seconds([run]) for run in runs))
    notebook = runs[0]
    assert notebook.model_batches == 2 * 800
    assert lesson.estimate_seconds([notebook]) == pytest.approx(
        1600 * lesson.SECONDS_PER_MODEL_BATCH + 2 * lesson.SECONDS_PER_VARIANT)


def _fake_session(folder):
    folder.mkdir(parents=True)
    (folder / "session.json").write_text("{}")


def test_a_prepared_folder_maps_each_step_to_its_session(tmp_path):
    runs = lesson_runs()
    for run in runs[:2]:
        _fake_session(tmp_path / run.id)
    write_lesson_manifest(tmp_path, runs[:2])
    document = json.loads((tmp_path / LESSON_FILE).read_text())
    assert document["format"] == "bngui-lesson" and document["version"] == 1
    assert document["steps"]["plain-network"] == "notebook"
    assert document["steps"]["inside"] == "notebook"
    assert document["steps"]["draw"] == "notebook"
    assert document["steps"]["inference-mode"] is None  # not prepared

    prepared = read_prepared_lesson(tmp_path)
    assert prepared.problems == ()
    by_key = lesson.STEPS_BY_KEY
    assert prepared.session_for(by_key["plain-network"]) == tmp_path / "notebook"
    assert prepared.session_for(by_key["inside"]) == tmp_path / "notebook"
    assert prepared.session_for(by_key["placements"]) == tmp_path / "placements"
    assert prepared.session_for(by_key["draw"]) == tmp_path / "notebook"
    assert prepared.session_for(by_key["inference-mode"]) is None
    assert [run.id for run in prepared.missing_runs] == [run.id for run in runs[2:]]


def test_a_run_prepared_with_other_settings_or_lost_is_not_used(tmp_path):
    runs = lesson_runs()
    for run in runs[:2]:
        _fake_session(tmp_path / run.id)
    write_lesson_manifest(tmp_path, runs[:3])  # the third's session is missing
    document = json.loads((tmp_path / LESSON_FILE).read_text())
    document["runs"]["placements"]["settings"]["batches"] = 300
    (tmp_path / LESSON_FILE).write_text(json.dumps(document))
    prepared = read_prepared_lesson(tmp_path)
    assert list(prepared.sessions) == ["notebook"]
    assert len(prepared.problems) == 2
    assert "placements: prepared for other variants or settings" in prepared.problems[0]
    assert "keras-vs-low-level: missing" in prepared.problems[1]


@pytest.mark.parametrize("content, message", [
    (None, "not a prepared bngui lesson (no lesson.json)"),
    ("{oops", "damaged (not valid JSON"),
    ('{"format": "bngui-session", "version": 1}', "not a bngui lesson file"),
    ('{"format": "bngui-lesson", "version": "x"}', "damaged (version"),
    ('{"format": "bngui-lesson", "version": 99, "runs": {}}', "written by a newer bngui"),
    ('{"format": "bngui-lesson", "version": 1, "runs": []}', "damaged (\"runs\""),
    ('{"format": "bngui-lesson", "version": 1, "runs": {"notebook": {"variants": 3}}}',
     "damaged (run notebook"),
    ('{"format": "bngui-lesson", "version": 1, "runs": {"notebook": {"variants": [],'
     ' "settings": {"batches": 0}}}}', "damaged (run notebook: batches must be"),
], ids=["missing", "not-json", "foreign", "version", "newer", "runs", "variants", "settings"])
def test_a_damaged_or_foreign_folder_gets_one_line(tmp_path, content, message):
    if content is not None:
        (tmp_path / LESSON_FILE).write_text(content)
    with pytest.raises(LessonError) as raised:
        read_prepared_lesson(tmp_path)
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_no_folder_or_a_file(tmp_path):
    with pytest.raises(LessonError, match="no such folder"):
        read_prepared_lesson(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(LessonError, match="not a folder"):
        read_prepared_lesson(tmp_path / "file")


def test_only_new_empty_or_lesson_folders_are_prepared_into(tmp_path):
    check_lesson_folder(tmp_path / "new")
    check_lesson_folder(tmp_path)  # empty
    (tmp_path / ".hidden").write_text("")
    check_lesson_folder(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(LessonError, match="not empty and not a bngui lesson"):
        check_lesson_folder(tmp_path)
    (tmp_path / LESSON_FILE).write_text("{}")
    check_lesson_folder(tmp_path)
    with pytest.raises(LessonError, match="not a folder"):
        check_lesson_folder(tmp_path / "notes.txt")


def test_no_qt_in_the_lesson_module():
    source = Path(lesson.__file__).read_text(encoding="utf-8")
    assert "PySide6" not in source
    # lupdate reads QT_TRANSLATE_NOOP("Lesson", ...): every title and text is marked.
    marked = re.findall(r'QT_TRANSLATE_NOOP\(\s*"Lesson"', source)
    assert len(marked) == 2 * len(STEPS)
    assert lesson.QT_TRANSLATE_NOOP("Lesson", "x") == "x"
