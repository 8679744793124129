"""``python -m core train``: train a model on the shipped table and print one line per epoch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core import paths
from core.cli.model_arguments import add_model_arguments
from core.cli.path_arguments import input_path
from core.cli.setting_flags import add_setting_flags, flag_of, given_settings
from core.cli.tensorflow_output import add_verbose_argument, import_tensorflow
from core.config import CPU_HAS_BFLOAT16, RECIPES, RUN_NAME_PATTERN, ModelConfig, TrainConfig
from core.errors import InputError

STUDIO, GUIDE = RECIPES["studio"], RECIPES["guide"]
#: flags --reproduce-default accepts besides itself (a time budget does not change what is trained).
REPRODUCE_ALLOWED: frozenset[str] = frozenset({"epochs", "max_minutes", "strategy", "cpu_replicas", "write_reports"})
#: flags --resume accepts besides itself: how much longer to train, and whether to write the reports at the end.
RESUME_ALLOWED: frozenset[str] = frozenset({"epochs", "max_minutes", "write_reports"})


def register(subparsers) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train", help="train a model into output/runs/<run-name>/",
        description="Fit the conditional chord model on the train split of data/progressions.csv.gz, validate on the "
        "validation split, and write config, models, metrics.jsonl, training_log.csv and TensorBoard logs. "
        "Create <run folder>/STOP to stop a run cleanly.",
    )
    parser.add_argument("--config", type=input_path, metavar="PATH",
                        help="JSON training config: a run's config.json or TrainConfig JSON; flags given override it")
    parser.add_argument("--recipe", choices=tuple(RECIPES),
                        help=f"start from a named recipe: studio (the defaults: batch {STUDIO['batch_size']}, Adam "
                        f"{STUDIO['lr']:g} with warm-up and cosine decay over {STUDIO['epochs']} epochs, bfloat16 where "
                        f"the CPU has it) or guide (the design guide's batch {GUIDE['batch_size']}, Adam {GUIDE['lr']:g}, "
                        f"constant rate halved on plateaus, {GUIDE['epochs']} epochs); flags given override it")
    parser.add_argument("--resume", metavar="RUN",
                        help="continue a stopped or interrupted run (a run name or folder) from its last finished epoch; "
                        "accepts --epochs (a new total), --max-minutes and --no-reports")
    add_setting_flags(parser, TrainConfig)
    parser.add_argument("--reproduce-default", action="store_true",
                        help="train the shipped default configuration into models/default/ "
                        "(accepts --epochs and --max-epochs-minutes)")
    add_model_arguments(parser)
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def shipped_config() -> TrainConfig:
    """The configuration models/default was trained with (its ``config.json``), named ``default``.

    Not the studio's defaults: the shipped model was trained to convergence over 30 epochs at a
    lower peak rate than the studio's short default schedule uses (see README, *Training speed*).
    """
    from core.run_files import CONFIG_FILE

    path = paths.DEFAULT_MODEL_DIR / CONFIG_FILE
    if not path.is_file():
        raise InputError(f"{path} is missing: the shipped configuration cannot be reproduced without it")
    # precision follows this machine (bfloat16 only where the CPU has it); it changes the cost, not what is trained
    return TrainConfig.from_file(path).updated({"run_name": "default", "mixed_precision": CPU_HAS_BFLOAT16})


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """The TrainConfig to train (validated): --config's file or the defaults, overridden by the flags given.

    For --reproduce-default, the shipped configuration (:func:`shipped_config`; only a time budget,
    the epochs, the strategy and the reports may change).
    """
    given = {**given_settings(args, TrainConfig), **given_settings(args, ModelConfig)}
    if args.resume is not None:
        return _resume_config(args, given)
    if args.reproduce_default and args.recipe is not None:
        raise InputError("--reproduce-default trains the shipped configuration; drop --recipe")
    if args.reproduce_default:
        extra = sorted(set(given) - REPRODUCE_ALLOWED)
        if extra or args.config is not None:
            names = ", ".join([*(["--config"] if args.config is not None else []), *(_flag(name) for name in extra)])
            raise InputError(f"--reproduce-default trains the shipped configuration; drop {names}")
        return shipped_config().updated(given)
    base = TrainConfig.from_file(args.config) if args.config is not None else TrainConfig()
    if args.recipe is not None:
        base = base.updated(RECIPES[args.recipe])
    config = base.updated(given)
    shaping = sorted(set(given_settings(args, ModelConfig)) - {"condition_dropout"})
    if config.init_from is not None and shaping:
        raise InputError(f"--init-from keeps the architecture of the model it starts from; drop "
                         f"{', '.join(_flag(name) for name in shaping)}")
    return config


def resume_dir(run: str) -> Path:
    """The folder ``--resume`` names: a run under output/runs, else a folder path (``models/default``)."""
    if RUN_NAME_PATTERN.match(run) and (paths.RUNS_DIR / run).is_dir():
        return paths.RUNS_DIR / run
    folder = Path(run).expanduser()
    if not folder.is_dir():
        raise InputError(f"no run named {run!r} in {paths.RUNS_DIR} and no such folder")
    return folder


def _resume_config(args: argparse.Namespace, given: dict) -> TrainConfig:
    """The resumed run's own config, with a new epoch total or time budget when given."""
    from core.training.run_data import load_run_config

    extra = sorted(set(given) - RESUME_ALLOWED)
    refused = [*(["--config"] if args.config is not None else []), *(["--recipe"] if args.recipe is not None else []),
               *(["--reproduce-default"] if args.reproduce_default else []), *(_flag(name) for name in extra)]
    if refused:
        raise InputError(f"--resume continues the run as it was configured; drop {', '.join(refused)}")
    folder = resume_dir(args.resume)
    config = load_run_config(folder)
    return config.updated({**given, "run_name": config.run_name or folder.name})


def _flag(name: str) -> str:
    config = TrainConfig if name in TrainConfig.settings() else ModelConfig
    return flag_of(config, name)


def format_record(record: dict) -> str:
    """One printed line for a metrics.jsonl record."""
    status = record.get("status")
    if status == "started":
        init, subset = record.get("init"), record.get("subset")
        origin = f", fine-tuning {init['path']} (sha256 {init['sha256']})" if isinstance(init, dict) else ""
        only = ", only " + ", ".join(f"{k} {v}" for k, v in subset.items()) if isinstance(subset, dict) and subset else ""
        return (f"training {record.get('run_name')}: {record.get('parameters', 0):,} parameters, "
                f"{record.get('train_windows')} train / {record.get('validation_windows')} validation "
                f"{'song spans' if record.get('context') == 'song' else 'windows'}, "
                f"up to {record.get('epochs_planned')} epochs{origin}{only}")
    if status == "running":
        def number(key: str, digits: int = 4) -> str:
            value = record.get(key)
            return "-" if value is None else f"{value:.{digits}f}"

        return (f"epoch {record['epoch']}/{record['epochs_planned']}  loss {number('loss')}  acc {number('accuracy')}  "
                f"top5 {number('top5')}  val_loss {number('val_loss')}  val_acc {number('val_accuracy')}  "
                f"val_top5 {number('val_top5')}  lr {record.get('lr') or 0:.2e}  {record.get('seconds', 0):.1f}s")
    return (f"{status}: {record.get('reason', '')} after {record.get('epochs_completed')} epochs, "
            f"best val_loss {record.get('best_val_loss')}, {record.get('elapsed', 0):.0f}s")


def _check_output_folders(run_dir: Path) -> None:
    """One error line now, before the lock and the corpus load, when the output or run folder is blocked by a file."""
    from core.run_files import CHECKPOINTS_DIR, LOGS_DIR

    paths.writable_dir(paths.OUTPUT_DIR, "the output folder (CHORDSMITH_OUTPUT)")
    for folder in (CHECKPOINTS_DIR, LOGS_DIR):
        paths.writable_dir(run_dir / folder, "the run folder")


def run(args: argparse.Namespace) -> int:
    """Train under the machine's training lock and print progress; returns 0 when a model was saved.

    When another training holds the lock: one ``error:`` line naming it and exit status 1, not 2:
    the arguments are fine, the machine is busy (an environment condition), and the same command
    works once that run ends.
    """
    config = config_from_args(args)

    from core.training.lock import TrainingBusy, training_lock
    from core.training.run_names import new_run_name

    config.run_name = config.run_name or new_run_name()  # named now: the lock says which run holds it
    run_dir = resume_dir(args.resume) if args.resume is not None else None
    overwrite = False
    if args.reproduce_default:
        from core.paths import DEFAULT_MODEL_DIR

        run_dir, overwrite = DEFAULT_MODEL_DIR, True
    _check_output_folders(run_dir or paths.RUNS_DIR / config.run_name)
    if config.init_from is not None:
        from core.training.transfer import find_model_file

        find_model_file(config.init_from)  # a wrong name is one error line now, not after the corpus and TensorFlow load
    try:
        with training_lock(config.run_name) as held:  # before TensorFlow loads; released however training ends (SIGTERM too)
            import_tensorflow(args.verbose)

            from core.evaluation.reports import write_run_reports
            from core.training.train import train

            result = train(config, progress_callback=lambda record: print(format_record(record), flush=True),
                           run_dir=run_dir, overwrite=overwrite, resume=args.resume is not None,
                           launched=held.holder.started,  # the run's clock starts when the lock was taken
                           reports=write_run_reports)
    except TrainingBusy as busy:  # raised only when taking the lock
        print(f"error: {busy}", file=sys.stderr)
        return 1
    print(f"run folder: {result}")
    return 0
