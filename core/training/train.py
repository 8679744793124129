"""Training: fit the model on the table's train split, validate on its validation split, write a run folder.

``train(TrainConfig(...))`` writes ``output/runs/<run-name>/``::

    config.json          TrainConfig (model config nested) + data and library versions
    metrics.jsonl        a 'started' line, one line per epoch, then 'finished'/'stopped'/'failed'
    training_log.csv     Keras CSVLogger
    history.json         loss/metrics per epoch
    checkpoints/best.keras   best val_loss so far (written atomically)
    checkpoints/last.keras, last.json   the last finished epoch, to resume from (core.training.resume)
    model.keras          the final model (EarlyStopping restores the best weights)
    logs/                TensorBoard

A background run is stopped by creating ``<run_dir>/STOP``: training stops at the end of the
current batch, the epoch is closed (validated and logged) and the model is saved. A stopped,
killed or finished run continues with ``train(config, run_dir=..., resume=True)`` from its last
finished epoch (``python -m core train --resume RUN [--epochs N]``).
"""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import TrainConfig
from core.dataset import DatasetConfig, make_dataset, split_frame
from core.errors import EnvironmentFault, InputError, os_error_message
from core.key_relative import KEY_RELATIVE
from core.run_files import (
    BEST_CHECKPOINT,
    CONFIG_FILE,
    HISTORY_FILE,
    LAST_CHECKPOINT,
    LOGS_DIR,
    METRICS_FILE,
    MODEL_FILE,
    RESUME_STATE_FILE,
    STOP_FILE,
    TENSORBOARD_NOTE_FILE,
    TRAINING_LOG_FILE,
    read_json,
    write_json_atomic,
)
from core.training.run_data import describe_data, load_run_config, run_frame
from core.training.run_folder import write_launch, write_phase

#: load_run_config lives in run_data (evaluation reads it too); it is re-exported here for the callers that know it here.
__all__ = ["dataset_config", "load_run_config", "train"]

ProgressCallback = Callable[[dict], None]


def dataset_config(config: TrainConfig) -> DatasetConfig:
    """How a run batches and augments its windows."""
    return DatasetConfig(
        sequence_length=config.model.sequence_length,
        batch_size=config.batch_size,
        seed=config.seed,
        transpose=config.augment and config.model.chord_encoding != KEY_RELATIVE,  # moving C-based windows undoes them
        condition_dropout=config.model.condition_dropout,
        substitution_rate=config.substitution_rate,
        curriculum_epochs=config.curriculum_epochs if config.curriculum == "short-first" else 0,
        key_relative=config.model.chord_encoding == KEY_RELATIVE,
        context=config.model.context,
    )


def _remove_run_files(run_dir: Path) -> None:
    """Clear a previous run's files (and a stale STOP request) before training into the same folder."""
    from core.inference_weights import weights_files

    for name in (METRICS_FILE, STOP_FILE, CONFIG_FILE, HISTORY_FILE, TRAINING_LOG_FILE, MODEL_FILE, BEST_CHECKPOINT,
                 LAST_CHECKPOINT, RESUME_STATE_FILE):
        (run_dir / name).unlink(missing_ok=True)
    for path in (*weights_files(run_dir / MODEL_FILE), *weights_files(run_dir / BEST_CHECKPOINT)):
        path.unlink(missing_ok=True)
    shutil.rmtree(run_dir / LOGS_DIR, ignore_errors=True)


def _sample(frame: pd.DataFrame, limit: int | None, seed: int) -> pd.DataFrame:
    if limit is None or len(frame) <= limit:
        return frame
    return frame.sample(n=int(limit), random_state=seed).reset_index(drop=True)


def _versions() -> dict[str, str]:
    import keras
    import numpy
    import tensorflow as tf

    return {"tensorflow": tf.__version__, "keras": keras.__version__, "numpy": numpy.__version__, "pandas": pd.__version__}


def train(
    config: TrainConfig,
    frame: pd.DataFrame | None = None,
    progress_callback: ProgressCallback | None = None,
    run_dir: Path | None = None,
    overwrite: bool = False,
    resume: bool = False,
    launched: float | None = None,
    reports: Callable[[Path], list[str]] | None = None,
) -> Path:
    """Train one model and return its run folder.

    ``frame`` defaults to the config's table, narrowed to its genre/source/mood subset
    (:mod:`core.training.run_data`); its ``split`` column chooses train and validation rows. With
    ``init_from`` the run starts from that trained model (:mod:`core.training.transfer`), recorded
    under ``"init"`` in ``config.json``. ``progress_callback`` receives every record written to
    ``metrics.jsonl``. ``run_dir`` defaults to ``output/runs/<run_name>``; an existing run there is
    an :class:`InputError` unless ``overwrite``. Bad config values raise :class:`InputError` before
    anything is written; a write the disk refuses mid-run is an :class:`EnvironmentFault` (the
    half-written file removed, the best checkpoint so far still loadable).

    With ``resume`` the run in ``run_dir`` continues from its last finished epoch
    (:mod:`core.training.resume`); ``config`` is the run's own, its ``epochs`` may grow.
    ``launched`` (epoch seconds; default now) starts the run's clock in ``phase.json``.
    ``reports`` (the CLI passes :func:`core.evaluation.reports.write_run_reports`) runs after the
    model is saved and before the closing line, when ``config.write_reports``; its problems are recorded there.
    """
    config, strategy, run_dir, point = _session(config, run_dir, overwrite, resume)
    train_frame, validation_frame = _windows(config, frame)

    import keras

    from core.training.callbacks import Curriculum

    keras.utils.set_random_seed(config.seed)
    config, base = _transfer_start(config, point)
    counts = (example_count(train_frame, config), example_count(validation_frame, config))
    _open_run_folder(run_dir, config, point, base, counts, launched)

    data_config = dataset_config(config)
    curriculum = Curriculum(data_config) if data_config.curriculum_epochs else None
    train_data, validation_data = _datasets(data_config, (train_frame, validation_frame), curriculum)
    model = _compiled_model(config, strategy, point, base, counts[0])
    watch = _Watch.of_run(run_dir, config, point, progress_callback, curriculum)
    watch.metrics.started({
        "run_name": config.run_name, "train_windows": counts[0], "validation_windows": counts[1],
        **({"context": "song"} if config.model.song_context else {}),  # its "windows" are song spans
        "parameters": int(model.count_params()),
        **({"init": base.describe()} if base is not None else {}), **({"subset": config.subset()} if config.subset() else {}),
        **({"resumed_from_epoch": point.epoch} if point is not None else {}),
    })
    write_phase(run_dir, "training")
    _fit_and_save(model, (train_data, validation_data), config, watch, point, run_dir)
    status, reason = watch.ending()
    report_problems = reports(run_dir) if reports is not None and config.write_reports else []
    if status != "stopped" and (run_dir / STOP_FILE).exists():  # the model was whole: the stop ended only its reports
        reason = f"{reason}; stop requested during the reports"
    watch.metrics.finished(status, reason=reason, **({"report_errors": report_problems} if report_problems else {}))
    (run_dir / STOP_FILE).unlink(missing_ok=True)  # the request is answered: none left in the folder or its zip
    return run_dir


def _session(config: TrainConfig, run_dir: Path | None, overwrite: bool, resume: bool) -> tuple[TrainConfig, Any, Path, Any]:
    """The checked config (named), its ``tf.distribute`` strategy, the run folder and the epoch a resume starts from.

    The strategy is made first, before TensorFlow runs anything. A run folder that already holds a run is an
    :class:`InputError` unless ``overwrite`` (its files are then cleared) or ``resume``.
    """
    config.validate()
    if config.run_name is None:
        from core.training.run_names import new_run_name

        config = replace(config, run_name=new_run_name())
    if run_dir is None:
        from core.paths import RUNS_DIR

        run_dir = RUNS_DIR / config.run_name
    from core.training.distribute import is_chief, make_strategy, replicas, worker_run_dir

    strategy = make_strategy(config.strategy, config.cpu_replicas)
    if replicas(strategy) > config.batch_size:
        raise InputError(f"batch size {config.batch_size} is smaller than the {replicas(strategy)} replicas it is split across")
    if not is_chief(strategy):  # multi-worker: only the chief writes the run; the others write to a temporary folder
        run_dir, overwrite, config = worker_run_dir(Path(run_dir), strategy), True, replace(config, write_reports=False)
    run_dir = Path(run_dir)
    point = _resume_point(run_dir, config) if resume else None
    if point is None and (run_dir / METRICS_FILE).exists():
        if not overwrite:
            raise InputError(f"run folder {run_dir} already holds a run; choose another run name")
        _remove_run_files(run_dir)
    return config, strategy, run_dir, point


def _transfer_start(config: TrainConfig, point: Any) -> tuple[TrainConfig, Any]:
    """The base model a new ``init_from`` run starts from (its architecture becomes the run's), else ``None``.

    Loaded before anything is written: a missing base is an :class:`InputError` that leaves no run folder behind.
    """
    if config.init_from is None or point is not None:
        return config, None
    from core.training.transfer import load_base_model

    base = load_base_model(config.init_from, config.model.condition_dropout)
    return replace(config, model=base.model_config), base


def _windows(config: TrainConfig, frame: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and validation windows of the run's table (its subset, capped at ``max_train_windows`` each).

    A song-context run reads the song table's rows instead (:func:`core.training.run_data.run_songs`; the cap then
    counts songs), cut into spans by the dataset.
    """
    if config.model.song_context:
        return _song_rows(config, frame)
    frame = run_frame(config, frame)
    train_frame = _sample(split_frame(frame, "train"), config.max_train_windows, config.seed)
    validation_frame = _sample(split_frame(frame, "validation"), config.max_train_windows, config.seed)
    if train_frame.empty or validation_frame.empty:
        raise InputError(f"need train and validation windows, got {len(train_frame)} and {len(validation_frame)}")
    return train_frame, validation_frame


def _datasets(data_config: DatasetConfig, frames: tuple[pd.DataFrame, pd.DataFrame], curriculum: Any) -> tuple[Any, Any]:
    """The training and validation pipelines (a song-context run's frames cut into spans first)."""
    if data_config.song:
        from core.song_spans import encode_spans

        frames = tuple(encode_spans(frame, data_config.sequence_length) for frame in frames)
    return (make_dataset(frames[0], data_config, training=True, length_limit=curriculum and curriculum.limit),
            make_dataset(frames[1], data_config, training=False))


def example_count(frame: pd.DataFrame, config: TrainConfig) -> int:
    """How many training examples a frame gives: its windows, or a song-context run's spans (one per section start)."""
    if config.model.song_context:
        return int(frame.groupby(["song_id", "section_index"], sort=False).ngroups)
    return len(frame)


def _song_rows(config: TrainConfig, frame: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The train and validation songs' rows of a song-context run (``max_train_windows`` caps the songs of each)."""
    from core.training.run_data import run_songs

    songs = run_songs(config, frame)
    parts = []
    for split in ("train", "validation"):
        rows = split_frame(songs, split)
        ids = rows["song_id"].drop_duplicates()
        if config.max_train_windows is not None and len(ids) > config.max_train_windows:
            ids = ids.sample(n=int(config.max_train_windows), random_state=config.seed)
            rows = rows.loc[rows["song_id"].isin(set(ids))].reset_index(drop=True)
        parts.append(rows)
    if parts[0].empty or parts[1].empty:
        raise InputError(f"need train and validation songs, got {len(parts[0])} and {len(parts[1])} chords")
    return parts[0], parts[1]


def _open_run_folder(run_dir: Path, config: TrainConfig, point: Any, base: Any, windows: tuple[int, int],
                     launched: float | None) -> None:
    """Create the run folder and record the session: ``phase.json``'s clock, then ``config.json`` for a new run, or
    the resumption note (logs trimmed to the epoch it continues from, the old stop request dropped) for a resumed one."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / BEST_CHECKPOINT).parent.mkdir(exist_ok=True)
    write_launch(run_dir, time.time() if launched is None else launched, continues=point is not None)  # before trimming
    if point is not None:
        from core.training.resume import trim_logs, write_resume_note

        trim_logs(run_dir, point.epoch)
        (run_dir / STOP_FILE).unlink(missing_ok=True)  # the stop request that ended the earlier session is done with
        write_resume_note(run_dir, read_json(run_dir / CONFIG_FILE) or {}, point, config)
        return
    write_json_atomic(run_dir / CONFIG_FILE, {
        "train": config.to_dict(),
        "data": {"train_windows": windows[0], "validation_windows": windows[1], **describe_data(config)},
        **({"init": base.describe()} if base is not None else {}),
        "versions": _versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    })


def _compiled_model(config: TrainConfig, strategy: Any, point: Any, base: Any, train_windows: int) -> Any:
    """The network to fit, compiled in the strategy's scope at the run's precision: resumed (weights and optimizer
    state), started from a base model (transfer) or built new."""
    from core.model import build_model, compile_model, precision
    from core.training import schedule
    from core.training.distribute import prepare_model
    from core.training.resume import restore_optimizer, resume_network

    learning_rate = schedule.learning_rate(config, train_windows)
    with strategy.scope(), precision(config.mixed_precision):  # global batch split across the strategy's replicas by fit
        if point is not None:
            network, optimizer_state = resume_network(point)
        else:
            network = build_model(config.model) if base is None else base.network(config.freeze_embeddings)
        compiled = compile_model(network, learning_rate=learning_rate, jit_compile=config.jit_compile,
                                 duration_loss_weight=config.model.duration_loss_weight)
        model = prepare_model(compiled, strategy)
        if point is not None:
            restore_optimizer(model, optimizer_state, point)
    return model


@dataclass(frozen=True)
class _Watch:
    """The callbacks of one fit, with the ones whose state says how the run ended."""

    metrics: Any  # MetricsLogger: metrics.jsonl and the progress callback
    stop_file: Any  # StopFileCallback
    time_budget: Any  # TimeBudgetCallback
    early_stopping: Any  # keras.callbacks.EarlyStopping
    callbacks: list

    @classmethod
    def of_run(cls, run_dir: Path, config: TrainConfig, point: Any, progress_callback: ProgressCallback | None,
               curriculum: Any) -> _Watch:
        """The five callbacks of the guide (best checkpoint, early stopping, plateau or schedule, CSV and TensorBoard
        logs) and the studio's (curriculum, stop file, time budget, metrics, the resumable epoch checkpoint)."""
        import keras

        from core.training import schedule
        from core.training.callbacks import (
            AtomicModelCheckpoint,
            ChordLossLogs,
            MetricsLogger,
            StopFileCallback,
            TimeBudgetCallback,
        )
        from core.training.resume import EpochCheckpoint, best_weights

        metrics = MetricsLogger(run_dir / METRICS_FILE, config.epochs, progress_callback,
                                elapsed_before=point.elapsed_s if point else 0.0)
        stop_file = StopFileCallback(run_dir / STOP_FILE)
        time_budget = TimeBudgetCallback(config.max_minutes)
        early_stopping = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=config.early_stopping_patience, restore_best_weights=True,
        )
        tracked = [AtomicModelCheckpoint(run_dir / BEST_CHECKPOINT), early_stopping, *schedule.plateau_callbacks(config)]
        callbacks = [
            *([ChordLossLogs()] if config.model.song_context else []),  # first: val_loss is the chord loss for the rest
            *tracked,
            *_tensorboard_callbacks(run_dir / LOGS_DIR),
            keras.callbacks.CSVLogger(str(run_dir / TRAINING_LOG_FILE), append=point is not None),
            *([curriculum] if curriculum is not None else []),
            stop_file,
            time_budget,
            metrics,  # after the others: sees the logs they completed
            EpochCheckpoint(run_dir, [*tracked, metrics], point, best_weights(run_dir) if point else None),  # last
        ]
        return cls(metrics, stop_file, time_budget, early_stopping, callbacks)

    def ending(self) -> tuple[str, str]:
        """How the fit ended: (status, reason) for the last line of ``metrics.jsonl``."""
        if self.stop_file.triggered:
            return "stopped", "stop file"
        if self.time_budget.triggered:
            return "stopped", "time budget"
        if self.early_stopping.stopped_epoch > 0:
            return "finished", "early stopping"
        return "finished", "epochs completed"


def _fit_and_save(model: Any, data: tuple[Any, Any], config: TrainConfig, watch: _Watch, point: Any,
                  run_dir: Path) -> None:
    """Fit, then write ``history.json``, ``model.keras`` (float32) and its inference weights.

    An interrupt or a failure is logged as the run's last line first; a write the disk refused is an
    :class:`EnvironmentFault` saying whether a best checkpoint was kept.
    """
    from core.inference_weights import write_inference_weights
    from core.model import float32_copy, save_model
    from core.training.resume import history_rows

    earlier_history = history_rows(run_dir) if point is not None else {}
    try:
        history = model.fit(
            data[0], validation_data=data[1], epochs=config.epochs, callbacks=watch.callbacks, verbose=0, shuffle=False,
            initial_epoch=point.epoch if point is not None else 0,
        )
        write_json_atomic(run_dir / HISTORY_FILE, {k: [*earlier_history.get(k, []), *(float(v) for v in vs)]
                                                   for k, vs in history.history.items()})
        final = float32_copy(model, config.model)  # a mixed-precision run saves its weights in a float32 model
        save_model(final, run_dir / MODEL_FILE)
        write_inference_weights(final, run_dir / MODEL_FILE)  # generate/score/serve then load it without TensorFlow
    except KeyboardInterrupt:
        watch.metrics.finished("stopped", reason="interrupted")
        raise
    except Exception as exc:
        with contextlib.suppress(OSError):  # a full disk may refuse this line too: the first error is the one to report
            watch.metrics.finished("failed", reason=f"{type(exc).__name__}: {exc}")
        if isinstance(exc, OSError):
            raise EnvironmentFault(_write_fault(exc, run_dir)) from exc
        raise


def _resume_point(run_dir: Path, config: TrainConfig):
    """The epoch a resumed run continues from (:class:`InputError` when there is none, or no epoch is left to train)."""
    from core.training.resume import read_resume_point

    if not (run_dir / METRICS_FILE).exists():
        raise InputError(f"no run to resume in {run_dir}")
    point = read_resume_point(run_dir)
    if point.epoch >= config.epochs:
        raise InputError(f"{run_dir.name} has trained {point.epoch} of its {config.epochs} epochs: "
                         f"give more to resume (--epochs N, N above {point.epoch})")
    return point


def _write_fault(error: OSError, run_dir: Path) -> str:
    """One line for a run the disk stopped (full, read-only …): what went wrong and whether a best checkpoint was kept."""
    best = run_dir / BEST_CHECKPOINT
    kept = f"the best checkpoint so far is kept in {best}" if best.is_file() else "no checkpoint had been saved yet"
    return f"training stopped, {run_dir} could not be written: {os_error_message(error)}; {kept}"


def _tensorboard_callbacks(log_dir: Path) -> list:
    """Keras's TensorBoard callback writing to ``log_dir``; without the tensorboard package, a note instead."""
    import importlib.util

    import keras

    log_dir.mkdir(parents=True, exist_ok=True)
    if importlib.util.find_spec("tensorboard") is None:
        (log_dir / TENSORBOARD_NOTE_FILE).write_text(
            "No TensorBoard logs: the tensorboard package is not installed (pip install tensorboard).\n"
            "metrics.jsonl and training_log.csv hold the same per-epoch numbers.\n",
            encoding="utf-8",
        )
        return []
    return [keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False)]
