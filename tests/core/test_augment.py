"""Tests for bngui.core.augment: random training changes, in TensorFlow ops only."""

import math

import numpy as np
import pytest
from scipy import ndimage

from bngui.core import augment
from bngui.core.augment import augment_batch
from bngui.core.tf_runtime import tf

SIZE = 28
CENTRE = (SIZE - 1) / 2
SEED = tf.constant([4, 2], tf.int64)

# Every change off; a test turns on the one it checks.
NOTHING = {
    "rotation_degrees": 0.0,
    "shear_degrees": 0.0,
    "scale_range": (1.0, 1.0),
    "shift_pixels": 0.0,
    "stroke_change_range": (0.0, 0.0),
    "elastic_pixels": 0.0,
}


def only(**changes):
    return {**NOTHING, **changes}


def batch_of(image, count):
    return np.repeat(np.asarray(image, np.float32)[None, :, :, None], count, axis=0)


def centre_block():
    """A 2x2 block of ink at the field's centre (centre of mass 13.5, 13.5)."""
    image = np.zeros((SIZE, SIZE), np.float32)
    image[13:15, 13:15] = 1.0
    return image


def horizontal_bar(length=16):
    image = np.zeros((SIZE, SIZE), np.float32)
    start = (SIZE - length) // 2
    image[13:15, start : start + length] = 1.0
    return image


def centres_of_mass(batch):
    images = batch[..., 0].astype(np.float64)
    total = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) @ np.arange(SIZE)) / total
    cols = (images.sum(axis=1) @ np.arange(SIZE)) / total
    return rows, cols


def column_spread(batch):
    """Standard deviation of each image's ink along the columns (grows with its width)."""
    images = batch[..., 0].astype(np.float64).sum(axis=1)
    cols = np.arange(SIZE)
    mean = (images @ cols) / images.sum(axis=1)
    return np.sqrt((images * (cols - mean[:, None]) ** 2).sum(axis=1) / images.sum(axis=1))


def orientations_degrees(batch):
    """Angle of each image's principal axis from the horizontal (second moments)."""
    angles = []
    for image in batch[..., 0].astype(np.float64):
        rows, cols = np.mgrid[:SIZE, :SIZE]
        total = image.sum()
        mean_row, mean_col = (image * rows).sum() / total, (image * cols).sum() / total
        row_var = (image * (rows - mean_row) ** 2).sum()
        col_var = (image * (cols - mean_col) ** 2).sum()
        covariance = (image * (rows - mean_row) * (cols - mean_col)).sum()
        angles.append(math.degrees(0.5 * math.atan2(2 * covariance, col_var - row_var)))
    return np.array(angles)


@pytest.fixture(scope="module")
def digits():
    """Digit-like strokes: a few bars and rings, 64 images."""
    rng = np.random.default_rng(0)
    rows, cols = np.mgrid[:SIZE, :SIZE]
    images = []
    for _ in range(64):
        centre = rng.uniform(10, 18, 2)
        radius = rng.uniform(4, 8)
        ring = np.clip(1.5 - np.abs(np.hypot(rows - centre[0], cols - centre[1]) - radius), 0, 1)
        images.append(ring)
    return np.stack(images)[..., None].astype(np.float32)


def test_shape_dtype_and_range_are_kept(digits):
    out = augment_batch(digits, SEED).numpy()
    assert out.shape == digits.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert not np.allclose(out, digits, atol=0.05)


def test_everything_off_is_the_identity(digits):
    np.testing.assert_allclose(augment_batch(digits, SEED, **NOTHING).numpy(), digits, atol=1e-6)


def test_the_same_seed_gives_the_same_batch_and_another_seed_another(digits):
    first = augment_batch(digits, SEED).numpy()
    np.testing.assert_array_equal(first, augment_batch(digits, SEED).numpy())
    as_int32 = augment_batch(digits, tf.constant([4, 2], tf.int32)).numpy()
    np.testing.assert_array_equal(first, as_int32)
    assert not np.allclose(first, augment_batch(digits, tf.constant([4, 3], tf.int64)).numpy())
    # Each image gets its own change: equal inputs come out different.
    same = augment_batch(batch_of(horizontal_bar(), 8), SEED).numpy()
    assert not np.allclose(same[0], same[1])


def test_shifts_stay_within_range():
    out = augment_batch(batch_of(centre_block(), 200), SEED, **only(shift_pixels=2.0)).numpy()
    rows, cols = centres_of_mass(out)
    shift_rows, shift_cols = rows - CENTRE, cols - CENTRE
    assert np.abs(shift_rows).max() <= 2.0 + 1e-4 and np.abs(shift_cols).max() <= 2.0 + 1e-4
    assert np.abs(shift_rows).max() > 1.5 and np.abs(shift_cols).max() > 1.5  # the range is used


def test_all_changes_together_keep_the_centre_within_shift_and_elastic_range():
    out = augment_batch(batch_of(centre_block(), 200), SEED).numpy()
    rows, cols = centres_of_mass(out)
    bound = augment.SHIFT_PIXELS + augment.ELASTIC_PIXELS
    assert np.abs(rows - CENTRE).max() <= bound and np.abs(cols - CENTRE).max() <= bound
    assert out.sum(axis=(1, 2, 3)).min() > 0  # the ink never leaves the field


def test_rotations_stay_within_range():
    limit = augment.ROTATION_DEGREES
    bars = batch_of(horizontal_bar(), 200)
    out = augment_batch(bars, SEED, **only(rotation_degrees=limit)).numpy()
    angles = orientations_degrees(out)
    assert np.abs(angles).max() <= limit + 0.5
    assert angles.min() < -0.7 * limit and angles.max() > 0.7 * limit


def test_shear_tilts_a_vertical_bar_within_range():
    limit = augment.SHEAR_DEGREES
    bar = horizontal_bar().T
    out = augment_batch(batch_of(bar, 200), SEED, **only(shear_degrees=limit)).numpy()
    tilts = 90 - np.abs(orientations_degrees(out))
    assert tilts.max() <= limit + 0.5 and tilts.max() > 0.7 * limit


def test_scaling_stays_within_range():
    low, high = augment.SCALE_RANGE
    bars = batch_of(horizontal_bar(), 200)
    out = augment_batch(bars, SEED, **only(scale_range=(low, high))).numpy()
    ratios = column_spread(out) / column_spread(batch_of(horizontal_bar(), 1))
    assert ratios.min() >= low - 0.03 and ratios.max() <= high + 0.03
    assert ratios.min() < low + 0.05 and ratios.max() > high - 0.05


def test_elastic_distortion_moves_ink_by_at_most_its_range():
    limit = augment.ELASTIC_PIXELS
    out = augment_batch(batch_of(centre_block(), 200), SEED, **only(elastic_pixels=limit)).numpy()
    rows, cols = centres_of_mass(out)
    moved = np.hypot(rows - CENTRE, cols - CENTRE)
    assert moved.max() <= limit * math.sqrt(2) + 1e-4
    assert moved.max() > 0.3 * limit
    # A smooth field: a bar bends, it is not torn apart.
    bars = augment_batch(batch_of(horizontal_bar(), 50), SEED, **only(elastic_pixels=limit))
    for bar in bars.numpy()[..., 0]:
        assert ndimage.label(bar > 0.3, structure=np.ones((3, 3)))[1] == 1


def test_stroke_changes_make_strokes_thicker_or_thinner(digits):
    mass = digits.sum(axis=(1, 2, 3))
    thicker = augment_batch(digits, SEED, **only(stroke_change_range=(0.5, 1.0))).numpy()
    thinner = augment_batch(digits, SEED, **only(stroke_change_range=(-0.5, -0.25))).numpy()
    assert (thicker.sum(axis=(1, 2, 3)) > 1.2 * mass).all()
    assert (thinner.sum(axis=(1, 2, 3)) < 0.9 * mass).all()
    assert (thinner.sum(axis=(1, 2, 3)) > 0.2 * mass).all()  # thinner, not erased


def test_one_trace_serves_every_batch_size_and_seed(digits):
    function = tf.function(
        augment_batch,
        input_signature=[
            tf.TensorSpec([None, SIZE, SIZE, 1], tf.float32),
            tf.TensorSpec([2], tf.int64),
        ],
    )
    for count in (1, 7, 64, 3):
        for seed in ([1, 2], [3, 4]):
            out = function(tf.constant(digits[:count]), tf.constant(seed, tf.int64))
            assert out.shape == (count, SIZE, SIZE, 1)
    assert function.experimental_get_tracing_count() == 1
    # The graph gives what the eager call gives (up to float rounding).
    np.testing.assert_allclose(
        function(tf.constant(digits), SEED).numpy(), augment_batch(digits, SEED).numpy(), atol=1e-5
    )


def test_ranges_are_documented_constants():
    assert augment.ROTATION_DEGREES > 0 and augment.SHEAR_DEGREES > 0
    assert augment.SCALE_RANGE[0] < 1 < augment.SCALE_RANGE[1]
    assert augment.STROKE_CHANGE_RANGE[0] < 0 < augment.STROKE_CHANGE_RANGE[1]
    names = ["ROTATION_DEGREES", "SHEAR_DEGREES", "SCALE_RANGE", "SHIFT_PIXELS"]
    names += ["STROKE_CHANGE_RANGE", "ELASTIC_PIXELS"]
    for name in names:
        assert f"``{name}``" in augment.__doc__
