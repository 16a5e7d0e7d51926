"""Turn a drawn or loaded digit into the form MNIST's digits have.

MNIST's recipe (SPEC.md, "The drawing canvas"): crop to the ink, scale the
longer side to 20 px keeping the aspect ratio with anti-aliasing (grey levels
kept, no thresholding), put it in a 28x28 black field and shift it so its
centre of mass sits at the field's centre; white ink on black, values in [0, 1].

This module is Qt-free and uses numpy only, so ``to_mnist`` can run live while
the user draws (about a millisecond for a 400x400 canvas). TensorFlow is
imported lazily, only to decode image files.
"""

import os
import re

import numpy as np

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


class ImageError(Exception):
    """An image file that is unreadable, empty or not a supported image.

    The message starts with the file's path.
    """


def center_of_mass(image):
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
    integral = np.zeros((source_rows + 1,) + image.shape[1:], dtype=np.float32)
    np.cumsum(image, axis=0, out=integral[1:])
    edges = np.arange(target_rows + 1) * (source_rows / target_rows)
    # Pixel holding each edge; the last edge interpolates inside the last pixel.
    pixel = np.minimum(edges.astype(np.intp), source_rows - 1)
    inside = (edges - pixel).astype(np.float32)[:, None]
    integral_at_edges = integral[pixel] + inside * (integral[pixel + 1] - integral[pixel])
    return np.diff(integral_at_edges, axis=0) * np.float32(target_rows / source_rows)


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


def to_mnist(ink, *, ink_threshold=0.02):
    """Turn a 2-D ink image of any size into a 28x28 MNIST-style digit.

    ``ink`` is bright ink on a dark background: floats in [0, 1], or integers
    read as 0..255 (uint8); values outside [0, 1] are clipped. Values at or
    below ``ink_threshold`` (and NaN) are background noise and zeroed; the rest
    keep their grey levels.

    Returns a (28, 28) float32 array in [0, 1], or None when there is no ink
    (an empty canvas is not a digit).
    """
    ink = _as_unit_float(ink)
    if ink.ndim != 2:
        raise ValueError(f"expected a 2-D ink image, got shape {ink.shape}")

    is_ink = ink > ink_threshold
    ink_rows = np.flatnonzero(is_ink.any(axis=1))
    if ink_rows.size == 0:
        return None
    ink_cols = np.flatnonzero(is_ink.any(axis=0))
    top, bottom = ink_rows[0], ink_rows[-1] + 1
    left, right = ink_cols[0], ink_cols[-1] + 1
    crop = np.where(is_ink[top:bottom, left:right], ink[top:bottom, left:right], 0.0)

    # Longer side to DIGIT_BOX, the other in proportion (at least one pixel).
    height, width = crop.shape
    scale = DIGIT_BOX / max(height, width)
    digit_height = max(1, round(height * scale))
    digit_width = max(1, round(width * scale))
    # Rows first: the big canvas shrinks along the contiguous axis.
    shortened = _area_resample_rows(crop, digit_height)
    digit = _area_resample_rows(shortened.T, digit_width).T

    field = _place_centred(digit)
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


def ink_from_image(pixels):
    """Ink (bright = ink, float32 in [0, 1]) from an image's pixels.

    ``pixels`` is (H, W) or (H, W, C) with C = 1 (grey), 2 (grey + alpha),
    3 (RGB) or 4 (RGBA); integers are read as 0..255, floats as [0, 1].
    Colour becomes grey by luminance.

    Opaque images: the border (outer 5% frame) is the paper. If it is mostly
    light (median > 0.5) the drawing is dark ink on light paper and is
    inverted. The paper's own level (the border median after that) is then
    subtracted and the rest stretched back to [0, 1], so grey paper, such as a
    photographed sheet, reads as no ink rather than as faint ink everywhere.

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
        ink = 1.0 - grey if _border_median(grey) > 0.5 else grey
        paper = _border_median(ink)  # at most 0.5 after the polarity choice
        ink = (ink - paper) / (1.0 - paper)
    return np.clip(ink, 0.0, 1.0).astype(np.float32, copy=False)


def load_image_file(path):
    """Read a PNG, JPEG, BMP or GIF (first frame) and return its ink.

    Any problem (missing, unreadable, not an image, zero size) raises
    ``ImageError`` whose message starts with ``path``.
    """
    from bngui.core.tf_runtime import tf

    if not os.path.exists(path):
        raise ImageError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise ImageError(f"{path}: not a file")
    if os.path.getsize(path) == 0:
        raise ImageError(f"{path}: the file is empty")
    try:
        data = tf.io.read_file(os.fspath(path))
    except (tf.errors.OpError, ValueError) as error:
        raise ImageError(f"{path}: the file cannot be read ({_tf_reason(error)})") from error
    try:
        image = tf.io.decode_image(data, expand_animations=False).numpy()
    except (tf.errors.OpError, ValueError) as error:
        raise ImageError(
            f"{path}: not a readable PNG, JPEG, BMP or GIF image ({_tf_reason(error)})"
        ) from error
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ImageError(f"{path}: the image has zero size ({image.shape[1]}x{image.shape[0]})")
    return ink_from_image(image)


def _tf_reason(error):
    """TensorFlow's error text without its op-name decorations."""
    message = getattr(error, "message", None) or str(error)
    message = re.sub(r"\{\{.*?\}\}", "", message)  # {{function_node ...}}
    message = re.sub(r"\[Op:.*", "", message, flags=re.DOTALL)
    return message.strip() or type(error).__name__


def preprocess_file(path):
    """The 28x28 MNIST-style digit in an image file (see ``to_mnist``).

    Raises ``ImageError`` if the file cannot be read or holds no ink.
    """
    digit = to_mnist(load_image_file(path))
    if digit is None:
        raise ImageError(f"{path}: the image is empty (no ink found)")
    return digit
