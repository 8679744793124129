"""The Keras callbacks training adds to the standard ones: metrics log, stop file, time budget, atomic checkpoint."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

import keras

from core.inference_weights import write_inference_weights
from core.run_files import EPOCH_KEYS, append_jsonl, partial_path


def _number(value: object) -> float | None:
    """A JSON-safe float (NaN and infinities become ``None``)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


class MetricsLogger(keras.callbacks.Callback):
    """Appends one JSON line per epoch to ``metrics.jsonl`` (flushed and fsynced) and forwards it.

    The file opens with a ``started`` record and closes with ``finished``, ``stopped`` or
    ``failed`` (see :meth:`finished`), so a page polling it always knows the run's state.
    """

    def __init__(self, path: Path, epochs_planned: int, progress_callback: Callable[[dict], None] | None = None,
                 elapsed_before: float = 0.0):
        super().__init__()
        self.path = Path(path)
        self.epochs_planned = int(epochs_planned)
        self.progress_callback = progress_callback
        self.elapsed_before = float(elapsed_before)  # a resumed run's training time so far: elapsed goes on from there
        self.started_at = time.monotonic()
        self.epoch_started_at = self.started_at
        self.epoch_lr: float | None = None
        self.epochs_completed = 0
        self.best_val_loss: float | None = None

    def _emit(self, record: dict) -> None:
        append_jsonl(self.path, record)
        if self.progress_callback is not None:
            self.progress_callback(record)

    def started(self, extra: dict | None = None) -> None:
        """Write the opening record."""
        self.started_at = time.monotonic() - self.elapsed_before
        self._emit({"status": "started", "epochs_planned": self.epochs_planned, "time": time.time(), **(extra or {})})

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_started_at = time.monotonic()
        self.epoch_lr = _number(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        now = time.monotonic()
        values = {
            "epoch": epoch + 1,
            "lr": self.epoch_lr,
            "seconds": round(now - self.epoch_started_at, 3),
            "elapsed": round(now - self.started_at, 3),
            "epochs_planned": self.epochs_planned,
        }
        for key in ("loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5"):
            values[key] = _number(logs.get(key))
        self.epochs_completed = epoch + 1
        val_loss = values["val_loss"]
        if val_loss is not None and (self.best_val_loss is None or val_loss < self.best_val_loss):
            self.best_val_loss = val_loss
        self._emit({**{key: values[key] for key in EPOCH_KEYS}, "status": "running",
                    # the machine may be shared: its load and this process's CPU time put the seconds in context
                    "load_average": round(os.getloadavg()[0], 2), "cpu_seconds": round(time.process_time(), 1)})

    def finished(self, status: str, reason: str = "", **extra) -> None:
        """Write the closing record: ``status`` is ``finished``, ``stopped`` or ``failed``."""
        self._emit({
            "status": status, "reason": reason, "epochs_completed": self.epochs_completed,
            "epochs_planned": self.epochs_planned, "best_val_loss": self.best_val_loss,
            "elapsed": round(time.monotonic() - self.started_at, 3), "time": time.time(), **extra,
        })


class ChordLossLogs(keras.callbacks.Callback):
    """For a song-context model (two outputs): the epoch's logs say ``loss``/``val_loss`` for the chord loss alone.

    Keras logs the weighted total as ``loss`` and each output's own as ``chords_loss``/``durations_loss``.
    Placed first among the callbacks, this one renames them in the logs every later callback reads (the
    same dict object): ``loss``, ``accuracy``, ``top5`` and their ``val_`` twins become the chord output's,
    so early stopping, the best checkpoint, the plateau rule, metrics.jsonl and the Training page all read a
    chord loss comparable with a window model's; the total is kept as ``total_loss``, the durations' as
    ``durations_loss`` and ``durations_accuracy``.
    """

    def on_epoch_end(self, epoch, logs=None):
        rename_chord_logs(logs if logs is not None else {})


def rename_chord_logs(logs: dict) -> dict:
    """``logs`` changed in place as :class:`ChordLossLogs` says (and returned); logs without ``chords_loss`` stay."""
    for prefix in ("", "val_"):
        if f"{prefix}chords_loss" not in logs:
            continue
        logs[f"{prefix}total_loss"] = logs.get(f"{prefix}loss")
        for name in ("loss", "accuracy", "top5"):
            if f"{prefix}chords_{name}" in logs:
                logs[f"{prefix}{name}"] = logs[f"{prefix}chords_{name}"]
    return logs


class _StopWhen(keras.callbacks.Callback):
    """Stops training at the end of the batch (or epoch) after which :meth:`should_stop` first says so."""

    def __init__(self):
        super().__init__()
        self.triggered = False

    def should_stop(self) -> bool:
        raise NotImplementedError

    def _check(self) -> None:
        if not self.triggered and self.should_stop():
            self.triggered = True
            self.model.stop_training = True

    def on_train_batch_end(self, batch, logs=None):
        self._check()

    def on_epoch_end(self, epoch, logs=None):
        self._check()


class StopFileCallback(_StopWhen):
    """Stops training at the end of the current batch once ``path`` exists (the epoch is still closed)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)

    def should_stop(self) -> bool:
        return self.path.exists()


class TimeBudgetCallback(_StopWhen):
    """Stops training at the end of the batch during which ``max_minutes`` of training have passed."""

    def __init__(self, max_minutes: float | None):
        super().__init__()
        self.max_seconds = None if max_minutes is None else float(max_minutes) * 60.0
        self.started_at = time.monotonic()

    def on_train_begin(self, logs=None):
        self.started_at = time.monotonic()

    def should_stop(self) -> bool:
        return self.max_seconds is not None and time.monotonic() - self.started_at >= self.max_seconds


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """ModelCheckpoint(best val_loss) that writes beside ``path`` and renames, so a reader never sees half a file.

    Each saved checkpoint gets its framework-free inference weights too (:mod:`core.inference_weights`).
    """

    def __init__(self, path: Path, monitor: str = "val_loss"):
        self.final_path = Path(path)
        self.partial_path = partial_path(self.final_path)
        super().__init__(filepath=str(self.partial_path), monitor=monitor, save_best_only=True)

    def on_epoch_end(self, epoch, logs=None):
        try:
            super().on_epoch_end(epoch, logs)
        except BaseException:  # a full disk mid-save: drop the half-written file; the last best stays as it was
            self.partial_path.unlink(missing_ok=True)
            raise
        if self.partial_path.exists():
            os.replace(self.partial_path, self.final_path)
            write_inference_weights(self.model, self.final_path)


class Curriculum(keras.callbacks.Callback):
    """Short-first curriculum: before each epoch, sets how many steps of every training window are kept.

    ``limit`` is the variable the training pipeline reads (:func:`core.dataset.make_dataset`'s
    ``length_limit``); its value for each epoch is :func:`core.dataset.curriculum_length`.
    """

    def __init__(self, config):
        super().__init__()
        import tensorflow as tf

        self.config = config
        self.limit = tf.Variable(config.sequence_length, dtype=tf.int32, trainable=False, name="curriculum_length")

    def on_epoch_begin(self, epoch, logs=None):
        from core.dataset import curriculum_length

        self.limit.assign(curriculum_length(epoch, self.config.curriculum_epochs, self.config.sequence_length))
