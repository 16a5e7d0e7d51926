"""Training hyperparameters and their sane bounds (no TensorFlow needed)."""

import math
from dataclasses import asdict, dataclass

LOSSES = ("sigmoid", "softmax")
# The limits the window and the command line share (the window's fields use them as ranges).
MAX_BATCHES = 100_000
MAX_BATCH_SIZE = 4096
# Adam's learning rate: the window's field shows five decimals; above 10 nothing is learned.
MIN_LEARNING_RATE = 0.00001
MAX_LEARNING_RATE = 10.0
MAX_SEED = 2**31 - 1
# The BN decays the window offers (Keras's momentum; PyTorch's momentum is 1 - decay).
BN_DECAYS = (0.9, 0.99, 0.999)
MAX_PRECISE_BATCHES = 10_000
MAX_SEEDS = 20


class SettingsError(ValueError):
    """Hyperparameters outside what makes sense for this experiment."""


@dataclass(frozen=True)
class TrainSettings:
    """The notebook's defaults: 800 batches of 64, Adam at 0.002, sigmoid loss.

    ``bn_decay`` is the BN layers' decay of their population statistics (the
    notebook's 0.99); ``augment`` randomly distorts every training batch (the
    same way for every variant of a run; off in the notebook);
    ``precise_batches`` is how many training batches precise BN averages over
    after the run (0: no precise BN). ``seeds``, when given, repeats the run
    once per seed (``seed`` is then the first of them).
    """

    batches: int = 800
    batch_size: int = 64
    learning_rate: float = 0.002
    loss: str = "sigmoid"
    seed: int = 0
    bn_decay: float = 0.99
    augment: bool = False
    precise_batches: int = 200
    seeds: tuple = ()

    def __post_init__(self):
        # Read back from JSON, the seeds are a list.
        if isinstance(self.seeds, list):
            object.__setattr__(self, "seeds", tuple(self.seeds))

    @property
    def seed_list(self) -> tuple:
        """The seeds the run trains with, in order."""
        return self.seeds or (self.seed,)

    def validate(self, train_size: int | None = None) -> "TrainSettings":
        if not _whole(self.batches) or not 1 <= self.batches <= MAX_BATCHES:
            raise SettingsError(f"batches must be between 1 and {MAX_BATCHES:,}, not {self.batches}")
        if not _whole(self.batch_size) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise SettingsError(
                f"batch size must be between 1 and {MAX_BATCH_SIZE}, not {self.batch_size}"
            )
        if train_size is not None and self.batch_size > train_size:
            raise SettingsError(
                f"batch size {self.batch_size} is larger than the {train_size} training images"
            )
        rate = self.learning_rate
        if (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate)
                or not MIN_LEARNING_RATE <= rate <= MAX_LEARNING_RATE):
            raise SettingsError(f"learning rate must be between {number_text(MIN_LEARNING_RATE)}"
                                f" and {number_text(MAX_LEARNING_RATE)}, not {rate}")
        if self.loss not in LOSSES:
            raise SettingsError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if not _whole(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise SettingsError(f"seed must be an integer from 0 to {MAX_SEED:,}, not {self.seed}")
        decay = self.bn_decay
        if isinstance(decay, bool) or not isinstance(decay, (int, float)) or not 0 < decay < 1:
            raise SettingsError(f"BN decay must be strictly between 0 and 1, not {decay}")
        if not isinstance(self.augment, bool):
            raise SettingsError(f"augment must be true or false, not {self.augment!r}")
        if not isinstance(self.seeds, tuple) or not all(
                _whole(seed) and 0 <= seed <= MAX_SEED for seed in self.seeds):
            raise SettingsError(f"seeds must be integers from 0 to {MAX_SEED:,}, not {self.seeds!r}")
        if len(set(self.seeds)) != len(self.seeds) or len(self.seeds) > MAX_SEEDS:
            raise SettingsError(f"seeds must be different, and at most {MAX_SEEDS}")
        if self.seeds and self.seeds[0] != self.seed:
            raise SettingsError("the first of the seeds must be the seed")
        if not _whole(self.precise_batches) or not 0 <= self.precise_batches <= MAX_PRECISE_BATCHES:
            raise SettingsError(f"precise BN batches must be between 0 and {MAX_PRECISE_BATCHES:,},"
                                f" not {self.precise_batches}")
        return self

    def as_dict(self) -> dict:
        """The settings as JSON-ready values (the seeds as a list)."""
        return {**asdict(self), "seeds": list(self.seeds)}


def number_text(value) -> str:
    """A limit as people write it: 0.00001, 10, 100,000 (no exponent, no trailing zeros)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.10f}".rstrip("0")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
