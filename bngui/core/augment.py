"""Random changes to a batch of training digits, in TensorFlow ops only.

``augment_batch(images, seed)`` takes a float32 batch ``[N, H, W, 1]`` in
[0, 1] (MNIST: 28x28) and a ``[2]`` integer seed, and returns a batch of the
same shape, dtype and range where every image has its own random

- stroke width change: a grey dilation (thicker) or erosion (thinner) by a
  3x3 cross, blended with the image by a random amount;
- elastic distortion: a smooth displacement field, random offsets on a
  coarse grid of control points enlarged bilinearly to the image's size;
- affine change: rotation, horizontal shear and scale about the image's
  centre, then a shift.

The warps are combined into one bilinear resampling (zero outside the image),
so the strokes are blurred once, not twice. All random numbers are stateless
draws from ``seed``: the same images and seed give the same batch on every
call, so every model variant trained on a batch can be given the very same
augmented batch, and a run can be repeated. There is no Python work per image
and the batch size may be dynamic, so a ``tf.function`` around it traces once
for all batch sizes.

Ranges (module constants, each drawn uniformly per image):

- ``ROTATION_DEGREES``: rotation in [-12, 12] degrees;
- ``SHEAR_DEGREES``: shear angle in [-12, 12] degrees (x moves by tan(angle)
  times the distance from the centre row);
- ``SCALE_RANGE``: scale factor in [0.85, 1.1] (MNIST's 20 px digit box
  becomes 17 to 22 px);
- ``SHIFT_PIXELS``: shift in [-2, 2] pixels along each axis;
- ``STROKE_CHANGE_RANGE``: stroke change in [-0.5, 1]: the outline moves by
  about that many pixels per side (negative: erosion, positive: dilation);
- ``ELASTIC_PIXELS``: displacement of at most 1.2 pixels along each axis, the
  field's control points ``ELASTIC_GRID`` x ``ELASTIC_GRID`` (4 x 4) over the
  image, so it bends strokes without tearing them.
"""

import math

from bngui.core.tf_runtime import tf

ROTATION_DEGREES = 12.0
SHEAR_DEGREES = 12.0
SCALE_RANGE = (0.85, 1.1)
SHIFT_PIXELS = 2.0
STROKE_CHANGE_RANGE = (-0.5, 1.0)
ELASTIC_PIXELS = 1.2
ELASTIC_GRID = 4

# One independent stream of random numbers per kind of draw.
_STROKE, _ELASTIC, _ROTATION, _SHEAR, _SCALE, _SHIFT, _DRAWS = range(7)


def augment_batch(
    images,
    seed,
    *,
    rotation_degrees: float = ROTATION_DEGREES,
    shear_degrees: float = SHEAR_DEGREES,
    scale_range: tuple[float, float] = SCALE_RANGE,
    shift_pixels: float = SHIFT_PIXELS,
    stroke_change_range: tuple[float, float] = STROKE_CHANGE_RANGE,
    elastic_pixels: float = ELASTIC_PIXELS,
) -> tf.Tensor:
    """Randomly changed copies of ``images`` (``[N, H, W, 1]`` float32 in [0, 1]).

    N may be unknown when a ``tf.function`` traces; H and W must be known.
    ``seed`` is a ``[2]`` int32 or int64 tensor; the result depends only on
    the images and the seed. The keyword arguments override the module's
    ranges (Python numbers, fixed when a ``tf.function`` traces); a zero
    range, or a range of (0, 0) or (1, 1) for scale, turns that change off.
    Returns float32 of the same shape, in [0, 1].
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    # The same numbers whether the seed comes as int32 or int64.
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    seeds = tf.random.experimental.stateless_split(seed, num=_DRAWS)
    count = tf.shape(images)[0]

    def uniform(stream, low, high, shape=None):
        shape = [count] if shape is None else shape
        return tf.random.stateless_uniform(shape, seeds[stream], minval=low, maxval=high)

    changed = _change_stroke_width(images, uniform(_STROKE, *stroke_change_range))
    height, width = images.shape[1], images.shape[2]
    field = uniform(_ELASTIC, -1.0, 1.0, [count, ELASTIC_GRID, ELASTIC_GRID, 2])
    # Bilinear enlargement keeps every displacement within the control points' range.
    flow = tf.image.resize(field, [height, width], method="bilinear") * elastic_pixels
    rotation = uniform(_ROTATION, -rotation_degrees, rotation_degrees) * (math.pi / 180)
    shear = tf.tan(uniform(_SHEAR, -shear_degrees, shear_degrees) * (math.pi / 180))
    scale = uniform(_SCALE, *scale_range)
    shift = uniform(_SHIFT, -shift_pixels, shift_pixels, [count, 2])
    rows, cols = _source_positions(height, width, flow, rotation, shear, scale, shift)
    return tf.clip_by_value(_sample_bilinear(changed, rows, cols), 0.0, 1.0)


def _change_stroke_width(images, amounts):
    """Grey dilation (amount > 0) or erosion (< 0) by a 3x3 cross, blended by |amount|.

    The cross moves an outline by one pixel along the rows and columns, so an
    amount a moves it by about a pixels per side; between 0 and 1 the edge
    pixels take grey levels in between.
    """
    def cross_max(batch):
        along_rows = tf.nn.max_pool2d(batch, ksize=[1, 3], strides=1, padding="SAME")
        along_cols = tf.nn.max_pool2d(batch, ksize=[3, 1], strides=1, padding="SAME")
        return tf.maximum(along_rows, along_cols)

    dilated = cross_max(images)
    eroded = -cross_max(-images)
    amounts = tf.reshape(amounts, [-1, 1, 1, 1])
    thicker = tf.nn.relu(amounts) * (dilated - images)
    thinner = tf.nn.relu(-amounts) * (images - eroded)
    return images + thicker - thinner


def _source_positions(height, width, flow, rotation, shear, scale, shift):
    """Where each output pixel is read from, as (rows, cols), each ``[N, H, W]``.

    The forward change maps a source point p to c + R(rotation) Sh(shear)
    S(scale) (p - c) + shift about the centre c; an output pixel, first moved
    by the elastic ``flow`` (``[N, H, W, 2]`` as (row, col) offsets), is read
    from that map's inverse.
    """
    centre_row, centre_col = (height - 1) / 2.0, (width - 1) / 2.0
    grid_rows, grid_cols = tf.meshgrid(
        tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij"
    )
    # Offsets from the centre and shift, in (x = col, y = row) order.
    x = grid_cols[None] + flow[..., 1] - shift[:, None, None, 1] - centre_col
    y = grid_rows[None] + flow[..., 0] - shift[:, None, None, 0] - centre_row
    # M = R Sh S = scale * [[cos, cos*shear - sin], [sin, sin*shear + cos]], det = scale^2.
    cos, sin = tf.cos(rotation), tf.sin(rotation)
    a, b = cos * scale, (cos * shear - sin) * scale
    c, d = sin * scale, (sin * shear + cos) * scale
    determinant = scale * scale

    def per_image(value):
        return (value / determinant)[:, None, None]

    source_x = per_image(d) * x - per_image(b) * y + centre_col
    source_y = -per_image(c) * x + per_image(a) * y + centre_row
    return source_y, source_x


def _sample_bilinear(images, rows, cols):
    """``images`` read at fractional (rows, cols) by bilinear interpolation, zero outside."""
    height, width = images.shape[1], images.shape[2]
    # A ring of zeros around each image; positions beyond it read the ring.
    padded = tf.pad(images[..., 0], [[0, 0], [1, 1], [1, 1]])
    padded_width = width + 2
    flat = tf.reshape(padded, [tf.shape(images)[0], -1])
    rows = tf.clip_by_value(rows, -1.0, float(height))
    cols = tf.clip_by_value(cols, -1.0, float(width))
    top = tf.clip_by_value(tf.floor(rows), -1.0, float(height - 1))
    left = tf.clip_by_value(tf.floor(cols), -1.0, float(width - 1))
    down, right = rows - top, cols - left
    top_index = tf.cast(top, tf.int32) + 1  # +1: the zero ring
    left_index = tf.cast(left, tf.int32) + 1

    def read(row_index, col_index):
        index = tf.reshape(row_index * padded_width + col_index, [tf.shape(images)[0], -1])
        return tf.reshape(tf.gather(flat, index, batch_dims=1), tf.shape(rows))

    upper = (1.0 - right) * read(top_index, left_index) + right * read(top_index, left_index + 1)
    lower = (1.0 - right) * read(top_index + 1, left_index) + right * read(
        top_index + 1, left_index + 1
    )
    return ((1.0 - down) * upper + down * lower)[..., None]
