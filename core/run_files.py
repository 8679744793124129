"""The run-folder contract: every file name a run folder holds, and how its files are written atomically.

A run folder (``output/runs/<name>/``, or ``models/default/``) is written by the trainer
(:mod:`core.training.train`) and read by the studio, the command line and the benchmarks; this
module is the one place that names its files::

    config.json              TrainConfig (model config nested) + data and library versions
    metrics.jsonl            a 'started' line, one line per epoch, then 'finished'/'stopped'/'failed'
    training_log.csv         Keras CSVLogger
    history.json             loss/metrics per epoch
    checkpoints/best.keras   best val_loss so far (written atomically)
    checkpoints/last.keras   the model and optimizer state at the end of the last epoch (for resuming)
    checkpoints/last.json    that epoch's number, the training time so far and the callbacks' state
    model.keras              the final model (EarlyStopping restores the best weights)
    *.inference.npz, .json   beside each .keras: its weights without any framework, for inference
                             (core.inference_weights; model.inference.npz, checkpoints/best.inference.npz)
    logs/                    TensorBoard
    test_results.json        the evaluation on the test songs (core.evaluation.evaluate)
    calibration.json         genre/mood fit calibration, fitted on the validation songs (core.generation.calibration)
    generated_samples.json   a few samples per genre (core.generation.generate)
    STOP                     a stop request (the trainer ends the run cleanly)
    phase.json               what the trainer is doing now (PHASES) and the clock of the run's elapsed time
    train.out, command.txt   a background run's output and command line (core.training.processes)

Files are written atomically (to a hidden partial name beside them, then ``os.replace``), so a
reader never sees half a file; ``metrics.jsonl`` is appended line by line and read tolerantly.
Why here, at the bottom of ``core``: the model saver, the trainer, generation, evaluation, the
corpus importer and the exporters all write or name these files, so the contract sits below all
of them (no import climbs to reach it). Reading a run back (metrics, phases, summaries) is
:mod:`core.training.run_folder`. Light on purpose: the standard library only.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
HISTORY_FILE = "history.json"
TRAINING_LOG_FILE = "training_log.csv"
MODEL_FILE = "model.keras"
CHECKPOINTS_DIR = "checkpoints"
BEST_CHECKPOINT = Path(CHECKPOINTS_DIR) / "best.keras"
#: the last finished epoch, to resume from (core.training.resume): model + optimizer, then its state.
LAST_CHECKPOINT = Path(CHECKPOINTS_DIR) / "last.keras"
RESUME_STATE_FILE = Path(CHECKPOINTS_DIR) / "last.json"
LOGS_DIR = "logs"
#: beside every ``NAME.keras``: ``NAME.inference.npz`` and ``NAME.inference.json`` (core.inference_weights).
INFERENCE_WEIGHTS_SUFFIX = ".inference.npz"
INFERENCE_DESCRIPTION_SUFFIX = ".inference.json"
#: written in ``logs/`` instead of TensorBoard logs when the tensorboard package is missing.
TENSORBOARD_NOTE_FILE = "TENSORBOARD_NOT_INSTALLED.txt"
TEST_RESULTS_FILE = "test_results.json"
CALIBRATION_FILE = "calibration.json"
GENERATED_SAMPLES_FILE = "generated_samples.json"
STOP_FILE = "STOP"
TRAIN_OUTPUT_FILE = "train.out"
COMMAND_FILE = "command.txt"
#: the machine-wide single-training lock, in the output folder beside ``runs/`` (see core.training.lock).
TRAINING_LOCK_FILE = "training.lock"
PHASE_FILE = "phase.json"
#: what a trainer can be doing, in the words the Training page shows (see write_phase).
PHASES: dict[str, str] = {
    "starting": "starting (loading TensorFlow and the data)",
    "training": "training",
    "evaluating": "evaluating on the test songs",
    "sampling": "writing samples",
}
#: what a stop request waits for (core.training.callbacks.StopFileCallback; tests/test_run_management.py checks it).
STOP_WAITS_FOR = ("the end of the current batch; it then validates that part of the epoch and saves the model, "
                  "without the test-set evaluation and samples (a stop during them ends them at their next step); "
                  "the Evaluation page computes the test results on request")

#: keys of an epoch record in metrics.jsonl (besides ``status``, which is ``running``).
EPOCH_KEYS: tuple[str, ...] = (
    "epoch", "loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5", "lr", "seconds", "elapsed", "epochs_planned",
)
#: ``status`` of the record that closes a run's metrics.jsonl.
FINAL_STATUSES: tuple[str, ...] = ("finished", "stopped", "failed")
#: a run's status while its trainer holds the training lock (see run_status).
LIVE_STATUSES: tuple[str, ...] = ("starting", "running", "stopping")


# --------------------------------------------------------------------------- writing


def partial_path(path: Path) -> Path:
    """Where ``path`` is written before ``os.replace`` moves it into place: hidden, beside it, same suffix.

    ``config.json`` -> ``.config.partial.json``; ``best.keras`` -> ``.best.partial.keras`` (Keras
    insists on the ``.keras`` suffix).
    """
    path = Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


def write_json_atomic(path: Path, value: object) -> None:
    """Write JSON to ``path`` via :func:`partial_path` and ``os.replace`` (fsynced first)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)
    try:
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(value, handle, indent=2, sort_keys=True, default=str)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # a full disk mid-write: no partial file stays behind, ``path`` keeps its old content
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, path)


def append_jsonl(path: Path, record: dict) -> None:
    """Append one JSON line and force it to disk, so a reader polling the file sees whole lines.

    A write that fails part-way (a full disk) is cut back off, so the file never ends in half a line.
    """
    line = (json.dumps(record, sort_keys=True, default=str) + "\n").encode("utf-8")
    with open(path, "ab", buffering=0) as handle:  # unbuffered: nothing is left to write at close after a failure
        size = handle.seek(0, os.SEEK_END)
        try:
            written = 0
            while written < len(line):
                written += handle.write(line[written:])
            os.fsync(handle.fileno())
        except OSError:
            os.truncate(handle.fileno(), size)
            raise


def request_stop(run_dir: Path) -> None:
    """Ask the training running in ``run_dir`` to stop: its callback ends the epoch and saves the model."""
    Path(run_dir).mkdir(parents=True, exist_ok=True)
    (Path(run_dir) / STOP_FILE).write_text(f"stop requested at {time.strftime('%Y-%m-%d %H:%M:%S')}\n", encoding="utf-8")


# --------------------------------------------------------------------------- reading


def read_json(path: Path) -> Any:
    """The JSON in ``path``, or ``None`` when it is missing or unreadable: read with a bound
    (:data:`core.config.MAX_SMALL_JSON_BYTES`; a link to ``/dev/zero`` is never read to the end), not UTF-8, not JSON,
    or nested too deeply."""
    from core.bounded_reads import read_bounded_text
    from core.config import MAX_SMALL_JSON_BYTES

    try:
        return json.loads(read_bounded_text(path, MAX_SMALL_JSON_BYTES, "the file"))
    except (OSError, ValueError, RecursionError):  # InputError is a ValueError
        return None
