"""The trainers: ``make_trainer`` makes the one a run needs (a ``run_protocol.Trainer``).

- ``compiled_variant``: one variant's network, Adam state and traced functions
  (``CompiledVariant``), kept from run to run (``CompiledVariants``).
- ``lockstep``: ``LockstepTrainer``, every variant on the same batches.
- ``seeds_trainer``: ``SeedsTrainer``, a lockstep run over several seeds.

This module gathers their public names, which the window, the commands and
the benchmarks import from here.
"""

from bngui.core.compiled_variant import (
    ADAM_BETA_1,
    ADAM_BETA_2,
    ADAM_EPSILON,
    PARALLEL_VARIANTS,
    CompiledVariant,
    CompiledVariants,
    initial_model,
    keras_loss,
    loss_function,
    make_optimizer,
    shared_compiled_variants,
    variant_seed,
)
from bngui.core.lockstep import (
    EVALUATION_CHUNK,
    LOSS_EXPLOSION,
    PROBE_IMAGES,
    SINGLE_SAMPLE_CHUNK,
    LockstepTrainer,
    _BatchOrder,
    loss_exploded,
)
from bngui.core.run_control import RunControl
from bngui.core.run_protocol import Trainer
from bngui.core.seeds_trainer import SeedsTrainer

__all__ = [
    "ADAM_BETA_1", "ADAM_BETA_2", "ADAM_EPSILON", "EVALUATION_CHUNK", "LOSS_EXPLOSION",
    "PARALLEL_VARIANTS", "PROBE_IMAGES", "SINGLE_SAMPLE_CHUNK", "CompiledVariant",
    "CompiledVariants", "LockstepTrainer", "RunControl", "SeedsTrainer", "Trainer", "_BatchOrder",
    "initial_model", "keras_loss", "loss_exploded", "loss_function", "make_optimizer",
    "make_trainer", "shared_compiled_variants", "variant_seed",
]


def make_trainer(variant_ids, data, settings=None, control=None, collect_statistics=True,
                 compiled: CompiledVariants | None = None) -> Trainer:
    """A LockstepTrainer, or a SeedsTrainer when the settings list several seeds."""
    kind = SeedsTrainer if settings is not None and len(settings.seed_list) > 1 else LockstepTrainer
    return kind(variant_ids, data, settings, control, collect_statistics, compiled)
