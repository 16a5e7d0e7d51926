"""Run trained models on MNIST-style digits: class scores and predicted digits.

Scores. The notebook trains with a sigmoid loss: each of the ten logits is a
separate yes/no score, and their sigmoids need not sum to 1. To show one
comparable set of scores per model, bngui reports ``softmax(logits)``
everywhere (the GUI's bars and confidence, ``bngui classify`` and its JSON):
the ten probabilities sum to 1 and keep the logits' ranking, so the predicted
digit is the same as with sigmoids. A model that learned nothing (the
baseline) shows about 10% for every digit.

The batch-statistics bug. In training mode a batch-normalized layer
normalizes with the statistics of the batch it is given. On a single drawing
that is wrong (the fully connected layer's variance over one image is 0, so
its output no longer depends on the image). ``batch_statistics=True`` runs
the batch-normalized models that way, to show what the bug does. Keras's
``BatchNormalization`` and bngui's ``LowLevelBatchNorm`` also update their
moving statistics in training mode; here those non-trainable weights are saved
before the call and written back after it, inside the same compiled graph, so
the models are left exactly as they were.

Speed. Calling a Keras model eagerly on one image costs dozens of times more
than running a compiled graph of the same model. ``Predictor`` compiles one
graph per model (traced once, input shape [None, 28, 28, 1], so no retracing
for other batch sizes) and, after ``prepare``, one graph that runs a whole set
of models, which lets TensorFlow run them side by side on two cores.
"""

import threading
from collections.abc import Mapping

import numpy as np

from bngui.core.variants import UnknownVariantError, model_info

CLASSES = 10
IMAGE_SIZE = 28


def softmax(logits) -> np.ndarray:
    """Softmax over the last axis, computed stably in float64, returned as float32."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exponentials = np.exp(shifted)
    return (exponentials / exponentials.sum(axis=-1, keepdims=True)).astype(np.float32)


def is_single_digit(images) -> bool:
    """Whether ``images`` is one digit, (28, 28) or (28, 28, 1), rather than a batch."""
    shape = np.shape(images)
    return shape == (IMAGE_SIZE, IMAGE_SIZE) or shape == (IMAGE_SIZE, IMAGE_SIZE, 1)


def as_image_batch(images) -> np.ndarray:
    """(28, 28), (N, 28, 28) or (N, 28, 28, 1) digits as a float32 (N, 28, 28, 1) array."""
    batch = np.asarray(images, dtype=np.float32)
    if is_single_digit(batch):
        batch = batch.reshape(1, IMAGE_SIZE, IMAGE_SIZE)
    if batch.ndim == 3:
        batch = batch[..., None]
    if batch.ndim != 4 or batch.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE, 1):
        raise ValueError(
            f"expected 28x28 digits shaped (28, 28), (N, 28, 28) or (N, 28, 28, 1), got {np.shape(images)}"
        )
    return np.ascontiguousarray(batch)


def has_batch_norm(variant_id: str) -> bool:
    """Whether the variant (by id) has batch normalization; unknown ids count as not."""
    try:
        return model_info(variant_id).has_batch_norm
    except UnknownVariantError:
        return False


def uses_batch_statistics(variant_id: str, batch_statistics: bool) -> bool:
    """Whether a model is run in training mode (batch statistics) for this request."""
    return bool(batch_statistics) and has_batch_norm(variant_id)


class Predictor:
    """Runs models on digits, with compiled graphs cached per model.

    ``compile=False`` calls the models eagerly instead: slower per call, but
    nothing to trace, which suits a one-off batch (``bngui classify``).
    Thread-safe: calls are serialised by a lock.
    """

    def __init__(self, compile=True):
        self.compile = compile
        self._lock = threading.RLock()
        self._functions = {}  # (id(model), training) -> (model, its traced graph)
        self._combined = {}  # (ids of the models, modes) -> traced graph of them all

    # -- compiled graphs -----------------------------------------------------

    def _signature(self):
        from bngui.core.tf_runtime import tf

        return [tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 1], tf.float32, name="images")]

    def _function(self, model, training):
        """The model's traced graph (a concrete function), traced now if it is new.

        Concrete functions are traced once, explicitly, for the one input
        signature: calling them can never retrace, and tracing a graph per
        model is not mistaken for retracing by TensorFlow's warning.
        """
        key = (id(model), training)
        entry = self._functions.get(key)
        if entry is not None and entry[0] is model:
            return entry[1]
        from bngui.core.tf_runtime import tf

        if training:

            def run(images):
                return _call_without_side_effects(model, images)

        else:

            def run(images):
                return model(images, training=False)

        function = tf.function(run, autograph=False).get_concrete_function(*self._signature())
        self._functions[key] = (model, function)
        return function

    def _modes(self, models, batch_statistics):
        return tuple(uses_batch_statistics(variant_id, batch_statistics) for variant_id in models)

    def _combined_key(self, models, batch_statistics):
        return (tuple(id(model) for model in models.values()), self._modes(models, batch_statistics))

    def prepare(self, models: Mapping, batch_statistics: bool = False, combined: bool = True) -> None:
        """Trace the graphs for ``models`` now, so the first prediction is fast.

        With ``combined``, also build the graph that runs all of them at once.
        """
        if not self.compile or not models:
            return
        zeros = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
        with self._lock:
            functions = [
                self._function(model, training)
                for model, training in zip(models.values(), self._modes(models, batch_statistics))
            ]
            if not combined:
                for function in functions:
                    function(zeros)
                return
            key = self._combined_key(models, batch_statistics)
            if key in self._combined:
                return
            from bngui.core.tf_runtime import tf

            def run_all(images):
                return [function(images) for function in functions]

            function = tf.function(run_all, autograph=False).get_concrete_function(*self._signature())
            function(zeros)
            self._combined[key] = function

    def prepare_model(self, model, training: bool = False) -> None:
        """Trace one model's graph (a small step, so a worker can interleave requests)."""
        if self.compile:
            with self._lock:
                self._function(model, training)(
                    np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 1), np.float32)
                )

    def _run_one(self, model, training, batch, trace):
        """One model's logits: its graph if traced (or ``trace``), else an eager call."""
        key = (id(model), training)
        if trace or self._functions.get(key, (None,))[0] is model:
            return self._function(model, training)(batch)
        return _call_without_side_effects(model, batch) if training else model(batch, training=False)

    def is_prepared(self, models: Mapping, batch_statistics: bool = False) -> bool:
        """Whether the combined graph for ``models`` is ready."""
        with self._lock:
            return self._combined_key(models, batch_statistics) in self._combined

    def retain(self, models) -> None:
        """Forget the graphs of every model not in ``models`` (frees replaced models)."""
        keep = {id(model) for model in models}
        with self._lock:
            self._functions = {
                key: entry for key, entry in self._functions.items() if key[0] in keep
            }
            self._combined = {
                key: function
                for key, function in self._combined.items()
                if set(key[0]) <= keep
            }

    # -- predictions ----------------------------------------------------------

    def logits(self, models: Mapping, images, batch_statistics: bool = False,
               trace: bool = True) -> dict[str, np.ndarray]:
        """``{variant_id: logits}`` for ``models`` (``{variant_id: keras model}``).

        ``images`` is one digit, (28, 28) or (28, 28, 1), or a batch
        (N, 28, 28) or (N, 28, 28, 1); the logits have shape
        (10,) or (N, 10) to match. With ``batch_statistics`` the batch-normalized
        models run in training mode on exactly this batch (see the module's
        docstring); the others are unaffected.

        With ``trace=False`` a model whose graph is not traced yet runs
        eagerly (a fraction of the time tracing takes): a worker that
        traces in the background answers its first requests sooner.
        """
        single = is_single_digit(images)
        batch = as_image_batch(images)
        modes = self._modes(models, batch_statistics)
        with self._lock:
            if not self.compile:
                outputs = [
                    _call_without_side_effects(model, batch) if training
                    else model(batch, training=False)
                    for model, training in zip(models.values(), modes)
                ]
            else:
                combined = self._combined.get(self._combined_key(models, batch_statistics))
                if combined is not None:
                    outputs = combined(batch)
                else:
                    outputs = [
                        self._run_one(model, training, batch, trace)
                        for model, training in zip(models.values(), modes)
                    ]
        results = {}
        for variant_id, output in zip(models, outputs):
            logits = np.asarray(output, dtype=np.float32)
            results[variant_id] = logits[0] if single else logits
        return results

    def probabilities(self, models: Mapping, images, batch_statistics: bool = False,
                      trace: bool = True) -> dict[str, np.ndarray]:
        """``{variant_id: softmax(logits)}``; see ``logits`` for the arguments."""
        return {
            variant_id: softmax(logits)
            for variant_id, logits in self.logits(models, images, batch_statistics, trace).items()
        }


def _call_without_side_effects(model, images):
    """``model(images, training=True)`` that leaves the non-trainable weights as they were.

    Works eagerly and inside ``tf.function``: in a graph, TensorFlow's
    automatic control dependencies keep the reads, the layers' own updates and
    the restoring assignments in program order.
    """
    from bngui.core.tf_runtime import tf

    weights = list(model.non_trainable_weights)
    saved = [tf.identity(weight.value) for weight in weights]
    with tf.control_dependencies(saved):
        outputs = model(images, training=True)
    with tf.control_dependencies([outputs]):
        restores = [weight.assign(value) for weight, value in zip(weights, saved)]
    with tf.control_dependencies([op for op in restores if op is not None]):
        return tf.identity(outputs)


_default_predictor = None
_default_lock = threading.Lock()


def default_predictor() -> Predictor:
    """A process-wide compiled ``Predictor``."""
    global _default_predictor
    with _default_lock:
        if _default_predictor is None:
            _default_predictor = Predictor()
        return _default_predictor


def predict_digits(models: Mapping, image28, batch_statistics: bool = False) -> dict[str, np.ndarray]:
    """``{variant_id: probabilities}`` (softmax of the logits) for one digit or a batch."""
    return default_predictor().probabilities(models, image28, batch_statistics)


def predicted_digit(probabilities) -> tuple[int, float]:
    """(digit, confidence) of one model's ten probabilities."""
    probabilities = np.asarray(probabilities)
    digit = int(np.argmax(probabilities))
    return digit, float(probabilities[digit])
