"""``bngui prepare-lesson DIR``: train every run the lesson shows, before class.

Each run is written as a session into ``DIR/<run id>`` and listed in
``DIR/lesson.json`` as soon as it is done, so a lesson stopped halfway (Ctrl+C)
keeps its finished runs, and the same command trains only what is missing.
The variants are compiled once for all the runs (one ``CompiledVariants``).
"""

import signal
import sys
import time
from pathlib import Path

from bngui.commands.train import load_data_or_explain
from bngui.core import events
from bngui.core.lesson import (
    SECONDS_PER_MODEL_BATCH,
    SECONDS_PER_VARIANT,
    STEPS,
    LessonError,
    check_lesson_folder,
    estimate_seconds,
    lesson_runs,
    read_prepared_lesson,
    write_lesson_manifest,
)
from bngui.core.variants import PRECISE_SUFFIX


def format_minutes(seconds):
    """"45 s", "3 min", "1 h 05 min"."""
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _steps_of(run):
    return ", ".join(str(number) for number, step in enumerate(STEPS, start=1)
                     if step.run is not None and step.run.id == run.id)


def _finished_sessions(folder):
    """The runs of an existing lesson folder whose sessions are complete (run done)."""
    from bngui.core.session import SessionError, open_session

    try:
        prepared = read_prepared_lesson(folder)
    except LessonError:
        return []
    finished = []
    for run in lesson_runs():
        session_folder = prepared.sessions.get(run.id)
        if session_folder is None:
            continue
        try:
            session = open_session(session_folder)
        except SessionError:
            continue
        if session.run_status == events.DONE:
            finished.append(run)
    return finished


def print_plan(folder, runs, kept):
    todo = [run for run in runs if run not in kept]
    print(f"Preparing the lesson in {folder}: {len(runs)} runs for {len(STEPS)} steps")
    width = max(len(run.id) for run in runs)
    for run in runs:
        settings = run.settings
        extra = f", BN decay {settings.bn_decay:g}" if settings.bn_decay != 0.99 else ""
        state = "  (already prepared, kept)" if run in kept else ""
        print(f"  {run.id:<{width}}  {len(run.variants)} variants x {settings.batches} batches"
              f"{extra}  (step {_steps_of(run)}){state}")
    model_batches = sum(run.model_batches for run in todo)
    print(f"To train: {len(todo)} runs, {model_batches:,} model-batches; estimated time about"
          f" {format_minutes(estimate_seconds(todo))} ({SECONDS_PER_MODEL_BATCH * 1000:.0f} ms per"
          f" model and batch and {SECONDS_PER_VARIANT:.0f} s per variant, measured on a 2-core CPU)",
          flush=True)


def _scores(history, run):
    """"baseline 0.099, keras-conv-bn-relu 0.972 (precise 0.975)": validation accuracy per variant."""
    parts = []
    for variant_id in run.variants:
        result = history.variants[variant_id].result
        if result is None:
            continue
        text = f"{variant_id} {result.validation_accuracy:.3f}"
        precise = result.precise_validation_accuracy
        if precise == precise:  # not NaN: the variant has BN and precise BN ran
            text += f" (precise {precise:.3f})"
        parts.append(text)
    return ", ".join(parts)


def _real_trainer(compiled):
    from bngui.core.trainer import make_trainer

    def make(variant_ids, data, settings, control):
        return make_trainer(variant_ids, data, settings, control, compiled=compiled)

    return make


def run_prepare_lesson(folder, data_path=None, data=None, make_trainer=None):
    """Train the lesson's runs into ``folder``; the exit code.

    ``data`` (MnistSplits) and ``make_trainer(variant_ids, data, settings,
    control)`` are for tests; by default MNIST is loaded from ``data_path``
    and the lockstep trainer trains, on variants compiled once for every run.
    """
    folder = Path(folder)
    try:
        check_lesson_folder(folder)
    except LessonError as error:
        print(f"bngui prepare-lesson: error: {error}", file=sys.stderr)
        return 2
    runs = lesson_runs()
    kept = _finished_sessions(folder) if folder.exists() else []
    print_plan(folder, runs, kept)
    todo = [run for run in runs if run not in kept]
    if not todo:
        print(f"Nothing to train. Open the lesson with: bngui --lesson {folder}")
        return 0
    if data is None:
        data = load_data_or_explain(data_path)
        if data is None:
            return 1
        print(f"MNIST: {data.source}", flush=True)

    from bngui.core.history import RunHistory
    from bngui.core.run_control import RunControl
    from bngui.core.session import SessionError, save_session

    if make_trainer is None:
        from bngui.core.trainer import CompiledVariants

        make_trainer = _real_trainer(CompiledVariants())
    prepared = list(kept)
    control = RunControl()
    previous_handler = signal.signal(signal.SIGINT, lambda *_: control.stop())
    started = time.perf_counter()
    estimated_done = 0.0  # the estimate of the runs trained so far, to correct the rest's
    try:
        for number, run in enumerate(todo, start=1):
            print(f"[{number}/{len(todo)}] {run.id}: {len(run.variants)} variants x"
                  f" {run.settings.batches} batches … ", end="", flush=True)
            run_started = time.perf_counter()
            trainer = make_trainer(run.variants, data, run.settings, control)
            history = RunHistory(trainer.variant_ids)
            trainer.run(history.handle)
            if control.stop_requested:
                print("stopped")
                print(f"Stopped: {len(prepared)} of {len(runs)} runs are prepared in {folder}; the"
                      " same command trains the rest.")
                return 1
            precise = getattr(trainer, "precise_models", dict)()
            models = {**trainer.models, **{f"{variant_id}{PRECISE_SUFFIX}": model
                                            for variant_id, model in precise.items()}}
            try:
                save_session(folder / run.id, run.settings, history, models)
            except (SessionError, OSError) as error:
                print("failed")
                print(f"bngui prepare-lesson: cannot save {folder / run.id}: {error}", file=sys.stderr)
                return 1
            prepared.append(run)
            write_lesson_manifest(folder, prepared)
            seconds = time.perf_counter() - run_started
            estimated_done += estimate_seconds([run])
            elapsed = time.perf_counter() - started
            left = estimate_seconds(todo[number:]) * elapsed / estimated_done
            tail = f"; about {format_minutes(left)} left" if number < len(todo) else ""
            print(f"done in {format_minutes(seconds)}; validation {_scores(history, run)}{tail}",
                  flush=True)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    print(f"Lesson prepared in {folder} in {format_minutes(time.perf_counter() - started)}."
          f" Open it with: bngui --lesson {folder}")
    return 0
