"""The one place that imports TensorFlow and sets its process-wide options.

Every core module imports ``tf`` and ``keras`` from here so that the thread
settings are applied before TensorFlow runs its first operation; they cannot
be changed afterwards.
"""

import os

# Quiet TensorFlow's C++ start-up chatter (CUDA probing, oneDNN notices) unless
# the user asked for it; it is noise on a CPU-only laptop.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow enables its oneDNN kernels only on some CPUs; on the AMD laptop
# CPUs we measured they make this network's convolutions 2-3x faster.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

# Measured on a 2-core CPU (SPEC.md): the lockstep step is fastest with one
# thread per op and two ops in flight, because independent variants then run
# in parallel instead of each op being split across cores. Users may override.
INTRA_OP_THREADS = int(os.environ.get("BNGUI_INTRA_OP_THREADS", "1"))
INTER_OP_THREADS = int(os.environ.get("BNGUI_INTER_OP_THREADS", "2"))


def _configure_threads():
    try:
        tf.config.threading.set_intra_op_parallelism_threads(INTRA_OP_THREADS)
        tf.config.threading.set_inter_op_parallelism_threads(INTER_OP_THREADS)
    except RuntimeError:
        # TensorFlow was already initialised by the host program; keep its settings.
        pass


_configure_threads()

__all__ = ["tf", "keras"]
