"""Compiled functions kept on disk from one launch to the next.

Tracing a variant's functions is Python work: Keras creates some 4,000 graph
ops for one BN variant, about 3 s. An entry is one traced function as
TensorFlow itself keeps it, a ``FunctionDef`` (with the functions it calls),
and, for each value it captured, which of the variant's variables it is (or,
for a constant, its value). Loading hands the FunctionDefs to TensorFlow's
runtime and calls them with the new process's variables in place of the old
ones: a few milliseconds instead of seconds, and the very graph that was
traced, so the results are the same to the last bit.

An entry's name is a hash of everything that shapes the graph: the code of
the core modules a compiled variant is made of (``GRAPH_MODULES``, as parsed:
comments, docstrings and layout do not count), the versions of Python,
TensorFlow and Keras, the device kind, the function's name and signature and
its owner's key (variant, loss, BN decay). A changed program therefore never
finds an old graph.

Where: the sub-folder ``bngui-compiled`` of ``BNGUI_COMPILE_CACHE`` if set
(``0`` or ``off`` turns the cache off), else of the platform's user cache
folder for bngui; in it one folder per program version, marked with a tag
file. What is loaded is executed, so the cache refuses (and is then off) a
folder of its own that is not the user's or that others may write. It deletes
only what it wrote: its own files in its own marked folders, those of other
program versions once unused for a month, never a folder with anything else
in it. An entry that cannot be read, does not fit, or fails when called is
logged, deleted and traced again: the cache can only make a start faster,
never wrong.
"""

import ast
import contextlib
import functools
import hashlib
import json
import logging
import os
import platform
import re
import stat
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
FORMAT = 2  # of an entry's file; part of every entry's name
STALE_SECONDS = 30 * 24 * 3600  # other program versions' entries unused this long go
OWN_FOLDER = "bngui-compiled"  # the cache's own sub-folder of the chosen folder
TAG = "BNGUI-COMPILE-CACHE.TAG"  # marks a folder the cache made (its own files only)
_TAG_TEXT = "This folder holds bngui's compiled graphs; bngui deletes it when unused.\n"
_VERSION_NAME = re.compile(r"[0-9a-f]{20}")
_ENTRY_NAME = re.compile(r"[0-9a-f]{32}\.npz|.+\.tmp")
# The core modules a compiled variant's graphs come from (a test checks that these are
# what ``compiled_variant`` imports): their code is part of every entry's name.
GRAPH_MODULES = ("bn_statistics", "compile_cache", "compiled_variant", "layer_names", "layers",
                 "models", "settings", "tf_runtime", "variants")


def default_folder() -> Path | None:
    """The folder for the cache's own sub-folder: ``BNGUI_COMPILE_CACHE``, else the
    user cache folder's ``bngui``; None if off."""
    chosen = os.environ.get(ENV_FOLDER, "").strip()
    if chosen.lower() in ("0", "off", "no", "false"):
        return None
    if chosen:
        return Path(chosen).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return base / "bngui" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "bngui"
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bngui"


def code_of(source: str) -> str:
    """A module's code without comments, docstrings or layout (its parsed form)."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)):
            body[0] = ast.Pass()
    return ast.dump(tree)


@functools.cache
def program_fingerprint() -> str:
    """A hash of what makes a graph: the graph modules' code and the libraries' versions."""
    digest = hashlib.sha256()
    for part in (FORMAT, platform.python_version(), tf.__version__, keras.__version__,
                 keras.config.floatx(), keras.config.dtype_policy().name, bool(GPUS)):
        digest.update(f"{part}\n".encode())
    for name in GRAPH_MODULES:
        digest.update(name.encode())
        digest.update(code_of((Path(__file__).parent / f"{name}.py").read_text("utf-8")).encode())
    return digest.hexdigest()[:20]


def refusal(folder: Path) -> str | None:
    """Why the cache may not use ``folder`` (what it loads is executed), or None.

    It must be a real folder (not a link) owned by this user and not writable by
    the group or others. (Windows: its folders' ACLs are left to the system.)
    """
    try:
        status = folder.lstat()
    except OSError as error:
        return str(error)
    if not stat.S_ISDIR(status.st_mode):
        return "it is not a folder"
    if not hasattr(os, "getuid"):
        return None
    if status.st_uid != os.getuid():
        return "it belongs to another user"
    if status.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return "others may write to it"
    return None


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
        self.folder = Path(folder) / OWN_FOLDER
        self._pruned = False
        self._checked: set[Path] = set()  # folders found fit for use
        self._refused = False

    def _entry(self, owner_key, name: str, signature: Sequence) -> str:
        described = repr((tuple(owner_key), name, [(spec.shape.as_list(), spec.dtype.name)
                                                   for spec in signature]))
        return hashlib.sha256(described.encode()).hexdigest()[:32]

    def _path(self, entry: str) -> Path:
        return self.folder / program_fingerprint() / f"{entry}.npz"

    def _usable(self, version_folder: Path, create: bool) -> bool:
        """Whether this version's folder (and the cache's own one) may be used;
        with ``create``, made (private, tagged) if missing. A refusal is logged
        once and turns the cache off for this process."""
        if self._refused:
            return False
        for folder in (self.folder, version_folder):
            if folder in self._checked:
                continue
            if create and not folder.exists():
                try:
                    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                    (folder / TAG).write_text(_TAG_TEXT)
                except OSError as error:
                    log.info("could not make the compile cache's folder %s: %s", folder, error)
                    return False
            elif not folder.exists():
                return False
            why = refusal(folder)
            if why is not None:
                log.warning("not using the compile cache in %s: %s", folder, why)
                self._refused = True
                return False
            self._checked.add(folder)
        return True

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
        if not self._usable(path.parent, create=True):
            return False
        written = None
        try:
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
        """Delete other program versions' entries unused for STALE_SECONDS (at the first save).

        Only in folders the cache made (named like a version, tagged), only its
        own files; such a folder goes only once nothing else is left in it.
        """
        if self._pruned:
            return
        self._pruned = True
        current = program_fingerprint()
        now = time.time()
        with contextlib.suppress(OSError):
            for folder in self.folder.iterdir():
                if (folder.name == current or not _VERSION_NAME.fullmatch(folder.name)
                        or folder.is_symlink() or not (folder / TAG).is_file()
                        or now - folder.stat().st_mtime <= STALE_SECONDS):
                    continue
                for path in folder.iterdir():
                    if _ENTRY_NAME.fullmatch(path.name) and path.is_file():
                        path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):  # anything else there: the folder stays
                    if {path.name for path in folder.iterdir()} == {TAG}:
                        (folder / TAG).unlink()
                        folder.rmdir()

    # -- loading ---------------------------------------------------------------------

    def has(self, owner_key, name: str, signature: Sequence) -> bool:
        """Whether an entry for this function is on disk (``load`` may still refuse it)."""
        path = self._path(self._entry(owner_key, name, signature))
        return self._usable(path.parent, create=False) and path.is_file()

    def load(self, owner_key, name: str, signature: Sequence,
             variables: Sequence) -> Callable | None:
        """The kept function bound to ``variables``, or None (not kept, or unusable)."""
        path = self._path(self._entry(owner_key, name, signature))
        if not self._usable(path.parent, create=False) or not path.is_file():
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
    return LoadedFunction(path, runtime, definitions[0], captured,
                          [tf.TensorSpec(shape, tf.as_dtype(dtype))
                           for shape, dtype in description["arguments"]],
                          description["outputs"], description["structure"] == "single")


class LoadedFunction:
    """A function loaded from the cache, called like the concrete function it was.

    If a call fails, its entry is deleted (and the error raised): the next
    compile traces the function again instead of loading what failed.
    """

    def __init__(self, path: Path, runtime, definition, captured: list, signature: list,
                 outputs: int, single: bool):
        self._path = path
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
        try:
            results = self._run(tensors)
        except Exception as error:
            log.info("compiled function %s failed when called (%s); its entry is deleted",
                     self._path.name, error)
            self._path.unlink(missing_ok=True)
            raise
        return results[0] if self._single else tuple(results[: self._outputs])

    def _run(self, tensors):
        return self._runtime.call_function(self._name, tensors + self._captured, self._returned)


def default_cache() -> CompileCache | None:
    """The cache in ``default_folder()``, or None when it is turned off."""
    folder = default_folder()
    return _cache_in(folder) if folder is not None else None


@functools.cache
def _cache_in(folder: Path) -> CompileCache:
    # One per folder, shared by every variant: other versions are pruned once a process.
    return CompileCache(folder)
