"""Tests for bngui.bench.handwriting: the handwriting benchmark's test sets and table."""

import io

import numpy as np
import pytest

from bngui.bench import handwriting
from bngui.core.preprocess import load_image_file, preprocess_file, to_mnist

CANVAS = handwriting.CANVAS_SIZE


def small_digits(count=6):
    """28x28 digit-like images in [0, 1]: rings (zeros) and bars (ones), labels to match."""
    rows, cols = np.mgrid[:28, :28]
    ring = np.clip(1.5 - np.abs(np.hypot((rows - 13.5) / 1.3, cols - 13.5) - 6), 0, 1)
    slanted = np.clip(2.5 - np.abs(cols - 13.5 - 0.25 * (rows - 13.5)), 0, 1)
    bar = slanted * (np.abs(rows - 13.5) < 9)
    images = np.stack([ring if index % 2 == 0 else bar for index in range(count)])
    return images.astype(np.float32), np.array([0 if i % 2 == 0 else 1 for i in range(count)])


def test_placement_fits_the_canvas_and_sizes_the_digit():
    rng = np.random.default_rng(0)
    box = (0, 99, 0, 59)
    corners = np.array([[0, 0], [0, 59], [99, 0], [99, 59]], float)
    touching = 0
    for _ in range(200):
        matrix, offset = handwriting.random_placement(rng, box)
        placed = corners @ matrix.T + offset
        low, high = placed.min(axis=0), placed.max(axis=0)
        assert (low >= -1e-6).all() and (high <= CANVAS - 1 + 1e-6).all()
        longer = (high - low).max() / CANVAS
        assert handwriting.HEIGHT_RANGE[0] - 1e-6 <= longer <= handwriting.HEIGHT_RANGE[1] + 1e-6
        touching += bool((low < 0.5).any() or (high > CANVAS - 1.5).any())
    assert 0.1 < touching / 200 < 0.35  # about EDGE_SHARE of them touch an edge


def test_centre_line_follows_the_digit():
    images, _ = small_digits(2)
    points = handwriting.centre_line_points(images[1])  # the slanted bar
    assert len(points) > 100
    # Every point is on the bar's ink, none far from it.
    values = images[1][np.round(points[:, 0]).astype(int), np.round(points[:, 1]).astype(int)]
    assert values.min() > 0.2
    assert np.ptp(points[:, 0]) > 14


def test_pen_strokes_come_in_three_widths_for_the_same_drawing():
    images, _ = small_digits(4)
    canvases = handwriting.pen_stroke_canvases(images, np.random.default_rng(1))
    assert list(canvases) == list(handwriting.PEN_WIDTHS)
    masses = []
    for batch in canvases.values():
        assert batch.shape == (4, CANVAS, CANVAS) and batch.dtype == np.uint8
        assert batch.reshape(4, -1).max(axis=1).min() == 255
        masses.append(batch.reshape(4, -1).sum(axis=1))
    assert (masses[0] < masses[1]).all() and (masses[1] < masses[2]).all()
    # One placement for all pens: the thin line lies inside the fat one.
    thin, fat = canvases["thin pen"], canvases["fat marker"]
    assert (fat[thin > 128] > 128).all()
    again = handwriting.pen_stroke_canvases(images, np.random.default_rng(1))
    np.testing.assert_array_equal(again["normal pen"], canvases["normal pen"])
    other = handwriting.pen_stroke_canvases(images, np.random.default_rng(2))
    assert not np.array_equal(other["normal pen"], canvases["normal pen"])


def test_mnist_canvases_hold_the_enlarged_digit():
    images, _ = small_digits(3)
    canvases = handwriting.mnist_canvases(images, np.random.default_rng(0))
    assert canvases.shape == (3, CANVAS, CANVAS) and canvases.dtype == np.uint8
    recipe = handwriting.RECIPE_ONLY
    for canvas, image in zip(canvases, images):
        digit, original = to_mnist(canvas, **recipe), to_mnist(image, **recipe)
        assert np.corrcoef(digit.ravel(), original.ravel())[0, 1] > 0.9


def test_font_digits_with_the_built_in_font_alone():
    canvases, labels, names = handwriting.font_canvases(20, np.random.default_rng(3), fonts=[None])
    assert canvases.shape == (20, CANVAS, CANVAS) and canvases.dtype == np.uint8
    assert sorted(labels.tolist()) == sorted(list(range(10)) * 2)
    assert set(names) == {"Pillow built-in"}
    assert (canvases.reshape(20, -1).max(axis=1) > 200).all()
    again = handwriting.font_canvases(20, np.random.default_rng(3), fonts=[None])
    np.testing.assert_array_equal(again[0], canvases)
    np.testing.assert_array_equal(again[1], labels)


def test_found_fonts_draw_ten_different_digits():
    from PIL import ImageFont

    fonts = handwriting.find_fonts(limit=5)
    assert len(fonts) <= 5
    for path in fonts:
        assert handwriting._draws_ten_digits(ImageFont.truetype(path, 48))


def test_photos_are_jpegs_turned_with_exif_and_read_back_upright():
    from PIL import Image

    images, labels = small_digits(4)
    files, photo_labels = handwriting.photo_files(
        images, labels, 4, np.random.default_rng(4), fonts=[None]
    )
    assert len(files) == 4 and len(photo_labels) == 4
    assert list(photo_labels[:2]) == list(labels[:2])
    orientations = set()
    for data in files:
        with Image.open(io.BytesIO(data)) as photo:
            assert photo.format == "JPEG"
            orientations.add(photo.getexif().get(handwriting.EXIF_ORIENTATION))
            stored = photo.size
        ink = load_image_file(io.BytesIO(data))
        assert ink.shape == handwriting.PHOTO_SHAPE, stored  # upright, whatever was stored
        assert preprocess_file(io.BytesIO(data)).max() > 0.5
    assert orientations <= set(handwriting.STORED_TURNS)
    again, _ = handwriting.photo_files(images, labels, 4, np.random.default_rng(4), fonts=[None])
    assert again == files


def test_a_photo_reads_like_its_canvas():
    canvases, _, _ = handwriting.font_canvases(3, np.random.default_rng(6), fonts=[None])
    for canvas in canvases:
        data = handwriting.photograph(canvas, np.random.default_rng(7))
        read = preprocess_file(io.BytesIO(data))
        expected = to_mnist(canvas)
        assert np.corrcoef(read.ravel(), expected.ravel())[0, 1] > 0.85


def test_conditions_are_built_with_their_sizes_and_labels():
    images, labels = small_digits(8)
    conditions = handwriting.build_conditions(images, labels, 3, seed=0, fonts=[None])
    assert list(conditions) == [
        "MNIST test, 28x28",
        "MNIST test on the canvas",
        "MNIST strokes, thin pen",
        "MNIST strokes, normal pen",
        "MNIST strokes, fat marker",
        "fonts, distorted",
        "photos of paper (JPEG, EXIF)",
    ]
    for kind, items, truth in conditions.values():
        assert len(items) == 3 and len(truth) == 3
        assert kind in ("digits", "canvases", "photos")
    again = handwriting.build_conditions(images, labels, 3, seed=0, fonts=[None])
    np.testing.assert_array_equal(
        again["MNIST strokes, fat marker"][1], conditions["MNIST strokes, fat marker"][1]
    )


def test_preprocessing_times_each_canvas_and_blank_canvases_count_as_wrong():
    canvases = np.zeros((3, CANVAS, CANVAS), np.uint8)
    canvases[1, 100:200, 150:170] = 255
    digits, milliseconds = handwriting.preprocess_canvases(canvases)
    assert digits.shape == (3, 28, 28) and len(milliseconds) == 3
    assert digits[0].max() == 0 and digits[1].max() > 0.5


def test_table_lists_each_condition_and_model():
    rows = [("one", {"a": 0.5, "b": 1.0}, {"a": 0.25, "b": 0.75})]
    table = handwriting.format_table(rows, ["a", "b"], per_condition=4, seed=1)
    assert "4 digits per condition, seed 1" in table
    assert "full pipeline" in table and "MNIST recipe only" in table
    assert table.splitlines()[-1].split() == ["one", "50.0%", "100.0%", "25.0%", "75.0%"]


def test_missing_mnist_is_a_clear_error(tmp_path, capsys):
    code = handwriting.run_handwriting_bench(per_condition=2, data_path=tmp_path / "nowhere.npz")
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot load MNIST" in err and "nowhere.npz" in err and len(err.splitlines()) == 1


@pytest.mark.mnist
def test_a_small_run_prints_the_table(mnist_path, capsys):
    assert handwriting.run_handwriting_bench(per_condition=0, data_path=mnist_path) == 1

    code = handwriting.run_handwriting_bench(per_condition=4, seed=1, data_path=mnist_path)
    out = capsys.readouterr().out
    assert code == 0
    assert "4 digits per condition, seed 1" in out
    for condition in ("MNIST test, 28x28", "fonts, distorted", "photos of paper (JPEG, EXIF)"):
        assert condition in out
    assert "keras-conv-bn-relu" in out and "median" in out
