"""A variant trains the same whether alone or beside others (a fair comparison)."""

from types import SimpleNamespace

import numpy as np

from bngui.core.trainer import LockstepTrainer, TrainSettings


def test_variant_trains_identically_alone_and_in_lockstep():
    rng = np.random.default_rng(0)
    images = rng.random((192, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, 192).astype(np.int32)
    data = SimpleNamespace(train_images=images, train_labels=labels)
    settings = TrainSettings(batches=3, seed=7)
    alone = LockstepTrainer(["keras-conv-bn-relu"], data, settings)
    together = LockstepTrainer(["baseline", "keras-conv-bn-relu"], data, settings)
    for start in range(0, 192, 64):
        batch = slice(start, start + 64)
        alone.train_step(images[batch], labels[batch])
        together.train_step(images[batch], labels[batch])
    for mine, theirs in zip(alone.models["keras-conv-bn-relu"].get_weights(),
                            together.models["keras-conv-bn-relu"].get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    # And the seed matters: another seed starts elsewhere.
    other = LockstepTrainer(["keras-conv-bn-relu"], data, TrainSettings(batches=3, seed=8))
    assert not np.array_equal(other.models["keras-conv-bn-relu"].get_weights()[0],
                              LockstepTrainer(["keras-conv-bn-relu"], data, settings)
                              .models["keras-conv-bn-relu"].get_weights()[0])
