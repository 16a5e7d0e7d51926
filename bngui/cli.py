"""The ``bngui`` command: the GUI by default, and ``train``, ``bench``, ``classify``.

Arguments are checked before TensorFlow is imported, so a typo is answered
in a fraction of a second with one line and exit code 2. Each command's
parser names the function that runs it (``set_defaults(run=...)``).
"""

import argparse
import os
import sys

from bngui.core.settings import (
    LOSSES,
    MAX_BATCH_SIZE,
    MAX_BATCHES,
    MAX_LEARNING_RATE,
    MAX_PRECISE_BATCHES,
    MAX_SEED,
    MAX_SEEDS,
    MIN_LEARNING_RATE,
    SettingsError,
    TrainSettings,
    number_text,
)
from bngui.core.variants import (
    NOTEBOOK_VARIANT_IDS,
    VARIANTS,
    UnknownVariantError,
    get_variant,
)

USAGE_ERROR = 2
BENCH_VARIANTS = ["baseline", "keras-conv-bn-relu", "keras-conv-relu-bn", "nn-conv-bn-relu"]
GUI_BENCH_VARIANTS = ["baseline", "keras-conv-bn-relu"]
GUI_LANGUAGES = ("en", "zh_CN")  # bngui.gui.i18n.LANGUAGES, without importing Qt


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, not usage plus message."""

    def error(self, message):
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def _whole_number(low, high):
    """An argparse type: a whole number from ``low`` to ``high``, else "argument --x: ..." and exit 2."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a whole number (from {low:,} to {high:,})") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is out of range: {low:,} to {high:,}")
        return value

    return parse


def _number(low, high, low_included=True, high_included=True):
    """An argparse type: a finite number between ``low`` and ``high``."""
    if low_included and high_included:
        allowed = f"{number_text(low)} to {number_text(high)}"
    else:
        allowed = f"between {number_text(low)} and {number_text(high)}, both excluded"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number ({allowed})") from None
        above = value >= low if low_included else value > low
        below = value <= high if high_included else value < high
        if not (above and below):  # nan is neither
            raise argparse.ArgumentTypeError(f"{text} is out of range: {allowed}")
        return value

    return parse


BATCHES = _whole_number(1, MAX_BATCHES)
BATCH_SIZE = _whole_number(1, MAX_BATCH_SIZE)
LEARNING_RATE = _number(MIN_LEARNING_RATE, MAX_LEARNING_RATE)
SEED = _whole_number(0, MAX_SEED)
PRECISE_BATCHES = _whole_number(0, MAX_PRECISE_BATCHES)
BN_DECAY = _number(0, 1, low_included=False, high_included=False)


def _variant_list(values):
    if values == ["all"]:
        return list(NOTEBOOK_VARIANT_IDS)
    for value in values:
        get_variant(value)  # raises UnknownVariantError with the list of known ids
    return values


def _add_variant_options(parser, default, default_text=None):
    parser.add_argument(
        "--variants",
        nargs="+",
        default=default,
        metavar="ID",
        help=f"variant ids, or 'all' for the notebook's ten (default: {default_text or ' '.join(default)})",
    )
    parser.add_argument("--list-variants", action="store_true", help="list the variants and exit")


def _add_data_option(parser):
    parser.add_argument(
        "--data",
        metavar="PATH",
        help="MNIST as a Keras-layout .npz file or a folder of the four IDX .gz files"
        " (default: $BNGUI_MNIST, then the Keras cache, then a download)",
    )


def _add_training_options(parser, batches):
    defaults = TrainSettings()
    parser.add_argument(
        "--batches", type=BATCHES, default=batches, help=f"1 to {MAX_BATCHES:,}, default {batches}"
    )
    parser.add_argument(
        "--batch-size", type=BATCH_SIZE, default=defaults.batch_size,
        help=f"1 to {MAX_BATCH_SIZE:,}, default {defaults.batch_size}",
    )
    parser.add_argument(
        "--lr", type=LEARNING_RATE, default=defaults.learning_rate,
        help=f"Adam's learning rate, {number_text(MIN_LEARNING_RATE)} to"
        f" {number_text(MAX_LEARNING_RATE)}, default {defaults.learning_rate}",
    )
    parser.add_argument(
        "--loss", choices=LOSSES, default=defaults.loss, help="default sigmoid, as the notebook"
    )
    parser.add_argument("--seed", type=SEED, default=defaults.seed,
                        help=f"0 to {MAX_SEED:,}, default 0")
    parser.add_argument(
        "--seeds", type=SEED, nargs="+", metavar="SEED",
        help="repeat the run once per seed (instead of --seed; at most"
        f" {MAX_SEEDS} different seeds) and report each variant's mean ± standard deviation"
        " and worst seed",
    )
    parser.add_argument(
        "--bn-decay", type=BN_DECAY, default=defaults.bn_decay,
        help="decay of the BN layers' population statistics (Keras's momentum; PyTorch's"
        f" momentum is 1 - decay), between 0 and 1, default {defaults.bn_decay} as the notebook",
    )
    parser.add_argument(
        "--augment", action="store_true",
        help="randomly shift, rotate, scale, shear, thicken or thin and bend every training"
        " batch, the same way for every variant (off by default, as the notebook)",
    )
    parser.add_argument(
        "--precise-batches", type=PRECISE_BATCHES, default=defaults.precise_batches,
        help="after training, re-estimate the BN population statistics over this many"
        f" training batches with the weights fixed, and score again (0 to"
        f" {MAX_PRECISE_BATCHES:,}, default {defaults.precise_batches}; 0: no precise BN)",
    )


def build_parser():
    parser = _Parser(
        prog="bngui",
        description="Watch, live, why batch normalization matters. Without a command: the GUI.",
    )
    parser.add_argument("--data", metavar="PATH", help="MNIST location for the GUI")
    parser.add_argument(
        "--language", choices=GUI_LANGUAGES,
        help="the window's language for this launch (default: the one chosen in View > Language,"
        " else the system's); the command line stays English",
    )
    parser.add_argument(
        "--session", metavar="DIR",
        help="open this saved session in the GUI (saved with File > Save session, or"
        " written by bngui train --out)",
    )
    parser.add_argument(
        "--lesson", metavar="DIR",
        help="open the window with the lesson panel on this prepared lesson (written by"
        " bngui prepare-lesson DIR); each step shows its finished run at once",
    )
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument(
        "--install-desktop-entry", dest="run", action="store_const", const=_install_desktop_entry,
        help="add bngui to your desktop's application menu (a .desktop file and an icon under"
        " $XDG_DATA_HOME, by default ~/.local/share) and exit",
    )
    desktop.add_argument(
        "--uninstall-desktop-entry", dest="run", action="store_const",
        const=_uninstall_desktop_entry, help="remove what --install-desktop-entry wrote and exit",
    )
    parser.set_defaults(run=_run_gui)
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)

    train = commands.add_parser("train", help="train variants side by side, like the notebook")
    _add_variant_options(train, ["all"])
    _add_training_options(train, TrainSettings().batches)
    _add_data_option(train)
    train.add_argument(
        "--out", metavar="DIR",
        help="write a session: metrics.csv, results.json, models, events, TensorBoard files",
    )
    train.set_defaults(run=_run_train)

    prepare = commands.add_parser(
        "prepare-lesson",
        help="train every run the lesson shows and write them as sessions into DIR, before"
        " class (then: bngui --lesson DIR)",
        description="Train every run the lesson's steps show (their presets' settings) and"
        " write each as a session into DIR/<run>, with DIR/lesson.json saying which step"
        " shows which. Ctrl+C stops; the same command later trains only what is missing.",
    )
    prepare.add_argument("folder", metavar="DIR")
    _add_data_option(prepare)
    prepare.set_defaults(run=_run_prepare_lesson)

    bench = commands.add_parser(
        "bench", help="measure bngui: training speed (lockstep trainer vs one-after-another"
        " model.fit) by default, or one of the other benchmarks"
    )
    _add_variant_options(
        bench, None, f"{' '.join(BENCH_VARIANTS)}; with --gui, --soak and --start"
        f" {' '.join(GUI_BENCH_VARIANTS)}; with --canvas all ten"
    )
    bench.add_argument(
        "--batches", type=BATCHES,
        help=f"timed batches, 1 to {MAX_BATCHES:,} (default 60; 300 with --gui; 200 with"
        " --statistics; 100 per run with --soak)"
    )
    bench.add_argument("--warmup", type=int, default=5, help="untimed batches first (default 5)")
    bench.add_argument(
        "--full-run", type=int, default=0, metavar="BATCHES",
        help="also make a whole run of this many batches and say where its time goes"
        " (compiling, training, evaluation, final scoring)",
    )
    bench.add_argument("--batch-size", type=BATCH_SIZE, default=TrainSettings().batch_size,
                       help=f"1 to {MAX_BATCH_SIZE:,}, default {TrainSettings().batch_size}")
    _add_data_option(bench)
    which = bench.add_mutually_exclusive_group()
    which.add_argument(
        "--gui", dest="benchmark", action="store_const", const="gui",
        help="measure the window instead: event-loop stalls while training, and the"
        " training speed inside the GUI against the headless trainer"
        f" (default variants: {' '.join(GUI_BENCH_VARIANTS)})",
    )
    which.add_argument(
        "--canvas", dest="benchmark", action="store_const", const="canvas",
        help="measure the drawing canvas instead: time from the end of a stroke until"
        " every model's prediction is shown (default: all ten variants; the shipped"
        " weights where there are some, fresh models for the rest)",
    )
    which.add_argument(
        "--statistics", dest="benchmark", action="store_const", const="statistics",
        help="measure what collecting the gradient-norm and activation statistics costs:"
        " whole training runs without and with them, alternating (default 200 batches)",
    )
    which.add_argument(
        "--soak", dest="benchmark", action="store_const", const="soak",
        help="many runs in one window (resident memory after each), then many launches"
        " closed in the middle of a run (exit codes, thread messages); default variants:"
        f" {' '.join(GUI_BENCH_VARIANTS)}, runs of 100 batches",
    )
    which.add_argument(
        "--handwriting", dest="benchmark", action="store_const", const="handwriting",
        help="how well the shipped models (or --models) read digits MNIST's writers did not"
        " write: MNIST test digits re-drawn with three pens, distorted fonts, photos of paper;"
        " accuracy and preprocessing latency per condition",
    )
    which.add_argument(
        "--start", dest="benchmark", action="store_const", const="start",
        help="measure the window's Start: seconds from pressing it to the first trained batch,"
        " at once after launch (cold), once the window has compiled the chosen variants in the"
        f" background (prepared), and for a second run (reused); default variants:"
        f" {' '.join(GUI_BENCH_VARIANTS)}",
    )
    which.add_argument(
        "--monkey", dest="benchmark", action="store_const", const="monkey",
        help="drive the real window with random but valid actions (keys, clicks, tabs, layouts,"
        " presentation mode, presets, lesson steps, strokes, Start/Pause/Stop, window sizes) for"
        " --minutes or --seconds; fails on a crash, an exception, a Qt warning, a frozen event"
        " loop or a stale plot, and prints the seed and every action (a seed replays exactly)",
    )
    which.add_argument(
        "--stop", dest="benchmark", action="store_const", const="stop",
        help="in the real window: seconds from Stop to the end of the run, pressed during a"
        " training batch, the validation pass, the final scoring and precise BN, and the"
        " window's closing during a run (default: all ten variants)",
    )
    bench.add_argument("--seed", type=int, help="with --monkey: the actions' seed (default: a new one)")
    bench.add_argument("--minutes", type=float, help="with --monkey: how long (default 2 minutes)")
    bench.add_argument("--seconds", type=float, help="with --monkey: how long, in seconds")
    bench.add_argument("--real", action="store_true",
                       help="with --monkey: the real trainer on MNIST instead of the fast fake one")
    bench.add_argument("--models", metavar="DIR",
                       help="with --handwriting: a folder of models (default: the shipped ones)")
    bench.add_argument("--per-condition", type=int, default=500,
                       help="with --handwriting: digits per condition (default 500)")
    bench.add_argument("--runs", type=int, default=10, help="with --soak: runs in one window")
    bench.add_argument("--launches", type=int, default=20,
                       help="with --soak: launches closed mid-run")
    bench.add_argument(
        "--rounds", type=int, default=5,
        help="with --gui: GUI runs, each between two headless runs (default 5)",
    )
    bench.add_argument(
        "--strokes", type=int, default=40, help="timed strokes with --canvas (default 40)"
    )
    bench.set_defaults(run=_run_bench, benchmark="training")

    classify = commands.add_parser(
        "classify",
        help="classify digit images (PNG, JPEG, WebP, TIFF, ...; any size, either polarity,"
        " photos of paper too) like the canvas does",
        description="Classify digit images with the canvas's preprocessing and models. An"
        " unreadable or empty image gets a one-line error and the others are still"
        " classified; the exit code is then 1.",
    )
    classify.add_argument("images", nargs="+", metavar="IMAGE")
    classify.add_argument("--models", metavar="DIR", help="default: the shipped models")
    classify.add_argument("--json", action="store_true", help="print JSON")
    classify.set_defaults(run=_run_classify)
    return parser


def _settings_from(args):
    if args.seeds:
        repeated = sorted({seed for seed in args.seeds if args.seeds.count(seed) > 1})
        if repeated:
            raise SettingsError(f"argument --seeds: the seeds must be different, not"
                                f" {', '.join(map(str, repeated))} more than once")
        if len(args.seeds) > MAX_SEEDS:
            raise SettingsError(f"argument --seeds: at most {MAX_SEEDS} seeds, not {len(args.seeds)}")
    settings = TrainSettings(
        batches=args.batches,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        loss=args.loss,
        seed=args.seeds[0] if args.seeds else args.seed,
        seeds=tuple(args.seeds) if args.seeds and len(args.seeds) > 1 else (),
        bn_decay=args.bn_decay,
        augment=args.augment,
        precise_batches=args.precise_batches,
    )
    return settings.validate()


def print_variant_list():
    width = max(len(variant.id) for variant in VARIANTS)
    for variant in VARIANTS:
        print(f"{variant.id:<{width}}  {variant.label}")


def _exit_without_teardown(code):
    """Leave at once: everything is saved and every thread stopped by now, and the
    interpreter's teardown of Qt and TensorFlow takes seconds."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run_gui(args):
    if args.lesson and args.session:
        raise SettingsError("--lesson and --session cannot be used together")
    if args.lesson:
        from bngui.core.lesson import LessonError, read_prepared_lesson

        # Checked before the window opens: a wrong folder gets one line, not a window.
        try:
            read_prepared_lesson(args.lesson)
        except LessonError as error:
            print(f"bngui: error: --lesson {error}", file=sys.stderr)
            return USAGE_ERROR
    from bngui.gui.app import run_app

    _exit_without_teardown(run_app(data_path=args.data, session=args.session, lesson=args.lesson))


def _install_desktop_entry(args):
    from bngui.gui.desktop_entry import install_desktop_entry

    written = install_desktop_entry()
    print(f"bngui is in the application menu now (it may take a moment to appear): {written[0]}")
    for path in written[1:]:
        print(f"  icon: {path}")
    return 0


def _uninstall_desktop_entry(args):
    from bngui.gui.desktop_entry import uninstall_desktop_entry

    removed = uninstall_desktop_entry()
    for path in removed:
        print(f"removed {path}")
    if not removed:
        print("no bngui desktop entry was installed")
    return 0


def _run_classify(args):
    from bngui.commands.classify import run_classify

    return run_classify(args.images, models_dir=args.models, as_json=args.json)


def _run_prepare_lesson(args):
    from bngui.commands.prepare_lesson import run_prepare_lesson

    return run_prepare_lesson(args.folder, data_path=args.data)


def _run_train(args):
    from bngui.commands.train import run_train

    variant_ids = _variant_list(args.variants)
    return run_train(variant_ids, _settings_from(args), data_path=args.data, out=args.out)


def _bench_settings(args, default_batches):
    batches = args.batches if args.batches is not None else default_batches
    return TrainSettings(batches=batches, batch_size=args.batch_size).validate()


def _bench_training(args, variant_ids):
    from bngui.bench.training import run_bench

    if args.warmup < 1:
        raise SettingsError(f"warmup must be at least 1 batch, not {args.warmup}")
    settings = _bench_settings(args, 60)
    if args.full_run < 0:
        raise SettingsError(f"--full-run must be 0 or more batches, not {args.full_run}")
    return run_bench(variant_ids, settings, warmup=args.warmup, data_path=args.data,
                     full_run=args.full_run)


def _bench_statistics(args, variant_ids):
    from bngui.bench.training import run_statistics_bench

    return run_statistics_bench(variant_ids, _bench_settings(args, 200), data_path=args.data)


def _bench_gui(args, variant_ids):
    from bngui.bench.responsiveness import run_gui_bench

    if args.rounds < 1:
        raise SettingsError(f"--rounds must be at least 1, not {args.rounds}")
    return run_gui_bench(variant_ids, _bench_settings(args, 300), data_path=args.data,
                         rounds=args.rounds)


def _bench_canvas(args, variant_ids):
    from bngui.bench.canvas import run_canvas_bench

    if args.strokes < 1:
        raise SettingsError(f"strokes must be at least 1, not {args.strokes}")
    _exit_without_teardown(run_canvas_bench(variant_ids, strokes=args.strokes))


def _bench_soak(args, variant_ids):
    from bngui.bench.soak import run_soak_bench

    if args.runs < 0 or args.launches < 0:
        raise SettingsError("--runs and --launches must be 0 or more")
    _exit_without_teardown(run_soak_bench(variant_ids, _bench_settings(args, 100),
                                          data_path=args.data, runs=args.runs,
                                          launches=args.launches))


def _bench_start(args, variant_ids):
    from bngui.bench.window_start import run_start_bench

    return run_start_bench(variant_ids, _bench_settings(args, 800), data_path=args.data)


def _bench_handwriting(args, variant_ids):
    from bngui.bench.handwriting import run_handwriting_bench

    return run_handwriting_bench(models_dir=args.models, per_condition=args.per_condition,
                                 data_path=args.data)


def _bench_monkey(args, variant_ids):
    import random

    from bngui.bench.monkey import run_monkey

    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes or 2)
    if seconds <= 0:
        raise SettingsError("--minutes and --seconds must be more than 0")
    seed = args.seed if args.seed is not None else random.randrange(100_000)
    if args.data:
        os.environ["BNGUI_MNIST"] = args.data
    _exit_without_teardown(run_monkey(seconds, seed, trainer="real" if args.real else "fake"))


def _bench_stop(args, variant_ids):
    from bngui.bench.stop_latency import run_stop_bench

    _exit_without_teardown(run_stop_bench(variant_ids, data_path=args.data))


# bngui bench's benchmarks: (function, default variants).
BENCHMARKS = {
    "training": (_bench_training, BENCH_VARIANTS),
    "statistics": (_bench_statistics, BENCH_VARIANTS),
    "gui": (_bench_gui, GUI_BENCH_VARIANTS),
    "canvas": (_bench_canvas, NOTEBOOK_VARIANT_IDS),
    "soak": (_bench_soak, GUI_BENCH_VARIANTS),
    "handwriting": (_bench_handwriting, NOTEBOOK_VARIANT_IDS),
    "start": (_bench_start, GUI_BENCH_VARIANTS),
    "monkey": (_bench_monkey, GUI_BENCH_VARIANTS),
    "stop": (_bench_stop, NOTEBOOK_VARIANT_IDS),
}


def _run_bench(args):
    function, default_variants = BENCHMARKS[args.benchmark]
    variant_ids = _variant_list(args.variants or list(default_variants))
    return function(args, variant_ids)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "language", None):
        os.environ["BNGUI_LANGUAGE"] = args.language  # read by the window (bngui.gui.i18n)
    if getattr(args, "list_variants", False):
        print_variant_list()
        return 0
    try:
        return args.run(args)
    except (SettingsError, UnknownVariantError) as error:
        name = f"bngui {args.command}" if args.command else "bngui"
        parser.exit(USAGE_ERROR, f"{name}: error: {error}\n")
