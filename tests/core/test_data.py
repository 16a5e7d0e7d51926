"""Tests of bngui.core.data: reading, checking, finding, splitting and downloading MNIST.

Most tests use small generated files (5,100 training and 20 test images) so they
run in a blink; the tests marked ``mnist`` read the real MNIST from BNGUI_MNIST.
"""

import functools
import gzip
import hashlib
import http.server
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from bngui.core import data
from bngui.core.data import (
    KERAS_SHA256,
    VALIDATION_SIZE,
    DataError,
    MnistSplits,
    candidate_locations,
    download_mnist,
    find_mnist,
    keras_cache_path,
    load_mnist,
    read_idx_folder,
    read_npz,
    split_like_notebook,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SMALL_TRAIN = VALIDATION_SIZE + 100
SMALL_TEST = 20

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


# ----------------------------------------------------------------------------
# Helpers that write small MNIST-like files


def small_arrays(train=SMALL_TRAIN, test=SMALL_TEST, seed=0):
    """Random uint8 images and labels in Keras's layout.

    Each image is one random row repeated: every image differs, yet the files
    compress quickly, which keeps the many small-file tests fast.
    """
    rng = np.random.default_rng(seed)

    def images(count):
        return rng.integers(0, 256, (count, 1, 28), dtype=np.uint8).repeat(28, axis=1)

    return {
        "x_train": images(train),
        "y_train": rng.integers(0, 10, train, dtype=np.uint8),
        "x_test": images(test),
        "y_test": rng.integers(0, 10, test, dtype=np.uint8),
    }


def write_npz(path, arrays=None, **replacements):
    """Write an .npz; a replacement of None leaves that key out."""
    arrays = dict(small_arrays() if arrays is None else arrays)
    arrays.update(replacements)
    np.savez(path, **{key: value for key, value in arrays.items() if value is not None})
    return path


def idx_bytes(array, magic=None):
    """An unsigned-byte IDX file's content for ``array``."""
    if magic is None:
        magic = 2051 if array.ndim == 3 else 2049
    header = np.array([magic, *array.shape], dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_folder(folder, arrays=None, gzipped=True):
    """Write the four IDX files of ``arrays`` into ``folder``."""
    arrays = small_arrays() if arrays is None else arrays
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_NAMES.items():
        content = idx_bytes(arrays[key])
        if gzipped:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(content, compresslevel=1))
        else:
            (folder / stem).write_bytes(content)
    return folder


def assert_arrays_equal(got, expected):
    for got_array, key in zip(got, ("x_train", "y_train", "x_test", "y_test")):
        assert got_array.dtype == np.uint8
        np.testing.assert_array_equal(got_array, expected[key])


# ----------------------------------------------------------------------------
# The module stays light


def test_importing_data_loads_neither_tensorflow_nor_qt():
    code = (
        "import sys, bngui.core.data; "
        "heavy = ('tensorflow', 'keras', 'PySide6', 'pyqtgraph'); "
        "print(sorted(name for name in heavy if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# ----------------------------------------------------------------------------
# read_npz


def test_read_npz_reads_a_valid_file(tmp_path):
    arrays = small_arrays()
    path = write_npz(tmp_path / "mnist.npz", arrays)
    assert_arrays_equal(read_npz(path), arrays)


def test_read_npz_accepts_other_integer_dtypes_within_range(tmp_path):
    arrays = small_arrays()
    path = write_npz(
        tmp_path / "mnist.npz",
        arrays,
        x_train=arrays["x_train"].astype(np.int32),
        y_train=arrays["y_train"].astype(np.int64),
    )
    assert_arrays_equal(read_npz(path), arrays)


def _corrupt_middle(path):
    content = bytearray(path.read_bytes())
    middle = len(content) // 2
    content[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(content))


def _truncate(path):
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])


def _bad_npz(tmp_path, case):
    """Write the bad .npz named by ``case``; return its path and a word the error must contain."""
    path = tmp_path / f"{case}.npz"
    arrays = small_arrays()
    n = SMALL_TRAIN
    if case == "missing":
        return path, "does not exist"
    if case == "folder":
        path.mkdir()
        return path, "folder"
    if case == "text":
        path.write_text("these are not the images you are looking for\n")
        return path, "not a zip"
    if case == "npy":
        with open(path, "wb") as stream:
            np.save(stream, arrays["x_train"])
        return path, "not a zip"
    if case == "truncated":
        _truncate(write_npz(path))
        return path, "truncated"
    if case == "corrupt":
        _corrupt_middle(write_npz(path))
        return path, "damaged"
    if case == "object-array":
        write_npz(path, x_train=np.array([1, "a"], dtype=object))
        return path, "unreadable"
    if case == "missing-key":
        write_npz(path, y_test=None)
        return path, "y_test"
    if case == "images-not-28x28":
        write_npz(path, x_train=np.zeros((n, 28, 27), np.uint8))
        return path, "shape"
    if case == "images-flat":
        write_npz(path, x_test=np.zeros((SMALL_TEST, 784), np.uint8))
        return path, "shape"
    if case == "labels-2d":
        write_npz(path, y_train=np.zeros((n, 1), np.uint8))
        return path, "shape"
    if case == "count-mismatch":
        write_npz(path, y_train=arrays["y_train"][:-1])
        return path, f"{n} train images but {n - 1} train labels"
    if case == "too-few-training":
        write_npz(
            path,
            x_train=arrays["x_train"][:VALIDATION_SIZE],
            y_train=arrays["y_train"][:VALIDATION_SIZE],
        )
        return path, f"only {VALIDATION_SIZE} training images"
    if case == "float-images":
        write_npz(path, x_train=arrays["x_train"].astype(np.float32) / 255)
        return path, "dtype float32"
    if case == "pixels-above-255":
        write_npz(path, x_test=np.full((SMALL_TEST, 28, 28), 300, np.int16))
        return path, "0..255"
    if case == "negative-pixels":
        write_npz(path, x_test=np.full((SMALL_TEST, 28, 28), -1, np.int16))
        return path, "0..255"
    if case == "label-10":
        write_npz(path, y_test=np.full(SMALL_TEST, 10, np.uint8))
        return path, "0..9"
    if case == "negative-label":
        write_npz(path, y_train=np.full(n, -1, np.int8))
        return path, "0..9"
    raise AssertionError(f"unknown case {case}")


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "folder",
        "text",
        "npy",
        "truncated",
        "corrupt",
        "object-array",
        "missing-key",
        "images-not-28x28",
        "images-flat",
        "labels-2d",
        "count-mismatch",
        "too-few-training",
        "float-images",
        "pixels-above-255",
        "negative-pixels",
        "label-10",
        "negative-label",
    ],
)
def test_read_npz_rejects_bad_files_naming_them(tmp_path, case):
    path, what = _bad_npz(tmp_path, case)
    with pytest.raises(DataError) as raised:
        read_npz(path)
    message = str(raised.value)
    assert str(path) in message
    assert what in message


# ----------------------------------------------------------------------------
# read_idx_folder


@pytest.mark.parametrize("gzipped", [True, False], ids=["gzipped", "plain"])
def test_read_idx_folder_reads_valid_files(tmp_path, gzipped):
    arrays = small_arrays()
    folder = write_idx_folder(tmp_path / "MNIST_data", arrays, gzipped=gzipped)
    assert_arrays_equal(read_idx_folder(folder), arrays)


def test_read_idx_folder_accepts_a_mix_of_gzipped_and_plain_files(tmp_path):
    arrays = small_arrays()
    folder = write_idx_folder(tmp_path / "MNIST_data", arrays)
    stem = IDX_NAMES["y_test"]
    (folder / f"{stem}.gz").unlink()
    (folder / stem).write_bytes(idx_bytes(arrays["y_test"]))
    assert_arrays_equal(read_idx_folder(folder), arrays)


def _replace_idx_file(folder, key, content, gzipped=True):
    """Overwrite one IDX file of ``folder``; return its path."""
    stem = IDX_NAMES[key]
    path = folder / (f"{stem}.gz" if gzipped else stem)
    path.write_bytes(gzip.compress(content, compresslevel=1) if gzipped else content)
    return path


def _bad_idx(tmp_path, case):
    """Write the bad IDX folder named by ``case``; return the path the error must
    name and a word it must contain, and the folder to read."""
    arrays = small_arrays()
    folder = tmp_path / "MNIST_data"
    if case == "missing-folder":
        return folder, "does not exist", folder
    if case == "file-not-folder":
        folder.write_bytes(b"")
        return folder, "not a folder", folder
    write_idx_folder(folder, arrays)
    images, labels = arrays["x_train"], arrays["y_train"]
    if case == "missing-file":
        (folder / f"{IDX_NAMES['y_test']}.gz").unlink()
        return IDX_NAMES["y_test"], "missing", folder
    if case == "images-with-label-magic":
        path = _replace_idx_file(folder, "x_train", idx_bytes(images, magic=2049))
        return path, "magic number 2049, expected 2051", folder
    if case == "labels-with-image-magic":
        path = _replace_idx_file(folder, "y_test", idx_bytes(arrays["y_test"], magic=2051))
        return path, "magic number 2051, expected 2049", folder
    if case == "truncated-data":
        path = _replace_idx_file(folder, "x_train", idx_bytes(images)[:-100])
        return path, "truncated", folder
    if case == "truncated-header":
        path = _replace_idx_file(folder, "y_train", idx_bytes(labels)[:6])
        return path, "truncated", folder
    if case == "extra-bytes":
        path = _replace_idx_file(folder, "y_train", idx_bytes(labels) + b"\0" * 3)
        return path, "unexpected bytes", folder
    if case == "plain-truncated":
        (folder / f"{IDX_NAMES['x_test']}.gz").unlink()
        path = _replace_idx_file(folder, "x_test", idx_bytes(arrays["x_test"])[:-1], gzipped=False)
        return path, "truncated", folder
    if case == "not-gzip":
        path = folder / f"{IDX_NAMES['x_train']}.gz"
        path.write_bytes(idx_bytes(images))
        return path, "gzip", folder
    if case == "truncated-gzip":
        path = folder / f"{IDX_NAMES['x_train']}.gz"
        _truncate(path)
        return path, "gzip", folder
    if case == "corrupt-gzip":
        path = folder / f"{IDX_NAMES['x_train']}.gz"
        _corrupt_middle(path)
        return path, "gzip", folder
    if case == "images-not-28x28":
        narrow = np.zeros((SMALL_TEST, 28, 27), np.uint8)
        path = _replace_idx_file(folder, "x_test", idx_bytes(narrow))
        return path, "shape", folder
    if case == "label-10":
        path = _replace_idx_file(folder, "y_train", idx_bytes(np.full(SMALL_TRAIN, 10, np.uint8)))
        return path, "0..9", folder
    if case == "count-mismatch":
        path = _replace_idx_file(folder, "y_test", idx_bytes(arrays["y_test"][:-1]))
        return path, f"{SMALL_TEST} test images but {SMALL_TEST - 1} test labels", folder
    if case == "too-few-training":
        path = _replace_idx_file(folder, "x_train", idx_bytes(images[:VALIDATION_SIZE]))
        _replace_idx_file(folder, "y_train", idx_bytes(labels[:VALIDATION_SIZE]))
        return path, f"only {VALIDATION_SIZE} training images", folder
    raise AssertionError(f"unknown case {case}")


@pytest.mark.parametrize(
    "case",
    [
        "missing-folder",
        "file-not-folder",
        "missing-file",
        "images-with-label-magic",
        "labels-with-image-magic",
        "truncated-data",
        "truncated-header",
        "extra-bytes",
        "plain-truncated",
        "not-gzip",
        "truncated-gzip",
        "corrupt-gzip",
        "images-not-28x28",
        "label-10",
        "count-mismatch",
        "too-few-training",
    ],
)
def test_read_idx_folder_rejects_bad_files_naming_them(tmp_path, case):
    named, what, folder = _bad_idx(tmp_path, case)
    with pytest.raises(DataError) as raised:
        read_idx_folder(folder)
    message = str(raised.value)
    assert str(named) in message
    assert what in message


# ----------------------------------------------------------------------------
# split_like_notebook


def test_split_keeps_the_first_training_images_for_validation():
    arrays = small_arrays()
    splits = split_like_notebook(*arrays.values(), source="generated")

    assert isinstance(splits, MnistSplits)
    assert splits.source == "generated"
    assert splits.train_images.shape == (SMALL_TRAIN - VALIDATION_SIZE, 28, 28, 1)
    assert splits.validation_images.shape == (VALIDATION_SIZE, 28, 28, 1)
    assert splits.test_images.shape == (SMALL_TEST, 28, 28, 1)
    for images in (splits.train_images, splits.validation_images, splits.test_images):
        assert images.dtype == np.float32
    for labels in (splits.train_labels, splits.validation_labels, splits.test_labels):
        assert labels.dtype == np.int32

    scaled = arrays["x_train"][..., None].astype(np.float32) / 255
    np.testing.assert_array_equal(splits.validation_images, scaled[:VALIDATION_SIZE])
    np.testing.assert_array_equal(splits.train_images, scaled[VALIDATION_SIZE:])
    np.testing.assert_array_equal(splits.validation_labels, arrays["y_train"][:VALIDATION_SIZE])
    np.testing.assert_array_equal(splits.train_labels, arrays["y_train"][VALIDATION_SIZE:])
    np.testing.assert_array_equal(splits.test_labels, arrays["y_test"])


def test_split_scales_pixels_to_zero_one():
    arrays = small_arrays()
    arrays["x_test"][0] = 0
    arrays["x_test"][1] = 255
    splits = split_like_notebook(*arrays.values())
    assert splits.test_images[0].max() == 0.0
    assert splits.test_images[1].min() == 1.0
    assert splits.train_images.min() >= 0.0 and splits.train_images.max() <= 1.0


def test_split_needs_more_training_images_than_the_validation_set():
    arrays = small_arrays(train=VALIDATION_SIZE)
    with pytest.raises(DataError, match="training images"):
        split_like_notebook(*arrays.values())


# ----------------------------------------------------------------------------
# Where MNIST is looked for


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No BNGUI_MNIST, no KERAS_HOME, and a fresh HOME: nothing to find yet."""
    monkeypatch.delenv("BNGUI_MNIST", raising=False)
    monkeypatch.delenv("KERAS_HOME", raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def no_download(monkeypatch):
    """Make any download attempt fail the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("load_mnist tried to download")

    monkeypatch.setattr(data, "download_mnist", refuse)


def test_keras_cache_is_under_home_by_default(clean_environment):
    assert keras_cache_path() == clean_environment / ".keras" / "datasets" / "mnist.npz"


def test_keras_cache_follows_keras_home(clean_environment, monkeypatch, tmp_path):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    assert keras_cache_path() == tmp_path / "keras" / "datasets" / "mnist.npz"


def test_candidate_locations_in_search_order(clean_environment, monkeypatch, tmp_path):
    monkeypatch.setenv("BNGUI_MNIST", str(tmp_path / "from-env.npz"))
    locations = candidate_locations(tmp_path / "given.npz")
    assert [path for _, path in locations] == [
        tmp_path / "given.npz",
        tmp_path / "from-env.npz",
        keras_cache_path(),
    ]
    assert "BNGUI_MNIST" in locations[1][0]
    assert "Keras" in locations[2][0]


def test_candidate_locations_without_choices_is_just_the_keras_cache(clean_environment):
    assert [path for _, path in candidate_locations()] == [keras_cache_path()]


def _write_three_copies(tmp_path, monkeypatch):
    """An explicit file, a BNGUI_MNIST file and a Keras cache file, told apart by
    their number of test images (21, 22, 23)."""
    given = write_npz(tmp_path / "given.npz", small_arrays(test=21))
    from_env = write_npz(tmp_path / "env.npz", small_arrays(test=22))
    cache = keras_cache_path()
    cache.parent.mkdir(parents=True)
    write_npz(cache, small_arrays(test=23))
    monkeypatch.setenv("BNGUI_MNIST", str(from_env))
    return given, from_env, cache


def test_explicit_path_beats_env_beats_keras_cache(
    clean_environment, monkeypatch, tmp_path, no_download
):
    given, from_env, cache = _write_three_copies(tmp_path, monkeypatch)

    assert find_mnist(given) == given
    splits = load_mnist(given)
    assert len(splits.test_labels) == 21 and str(given) in splits.source

    assert find_mnist() == from_env
    splits = load_mnist()
    assert len(splits.test_labels) == 22 and str(from_env) in splits.source

    monkeypatch.delenv("BNGUI_MNIST")
    assert find_mnist() == cache
    splits = load_mnist()
    assert len(splits.test_labels) == 23 and str(cache) in splits.source


def test_keras_cache_is_used_without_download_even_if_its_hash_differs(
    clean_environment, no_download
):
    cache = keras_cache_path()
    cache.parent.mkdir(parents=True)
    write_npz(cache)
    assert hashlib.sha256(cache.read_bytes()).hexdigest() != KERAS_SHA256

    splits = load_mnist(allow_download=True)
    assert "Keras cache" in splits.source
    assert len(splits.train_labels) == SMALL_TRAIN - VALIDATION_SIZE


def test_missing_explicit_path_is_an_error_not_a_fallback(
    clean_environment, tmp_path, no_download
):
    cache = keras_cache_path()
    cache.parent.mkdir(parents=True)
    write_npz(cache)
    missing = tmp_path / "typo.npz"
    with pytest.raises(DataError, match="typo.npz"):
        find_mnist(missing)
    with pytest.raises(DataError, match="typo.npz"):
        load_mnist(missing)


def test_missing_env_path_is_an_error_not_a_fallback(
    clean_environment, monkeypatch, tmp_path, no_download
):
    cache = keras_cache_path()
    cache.parent.mkdir(parents=True)
    write_npz(cache)
    monkeypatch.setenv("BNGUI_MNIST", str(tmp_path / "nowhere"))
    with pytest.raises(DataError) as raised:
        find_mnist()
    assert str(tmp_path / "nowhere") in str(raised.value)
    assert "BNGUI_MNIST" in str(raised.value)


def test_env_may_point_at_an_idx_folder(clean_environment, monkeypatch, tmp_path, no_download):
    arrays = small_arrays()
    folder = write_idx_folder(tmp_path / "MNIST_data", arrays)
    monkeypatch.setenv("BNGUI_MNIST", str(folder))
    splits = load_mnist()
    assert "IDX" in splits.source and str(folder) in splits.source
    np.testing.assert_array_equal(splits.test_labels, arrays["y_test"])


def test_nothing_found_without_download_lists_where_it_looked(clean_environment, no_download):
    assert find_mnist() is None
    with pytest.raises(DataError) as raised:
        load_mnist(allow_download=False)
    assert str(keras_cache_path()) in str(raised.value)


def test_nothing_found_downloads_into_the_keras_cache(clean_environment, monkeypatch):
    calls = []

    def fake_download(destination=None, *, progress=None, cancel=None, **kwargs):
        calls.append((destination, progress, cancel))
        destination.parent.mkdir(parents=True, exist_ok=True)
        write_npz(destination)
        return destination

    monkeypatch.setattr(data, "download_mnist", fake_download)
    progress, cancel = (lambda done, total: None), (lambda: False)
    splits = load_mnist(progress=progress, cancel=cancel)

    assert calls == [(keras_cache_path(), progress, cancel)]
    assert "downloaded" in splits.source
    assert len(splits.validation_labels) == VALIDATION_SIZE


# ----------------------------------------------------------------------------
# download_mnist


def _origin_file(tmp_path, size=300_000):
    """A local file to download, several chunks long, and its sha256."""
    origin = tmp_path / "origin" / "mnist.npz"
    origin.parent.mkdir()
    origin.write_bytes(np.random.default_rng(1).bytes(size))
    return origin, hashlib.sha256(origin.read_bytes()).hexdigest()


def _files_in(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_download_from_file_url_verifies_and_reports_progress(tmp_path):
    origin, digest = _origin_file(tmp_path)
    destination = tmp_path / "keras" / "datasets" / "mnist.npz"
    reports = []

    result = download_mnist(
        destination,
        origin=origin.as_uri(),
        sha256=digest,
        progress=lambda done, total: reports.append((done, total)),
    )

    assert result == destination
    assert destination.read_bytes() == origin.read_bytes()
    assert _files_in(destination.parent) == ["mnist.npz"]  # no temporary left
    size = origin.stat().st_size
    assert len(reports) > 1
    assert reports[-1] == (size, size)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)


def test_download_with_wrong_hash_leaves_nothing(tmp_path):
    origin, digest = _origin_file(tmp_path)
    destination = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(DataError) as raised:
        download_mnist(destination, origin=origin.as_uri(), sha256=KERAS_SHA256)
    message = str(raised.value)
    assert origin.as_uri() in message and KERAS_SHA256 in message and digest in message
    assert _files_in(destination.parent) == []


def test_failed_download_keeps_an_existing_file(tmp_path):
    origin, _ = _origin_file(tmp_path)
    destination = tmp_path / "mnist.npz"
    destination.write_bytes(b"previous")
    with pytest.raises(DataError):
        download_mnist(destination, origin=origin.as_uri(), sha256=KERAS_SHA256)
    assert destination.read_bytes() == b"previous"
    assert _files_in(tmp_path) == ["mnist.npz", "origin"]


@pytest.mark.parametrize(
    "origin", ["file:///nonexistent/mnist.npz", "http://127.0.0.1:1/mnist.npz", "not a url"]
)
def test_unreachable_origin_is_a_clear_error(tmp_path, origin):
    destination = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(DataError) as raised:
        download_mnist(destination, origin=origin, timeout=5)
    assert f"could not download MNIST from {origin}" in str(raised.value)
    assert _files_in(destination.parent) == []


@pytest.mark.parametrize("chunks_before_cancel", [0, 1])
def test_cancelled_download_leaves_nothing(tmp_path, chunks_before_cancel):
    origin, digest = _origin_file(tmp_path)
    destination = tmp_path / "cache" / "mnist.npz"
    chunks = []

    with pytest.raises(DataError, match="download cancelled"):
        download_mnist(
            destination,
            origin=origin.as_uri(),
            sha256=digest,
            progress=lambda done, total: chunks.append(done),
            cancel=lambda: len(chunks) >= chunks_before_cancel,
        )
    assert len(chunks) == chunks_before_cancel
    assert _files_in(destination.parent) == []


@pytest.fixture
def http_origin(tmp_path):
    """A loopback HTTP server over tmp_path/"served", stopped after the test."""
    served = tmp_path / "served"
    served.mkdir()

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_download_over_http_reports_the_total_size(tmp_path, http_origin):
    served, base_url = http_origin
    content = np.random.default_rng(2).bytes(200_000)
    (served / "mnist.npz").write_bytes(content)
    destination = tmp_path / "cache" / "mnist.npz"
    reports = []

    download_mnist(
        destination,
        origin=f"{base_url}/mnist.npz",
        sha256=hashlib.sha256(content).hexdigest(),
        progress=lambda done, total: reports.append((done, total)),
        timeout=5,
    )
    assert destination.read_bytes() == content
    assert all(total == len(content) for _, total in reports)
    assert reports[-1] == (len(content), len(content))


def test_http_error_is_a_clear_error(tmp_path, http_origin):
    _, base_url = http_origin
    destination = tmp_path / "cache" / "mnist.npz"
    with pytest.raises(DataError, match="HTTP 404"):
        download_mnist(destination, origin=f"{base_url}/missing.npz", timeout=5)
    assert _files_in(destination.parent) == []


# ----------------------------------------------------------------------------
# The real MNIST (BNGUI_MNIST)


@pytest.fixture(scope="module")
def real_npz_and_idx(mnist_path):
    """The real mnist.npz and MNIST_data folder side by side, whichever one
    BNGUI_MNIST names."""
    if mnist_path.is_dir():
        folder, npz = mnist_path, mnist_path.parent / "mnist.npz"
    else:
        folder, npz = mnist_path.parent / "MNIST_data", mnist_path
    if not (folder.is_dir() and npz.is_file()):
        pytest.skip(f"needs both {npz} and {folder}")
    return npz, folder


@pytest.fixture(scope="module")
def real_npz_arrays(real_npz_and_idx):
    """The real mnist.npz as read_npz returns it (read once for this module)."""
    return read_npz(real_npz_and_idx[0])


@pytest.mark.mnist
def test_real_mnist_loads_with_the_right_shapes_and_ranges(mnist):
    assert mnist.train_images.shape == (55000, 28, 28, 1)
    assert mnist.validation_images.shape == (5000, 28, 28, 1)
    assert mnist.test_images.shape == (10000, 28, 28, 1)
    for images in (mnist.train_images, mnist.validation_images, mnist.test_images):
        assert images.dtype == np.float32
        assert images.min() == 0.0 and images.max() == 1.0
    for labels, count in (
        (mnist.train_labels, 55000),
        (mnist.validation_labels, 5000),
        (mnist.test_labels, 10000),
    ):
        assert labels.dtype == np.int32 and labels.shape == (count,)
        assert set(np.unique(labels)) == set(range(10))
    assert mnist.source


@pytest.mark.mnist
def test_real_validation_set_is_the_first_5000_training_images(real_npz_arrays):
    x_train, y_train = real_npz_arrays[0], real_npz_arrays[1]
    splits = split_like_notebook(*real_npz_arrays)

    def as_pixels(images):
        return np.rint(images[..., 0] * 255).astype(np.uint8)

    np.testing.assert_array_equal(as_pixels(splits.validation_images), x_train[:VALIDATION_SIZE])
    np.testing.assert_array_equal(as_pixels(splits.train_images[:1])[0], x_train[VALIDATION_SIZE])
    np.testing.assert_array_equal(splits.validation_labels, y_train[:VALIDATION_SIZE])
    np.testing.assert_array_equal(splits.train_labels, y_train[VALIDATION_SIZE:])


@pytest.mark.mnist
def test_real_idx_folder_equals_the_npz(real_npz_and_idx, real_npz_arrays):
    from_npz = real_npz_arrays
    from_idx = read_idx_folder(real_npz_and_idx[1])
    assert from_npz[0].shape == (60000, 28, 28) and from_npz[2].shape == (10000, 28, 28)
    for npz_array, idx_array in zip(from_npz, from_idx):
        assert idx_array.dtype == np.uint8
        np.testing.assert_array_equal(npz_array, idx_array)
