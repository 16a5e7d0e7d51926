"""Tests of bngui.core.layers: the low-level batch normalization and convolution.

LowLevelBatchNorm is compared with Keras's BatchNormalization (momentum 0.99,
epsilon 1e-3) and with numpy; LowLevelConv2D with Keras's Conv2D;
FusedBatchNormalization (Keras's layer on the fused kernel) with Keras's own.
"""

import numpy as np
import pytest

from bngui.core.layers import FusedBatchNormalization, LowLevelBatchNorm, LowLevelConv2D
from bngui.core.models import build_model
from bngui.core.tf_runtime import keras, tf

DECAY = 0.99
EPSILON = 1e-3


def make_pair(shape, rng):
    """A LowLevelBatchNorm and a Keras BatchNormalization with equal, non-trivial state."""
    features = shape[-1]
    low = LowLevelBatchNorm()
    high = keras.layers.BatchNormalization(momentum=DECAY, epsilon=EPSILON)
    low.build(shape)
    high.build(shape)
    state = {
        "gamma": rng.uniform(0.5, 2.0, features).astype(np.float32),
        "beta": rng.normal(0.0, 1.0, features).astype(np.float32),
        "mean": rng.normal(0.0, 1.0, features).astype(np.float32),
        "variance": rng.uniform(0.5, 3.0, features).astype(np.float32),
    }
    low.gamma.assign(state["gamma"])
    low.beta.assign(state["beta"])
    low.pop_mean.assign(state["mean"])
    low.pop_variance.assign(state["variance"])
    high.gamma.assign(state["gamma"])
    high.beta.assign(state["beta"])
    high.moving_mean.assign(state["mean"])
    high.moving_variance.assign(state["variance"])
    return low, high, state


def normalize(x, mean, variance, gamma, beta):
    return (x - mean) / np.sqrt(variance + EPSILON) * gamma + beta


SHAPES = {
    "conv": ((16, 5, 5, 6), (0, 1, 2)),
    "dense": ((32, 7), (0,)),
}


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_training_call_matches_keras_and_numpy(kind):
    shape, axes = SHAPES[kind]
    rng = np.random.default_rng(1)
    low, high, state = make_pair(shape, rng)
    # Per-feature offsets and scales, so per-feature moments differ from per-layer ones.
    x = (rng.normal(size=shape) * rng.uniform(0.5, 3.0, shape[-1])
         + rng.normal(0, 2, shape[-1])).astype(np.float32)

    low_out = low(x, training=True).numpy()
    high_out = high(x, training=True).numpy()

    batch_mean = x.astype(np.float64).mean(axis=axes)
    batch_variance = x.astype(np.float64).var(axis=axes)
    expected = normalize(x, batch_mean, batch_variance, state["gamma"], state["beta"])
    np.testing.assert_allclose(low_out, high_out, atol=1e-5, rtol=0)
    np.testing.assert_allclose(low_out, expected, atol=1e-5, rtol=0)

    # Population statistics: pop = pop*0.99 + batch*0.01, per feature.
    expected_mean = state["mean"] * DECAY + batch_mean * (1 - DECAY)
    expected_variance = state["variance"] * DECAY + batch_variance * (1 - DECAY)
    np.testing.assert_allclose(low.pop_mean.numpy(), high.moving_mean.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        low.pop_variance.numpy(), high.moving_variance.numpy(), atol=1e-5, rtol=0
    )
    np.testing.assert_allclose(low.pop_mean.numpy(), expected_mean, atol=1e-5, rtol=0)
    np.testing.assert_allclose(low.pop_variance.numpy(), expected_variance, atol=1e-5, rtol=0)
    # The update really moved them (the check above is not vacuous).
    assert np.abs(low.pop_mean.numpy() - state["mean"]).max() > 1e-3
    # gamma and beta are not touched by a forward pass.
    np.testing.assert_array_equal(low.gamma.numpy(), state["gamma"])
    np.testing.assert_array_equal(low.beta.numpy(), state["beta"])


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_inference_call_uses_population_statistics(kind):
    shape, _ = SHAPES[kind]
    rng = np.random.default_rng(2)
    low, high, state = make_pair(shape, rng)
    x = (rng.normal(size=shape) * 2 + 1).astype(np.float32)

    low_out = low(x, training=False).numpy()
    high_out = high(x, training=False).numpy()
    expected = normalize(x, state["mean"], state["variance"], state["gamma"], state["beta"])
    np.testing.assert_allclose(low_out, high_out, atol=1e-5, rtol=0)
    np.testing.assert_allclose(low_out, expected, atol=1e-5, rtol=0)
    # Inference leaves the population statistics alone.
    np.testing.assert_array_equal(low.pop_mean.numpy(), state["mean"])
    np.testing.assert_array_equal(low.pop_variance.numpy(), state["variance"])
    # The default call is inference.
    np.testing.assert_array_equal(low(x).numpy(), low_out)


def test_several_training_calls_track_keras():
    shape = (8, 4, 4, 3)
    rng = np.random.default_rng(3)
    low, high, state = make_pair(shape, rng)
    mean, variance = state["mean"].astype(np.float64), state["variance"].astype(np.float64)
    for _ in range(5):
        x = (rng.normal(size=shape) * 3 + 2).astype(np.float32)
        low(x, training=True)
        high(x, training=True)
        mean = mean * DECAY + x.mean(axis=(0, 1, 2)) * (1 - DECAY)
        variance = variance * DECAY + x.var(axis=(0, 1, 2)) * (1 - DECAY)
    np.testing.assert_allclose(low.pop_mean.numpy(), mean, atol=1e-5, rtol=0)
    np.testing.assert_allclose(low.pop_variance.numpy(), variance, atol=1e-5, rtol=0)
    np.testing.assert_allclose(low.pop_mean.numpy(), high.moving_mean.numpy(), atol=1e-5, rtol=0)
    np.testing.assert_allclose(
        low.pop_variance.numpy(), high.moving_variance.numpy(), atol=1e-5, rtol=0
    )


def test_new_layer_starts_like_the_notebook():
    layer = LowLevelBatchNorm()
    layer.build((None, 5))
    np.testing.assert_array_equal(layer.gamma.numpy(), np.ones(5))
    np.testing.assert_array_equal(layer.beta.numpy(), np.zeros(5))
    np.testing.assert_array_equal(layer.pop_mean.numpy(), np.zeros(5))
    np.testing.assert_array_equal(layer.pop_variance.numpy(), np.ones(5))
    trainable = {variable.name for variable in layer.trainable_weights}
    frozen = {variable.name for variable in layer.non_trainable_weights}
    assert trainable == {"gamma", "beta"}
    assert frozen == {"pop_mean", "pop_variance"}


# -- inference vs training in a whole model --------------------------------------


@pytest.mark.parametrize("variant_id", ["nn-conv-bn-relu", "keras-conv-bn-relu"])
def test_single_image_prediction_equals_its_row_in_a_batch(variant_id):
    rng = np.random.default_rng(4)
    keras.utils.set_random_seed(4)
    model = build_model(variant_id)
    for _ in range(3):
        model(rng.uniform(size=(64, 28, 28, 1)).astype(np.float32), training=True)
    images = rng.uniform(size=(100, 28, 28, 1)).astype(np.float32)

    batch = model(images, training=False).numpy()
    for index in (0, 37, 99):
        alone = model(images[index : index + 1], training=False).numpy()
        np.testing.assert_allclose(alone[0], batch[index], atol=1e-4, rtol=0)

    # In training mode the batch statistics normalize, so an image alone
    # (its own statistics) comes out differently from within the batch.
    batch_training = model(images, training=True).numpy()
    alone_training = model(images[37:38], training=True).numpy()
    assert np.abs(alone_training[0] - batch_training[37]).max() > 1e-2
    # And training mode differs from inference mode on the same batch.
    assert np.abs(batch_training - batch).max() > 1e-2


# -- LowLevelConv2D ---------------------------------------------------------------


def test_conv_initialisation_is_truncated_normal_0_05():
    keras.utils.set_random_seed(5)
    conv = LowLevelConv2D(128, 3, 1, use_bias=True)
    conv.build((None, 8, 8, 64))
    kernel = conv.kernel.numpy()
    assert kernel.shape == (3, 3, 64, 128)
    # A normal(0, 0.05) cut at two standard deviations has std 0.05 * 0.88.
    assert kernel.std() == pytest.approx(0.05 * 0.88, rel=0.03)
    assert abs(kernel.mean()) < 1e-3
    assert np.abs(kernel).max() <= 0.1 + 1e-7
    # Not a uniform or a tiny-variance init that happens to fit the bounds.
    assert np.abs(kernel).max() > 0.09
    np.testing.assert_array_equal(conv.bias.numpy(), np.zeros(128))
    no_bias = LowLevelConv2D(4, 3, 1, use_bias=False)
    no_bias.build((None, 8, 8, 2))
    assert no_bias.bias is None
    assert [variable.name for variable in no_bias.weights] == ["kernel"]


@pytest.mark.parametrize("side, strides, use_bias", [(28, 1, False), (28, 2, True), (7, 2, False),
                                                     (4, 2, True), (1, 1, True)])
def test_conv_output_equals_keras_conv2d(side, strides, use_bias):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, side, side, 5)).astype(np.float32)
    low = LowLevelConv2D(8, 3, strides, use_bias=use_bias)
    high = keras.layers.Conv2D(8, 3, strides, padding="same", use_bias=use_bias)
    low.build(x.shape)
    high.build(x.shape)
    kernel = rng.normal(size=(3, 3, 5, 8)).astype(np.float32)
    low.kernel.assign(kernel)
    high.kernel.assign(kernel)
    if use_bias:
        bias = rng.normal(size=8).astype(np.float32)
        low.bias.assign(bias)
        high.bias.assign(bias)
    low_out = low(x).numpy()
    high_out = high(x).numpy()
    expected_side = -(-side // strides)
    assert low_out.shape == (3, expected_side, expected_side, 8)
    assert tuple(low.compute_output_shape((None, side, side, 5))) == (
        None, expected_side, expected_side, 8
    )
    np.testing.assert_allclose(low_out, high_out, atol=1e-4, rtol=1e-5)


# -- FusedBatchNormalization --------------------------------------------------------


def fused_and_keras(shape, rng, momentum=DECAY):
    """A FusedBatchNormalization and a Keras BatchNormalization with equal, non-trivial state."""
    fused = FusedBatchNormalization(momentum=momentum, epsilon=EPSILON)
    plain = keras.layers.BatchNormalization(momentum=momentum, epsilon=EPSILON)
    fused.build(shape)
    plain.build(shape)
    for weight in range(4):
        value = rng.uniform(0.5, 2.0, shape[-1]).astype(np.float32)
        fused.weights[weight].assign(value)
        plain.weights[weight].assign(value)
    return fused, plain


FUSED_SHAPES = [(64, 7, 7, 12), (64, 1, 1, 76), (32, 100), (1, 100), (3, 4, 4, 2)]


@pytest.mark.parametrize("shape", FUSED_SHAPES)
def test_fused_training_matches_keras_outputs_gradients_and_statistics(shape):
    rng = np.random.default_rng(7)
    fused, plain = fused_and_keras(shape, rng)
    x = tf.constant((rng.normal(size=shape) * rng.uniform(0.5, 3.0, shape[-1])
                     + rng.normal(0, 2, shape[-1])).astype(np.float32))
    weights = rng.normal(size=shape).astype(np.float32)  # a loss whose gradient is not uniform

    def step(layer):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x, training=True)
            loss = tf.reduce_sum(outputs * weights + tf.square(outputs))
        return outputs, tape.gradient(loss, [x, layer.gamma, layer.beta])

    fused_out, fused_gradients = step(fused)
    plain_out, plain_gradients = step(plain)
    np.testing.assert_allclose(fused_out, plain_out, atol=1e-4, rtol=0)
    for mine, theirs in zip(fused_gradients, plain_gradients):
        np.testing.assert_allclose(mine, theirs, atol=1e-3, rtol=1e-4)
    # The population statistics move as Keras's do (the biased batch variance).
    for mine, theirs in zip(fused.non_trainable_weights, plain.non_trainable_weights):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-5, rtol=1e-5)
    assert np.abs(fused.moving_mean.numpy() - plain.moving_mean.numpy()).max() < 1e-5
    assert np.abs(fused.moving_mean.numpy() - fused_and_keras(shape, np.random.default_rng(7))[0]
                  .moving_mean.numpy()).max() > 1e-3  # they did move


@pytest.mark.parametrize("shape", FUSED_SHAPES[:3])
def test_fused_inference_and_frozen_layers_match_keras(shape):
    rng = np.random.default_rng(8)
    fused, plain = fused_and_keras(shape, rng)
    x = (rng.normal(size=shape) * 2 + 1).astype(np.float32)
    np.testing.assert_allclose(fused(x, training=False), plain(x, training=False), atol=1e-5)
    np.testing.assert_allclose(fused(x), plain(x), atol=1e-5)
    # Not trainable (Keras's fine-tuning convention): population statistics even in training.
    fused.trainable = plain.trainable = False
    np.testing.assert_allclose(fused(x, training=True), plain(x, training=True), atol=1e-5)
    for mine, theirs in zip(fused.non_trainable_weights, plain.non_trainable_weights):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_fused_layer_in_a_compiled_function_and_a_stateless_scope():
    rng = np.random.default_rng(9)
    fused, plain = fused_and_keras((16, 5, 5, 3), rng, momentum=0.9)
    x = (rng.normal(size=(16, 5, 5, 3)) * 3 + 2).astype(np.float32)
    compiled = tf.function(lambda images: fused(images, training=True))
    for _ in range(3):
        compiled(x)
        plain(x, training=True)
    np.testing.assert_allclose(fused.moving_variance.numpy(), plain.moving_variance.numpy(),
                               atol=1e-5)
    before = [weight.numpy() for weight in fused.weights]
    with keras.StatelessScope():
        fused(x, training=True)
    for weight, value in zip(fused.weights, before):
        np.testing.assert_array_equal(weight.numpy(), value)


def test_fused_layer_saves_and_loads_as_itself(tmp_path):
    rng = np.random.default_rng(10)
    model = build_model("keras-conv-bn-relu")
    images = rng.uniform(size=(8, 28, 28, 1)).astype(np.float32)
    model(images, training=True)
    model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert {type(layer) for layer in loaded.layers if "bn" in layer.name} == {FusedBatchNormalization}
    np.testing.assert_array_equal(loaded(images), model(images))
