"""A run folder read back: its metrics as they grow, its phase and clock, and run summaries.

The file names and the atomic writes are the contract in :mod:`core.run_files`; this module
reads a run folder the way the studio's Training page, the command line and the benchmarks see
it — the metrics stream (read incrementally and tolerantly), what the trainer is doing now, how
long it has run, and a one-row summary per run. Light on purpose (no TensorFlow, no pandas): the
Training page polls runs through it.
"""

from __future__ import annotations

import json
import math
import stat as stat_module
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import MAX_METRICS_BYTES, TrainConfig
from core.errors import EnvironmentFault, InputError
from core.run_files import (
    CONFIG_FILE,
    FINAL_STATUSES,
    HISTORY_FILE,
    LIVE_STATUSES,
    METRICS_FILE,
    MODEL_FILE,
    PHASE_FILE,
    PHASES,
    STOP_FILE,
    TEST_RESULTS_FILE,
    TRAIN_OUTPUT_FILE,
    read_json,
    write_json_atomic,
)


class MetricsReader:
    """Reads a growing ``metrics.jsonl`` incrementally.

    Only complete lines are consumed: a partial last line (the trainer mid-write) is left for the
    next call. A file that shrank or was replaced is read again from the start. Lines that are not
    JSON objects, or that hold a number no float can (``1e400``, ``NaN``, a 400-digit integer), are
    skipped. A folder or other non-file in its place is an :class:`EnvironmentFault` naming it.
    Safe to share between threads (Streamlit sessions).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.records: list[dict[str, Any]] = []
        self._offset = 0
        self._identity: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self.skipped = 0  # lines skipped so far (not a JSON object, or a number out of range)

    def read(self) -> list[dict[str, Any]]:
        """Every complete record so far (a copy), after reading what was appended since last time."""
        with self._lock:
            try:
                stat = self.path.stat()
            except FileNotFoundError:
                self.records, self._offset, self._identity = [], 0, None
                return []
            if not stat_module.S_ISREG(stat.st_mode):
                self.records, self._offset, self._identity = [], 0, None
                raise EnvironmentFault(f"the metrics file {self.path} is not a file (a folder stands in its place)")
            if stat.st_size > MAX_METRICS_BYTES:  # a real run writes a few hundred bytes an epoch
                raise EnvironmentFault(f"the metrics file {self.path} holds {stat.st_size:,} bytes; at most "
                                       f"{MAX_METRICS_BYTES:,} are read")
            identity = (stat.st_dev, stat.st_ino)
            if identity != self._identity or stat.st_size < self._offset:
                self.records, self._offset, self._identity, self.skipped = [], 0, identity, 0
            if stat.st_size > self._offset:
                with self.path.open("rb") as handle:
                    handle.seek(self._offset)
                    chunk = handle.read(stat.st_size - self._offset)
                complete = chunk[: chunk.rfind(b"\n") + 1]
                self._offset += len(complete)
                for line in complete.splitlines():
                    try:
                        record = json.loads(line, parse_float=_finite_float, parse_int=_bounded_int,
                                            parse_constant=_no_constant)
                    except (ValueError, RecursionError):
                        self.skipped += 1
                        continue
                    if isinstance(record, dict):
                        self.records.append(record)
                    else:
                        self.skipped += 1
            return list(self.records)


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is out of range")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:
        raise ValueError(f"{text[:20]}… is out of range")
    return int(text)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not a number")


_READERS: dict[Path, MetricsReader] = {}
_READERS_LOCK = threading.Lock()


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The records of ``run_dir/metrics.jsonl``, oldest first (incremental: one cached reader per file)."""
    path = Path(run_dir) / METRICS_FILE
    with _READERS_LOCK:
        reader = _READERS.setdefault(path, MetricsReader(path))
    return reader.read()


def metrics_problem(run_dir: Path) -> str | None:
    """One line naming ``run_dir/metrics.jsonl`` when lines of it were skipped (read it first); ``None``: none were."""
    path = Path(run_dir) / METRICS_FILE
    with _READERS_LOCK:
        reader = _READERS.get(path)
    if reader is None or not reader.skipped:
        return None
    lines = "1 line" if reader.skipped == 1 else f"{reader.skipped} lines"
    return f"{lines} of {path} skipped: not a JSON record, or a number out of range"


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
    current.pop("done", None)  # a new phase starts with nothing of it done
    write_json_atomic(Path(run_dir) / PHASE_FILE, {**current, "phase": phase, "since": now})


def write_phase_progress(run_dir: Path, done: float) -> None:
    """Record the share (0 to 1) of the current phase done, for its ETA (:func:`phase_time_left`)."""
    current = read_phase(run_dir)
    if current is not None:
        write_json_atomic(Path(run_dir) / PHASE_FILE, {**current, "done": round(min(max(done, 0.0), 1.0), 4)})


def phase_time_left(run_dir: Path, now: float) -> float | None:
    """Seconds the current phase has left at its pace so far (time in it x share left / share done); ``None`` before
    any of it is reported done."""
    phase = read_phase(run_dir)
    done = phase.get("done") if phase else None
    if not isinstance(done, int | float) or done <= 0 or not isinstance(phase.get("since"), int | float):
        return None
    return max(0.0, (now - float(phase["since"])) * (1.0 - done) / done)


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

    ``training`` says the run holds the training lock now (see :func:`core.training.lock.current_training`).
    """
    folder = Path(folder)
    try:
        records = read_metrics(folder)
    except EnvironmentFault as fault:  # one damaged run is one line in the table, never the whole page's failure
        return RunSummary(name=folder.name, folder=folder, status="failed", reason=str(fault),
                          started=folder_started(folder), has_model=(folder / MODEL_FILE).exists())
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
        reason=(str(records[-1].get("reason", "")) if records else "") or metrics_problem(folder) or "",
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
