"""Tests of bngui.core.bn_statistics: population statistics, their lag, precise BN.

Most tests use a small model built here (conv → BN → ReLU → dense → BN) whose
training-mode forward pass is also written out in numpy, so every statistic
can be checked against an independent computation. A few run on bngui's
19-conv network, and one trains on the real MNIST.
"""

import gc
import weakref

import numpy as np
import pytest

from bngui.core import bn_statistics
from bngui.core.bn_statistics import (
    MultiModelLag,
    batch_norm_layers,
    batch_norm_probe,
    population_lag,
    population_statistics,
    precise_batch_indices,
    precise_bn_model,
    precise_statistics,
    set_population_statistics,
    with_statistics,
)
from bngui.core.layers import BatchStatisticsBatchNorm, LowLevelBatchNorm
from bngui.core.models import build_model
from bngui.core.tf_runtime import keras, tf

EPSILON = 1e-3
SMALL_SHAPE = (6, 6, 2)
BN_KINDS = ("keras", "low-level", "batch-statistics")


def small_bn(kind, name):
    if kind == "keras":
        return keras.layers.BatchNormalization(momentum=0.9, epsilon=EPSILON, name=name)
    if kind == "low-level":
        return LowLevelBatchNorm(decay=0.9, epsilon=EPSILON, name=name)
    return BatchStatisticsBatchNorm(momentum=0.9, epsilon=EPSILON, name=name)


def small_model(kind, seed=0):
    """conv → BN → ReLU → dense → BN, with non-trivial gamma, beta and population statistics."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(SMALL_SHAPE, name="image")
    x = keras.layers.Conv2D(3, 3, padding="same", use_bias=False, name="conv")(inputs)
    x = small_bn(kind, "bn_conv")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(4, use_bias=False, name="dense")(x)
    outputs = small_bn(kind, "bn_dense")(x)
    model = keras.Model(inputs, outputs, name=f"small_{kind.replace('-', '_')}")
    rng = np.random.default_rng(seed)
    for layer in batch_norm_layers(model):
        features = layer.features
        layer.layer.gamma.assign(rng.uniform(0.5, 2.0, features).astype(np.float32))
        layer.layer.beta.assign(rng.normal(0.0, 1.0, features).astype(np.float32))
        layer.set_population_statistics(
            rng.normal(0.0, 1.0, features), rng.uniform(0.5, 3.0, features)
        )
    return model


def small_images(count, seed=1):
    rng = np.random.default_rng(seed)
    # Per-channel offsets and scales, so the statistics are not those of a unit normal.
    return (rng.normal(size=(count, *SMALL_SHAPE)) * [1.0, 3.0] + [0.5, -2.0]).astype(np.float32)


def reference_moments(model, images):
    """Per BN layer, the moments of its input in a training-mode forward pass written in numpy."""
    bn_conv = model.get_layer("bn_conv")
    x = model.get_layer("conv")(images).numpy().astype(np.float64)  # a stateless Keras conv
    conv_mean, conv_variance = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    normalized = (x - conv_mean) / np.sqrt(conv_variance + EPSILON)
    x = np.maximum(normalized * bn_conv.gamma.numpy() + bn_conv.beta.numpy(), 0.0)
    z = x.reshape(len(images), -1) @ model.get_layer("dense").kernel.numpy().astype(np.float64)
    return {"bn_conv": (conv_mean, conv_variance), "bn_dense": (z.mean(axis=0), z.var(axis=0))}


def snapshot(model):
    return [np.array(weight.numpy()) for weight in model.weights]


def assert_same_weights(model, saved):
    assert len(model.weights) == len(saved)
    for weight, before in zip(model.weights, saved):
        np.testing.assert_array_equal(weight.numpy(), before, err_msg=weight.path)


# -- finding the BN layers ---------------------------------------------------------------


@pytest.mark.parametrize("kind", BN_KINDS)
def test_batch_norm_layers_read_and_write_uniformly(kind):
    model = small_model(kind)
    layers = batch_norm_layers(model)
    assert [layer.name for layer in layers] == ["bn_conv", "bn_dense"]
    assert [layer.features for layer in layers] == [3, 4]
    assert all(layer.decay == pytest.approx(0.9) for layer in layers)
    assert all(layer.epsilon == pytest.approx(EPSILON) for layer in layers)
    mean, variance = np.arange(3.0), np.arange(3.0) + 1.5
    layers[0].set_population_statistics(mean, variance)
    statistics = population_statistics(model)
    np.testing.assert_array_equal(statistics["bn_conv"][0], mean.astype(np.float32))
    np.testing.assert_array_equal(statistics["bn_conv"][1], variance.astype(np.float32))
    assert statistics["bn_conv"][0].dtype == np.float32
    with pytest.raises(ValueError, match="3 features"):
        layers[0].set_population_statistics(np.zeros(4), np.ones(4))
    layers[1].decay = 0.5
    attribute = "decay" if kind == "low-level" else "momentum"
    assert getattr(model.get_layer("bn_dense"), attribute) == 0.5


def test_models_without_or_with_unreachable_batch_norm():
    inputs = keras.Input((5,))
    plain = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    assert batch_norm_layers(plain) == []
    assert population_lag(plain, np.zeros((4, 5), np.float32)).variance_ratio.shape == (0,)
    assert precise_statistics(plain, np.zeros((8, 5), np.float32), batch_size=4, batches=2) == {}
    copy = precise_bn_model(plain, np.zeros((8, 5), np.float32), batch_size=4, batches=2)
    assert copy is not plain
    for ours, theirs in zip(copy.weights, plain.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())

    inner = keras.Sequential([keras.Input((5,)), keras.layers.BatchNormalization()], name="inner")
    outer = keras.Sequential([keras.Input((5,)), inner, keras.layers.Dense(2)], name="outer")
    with pytest.raises(ValueError, match="nested model inner"):
        batch_norm_layers(outer)


def test_statistics_must_name_exactly_the_batch_norm_layers():
    model = small_model("keras")
    statistics = population_statistics(model)
    with pytest.raises(ValueError, match="missing: \\['bn_dense'\\]"):
        set_population_statistics(model, {"bn_conv": statistics["bn_conv"]})
    with pytest.raises(ValueError, match="conv"):
        with_statistics(model, {**statistics, "conv": statistics["bn_conv"]})


# -- precise BN --------------------------------------------------------------------------


def test_precise_batch_indices_are_shuffled_passes_and_deterministic():
    indices = precise_batch_indices(30, 8, batches=5, seed=3)
    assert indices.shape == (5, 8)
    # Three whole batches per pass over 30 images; within a pass no image repeats.
    assert len(set(indices[:3].ravel())) == 24
    assert len(set(indices[3:].ravel())) == 16
    np.testing.assert_array_equal(indices, precise_batch_indices(30, 8, batches=5, seed=3))
    assert not np.array_equal(indices, precise_batch_indices(30, 8, batches=5, seed=4))
    for count, batch_size, batches in [(30, 1, 5), (30, 8, 0), (7, 8, 1)]:
        with pytest.raises(ValueError):
            precise_batch_indices(count, batch_size, batches)


@pytest.mark.parametrize("kind", BN_KINDS)
def test_precise_statistics_are_the_mean_of_the_batch_moments(kind):
    model = small_model(kind)
    images = small_images(30)
    statistics = precise_statistics(model, images, batch_size=8, batches=5, seed=3)

    batches = precise_batch_indices(30, 8, batches=5, seed=3)
    per_batch = [reference_moments(model, images[batch]) for batch in batches]
    assert list(statistics) == ["bn_conv", "bn_dense"]
    for name, (mean, variance) in statistics.items():
        expected_mean = np.mean([moments[name][0] for moments in per_batch], axis=0)
        expected_variance = np.mean([moments[name][1] for moments in per_batch], axis=0)
        assert mean.dtype == variance.dtype == np.float32
        np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(variance, expected_variance, rtol=1e-5, atol=1e-5, err_msg=name)
    # Not the EMA, nor the pooled variance of all the batches' images.
    pooled_variance = reference_moments(model, images[batches.ravel()])["bn_dense"][1]
    assert np.abs(statistics["bn_dense"][1] - pooled_variance).max() > 1e-3


@pytest.mark.parametrize("kind", BN_KINDS)
def test_precise_bn_changes_no_weight_and_copies_the_rest_exactly(kind):
    model = small_model(kind)
    images = small_images(40)
    saved = snapshot(model)
    statistics = precise_statistics(model, images, batch_size=8, batches=4)
    assert_same_weights(model, saved)

    copy = with_statistics(model, statistics)
    assert_same_weights(model, saved)
    assert copy is not model
    assert [layer.name for layer in copy.layers] == [layer.name for layer in model.layers]
    for layer in batch_norm_layers(copy):
        mean, variance = layer.population_statistics()
        np.testing.assert_array_equal(mean, statistics[layer.name][0])
        np.testing.assert_array_equal(variance, statistics[layer.name][1])
        assert layer.decay == pytest.approx(0.9)
    statistic_paths = {
        variable.path
        for layer in batch_norm_layers(copy)
        for variable in (layer.mean_variable, layer.variance_variable)
    }
    assert len(statistic_paths) == 4
    for ours, original, before in zip(copy.weights, model.weights, saved):
        assert ours is not original
        if ours.path not in statistic_paths:
            np.testing.assert_array_equal(ours.numpy(), before, err_msg=ours.path)

    # The convenience does the same; the copy is independent of the original.
    again = precise_bn_model(model, images, batch_size=8, batches=4)
    for name, (mean, variance) in population_statistics(again).items():
        np.testing.assert_array_equal(mean, statistics[name][0])
        np.testing.assert_array_equal(variance, statistics[name][1])
    again.get_layer("conv").kernel.assign(np.zeros((3, 3, 2, 3), np.float32))
    assert_same_weights(model, saved)


# -- the lag -----------------------------------------------------------------------------


def set_statistics_from(model, images, transform):
    """Give each BN layer population statistics derived from ``images``' own moments."""
    moments = reference_moments(model, images)
    set_population_statistics(
        model, {name: transform(mean, variance) for name, (mean, variance) in moments.items()}
    )
    return moments


@pytest.mark.parametrize("kind", BN_KINDS)
def test_lag_is_one_and_zero_when_the_statistics_agree(kind):
    model = small_model(kind)
    probe = small_images(16)
    set_statistics_from(model, probe, lambda mean, variance: (mean, variance))
    lag = population_lag(model, probe)
    np.testing.assert_allclose(lag.variance_ratio, [1.0, 1.0], rtol=0, atol=1e-5)
    np.testing.assert_allclose(lag.mean_shift, [0.0, 0.0], rtol=0, atol=1e-4)


@pytest.mark.parametrize("kind", BN_KINDS)
def test_lag_tracks_known_scalings_and_shifts(kind):
    model = small_model(kind)
    probe = small_images(16)
    # The variance the layer divides by (variance + eps) times k, the mean moved by c
    # standard deviations (different c per feature: the shift is their RMS).
    k, c = {"bn_conv": 4.0, "bn_dense": 0.5}, {"bn_conv": [1.0, -1.0, 2.0], "bn_dense": 0.3}
    moments = reference_moments(model, probe)
    set_population_statistics(
        model,
        {
            name: (mean + np.asarray(c[name]) * np.sqrt(variance + EPSILON),
                   k[name] * (variance + EPSILON) - EPSILON)
            for name, (mean, variance) in moments.items()
        },
    )
    lag = population_lag(model, probe)
    np.testing.assert_allclose(lag.variance_ratio, [4.0, 0.5], rtol=1e-5)
    np.testing.assert_allclose(lag.mean_shift, [np.sqrt(2.0), 0.3], rtol=1e-4)

    # Any statistics: the documented per-layer aggregates of the per-feature lag.
    rng = np.random.default_rng(7)
    population = {
        name: (rng.normal(size=len(mean)), rng.uniform(0.1, 5.0, len(mean)))
        for name, (mean, _) in moments.items()
    }
    set_population_statistics(model, population)
    lag = population_lag(model, probe)
    for index, (name, (mean, variance)) in enumerate(moments.items()):
        population_mean, population_variance = population[name]
        ratio = np.exp(np.mean(np.log((population_variance + EPSILON) / (variance + EPSILON))))
        shift = np.sqrt(np.mean((population_mean - mean) ** 2 / (variance + EPSILON)))
        assert lag.variance_ratio[index] == pytest.approx(ratio, rel=1e-4)
        assert lag.mean_shift[index] == pytest.approx(shift, rel=1e-4)


@pytest.mark.parametrize("kind", BN_KINDS)
def test_measuring_changes_nothing_and_traces_once(kind):
    model = small_model(kind)
    saved, saved_statistics = snapshot(model), population_statistics(model)
    probe = batch_norm_probe(model)
    assert batch_norm_probe(model) is probe
    for count in (5, 9, 16):
        population_lag(model, small_images(count, seed=count))
    precise_statistics(model, small_images(40), batch_size=8, batches=3)
    precise_statistics(model, small_images(40), batch_size=5, batches=2, seed=1)
    assert probe.lag_function.experimental_get_tracing_count() == 1
    assert probe.moments_function.experimental_get_tracing_count() == 1
    assert_same_weights(model, saved)
    # Not vacuous: a plain training-mode call does move the statistics.
    model(small_images(16), training=True)
    moved = population_statistics(model)["bn_conv"][1]
    assert np.abs(moved - saved_statistics["bn_conv"][1]).max() > 1e-3


def test_lag_of_several_models_in_one_graph_and_inside_a_callers_function():
    models = [small_model(kind, seed=index) for index, kind in enumerate(BN_KINDS)]
    inputs = keras.Input(SMALL_SHAPE)
    models.append(keras.Model(inputs, keras.layers.Flatten()(inputs)))  # no BN at all
    saved = [snapshot(model) for model in models]
    lags = MultiModelLag(models)
    for count in (7, 16):
        probe = small_images(count)
        together = lags(probe)
        for model, lag in zip(models, together):
            alone = population_lag(model, probe)
            np.testing.assert_allclose(lag.variance_ratio, alone.variance_ratio, rtol=1e-6)
            np.testing.assert_allclose(lag.mean_shift, alone.mean_shift, rtol=1e-6, atol=1e-7)
    assert together[-1].variance_ratio.shape == (0,)
    assert lags.function.experimental_get_tracing_count() == 1

    probes = [batch_norm_probe(model) for model in models[:2]]

    @tf.function(input_signature=[tf.TensorSpec([None, *SMALL_SHAPE], tf.float32)])
    def callers_function(images):
        return [tf.stack(probe.lag_outputs(images)) for probe in probes]

    for model, stacked in zip(models, callers_function(probe)):
        np.testing.assert_allclose(stacked[0].numpy(), population_lag(model, probe).variance_ratio,
                                   rtol=1e-6)
    for model, before in zip(models, saved):
        assert_same_weights(model, before)


def test_the_probe_cache_does_not_keep_a_model_alive():
    gc.collect()
    cached = len(bn_statistics._probes)
    model = small_model("keras")
    population_lag(model, small_images(4))
    assert len(bn_statistics._probes) == cached + 1
    reference = weakref.ref(model)
    del model
    gc.collect()
    assert reference() is None
    assert len(bn_statistics._probes) <= cached


# -- bngui's 19-conv network ---------------------------------------------------------------

BN_NAMES = [f"bn{number}" for number in range(1, 20)] + ["bn_fc"]


@pytest.mark.parametrize("variant_id", ["keras-conv-bn-relu", "nn-conv-relu-bn"])
def test_the_real_network(variant_id):
    keras.utils.set_random_seed(0)
    model = build_model(variant_id)
    layers = batch_norm_layers(model)
    assert [layer.name for layer in layers] == BN_NAMES
    images = np.random.default_rng(0).uniform(size=(32, 28, 28, 1)).astype(np.float32)
    saved = snapshot(model)

    statistics = precise_statistics(model, images, batch_size=16, batches=2)
    lag = population_lag(model, images[:16])
    assert_same_weights(model, saved)

    # Independently: a copy run eagerly in training mode, with numpy moments of each BN input.
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    bn_inputs = keras.Model(copy.inputs[0], [copy.get_layer(name).input for name in BN_NAMES])
    per_batch = [
        [np.asarray(x, np.float64) for x in bn_inputs(images[batch], training=True)]
        for batch in precise_batch_indices(32, 16, batches=2)
    ]
    for index, name in enumerate(BN_NAMES):
        axes = tuple(range(per_batch[0][index].ndim - 1))
        mean = np.mean([inputs[index].mean(axis=axes) for inputs in per_batch], axis=0)
        variance = np.mean([inputs[index].var(axis=axes) for inputs in per_batch], axis=0)
        np.testing.assert_allclose(statistics[name][0], mean, rtol=1e-4, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(statistics[name][1], variance, rtol=1e-4, atol=1e-6,
                                   err_msg=name)
    # A new model starts from variance 1, far above its first layer's input variance.
    first = np.asarray(bn_inputs(images[:16], training=True)[0], np.float64)
    true_variance = first.var(axis=(0, 1, 2))
    assert lag.variance_ratio[0] == pytest.approx(
        np.exp(np.mean(np.log((1 + EPSILON) / (true_variance + EPSILON)))), rel=1e-3
    )
    assert lag.variance_ratio[0] > 10


# -- the decay setting ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "variant_id, expected",
    [
        ("keras-conv-bn-relu", 0.9),
        ("nn-conv-bn-relu", 0.9),
        ("keras-conv-bn-relu-batch-stats", 0.9),
        ("keras-conv-bn-relu-frozen-stats", 1.0),
    ],
)
def test_the_decay_setting_reaches_every_layer(variant_id, expected):
    model = build_model(variant_id, bn_decay=0.9)
    layers = batch_norm_layers(model)
    assert len(layers) == 20
    assert all(layer.decay == expected for layer in layers)
    assert all(layer.epsilon == pytest.approx(EPSILON) for layer in layers)
    # It also takes effect: one training step moves the statistics by 1 - decay.
    images = np.random.default_rng(1).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    (batch_mean, _), *_ = batch_norm_probe(model).batch_moments(images)
    model(images, training=True)
    np.testing.assert_allclose(
        layers[0].population_statistics()[0], (1 - expected) * batch_mean.numpy(), atol=1e-7
    )


@pytest.mark.parametrize("variant_id", ["keras-conv-bn-relu", "nn-conv-bn-relu", "baseline"])
def test_the_default_decay_builds_the_same_model(variant_id):
    keras.utils.set_random_seed(3)
    default = build_model(variant_id)
    keras.utils.set_random_seed(3)
    explicit = build_model(variant_id, bn_decay=0.99)
    assert default.get_config() == explicit.get_config()
    assert_same_weights(explicit, snapshot(default))
    assert all(layer.decay == 0.99 for layer in batch_norm_layers(default))


@pytest.mark.parametrize("bad", [0, 1, 1.0, -0.5, 1.5, float("nan")])
def test_the_decay_must_be_between_0_and_1(bad):
    with pytest.raises(ValueError, match="between 0 and 1"):
        build_model("keras-conv-bn-relu", bn_decay=bad)


@pytest.mark.parametrize("bad", ["0.9", None, True])
def test_the_decay_must_be_a_number(bad):
    with pytest.raises(TypeError, match="number"):
        build_model("nn-conv-bn-relu", bn_decay=bad)


# -- real data -------------------------------------------------------------------------------

TRAIN_BATCHES = 150


@pytest.mark.mnist
def test_precise_bn_removes_the_lag_of_a_young_low_level_model(mnist):
    """nn-conv-bn-relu after 150 batches: good weights, population statistics far behind."""
    keras.utils.set_random_seed(0)
    model = build_model("nn-conv-bn-relu")
    optimizer = keras.optimizers.Adam(learning_rate=0.002, epsilon=1e-8)
    optimizer.build(model.trainable_variables)

    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28, 1]), tf.TensorSpec([None], tf.int32)])
    def train_step(images, labels):
        with tf.GradientTape() as tape:
            logits = model(images, training=True)
            targets = tf.one_hot(labels, 10)
            loss = tf.reduce_mean(
                tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
            )
        variables = model.trainable_variables
        optimizer.apply(tape.gradient(loss, variables), variables)

    probe = mnist.validation_images[:64]
    lag_at_start = population_lag(model, probe)
    batches = precise_batch_indices(len(mnist.train_labels), 64, TRAIN_BATCHES, seed=0)
    for batch in batches:
        train_step(mnist.train_images[batch], mnist.train_labels[batch].astype(np.int32))
    lag_trained = population_lag(model, probe)
    precise = precise_bn_model(model, mnist.train_images, batch_size=64, batches=100, seed=1)
    lag_precise = population_lag(precise, probe)

    def validation_accuracy(scored):
        images, labels = mnist.validation_images[:2000], mnist.validation_labels[:2000]
        predicted = np.argmax(scored.predict(images, batch_size=500, verbose=0), axis=1)
        return float(np.mean(predicted == labels))

    ema_accuracy, precise_accuracy = validation_accuracy(model), validation_accuracy(precise)
    # The first layer's population variance starts far above its input's variance and
    # decays towards it by 1% a batch: still far off after 150 batches, but closer.
    assert lag_at_start.variance_ratio[0] > 100
    assert 2 < lag_trained.variance_ratio[0] < lag_at_start.variance_ratio[0] / 2
    # Precise BN agrees with the probe batch (up to the probe's own sampling noise) ...
    assert np.all(np.abs(np.log(lag_precise.variance_ratio)) < np.log(1.25))
    assert np.all(lag_precise.mean_shift < 0.3)
    # ... and is not worse than the EMA; here it is far better (the weights are good).
    assert precise_accuracy >= ema_accuracy - 0.01
    assert precise_accuracy > 0.5, (ema_accuracy, precise_accuracy)
