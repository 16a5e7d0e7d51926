"""MNIST: find it, read it, check it, split it like the notebook.

Two on-disk layouts are understood:

- Keras's ``mnist.npz`` (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``);
- a folder of the four classic IDX files, gzipped or not.

Where to look, in order: a path given by the caller, the ``BNGUI_MNIST``
environment variable, Keras's download cache. When none of them has it, the file
is downloaded from Keras's origin into Keras's cache, so Keras and bngui share it.

Every problem with a file is reported as one :class:`DataError` whose message
names the file and says what is wrong, so the GUI can show it as it is.

This module uses only numpy and the standard library: it must not import
TensorFlow or Qt, so that it is quick to import and usable anywhere.
"""

import gzip
import hashlib
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"

# The notebook keeps the first 5,000 training images for validation.
VALIDATION_SIZE = 5000

IMAGE_SIDE = 28
CLASSES = 10

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")

# IDX magic numbers: two zero bytes, type 0x08 (unsigned byte), number of dimensions.
IDX_IMAGES_MAGIC = 2051
IDX_LABELS_MAGIC = 2049
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

ENV_VARIABLE = "BNGUI_MNIST"

# Reasons shown in "where I looked" messages; the first two are explicit choices
# of the user, so a path given there that does not exist is an error.
GIVEN_PATH = "given path"
ENV_PATH = f"{ENV_VARIABLE} environment variable"
KERAS_CACHE = "Keras cache"
# The start of the message of a DataError when no copy was found (the window says it in its words).
NOT_FOUND = "MNIST not found"

DOWNLOAD_CHUNK_BYTES = 64 * 1024


class DataError(Exception):
    """MNIST could not be found, read, downloaded or trusted.

    The message names the file (or URL) and what is wrong with it.
    """


@dataclass(frozen=True)
class MnistSplits:
    """MNIST split like the notebook, ready for a model.

    Images are float32 of shape (N, 28, 28, 1) in [0, 1] (pixel / 255); labels
    are int32 digits 0..9. The validation set is the first ``VALIDATION_SIZE``
    training images, and the training set is the rest.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    validation_images: np.ndarray
    validation_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: str


# x_train, y_train, x_test, y_test as read from a file (uint8).
MnistArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

# ----------------------------------------------------------------------------
# Checking arrays


def _as_uint8(array, what, path, *, maximum):
    """``array`` as uint8 if it is integral and within 0..maximum, else DataError."""
    if not np.issubdtype(array.dtype, np.integer):
        raise DataError(
            f"{path}: {what} have dtype {array.dtype}; expected integers 0..{maximum}"
        )
    # Any uint8 is a valid pixel; everything else has its range checked.
    needs_range_check = array.dtype != np.uint8 or maximum < 255
    if needs_range_check and array.size:
        low, high = int(array.min()), int(array.max())
        if low < 0 or high > maximum:
            raise DataError(
                f"{path}: {what} have values from {low} to {high}; expected 0..{maximum}"
            )
    return array.astype(np.uint8, copy=False)


def _checked_pair(images, labels, subset, images_path, labels_path):
    """Check one subset (``train`` or ``test``) and return it as uint8 arrays."""
    what_images = f"{subset} images"
    what_labels = f"{subset} labels"
    if images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise DataError(
            f"{images_path}: {what_images} have shape {images.shape}; "
            f"expected (N, {IMAGE_SIDE}, {IMAGE_SIDE})"
        )
    if labels.ndim != 1:
        raise DataError(
            f"{labels_path}: {what_labels} have shape {labels.shape}; expected (N,)"
        )
    if len(images) != len(labels):
        where = images_path if images_path == labels_path else f"{images_path} and {labels_path}"
        raise DataError(
            f"{where}: {len(images)} {what_images} but {len(labels)} {what_labels}"
        )
    if subset == "train" and len(images) <= VALIDATION_SIZE:
        raise DataError(
            f"{images_path}: only {len(images)} training images; more than "
            f"{VALIDATION_SIZE} are needed (the first {VALIDATION_SIZE} are the validation set)"
        )
    images = _as_uint8(images, what_images, images_path, maximum=255)
    labels = _as_uint8(labels, what_labels, labels_path, maximum=CLASSES - 1)
    return images, labels


# ----------------------------------------------------------------------------
# Keras's mnist.npz


def read_npz(path: str | os.PathLike) -> MnistArrays:
    """Read and check a Keras-layout ``mnist.npz``.

    Returns ``(x_train, y_train, x_test, y_test)``: images (N, 28, 28) uint8,
    labels (N,) uint8. Raises DataError naming the file when it is missing,
    unreadable, or does not hold MNIST-shaped data.
    """
    path = Path(path)
    if not path.is_file():
        problem = "is a folder, not an .npz file" if path.is_dir() else "does not exist"
        raise DataError(f"{path}: {problem}")
    # An .npz is a zip archive; checking first gives a clear message for text
    # files, bare .npy arrays and truncated downloads alike.
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path}: not an .npz file (not a zip archive, or truncated)")
    try:
        # allow_pickle=False: a data file must never run code when it is read.
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(
                    f"{path}: missing {', '.join(missing)} "
                    f"(found {', '.join(archive.files) or 'nothing'})"
                )
            arrays = {key: archive[key] for key in NPZ_KEYS}
    except (zipfile.BadZipFile, zlib.error, ValueError, OSError, EOFError) as error:
        raise DataError(f"{path}: damaged or unreadable .npz archive ({error})") from error

    x_train, y_train = _checked_pair(arrays["x_train"], arrays["y_train"], "train", path, path)
    x_test, y_test = _checked_pair(arrays["x_test"], arrays["y_test"], "test", path, path)
    return x_train, y_train, x_test, y_test


# ----------------------------------------------------------------------------
# The classic IDX files


def _idx_file(folder, stem):
    """The IDX file for ``stem`` in ``folder``, gzipped or not, else DataError."""
    for name in (f"{stem}.gz", stem):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise DataError(f"{folder}: missing {stem}.gz (or unzipped {stem})")


def _read_bytes(path):
    """The (decompressed) content of an IDX file."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                return stream.read()
        return path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise DataError(f"{path}: damaged or not gzip data ({error})") from error
    except OSError as error:
        raise DataError(f"{path}: could not be read ({error})") from error


def _parse_idx(path, magic, dimensions):
    """Parse an unsigned-byte IDX file into an array of ``dimensions`` axes."""
    content = _read_bytes(path)
    header_bytes = 4 * (1 + dimensions)
    if len(content) < header_bytes:
        raise DataError(
            f"{path}: truncated, {len(content)} bytes is shorter than the "
            f"{header_bytes}-byte header"
        )
    # The header is big-endian 32-bit integers: the magic number, then the size of each axis.
    header = np.frombuffer(content, dtype=">u4", count=1 + dimensions)
    found_magic, shape = int(header[0]), tuple(int(size) for size in header[1:])
    if found_magic != magic:
        raise DataError(f"{path}: magic number {found_magic}, expected {magic}")
    expected = math.prod(shape)
    available = len(content) - header_bytes
    if available < expected:
        raise DataError(
            f"{path}: truncated, header says {shape} = {expected} bytes of data "
            f"but only {available} follow"
        )
    if available > expected:
        raise DataError(
            f"{path}: {available - expected} unexpected bytes after the "
            f"{expected} bytes of data the header announces {shape}"
        )
    # Read-only view over the file's bytes: no copy, no loop over pixels.
    return np.frombuffer(content, dtype=np.uint8, offset=header_bytes).reshape(shape)


def read_idx_folder(path: str | os.PathLike) -> MnistArrays:
    """Read and check a folder of the four classic MNIST IDX files.

    The files are ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
    ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each either
    gzipped (``.gz``, preferred when both exist) or not. Returns the same
    tuple as :func:`read_npz`; the arrays are read-only.
    """
    folder = Path(path)
    if not folder.is_dir():
        problem = "is a file, not a folder of IDX files" if folder.exists() else "does not exist"
        raise DataError(f"{folder}: {problem}")
    files = {key: _idx_file(folder, stem) for key, stem in IDX_FILES.items()}

    x_train = _parse_idx(files["x_train"], IDX_IMAGES_MAGIC, 3)
    y_train = _parse_idx(files["y_train"], IDX_LABELS_MAGIC, 1)
    x_test = _parse_idx(files["x_test"], IDX_IMAGES_MAGIC, 3)
    y_test = _parse_idx(files["y_test"], IDX_LABELS_MAGIC, 1)

    x_train, y_train = _checked_pair(x_train, y_train, "train", files["x_train"], files["y_train"])
    x_test, y_test = _checked_pair(x_test, y_test, "test", files["x_test"], files["y_test"])
    return x_train, y_train, x_test, y_test


# ----------------------------------------------------------------------------
# The notebook's split


def _to_model_images(images):
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]."""
    scaled = np.divide(images, 255, dtype=np.float32)
    return scaled.reshape(*images.shape, 1)


def split_like_notebook(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                        y_test: np.ndarray, source: str = "") -> MnistSplits:
    """Split MNIST as the notebook does: the first 5,000 training images validate.

    Takes the arrays :func:`read_npz` or :func:`read_idx_folder` return.
    """
    if len(x_train) <= VALIDATION_SIZE:
        raise DataError(
            f"{source or 'MNIST'}: only {len(x_train)} training images; more than "
            f"{VALIDATION_SIZE} are needed"
        )
    train_images = _to_model_images(x_train)
    train_labels = np.asarray(y_train, dtype=np.int32)
    return MnistSplits(
        train_images=train_images[VALIDATION_SIZE:],
        train_labels=train_labels[VALIDATION_SIZE:],
        validation_images=train_images[:VALIDATION_SIZE],
        validation_labels=train_labels[:VALIDATION_SIZE],
        test_images=_to_model_images(x_test),
        test_labels=np.asarray(y_test, dtype=np.int32),
        source=source,
    )


# ----------------------------------------------------------------------------
# Where MNIST is


def keras_cache_path() -> Path:
    """Where Keras keeps its downloaded ``mnist.npz``."""
    keras_home = os.environ.get("KERAS_HOME")
    base = Path(keras_home) if keras_home else Path.home() / ".keras"
    return base / "datasets" / "mnist.npz"


def candidate_locations(path: str | os.PathLike | None = None) -> list[tuple[str, Path]]:
    """``[(why, path)]`` in search order: the given path, BNGUI_MNIST, Keras cache."""
    locations = []
    if path is not None and str(path) != "":
        locations.append((GIVEN_PATH, Path(path).expanduser()))
    from_env = os.environ.get(ENV_VARIABLE)
    if from_env:
        locations.append((ENV_PATH, Path(from_env).expanduser()))
    locations.append((KERAS_CACHE, keras_cache_path()))
    return locations


def _locate(path=None):
    """The first ``(why, path)`` that exists, or None.

    A path the user chose explicitly (argument or BNGUI_MNIST) that does not
    exist is an error rather than a reason to look elsewhere: silently using
    another copy would hide the typo.
    """
    for why, candidate in candidate_locations(path):
        if candidate.exists():
            return why, candidate
        if why != KERAS_CACHE:
            raise DataError(f"{candidate}: does not exist (from the {why})")
    return None


def find_mnist(path: str | os.PathLike | None = None) -> Path | None:
    """The first place in :func:`candidate_locations` that exists, or None."""
    found = _locate(path)
    return found[1] if found else None


def load_mnist(
    path: str | os.PathLike | None = None,
    *,
    allow_download: bool = True,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> MnistSplits:
    """Find (or download) MNIST, check it and split it like the notebook.

    Looks at ``path`` (an .npz file or an IDX folder), then BNGUI_MNIST, then
    the Keras cache. A file in the Keras cache is used as it is, even if its
    hash is not Keras's: it is never downloaded again. When nothing is found,
    MNIST is downloaded into the Keras cache if ``allow_download``, with
    ``progress`` and ``cancel`` passed to :func:`download_mnist`; otherwise a
    DataError lists the places searched.
    """
    found = _locate(path)
    if found is not None:
        why, location = found
        if location.is_dir():
            arrays, kind = read_idx_folder(location), "IDX files in"
        else:
            arrays, kind = read_npz(location), "file"
        return split_like_notebook(*arrays, source=f"{kind} {location} ({why})")

    if not allow_download:
        searched = "; ".join(f"{where} ({why})" for why, where in candidate_locations(path))
        raise DataError(f"{NOT_FOUND}. Looked in: {searched}")
    destination = download_mnist(keras_cache_path(), progress=progress, cancel=cancel)
    return split_like_notebook(
        *read_npz(destination), source=f"file {destination} (downloaded from {KERAS_ORIGIN})"
    )


# ----------------------------------------------------------------------------
# Download


def _describe_network_error(error):
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    return str(error) or type(error).__name__


def download_mnist(
    destination: str | os.PathLike | None = None,
    *,
    origin: str = KERAS_ORIGIN,
    sha256: str = KERAS_SHA256,
    progress: Callable[[int, int | None], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    timeout: float = 30,
) -> Path:
    """Download ``origin`` to ``destination`` (default: the Keras cache) and verify it.

    The data goes to a temporary file beside ``destination``; only once it is
    complete and its sha256 matches is it moved into place (atomically), so a
    failed, cancelled or corrupted download never leaves a file behind.

    ``progress(bytes_done, bytes_total_or_None)`` is called after each chunk;
    ``cancel()`` is asked between chunks and a true answer stops the download
    with DataError("download cancelled"). ``timeout`` (seconds) bounds each
    network wait. Returns ``destination``.
    """
    # Imported here: the HTTP stack is 30 ms of the desktop app's launch.
    import http.client
    import urllib.request

    destination = Path(destination) if destination is not None else keras_cache_path()
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(
            dir=destination.parent, prefix=f".{destination.name}.", suffix=".part"
        )
    except OSError as error:
        raise DataError(
            f"{destination.parent}: cannot write the download there ({error})"
        ) from error
    temporary = Path(temporary_name)

    try:
        digest = hashlib.sha256()
        with os.fdopen(handle, "wb") as output, urllib.request.urlopen(
            origin, timeout=timeout
        ) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while True:
                if cancel is not None and cancel():
                    raise DataError("download cancelled")
                chunk = response.read(DOWNLOAD_CHUNK_BYTES)
                if not chunk:
                    break
                output.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total is not None and done != total:
            raise DataError(
                f"could not download MNIST from {origin}: "
                f"connection ended after {done} of {total} bytes"
            )
        got = digest.hexdigest()
        if got != sha256.lower():
            raise DataError(
                f"MNIST downloaded from {origin} is not the expected file: "
                f"sha256 {got}, expected {sha256}"
            )
        os.replace(temporary, destination)
    except (OSError, http.client.HTTPException, ValueError) as error:
        # OSError covers URLError, HTTPError, timeouts and refused connections;
        # ValueError is what urllib raises for a malformed URL.
        reason = _describe_network_error(error)
        raise DataError(f"could not download MNIST from {origin}: {reason}") from error
    finally:
        temporary.unlink(missing_ok=True)
    return destination
