"""RunHistory: trainer events in, per-variant series and states out."""

import numpy as np

from bngui.core import events
from bngui.core.history import PAUSED, RUNNING, WAITING, RunHistory

IDS = ("baseline", "keras-conv-bn-relu")


def test_metrics_become_series_per_variant_and_split():
    history = RunHistory(IDS)
    history.handle(events.Metric("baseline", 0, events.VALIDATION, 0.69, 0.10))
    history.handle(events.Metric("baseline", 0, events.TRAIN, 0.70, 0.12))
    history.handle(events.Metric("baseline", 25, events.TRAIN, 0.50, 0.20))
    history.handle(events.Metric("keras-conv-bn-relu", 25, events.TRAIN, 0.40, 0.30))

    batches, values = history.variants["baseline"].series("train_accuracy")
    np.testing.assert_array_equal(batches, [0, 25])
    np.testing.assert_array_equal(values, [0.12, 0.20])
    batches, values = history.variants["baseline"].series("validation_loss")
    np.testing.assert_array_equal(batches, [0])
    np.testing.assert_array_equal(values, [0.69])
    assert len(history.variants["keras-conv-bn-relu"].series("validation_accuracy")[0]) == 0
    assert len(history.metrics) == 4


def test_states_follow_the_run():
    history = RunHistory(IDS)
    assert {record.state for record in history.variants.values()} == {WAITING}
    history.handle(events.RunStarted(IDS, 10, 64))
    assert {record.state for record in history.variants.values()} == {RUNNING}
    history.handle(events.StatusChanged.of(events.Phase.PAUSED))
    assert {record.state for record in history.variants.values()} == {PAUSED}
    history.handle(events.StatusChanged.of(events.Phase.TRAINING))
    history.handle(events.VariantDiverged("baseline", 3))
    assert history.variants["baseline"].state == events.DIVERGED
    assert history.variants["baseline"].diverged_at == 3
    # A later pause does not resurrect a diverged variant.
    history.handle(events.StatusChanged.of(events.Phase.PAUSED))
    assert history.variants["baseline"].state == events.DIVERGED
    assert history.variants["keras-conv-bn-relu"].state == PAUSED

    finished = events.VariantFinished("keras-conv-bn-relu", events.DONE, 0.97, 0.96, 0.98, 12.0)
    history.handle(finished)
    history.handle(events.RunFinished(events.DONE, 13.0))
    assert history.variants["keras-conv-bn-relu"].result == finished
    assert history.variants["keras-conv-bn-relu"].state == events.DONE
    assert history.finished.status == events.DONE


def test_version_changes_with_curve_data_only_and_reset_clears():
    history = RunHistory(IDS)
    before = history.version
    history.handle(events.Progress(1, 10, 100.0, 9.0))
    assert history.version == before  # progress alone does not redraw the curves
    assert history.progress.batches_done == 1
    history.handle(events.Metric("baseline", 0, events.TRAIN, 0.7, 0.1))
    assert history.version != before
    previous = history.version
    history.reset(("baseline",))
    assert history.version > previous  # a new run never looks like an old drawing
    assert history.variant_ids == ("baseline",)
    assert history.metrics == [] and history.progress is None and history.finished is None


def test_the_planned_length_is_kept_and_each_reset_is_a_new_run():
    history = RunHistory(IDS)
    assert history.started is None
    before = history.version
    started = events.RunStarted(tuple(IDS), 800, 64)
    history.handle(started)
    assert history.started is started and history.started.total_batches == 800
    assert history.version != before  # the curves' batch axis changes
    history.reset(IDS)
    assert history.started is None  # the next run brings its own record


def test_the_replayable_events_are_recorded_as_they_arrive_and_a_copy_is_a_snapshot():
    history = RunHistory(IDS)
    arrived = [
        events.RunStarted(IDS, 10, 64),
        events.StatusChanged.of(events.Phase.TRAINING),  # passing state: not recorded
        events.TrainingBatchStatistics("baseline", 0, 0.7, 0.1, (1.0,) * 21),
        events.Metric("keras-conv-bn-relu", 0, events.VALIDATION, 0.6, 0.2),
        events.Progress(1, 10, 100.0, 9.0),  # passing state: not recorded
        events.Metric("baseline", 0, events.TRAIN, 0.7, 0.1),
        events.VariantDiverged("baseline", 3),
    ]
    for event in arrived:
        history.handle(event)
    assert history.recorded == [event for event in arrived
                                if not isinstance(event, (events.StatusChanged, events.Progress))]
    snapshot = history.copy()
    assert snapshot.recorded == history.recorded and snapshot.recorded is not history.recorded
    history.handle(events.RunFinished(events.DONE, 1.0))
    history.reset(IDS)  # a new run
    assert snapshot.finished is None and len(snapshot.recorded) == 5
    assert snapshot.variants["baseline"].diverged_at == 3
    assert snapshot.variants["keras-conv-bn-relu"].series("validation_accuracy")[1].tolist() == [0.2]


def test_phases_and_states_are_words_for_display_and_files():
    assert f"{events.State.DONE}" == "done" and str(events.Phase.PAUSED) == "paused"
    assert events.StatusChanged.of(events.Phase.COMPILING).message == "Compiling the training step"


def test_batches_done_counts_the_first_batch_and_a_finished_run():
    history = RunHistory(IDS)
    assert history.batches_done == 0
    history.handle(events.RunStarted(IDS, 1, 64))
    # One batch: no Progress (no speed yet), but its training metric says it was trained.
    history.handle(events.Metric("baseline", 0, events.TRAIN, 0.7, 0.1))
    history.handle(events.Metric("baseline", 1, events.VALIDATION, 0.7, 0.1))  # the final score
    assert history.batches_done == 1
    history = RunHistory(IDS)
    history.handle(events.RunStarted(IDS, 800, 64))
    history.handle(events.TrainingBatchStatistics("baseline", 50, 0.6, 0.2, (1.0,) * 21))
    assert history.batches_done == 51
    history.handle(events.Progress(793, 800, 500.0, 1.0))
    assert history.batches_done == 793
    for variant in IDS:
        history.handle(events.VariantFinished(variant, events.DONE, 0.9, 0.9, 0.9, 10.0))
    history.handle(events.RunFinished(events.DONE, 10.0))
    assert history.batches_done == 800
    # Stopped: what was trained, not the plan.
    history.reset(IDS)
    history.handle(events.RunStarted(IDS, 800, 64))
    history.handle(events.Progress(300, 800, 500.0, 1.0))
    for variant in IDS:
        history.handle(events.VariantFinished(variant, events.STOPPED, np.nan, np.nan, np.nan, 3.0))
    history.handle(events.RunFinished(events.STOPPED, 3.0))
    assert history.batches_done == 300


def test_the_training_steps_own_loss_is_a_series():
    history = RunHistory(IDS)
    history.handle(events.TrainingBatchStatistics("baseline", 0, 0.7, 0.1, (1.0,) * 21))
    history.handle(events.TrainingBatchStatistics("baseline", 25, 0.5, 0.3, (1.0,) * 21))
    batches, loss = history.variants["baseline"].training_mode_loss()
    np.testing.assert_array_equal(batches, [0, 25])
    np.testing.assert_array_equal(loss, [0.7, 0.5])
