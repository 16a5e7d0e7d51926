"""The one place that imports TensorFlow and sets its process-wide options.

Every core module imports ``tf`` and ``keras`` from here so that the thread
settings are applied before TensorFlow runs its first operation; they cannot
be changed afterwards.

TensorFlow's native libraries write start-up lines straight to the process's
standard error while they load (CUDA probing on a machine without a GPU,
oneDNN notices), before any log level applies; on a CPU laptop they read like
failures. They are captured while TensorFlow loads and only the lines that
are not such notices are passed on. ``BNGUI_VERBOSE=1`` shows everything.
"""

import os
import re
import sys
import tempfile
from contextlib import contextmanager

from bngui.logs import verbose

VERBOSE = verbose()

if not VERBOSE:
    # Python-side TensorFlow logging: warnings and errors only.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow enables its oneDNN kernels only on some CPUs; on the laptop CPUs
# we measured they make this network's convolutions 2-3x faster.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

# Lines of the native start-up chatter: absl's preamble, informational and
# warning lines (I/W), and errors of the CUDA probing, which on a machine
# without a GPU are expected. Other errors still show.
_START_UP_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IW]\d{4} "
    r"|E\d{4} .*\b(cuda|cudnn|cufft|cublas|gpu)\w*\.cc:\d+\])",
    re.IGNORECASE,
)


def is_start_up_noise(line):
    """Whether a line TensorFlow wrote while loading is a notice rather than a problem."""
    return bool(_START_UP_NOISE.match(line))


@contextmanager
def _native_start_up_lines_filtered():
    """Capture file descriptor 2 meanwhile, then pass on what is not start-up noise."""
    if VERBOSE:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable standard error: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(True)
                    if not is_start_up_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


with _native_start_up_lines_filtered():
    import keras  # noqa: E402
    import tensorflow as tf  # noqa: E402

    # Measured on a 2-core CPU: the lockstep step is fastest with one thread
    # per op and two ops in flight, because independent variants then run in
    # parallel instead of each op being split across cores. Users may override.
    # With a GPU (a CUDA build of TensorFlow) the ops run there, and the CPU
    # threads keep TensorFlow's own defaults (0: as many as it sees fit).
    GPUS = tf.config.list_physical_devices("GPU")
    DEFAULT_THREADS = ("0", "0") if GPUS else ("1", "2")
    INTRA_OP_THREADS = int(os.environ.get("BNGUI_INTRA_OP_THREADS", DEFAULT_THREADS[0]))
    INTER_OP_THREADS = int(os.environ.get("BNGUI_INTER_OP_THREADS", DEFAULT_THREADS[1]))
    try:
        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(INTER_OP_THREADS)
    except RuntimeError:
        # TensorFlow was already initialised by the host program; keep its settings.
        pass
    # Grappler, TensorFlow's graph optimiser, takes about half of each compiled
    # function's first call; with the fused BN kernel and oneDNN's own rewrite of the
    # ops (which still runs) the training step is as fast without it, on the 2-core
    # CPUs we measured. BNGUI_GRAPPLER=1 turns it back on; a GPU keeps it (its layout
    # and fusion passes were not measured here).
    GRAPPLER = bool(GPUS) or os.environ.get("BNGUI_GRAPPLER", "0") == "1"
    if not GRAPPLER:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    # The devices are probed on the first use; do it now, while filtered.
    tf.config.list_physical_devices()

__all__ = ["tf", "keras", "GPUS", "GRAPPLER", "INTRA_OP_THREADS", "INTER_OP_THREADS",
           "is_start_up_noise"]
