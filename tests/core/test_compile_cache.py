"""The disk cache of traced functions: loaded functions are the traced ones, bad entries are traced again."""

import logging
import os
import sys
import time

import numpy as np
import pytest

from bngui.core import compile_cache
from bngui.core.compile_cache import CompileCache, LoadedFunction
from bngui.core.tf_runtime import tf
from bngui.core.trainer import CompiledVariant
from bngui.core.variants import get_variant


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "compiled"
    monkeypatch.setenv(compile_cache.ENV_FOLDER, str(folder))
    return folder


def _batch(size=64, seed=0):
    rng = np.random.default_rng(seed)
    images = tf.constant(rng.random((size, 28, 28, 1), np.float32))
    labels = tf.constant(rng.integers(0, 10, size).astype(np.int32))
    return images, labels


def _everything_it_computes(entry):
    """Three training steps, then every other function's outputs, and the state they left."""
    images, labels = _batch()
    results = [entry.train(images, labels)[1].numpy() for _ in range(3)]
    results += [np.stack([value.numpy() for value in entry.evaluate(images, labels)]),
                entry.percentiles(images).numpy(),
                entry.single_sample_correct(images[:8], labels[:8]).numpy()]
    if entry.lag_and_moments is not None:
        results += [value.numpy() for value in entry.lag_and_moments(images)]
    results += entry.model.get_weights()
    results += [slot.numpy() for slot in (*entry._momentums, *entry._velocities, entry._steps)]
    return results


def _entries(folder):
    return sorted((folder / compile_cache.OWN_FOLDER).glob("*/*.npz"))


@pytest.mark.parametrize("variant_id", ["keras-conv-bn-relu", "nn-conv-relu-bn"])
def test_a_loaded_variant_computes_exactly_what_the_traced_one_did(cache_folder, variant_id):
    traced = CompiledVariant(get_variant(variant_id))
    traced.trace()
    assert not isinstance(traced.train, LoadedFunction)
    # train, evaluate, percentiles, lag_and_moments, single_sample_correct
    assert len(_entries(cache_folder)) == 5

    loaded = CompiledVariant(get_variant(variant_id))
    loaded.trace()
    for function in (loaded.train, loaded.evaluate, loaded.percentiles,
                     loaded.lag_and_moments, loaded.single_sample_correct):
        assert isinstance(function, LoadedFunction)
    assert loaded.train.structured_input_signature[0][0].shape.as_list() == [None, 28, 28, 1]

    for mine, theirs in zip(_everything_it_computes(traced), _everything_it_computes(loaded),
                            strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_two_loaded_copies_of_a_variant_keep_their_own_weights(cache_folder):
    CompiledVariant(get_variant("baseline")).trace(for_training=True)
    first, second = (CompiledVariant(get_variant("baseline")) for _ in range(2))
    first.trace(for_training=True)
    second.trace(for_training=True)
    assert isinstance(second.train, LoadedFunction)
    before = second.model.get_weights()
    images, labels = _batch()
    first.train(images, labels)
    assert any(not np.array_equal(a, b)
               for a, b in zip(first.model.get_weights(), before, strict=True))
    for a, b in zip(second.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_corrupt_entry_is_deleted_and_traced_again(cache_folder, caplog):
    CompiledVariant(get_variant("baseline")).trace(for_training=True)
    for path in _entries(cache_folder):
        path.write_bytes(b"not a cache entry")
    with caplog.at_level(logging.INFO, logger="bngui.core.compile_cache"):
        entry = CompiledVariant(get_variant("baseline"))
        entry.trace(for_training=True)
    assert not isinstance(entry.train, LoadedFunction)
    assert "tracing it again" in caplog.text
    images, labels = _batch()
    finite, measured = entry.train(images, labels)
    assert bool(finite) and np.isfinite(measured.numpy()).all()
    # The corrupt files were replaced by good ones, which the next start loads.
    again = CompiledVariant(get_variant("baseline"))
    again.trace(for_training=True)
    assert isinstance(again.train, LoadedFunction)


def test_an_entry_that_does_not_fit_the_variables_is_not_used(cache_folder):
    entry = CompiledVariant(get_variant("baseline"))
    entry.trace(for_training=True)
    cache = CompileCache(cache_folder)
    signature = [tf.TensorSpec([None, 28, 28, 1], tf.float32), tf.TensorSpec([None], tf.int32)]
    variables = entry._variables()
    assert cache.load(entry.key, "train", signature, variables) is not None
    count = len(_entries(cache_folder))
    assert cache.load(entry.key, "train", signature, variables[::-1]) is None
    assert len(_entries(cache_folder)) == count - 1  # the unusable entry is gone


def test_a_folder_that_cannot_be_written_only_costs_the_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv(compile_cache.ENV_FOLDER, str(blocker / "compiled"))
    entry = CompiledVariant(get_variant("baseline"))
    entry.trace(for_training=True)
    images, labels = _batch()
    assert bool(entry.train(images, labels)[0])


def test_the_cache_can_be_turned_off_and_has_a_default_folder(monkeypatch, tmp_path):
    for off in ("0", "off", "OFF"):
        monkeypatch.setenv(compile_cache.ENV_FOLDER, off)
        assert compile_cache.default_cache() is None
        assert CompiledVariant(get_variant("baseline"))._disk_cache is None
    monkeypatch.delenv(compile_cache.ENV_FOLDER)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform not in ("win32", "darwin"):
        assert compile_cache.default_folder() == tmp_path / "bngui"


def _version_folder(root, name, tagged=True, files=("0" * 32 + ".npz",), age=None):
    folder = root / name
    folder.mkdir(parents=True)
    for file in files:
        (folder / file).write_bytes(b"x")
    if tagged:
        (folder / compile_cache.TAG).write_text("made by bngui")
    if age is not None:
        os.utime(folder, (time.time() - age, time.time() - age))
    return folder


def test_other_versions_are_pruned_once_unused_for_a_month_and_nothing_it_did_not_write(
        cache_folder):
    root = cache_folder / compile_cache.OWN_FOLDER
    month = compile_cache.STALE_SECONDS + 60
    # The user's own things beside the cache's folder, and even inside it.
    cache_folder.mkdir()
    (cache_folder / "notes.txt").write_text("mine")
    users = _version_folder(cache_folder, "a" * 20, age=month)  # not in the cache's folder
    stale = _version_folder(root, "1" * 20, age=month)
    recent = _version_folder(root, "2" * 20)
    untagged = _version_folder(root, "3" * 20, tagged=False, age=month)
    mixed = _version_folder(root, "4" * 20, files=("5" * 32 + ".npz", "thesis.tex"), age=month)
    named_otherwise = _version_folder(root, "old photos", age=month)
    CompiledVariant(get_variant("baseline")).trace(for_training=True)
    assert not stale.exists()
    assert recent.exists() and untagged.exists() and named_otherwise.exists()
    assert users.exists() and (cache_folder / "notes.txt").read_text() == "mine"
    # Its own entry deleted, the user's file and the folder around it kept.
    assert sorted(path.name for path in mixed.iterdir()) == [compile_cache.TAG, "thesis.tex"]
    current = root / compile_cache.program_fingerprint()
    assert (current / compile_cache.TAG).is_file()
    assert current.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners and modes")
def test_a_folder_others_may_write_or_of_another_user_is_refused(cache_folder, caplog):
    CompiledVariant(get_variant("baseline")).trace(for_training=True)
    root = cache_folder / compile_cache.OWN_FOLDER
    count = len(_entries(cache_folder))
    changes = [lambda: root.chmod(0o777), lambda: root.chmod(0o770)]
    if os.getuid() == 0:  # root can give the folder away
        changes.append(lambda: os.chown(root, 4242, -1))
    for change in changes:
        root.chmod(0o700)
        os.chown(root, os.getuid(), -1)
        change()
        with caplog.at_level(logging.WARNING, logger="bngui.core.compile_cache"):
            entry = CompiledVariant(get_variant("baseline"))
            entry._disk_cache = CompileCache(cache_folder)  # a new process's view
            entry.trace(for_training=True)
        assert not isinstance(entry.train, LoadedFunction)  # traced, not loaded
        assert "not using the compile cache" in caplog.text
        caplog.clear()
        assert len(_entries(cache_folder)) == count  # nothing written there either
    root.chmod(0o700)
    os.chown(root, os.getuid(), -1)


def test_an_entry_that_fails_when_called_is_deleted_and_traced_again(cache_folder, monkeypatch):
    CompiledVariant(get_variant("baseline")).trace(for_training=True)
    count = len(_entries(cache_folder))

    def fails(self, tensors):
        raise tf.errors.InternalError(None, None, "the kernel went away")

    monkeypatch.setattr(LoadedFunction, "_run", fails)
    entry = CompiledVariant(get_variant("baseline"))
    with pytest.raises(tf.errors.InternalError):
        entry.trace(for_training=True)  # its first calls fail
    assert len(_entries(cache_folder)) < count
    monkeypatch.undo()
    entry.trace(for_training=True)  # traced again, and kept again
    assert not isinstance(entry.train, LoadedFunction)
    images, labels = _batch()
    assert bool(entry.train(images, labels)[0])
    assert len(_entries(cache_folder)) == count


def test_entries_are_keyed_by_code_not_by_comments_or_docstrings():
    source = (compile_cache.Path(compile_cache.__file__).parent / "models.py").read_text()
    commented = source.replace("\n\n", "\n# a new comment\n\n", 1)
    documented = source.replace('"""', '"""Reworded. ', 1)
    assert compile_cache.code_of(commented) == compile_cache.code_of(source)
    assert compile_cache.code_of(documented) == compile_cache.code_of(source)
    assert compile_cache.code_of(source + "\nX = 1\n") != compile_cache.code_of(source)


def test_the_graph_modules_are_the_core_modules_a_compiled_variant_imports():
    import subprocess

    code = ("import sys, bngui.core.compiled_variant; print(' '.join(sorted(name[11:] for name in"
            " sys.modules if name.startswith('bngui.core.'))))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=True, timeout=300)
    assert completed.stdout.split() == sorted(compile_cache.GRAPH_MODULES)


def test_first_calls_in_an_executor_leave_the_variant_busy_until_done_and_unchanged(cache_folder):
    from concurrent.futures import ThreadPoolExecutor

    entry = CompiledVariant(get_variant("baseline"))
    before = entry.model.get_weights()
    with ThreadPoolExecutor(1) as pool:
        assert entry.trace(for_training=True, first_calls_in=pool)
        # The first calls run in the pool; a second trace waits for them.
        assert entry.trace(for_training=True)
        assert entry._ready_for_training
    for a, b in zip(entry.model.get_weights(), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert float(entry._steps.numpy()) == 0.0


def test_a_first_call_failing_in_an_executor_is_logged_and_reported_by_the_next_trace(
        cache_folder, caplog):
    from concurrent.futures import ThreadPoolExecutor

    class Failing(CompiledVariant):
        def _compile(self):
            def fails(images, labels):
                raise RuntimeError("no kernel for this")

            yield fails
            yield None

    entry = Failing(get_variant("baseline"))
    with (caplog.at_level(logging.WARNING, logger="bngui.core.compiled_variant"),
          ThreadPoolExecutor(1) as pool):
        assert entry.trace(for_training=True, first_calls_in=pool)
    assert "compiling baseline failed" in caplog.text
    assert not entry._ready_for_training
    with pytest.raises(RuntimeError, match="no kernel"):
        entry.trace(for_training=True)

