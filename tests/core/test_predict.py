"""Tests for bngui.core.predict and the shipped models."""

import numpy as np
import pytest

from bngui.core.predict import (
    Predictor,
    as_image_batch,
    predict_digits,
    predicted_digit,
    softmax,
    uses_batch_statistics,
)
from bngui.resource_files import SHIPPED_MODEL_IDS, shipped_models_dir

MAX_SHIPPED_BYTES = 5 * 1024 * 1024


def test_softmax_sums_to_one_and_keeps_the_order():
    logits = np.array([[1.0, 3.0, -2.0, 1000.0], [0.0, 0.0, 0.0, 0.0]])
    probabilities = softmax(logits)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-6)
    assert probabilities[0].argmax() == 3 and np.isfinite(probabilities).all()
    np.testing.assert_allclose(probabilities[1], 0.25)


def test_image_batches_accept_every_digit_layout():
    digit = np.zeros((28, 28), np.float32)
    assert as_image_batch(digit).shape == (1, 28, 28, 1)
    assert as_image_batch(digit[:, :, None]).shape == (1, 28, 28, 1)
    assert as_image_batch(np.stack([digit] * 3)).shape == (3, 28, 28, 1)
    assert as_image_batch(np.zeros((2, 28, 28, 1))).dtype == np.float32
    with pytest.raises(ValueError, match="28x28"):
        as_image_batch(np.zeros((27, 28)))


def test_predicted_digit_is_the_top_score():
    assert predicted_digit([0.1, 0.0, 0.7, 0.2]) == (2, pytest.approx(0.7))


def test_only_batch_normalized_variants_use_batch_statistics():
    assert uses_batch_statistics("keras-conv-bn-relu", True)
    assert uses_batch_statistics("nn-conv-relu-bn", True)
    assert not uses_batch_statistics("baseline", True)
    assert not uses_batch_statistics("keras-conv-bn-relu", False)


def test_the_shipped_models_are_there_and_small():
    folder = shipped_models_dir()
    files = {path.name: path.stat().st_size for path in folder.glob("*.keras")}
    assert sorted(files) == sorted(f"{variant_id}.keras" for variant_id in SHIPPED_MODEL_IDS)
    assert sum(files.values()) <= MAX_SHIPPED_BYTES


def test_compiled_and_eager_predictions_agree(mnist, shipped_models):
    images = mnist.test_images[:8]
    compiled = Predictor().probabilities(shipped_models, images)
    eager = Predictor(compile=False).probabilities(shipped_models, images)
    assert list(compiled) == list(shipped_models)
    for variant_id in shipped_models:
        assert compiled[variant_id].shape == (8, 10)
        np.testing.assert_allclose(compiled[variant_id], eager[variant_id], atol=1e-5)
        np.testing.assert_allclose(compiled[variant_id].sum(axis=1), 1.0, rtol=1e-5)
    # One digit in, ten scores out; the combined graph gives the same numbers.
    predictor = Predictor()
    predictor.prepare(shipped_models)
    assert predictor.is_prepared(shipped_models)
    single = predictor.probabilities(shipped_models, images[0, :, :, 0])
    for variant_id in shipped_models:
        np.testing.assert_allclose(single[variant_id], compiled[variant_id][0], atol=1e-5)
    assert predict_digits(shipped_models, images[0])["keras-conv-bn-relu"].shape == (10,)

    # Without tracing, untraced models answer eagerly with the same numbers.
    fresh = Predictor()
    untraced = fresh.probabilities(shipped_models, images, trace=False)
    assert not fresh._functions  # nothing was traced
    for variant_id in shipped_models:
        np.testing.assert_allclose(untraced[variant_id], compiled[variant_id], atol=1e-5)


def test_shipped_batch_normalized_model_reaches_95_percent(mnist, shipped_models):
    model = {"keras-conv-bn-relu": shipped_models["keras-conv-bn-relu"]}
    predictor = Predictor()
    predicted = np.concatenate([
        predictor.logits(model, mnist.test_images[start:start + 2000])["keras-conv-bn-relu"].argmax(axis=1)
        for start in range(0, len(mnist.test_labels), 2000)
    ])
    accuracy = float(np.mean(predicted == mnist.test_labels))
    print(f"\nshipped keras-conv-bn-relu: test accuracy {accuracy:.4f} on {len(predicted)} images")
    assert accuracy >= 0.95


def _non_trainable(model):
    return [weight.numpy().copy() for weight in model.non_trainable_weights]


@pytest.mark.parametrize("compile", [True, False], ids=["compiled", "eager"])
def test_batch_statistics_change_bn_outputs_and_leave_the_models_alone(mnist, shipped_models, compile):
    from bngui.core.models import build_model

    # Tracing graphs is the slow part: the compiled run skips the baseline.
    models = dict(shipped_models) if not compile else {
        "keras-conv-bn-relu": shipped_models["keras-conv-bn-relu"]
    }
    # A low-level BN model whose population statistics are not the initial
    # zeros and ones, so a missed restore would show (and its inference
    # output is not all zeros).
    low_level = build_model("nn-conv-bn-relu")
    for weight in low_level.non_trainable_weights:
        value = -0.5 if "mean" in weight.name else 2.0
        weight.assign(np.full(weight.shape, value, np.float32))
    models["nn-conv-bn-relu"] = low_level
    before = {variant_id: _non_trainable(model) for variant_id, model in models.items()}

    predictor = Predictor(compile=compile)
    seven, two = mnist.test_images[0, :, :, 0], mnist.test_images[1, :, :, 0]
    correct = predictor.logits(models, seven)
    buggy = predictor.logits(models, seven, batch_statistics=True)
    buggy_two = predictor.logits(models, two, batch_statistics=True)

    if "baseline" in models:  # no BN: the toggle does not touch it
        np.testing.assert_allclose(buggy["baseline"], correct["baseline"], atol=1e-5)
    for variant_id in ("keras-conv-bn-relu", "nn-conv-bn-relu"):
        assert np.abs(buggy[variant_id] - correct[variant_id]).max() > 1e-2, variant_id
    # Over one image the last BN layer sees zero variance: the answer no longer
    # depends on the drawing, so the trained model collapses.
    assert correct["keras-conv-bn-relu"].argmax() == 7
    np.testing.assert_allclose(buggy["keras-conv-bn-relu"], buggy_two["keras-conv-bn-relu"], atol=1e-4)
    assert softmax(buggy["keras-conv-bn-relu"]).max() < 0.5

    for variant_id, model in models.items():
        for old, new in zip(before[variant_id], _non_trainable(model)):
            np.testing.assert_array_equal(old, new)
    # And inference afterwards is exactly what it was.
    again = predictor.logits(models, seven)
    for variant_id in models:
        np.testing.assert_allclose(again[variant_id], correct[variant_id], atol=1e-6)


def test_a_graph_per_model_is_not_taken_for_retracing(caplog):
    """Tracing one graph for each of many models gives no retracing warning, and each
    model's graph is traced once however often and with whatever batch it is called."""
    import logging

    from bngui.core.tf_runtime import keras

    models = {
        f"model{index}": keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                                           keras.layers.Dense(10)])
        for index in range(7)
    }
    predictor = Predictor()
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for model in models.values():
            predictor.prepare_model(model)
        for size in (1, 3, 8):
            predictor.probabilities(models, np.zeros((size, 28, 28, 1), np.float32))
        predictor.prepare(models)
    assert not [record for record in caplog.records if "retracing" in record.getMessage()]
    assert len(predictor._functions) == len(models)
