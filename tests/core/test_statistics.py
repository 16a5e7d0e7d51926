"""The statistics a run collects (gradient norms, activation percentiles) and the
variants beyond the notebook's ten (the classic BN bugs, the learning-rate twins).

One real run on MNIST serves most tests: the two buggy twins of the recommended
Keras BN variant, 200 batches, scored on the first 2,000 validation and test
images. At batch 200 the BN network has left the loss plateau in training mode
(training-mode accuracy about 0.9 with seed 0), which is what the pitfalls need
to show their failure. The baseline against BN gradient test uses the trainer
tests' run of those two (tests/core/test_trainer.py).
"""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from bngui.core import events
from bngui.core.history import RunHistory
from bngui.core.layer_names import ACTIVATION_PERCENTILES, NONLINEAR_LAYERS, WEIGHT_LAYERS
from bngui.core.run_protocol import TRAIN_METRIC_EVERY, VALIDATION_EVERY
from bngui.core.settings import TrainSettings
from bngui.core.trainer import LockstepTrainer

FROZEN, BATCH_STATS = "keras-conv-bn-relu-frozen-stats", "keras-conv-bn-relu-batch-stats"
RUN_VARIANTS = [FROZEN, BATCH_STATS]
RUN_BATCHES = 200



@pytest.fixture(scope="module")
def statistics_run(mnist_scored_on_2000):
    trainer = LockstepTrainer(RUN_VARIANTS, mnist_scored_on_2000, TrainSettings(batches=RUN_BATCHES,
                                                                              precise_batches=50))
    history = RunHistory(RUN_VARIANTS)
    recorded = []

    def emit(event):
        recorded.append(event)
        history.handle(event)

    results = {record.variant: record for record in trainer.run(emit)}
    return SimpleNamespace(trainer=trainer, history=history, events=recorded, results=results)


def of_kind(run, kind, variant):
    return [e for e in run.events if isinstance(e, kind) and e.variant == variant]


@pytest.mark.mnist
def test_gradient_norms_have_one_finite_value_per_layer_every_25_batches(statistics_run):
    expected_batches = list(range(0, RUN_BATCHES, TRAIN_METRIC_EVERY))
    for variant in RUN_VARIANTS:
        batches, norms = statistics_run.history.variants[variant].gradient_matrix()
        assert batches.tolist() == expected_batches
        assert norms.shape == (len(expected_batches), len(WEIGHT_LAYERS))
        assert np.isfinite(norms).all() and (norms > 0).all(), variant
        step = of_kind(statistics_run, events.TrainingBatchStatistics, variant)
        assert all(0 <= record.accuracy <= 1 and math.isfinite(record.loss) for record in step)


@pytest.mark.mnist
def test_activation_percentiles_are_ordered_and_finite_at_the_validation_cadence(statistics_run):
    # Every 100 batches, and once more after the last batch, like the validation curve.
    expected_batches = list(range(0, RUN_BATCHES, VALIDATION_EVERY)) + [RUN_BATCHES]
    for variant in RUN_VARIANTS:
        record = statistics_run.history.variants[variant]
        for layer in NONLINEAR_LAYERS:
            batches, percentiles = record.activation_series(layer)
            assert batches.tolist() == expected_batches
            assert percentiles.shape == (len(expected_batches), len(ACTIVATION_PERCENTILES))
            assert np.isfinite(percentiles).all(), (variant, layer)
            assert (np.diff(percentiles, axis=1) >= 0).all(), (variant, layer)


@pytest.mark.mnist
def test_frozen_statistics_train_but_collapse_in_inference(statistics_run):
    step = of_kind(statistics_run, events.TrainingBatchStatistics, FROZEN)
    # In training mode (batch statistics) it learns like the correct variant ...
    assert step[-1].accuracy >= 0.6 and step[-1].accuracy >= step[0].accuracy + 0.4
    # ... but its population statistics are still the initial 0 and 1, so in
    # inference every score is at chance.
    result = statistics_run.results[FROZEN]
    print(f"frozen statistics: training mode {step[-1].accuracy:.2f}, {result}")
    assert result.validation_accuracy <= 0.3
    assert result.test_accuracy <= 0.3
    assert result.single_sample_accuracy <= 0.3
    bn1 = statistics_run.trainer.models[FROZEN].get_layer("bn1")
    np.testing.assert_array_equal(bn1.moving_mean.numpy(), 0.0)


@pytest.mark.mnist
def test_batch_statistics_at_inference_fail_only_one_image_at_a_time(statistics_run):
    step = of_kind(statistics_run, events.TrainingBatchStatistics, BATCH_STATS)
    assert step[-1].accuracy >= 0.6 and step[-1].accuracy >= step[0].accuracy + 0.4
    result = statistics_run.results[BATCH_STATS]
    print(f"batch statistics at inference: training mode {step[-1].accuracy:.2f}, {result}")
    # Scored in batches (validation, test, and the batch-of-64 training metric)
    # it looks fine; one image at a time it collapses: the notebook's check.
    assert result.validation_accuracy >= 0.8
    assert result.test_accuracy >= 0.8
    last_train = [e for e in of_kind(statistics_run, events.Metric, BATCH_STATS)
                  if e.split == events.TRAIN][-1]
    assert last_train.accuracy >= 0.6
    assert result.single_sample_accuracy <= 0.3
    assert result.test_accuracy - result.single_sample_accuracy >= 0.5


@pytest.mark.mnist
def test_twins_train_exactly_alike(statistics_run):
    # Both pitfalls share keras-conv-bn-relu's initial weights and batches; their
    # bugs only touch inference, so their training is the same.
    frozen = statistics_run.history.variants[FROZEN].step_loss
    batch_stats = statistics_run.history.variants[BATCH_STATS].step_loss
    np.testing.assert_allclose(frozen, batch_stats, rtol=1e-4)


def tiny_splits(seed=0):
    rng = np.random.default_rng(seed)
    images = lambda count: rng.uniform(size=(count, 28, 28, 1)).astype(np.float32)  # noqa: E731
    labels = lambda count: rng.integers(0, 10, count).astype(np.int32)  # noqa: E731
    return SimpleNamespace(
        train_images=images(256), train_labels=labels(256),
        validation_images=images(64), validation_labels=labels(64),
        test_images=images(16), test_labels=labels(16), source="random images",
    )


def test_learning_rate_twins_start_from_the_same_weights_at_ten_times_the_rate():
    trainer = LockstepTrainer(
        ["baseline", "baseline-lr10"], tiny_splits(), TrainSettings(learning_rate=0.002)
    )
    rates = trainer.learning_rates
    assert rates == pytest.approx({"baseline": 0.002, "baseline-lr10": 0.02})
    for mine, twins in zip(trainer.models["baseline-lr10"].weights, trainer.models["baseline"].weights):
        np.testing.assert_array_equal(mine.numpy(), twins.numpy())


def test_without_statistics_no_statistics_events_are_sent():
    trainer = LockstepTrainer(
        ["baseline"], tiny_splits(), TrainSettings(batches=2), collect_statistics=False
    )
    recorded = []
    trainer.run(recorded.append)
    kinds = {type(event) for event in recorded}
    assert events.Metric in kinds
    assert events.TrainingBatchStatistics not in kinds
    assert events.ActivationPercentiles not in kinds


@pytest.mark.mnist
def test_the_lag_of_the_population_statistics_is_measured_for_bn_variants(statistics_run):
    expected_batches = list(range(0, RUN_BATCHES, VALIDATION_EVERY)) + [RUN_BATCHES]
    for variant in RUN_VARIANTS:
        batches, ratios, shifts = statistics_run.history.variants[variant].lag_matrix()
        assert batches.tolist() == expected_batches
        assert ratios.shape == shifts.shape == (len(expected_batches), len(NONLINEAR_LAYERS))
        assert np.isfinite(ratios).all() and (ratios > 0).all() and (shifts >= 0).all()
    # Frozen statistics keep the initial variance of 1, far above the true variance of
    # the first layer's input: the ratio stays far from 1 to the end.
    _, frozen, _ = statistics_run.history.variants[FROZEN].lag_matrix()
    _, updated, _ = statistics_run.history.variants[BATCH_STATS].lag_matrix()
    assert frozen[-1, 0] > 10
    # Updated statistics catch up (slowly: after n batches the initial variance of 1
    # still weighs 0.99^n, 13% after 200), while the frozen ones do not move.
    assert updated[0, 0] > 10 and updated[-1, 0] < updated[0, 0] / 4
    assert frozen[-1, 0] > 3 * updated[-1, 0]


@pytest.mark.mnist
def test_precise_bn_repairs_statistics_that_were_never_updated(statistics_run):
    frozen = statistics_run.results[FROZEN]
    print(f"frozen statistics: EMA {frozen.validation_accuracy:.3f},"
          f" precise {frozen.precise_validation_accuracy:.3f}")
    assert frozen.validation_accuracy <= 0.3
    assert frozen.precise_validation_accuracy >= 0.8 and frozen.precise_test_accuracy >= 0.8
    # The trained model keeps its own (never updated) statistics.
    bn1 = statistics_run.trainer.models[FROZEN].get_layer("bn1")
    np.testing.assert_array_equal(bn1.moving_mean.numpy(), 0.0)
    np.testing.assert_array_equal(bn1.moving_variance.numpy(), 1.0)
    # The precise copy has the re-estimated ones, and scores as the run said.
    precise = statistics_run.trainer.precise_models()[FROZEN]
    assert not np.allclose(precise.get_layer("bn1").moving_variance.numpy(), 1.0)


def test_precise_statistics_are_the_mean_of_the_per_batch_moments():
    """The trainer's precise BN gives what bn_statistics computes for the same batches."""
    from bngui.core import bn_statistics

    data = tiny_splits(3)
    settings = TrainSettings(batches=3, batch_size=16, precise_batches=5)
    trainer = LockstepTrainer(["keras-conv-bn-relu", "baseline"], data, settings)
    trainer.run()
    model = trainer.models["keras-conv-bn-relu"]
    before = bn_statistics.population_statistics(model)
    mine = trainer.precise_statistics()
    direct = bn_statistics.precise_statistics(model, data.train_images, 16, batches=5, seed=0)
    assert list(mine) == ["keras-conv-bn-relu"]  # the baseline has no BN
    for name, (mean, variance) in direct.items():
        np.testing.assert_allclose(mine["keras-conv-bn-relu"][name][0], mean, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(mine["keras-conv-bn-relu"][name][1], variance, rtol=1e-5,
                                   atol=1e-7)
    after = bn_statistics.population_statistics(model)
    for name in before:
        np.testing.assert_array_equal(before[name][0], after[name][0])
        np.testing.assert_array_equal(before[name][1], after[name][1])


@pytest.mark.parametrize("variant", ["keras-conv-bn-relu", "nn-conv-bn-relu"])
def test_the_bn_decay_setting_reaches_the_layers(variant):
    from bngui.core import bn_statistics

    trainer = LockstepTrainer([variant], tiny_splits(), TrainSettings(batches=1, bn_decay=0.9))
    layers = bn_statistics.batch_norm_layers(trainer.models[variant])
    assert len(layers) == len(NONLINEAR_LAYERS)
    assert [layer.decay for layer in layers] == pytest.approx([0.9] * len(layers))
