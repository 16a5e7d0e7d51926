"""``bngui bench``: the lockstep trainer's speed, against the machine and against ``model.fit``.

(a) the lockstep trainer, every chosen variant on every batch, two variants
    at a time in parallel (its own compiled step per variant);
(b) the same variants one after another with Keras ``model.fit``, same
    batches in the same order, same loss, Adam with the same constants, same
    thread settings.
Both are timed after warm-up batches, so compiling is not counted. Also:
the time to the first trained batch at a first launch (nothing compiled), at
a later one (the traced functions loaded from the disk cache) and reused (the
variants compiled by an earlier run), the step time per model and batch, the
training rate as a share of the machine's float32 matrix-multiply peak
measured with TensorFlow (the library the trainer uses, on both cores), and
optionally a whole run's breakdown.
"""

import os
import tempfile
import time
from unittest import mock

import numpy as np

from bngui.commands.train import load_data_or_explain

MATMUL_SIZE = 2048


def matmul_gflops(repeats=10, dtype="float32"):
    """The machine's matrix-multiply rate with TensorFlow, every core busy.

    TensorFlow runs here with one thread per operation and two operations
    at once (as the trainer does), so two independent products are timed
    together.
    """
    from bngui.core.tf_runtime import tf

    rng = np.random.default_rng(0)
    a, b, c, d = (tf.constant(rng.random((MATMUL_SIZE, MATMUL_SIZE), dtype=np.float32), dtype)
                  for _ in range(4))

    @tf.function
    def two_products():
        return tf.reduce_sum(tf.matmul(a, b)) + tf.reduce_sum(tf.matmul(c, d))

    two_products().numpy()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        two_products().numpy()
        best = min(best, time.perf_counter() - started)
    return 2 * 2 * MATMUL_SIZE**3 / best / 1e9


def _batches(data, count, batch_size, seed):
    rng = np.random.default_rng(seed)
    indices = rng.permutation(len(data.train_labels))[: count * batch_size]
    return data.train_images[indices], data.train_labels[indices].astype(np.int32)


def time_to_first_batch(variant_ids, data, settings, cache):
    """Seconds from making the trainer to its first trained batch (compiling included)."""
    from bngui.core.trainer import LockstepTrainer

    started = time.perf_counter()
    trainer = LockstepTrainer(variant_ids, data, settings, compiled=cache)
    trainer.trace()
    trainer.train_step(data.train_images[: settings.batch_size],
                       data.train_labels[: settings.batch_size].astype(np.int32))
    return time.perf_counter() - started, trainer


def time_lockstep(trainer, settings, images, labels, warmup):
    from concurrent.futures import ThreadPoolExecutor

    from bngui.core.trainer import PARALLEL_VARIANTS

    size = settings.batch_size
    with ThreadPoolExecutor(PARALLEL_VARIANTS) as pool:
        def train(batch):
            rows = slice(batch * size, (batch + 1) * size)
            trainer.train_step(images[rows], labels[rows], pool=pool)

        for batch in range(warmup):
            train(batch)
        started = time.perf_counter()
        for batch in range(warmup, warmup + settings.batches):
            train(batch)
        return time.perf_counter() - started


def time_model_fit(variant_id, settings, images, labels, warmup):
    from bngui.core.models import build_model
    from bngui.core.tf_runtime import keras
    from bngui.core.trainer import keras_loss, make_optimizer

    keras.utils.set_random_seed(settings.seed)
    model = build_model(variant_id)
    model.compile(optimizer=make_optimizer(settings.learning_rate), loss=keras_loss(settings.loss))
    targets = keras.utils.to_categorical(labels, 10) if settings.loss == "sigmoid" else labels
    split = warmup * settings.batch_size
    fit = dict(batch_size=settings.batch_size, epochs=1, shuffle=False, verbose=0)
    model.fit(images[:split], targets[:split], **fit)
    started = time.perf_counter()
    model.fit(images[split:], targets[split:], **fit)
    return time.perf_counter() - started


def time_full_run(variant_ids, data, settings, collect_statistics):
    """Seconds of a whole ``LockstepTrainer.run`` up to its final scoring, and images/s.

    Timed from the first trained batch, so tracing is not counted; includes the
    validation passes and, when collecting, the statistics.
    """
    from bngui.core import events
    from bngui.core.trainer import LockstepTrainer

    trainer = LockstepTrainer(variant_ids, data, settings, collect_statistics=collect_statistics)
    marks = {}

    def emit(event):
        if isinstance(event, events.StatusChanged):
            if event.phase == events.Phase.TRAINING and "start" not in marks:
                marks["start"] = time.perf_counter()
            elif event.phase == events.Phase.SCORING:
                marks["end"] = time.perf_counter()

    trainer.run(emit)
    seconds = marks["end"] - marks["start"]
    # The first batch (with tracing) is before "start": batches-1 were timed.
    return seconds, (settings.batches - 1) * settings.batch_size * len(variant_ids) / seconds


def run_statistics_bench(variant_ids, settings, data_path=None, rounds=2):
    """What collecting the gradient and activation statistics costs in a real run."""
    data = load_data_or_explain(data_path)
    if data is None:
        return 1
    print(f"bench --statistics: {len(variant_ids)} variant(s), runs of {settings.batches} batches"
          f" of {settings.batch_size} (validation every 100, statistics every 25 / 100),"
          f" {rounds} round(s) alternating without and with statistics")
    rates = {False: [], True: []}
    for round_number in range(rounds):
        for collect in (False, True):
            seconds, rate = time_full_run(variant_ids, data, settings, collect)
            rates[collect].append(rate)
            print(f"round {round_number + 1}, statistics {'on ' if collect else 'off'}:"
                  f" {seconds:.2f} s, {rate:.0f} images/s over all variants")
    best_off, best_on = max(rates[False]), max(rates[True])
    print(f"best without statistics: {best_off:.0f} images/s; with: {best_on:.0f} images/s")
    print(f"statistics overhead: {1 - best_on / best_off:.1%} of training throughput")
    return 0


def run_bench(variant_ids, settings, warmup=5, data_path=None, full_run=0):
    data = load_data_or_explain(data_path)
    if data is None:
        return 1
    from bngui.core import compile_cache
    from bngui.core.models import build_model, multiply_adds_per_image
    from bngui.core.tf_runtime import GRAPPLER, INTER_OP_THREADS, INTRA_OP_THREADS, tf
    from bngui.core.trainer import CompiledVariants

    images, labels = _batches(data, warmup + settings.batches, settings.batch_size, settings.seed)
    timed_images = settings.batches * settings.batch_size
    count = len(variant_ids)
    print(f"bench: {count} variant(s), {settings.batches} timed batches of {settings.batch_size}"
          f" after {warmup} warm-up; TensorFlow {tf.__version__},"
          f" threads intra-op {INTRA_OP_THREADS} / inter-op {INTER_OP_THREADS},"
          f" Grappler {'on' if GRAPPLER else 'off'}", flush=True)

    # The disk cache of traced functions starts empty, in a folder of the bench's
    # own: the first launch traces and fills it, a later launch loads from it.
    with (tempfile.TemporaryDirectory(prefix="bngui-bench-compiled-") as folder,
          mock.patch.dict(os.environ, {compile_cache.ENV_FOLDER: folder})):
        first_launch, _ = time_to_first_batch(variant_ids, data, settings, CompiledVariants())
        cache = CompiledVariants()
        later_launch, trainer = time_to_first_batch(variant_ids, data, settings, cache)
        reused, trainer = time_to_first_batch(variant_ids, data, settings, cache)
    print(f"time to the first trained batch: first launch {first_launch:.1f} s (building,"
          f" tracing), later launch {later_launch:.1f} s (building, traced functions loaded"
          f" from the disk cache), reused {reused:.2f} s (variants compiled by the run before)",
          flush=True)

    lockstep_seconds = time_lockstep(trainer, settings, images, labels, warmup)
    lockstep_rate = timed_images * count / lockstep_seconds
    per_model_step = lockstep_seconds / settings.batches / count * 1000
    # Rates count one image trained by one variant as one image, so both ways
    # are compared on the same work: every variant trained on every timed batch.
    print(f"(a) lockstep, {count} variants: {lockstep_seconds:.2f} s, {lockstep_rate:.0f} images/s"
          f" over all variants; {lockstep_seconds / settings.batches * 1000:.1f} ms a batch,"
          f" {per_model_step:.2f} ms per model and batch", flush=True)

    fit_seconds = 0.0
    for variant_id in variant_ids:
        seconds = time_model_fit(variant_id, settings, images, labels, warmup)
        fit_seconds += seconds
        print(f"(b) model.fit {variant_id}: {seconds:.2f} s, {timed_images / seconds:.0f} images/s",
              flush=True)
    fit_rate = timed_images * count / fit_seconds
    print(f"(b) model.fit, {count} variants one after another: {fit_seconds:.2f} s,"
          f" {fit_rate:.0f} images/s over all variants")

    multiply_adds = multiply_adds_per_image(build_model(variant_ids[0]))
    # A training step costs about three forward passes (forward, two backward
    # products), two floating-point operations per multiply-add.
    flops_per_image = 6 * multiply_adds
    peak = matmul_gflops()
    print(f"float32 matmul peak with TensorFlow, both cores: {peak:.0f} GFLOP/s")
    for name, rate in (("lockstep", lockstep_rate), ("model.fit", fit_rate)):
        achieved = rate * flops_per_image / 1e9
        print(f"{name}: {achieved:.1f} GFLOP/s of training, {achieved / peak:.1%} of that peak"
              f" ({multiply_adds / 1e6:.2f} M multiply-adds per image forward)")
    print(f"ratio a/b: {lockstep_rate / fit_rate:.2f}")

    if full_run:
        run_breakdown(variant_ids, data, settings, full_run, cache)
    return 0


def run_breakdown(variant_ids, data, settings, batches, cache):
    """A whole run (reusing the compiled variants): where its time goes."""
    import dataclasses

    from bngui.core.trainer import LockstepTrainer

    full = dataclasses.replace(settings, batches=batches)
    started = time.perf_counter()
    trainer = LockstepTrainer(variant_ids, data, full, compiled=cache)
    built = time.perf_counter() - started
    trainer.run()
    wall = time.perf_counter() - started
    timings = trainer.timings
    names = {"compile": "compiling", "train": "training", "evaluate": "validation during training",
             "final": "final scoring (validation, test, single samples)", "precise": "precise BN"}
    parts = ", ".join(f"{names[name]} {seconds:.1f} s" for name, seconds in timings.items())
    rest = wall - built - sum(timings.values())
    print(f"a run of {batches} batches (variants already compiled): {wall:.1f} s = start"
          f" (building) {built:.1f} s, {parts}, other {rest:.1f} s")
