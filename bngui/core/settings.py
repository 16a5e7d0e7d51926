"""Training hyperparameters and their sane bounds (no TensorFlow needed)."""

import math
from dataclasses import asdict, dataclass

LOSSES = ("sigmoid", "softmax")
# The limits the command line and the window share (the window's fields use them as their ranges).
MAX_BATCHES = 100_000
MAX_BATCH_SIZE = 4096


class SettingsError(ValueError):
    """Hyperparameters outside what makes sense for this experiment."""


@dataclass(frozen=True)
class TrainSettings:
    """The notebook's defaults: 800 batches of 64, Adam at 0.002, sigmoid loss."""

    batches: int = 800
    batch_size: int = 64
    learning_rate: float = 0.002
    loss: str = "sigmoid"
    seed: int = 0

    def validate(self, train_size: int | None = None) -> "TrainSettings":
        if not isinstance(self.batches, int) or not 1 <= self.batches <= MAX_BATCHES:
            raise SettingsError(f"batches must be between 1 and {MAX_BATCHES:,}, not {self.batches}")
        if not isinstance(self.batch_size, int) or not 1 <= self.batch_size <= MAX_BATCH_SIZE:
            raise SettingsError(
                f"batch size must be between 1 and {MAX_BATCH_SIZE}, not {self.batch_size}"
            )
        if train_size is not None and self.batch_size > train_size:
            raise SettingsError(
                f"batch size {self.batch_size} is larger than the {train_size} training images"
            )
        rate = self.learning_rate
        if not isinstance(rate, (int, float)) or not math.isfinite(rate) or not 0 < rate <= 10:
            raise SettingsError(f"learning rate must be above 0 and at most 10, not {rate}")
        if self.loss not in LOSSES:
            raise SettingsError(f"loss must be one of {', '.join(LOSSES)}, not {self.loss!r}")
        if not isinstance(self.seed, int) or not 0 <= self.seed < 2**31:
            raise SettingsError(f"seed must be an integer from 0 to 2**31-1, not {self.seed}")
        return self

    def as_dict(self) -> dict:
        return asdict(self)
