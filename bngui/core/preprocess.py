"""Turn a drawn or loaded digit into the form MNIST's digits have.

MNIST's recipe: crop to the ink, scale the longer side to 20 px keeping the
aspect ratio with anti-aliasing (grey levels kept, no thresholding), put it in
a 28x28 black field and shift it so its centre of mass sits at the field's
centre; white ink on black, values in [0, 1].

People do not write like MNIST's writers, so ``to_mnist`` meets them halfway
before the recipe:

- Stray marks. The ink's connected components are found; the one with the
  most ink is the digit. Another component is kept as part of the digit only
  if it is big and close enough, both measured against the main component's
  size: a 4 or 5 drawn in two strokes and a 7's separate crossbar stay whole,
  specks and marks far away are ignored.
- Stroke width. The digit is scaled so its longer side is ``WORK_BOX`` pixels
  and its stroke width measured there (from the strokes' area and the length
  of their centre line). Strokes thinner or fatter than MNIST's usual range are
  thickened or thinned into it by moving their outline, so a thin pen and a
  fat marker both end up MNIST-like.

Image files are decoded with Pillow (EXIF orientation honoured). Photos of
paper are flattened first: the paper's brightness is estimated at a coarse
scale and divided out (uneven lighting), and paper texture below a noise floor
is dropped.

Qt-free and TensorFlow-free: numpy and scipy for the pipeline, which is
vectorised so that ``to_mnist`` can run live while the user draws;
scikit-image for skeletons and Otsu's threshold; Pillow, imported only when
a file is read, to decode images.
"""

import io
import math
import os
from typing import BinaryIO

import numpy as np
from scipy import ndimage
from skimage.morphology import skeletonize

MNIST_SIZE = 28
DIGIT_BOX = 20

# Pixel-centre coordinate of the middle of the 28x28 field.
FIELD_CENTRE = (MNIST_SIZE - 1) / 2.0

# Share of the image's side that counts as its border when guessing polarity.
BORDER_FRACTION = 0.05

# ITU-R BT.601 luma weights, the same as Pillow's "L" conversion.
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)

# After the first centring, ink clipped at the field's edge can leave the
# centre of mass slightly off; a few cheap re-centring passes fix that.
RECENTRE_PASSES = 5
RECENTRE_TOLERANCE = 0.5  # whole-pixel shifts cannot do better

# -- which ink is the digit ----------------------------------------------------
# Components touch through edges or corners.
EIGHT_NEIGHBOURS = np.ones((3, 3), dtype=bool)
# A separate component is part of the digit when the longer side of its box is
# at least PART_MIN_EXTENT of the main component's and the gap between the two
# boxes is at most PART_MAX_GAP of it. A pen tap is about a twelfth of a digit
# drawn across the canvas; a 7's crossbar or a 5's top bar a quarter or more.
PART_MIN_EXTENT = 0.2
PART_MAX_GAP = 0.35

# -- stroke width ----------------------------------------------------------------
# Strokes are measured and moved at this scale (the digit's longer side, in
# pixels): fine enough for sub-pixel widths in the 20 px box, small enough
# for the distance transforms to stay cheap.
WORK_BOX = 4 * DIGIT_BOX
# MNIST's stroke widths in the 20 px box, in pixels, by measure_stroke_width
# over the 60,000 MNIST training digits: median 2.06, quartiles 1.77 and 2.40,
# 10th and 90th percentiles 1.53 and 2.80. Strokes are moved into the 10-90%
# range rather than all to the median: on 1,000 MNIST test digits redrawn on
# the canvas, the shipped BN model read 95.2% with the range, 94.5% with every
# digit forced to the median, 95.0% with strokes as drawn.
MNIST_STROKE_WIDTH = 2.06
MNIST_STROKE_RANGE = (1.5, 2.8)

# A path, or a binary file object (its ``name``, if any, is used in messages).
ImageSource = str | os.PathLike[str] | BinaryIO
# A stroke width in the 20 px box, or a (low, high) range of them.
StrokeWidth = float | tuple[float, float]
# Thinning moves the outline in by at most this share of the strokes' typical
# half-width, so that the thinner parts of a fat stroke do not vanish.
MAX_THINNING = 0.7

# -- photos ---------------------------------------------------------------------
# Larger images are shrunk (anti-aliased) to this longer side when read.
MAX_IMAGE_SIDE = 1024
# The paper's brightness is estimated on the image shrunk to this longer
# side, as a high percentile over a window (most of any window is paper),
# then smoothed and enlarged back.
BACKGROUND_SIDE = 64
BACKGROUND_WINDOW = 11
BACKGROUND_PERCENTILE = 90
BACKGROUND_SMOOTHING = 2.0  # Gaussian sigma, in pixels of the shrunk image
# Paper texture: the part of the flattened ink below the paper's median plus
# NOISE_SIGMAS robust standard deviations is dropped.
NOISE_SIGMAS = 4.0
# An image whose ink is less than this much darker than its paper (Otsu's two
# classes) is blank paper, not a faint digit.
MIN_INK_CONTRAST = 0.1


class ImageError(Exception):
    """An image file that is unreadable, empty or not a supported image.

    The message starts with the file's path.
    """


def center_of_mass(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted centre of a 2-D image as ``(row, col)``.

    Coordinates are pixel centres: a single lit pixel at ``[r, c]`` gives
    ``(r, c)``. Raises ``ValueError`` if the image has no positive mass.
    """
    image = np.asarray(image, dtype=np.float64)
    total = image.sum()
    if not total > 0:
        raise ValueError("the image has no ink, so it has no centre of mass")
    row = image.sum(axis=1) @ np.arange(image.shape[0]) / total
    col = image.sum(axis=0) @ np.arange(image.shape[1]) / total
    return float(row), float(col)


def _as_unit_float(array):
    """Float32 copy of ``array`` clipped to [0, 1]; integers are read as 0..255."""
    array = np.asarray(array)
    if np.issubdtype(array.dtype, np.integer):
        array = array.astype(np.float32) / 255.0
    return np.clip(array.astype(np.float32, copy=False), 0.0, 1.0)


def _area_resample_rows(image, target_rows):
    """Area-average ``image`` along its first axis to ``target_rows`` rows.

    Each pixel is constant over its unit cell. Output row i is the mean of the
    source interval [i*k, (i+1)*k), k = source/target rows, fractions of the
    pixels at its ends included: anti-aliasing that keeps grey levels and
    works for shrinking and enlarging alike.

    It reads the running integral (cumulative sum) of the rows at the box
    edges, interpolating linearly inside a pixel, which is exact for
    piecewise-constant pixels. This is the same result as a normalised
    overlap-weight matrix times ``image``, but without a large BLAS product:
    multi-threaded BLAS stalls for milliseconds waking its threads when the
    CPU is busy training, and this runs live while the user draws.
    """
    source_rows = image.shape[0]
    # float32 unless given float64 (a sum over a large image loses digits).
    dtype = np.result_type(image.dtype, np.float32)
    integral = np.zeros((source_rows + 1,) + image.shape[1:], dtype=dtype)
    np.cumsum(image, axis=0, out=integral[1:])
    edges = np.arange(target_rows + 1) * (source_rows / target_rows)
    # Pixel holding each edge; the last edge interpolates inside the last pixel.
    pixel = np.minimum(edges.astype(np.intp), source_rows - 1)
    inside = (edges - pixel).astype(dtype)[:, None]
    integral_at_edges = integral[pixel] + inside * (integral[pixel + 1] - integral[pixel])
    return np.diff(integral_at_edges, axis=0) * dtype.type(target_rows / source_rows)


def _shift_matrix(source_size, target_size, offset):
    """Matrix S (target, source) that moves a signal by ``offset`` pixels.

    Output pixel i takes the source at position i - offset by linear
    interpolation (a tent kernel), so fractional offsets are allowed. Source
    pixels that land outside the target are dropped (zero fill, no wrap-around).
    Without clipping the centre of mass moves by exactly ``offset``.
    """
    source_position = np.arange(target_size)[:, None] - offset
    distance = np.abs(source_position - np.arange(source_size)[None, :])
    return np.clip(1.0 - distance, 0.0, None).astype(np.float32)


def _place_centred(image, field_size=MNIST_SIZE):
    """Put ``image`` into a zero field so its centre of mass is at the centre."""
    row, col = center_of_mass(image)
    centre = (field_size - 1) / 2.0
    # Whole-pixel moves, as MNIST was made: a fractional shift would blur the
    # strokes, and the models were trained on sharp digits.
    rows = _shift_matrix(image.shape[0], field_size, round(centre - row))
    cols = _shift_matrix(image.shape[1], field_size, round(centre - col))
    return rows @ image @ cols.T


def _resample(image, shape):
    """Area-average a 2-D image to ``shape`` (rows first, then columns)."""
    rows = _area_resample_rows(image, shape[0])
    return _area_resample_rows(rows.T, shape[1]).T


def _bounding_box(mask):
    """``(top, bottom, left, right)`` of a mask's True pixels, ends exclusive; None if none."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _crop(ink, mask):
    """The ink under ``mask``, cropped to the mask's bounding box (zero elsewhere)."""
    top, bottom, left, right = _bounding_box(mask)
    return np.where(mask[top:bottom, left:right], ink[top:bottom, left:right], 0.0)


def digit_mask(ink: np.ndarray, is_ink: np.ndarray) -> np.ndarray:
    """Which ink pixels belong to the digit: the main component and its parts.

    ``is_ink`` is the boolean mask of ink pixels in the 2-D image ``ink``.
    Components connect through edges and corners; the main one holds the most
    ink. Another is kept if the longer side of its bounding box is at least
    ``PART_MIN_EXTENT`` of the main one's and the gap between the two boxes
    is at most ``PART_MAX_GAP`` of it; the rest (specks, marks far away) is
    dropped.
    """
    labels, count = ndimage.label(is_ink, structure=EIGHT_NEIGHBOURS)
    if count <= 1:
        return is_ink
    ink_labels = labels[is_ink]
    mass = np.bincount(ink_labels, weights=ink[is_ink], minlength=count + 1)[1:]
    slices = ndimage.find_objects(labels)
    boxes = np.array([(rows.start, rows.stop, cols.start, cols.stop) for rows, cols in slices])
    top, bottom, left, right = boxes.T
    extent = np.maximum(bottom - top, right - left)
    main = int(np.argmax(mass))
    row_gap = np.maximum(0, np.maximum(top - bottom[main], top[main] - bottom))
    col_gap = np.maximum(0, np.maximum(left - right[main], left[main] - right))
    keep = (extent >= PART_MIN_EXTENT * extent[main]) & (
        np.hypot(row_gap, col_gap) <= PART_MAX_GAP * extent[main]
    )
    keep[main] = True
    return np.concatenate([[False], keep])[labels]


def _work_image(crop, padding):
    """The cropped digit scaled so its longer side is WORK_BOX, with a zero margin."""
    height, width = crop.shape
    scale = WORK_BOX / max(height, width)
    shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    return np.pad(_resample(crop, shape), padding)


def _padding_for(stroke_width):
    """Margin (work pixels) that holds the widest outline move towards ``stroke_width``."""
    target = stroke_width * WORK_BOX / DIGIT_BOX
    return math.ceil(_outline_move(0.0, target, 0.0)) + 2


def _outline_move(width, target, half_width):
    """How far to move the outline (work pixels, + out) to turn ``width`` into ``target``.

    Moving it by d per side makes the strokes width + 2d wide and the digit's
    longer side WORK_BOX + 2d; after scaling back to the box the ratio of the
    two must be target / WORK_BOX. Thinning stops at MAX_THINNING of the
    strokes' typical ``half_width``.
    """
    move = 0.5 * WORK_BOX * (target - width) / (WORK_BOX - target)
    return max(move, -MAX_THINNING * half_width)


def _centre_line_length(skeleton):
    """Length of a one-pixel-wide 8-connected skeleton, in pixels.

    Side-by-side neighbours are one pixel apart, diagonal ones sqrt(2); a
    diagonal step is not counted where an L-shaped pair of side steps already
    joins the two pixels.
    """
    side_steps = (skeleton[:, 1:] & skeleton[:, :-1]).sum() + (skeleton[1:] & skeleton[:-1]).sum()
    falling = skeleton[1:, 1:] & skeleton[:-1, :-1] & ~skeleton[:-1, 1:] & ~skeleton[1:, :-1]
    rising = skeleton[1:, :-1] & skeleton[:-1, 1:] & ~skeleton[:-1, :-1] & ~skeleton[1:, 1:]
    return float(side_steps + math.sqrt(2) * (falling.sum() + rising.sum()))


def _stroke_size(coverage):
    """``(width, half_width)`` of the strokes in a coverage image (1 = full ink), in pixels.

    The width w comes from the strokes' area A (the coverage's sum) and their
    centre line (the skeleton of the pixels at least half covered), of length
    L with n ends: a stroke's round end reaches about w/2 past its centre line,
    so A = w L + n (pi/8) w^2, solved for w. This holds for hairlines and fat
    strokes alike. The half-width is the median distance from the centre line
    to the nearest uncovered pixel, which stays meaningful for a blob too.
    """
    covered = coverage >= 0.5
    centre_line = skeletonize(covered)
    if not centre_line.any():
        return 0.0, 0.0
    length = max(_centre_line_length(centre_line), 1.0)
    neighbours = ndimage.convolve(centre_line.astype(np.uint8), EIGHT_NEIGHBOURS.astype(np.uint8))
    ends = int(np.count_nonzero(centre_line & (neighbours == 2)))  # itself and one neighbour
    area = float(coverage.sum())
    width = 2 * area / (length + math.sqrt(length * length + math.pi * ends * area / 2))
    half_width = float(np.median(ndimage.distance_transform_edt(covered)[centre_line])) - 0.5
    return width, half_width


def _disk(radius):
    """Boolean footprint of the pixels within ``radius`` (a whole number) of the centre."""
    rows, cols = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return rows * rows + cols * cols <= radius * radius


def _move_outline(image, distance):
    """Grey dilation (``distance`` > 0) or erosion (< 0) by a disk of radius |distance|.

    A fractional radius blends the results for the two nearest whole radii,
    so the outline moves smoothly with ``distance``.
    """
    operation = ndimage.grey_dilation if distance > 0 else ndimage.grey_erosion
    radius = abs(distance)
    whole = int(radius)
    inner = operation(image, footprint=_disk(whole)) if whole else image
    fraction = radius - whole
    if fraction == 0:
        return inner
    return (1.0 - fraction) * inner + fraction * operation(image, footprint=_disk(whole + 1))


def measure_stroke_width(ink: np.ndarray, *, ink_threshold: float = 0.02) -> float | None:
    """Stroke width of the digit in ``ink``, in pixels of the 20 px digit box.

    The ink above ``ink_threshold`` is cropped and scaled as ``to_mnist``
    does, so the number does not depend on the image's size; the width is
    then found from the strokes' area and centre line (see ``_stroke_size``),
    the brightest ink counting as full coverage. Returns None for an image
    without ink.
    """
    ink = _as_unit_float(ink)
    is_ink = ink > ink_threshold
    if not is_ink.any():
        return None
    crop = _crop(ink, is_ink)
    width, _ = _stroke_size(_work_image(crop, padding=1) / crop.max())
    return width * DIGIT_BOX / WORK_BOX


def normalise_stroke_width(
    crop: np.ndarray, stroke_width: StrokeWidth = MNIST_STROKE_RANGE
) -> np.ndarray:
    """The cropped digit with strokes moved into ``stroke_width`` (pixels in the 20 px box).

    ``stroke_width`` is a ``(low, high)`` range or one width. Strokes thinner
    than ``low`` are thickened to it, fatter than ``high`` thinned to it; the
    outline moves out (grey dilation) or in (grey erosion, by at most
    MAX_THINNING of the half-width) by the same distance everywhere, keeping
    grey levels and anti-aliased edges. The move is chosen so the width comes
    out right after the result is cropped and scaled to the box again (a
    thicker digit is also a bigger one).

    Returns ``crop`` itself when its strokes are within the range, else the
    changed digit at the working scale (its longer side about WORK_BOX).
    """
    if isinstance(stroke_width, (int, float)):
        low = high = float(stroke_width)
    else:
        low, high = (float(value) for value in stroke_width)
    to_work = WORK_BOX / DIGIT_BOX
    peak = crop.max()
    work = _work_image(crop, _padding_for(high))
    width, half_width = _stroke_size(work / peak)
    target = min(max(width, low * to_work), high * to_work)
    if target == width:
        return crop
    return _move_outline(work, _outline_move(width, target, half_width))


def _scale_to_box(crop):
    """The cropped digit with its longer side DIGIT_BOX, the other in proportion."""
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    # Rows first: the big canvas shrinks along the contiguous axis.
    return _resample(crop, (max(1, round(height * scale)), max(1, round(width * scale))))


def to_mnist(
    ink: np.ndarray,
    *,
    ink_threshold: float = 0.02,
    ignore_strays: bool = True,
    stroke_width: StrokeWidth | None = MNIST_STROKE_RANGE,
) -> np.ndarray | None:
    """Turn a 2-D ink image of any size into a 28x28 MNIST-style digit.

    ``ink`` is bright ink on a dark background: floats in [0, 1], or integers
    read as 0..255 (uint8); values outside [0, 1] are clipped. Values at or
    below ``ink_threshold`` (and NaN) are background noise and zeroed; the rest
    keep their grey levels.

    With ``ignore_strays`` only the digit's components count (see
    ``digit_mask``). With a ``stroke_width`` (pixels in the 20 px box: a
    ``(low, high)`` range, by default MNIST's usual widths, or one width) the
    strokes are moved into it (see ``normalise_stroke_width``); None keeps
    them as drawn. Both off is MNIST's recipe alone.

    Returns a (28, 28) float32 array in [0, 1], or None when there is no ink
    (an empty canvas is not a digit).
    """
    ink = _as_unit_float(ink)
    if ink.ndim != 2:
        raise ValueError(f"expected a 2-D ink image, got shape {ink.shape}")

    is_ink = ink > ink_threshold
    if not is_ink.any():
        return None
    if ignore_strays:
        is_ink = digit_mask(ink, is_ink)
    crop = _crop(ink, is_ink)
    if stroke_width is not None:
        redrawn = normalise_stroke_width(crop, stroke_width)
        if redrawn is not crop:
            crop = _crop(redrawn, redrawn > ink_threshold)

    field = _place_centred(_scale_to_box(crop))
    for _ in range(RECENTRE_PASSES):
        # Only needed when the shift pushed ink over the field's edge.
        row, col = center_of_mass(field)
        if max(abs(row - FIELD_CENTRE), abs(col - FIELD_CENTRE)) <= RECENTRE_TOLERANCE:
            break
        field = _place_centred(field)
    return np.clip(field, 0.0, 1.0).astype(np.float32, copy=False)


def _border_median(grey):
    """Median of the outer BORDER_FRACTION frame of a 2-D image."""
    height, width = grey.shape
    frame_rows = max(1, round(BORDER_FRACTION * height))
    frame_cols = max(1, round(BORDER_FRACTION * width))
    border = np.zeros(grey.shape, dtype=bool)
    border[:frame_rows] = True
    border[-frame_rows:] = True
    border[:, :frame_cols] = True
    border[:, -frame_cols:] = True
    return float(np.median(grey[border]))


def _paper_level(grey, light_paper):
    """A smooth estimate of the paper's brightness under every pixel.

    The image is shrunk to BACKGROUND_SIDE, where a window of it is mostly
    paper even over the strokes; a high percentile there (a low one for dark
    paper) is the paper's level, smoothed and enlarged back. Uniform paper
    gives exactly its own level.
    """
    height, width = grey.shape
    scale = min(1.0, BACKGROUND_SIDE / max(height, width))
    shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    small = _resample(grey.astype(np.float64), shape)
    percentile = BACKGROUND_PERCENTILE if light_paper else 100 - BACKGROUND_PERCENTILE
    level = ndimage.percentile_filter(small, percentile, size=BACKGROUND_WINDOW, mode="nearest")
    level = ndimage.gaussian_filter(level, BACKGROUND_SMOOTHING, mode="nearest")
    zoom = (height / level.shape[0], width / level.shape[1])
    return ndimage.zoom(level, zoom, order=1, mode="nearest", grid_mode=True).astype(np.float32)


def _drop_paper_texture(ink):
    """Ink without the paper's texture: the part below a noise floor is removed.

    Otsu's threshold splits paper from ink. The floor is the paper class's
    median plus NOISE_SIGMAS robust standard deviations (1.4826 median absolute
    deviations); what is left is stretched back to [0, 1]. Clean paper (no
    texture) leaves the ink as it is. If the ink class is hardly darker than
    the paper (by less than MIN_INK_CONTRAST) the image is blank.
    """
    from skimage.filters import threshold_otsu  # only images need it: keep imports light

    if not ink.max() > 0.0:
        return np.zeros_like(ink)
    split = threshold_otsu(ink)
    paper, strokes = ink[ink <= split], ink[ink > split]
    if strokes.size == 0 or strokes.mean() - paper.mean() < MIN_INK_CONTRAST:
        return np.zeros_like(ink)
    middle = np.median(paper)
    floor = middle + NOISE_SIGMAS * 1.4826 * np.median(np.abs(paper - middle))
    return (ink - floor) / (1.0 - floor)


def ink_from_image(pixels: np.ndarray) -> np.ndarray:
    """Ink (bright = ink, float32 in [0, 1]) from an image's pixels.

    ``pixels`` is (H, W) or (H, W, C) with C = 1 (grey), 2 (grey + alpha),
    3 (RGB) or 4 (RGBA); integers are read as 0..255, floats as [0, 1].
    Colour becomes grey by luminance.

    Opaque images: the border (outer 5% frame) is the paper. If it is mostly
    light (median > 0.5) the drawing is dark ink on light paper: the grey is
    divided by the paper's local brightness (see ``_paper_level``), which
    evens out lighting and shadows, and inverted. For dark paper the paper's
    local level is subtracted and the rest stretched to [0, 1]. Either way,
    uniform paper reads as no ink and its texture is dropped, and contrast is
    measured from the paper's level: strokes at 30 on paper at 200 read 0.85.

    Images with transparency (some alpha < 1): the strokes are the mostly
    opaque pixels (alpha >= 0.5; if there are none, any with alpha > 0). If
    their median grey is dark they were drawn for a white background, else for
    a black one, and ink = alpha * |grey - background|. So black strokes on a
    transparent PNG and white strokes on one both become ink.
    """
    pixels = _as_unit_float(pixels)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"expected (H, W) or (H, W, 1|2|3|4) pixels, got shape {pixels.shape}")

    channels = pixels.shape[2]
    colour = pixels[:, :, :3] if channels >= 3 else pixels[:, :, :1]
    grey = colour @ LUMA_WEIGHTS if colour.shape[2] == 3 else colour[:, :, 0]
    alpha = pixels[:, :, -1] if channels in (2, 4) else None

    if alpha is not None and (alpha < 1.0).any():
        strokes = alpha >= 0.5
        if not strokes.any():
            strokes = alpha > 0.0
        if not strokes.any():
            return np.zeros(grey.shape, dtype=np.float32)
        background = 1.0 if np.median(grey[strokes]) < 0.5 else 0.0
        ink = alpha * np.abs(grey - background)
    else:
        light_paper = _border_median(grey) > 0.5
        paper = _paper_level(grey, light_paper)
        if light_paper:
            ink = 1.0 - grey / np.maximum(paper, 1e-3)
        else:
            ink = (grey - paper) / np.maximum(1.0 - paper, 1e-3)
        ink = _drop_paper_texture(np.clip(ink, 0.0, 1.0))
    return np.clip(ink, 0.0, 1.0).astype(np.float32, copy=False)


def _source_name(source):
    """How a file (a path, or a binary file object with perhaps a name) is named in messages."""
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<image data>"))


def _pixels_of(image):
    """A decoded Pillow image as numpy pixels ``ink_from_image`` reads, at most MAX_IMAGE_SIDE."""
    from PIL import Image

    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if image.mode.startswith("I;16"):
        image, full_scale = image.convert("I"), 65535.0
    elif image.mode in ("I", "F"):
        full_scale = None  # judged from the values below
    elif image.mode in ("1", "L", "LA", "La"):
        image, full_scale = image.convert("LA" if has_alpha else "L"), 255.0
    else:
        image, full_scale = image.convert("RGBA" if has_alpha else "RGB"), 255.0
    if image.mode in ("I", "F"):
        image = image.convert("F")
    image.thumbnail((MAX_IMAGE_SIDE, MAX_IMAGE_SIDE), Image.Resampling.BOX)
    pixels = np.asarray(image, dtype=np.float32)
    if full_scale is None:
        top = float(pixels.max(initial=0.0))
        full_scale = 65535.0 if top > 255 else 255.0 if top > 1 else 1.0
    return pixels / full_scale


def load_image_file(source: ImageSource) -> np.ndarray:
    """Read an image file and return its ink (see ``ink_from_image``).

    ``source`` is a path or a binary file object. Pillow decodes it (PNG,
    JPEG, BMP, GIF's first frame, WebP, TIFF and the other formats it reads).
    The EXIF orientation is applied, so a phone's photo comes out upright;
    images larger than MAX_IMAGE_SIDE are shrunk to it with anti-aliasing.

    Any problem (missing, unreadable, empty, not an image, truncated, zero
    size) raises ``ImageError`` whose message starts with the path (or the
    file object's name).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = _source_name(source)
    if isinstance(source, (str, os.PathLike)):
        if not os.path.exists(source):
            raise ImageError(f"{name}: no such file")
        if not os.path.isfile(source):
            raise ImageError(f"{name}: not a file")
        if os.path.getsize(source) == 0:
            raise ImageError(f"{name}: the file is empty")
        try:
            with open(source, "rb") as handle:
                data = handle.read()
        except OSError as error:
            reason = error.strerror or error
            raise ImageError(f"{name}: the file cannot be read ({reason})") from error
        source = io.BytesIO(data)
    try:
        with Image.open(source) as image:
            image.draft(None, (MAX_IMAGE_SIDE, MAX_IMAGE_SIDE))  # JPEG: decode at a smaller scale
            image.load()
            upright = ImageOps.exif_transpose(image)
            if upright.width == 0 or upright.height == 0:
                size = f"{upright.width}x{upright.height}"
                raise ImageError(f"{name}: the image has zero size ({size})")
            pixels = _pixels_of(upright)
    except ImageError:
        raise
    except UnidentifiedImageError as error:
        raise ImageError(f"{name}: not an image in a format that can be read") from error
    except Exception as error:  # Pillow's decoders fail on broken data in many ways
        reason = str(error).strip() or type(error).__name__
        raise ImageError(f"{name}: not a readable image ({reason})") from error
    return ink_from_image(pixels)


def preprocess_file(source: ImageSource) -> np.ndarray:
    """The 28x28 MNIST-style digit in an image file (see ``to_mnist``).

    ``source`` is a path or a binary file object. Raises ``ImageError`` if
    the file cannot be read or holds no ink.
    """
    digit = to_mnist(load_image_file(source))
    if digit is None:
        raise ImageError(f"{_source_name(source)}: the image is empty (no ink found)")
    return digit
