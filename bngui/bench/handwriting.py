"""Handwriting benchmark: how the models read digits that MNIST's writers did not write.

Every test set is made from material the models never trained on, and every
set but the first goes through the same preprocessing as a drawing on the
canvas or a file given to ``bngui classify``:

- MNIST test digits at 28x28, as the models were tested (reference);
- MNIST test digits enlarged onto a canvas-sized image as they are (the
  canvas pipeline's reference);
- MNIST test digits redrawn as pen strokes: the digit's skeleton restroked
  with a round, anti-aliased pen (thin pen, normal pen, fat marker) after a
  random rotation, shear and scale, placed anywhere on the canvas, some
  touching its edge;
- digits in the machine's fonts and Pillow's built-in one, with a random
  affine and elastic distortion;
- synthetic photos: a digit from the two sources above in dark ink on
  textured, unevenly lit, slightly coloured paper, stored turned with the
  EXIF orientation that makes it upright, as JPEG, read back through
  ``load_image_file``.

Canvases are 336x336, white ink on black, as the drawing canvas gives them.
Each set is scored through the full pipeline (``to_mnist``) and through
MNIST's recipe alone (no stray-mark removal, strokes as drawn), per model.
All randomness comes from one seed, so a run is reproducible.
"""

import io
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

from bngui.core.preprocess import ImageError, load_image_file, to_mnist

CANVAS_SIZE = 336  # the drawing canvas's pixels per side
PEN_WIDTHS = {"thin pen": 8.0, "normal pen": 28.0, "fat marker": 48.0}  # canvas pixels
NORMAL_PEN = PEN_WIDTHS["normal pen"]

# Random placement of a digit on the canvas.
ROTATION_DEGREES = 15.0
SHEAR_DEGREES = 15.0
HEIGHT_RANGE = (0.45, 0.85)  # the digit's longer side, as a share of the canvas
EDGE_SHARE = 0.2  # digits pushed against one edge of the canvas (their strokes cut by it)
MARGIN = NORMAL_PEN / 2  # otherwise the centre line keeps this far from the edges

# MNIST digits are skeletonised at this enlargement of their 28x28 pixels.
SKELETON_SCALE = 4
# Points sampled along each step between neighbouring skeleton pixels, enough
# for gap-free lines at the largest enlargement onto the canvas.
POINTS_PER_STEP = 8

# Fonts: glyphs are rendered this many pixels high, then distorted.
FONT_SIZE = 200
ELASTIC_SHARE = 0.03  # largest elastic displacement, as a share of the glyph's size
ELASTIC_GRID = 4
MAX_FONTS = 40
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
# Font families whose digits are not digits (symbols) are left out.
NOT_DIGIT_FONTS = ("symbol", "dingbat", "d050000l", "emoji", "wingding", "cursor")

# Photos: the sheet of paper, in pixels, and how the digit's ink looks on it.
PHOTO_SHAPE = (480, 640)
JPEG_QUALITY = 85
EXIF_ORIENTATION = 0x0112
# EXIF orientation -> quarter turns (counter-clockwise, as np.rot90) of the
# stored pixels that the orientation undoes.
STORED_TURNS = {1: 0, 3: 2, 6: 1, 8: 3}

DEFAULT_PER_CONDITION = 500


# ---------------------------------------------------------------- placement


def random_placement(rng, source_box, canvas=CANVAS_SIZE):
    """A random affine map from a source's coordinates to the canvas's.

    ``source_box`` is the source's ink (top, bottom, left, right) as (row, col)
    coordinates. Returns ``(matrix, offset)``: canvas point = matrix @ source
    point + offset, with a random rotation, shear and scale (the result's
    longer side a HEIGHT_RANGE share of the canvas) and a random position,
    which for EDGE_SHARE of the digits is pushed against one edge.
    """
    angle = np.radians(rng.uniform(-ROTATION_DEGREES, ROTATION_DEGREES))
    shear = np.tan(np.radians(rng.uniform(-SHEAR_DEGREES, SHEAR_DEGREES)))
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    matrix = rotation @ np.array([[1.0, 0.0], [shear, 1.0]])  # cols move with the row
    top, bottom, left, right = source_box
    corners = np.array([[top, left], [top, right], [bottom, left], [bottom, right]], float)
    placed = corners @ matrix.T
    extent = placed.max(axis=0) - placed.min(axis=0)
    matrix = matrix * (rng.uniform(*HEIGHT_RANGE) * canvas / extent.max())
    placed = corners @ matrix.T
    low, high = placed.min(axis=0), placed.max(axis=0)
    room_low = MARGIN - low
    room_high = canvas - 1 - MARGIN - high
    offset = rng.uniform(room_low, np.maximum(room_low, room_high))
    if rng.random() < EDGE_SHARE:
        axis = rng.integers(2)
        offset[axis] = -low[axis] if rng.random() < 0.5 else canvas - 1 - high[axis]
    return matrix, offset


# ---------------------------------------------------------------- MNIST on the canvas


def mnist_canvases(images, rng, canvas=CANVAS_SIZE):
    """MNIST digits (N, 28, 28) in [0, 1] enlarged 6-11 times, bilinearly, placed anywhere.

    Returns uint8 canvases (N, canvas, canvas), white on black.
    """
    canvases = np.zeros((len(images), canvas, canvas), np.uint8)
    for index, image in enumerate(images):
        factor = rng.integers(6, 12)
        large = ndimage.zoom(image, factor, order=1, grid_mode=True, mode="grid-constant")
        size = large.shape[0]
        top, left = rng.integers(0, canvas - size + 1, 2)
        canvases[index, top : top + size, left : left + size] = _to_uint8(large)
    return canvases


def _to_uint8(ink):
    return np.round(np.clip(ink, 0.0, 1.0) * 255).astype(np.uint8)


def centre_line_points(image):
    """Points along the skeleton of a 28x28 digit, in (row, col) pixels of the 28x28 image.

    The digit is enlarged SKELETON_SCALE times (bilinear) and thresholded at
    half its peak before thinning, so the centre line is smooth; each step
    between 8-connected skeleton pixels is filled with POINTS_PER_STEP points.
    """
    large = ndimage.zoom(image, SKELETON_SCALE, order=1, grid_mode=True, mode="grid-constant")
    skeleton = skeletonize(large >= 0.5 * large.max())
    rows, cols = np.nonzero(skeleton)
    segments = [np.stack([rows, cols], axis=1)[:, None, :].repeat(2, axis=1)]  # lone pixels
    height, width = skeleton.shape
    for row_step, col_step in ((0, 1), (1, 0), (1, 1), (1, -1)):
        # Pixels (r, c) with a skeleton neighbour at (r + row_step, c + col_step).
        first_col = max(0, -col_step)
        last_col = width - max(0, col_step)
        here = skeleton[: height - row_step, first_col:last_col]
        there = skeleton[row_step:, first_col + col_step : last_col + col_step]
        start_rows, start_cols = np.nonzero(here & there)
        starts = np.stack([start_rows, start_cols + first_col], axis=1)
        segments.append(np.stack([starts, starts + (row_step, col_step)], axis=1))
    segments = np.concatenate(segments).astype(float)
    fractions = np.linspace(0.0, 1.0, POINTS_PER_STEP, endpoint=False)[None, :, None]
    points = segments[:, :1] + fractions * (segments[:, 1:] - segments[:, :1])
    # Back to 28x28 pixel coordinates (pixel centres of the enlarged image).
    return (points.reshape(-1, 2) + 0.5) / SKELETON_SCALE - 0.5


def pen_stroke_canvases(images, rng, pens=PEN_WIDTHS, canvas=CANVAS_SIZE):
    """MNIST digits (N, 28, 28) redrawn as pen strokes, once per pen.

    Each digit gets one random placement (see ``random_placement``), the same
    for every pen, so the pens are compared on the same drawings. The pen is
    round and anti-aliased: ink = clip(width/2 - distance to the centre line
    + 0.5, 0, 1). Returns ``{pen name: uint8 canvases (N, canvas, canvas)}``.
    """
    canvases = {name: np.zeros((len(images), canvas, canvas), np.uint8) for name in pens}
    for index, image in enumerate(images):
        points = centre_line_points(image)
        box = (*_span(points[:, 0]), *_span(points[:, 1]))
        matrix, offset = random_placement(rng, box, canvas)
        placed = np.round(points @ matrix.T + offset).astype(int)
        inside = ((placed >= 0) & (placed < canvas)).all(axis=1)
        off_line = np.ones((canvas, canvas), bool)
        off_line[placed[inside, 0], placed[inside, 1]] = False
        distance = ndimage.distance_transform_edt(off_line)
        for name, width in pens.items():
            canvases[name][index] = _to_uint8(width / 2 - distance + 0.5)
    return canvases


def _span(values):
    return float(values.min()), float(values.max())


# ---------------------------------------------------------------- fonts


def find_fonts(limit=MAX_FONTS):
    """TrueType and OpenType fonts on this machine that draw the ten digits as ten shapes.

    Asks fontconfig (``fc-list``) when there is one, and looks in the usual
    folders. Symbol fonts are left out by name, a font met twice (same family
    and style) is kept once, and a font whose digits are missing or alike
    (boxes for missing glyphs) is left out after rendering them. Returns up
    to ``limit`` paths, spread over the sorted list.
    """
    from PIL import ImageFont

    candidates = set()
    if shutil.which("fc-list"):
        listing = subprocess.run(
            ["fc-list", "--format", "%{file}\n"], capture_output=True, text=True, check=False
        ).stdout
        candidates.update(line.strip() for line in listing.splitlines())
    for folder in ("/usr/share/fonts", "/usr/local/share/fonts", Path.home() / ".fonts"):
        candidates.update(str(path) for path in Path(folder).rglob("*") if path.is_file())
    usable, seen = [], set()
    for path in sorted(candidates):
        if Path(path).suffix.lower() not in FONT_SUFFIXES:
            continue
        try:
            font = ImageFont.truetype(path, 48)
        except OSError:
            continue
        name = font.getname()
        described = f"{Path(path).name} {' '.join(part or '' for part in name)}".lower()
        if name in seen or any(word in described for word in NOT_DIGIT_FONTS):
            continue
        seen.add(name)
        if _draws_ten_digits(font):
            usable.append(path)
    if len(usable) > limit:
        usable = [usable[index] for index in np.linspace(0, len(usable) - 1, limit).astype(int)]
    return usable


def _draws_ten_digits(font):
    glyphs = [_glyph(font, str(digit)) for digit in range(10)]
    if any(glyph is None for glyph in glyphs):
        return False
    shapes = {(glyph.shape, glyph.tobytes()) for glyph in glyphs}
    return len(shapes) == 10


def _load_font(source, size):
    """A Pillow font: a font file's path, or None for Pillow's built-in scalable font."""
    from PIL import ImageFont

    if source is None:
        return ImageFont.load_default(size=size)
    return ImageFont.truetype(source, size)


def _glyph(font, text):
    """The text rendered white on black, cropped to its ink (uint8), or None if blank."""
    from PIL import Image, ImageDraw

    left, top, right, bottom = font.getbbox(text)
    if right <= left or bottom <= top:
        return None
    image = Image.new("L", (right - left + 4, bottom - top + 4), 0)
    ImageDraw.Draw(image).text((2 - left, 2 - top), text, fill=255, font=font)
    pixels = np.asarray(image)
    rows = np.flatnonzero(pixels.any(axis=1))
    cols = np.flatnonzero(pixels.any(axis=0))
    if rows.size == 0:
        return None
    return pixels[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def font_canvases(count, rng, fonts=None, canvas=CANVAS_SIZE):
    """``count`` digits in fonts, distorted, on canvases: ``(uint8 canvases, labels, font names)``.

    ``fonts`` lists font sources (paths, and None for Pillow's built-in font);
    by default Pillow's font and ``find_fonts()``. Labels run through 0-9 in a
    random order, fonts in turn. Each glyph gets a random placement (see
    ``random_placement``) and an elastic distortion (random offsets on a
    coarse grid, smoothly enlarged, up to ELASTIC_SHARE of its size).
    """
    fonts = [None, *find_fonts()] if fonts is None else list(fonts)
    labels = rng.permutation(np.arange(count) % 10).astype(np.int32)
    canvases = np.zeros((count, canvas, canvas), np.uint8)
    loaded = {}
    names = []
    rows, cols = np.mgrid[:canvas, :canvas].astype(float)
    for index, label in enumerate(labels):
        source = fonts[index % len(fonts)]
        if source not in loaded:
            loaded[source] = _load_font(source, FONT_SIZE)
        names.append("Pillow built-in" if source is None else Path(source).name)
        glyph = _glyph(loaded[source], str(label)).astype(np.float32) / 255
        height, width = glyph.shape
        matrix, offset = random_placement(rng, (0, height - 1, 0, width - 1), canvas)
        inverse = np.linalg.inv(matrix)
        field = rng.uniform(-1, 1, (2, ELASTIC_GRID, ELASTIC_GRID))
        field = ndimage.zoom(field, (1, canvas / ELASTIC_GRID, canvas / ELASTIC_GRID), order=1)
        wobble = field * ELASTIC_SHARE * max(height, width)
        source_rows = inverse[0, 0] * (rows - offset[0]) + inverse[0, 1] * (cols - offset[1])
        source_cols = inverse[1, 0] * (rows - offset[0]) + inverse[1, 1] * (cols - offset[1])
        coordinates = np.stack([source_rows + wobble[0], source_cols + wobble[1]])
        canvases[index] = _to_uint8(ndimage.map_coordinates(glyph, coordinates, order=1, cval=0))
    return canvases, labels, names


# ---------------------------------------------------------------- photos


def photograph(ink, rng, shape=PHOTO_SHAPE):
    """JPEG bytes of a photo of ``ink`` (a canvas, white on black) written on paper.

    Dark, slightly blue or black ink on cream paper with a random colour
    cast, fibre texture and noise, lit unevenly (a linear fall-off in a random
    direction and a vignette), slightly blurred. The pixels are stored turned
    by a random quarter turn and the EXIF orientation tag says how to turn
    them back, as a phone does.
    """
    from PIL import Image

    ink = ink.astype(np.float32) / 255 if ink.dtype == np.uint8 else ink.astype(np.float32)
    height, width = shape
    sheet = np.zeros(shape, np.float32)
    top = rng.integers(0, height - ink.shape[0] + 1)
    left = rng.integers(0, width - ink.shape[1] + 1)
    sheet[top : top + ink.shape[0], left : left + ink.shape[1]] = ink
    sheet = ndimage.gaussian_filter(sheet, rng.uniform(0.5, 1.2))

    rows, cols = np.mgrid[:height, :width] / max(shape)
    direction = rng.uniform(0, 2 * np.pi)
    ramp = rows * np.sin(direction) + cols * np.cos(direction)
    ramp = (ramp - ramp.min()) / np.ptp(ramp)
    vignette = np.hypot(rows - rows.mean(), cols - cols.mean())
    light = 1.0 - rng.uniform(0.2, 0.5) * ramp - rng.uniform(0.0, 0.4) * vignette**2
    fibres = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5) * 0.08
    paper = np.array([0.95, 0.92, 0.84]) + rng.uniform(-0.04, 0.04, 3)
    paper = paper[None, None, :] * (1 + fibres)[:, :, None]
    pen = np.array([0.12, 0.12, 0.18]) + rng.uniform(-0.06, 0.06, 3)
    photo = paper * (1 - sheet[:, :, None]) + pen[None, None, :] * sheet[:, :, None]
    photo = photo * light[:, :, None] + rng.normal(0, 0.015, photo.shape)
    pixels = _to_uint8(photo)

    orientation = int(rng.choice(list(STORED_TURNS)))
    stored = np.ascontiguousarray(np.rot90(pixels, STORED_TURNS[orientation]))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    buffer = io.BytesIO()
    Image.fromarray(stored).save(buffer, format="JPEG", quality=JPEG_QUALITY, exif=exif)
    return buffer.getvalue()


def photo_files(images, labels, count, rng, fonts=None):
    """``count`` synthetic photos: ``(list of JPEG bytes, labels)``.

    The first half are MNIST digits (``images``, ``labels``: at least
    count // 2 of them) redrawn with the normal pen, the rest font digits.
    """
    from_strokes = count // 2
    strokes = pen_stroke_canvases(images[:from_strokes], rng, {"normal pen": NORMAL_PEN})
    typed, typed_labels, _ = font_canvases(count - from_strokes, rng, fonts)
    canvases = np.concatenate([strokes["normal pen"], typed])
    all_labels = np.concatenate([np.asarray(labels[:from_strokes], np.int32), typed_labels])
    return [photograph(canvas, rng) for canvas in canvases], all_labels


# ---------------------------------------------------------------- the benchmark


def preprocess_canvases(canvases, **options):
    """``to_mnist`` of each canvas: ``(digits (N, 28, 28), milliseconds per canvas)``.

    An empty result (no ink) becomes a blank digit, which counts as wrong.
    """
    digits = np.zeros((len(canvases), 28, 28), np.float32)
    milliseconds = []
    for index, canvas in enumerate(canvases):
        ink = canvas.astype(np.float32) / 255  # the canvas hands over float32 ink
        started = time.perf_counter()
        digit = to_mnist(ink, **options)
        milliseconds.append((time.perf_counter() - started) * 1000)
        if digit is not None:
            digits[index] = digit
    return digits, milliseconds


def preprocess_photos(files, **options):
    """Each JPEG's ink through ``load_image_file`` then ``to_mnist``: ``(digits, failures)``."""
    digits = np.zeros((len(files), 28, 28), np.float32)
    failures = 0
    for index, data in enumerate(files):
        source = io.BytesIO(data)
        source.name = f"photo-{index}.jpg"
        try:
            digit = to_mnist(load_image_file(source), **options)
        except ImageError:
            digit = None
        if digit is None:
            failures += 1
        else:
            digits[index] = digit
    return digits, failures


RECIPE_ONLY = {"ignore_strays": False, "stroke_width": None}


def build_conditions(images, labels, per_condition, seed, fonts=None):
    """The benchmark's test sets from MNIST test ``images`` (N, 28, 28) and ``labels``.

    Returns ``{condition: (kind, data, labels)}`` in the order printed: kind
    "digits" (28x28 already), "canvases" or "photos". Each set has its own
    random stream from ``seed``, so sets do not change when others do.
    """
    streams = [np.random.default_rng([seed, index]) for index in range(5)]
    chosen = streams[0].choice(len(labels), size=min(2 * per_condition, len(labels)), replace=False)
    first, second = chosen[:per_condition], chosen[per_condition:]
    conditions = {
        "MNIST test, 28x28": ("digits", images[first], labels[first]),
        "MNIST test on the canvas": (
            "canvases", mnist_canvases(images[first], streams[1]), labels[first]
        ),
    }
    for pen, canvases in pen_stroke_canvases(images[first], streams[2]).items():
        conditions[f"MNIST strokes, {pen}"] = ("canvases", canvases, labels[first])
    typed, typed_labels, _ = font_canvases(per_condition, streams[3], fonts)
    conditions["fonts, distorted"] = ("canvases", typed, typed_labels)
    photo_images = second if len(second) else first
    files, photo_labels = photo_files(
        images[photo_images], labels[photo_images], per_condition, streams[4], fonts
    )
    conditions["photos of paper (JPEG, EXIF)"] = ("photos", files, photo_labels)
    return conditions


def _accuracies(predictor, models, digits, labels):
    probabilities = predictor.probabilities(models, digits[..., None])
    return {
        variant_id: float(np.mean(scores.argmax(axis=1) == labels))
        for variant_id, scores in probabilities.items()
    }


def run_handwriting_bench(
    models_dir=None, per_condition=DEFAULT_PER_CONDITION, seed=0, data_path=None
):
    """Build the test sets, score every model on them, print the table; returns an exit code.

    ``models_dir`` is a folder of saved models (default: the shipped ones),
    ``data_path`` where MNIST is (default: as ``bngui train`` looks for it).
    Problems (no MNIST, no usable model) are one line on stderr and exit code 1.
    """
    from bngui.commands.classify import load_classifier_models
    from bngui.commands.train import load_data_or_explain
    from bngui.core.storage import ModelFileError

    if per_condition < 1:
        print("bngui bench: the number of digits per condition must be at least 1", file=sys.stderr)
        return 1
    data = load_data_or_explain(data_path)  # as `bngui train` finds (or downloads) MNIST
    if data is None:
        return 1
    try:
        models, problems = load_classifier_models(models_dir)
    except ModelFileError as error:
        print(f"bngui bench: {error}", file=sys.stderr)
        return 1
    for problem in problems:
        print(f"bngui bench: warning: skipped {problem}", file=sys.stderr)

    from bngui.core.predict import Predictor

    started = time.perf_counter()
    images, labels = data.test_images[..., 0], data.test_labels
    conditions = build_conditions(images, labels, per_condition, seed)
    built = time.perf_counter() - started

    predictor = Predictor(compile=False)
    rows, latencies, photo_failures = [], [], 0
    for condition, (kind, items, truth) in conditions.items():
        if kind == "digits":
            full = recipe = _accuracies(predictor, models, items, truth)
        elif kind == "canvases":
            digits, milliseconds = preprocess_canvases(items)
            latencies.extend(milliseconds)
            full = _accuracies(predictor, models, digits, truth)
            recipe_digits, _ = preprocess_canvases(items, **RECIPE_ONLY)
            recipe = _accuracies(predictor, models, recipe_digits, truth)
        else:
            digits, photo_failures = preprocess_photos(items)
            full = _accuracies(predictor, models, digits, truth)
            recipe_digits, _ = preprocess_photos(items, **RECIPE_ONLY)
            recipe = _accuracies(predictor, models, recipe_digits, truth)
        rows.append((condition, full, recipe))

    print(format_table(rows, list(models), per_condition, seed))
    if photo_failures:
        print(f"{photo_failures} photos gave no digit (counted as wrong).")
    print(
        f"Canvas preprocessing (to_mnist on {CANVAS_SIZE}x{CANVAS_SIZE} float32 ink, full"
        f" pipeline): median {statistics.median(latencies):.2f} ms,"
        f" p90 {np.percentile(latencies, 90):.2f} ms over {len(latencies)} canvases."
    )
    print(f"Sets built in {built:.0f} s, whole run {time.perf_counter() - started:.0f} s.")
    return 0


def format_table(rows, model_ids, per_condition, seed):
    """The accuracy table: one line per condition, full pipeline then recipe only, per model."""
    name_width = max(len("condition"), *(len(condition) for condition, _, _ in rows))
    column = max(8, *(len(model_id) for model_id in model_ids))
    group = "  ".join(f"{model_id:>{column}}" for model_id in model_ids)
    group_width = len(group)
    lines = [
        f"Handwriting benchmark: {per_condition} digits per condition, seed {seed}; accuracy.",
        f"{'':<{name_width}}  {'full pipeline':^{group_width}}"
        f"    {'MNIST recipe only':^{group_width}}",
        f"{'condition':<{name_width}}  {group}    {group}",
    ]
    for condition, full, recipe in rows:
        cells = "  ".join(f"{full[model_id]:>{column}.1%}" for model_id in model_ids)
        recipe_cells = "  ".join(f"{recipe[model_id]:>{column}.1%}" for model_id in model_ids)
        lines.append(f"{condition:<{name_width}}  {cells}    {recipe_cells}")
    return "\n".join(lines)
