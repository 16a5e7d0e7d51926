"""Shared test settings.

Tests that need the real MNIST read its location from the environment variable
BNGUI_MNIST (a Keras-layout .npz file or a folder of the four IDX .gz files).
Without it they are skipped on a developer's machine, but under CI (CI=true)
a missing BNGUI_MNIST is an error: those tests must never silently skip there.
"""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if "BNGUI_COMPILE_CACHE" not in os.environ:
    # Traced functions go to a folder of the test session's own, not the user's cache
    # (later tests, and the commands the tests start, load what earlier ones traced).
    _compile_cache = tempfile.mkdtemp(prefix="bngui-test-compile-cache-")
    atexit.register(shutil.rmtree, _compile_cache, ignore_errors=True)
    os.environ["BNGUI_COMPILE_CACHE"] = _compile_cache


def _running_under_ci():
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def mnist_path():
    """Path to the real MNIST, from BNGUI_MNIST."""
    value = os.environ.get("BNGUI_MNIST")
    if not value:
        if _running_under_ci():
            pytest.fail("BNGUI_MNIST is not set; CI must point it at the real MNIST")
        pytest.skip("real MNIST not configured (set BNGUI_MNIST)")
    path = Path(value).resolve()  # also right for tests that run elsewhere
    if not path.exists():
        pytest.fail(f"BNGUI_MNIST points at {path}, which does not exist")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_path):
    """The real MNIST, split like the notebook (loaded once per test session)."""
    from bngui.core.data import load_mnist

    return load_mnist(mnist_path, allow_download=False)


# Enough to tell 0.1 from 0.9, and a dozen seconds less scoring per run.
SCORED_IMAGES = 2000


@pytest.fixture(scope="session")
def mnist_scored_on_2000(mnist):
    """The real MNIST, but only the first 2,000 validation and test images."""
    import dataclasses

    return dataclasses.replace(
        mnist,
        validation_images=mnist.validation_images[:SCORED_IMAGES],
        validation_labels=mnist.validation_labels[:SCORED_IMAGES],
        test_images=mnist.test_images[:SCORED_IMAGES],
        test_labels=mnist.test_labels[:SCORED_IMAGES],
    )


@pytest.fixture(scope="session")
def shipped_models():
    """The models shipped in resources/models, loaded once: ``{variant_id: keras model}``."""
    from bngui.core.storage import load_models
    from bngui.resource_files import shipped_models_dir

    models, problems = load_models(shipped_models_dir())
    assert not problems, problems
    return models
