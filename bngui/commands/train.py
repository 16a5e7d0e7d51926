"""``bngui train``: the notebook's experiment on the command line."""

import math
import signal
import sys
import time

from bngui.core import events
from bngui.core.data import DataError, load_mnist


def print_download_progress(done, total):
    if total:
        print(f"\rDownloading MNIST: {done / total:6.1%}", end="", file=sys.stderr, flush=True)


def load_data_or_explain(data_path):
    """MNIST, or None after printing one line that says what is wrong."""
    try:
        return load_mnist(data_path, progress=print_download_progress)
    except DataError as error:
        print(f"bngui: cannot load MNIST: {error}", file=sys.stderr)
        return None


class _NotebookLog:
    """Prints events the way the notebook printed its progress, one variant per line."""

    def __init__(self, variant_ids, total_batches):
        self.width = max(len(variant_id) for variant_id in variant_ids)
        self.total = total_batches
        self.finished = []

    def __call__(self, event):
        if isinstance(event, events.Metric):
            kind = "Validation" if event.split == events.VALIDATION else "Training"
            print(
                f"{event.variant:<{self.width}}  Batch: {event.batch:>4}/{self.total:>4}:"
                f" {kind} loss: {event.loss:>3.5f}, {kind} accuracy: {event.accuracy:>3.5f}",
                flush=True,
            )
        elif isinstance(event, events.VariantDiverged):
            print(f"{event.variant:<{self.width}}  diverged at batch {event.batch}: frozen", flush=True)
        elif isinstance(event, events.StatusChanged):
            print(f"-- {event.message}", flush=True)
        elif isinstance(event, events.VariantFinished):
            self.finished.append(event)


def _percent(value):
    return "   -  " if not math.isfinite(value) else f"{value:.4f}"


def results_table(finished):
    """A plain-text table: one row per variant.

    The first three scores are inference with the population statistics the
    BN layers kept while training (their moving averages, EMA); the precise
    ones with the statistics re-estimated by precise BN after training.
    """
    width = max([len("variant")] + [len(record.variant) for record in finished])
    lines = [
        f"{'':<{width}}  {'inference, EMA statistics':^37}  {'precise BN':^17}",
        f"{'variant':<{width}}  validation    test  100 samples"
        f"  validation    test  status    seconds",
    ]
    for record in finished:
        lines.append(
            f"{record.variant:<{width}}  {_percent(record.validation_accuracy):>10}"
            f"  {_percent(record.test_accuracy):>6}  {_percent(record.single_sample_accuracy):>11}"
            f"  {_percent(record.precise_validation_accuracy):>10}"
            f"  {_percent(record.precise_test_accuracy):>6}"
            f"  {record.status:<8}  {record.train_seconds:>7.1f}"
        )
    return "\n".join(lines)


def seeds_table(by_seed):
    """A plain-text table of a run over several seeds: mean ± sd and the worst seed per score."""
    from bngui.core.history import summarize_seeds

    columns = (("validation", "validation_accuracy"), ("test", "test_accuracy"),
               ("100 samples", "single_sample_accuracy"),
               ("precise validation", "precise_validation_accuracy"))
    width = max([len("variant")] + [len(variant_id) for variant_id in by_seed])
    lines = [f"{'variant':<{width}}  seeds"
             + "".join(f"  {name + ' mean ± sd (worst, seed)':>38}" for name, _ in columns)]
    for variant_id, results in by_seed.items():
        summary = summarize_seeds(results)
        cells = []
        for _, score in columns:
            if score in summary:
                s = summary[score]
                cells.append(f"{s.mean:.4f} ± {s.sd:.4f} ({s.worst:.4f}, {s.worst_seed})")
            else:
                cells.append("-")
        lines.append(f"{variant_id:<{width}}  {len(results):>5}"
                     + "".join(f"  {cell:>38}" for cell in cells))
    return "\n".join(lines)


def run_train(variant_ids, settings, data_path=None, out=None):
    if out:
        from bngui.core.session import SessionError, check_session_folder

        # Refuse an unusable --out now, not after minutes of training.
        try:
            check_session_folder(out)
        except SessionError as error:
            print(f"bngui: error: --out {error}", file=sys.stderr)
            return 2
    data = load_data_or_explain(data_path)
    if data is None:
        return 1
    print(f"MNIST: {data.source}; {len(data.train_labels)} training,"
          f" {len(data.validation_labels)} validation, {len(data.test_labels)} test images")

    from bngui.core.history import RunHistory
    from bngui.core.run_control import RunControl
    from bngui.core.trainer import make_trainer

    control = RunControl()
    # Ctrl+C stops training between batches and still reports and saves.
    previous_handler = signal.signal(signal.SIGINT, lambda *_: control.stop())
    started = time.perf_counter()
    try:
        trainer = make_trainer(variant_ids, data, settings, control)
        log = _NotebookLog(variant_ids, settings.batches)
        history = RunHistory(trainer.variant_ids)  # everything the session keeps

        def record(event):
            log(event)
            history.handle(event)

        trainer.run(record)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    wall = time.perf_counter() - started

    seeds = settings.seed_list
    print()
    if len(seeds) > 1:
        print(seeds_table(history.results_by_seed()))
    else:
        print(results_table(log.finished))
    print(f"wall time: {wall:.1f} s for {len(variant_ids)} variant(s), {settings.batches} batches"
          + (f" x {len(seeds)} seeds" if len(seeds) > 1 else ""))

    if out:
        from bngui.core.session import SessionError, save_session
        from bngui.core.variants import PRECISE_SUFFIX

        try:
            precise = {f"{variant_id}{PRECISE_SUFFIX}": model
                       for variant_id, model in trainer.precise_models().items()}
            # A run over several seeds saves the first seed's models.
            save_session(out, settings, history, {**trainer.models, **precise})
        except (SessionError, OSError) as error:
            print(f"bngui: cannot save the session: {error}", file=sys.stderr)
            return 1
        print(f"wrote the session {out}: session.json, events.json, metrics.csv, results.json,"
              " models/, tensorboard/")
    return 0
