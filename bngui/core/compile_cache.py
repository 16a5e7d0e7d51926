"""Compiled functions kept on disk from one launch to the next.

Tracing a variant's functions is Python work: Keras creates some 4,000 graph
ops for one BN variant, about 3 s. An entry is one traced function as
TensorFlow itself keeps it, a ``FunctionDef`` (with the functions it calls),
and, for each value it captured, which of the variant's variables it is (or,
for a constant, its value). Loading hands the FunctionDefs to TensorFlow's
runtime and calls them with the new process's variables in place of the old
ones: a few milliseconds instead of seconds, and the very graph that was
traced, so the results are the same to the last bit.

An entry's name is a hash of everything that shapes the graph: the source of
bngui's core, the versions of Python, TensorFlow and Keras, the device kind,
the function's name and signature and its owner's key (variant, loss, BN
decay). A changed program therefore never finds an old graph. Entries of other
program versions that have not been used for a month are deleted.

The folder is ``BNGUI_COMPILE_CACHE`` if set (``0`` or ``off`` turns the cache
off), else the platform's user cache folder. An entry that cannot be read or
does not fit is logged, deleted and traced again: the cache can only make a
start faster, never wrong.
"""

import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bngui.core.tf_runtime import GPUS, keras, tf

log = logging.getLogger(__name__)

ENV_FOLDER = "BNGUI_COMPILE_CACHE"
FORMAT = 1  # of an entry's file; part of every entry's name
STALE_SECONDS = 30 * 24 * 3600  # other program versions' entries unused this long go


def default_folder() -> Path | None:
    """Where entries live: ``BNGUI_COMPILE_CACHE``, else the user cache folder; None if off."""
    chosen = os.environ.get(ENV_FOLDER, "").strip()
    if chosen.lower() in ("0", "off", "no", "false"):
        return None
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "bngui" / "Cache" / "compiled"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "bngui" / "compiled"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bngui" / "compiled"


@functools.cache
def program_fingerprint() -> str:
    """A hash of what makes a graph: bngui's core sources and the libraries' versions."""
    digest = hashlib.sha256()
    for part in (FORMAT, platform.python_version(), tf.__version__, keras.__version__,
                 keras.config.floatx(), keras.config.dtype_policy().name, bool(GPUS)):
        digest.update(f"{part}\n".encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:20]


def _flat_structure(structured):
    """'single' for one tensor, 'tuple' for a flat tuple or list of them, else None."""
    if tf.is_tensor(structured):
        return "single"
    if isinstance(structured, (tuple, list)) and all(tf.is_tensor(part) for part in structured):
        return "tuple"
    return None


class CompileCache:
    """Traced functions saved to and loaded from ``folder`` (see the module's text)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._pruned = False

    def _entry(self, owner_key, name: str, signature: Sequence) -> str:
        described = repr((tuple(owner_key), name, [(spec.shape.as_list(), spec.dtype.name)
                                                   for spec in signature]))
        return hashlib.sha256(described.encode()).hexdigest()[:32]

    def _path(self, entry: str) -> Path:
        return self.folder / program_fingerprint() / f"{entry}.npz"

    # -- saving ----------------------------------------------------------------------

    def save(self, owner_key, name: str, signature: Sequence, concrete,
             variables: Sequence) -> bool:
        """Keep ``concrete`` (a traced function of ``variables``); whether it was kept.

        A function that captured a resource other than ``variables``, or whose
        outputs are nested, is not kept (it could not be bound again). Failing
        to write (a full or read-only disk) is logged, never raised.
        """
        structure = _flat_structure(concrete.structured_outputs)
        if structure is None:
            log.debug("not caching %s of %s: nested outputs", name, owner_key)
            return False
        position = {id(_handle(variable)): index for index, variable in enumerate(variables)}
        captures: list[dict] = []
        constants: dict[str, np.ndarray] = {}
        for external in concrete.captured_inputs:
            index = position.get(id(external))
            if index is not None:
                captures.append({"variable": index, "dtype": _dtype_name(variables[index]),
                                 "shape": list(variables[index].shape)})
            elif external.dtype != tf.resource:
                key = f"constant_{len(constants)}"
                constants[key] = external.numpy()
                captures.append({"constant": key})
            else:
                log.debug("not caching %s of %s: it captured an unknown resource", name, owner_key)
                return False
        entry = self._entry(owner_key, name, signature)
        # The functions it calls (map_fn's loop body, say) come along; every name
        # gets the entry's prefix so that none can clash with a function traced here.
        definitions = [concrete.function_def,
                       *concrete.graph.as_graph_def().library.function]
        _prefix_names(definitions, f"bngui_{entry[:16]}_")
        description = {
            "owner": repr(tuple(owner_key)), "name": name, "structure": structure,
            "arguments": [(spec.shape.as_list(), spec.dtype.name) for spec in signature],
            "outputs": len(concrete.outputs), "captures": captures,
        }
        functions = {f"function_{index}": np.frombuffer(definition.SerializeToString(), np.uint8)
                     for index, definition in enumerate(definitions)}
        path = self._path(entry)
        written = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: a reader (another process) never sees half a file.
            with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as out:
                written = Path(out.name)
                arrays: dict[str, Any] = {"description": np.array(json.dumps(description)), **functions,
                          **constants}
                np.savez(out, **arrays)
            os.replace(written, path)
        except OSError as error:
            log.info("could not keep a compiled function in %s: %s", path.parent, error)
            if written is not None:
                written.unlink(missing_ok=True)
            return False
        self._prune_other_versions()
        return True

    def _prune_other_versions(self):
        """Delete other program versions' folders unused for STALE_SECONDS (at the first save)."""
        if self._pruned:
            return
        self._pruned = True
        current = program_fingerprint()
        now = time.time()
        with contextlib.suppress(OSError):
            for folder in self.folder.iterdir():
                if (folder.is_dir() and folder.name != current
                        and now - folder.stat().st_mtime > STALE_SECONDS):
                    shutil.rmtree(folder, ignore_errors=True)

    # -- loading ---------------------------------------------------------------------

    def has(self, owner_key, name: str, signature: Sequence) -> bool:
        """Whether an entry for this function is on disk (``load`` may still refuse it)."""
        return self._path(self._entry(owner_key, name, signature)).is_file()

    def load(self, owner_key, name: str, signature: Sequence,
             variables: Sequence) -> Callable | None:
        """The kept function bound to ``variables``, or None (not kept, or unusable)."""
        path = self._path(self._entry(owner_key, name, signature))
        if not path.is_file():
            return None
        try:
            function = _bind(path, owner_key, name, variables)
        except Exception as error:  # noqa: BLE001 - any bad entry is traced again
            log.info("compiled function %s of %s unusable (%s); tracing it again",
                     name, owner_key, error)
            path.unlink(missing_ok=True)
            return None
        with contextlib.suppress(OSError):
            os.utime(path.parent)  # this program version's folder is in use (see pruning)
        return function


def _handle(variable):
    """The resource handle of a tf.Variable or a Keras variable."""
    handle = getattr(getattr(variable, "value", None), "handle", None)
    return variable.handle if handle is None else handle


def _dtype_name(variable) -> str:
    return getattr(variable.dtype, "name", str(variable.dtype))


def _prefix_names(definitions, prefix: str) -> None:
    """Rename every function in ``definitions``, and every call of one, with ``prefix``."""
    renamed = {definition.signature.name: prefix + definition.signature.name
               for definition in definitions}

    def rename_in(attribute):
        if attribute.HasField("func") and attribute.func.name in renamed:
            attribute.func.name = renamed[attribute.func.name]
        for function in attribute.list.func:
            if function.name in renamed:
                function.name = renamed[function.name]

    for definition in definitions:
        definition.signature.name = renamed[definition.signature.name]
        for node in definition.node_def:
            if node.op in renamed:  # a function called as an op
                node.op = renamed[node.op]
            for attribute in node.attr.values():
                rename_in(attribute)


class _EntryMismatch(ValueError):
    pass


def _bind(path: Path, owner_key, name: str, variables: Sequence) -> Callable:
    # TensorFlow's own modules, imported here: tf_runtime has loaded TensorFlow quietly by now.
    from tensorflow.core.framework import function_pb2
    from tensorflow.python.eager import context

    with np.load(path, allow_pickle=False) as entry:
        description = json.loads(str(entry["description"]))
        constants = {key: entry[key] for key in entry.files if key.startswith("constant_")}
        definitions = []
        for index in range(sum(key.startswith("function_") for key in entry.files)):
            definition = function_pb2.FunctionDef()
            definition.ParseFromString(entry[f"function_{index}"].tobytes())
            definitions.append(definition)
    if description["owner"] != repr(tuple(owner_key)) or description["name"] != name:
        raise _EntryMismatch("it belongs to another function")
    if not definitions:
        raise _EntryMismatch("it holds no function")
    captured = []
    for capture in description["captures"]:
        if "constant" in capture:
            captured.append(tf.constant(constants[capture["constant"]]))
            continue
        index = capture["variable"]
        if index >= len(variables):
            raise _EntryMismatch("it captured more variables than there are")
        variable = variables[index]
        if _dtype_name(variable) != capture["dtype"] or list(variable.shape) != capture["shape"]:
            raise _EntryMismatch(f"variable {index} is {_dtype_name(variable)} "
                                 f"{list(variable.shape)}, not {capture['dtype']} {capture['shape']}")
        captured.append(_handle(variable))
    runtime = context.context()
    runtime.ensure_initialized()
    # The callees first; a name already known here is this same entry, loaded before.
    for definition in reversed(definitions):
        if not runtime.has_function(definition.signature.name):
            runtime.add_function_def(definition)
    return LoadedFunction(runtime, definitions[0], captured,
                          [tf.TensorSpec(shape, tf.as_dtype(dtype))
                           for shape, dtype in description["arguments"]],
                          description["outputs"], description["structure"] == "single")


class LoadedFunction:
    """A function loaded from the cache, called like the concrete function it was."""

    def __init__(self, runtime, definition, captured: list, signature: list, outputs: int,
                 single: bool):
        self._runtime, self._captured = runtime, captured
        self._name = definition.signature.name.encode()
        # The graph's own outputs, of which the traced function returned the first ``outputs``.
        self._returned = len(definition.signature.output_arg)
        self._outputs, self._single = outputs, single
        # As a ConcreteFunction has it: (positional specs, keyword specs).
        self.structured_input_signature: tuple[tuple, dict] = (tuple(signature), {})

    def __call__(self, *arguments):
        specs = self.structured_input_signature[0]
        tensors = [tf.convert_to_tensor(argument, spec.dtype)
                   for argument, spec in zip(arguments, specs, strict=True)]
        results = self._runtime.call_function(self._name, tensors + self._captured,
                                              self._returned)
        return results[0] if self._single else tuple(results[: self._outputs])


def default_cache() -> CompileCache | None:
    """The cache in ``default_folder()``, or None when it is turned off."""
    folder = default_folder()
    return _cache_in(folder) if folder is not None else None


@functools.cache
def _cache_in(folder: Path) -> CompileCache:
    # One per folder, shared by every variant: other versions are pruned once a process.
    return CompileCache(folder)
