"""A run repeated over several seeds, as one run."""

import dataclasses
import time
from collections.abc import Callable

from bngui.core import events
from bngui.core.compiled_variant import CompiledVariants
from bngui.core.lockstep import LockstepTrainer
from bngui.core.run_control import RunControl
from bngui.core.settings import TrainSettings
from bngui.core.variants import PRECISE_SUFFIX


class SeedsTrainer:
    """The same run repeated once per seed in ``settings.seed_list``, as one run.

    Each seed's run reuses the variants compiled for the first (re-initialised
    with that seed), so only the first seed compiles. Events are those of one
    run: one RunStarted (listing the seeds) and one RunFinished, and before
    each seed's events a SeedStarted; progress counts the batches of all seeds.
    The trained models are the first seed's.
    """

    def __init__(self, variant_ids, data, settings=None, control=None, collect_statistics=True,
                 compiled: CompiledVariants | None = None):
        self.settings = (settings or TrainSettings()).validate(len(data.train_labels))
        self.control = control or RunControl()
        self.variant_ids = tuple(variant_ids)
        self._data = data
        self._collect_statistics = collect_statistics
        self._compiled = compiled or CompiledVariants(limit=len(self.variant_ids))
        # The first seed's trainer is made now, so bad choices are refused at once.
        self.first = self._trainer(self.settings.seed_list[0])
        self.results: dict = {}  # {seed: [VariantFinished]}
        self.models: dict = {}
        self.precise: dict = {}

    def _trainer(self, seed):
        settings = dataclasses.replace(self.settings, seed=seed, seeds=())
        return LockstepTrainer(self.variant_ids, self._data, settings, self.control,
                               self._collect_statistics, self._compiled)

    def run(self, emit: Callable = lambda event: None) -> list:
        """Train every seed in turn; returns the last seed's ``VariantFinished`` records."""
        seeds, batches = self.settings.seed_list, self.settings.batches
        emit(events.RunStarted(self.variant_ids, batches, self.settings.batch_size, tuple(seeds)))
        started = time.perf_counter()
        results: list = []
        stopped = False
        for number, seed in enumerate(seeds):
            if self.control.stop_requested:
                stopped = True
                break
            trainer = self.first if number == 0 else self._trainer(seed)
            emit(events.SeedStarted(seed))

            def forward(event, done_before=number * batches):
                if isinstance(event, (events.RunStarted, events.RunFinished)):
                    return
                if isinstance(event, events.Progress):
                    total, done = batches * len(seeds), done_before + event.batches_done
                    rate = event.images_per_second
                    seconds_per_batch = self.settings.batch_size / rate if rate > 0 else 0.0
                    event = events.Progress(done, total, rate, seconds_per_batch * (total - done))
                emit(event)

            results = trainer.run(forward)
            self.results[seed] = results
            if number == 0:
                kept = trainer.trained_models()
                self.models = {vid: model for vid, model in kept.items() if vid in self.variant_ids}
                self.precise = trainer.precise_models()
            stopped = any(record.status == events.STOPPED for record in results)
            if stopped:
                break
        emit(events.RunFinished(events.STOPPED if stopped else events.DONE,
                                time.perf_counter() - started))
        return results

    def trained_models(self) -> dict:
        precise = {f"{vid}{PRECISE_SUFFIX}": model for vid, model in self.precise.items()}
        return {**self.models, **precise}

    def precise_models(self) -> dict:
        return dict(self.precise)
