"""The run-folder contract: every file name a run folder holds, how they are written and read, run summaries.

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
                             (core.generation.weights; model.inference.npz, checkpoints/best.inference.npz)
    logs/                    TensorBoard
    test_results.json        the evaluation on the test songs (core.evaluation.evaluate)
    calibration.json         genre/mood fit calibration, fitted on the validation songs (core.generation.calibration)
    generated_samples.json   a few samples per genre (core.generation.generate)
    STOP                     a stop request (the trainer ends the run cleanly)
    phase.json               what the trainer is doing now (PHASES) and the clock of the run's elapsed time
    train.out, command.txt   a background run's output and command line (core.training.runs)

Files are written atomically (to a hidden partial name beside them, then ``os.replace``), so a
reader never sees half a file; ``metrics.jsonl`` is appended line by line and read tolerantly.
Light on purpose (no TensorFlow, no pandas): the Streamlit Training page polls runs through it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import TrainConfig
from core.errors import InputError

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
#: beside every ``NAME.keras``: ``NAME.inference.npz`` and ``NAME.inference.json`` (core.generation.weights).
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
#: the machine-wide single-training lock, in the output folder beside ``runs/`` (see core.training.runs).
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
STOP_WAITS_FOR = ("the end of the current batch; it then validates that part of the epoch, saves the model, "
                  "evaluates it on the test songs and writes samples")

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
    """The JSON in ``path``, or ``None`` when it is missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class MetricsReader:
    """Reads a growing ``metrics.jsonl`` incrementally.

    Only complete lines are consumed: a partial last line (the trainer mid-write) is left for the
    next call. A file that shrank or was replaced is read again from the start. Lines that are not
    JSON objects are skipped. Safe to share between threads (Streamlit sessions).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records: list[dict[str, Any]] = []
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def read(self) -> list[dict[str, Any]]:
        """Every complete record so far (a copy), after reading what was appended since last time."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self.records, self._offset, self._identity = [], 0, None
                return []
            identity = (stat.st_dev, stat.st_ino)
            if identity != self._identity or stat.st_size < self._offset:
                self.records, self._offset, self._identity = [], 0, identity
            if stat.st_size > self._offset:
                with self.path.open("rb") as handle:
                    handle.seek(self._offset)
                    chunk = handle.read(stat.st_size - self._offset)
                complete = chunk[: chunk.rfind(b"\n") + 1]
                self._offset += len(complete)
                for line in complete.splitlines():
                    try:
                        record = json.loads(line)
                    except ValueError:
                        continue
                    if isinstance(record, dict):
                        self.records.append(record)
            return list(self.records)


_READERS: dict[Path, MetricsReader] = {}
_READERS_LOCK = threading.Lock()


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The records of ``run_dir/metrics.jsonl``, oldest first (incremental: one cached reader per file)."""
    path = Path(run_dir) / METRICS_FILE
    with _READERS_LOCK:
        reader = _READERS.setdefault(path, MetricsReader(path))
    return reader.read()


def epoch_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-epoch records (those carrying an ``epoch`` and a ``loss``)."""
    return [r for r in records if r.get("epoch") is not None and r.get("loss") is not None]


def read_output_tail(run_dir: Path, lines: int = 30) -> str:
    """The last ``lines`` lines a background trainer printed (``train.out``), empty if none."""
    path = Path(run_dir) / TRAIN_OUTPUT_FILE
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def read_run_config(folder: Path) -> TrainConfig | None:
    """The :class:`TrainConfig` in a run's ``config.json`` (older files load too); ``None`` when missing or unreadable."""
    data = read_json(Path(folder) / CONFIG_FILE)
    if not isinstance(data, dict):
        return None
    try:
        return TrainConfig.from_dict(data)
    except InputError:
        return None


def _first_number(data: Any, keys: tuple[str, ...], sections: tuple[str, ...]) -> float | None:
    if not isinstance(data, dict):
        return None
    for section in (None, *sections):
        block = data if section is None else data.get(section)
        if isinstance(block, dict):
            for key in keys:
                value = block.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    return float(value)
    return None


def model_test_accuracy(test_results: Any) -> tuple[float | None, float | None]:
    """(top-1, top-5) of the model from a ``test_results.json`` payload, tolerant of its layout."""
    if isinstance(test_results, dict) and isinstance(test_results.get("models"), dict):
        test_results = test_results["models"]  # core.evaluation.evaluate: {"models": {"lstm": {"top1": ...}, "bigram": ...}}
    sections = ("lstm", "model", "metrics", "test")
    top1 = _first_number(test_results, ("top1", "top1_accuracy", "accuracy", "test_accuracy", "test_top1"), sections)
    top5 = _first_number(test_results, ("top5", "top5_accuracy", "test_top5"), sections)
    return (None if top1 != top1 else top1), (None if top5 != top5 else top5)  # NaN (nothing evaluated) -> None


def flatten_numbers(data: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a nested JSON payload, keyed by its dotted path (lists and strings skipped)."""
    numbers: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            numbers.update(flatten_numbers(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        numbers[prefix.rstrip(".")] = float(data)
    return numbers


# --------------------------------------------------------------------------- the phase and the clock


def write_launch(run_dir: Path, launched: float, continues: bool = False) -> None:
    """Start a training session's clock in ``phase.json``: phase ``starting``, launched at ``launched`` (epoch seconds).

    A run that ``continues`` (resumed in a new session) keeps the wall time of its earlier
    sessions (``before``: each session from its launch to the last write of ``metrics.jsonl``),
    so its elapsed time goes on from where it was; a new run starts from 0.
    """
    run_dir = Path(run_dir)
    previous = read_phase(run_dir) if continues else None
    before = _sessions_so_far(run_dir, previous) if previous else 0.0
    write_json_atomic(run_dir / PHASE_FILE, {"phase": "starting", "since": launched, "launched": launched,
                                             "before": round(before, 3)})


def _sessions_so_far(run_dir: Path, phase: dict[str, Any], records: list[dict[str, Any]] = ()) -> float:
    """Wall seconds of the sessions ``phase`` knows, the last one ending at the last write of ``metrics.jsonl``.

    The closing line's own ``time`` counts too (a file's time stamp can trail the clock by a few milliseconds).
    """
    metrics = Path(run_dir) / METRICS_FILE
    end = max([metrics.stat().st_mtime if metrics.exists() else 0.0, _number(phase.get("since")),
               *(_number(r.get("time")) for r in records[-1:])])
    return _number(phase.get("before")) + max(0.0, end - _number(phase.get("launched")))


def write_phase(run_dir: Path, phase: str) -> None:
    """Record that the trainer entered ``phase`` (a key of :data:`PHASES`) now, keeping the session's clock."""
    if phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}")  # a programming error
    now = time.time()
    current = read_phase(run_dir) or {"launched": now, "before": 0.0}
    write_json_atomic(Path(run_dir) / PHASE_FILE, {**current, "phase": phase, "since": now})


def read_phase(run_dir: Path) -> dict[str, Any] | None:
    """``phase.json`` (``phase``, ``since``, ``launched``, ``before``), or ``None`` when missing or unreadable."""
    phase = read_json(Path(run_dir) / PHASE_FILE)
    return phase if isinstance(phase, dict) and isinstance(phase.get("launched"), int | float) else None


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def run_elapsed(run_dir: Path, records: list[dict[str, Any]], live: bool, now: float | None = None,
                session_started: float | None = None) -> float | None:
    """Wall seconds a run has taken: earlier sessions plus this one, from its launch to ``now`` (live) or to its end.

    The end of a session is the last write of ``metrics.jsonl`` (its closing line, or the last
    epoch of a killed run), so the figure shown while a run is live never exceeds the one shown
    when it is over. ``session_started`` (the training lock's start) counts a live session whose
    trainer has not written its launch yet, on top of the earlier ones. Runs without
    ``phase.json`` (written before it existed) give the trainer's last ``elapsed`` figure, or the
    time since ``session_started`` while live; ``None`` when there is neither.
    """
    now = time.time() if now is None else now
    phase = read_phase(run_dir)
    if phase is None:
        elapsed = next((r.get("elapsed") for r in reversed(records) if isinstance(r.get("elapsed"), int | float)), None)
        if live and session_started is not None:
            return max(float(elapsed or 0.0), now - session_started)
        return float(elapsed) if elapsed is not None else None
    launched = _number(phase["launched"])
    if not live:
        return _sessions_so_far(run_dir, phase, records)
    if session_started is not None and launched < session_started - 1.0:  # phase.json is an earlier session's
        return _sessions_so_far(run_dir, phase) + max(0.0, now - session_started)
    return _number(phase.get("before")) + max(0.0, now - launched)


# --------------------------------------------------------------------------- summaries


@dataclass
class RunSummary:
    """One run as the Training page lists it."""

    name: str
    folder: Path
    status: str  # starting, running, stopping, finished, stopped, failed, interrupted
    config: TrainConfig | None = None  # the settings it was trained with (None: no readable config.json)
    epochs_done: int = 0
    epochs_planned: int | None = None
    best_val_loss: float | None = None
    best_val_accuracy: float | None = None
    test_top1: float | None = None
    test_top5: float | None = None
    duration_s: float | None = None
    started: float | None = None
    has_model: bool = False
    reason: str = ""  # why it ended, from the last metrics line ("early stopping", "stop file", an error)


def run_status(folder: Path, records: list[dict[str, Any]], training: bool) -> str:
    """A run's status from its metrics records; ``training``: it holds the training lock now."""
    stop_requested = (folder / STOP_FILE).exists()
    if training:
        return "stopping" if stop_requested else ("running" if records else "starting")
    last = records[-1].get("status") if records else None
    if last in FINAL_STATUSES:
        return str(last)
    if (folder / MODEL_FILE).exists() and not records:
        return "finished"
    return "stopped" if stop_requested else "interrupted"


def folder_started(folder: Path) -> float:
    """When a run folder without a 'started' line began: its oldest file's time.

    Not the folder's own time, which moves whenever a file is added (the inference weights a studio derives on first
    use, say), so an old run would pass for the newest.
    """
    times = [entry.stat().st_mtime for entry in folder.iterdir() if entry.is_file()]
    return min(times, default=folder.stat().st_mtime)


def summarize_run(folder: Path, training: bool = False) -> RunSummary:
    """Everything the page lists about one run folder (missing files give ``None`` fields).

    ``training`` says the run holds the training lock now (see :func:`core.training.runs.current_training`).
    """
    folder = Path(folder)
    records = read_metrics(folder)
    epochs = epoch_records(records)
    config = read_run_config(folder)
    val_losses = [float(r["val_loss"]) for r in epochs if isinstance(r.get("val_loss"), int | float)]
    history = read_json(folder / HISTORY_FILE)
    if not val_losses and isinstance(history, dict) and isinstance(history.get("val_loss"), list):
        val_losses = [float(v) for v in history["val_loss"] if isinstance(v, int | float)]
    val_accs = [float(r["val_accuracy"]) for r in epochs if isinstance(r.get("val_accuracy"), int | float)]
    planned = next((r.get("epochs_planned") for r in reversed(records) if r.get("epochs_planned")), None)
    planned = planned or (config.epochs if config is not None else None)
    status = run_status(folder, records, training)
    elapsed = run_elapsed(folder, records, live=status in LIVE_STATUSES)
    top1, top5 = model_test_accuracy(read_json(folder / TEST_RESULTS_FILE))
    started = records[0].get("time") if records and isinstance(records[0].get("time"), int | float) else None
    return RunSummary(
        name=folder.name,
        folder=folder,
        status=status,
        config=config,
        reason=str(records[-1].get("reason", "")) if records else "",
        epochs_done=len(epochs),
        epochs_planned=int(planned) if planned else None,
        best_val_loss=min(val_losses) if val_losses else None,
        best_val_accuracy=max(val_accs) if val_accs else None,
        test_top1=top1,
        test_top5=top5,
        duration_s=elapsed,
        started=float(started) if started is not None else folder_started(folder),
        has_model=(folder / MODEL_FILE).exists(),
    )


def summarize_runs(root: Path, training_run: str | None = None) -> list[RunSummary]:
    """Every run folder under ``root``, newest first; ``training_run`` names the one holding the lock now."""
    root = Path(root)
    if not root.is_dir():
        return []
    summaries = [summarize_run(folder, folder.name == training_run) for folder in root.iterdir() if folder.is_dir()]
    return sorted(summaries, key=lambda run: (run.started or 0.0, run.name), reverse=True)
