"""Tests of bngui.core.models: the 19-convolution network of every variant.

Expected figures (sizes, parameter counts, multiply-adds) are derived here from
the architecture in SPEC.md, not copied from what the code computes.
"""

import math

import numpy as np
import pytest

from bngui.core import models
from bngui.core.layers import FusedBatchNormalization, LowLevelBatchNorm, LowLevelConv2D
from bngui.core.tf_runtime import keras
from bngui.core.variants import EXTRA_VARIANTS, NOTEBOOK_VARIANT_IDS, get_variant

CONV_NUMBERS = range(1, 20)
BN_TYPES = (keras.layers.BatchNormalization, LowLevelBatchNorm)
CONV_TYPES = (keras.layers.Conv2D, LowLevelConv2D)

# Which variants have a bias on their convolutions (SPEC.md, "The variants";
# the notebook's low-level convolution, used by baseline-nn, has none).
CONV_BIAS = {
    "baseline": True,
    "baseline-nn": False,
    "keras-conv-bn-relu": False,
    "keras-convbias-bn-relu": True,
    "keras-convbias-relu-bn": True,
    "keras-conv-relu-bn": False,
    "nn-conv-bn-relu": False,
    "nn-convbias-bn-relu": True,
    "nn-convbias-relu-bn": True,
    "nn-conv-relu-bn": False,
}
BN_BEFORE_RELU = {
    "keras-conv-bn-relu": True,
    "keras-convbias-bn-relu": True,
    "keras-convbias-relu-bn": False,
    "keras-conv-relu-bn": False,
    "nn-conv-bn-relu": True,
    "nn-convbias-bn-relu": True,
    "nn-convbias-relu-bn": False,
    "nn-conv-relu-bn": False,
}
BASELINES = ("baseline", "baseline-nn")


def expected_spatial_sizes():
    """Output side of each conv layer: 'same' padding, stride 2 on every third layer."""
    side, sizes = 28, []
    for number in CONV_NUMBERS:
        if number % 3 == 0:
            side = math.ceil(side / 2)
        sizes.append(side)
    return sizes


def channels(number):
    return 1 if number == 0 else 4 * number


@pytest.fixture(scope="module")
def built():
    """Every variant built once for the whole module."""
    return {variant_id: models.build_model(variant_id) for variant_id in NOTEBOOK_VARIANT_IDS}


def layer_names(model):
    return [layer.name for layer in model.layers]


def test_catalogue_has_the_ten_variants():
    assert set(NOTEBOOK_VARIANT_IDS) == set(CONV_BIAS)
    assert len(NOTEBOOK_VARIANT_IDS) == 10


def test_spatial_sizes_follow_the_spec():
    # A sanity check of the helper itself against SPEC.md's chain 28→14→7→4→2→1→1.
    sizes = expected_spatial_sizes()
    assert sizes[0] == 28
    assert [sizes[n - 1] for n in (3, 6, 9, 12, 15, 18, 19)] == [14, 7, 4, 2, 1, 1, 1]


@pytest.mark.parametrize("variant_id", NOTEBOOK_VARIANT_IDS)
def test_conv_layers(built, variant_id):
    model = built[variant_id]
    convs = [layer for layer in model.layers if isinstance(layer, CONV_TYPES)]
    assert [conv.name for conv in convs] == [f"conv{n}" for n in CONV_NUMBERS]
    expected_type = LowLevelConv2D if get_variant(variant_id).low_level else keras.layers.Conv2D
    sizes = expected_spatial_sizes()
    for number, conv in zip(CONV_NUMBERS, convs):
        assert isinstance(conv, expected_type), conv.name
        strides = conv.strides if isinstance(conv.strides, int) else conv.strides[0]
        assert strides == (2 if number in (3, 6, 9, 12, 15, 18) else 1), conv.name
        assert tuple(conv.kernel.shape) == (3, 3, channels(number - 1), 4 * number), conv.name
        side = sizes[number - 1]
        assert tuple(conv.output.shape) == (None, side, side, 4 * number), conv.name
        has_bias = conv.bias is not None
        assert has_bias == CONV_BIAS[variant_id], conv.name
    # The last map is 1x1x76.
    assert tuple(convs[-1].output.shape) == (None, 1, 1, 76)


@pytest.mark.parametrize("variant_id", NOTEBOOK_VARIANT_IDS)
def test_batch_norm_layers_and_order(built, variant_id):
    model = built[variant_id]
    names = layer_names(model)
    bns = [layer for layer in model.layers if isinstance(layer, BN_TYPES)]
    if variant_id in BASELINES:
        assert bns == []
        for number in CONV_NUMBERS:
            at = names.index(f"conv{number}")
            assert isinstance(model.layers[at + 1], keras.layers.ReLU)
        return
    assert len(bns) == 19 + 1
    # Keras's layer, computed with the fused kernel; the tf.nn variants keep the notebook's ops.
    bn_type = LowLevelBatchNorm if variant_id.startswith("nn-") else FusedBatchNormalization
    assert all(type(bn) is bn_type for bn in bns)
    if bn_type is FusedBatchNormalization:
        assert all(isinstance(bn, keras.layers.BatchNormalization) for bn in bns)
        assert all(bn.momentum == pytest.approx(0.99) and bn.epsilon == pytest.approx(1e-3)
                   for bn in bns)
    else:
        assert all(bn.decay == pytest.approx(0.99) and bn.epsilon == pytest.approx(1e-3)
                   for bn in bns)
    for number in CONV_NUMBERS:
        at = names.index(f"conv{number}")
        following = model.layers[at + 1 : at + 3]
        if BN_BEFORE_RELU[variant_id]:
            assert isinstance(following[0], BN_TYPES), f"conv{number} → {following[0].name}"
            assert isinstance(following[1], keras.layers.ReLU)
        else:
            assert isinstance(following[0], keras.layers.ReLU), f"conv{number} → {following[0].name}"
            assert isinstance(following[1], BN_TYPES)
        # Statistics per feature map.
        bn = following[0] if BN_BEFORE_RELU[variant_id] else following[1]
        assert tuple(bn.gamma.shape) == (4 * number,)


@pytest.mark.parametrize("variant_id", NOTEBOOK_VARIANT_IDS)
def test_dense_layers(built, variant_id):
    model = built[variant_id]
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert len(dense) == 2
    hidden, output = dense
    assert tuple(hidden.kernel.shape) == (76, 100)
    assert tuple(output.kernel.shape) == (100, 10)
    assert output.use_bias
    names = layer_names(model)
    after_hidden = model.layers[names.index(hidden.name) + 1 :]
    if variant_id in BASELINES:
        assert hidden.use_bias
        assert isinstance(after_hidden[0], keras.layers.ReLU)
    else:
        # dense without bias → BN → ReLU, whatever the convolution placement.
        assert not hidden.use_bias
        assert isinstance(after_hidden[0], BN_TYPES)
        assert isinstance(after_hidden[1], keras.layers.ReLU)
    assert after_hidden[-1] is output


@pytest.mark.parametrize("variant_id", NOTEBOOK_VARIANT_IDS)
def test_logits_shape(built, variant_id):
    model = built[variant_id]
    assert tuple(model.input_shape) == (None, 28, 28, 1)
    assert tuple(model.output_shape) == (None, 10)
    logits = model(np.zeros((2, 28, 28, 1), np.float32), training=False)
    assert tuple(logits.shape) == (2, 10)


def expected_parameters(variant_id):
    """(trainable, non-trainable) parameters from the architecture formula."""
    has_bn = variant_id not in BASELINES
    trainable = non_trainable = 0
    for number in CONV_NUMBERS:
        cin, cout = channels(number - 1), channels(number)
        trainable += 9 * cin * cout + (cout if CONV_BIAS[variant_id] else 0)
        if has_bn:
            trainable += 2 * cout  # gamma, beta
            non_trainable += 2 * cout  # moving / population mean and variance
    trainable += 76 * 100 + (0 if has_bn else 100)
    if has_bn:
        trainable += 2 * 100
        non_trainable += 2 * 100
    trainable += 100 * 10 + 10
    return trainable, non_trainable


def count(variables):
    return sum(int(np.prod(variable.shape)) for variable in variables)


@pytest.mark.parametrize("variant_id", NOTEBOOK_VARIANT_IDS)
def test_parameter_counts(built, variant_id):
    model = built[variant_id]
    trainable, non_trainable = expected_parameters(variant_id)
    assert count(model.trainable_weights) == trainable
    assert count(model.non_trainable_weights) == non_trainable
    assert model.count_params() == trainable + non_trainable


def test_parameter_counts_differ_as_expected():
    # Conv biases add sum(4i) = 760 parameters; BN adds 4 per channel.
    base, _ = expected_parameters("baseline")
    nn_base, _ = expected_parameters("baseline-nn")
    assert base - nn_base == sum(4 * n for n in CONV_NUMBERS) == 760


def test_multiply_adds_per_image(built):
    sizes = expected_spatial_sizes()
    expected = sum(
        sizes[n - 1] ** 2 * 9 * channels(n - 1) * channels(n) for n in CONV_NUMBERS
    ) + 76 * 100 + 100 * 10
    assert expected == 3_332_984  # SPEC.md: 3.33 M multiply-adds per image
    for variant_id, model in built.items():
        assert models.multiply_adds_per_image(model) == expected, variant_id


def test_build_model_accepts_a_variant_object_and_rejects_unknown_ids():
    from bngui.core.variants import UnknownVariantError

    model = models.build_model(get_variant("baseline-nn"))
    assert model.name == "baseline_nn"
    assert isinstance(model.get_layer("conv1"), LowLevelConv2D)
    with pytest.raises(UnknownVariantError):
        models.build_model("no-such-variant")


# -- the variants beyond the notebook's ten ------------------------------------------


@pytest.mark.parametrize("variant", EXTRA_VARIANTS, ids=lambda variant: variant.id)
def test_extra_variants_have_their_twins_network(built, variant):
    model, twin = models.build_model(variant), built[variant.twin_of]
    assert [layer.name for layer in model.layers] == layer_names(twin)
    assert [w.shape for w in model.weights] == [w.shape for w in twin.weights]
    assert variant.id.startswith(variant.twin_of)


def test_frozen_stats_variant_never_moves_its_population_statistics():
    model = models.build_model("keras-conv-bn-relu-frozen-stats")
    images = np.random.default_rng(0).uniform(size=(16, 28, 28, 1)).astype(np.float32)
    model(images, training=True)
    bn = model.get_layer("bn1")
    np.testing.assert_array_equal(bn.moving_mean.numpy(), 0.0)
    np.testing.assert_array_equal(bn.moving_variance.numpy(), 1.0)


def test_batch_stats_variant_scores_each_batch_with_its_own_statistics():
    model = models.build_model("keras-conv-bn-relu-batch-stats")
    images = np.random.default_rng(0).uniform(size=(8, 28, 28, 1)).astype(np.float32)
    together = model(images, training=False).numpy()
    alone = model(images[:1], training=False).numpy()
    # In inference a correct BN model gives an image the same output alone or in
    # a batch; this one does not, because the batch's statistics normalize it.
    assert not np.allclose(together[:1], alone, atol=1e-3)
    # Its outputs in inference equal those in training on the same batch.
    np.testing.assert_allclose(model(images, training=True).numpy(), together, atol=1e-4)


def test_nonlinearity_inputs_model_has_one_output_per_relu(built):
    from bngui.core.layer_names import NONLINEAR_LAYERS

    probe = models.nonlinearity_inputs_model(built["keras-conv-relu-bn"])
    outputs = probe(np.zeros((2, 28, 28, 1), np.float32))
    assert len(outputs) == len(NONLINEAR_LAYERS)
    assert outputs[0].shape == (2, 28, 28, 4) and outputs[-1].shape == (2, 100)
