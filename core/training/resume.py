"""Resuming a run: what each epoch end saves, and how a stopped or killed run continues from it.

At the end of every epoch :class:`EpochCheckpoint` (the last callback, so the metrics line and the
CSV row of that epoch are already written) saves ``checkpoints/last.keras`` (weights and optimizer
state: Adam's moments, the step counter that places the learning-rate schedule, a learning rate
ReduceLROnPlateau lowered) and ``checkpoints/last.json`` (the epoch number, the training time so
far, the state of the callbacks that count epochs: early stopping, ReduceLROnPlateau, the best
checkpoint's best value, the metrics logger's best). Both are written beside their names first;
the JSON names the SHA-256 of the model file it goes with, and is renamed into place after the
model file. A process killed between the two renames leaves the new model file and the old JSON:
:func:`read_resume_point` then takes the complete partial JSON that matches the model file. So a
run killed at any moment loses at most the epoch in progress.

Resuming (``python -m core train --resume RUN [--epochs N]``, :func:`core.training.train.train`
with ``resume=True``) drops the records of epochs after the checkpoint from ``metrics.jsonl`` and
``training_log.csv`` (that epoch is trained again), then appends to both.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras

from core.errors import InputError
from core.inference_weights import file_sha256
from core.run_files import (
    BEST_CHECKPOINT,
    CONFIG_FILE,
    LAST_CHECKPOINT,
    METRICS_FILE,
    RESUME_STATE_FILE,
    TRAINING_LOG_FILE,
    partial_path,
    read_json,
    write_json_atomic,
)

#: callback attributes that carry a run's progress across epochs (those a callback has are saved).
STATE_ATTRIBUTES: tuple[str, ...] = ("wait", "best", "best_epoch", "cooldown_counter", "best_val_loss", "epochs_completed")


@dataclass(frozen=True)
class ResumePoint:
    """Where a run can continue: epochs completed, training seconds so far, callbacks' state, the checkpoint file."""

    epoch: int
    elapsed_s: float
    callbacks: dict[str, dict[str, Any]] = field(default_factory=dict)
    checkpoint: Path = Path()


def _callback_key(callback: Any) -> str:
    return type(callback).__name__


def callback_state(callbacks: list) -> dict[str, dict[str, Any]]:
    """The :data:`STATE_ATTRIBUTES` each callback has, by class name (numbers, or ``None`` where unset)."""
    state: dict[str, dict[str, Any]] = {}
    for callback in callbacks:
        values: dict[str, Any] = {}
        for name in STATE_ATTRIBUTES:
            if not hasattr(callback, name):
                continue
            value = getattr(callback, name)
            values[name] = None if value is None else int(value) if isinstance(value, int) else float(value)
        if values:
            state[_callback_key(callback)] = values
    return state


def restore_callback_state(callbacks: list, state: dict[str, dict[str, Any]]) -> None:
    """Give each callback the values :func:`callback_state` saved for its class."""
    for callback in callbacks:
        for name, value in state.get(_callback_key(callback), {}).items():
            setattr(callback, name, value)


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the resume point at every epoch end; on a resumed run, first puts the other callbacks back as they were.

    ``tracked`` are the callbacks whose state is saved (and restored from ``resume``, after their
    own ``on_train_begin`` reset it: this callback comes last). ``elapsed_before`` is the training
    time of the earlier sessions of the run.
    """

    def __init__(self, run_dir: Path, tracked: list, resume: ResumePoint | None = None, best_weights=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.tracked = tracked
        self.resume = resume
        self.best_weights = best_weights
        self.elapsed_before = resume.elapsed_s if resume is not None else 0.0
        self.started_at = time.monotonic()

    def on_train_begin(self, logs=None):
        self.started_at = time.monotonic()
        if self.resume is None:
            return
        restore_callback_state(self.tracked, self.resume.callbacks)
        for callback in self.tracked:  # EarlyStopping(restore_best_weights): the best epoch's weights, from best.keras
            if hasattr(callback, "best_weights") and self.best_weights is not None:
                callback.best_weights = self.best_weights

    def elapsed(self) -> float:
        """Training seconds over every session of the run so far."""
        return self.elapsed_before + time.monotonic() - self.started_at

    def on_epoch_end(self, epoch, logs=None):
        save_resume_point(self.run_dir, self.model, ResumePoint(epoch + 1, round(self.elapsed(), 3),
                                                                callback_state(self.tracked)))


def save_resume_point(run_dir: Path, model, point: ResumePoint) -> None:
    """Write ``last.keras`` and ``last.json`` for ``point`` (both beside their names first; see the module docstring)."""
    model_path = Path(run_dir) / LAST_CHECKPOINT
    state_path = Path(run_dir) / RESUME_STATE_FILE
    staged = partial_path(model_path)
    try:
        model.save(staged)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    state = {"epoch": point.epoch, "elapsed_s": point.elapsed_s, "callbacks": point.callbacks,
             "model_sha256": file_sha256(staged), "time": time.time()}
    staged_state = partial_path(state_path)
    _write_json_staged(staged_state, state)
    os.replace(staged, model_path)
    os.replace(staged_state, state_path)


def _write_json_staged(path: Path, value: dict) -> None:
    """Write JSON to ``path`` itself (a partial name), fsynced: the rename into place comes later."""
    try:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def read_resume_point(run_dir: Path) -> ResumePoint:
    """The last saved epoch of a run; :class:`InputError` when the run has none to resume from."""
    run_dir = Path(run_dir)
    model_path = run_dir / LAST_CHECKPOINT
    if not model_path.is_file():
        raise InputError(f"{run_dir.name} has no saved epoch to resume from ({LAST_CHECKPOINT} is missing): "
                         "it ended before its first epoch did, or was trained before runs could be resumed")
    sha = file_sha256(model_path)
    for candidate in (run_dir / RESUME_STATE_FILE, partial_path(run_dir / RESUME_STATE_FILE)):
        state = read_json(candidate)
        if isinstance(state, dict) and state.get("model_sha256") == sha:
            return ResumePoint(int(state["epoch"]), float(state.get("elapsed_s") or 0.0), dict(state.get("callbacks") or {}),
                               model_path)
    raise InputError(f"{run_dir.name}: {RESUME_STATE_FILE} does not match {LAST_CHECKPOINT}; the run cannot be resumed")


def resume_network(point: ResumePoint):
    """The checkpoint's network (architecture, weights, frozen layers) and its optimizer's variables as arrays.

    The network is compiled again by the trainer with the run's optimizer (so a resumed run with
    more epochs gets its stretched schedule); :func:`restore_optimizer` then puts the state back.
    """
    from core.model import load_model

    network = load_model(point.checkpoint, compile=True)
    return network, [variable.numpy() for variable in network.optimizer.variables]


def restore_optimizer(model, state: list, point: ResumePoint) -> None:
    """Copy a saved optimizer's variables (step counter first, then the moments) into ``model``'s new optimizer."""
    optimizer = model.optimizer
    optimizer.build(model.trainable_variables)
    shapes = [tuple(variable.shape) for variable in optimizer.variables]
    if shapes != [tuple(value.shape) for value in state]:
        raise InputError(f"{point.checkpoint} holds another optimizer's state than this run's configuration builds")
    for target, value in zip(optimizer.variables, state, strict=True):
        target.assign(value)


def history_rows(run_dir: Path) -> dict[str, list[float]]:
    """The per-epoch values ``training_log.csv`` holds so far, by column (what a resumed run's history starts with)."""
    path = Path(run_dir) / TRAINING_LOG_FILE
    if not path.is_file():
        return {}
    columns: dict[str, list[float]] = {}
    for row in csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))):
        for key, value in row.items():
            if key != "epoch" and key is not None:
                try:
                    columns.setdefault(key, []).append(float(value))
                except (TypeError, ValueError):
                    continue
    return columns


def best_weights(run_dir: Path):
    """The weights of ``checkpoints/best.keras`` (what early stopping restores at the end), or ``None``."""
    path = Path(run_dir) / BEST_CHECKPOINT
    if not path.is_file():
        return None
    from core.model import load_model

    return load_model(path, compile=False).get_weights()


def trim_logs(run_dir: Path, epochs: int) -> None:
    """Drop the records of epochs after ``epochs`` from ``metrics.jsonl`` and ``training_log.csv`` (rewritten atomically)."""
    run_dir = Path(run_dir)
    metrics = run_dir / METRICS_FILE
    if metrics.is_file():
        kept = [line for line in metrics.read_text(encoding="utf-8").splitlines(keepends=True)
                if line.endswith("\n") and not _epoch_after(line, epochs)]
        _replace_text(metrics, "".join(kept))
    log = run_dir / TRAINING_LOG_FILE
    if log.is_file():
        rows = list(csv.reader(io.StringIO(log.read_text(encoding="utf-8"))))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        for index, row in enumerate(rows):
            if index == 0 or (row and row[0].isdigit() and int(row[0]) < epochs):  # CSVLogger counts epochs from 0
                writer.writerow(row)
        _replace_text(log, out.getvalue())


def _epoch_after(line: str, epochs: int) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return True  # a torn line: dropped
    return isinstance(record, dict) and isinstance(record.get("epoch"), int) and record["epoch"] > epochs


def _replace_text(path: Path, text: str) -> None:
    staged = partial_path(path)
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


def write_resume_note(run_dir: Path, config_json: dict, point: ResumePoint, config) -> None:
    """Record the resumption in ``config.json``: the settings it goes on with (``train``: a new epoch total or
    time budget) and, under ``"resumed"``, when, from which epoch and up to how many."""
    entry = {"from_epoch": point.epoch, "epochs": config.epochs, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    write_json_atomic(Path(run_dir) / CONFIG_FILE, {**config_json, "train": config.to_dict(),
                                                    "resumed": [*config_json.get("resumed", []), entry]})
