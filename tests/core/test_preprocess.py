"""Tests for bngui.core.preprocess: drawings and image files made MNIST-like."""

import io
import itertools
import re
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from bngui.core import preprocess
from bngui.core.preprocess import (
    DIGIT_BOX,
    MNIST_SIZE,
    MNIST_STROKE_RANGE,
    ImageError,
    center_of_mass,
    digit_mask,
    ink_from_image,
    load_image_file,
    measure_stroke_width,
    preprocess_file,
    to_mnist,
)

CENTRE = (MNIST_SIZE - 1) / 2  # 13.5 in pixel-centre coordinates


# ---------------------------------------------------------------- drawing helpers


def stroke(shape, start, end, width):
    """Canvas with one thick, anti-aliased straight stroke from start to end.

    Points are (row, col). Edges ramp over one pixel, as a painter's
    anti-aliased pen does.
    """
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    start = np.asarray(start, dtype=np.float64)
    direction = np.asarray(end, dtype=np.float64) - start
    length_squared = max(direction @ direction, 1e-12)
    along = ((rows - start[0]) * direction[0] + (cols - start[1]) * direction[1]) / length_squared
    along = np.clip(along, 0.0, 1.0)
    nearest_row = start[0] + along * direction[0]
    nearest_col = start[1] + along * direction[1]
    distance = np.hypot(rows - nearest_row, cols - nearest_col)
    return np.clip(width / 2 - distance + 0.5, 0.0, 1.0).astype(np.float32)


def ring(shape, centre, radius, width):
    """Canvas with an anti-aliased circle outline."""
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    distance = np.abs(np.hypot(rows - centre[0], cols - centre[1]) - radius)
    return np.clip(width / 2 - distance + 0.5, 0.0, 1.0).astype(np.float32)


def disk(shape, centre, radius):
    """Canvas with an anti-aliased filled disk."""
    rows, cols = np.mgrid[: shape[0], : shape[1]].astype(np.float64)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    return np.clip(radius - distance + 0.5, 0.0, 1.0).astype(np.float32)


def seven(shape=(300, 300), top=40, left=60, size=200, width=18):
    """A digit 7: a top bar and a long diagonal, drawn with a thick pen."""
    bar = stroke(shape, (top, left), (top, left + 0.7 * size), width)
    leg = stroke(shape, (top, left + 0.7 * size), (top + size, left + 0.25 * size), width)
    return np.maximum(bar, leg)


def assert_centred(digit, tolerance=0.5):
    row, col = center_of_mass(digit)
    assert abs(row - CENTRE) <= tolerance, f"centre of mass row {row:.3f}"
    assert abs(col - CENTRE) <= tolerance, f"centre of mass col {col:.3f}"


def ink_box(digit, threshold=0.05):
    """(height, width) of the bounding box of pixels brighter than threshold."""
    rows = np.flatnonzero((digit > threshold).any(axis=1))
    cols = np.flatnonzero((digit > threshold).any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def ink_extent(digit):
    """(height, width) of the ink as the sum of the row / column maxima.

    A sub-pixel shift can spread a 20 px digit over 21 pixel cells with faint
    end cells; this measure does not grow under such a shift (nor under area
    averaging), so "at most 20" checks the 20 px box exactly. For a solid
    block of full-strength ink it equals the block's size.
    """
    return float(digit.max(axis=1).sum()), float(digit.max(axis=0).sum())


# ---------------------------------------------------------------- to_mnist


def test_output_is_28x28_float32_in_unit_range():
    canvas = seven() * 3.0 - 0.5  # out-of-range values are clipped, not an error
    digit = to_mnist(canvas)
    assert digit.shape == (MNIST_SIZE, MNIST_SIZE)
    assert digit.dtype == np.float32
    assert digit.min() >= 0.0 and digit.max() <= 1.0
    assert digit.max() > 0.9


def test_centred_blob_stays_centred_and_symmetric():
    digit = to_mnist(disk((200, 200), (100, 100), 60))
    assert_centred(digit, tolerance=1e-3)
    np.testing.assert_allclose(digit, digit.T, atol=1e-5)
    np.testing.assert_allclose(digit, digit[::-1, ::-1], atol=1e-5)


def test_stroke_in_a_corner_is_centred():
    corner = stroke((300, 300), (15, 20), (110, 60), width=16)
    digit = to_mnist(corner)
    assert_centred(digit)
    # Where it was drawn does not matter: the same stroke mid-canvas gives the same digit.
    middle = stroke((300, 300), (115, 130), (210, 170), width=16)
    np.testing.assert_allclose(digit, to_mnist(middle), atol=1e-5)


def test_drawn_seven_is_centred():
    assert_centred(to_mnist(seven()))


# A block 50 px wide is a very fat stroke, which the stroke-width step thins on
# purpose; the recipe's own geometry is checked with that step off
# (stroke_width=None), and the full pipeline's effect separately.


def test_tall_rectangle_keeps_its_aspect_ratio():
    canvas = np.zeros((300, 300), dtype=np.float32)
    canvas[50:250, 100:150] = 1.0  # 200 tall, 50 wide
    height, width = ink_box(to_mnist(canvas, stroke_width=None))
    assert abs(height - 20) <= 1
    assert abs(width - 5) <= 1


def test_tall_rectangle_is_thinned_to_a_stroke_but_stays_twenty_tall():
    canvas = np.zeros((300, 300), dtype=np.float32)
    canvas[50:250, 100:150] = 1.0
    digit = to_mnist(canvas)
    height, width = ink_box(digit)
    assert abs(height - 20) <= 1
    assert width < 5
    assert_centred(digit)


def test_wide_rectangle_is_the_transpose_of_the_tall_one():
    canvas = np.zeros((300, 300), dtype=np.float32)
    canvas[50:250, 100:150] = 1.0
    wide = to_mnist(canvas.T, stroke_width=None)
    height, width = ink_box(wide)
    assert abs(height - 5) <= 1
    assert abs(width - 20) <= 1
    np.testing.assert_allclose(wide, to_mnist(canvas, stroke_width=None).T, atol=1e-6)


@pytest.mark.parametrize(
    "canvas",
    [
        seven(),
        seven(shape=(400, 400), top=5, left=5, size=390, width=30),
        stroke((12, 9), (2, 2), (9, 6), width=2),  # tiny drawing: enlarged to 20 px
    ],
    ids=["seven", "big seven", "tiny stroke"],
)
def test_longer_side_is_twenty_pixels(canvas):
    digit = to_mnist(canvas)
    assert abs(max(ink_box(digit)) - DIGIT_BOX) <= 1
    # Thin strokes average to grey, so the extent may fall short of 20, never exceed it.
    assert max(ink_extent(digit)) <= DIGIT_BOX + 1e-4


@pytest.mark.parametrize(
    "canvas",
    [stroke((300, 300), (20, 30), (270, 250), width=14), ring((300, 300), (150, 150), 100, 20)],
    ids=["diagonal", "circle"],
)
def test_grey_levels_are_kept(canvas):
    digit = to_mnist(canvas)
    assert np.any((digit > 0.05) & (digit < 0.95))


def test_area_averaging_of_a_solid_block_is_exact():
    canvas = np.zeros((400, 400), dtype=np.float32)
    canvas[100:300, 100:300] = 1.0  # 200x200 -> exactly 20x20 of full ink
    digit = to_mnist(canvas, stroke_width=None)  # a solid block is no stroke: recipe only
    np.testing.assert_allclose(digit[4:24, 4:24], 1.0, atol=1e-5)
    assert digit.sum() == pytest.approx(400.0, abs=1e-3)
    assert ink_extent(digit) == pytest.approx((20.0, 20.0), abs=1e-4)


@pytest.mark.parametrize(
    "canvas",
    [
        np.zeros((300, 300), dtype=np.float32),
        np.zeros((300, 300), dtype=np.uint8),
        np.random.default_rng(0).random((300, 300), dtype=np.float32) * 0.019,
        np.random.default_rng(1).integers(0, 6, (300, 300), dtype=np.uint8),  # <= 5/255
    ],
    ids=["zeros", "zeros uint8", "faint noise", "faint noise uint8"],
)
def test_empty_canvas_is_not_a_digit(canvas):
    assert to_mnist(canvas) is None


def test_ink_threshold_is_adjustable():
    faint = np.random.default_rng(0).random((50, 50), dtype=np.float32) * 0.019
    assert to_mnist(faint) is None
    assert to_mnist(faint, ink_threshold=0.01) is not None


def test_uint8_float32_and_float64_give_the_same_digit():
    as_uint8 = np.round(seven() * 255).astype(np.uint8)
    as_float = as_uint8.astype(np.float32) / 255
    expected = to_mnist(as_float)
    np.testing.assert_allclose(to_mnist(as_uint8), expected, atol=1e-6)
    np.testing.assert_allclose(to_mnist(as_float.astype(np.float64)), expected, atol=1e-6)


def test_not_a_2d_array_is_rejected():
    with pytest.raises(ValueError):
        to_mnist(np.ones((10, 10, 3)))


@pytest.mark.parametrize(
    "source, target", [(400, 20), (37, 20), (291, 3), (7, 20), (5, 14), (1, 20)]
)
def test_area_resampling_equals_the_overlap_weight_matrix(source, target):
    # Reference: R[i, s] = overlap of output i's box with source pixel s, rows normalised.
    step = source / target
    box_start = np.arange(target)[:, None] * step
    pixel = np.arange(source)[None, :]
    box_end = box_start + step
    overlap = np.clip(np.minimum(box_end, pixel + 1) - np.maximum(box_start, pixel), 0, None)
    weights = overlap / overlap.sum(axis=1, keepdims=True)
    image = np.random.default_rng(source).random((source, 9), dtype=np.float32)
    np.testing.assert_allclose(
        preprocess._area_resample_rows(image, target), weights @ image, atol=1e-5
    )


def test_ink_pushed_off_the_field_is_clipped_without_wrap_around():
    # A heavy block with a long faint tail: centring the mass pushes the tail's end
    # below the field.
    canvas = np.zeros((200, 200), dtype=np.float32)
    canvas[0:31, 80:120] = 1.0
    canvas[31:200, 98:102] = 0.3
    # Recipe only: thickening the thin tail to a stroke would move the mass.
    digit = to_mnist(canvas, stroke_width=None)
    assert_centred(digit)
    assert digit[-1].max() > 0.02  # the tail runs off the bottom edge...
    assert digit[:8].max() == 0.0  # ...and does not reappear at the top


def test_random_shapes_are_centred_and_fit_the_box():
    rng = np.random.default_rng(2024)
    for _ in range(30):
        shape = tuple(rng.integers(40, 401, size=2))
        canvas = np.zeros(shape, dtype=np.float32)
        for _ in range(rng.integers(1, 5)):
            start, end = rng.random((2, 2)) * shape
            canvas = np.maximum(canvas, stroke(shape, start, end, width=rng.uniform(2, 25)))
        if rng.random() < 0.5:
            centre = rng.random(2) * shape
            canvas = np.maximum(canvas, disk(shape, centre, rng.uniform(3, 30)))
        digit = to_mnist(canvas)
        assert digit is not None
        assert_centred(digit)
        assert max(ink_extent(digit)) <= DIGIT_BOX + 1e-4
        assert max(ink_box(digit)) <= DIGIT_BOX + 1  # a sub-pixel shift may straddle one more cell
        assert digit.min() >= 0.0 and digit.max() <= 1.0


# ---------------------------------------------------------------- center_of_mass


def test_center_of_mass_uses_pixel_centres_and_intensity():
    image = np.zeros((5, 7))
    image[1, 2] = 1.0
    image[3, 6] = 3.0
    assert center_of_mass(image) == pytest.approx((2.5, 5.0))


def test_center_of_mass_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        center_of_mass(np.zeros((4, 4)))


# ---------------------------------------------------------------- ink_from_image


@pytest.fixture
def light_drawing():
    """A 7 as uint8 light ink on black, and the ink it stands for."""
    pixels = np.round(seven(shape=(150, 120), top=20, left=20, size=100, width=10) * 255)
    pixels = pixels.astype(np.uint8)
    return pixels, pixels.astype(np.float32) / 255


def test_dark_on_light_and_light_on_dark_give_the_same_ink(light_drawing):
    light, ink = light_drawing
    dark = 255 - light
    np.testing.assert_allclose(ink_from_image(light), ink, atol=1e-6)
    np.testing.assert_allclose(ink_from_image(dark), ink, atol=1e-6)
    assert ink_from_image(dark).dtype == np.float32


@pytest.mark.parametrize("layout", ["HW1", "RGB", "RGBA opaque"])
def test_channel_layouts_give_the_same_ink(light_drawing, layout):
    light, ink = light_drawing
    dark = 255 - light
    pixels = {
        "HW1": dark[:, :, None],
        "RGB": np.stack([dark] * 3, axis=-1),
        "RGBA opaque": np.dstack([dark, dark, dark, np.full_like(dark, 255)]),
    }[layout]
    np.testing.assert_allclose(ink_from_image(pixels), ink, atol=1e-5)


def test_coloured_ink_on_white_paper(light_drawing):
    light, _ = light_drawing
    strokes = light > 128
    pixels = np.full(light.shape + (3,), 255, dtype=np.uint8)
    pixels[strokes] = (20, 40, 160)  # blue ballpoint
    ink = ink_from_image(pixels)
    assert ink[~strokes].max() == 0.0
    assert ink[strokes].min() > 0.6


def test_grey_paper_reads_as_no_ink(light_drawing):
    # A photographed sheet: the paper is light grey, not white.
    light, _ = light_drawing
    strokes = light > 128
    pixels = np.where(strokes, 30, 200).astype(np.uint8)
    ink = ink_from_image(pixels)
    assert ink[~strokes].max() == 0.0
    # Contrast is measured from the paper's level: (200 - 30) / 200.
    np.testing.assert_allclose(ink[strokes], 0.85, atol=1e-5)


@pytest.mark.parametrize("stroke_colour", [0, 255], ids=["black strokes", "white strokes"])
@pytest.mark.parametrize("hidden_colour", [0, 255], ids=["on black", "on white"])
def test_transparent_background(light_drawing, stroke_colour, hidden_colour):
    # The colour under fully transparent pixels must not matter.
    light, ink = light_drawing
    rgb = np.where(light[:, :, None] > 0, stroke_colour, hidden_colour).astype(np.uint8)
    pixels = np.dstack([np.broadcast_to(rgb, light.shape + (3,)), light])
    np.testing.assert_allclose(ink_from_image(pixels), ink, atol=1e-6)


def test_grey_with_alpha(light_drawing):
    light, ink = light_drawing
    pixels = np.dstack([np.zeros_like(light), light])  # black strokes, alpha = coverage
    np.testing.assert_allclose(ink_from_image(pixels), ink, atol=1e-6)


def test_fully_transparent_image_has_no_ink():
    pixels = np.zeros((30, 30, 4), dtype=np.uint8)
    assert not ink_from_image(pixels).any()


def test_unsupported_pixel_layout_is_rejected():
    with pytest.raises(ValueError):
        ink_from_image(np.zeros((10, 10, 5), dtype=np.uint8))


# ---------------------------------------------------------------- image files


@pytest.fixture(scope="module")
def tf():
    from bngui.core.tf_runtime import tf

    return tf


def write_png(tf, path, pixels):
    path.write_bytes(tf.io.encode_png(pixels).numpy())
    return path


def write_jpeg(tf, path, pixels):
    path.write_bytes(tf.io.encode_jpeg(pixels, quality=95).numpy())
    return path


def drawing_pixels(shape, *, dark_on_light, channels):
    """uint8 pixels of a 7 filling most of ``shape``, and the ink they hold."""
    height, width = shape
    size = 0.8 * min(height, width)
    ink = seven(shape, top=0.1 * height, left=0.1 * width, size=size, width=size / 12)
    grey = np.round(ink * 255).astype(np.uint8)
    if dark_on_light:
        grey = 255 - grey
    return np.repeat(grey[:, :, None], channels, axis=2), ink


def test_png_light_on_dark_grey(tf, tmp_path):
    pixels, ink = drawing_pixels((120, 90), dark_on_light=False, channels=1)
    path = write_png(tf, tmp_path / "light.png", pixels)
    np.testing.assert_allclose(load_image_file(path), ink, atol=1 / 255)
    np.testing.assert_allclose(preprocess_file(path), to_mnist(ink), atol=0.01)


def test_png_dark_on_light_rgb(tf, tmp_path):
    pixels, ink = drawing_pixels((300, 240), dark_on_light=True, channels=3)
    path = write_png(tf, tmp_path / "dark.png", pixels)
    digit = preprocess_file(str(path))
    np.testing.assert_allclose(digit, to_mnist(ink), atol=0.01)
    assert_centred(digit)


def test_jpeg_dark_on_light(tf, tmp_path):
    pixels, ink = drawing_pixels((280, 350), dark_on_light=True, channels=3)
    path = write_jpeg(tf, tmp_path / "photo.jpg", pixels)
    digit = preprocess_file(path)
    expected = to_mnist(ink)
    # JPEG ringing widens the ink's box by a pixel or two (a slightly different
    # scale) and can round the whole-pixel centring the other way, and unblurred
    # edges show both; so compare at the best one-pixel alignment, as the same
    # digit in the same polarity (inverted ink would correlate negatively).
    aligned = [np.roll(digit, (rows, cols), axis=(0, 1)) for rows in (-1, 0, 1) for cols in (-1, 0, 1)]
    best = max(aligned, key=lambda candidate: np.corrcoef(candidate.ravel(), expected.ravel())[0, 1])
    assert np.abs(best - expected).mean() < 0.04
    assert np.corrcoef(best.ravel(), expected.ravel())[0, 1] > 0.85
    assert_centred(digit)


def test_transparent_png_with_black_strokes(tf, tmp_path):
    pixels, ink = drawing_pixels((200, 200), dark_on_light=False, channels=1)
    alpha = pixels[:, :, 0]
    rgba = np.dstack([np.zeros((200, 200, 3), dtype=np.uint8), alpha])
    path = write_png(tf, tmp_path / "transparent.png", rgba)
    np.testing.assert_allclose(load_image_file(path), ink, atol=1 / 255)


def test_blank_image_is_empty(tf, tmp_path):
    path = write_png(tf, tmp_path / "blank.png", np.full((64, 64, 3), 255, dtype=np.uint8))
    assert not load_image_file(path).any()
    with pytest.raises(ImageError, match="blank.png.*empty"):
        preprocess_file(path)


def valid_png_bytes(tf):
    pixels, _ = drawing_pixels((60, 60), dark_on_light=True, channels=1)
    return tf.io.encode_png(pixels).numpy()


@pytest.mark.parametrize(
    "name, content",
    [
        ("noise.png", lambda tf: np.random.default_rng(0).bytes(2000)),
        ("truncated.png", lambda tf: valid_png_bytes(tf)[:120]),
        ("zero_bytes.png", lambda tf: b""),
        ("notes.txt", lambda tf: b"not an image at all\n"),
    ],
)
@pytest.mark.parametrize("reader", [load_image_file, preprocess_file])
def test_unreadable_files_raise_image_error_naming_the_file(tf, tmp_path, name, content, reader):
    path = tmp_path / name
    path.write_bytes(content(tf))
    with pytest.raises(ImageError, match=name):
        reader(path)


@pytest.mark.parametrize("reader", [load_image_file, preprocess_file])
def test_missing_file_raises_image_error(tmp_path, reader):
    with pytest.raises(ImageError, match="missing.png"):
        reader(tmp_path / "missing.png")


def test_directory_is_not_an_image(tmp_path):
    folder = tmp_path / "folder.png"
    folder.mkdir()
    with pytest.raises(ImageError, match="folder.png"):
        load_image_file(folder)


# ---------------------------------------------------------------- stray marks

CANVAS = (336, 336)


def canvas_seven(**placement):
    """A 7 drawn with the canvas's own pen (28 px) on a 336x336 canvas."""
    options = {"shape": CANVAS, "top": 50, "left": 70, "size": 230, "width": 28}
    options.update(placement)
    return seven(**options)


def test_specks_and_far_marks_are_ignored():
    digit = canvas_seven()
    messy = digit.copy()
    for centre in [(20, 20), (320, 30), (300, 310), (150, 60)]:  # pen taps, one inside the 7's box
        messy = np.maximum(messy, disk(CANVAS, centre, 6))
    # A long-ish scribble far from the digit's box is ignored too.
    messy = np.maximum(messy, stroke(CANVAS, (20, 290), (60, 330), 4))
    np.testing.assert_allclose(to_mnist(messy), to_mnist(digit), atol=1e-5)
    assert not np.allclose(to_mnist(messy, ignore_strays=False), to_mnist(digit), atol=0.05)


def four_in_two_strokes():
    """A 4 drawn as two strokes that do not touch: the open corner, then the down stroke."""
    corner = np.maximum(
        stroke(CANVAS, (40, 150), (200, 60), 24), stroke(CANVAS, (200, 60), (200, 170), 24)
    )
    return corner, stroke(CANVAS, (60, 215), (310, 215), 24)


def seven_with_crossbar():
    """A 7 and a crossbar drawn clear of its stem."""
    return canvas_seven(top=60, left=40, size=240), stroke(CANVAS, (185, 60), (185, 112), 22)


def five_with_top_bar():
    """A 5's down stroke and bowl in one stroke, and its top bar drawn apart."""
    points = [(50, 100), (150, 100), (140, 200), (200, 250), (270, 220), (300, 150), (290, 90)]
    body = np.zeros(CANVAS, np.float32)
    for start, end in itertools.pairwise(points):
        body = np.maximum(body, stroke(CANVAS, start, end, 22))
    return body, stroke(CANVAS, (45, 140), (45, 260), 22)


@pytest.mark.parametrize(
    "make", [four_in_two_strokes, seven_with_crossbar, five_with_top_bar], ids=["4", "7", "5"]
)
def test_a_digit_in_separate_strokes_is_kept_whole(make):
    body, part = make()
    drawing = np.maximum(body, part)
    count = ndimage.label(drawing > 0.02, structure=np.ones((3, 3)))[1]
    assert count == 2, "the strokes must be separate components"
    assert digit_mask(drawing, drawing > 0.02).sum() == (drawing > 0.02).sum()
    np.testing.assert_allclose(to_mnist(drawing), to_mnist(drawing, ignore_strays=False), atol=1e-6)
    # ...and that is not what the bigger part alone gives.
    assert np.abs(to_mnist(drawing) - to_mnist(body)).max() > 0.3


def test_a_digit_touching_the_canvas_edge_is_centred():
    cut = canvas_seven(top=0, left=0, size=250)  # the bar runs along the top and left edges
    assert cut[0].max() > 0.9 and cut[:, 0].max() > 0.9
    digit = to_mnist(cut)
    assert_centred(digit)
    assert abs(max(ink_box(digit)) - DIGIT_BOX) <= 1
    # Touching the edge or not, the same drawing gives the same digit (the pen's
    # round end is cut at the edge, so allow a little).
    moved = np.zeros(CANVAS, np.float32)
    moved[40:, 40:] = cut[:-40, :-40]
    assert np.abs(to_mnist(moved) - digit).max() < 0.1


# ---------------------------------------------------------------- stroke width


def cropped(drawing, threshold=0.02):
    """The drawing cut to the bounding box of its ink."""
    rows = np.flatnonzero((drawing > threshold).any(axis=1))
    cols = np.flatnonzero((drawing > threshold).any(axis=0))
    return drawing[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


@pytest.mark.parametrize("width", [6, 10, 16, 24])
def test_stroke_width_measures_the_pen(width):
    line = stroke((400, 400), (50, 100), (350, 300), width)
    truth = width * DIGIT_BOX / (300 + width)  # the longer side includes the round ends
    assert measure_stroke_width(line) == pytest.approx(truth, rel=0.15)


def test_stroke_width_does_not_depend_on_the_image_size():
    small = seven(shape=(120, 120), top=10, left=20, size=100, width=9)
    large = seven(shape=(360, 360), top=30, left=60, size=300, width=27)
    assert measure_stroke_width(small) == pytest.approx(measure_stroke_width(large), rel=0.05)
    assert measure_stroke_width(np.zeros((10, 10))) is None


@pytest.mark.parametrize(
    "pen", [5, 8, 60, 80], ids=["fine liner", "thin pen", "marker", "fat marker"]
)
def test_thin_and_fat_strokes_are_moved_into_mnists_range(pen):
    drawing = canvas_seven(width=pen)
    low, high = MNIST_STROKE_RANGE
    before = measure_stroke_width(drawing)
    assert not low <= before <= high
    # Measured where the strokes are redrawn (28x28 is too coarse to measure well).
    after = measure_stroke_width(preprocess.normalise_stroke_width(cropped(drawing)))
    target = low if before < low else high
    assert after == pytest.approx(target, abs=0.25), f"{before:.2f} -> {after:.2f}"
    # The 28x28 digit's strokes changed the same way (thicker or thinner) as the recipe's.
    recipe = measure_stroke_width(to_mnist(drawing, stroke_width=None))
    assert (measure_stroke_width(to_mnist(drawing)) - recipe) * (target - before) > 0


def test_a_stroke_of_mnists_width_is_left_as_drawn():
    drawing = canvas_seven()  # the canvas's pen on a digit across the canvas
    assert MNIST_STROKE_RANGE[0] <= measure_stroke_width(drawing) <= MNIST_STROKE_RANGE[1]
    np.testing.assert_array_equal(to_mnist(drawing), to_mnist(drawing, stroke_width=None))


def test_a_single_stroke_width_can_be_asked_for():
    drawing = canvas_seven(width=12)
    thick = measure_stroke_width(preprocess.normalise_stroke_width(cropped(drawing), 3.0))
    thin = measure_stroke_width(preprocess.normalise_stroke_width(cropped(drawing), 1.8))
    assert thick == pytest.approx(3.0, abs=0.25) and thin == pytest.approx(1.8, abs=0.25)


@pytest.mark.mnist
def test_mnist_digits_measure_in_mnists_range(mnist):
    widths = [measure_stroke_width(image[:, :, 0]) for image in mnist.test_images[:300]]
    low, high = MNIST_STROKE_RANGE
    assert low < np.median(widths) < high
    assert np.mean([(low <= width <= high) for width in widths]) > 0.7


# ---------------------------------------------------------------- photos and Pillow


def pillow_bytes(pixels, format, **options):
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format=format, **options)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "orientation, stored", [(3, 2), (6, 1), (8, 3)], ids=["180", "90 cw", "90 ccw"]
)
def test_exif_orientation_is_honoured(tmp_path, orientation, stored):
    from PIL import Image

    pixels, ink = drawing_pixels((160, 120), dark_on_light=True, channels=3)
    # The pixels are stored turned (np.rot90 turns counter-clockwise) and the
    # EXIF tag says how to turn them back.
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"turned-{orientation}.png"
    path.write_bytes(pillow_bytes(np.ascontiguousarray(np.rot90(pixels, stored)), "PNG", exif=exif))
    np.testing.assert_allclose(load_image_file(path), ink, atol=2 / 255)


def test_file_objects_are_read_and_named_in_errors():
    pixels, ink = drawing_pixels((90, 90), dark_on_light=True, channels=1)
    data = io.BytesIO(pillow_bytes(pixels[:, :, 0], "PNG"))
    np.testing.assert_allclose(load_image_file(data), ink, atol=1 / 255)
    broken = io.BytesIO(b"no image here")
    broken.name = "upload.png"
    with pytest.raises(ImageError, match="^upload.png: "):
        load_image_file(broken)
    with pytest.raises(ImageError, match="^<image data>: "):
        load_image_file(io.BytesIO(b"\x00" * 100))


@pytest.mark.parametrize("format, suffix", [("WEBP", "webp"), ("TIFF", "tif"), ("BMP", "bmp")])
def test_other_formats_are_read(tmp_path, format, suffix):
    pixels, ink = drawing_pixels((100, 80), dark_on_light=True, channels=3)
    path = tmp_path / f"seven.{suffix}"
    options = {"lossless": True} if format == "WEBP" else {}
    path.write_bytes(pillow_bytes(pixels, format, **options))
    np.testing.assert_allclose(preprocess_file(path), to_mnist(ink), atol=0.02)


def test_sixteen_bit_grey_is_read_at_full_depth(tmp_path):
    from PIL import Image

    _, ink = drawing_pixels((80, 80), dark_on_light=False, channels=1)
    path = tmp_path / "deep.png"
    Image.fromarray(np.round(ink * 65535).astype(np.uint16)).save(path)
    np.testing.assert_allclose(load_image_file(path), ink, atol=1e-3)


def unevenly_lit_photo(rng, shape=(300, 400), digit_at=(60, 200), with_digit=True):
    """RGB uint8 'photo': a dark 7 on textured, unevenly lit, cream paper, and the 7's ink."""
    height, width = shape
    ink = np.zeros(shape, np.float32)
    if with_digit:
        ink[digit_at[0] : digit_at[0] + 170, digit_at[1] : digit_at[1] + 130] = seven(
            shape=(170, 130), top=10, left=10, size=150, width=12
        )
    rows, cols = np.mgrid[:height, :width] / max(shape)
    light = 0.45 + 0.55 * np.clip(1.2 - np.hypot(rows - 0.1, cols - 0.9), 0, 1)  # lamp top right
    texture = 1 + 0.04 * ndimage.gaussian_filter(rng.standard_normal(shape), 1.0)
    paper = np.array([0.96, 0.92, 0.84]) * (light * texture)[:, :, None]
    pen = np.array([0.12, 0.12, 0.25])
    photo = paper * (1 - ink[:, :, None]) + pen * light[:, :, None] * ink[:, :, None]
    photo += rng.normal(0, 0.01, photo.shape)
    return np.clip(np.round(photo * 255), 0, 255).astype(np.uint8), ink


def test_an_unevenly_lit_photo_is_flattened_and_its_digit_found(tmp_path):
    rng = np.random.default_rng(5)
    photo, ink = unevenly_lit_photo(rng)
    path = tmp_path / "photo.jpg"
    path.write_bytes(pillow_bytes(photo, "JPEG", quality=90))
    found = load_image_file(path)
    # The dark corner of the paper is no ink, the strokes are.
    assert found[ink < 0.01].mean() < 0.01
    assert np.median(found[ink > 0.9]) > 0.6
    digit = preprocess_file(path)
    assert_centred(digit)
    expected = to_mnist(ink)
    assert np.corrcoef(digit.ravel(), expected.ravel())[0, 1] > 0.9
    # Without flattening, the shadowed paper would outweigh the digit.
    grey = photo.astype(np.float32).mean(axis=2) / 255
    naive = to_mnist(np.clip((1 - grey) - 0.08, 0, 1), ignore_strays=False)
    assert np.corrcoef(naive.ravel(), expected.ravel())[0, 1] < 0.8


def test_blank_textured_paper_has_no_ink():
    photo, _ = unevenly_lit_photo(np.random.default_rng(1), with_digit=False)
    assert not ink_from_image(photo).any()


def png_with_zero_width():
    """A PNG whose header says 0 x 10 pixels (checksums right, so only the size is wrong)."""

    def chunk(kind, data):
        return (
            len(data).to_bytes(4, "big") + kind + data
            + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = (0).to_bytes(4, "big") + (10).to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


@pytest.mark.parametrize(
    "name, content",
    [
        ("truncated.jpg", lambda: pillow_bytes(np.full((99, 99, 3), 128, np.uint8), "JPEG")[:300]),
        ("zero_width.png", png_with_zero_width),
        ("fake.webp", lambda: b"RIFF\x00\x00\x00\x00WEBPVP8 garbage"),
        ("truncated.tif", lambda: pillow_bytes(np.zeros((64, 64), np.uint8), "TIFF")[:60]),
    ],
)
def test_more_broken_files_raise_image_error_naming_the_file(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content())
    with pytest.raises(ImageError, match=f"^{re.escape(str(path))}: "):
        preprocess_file(path)


# ---------------------------------------------------------------- import weight


def test_import_and_image_files_load_neither_tensorflow_nor_qt(tmp_path):
    path = tmp_path / "seven.png"
    pixels, _ = drawing_pixels((90, 90), dark_on_light=True, channels=3)
    path.write_bytes(pillow_bytes(pixels, "PNG"))
    code = (
        "import sys, numpy as np\n"
        "from bngui.core.preprocess import preprocess_file, to_mnist\n"
        "assert to_mnist(np.eye(50)) is not None\n"
        f"assert preprocess_file({str(path)!r}).max() > 0.5\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'PySide6', 'pyqtgraph') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    project_root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=project_root, check=False
    )
    assert result.returncode == 0, result.stderr
