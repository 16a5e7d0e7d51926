"""A digit drawn on the canvas must reach the models in MNIST's own form.

MNIST test digits are drawn large on a canvas-sized image, as a pen would
draw them: the digit is enlarged 6-11 times with smooth (bilinear)
interpolation and placed anywhere it fits, then its outline at half
intensity becomes a stroke with an anti-aliased edge a few canvas pixels
wide (a pen on the canvas draws crisp strokes, not a blurred photo). A second
pass uses a heavier pen (strokes thickened by taking the outline at 35%).
Each goes through the canvas's preprocessing (``to_mnist``); the shipped
batch-normalized model must keep at least 97% of the accuracy it has on the
same digits at their original 28x28.
"""

import numpy as np
import pytest

from bngui.core.preprocess import to_mnist
from bngui.gui.canvas_widget import CANVAS_PIXELS  # the size a drawing really has

pytestmark = pytest.mark.mnist

SAMPLES = 1000
BN_MODEL = "keras-conv-bn-relu"
REQUIRED_SHARE = 0.97
EDGE_SLOPE = 4.0  # ink goes from 0 to 1 over a quarter of an MNIST pixel's grey range


def _upscale(images, size):
    """Bilinear enlargement of (N, 28, 28) images to (N, size, size), pixel-centre aligned."""
    source = images.shape[1]
    positions = (np.arange(size) + 0.5) * source / size - 0.5
    low = np.clip(np.floor(positions).astype(int), 0, source - 1)
    high = np.clip(low + 1, 0, source - 1)
    weight = np.clip(positions - low, 0.0, 1.0).astype(np.float32)
    rows = images[:, low, :] * (1 - weight)[None, :, None] + images[:, high, :] * weight[None, :, None]
    return rows[:, :, low] * (1 - weight)[None, None, :] + rows[:, :, high] * weight[None, None, :]


def draw_on_canvases(images, rng, outline=0.5, canvas=CANVAS_PIXELS):
    """Each 28x28 digit as pen strokes 6-11x its size, anywhere on a blank canvas."""
    canvases = np.zeros((len(images), canvas, canvas), np.float32)
    sizes = rng.integers(6, 12, len(images)) * 28
    for size in np.unique(sizes):
        chosen = np.flatnonzero(sizes == size)
        large = _upscale(images[chosen], size)
        strokes = np.clip((large - outline) * EDGE_SLOPE + 0.5, 0.0, 1.0)
        for index, image in zip(chosen, strokes):
            top, left = rng.integers(0, canvas - size + 1, 2)
            canvases[index, top:top + size, left:left + size] = image
    return canvases


@pytest.mark.parametrize("pen, outline", [("MNIST-width", 0.5), ("thicker", 0.35)])
def test_canvas_preprocessing_keeps_the_models_accuracy(mnist, shipped_models, pen, outline):
    from bngui.core.predict import Predictor

    rng = np.random.default_rng(0)
    chosen = rng.choice(len(mnist.test_labels), SAMPLES, replace=False)
    originals = mnist.test_images[chosen, :, :, 0]
    labels = mnist.test_labels[chosen]

    canvases = draw_on_canvases(originals, rng, outline)
    through_canvas = np.stack([to_mnist(canvas) for canvas in canvases])

    model = {BN_MODEL: shipped_models[BN_MODEL]}
    predictor = Predictor(compile=False)
    direct = predictor.logits(model, originals)[BN_MODEL].argmax(axis=1)
    drawn = predictor.logits(model, through_canvas)[BN_MODEL].argmax(axis=1)
    direct_accuracy = float(np.mean(direct == labels))
    drawn_accuracy = float(np.mean(drawn == labels))
    print(f"\n{SAMPLES} MNIST test digits, {pen} pen: 28x28 accuracy {direct_accuracy:.4f},"
          f" drawn on the canvas and preprocessed {drawn_accuracy:.4f}"
          f" ({drawn_accuracy / direct_accuracy:.1%} of it)")
    assert direct_accuracy > 0.9
    assert drawn_accuracy >= REQUIRED_SHARE * direct_accuracy

