"""``python -m core train``: train a model on the shipped table and print one line per epoch."""

from __future__ import annotations

import argparse
import sys

from core.cli.model_arguments import add_model_arguments, model_overrides
from core.errors import InputError

#: TrainConfig fields the flags set (flag destination -> field); None-valued flags keep the default.
TRAIN_FLAGS: dict[str, str] = {
    "batch_size": "batch_size", "epochs": "epochs", "lr": "lr", "seed": "seed", "run_name": "run_name",
    "max_minutes": "max_minutes", "max_train_windows": "max_train_windows",
    "strategy": "strategy", "cpu_replicas": "cpu_replicas",
}
#: flags --reproduce-default accepts besides itself (a time budget does not change what is trained).
REPRODUCE_ALLOWED: frozenset[str] = frozenset({"epochs", "max_minutes", "strategy", "cpu_replicas"})


def register(subparsers) -> None:
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser(
        "train", help="train a model into output/runs/<run-name>/",
        description="Fit the conditional chord model on the train split of data/progressions.csv.gz, validate on the "
        "validation split, and write config, models, metrics.jsonl, training_log.csv and TensorBoard logs. "
        "Create <run folder>/STOP to stop a run cleanly.",
    )
    parser.add_argument("--batch-size", type=int, help="windows per batch (default 32)")
    parser.add_argument("--epochs", type=int, help="most epochs to run (default 50; early stopping may end sooner)")
    parser.add_argument("--lr", type=float, help="Adam learning rate (default 0.001)")
    parser.add_argument("--seed", type=int, help="random seed for weights, shuffling and augmentation (default 42)")
    parser.add_argument("--run-name", help="run folder name under output/runs/ (default run-YYYYmmdd-HHMMSS)")
    parser.add_argument("--no-augment", action="store_true", help="no random transposition of training windows")
    parser.add_argument("--max-epochs-minutes", "--max-minutes", dest="max_minutes", type=float,
                        help="stop cleanly after this many minutes of training")
    parser.add_argument("--max-train-windows", type=int, help="train (and validate) on a seeded sample of this many windows")
    parser.add_argument("--no-reports", action="store_true", help="skip test_results.json / generated_samples.json")
    parser.add_argument("--strategy", choices=("default", "mirrored", "multiworker"),
                        help="tf.distribute strategy: one device (default), every local GPU (mirrored), or the "
                        "machines in TF_CONFIG (multiworker; only the chief writes the run). --batch-size is global")
    parser.add_argument("--cpu-replicas", type=int, help="with --strategy mirrored: split the CPU into N logical devices")
    parser.add_argument("--reproduce-default", action="store_true",
                        help="train the shipped default configuration into models/default/ "
                        "(accepts --epochs and --max-epochs-minutes)")
    add_model_arguments(parser)
    parser.set_defaults(handler=run)


def _flag_name(dest: str) -> str:
    return "--" + ("max-epochs-minutes" if dest == "max_minutes" else dest.replace("_", "-"))


def config_from_args(args: argparse.Namespace):
    """The TrainConfig the flags describe (validated); for --reproduce-default, the shipped configuration."""
    from core.model import ModelConfig
    from core.training.train import TrainConfig

    given = {dest: getattr(args, dest) for dest in TRAIN_FLAGS if getattr(args, dest) is not None}
    model_values = model_overrides(args)
    if args.reproduce_default:
        extra = sorted(set(given) - REPRODUCE_ALLOWED) + sorted(model_values) + (["no_augment"] if args.no_augment else [])
        if extra:
            names = ", ".join(_flag_name(d) for d in extra)
            raise InputError(f"--reproduce-default trains the shipped configuration; drop {names}")
        config = TrainConfig(run_name="default", **given)
    else:
        config = TrainConfig(**{TRAIN_FLAGS[d]: v for d, v in given.items()}, augment=not args.no_augment,
                             model=ModelConfig(**model_values))
    if args.no_reports:
        config.write_reports = False
    config.validate()
    return config


def format_record(record: dict) -> str:
    """One printed line for a metrics.jsonl record."""
    status = record.get("status")
    if status == "started":
        return (f"training {record.get('run_name')}: {record.get('parameters', 0):,} parameters, "
                f"{record.get('train_windows')} train / {record.get('validation_windows')} validation windows, "
                f"up to {record.get('epochs_planned')} epochs")
    if status == "running":
        def number(key: str, digits: int = 4) -> str:
            value = record.get(key)
            return "-" if value is None else f"{value:.{digits}f}"

        return (f"epoch {record['epoch']}/{record['epochs_planned']}  loss {number('loss')}  acc {number('accuracy')}  "
                f"top5 {number('top5')}  val_loss {number('val_loss')}  val_acc {number('val_accuracy')}  "
                f"val_top5 {number('val_top5')}  lr {record.get('lr') or 0:.2e}  {record.get('seconds', 0):.1f}s")
    return (f"{status}: {record.get('reason', '')} after {record.get('epochs_completed')} epochs, "
            f"best val_loss {record.get('best_val_loss')}, {record.get('elapsed', 0):.0f}s")


def run(args: argparse.Namespace) -> int:
    """Train under the machine's training lock and print progress; returns 0 when a model was saved.

    When another training holds the lock: one ``error:`` line naming it and exit status 1, not 2:
    the arguments are fine, the machine is busy (an environment condition), and the same command
    works once that run ends.
    """
    config = config_from_args(args)

    from core.training.runs import TrainingBusy, new_run_name, training_lock

    config.run_name = config.run_name or new_run_name()  # named now: the lock says which run holds it
    run_dir = None
    overwrite = False
    if args.reproduce_default:
        from core.paths import DEFAULT_MODEL_DIR

        run_dir, overwrite = DEFAULT_MODEL_DIR, True
    try:
        with training_lock(config.run_name):  # before TensorFlow loads; released however training ends (SIGTERM too)
            from core.training.train import train

            result = train(config, progress_callback=lambda record: print(format_record(record), flush=True),
                           run_dir=run_dir, overwrite=overwrite)
    except TrainingBusy as busy:  # raised only when taking the lock
        print(f"error: {busy}", file=sys.stderr)
        return 1
    print(f"run folder: {result}")
    return 0
