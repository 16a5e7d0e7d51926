"""The window's slow work, as plain functions that run in a ``jobs.Job``.

Each takes the job's ``JobState`` first. Importing TensorFlow, loading or
downloading MNIST, saving and opening sessions, and training itself: none of
them touches a widget. Also here: what keeps the window responsive while
they run (thread priority, the garbage collector's timing, the GIL's switch
interval).
"""

import gc
import os
import sys
import threading
from contextlib import contextmanager

from bngui.core.data import download_mnist, load_mnist

BACKGROUND_NICENESS = 5

# Python starts a full collection after this many collections of the middle
# generation; this many never comes.
NEVER = 1_000_000_000

# How long a thread waiting for the GIL waits before it asks the holder to
# hand it over (Python's default: 5 ms). That wait restarts whenever the GIL is
# released, and tracing a tf.function releases and retakes it constantly in
# small C++ calls; the tracing thread, already running, wins every race and
# the GUI thread never gets to ask: the window froze for 100-230 ms at a time
# while the training step was traced. With 50 us the GUI thread asks at once;
# threads that both run Python then alternate more often, at a small cost.
GIL_SWITCH_INTERVAL_S = 50e-6

_import_lock = threading.Lock()


def yield_cpu_to_the_gui():
    """Lower the calling thread's scheduling priority (Linux only).

    On a 2-core laptop TensorFlow's two compute threads keep both cores busy;
    at equal priority the GUI thread then waits its turn and the window
    stutters. Linux threads inherit the niceness of the thread that creates
    them, so calling this before TensorFlow starts its thread pools makes all
    of its threads give way to the GUI, which needs very little CPU.
    """
    if sys.platform.startswith("linux"):
        try:
            current = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                           max(current, BACKGROUND_NICENESS))
        except OSError:
            pass  # not allowed here: keep the normal priority


@contextmanager
def no_full_collections_during_the_run():
    """No full garbage collection while a run is in progress.

    A full collection walks every object Python tracks while holding the GIL,
    and the GUI thread needs the GIL to draw anything. A run's models,
    optimizer state and traced graphs are hundreds of thousands of objects: a
    full collection over them holds the GIL for a visible moment. The
    collections themselves happen on the GUI thread (``garbage``); during the
    run the young generations are still collected (cheap: they are small);
    the full one waits until the run has ended.
    """
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NEVER)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def import_tensorflow_without_gc_pauses():
    """Import TensorFlow, Keras and the trainer; take what they made out of the GC's scans.

    These imports leave hundreds of thousands of tracked objects, and each
    full collection over them froze the GUI thread for hundreds of
    milliseconds. The imported modules, classes and functions live as long as
    the process, so when this call is the one that imports TensorFlow, the
    collector is paused during the imports and ``gc.freeze()`` then moves
    everything they made into the permanent generation, which later
    collections skip.
    """
    with _import_lock:  # one caller at a time, so the collector's state is restored exactly
        first_import = "tensorflow" not in sys.modules
        collecting = gc.isenabled()
        if first_import:
            gc.disable()
        try:
            import bngui.core.trainer  # noqa: F401  (imports Keras and the models)
            from bngui.core.tf_runtime import tf

            tf.constant(1.0).numpy()
        finally:
            if first_import:
                gc.freeze()
                if collecting:
                    gc.enable()


def load_tensorflow(state):
    """Import TensorFlow so the window can appear first."""
    # Process-wide from now on; the import below is the first heavy user.
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    # TensorFlow creates its thread pools on its first operation; doing that
    # here, at low priority, makes every training thread give way to the GUI.
    yield_cpu_to_the_gui()
    import_tensorflow_without_gc_pauses()


def load_data(state, path=None):
    """MNIST from a path, $BNGUI_MNIST or the Keras cache; never downloads."""
    return load_mnist(path, allow_download=False)


def download_data(state, origin=None):
    """Download MNIST into the Keras cache (hash checked), then load it.

    Progress is reported as ``(bytes done, bytes total or 0)``.
    """
    options = {"origin": origin} if origin else {}
    path = download_mnist(
        progress=lambda done, total: state.progress((done, total or 0)),
        cancel=lambda: state.cancelled,
        **options,
    )
    return load_mnist(path, allow_download=False)


def save_session(state, folder, settings, history, models):
    """Save a run (``history`` is a snapshot) as a session folder; returns the folder."""
    from bngui.core.session import save_session as save

    save(folder, settings, history, models)
    return str(folder)


def open_session(state, folder):
    """Read a session and load its models: ``(session, models, problems)``."""
    from bngui.core.session import load_session_models
    from bngui.core.session import open_session as read

    import_tensorflow_without_gc_pauses()  # the models need it; a no-op once loaded
    session = read(folder)
    models, problems = load_session_models(session)
    return session, models, problems


def train(state, make_trainer, variant_ids, data, settings, control):
    """Build a trainer with ``make_trainer`` and run it; every event goes to ``progress``.

    Returns the trained models to keep, ``{variant_id: keras model}``; none
    when the job was cancelled (the window is closing: copying them would
    only make it wait).
    """
    yield_cpu_to_the_gui()
    with no_full_collections_during_the_run():
        trainer = make_trainer(variant_ids, data, settings, control)
        trainer.run(state.progress)
        return {} if state.cancelled else trainer.trained_models()


def prepare_training(state, variant_ids, settings):
    """Compile the variants of a run ahead of it, one by one, until cancelled."""
    from bngui.core.trainer import shared_compiled_variants

    yield_cpu_to_the_gui()
    shared_compiled_variants().prepare(variant_ids, settings, cancelled=lambda: state.cancelled)
