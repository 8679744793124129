"""Training runs as the Training page sees them: list, start, follow, stop, choose.

A run is a folder ``output/runs/<name>/`` written by ``python -m core train`` (see
:mod:`core.training.train`). This module never trains in-process: :func:`start_training` launches the
command line as a background process in its own session, its output going to
``<run>/train.out``, so a training survives a page reload, a second browser tab and even a
restart of the studio. Everything the page shows is read back from the run folder and from one
machine-wide lock file, ``output/training.lock`` (JSON: pid, run, started), which allows a
single training at a time; a lock whose process is gone is stale and is removed on sight.

Stopping is cooperative first: :func:`stop_training` writes ``<run>/STOP`` (the trainer's
callback ends the epoch and writes its ``stopped`` line); a process still alive after a grace
period gets SIGINT, SIGTERM, then SIGKILL, on its whole process group.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core import paths
from core.errors import InputError

#: Hyper-parameters the Training form offers, with the trainer's defaults (see the model guide).
FORM_DEFAULTS: dict[str, Any] = {
    "batch_size": 32,
    "epochs": 50,
    "lr": 0.001,
    "lstm_units": 256,
    "embedding_dim": 128,
    "dropout": 0.3,
    "layers": 2,
    "cell": "lstm",
    "attention": False,
    "augment": True,
    "max_epochs_minutes": 0.0,  # 0: no time budget
    "max_train_windows": 0,  # 0: every training window
    "seed": 42,
    "run_name": "",  # empty: a time-stamped name
}
CELLS: tuple[str, ...] = ("lstm", "gru")
#: Statuses a metrics line can end a run with.
FINAL_STATUSES: tuple[str, ...] = ("finished", "stopped", "failed")
#: Seconds between the STOP file and SIGTERM when the trainer does not stop by itself.
STOP_GRACE_SECONDS = 60.0
_RUN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def runs_dir() -> Path:
    """The folder holding every run (``CHORDSMITH_OUTPUT``/runs)."""
    return paths.RUNS_DIR


def lock_path() -> Path:
    """The machine-wide single-training lock file."""
    return paths.OUTPUT_DIR / "training.lock"


def run_dir(run_name: str) -> Path:
    """The folder of one run; :class:`InputError` if the name is not a plain folder name."""
    if not _RUN_NAME_RE.match(run_name or ""):
        raise InputError(
            f"run name {run_name!r} is not usable: use letters, digits, '.', '_' or '-' (at most 64, no spaces)"
        )
    return runs_dir() / run_name


def existing_run_dir(run_name: str) -> Path:
    """The folder of a run that exists; :class:`InputError` naming the run otherwise."""
    folder = run_dir(run_name)
    if not folder.is_dir():
        raise InputError(f"no run named {run_name!r} in {runs_dir()} (it may have been deleted)")
    return folder


# --------------------------------------------------------------------------- form values


def _number(config: Mapping[str, Any], key: str, kind: type) -> Any:
    value = config.get(key, FORM_DEFAULTS[key])
    if value is None or value == "":
        value = FORM_DEFAULTS[key]
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{key.replace('_', ' ')} must be a number, got {value!r}") from None
    if kind is int and float(value) != number:
        raise InputError(f"{key.replace('_', ' ')} must be a whole number, got {value!r}")
    return number


def validate_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Check the Training form's values; returns them complete (defaults filled in) and typed.

    Raises :class:`InputError` with a message meant for the form: 0 epochs, a learning rate
    outside (0, 1), a batch below 1, a dropout outside [0, 1), an unknown cell, a bad or taken
    run name. Unknown keys are rejected too, so a typo never silently trains the default.
    """
    unknown = sorted(set(config) - set(FORM_DEFAULTS))
    if unknown:
        raise InputError(f"unknown training setting(s): {', '.join(unknown)}; accepted: {', '.join(FORM_DEFAULTS)}")
    values: dict[str, Any] = {
        "batch_size": _number(config, "batch_size", int),
        "epochs": _number(config, "epochs", int),
        "lr": _number(config, "lr", float),
        "lstm_units": _number(config, "lstm_units", int),
        "embedding_dim": _number(config, "embedding_dim", int),
        "dropout": _number(config, "dropout", float),
        "layers": _number(config, "layers", int),
        "max_epochs_minutes": _number(config, "max_epochs_minutes", float),
        "max_train_windows": _number(config, "max_train_windows", int),
        "seed": _number(config, "seed", int),
        "cell": str(config.get("cell") or FORM_DEFAULTS["cell"]).lower(),
        "attention": bool(config.get("attention", FORM_DEFAULTS["attention"])),
        "augment": bool(config.get("augment", FORM_DEFAULTS["augment"])),
        "run_name": str(config.get("run_name") or "").strip(),
    }
    if values["epochs"] < 1:
        raise InputError(f"epochs must be at least 1, got {values['epochs']}")
    if values["epochs"] > 10_000:
        raise InputError(f"epochs must be at most 10000, got {values['epochs']}")
    if not 0 < values["lr"] < 1:
        raise InputError(f"learning rate must be above 0 and below 1 (typical: 0.0005 to 0.005), got {values['lr']:g}")
    if values["batch_size"] < 1:
        raise InputError(f"batch size must be at least 1, got {values['batch_size']}")
    if values["batch_size"] > 8192:
        raise InputError(f"batch size must be at most 8192, got {values['batch_size']}")
    for key, low, high in (("lstm_units", 1, 4096), ("embedding_dim", 1, 2048), ("layers", 1, 8)):
        if not low <= values[key] <= high:
            raise InputError(f"{key.replace('_', ' ')} must be between {low} and {high}, got {values[key]}")
    if not 0 <= values["dropout"] < 1:
        raise InputError(f"dropout must be at least 0 and below 1, got {values['dropout']:g}")
    if values["cell"] not in CELLS:
        raise InputError(f"unknown cell {values['cell']!r}; accepted: {', '.join(CELLS)}")
    if values["max_epochs_minutes"] < 0:
        raise InputError(f"time budget must be 0 (none) or more minutes, got {values['max_epochs_minutes']:g}")
    if values["max_train_windows"] < 0:
        raise InputError(f"train-window slice must be 0 (all) or more windows, got {values['max_train_windows']}")
    if values["run_name"]:
        if run_dir(values["run_name"]).exists():
            raise InputError(f"a run named {values['run_name']!r} already exists; choose another name or leave it empty")
    return values


def new_run_name(now: float | None = None) -> str:
    """A fresh time-stamped run name such as ``run-20250101-120000`` (suffixed if taken)."""
    base = time.strftime("run-%Y%m%d-%H%M%S", time.localtime(now))
    name, n = base, 1
    while (runs_dir() / name).exists():
        n += 1
        name = f"{base}-{n}"
    return name


def train_arguments(values: Mapping[str, Any]) -> list[str]:
    """``python -m core train`` flags for validated form values (see :func:`validate_config`)."""
    args = [
        "--batch-size", str(values["batch_size"]),
        "--epochs", str(values["epochs"]),
        "--lr", repr(float(values["lr"])),
        "--lstm-units", str(values["lstm_units"]),
        "--embedding-dim", str(values["embedding_dim"]),
        "--dropout", repr(float(values["dropout"])),
        "--layers", str(values["layers"]),
        "--cell", values["cell"],
        "--seed", str(values["seed"]),
        "--run-name", values["run_name"],
    ]
    if values["attention"]:
        args.append("--attention")
    if not values["augment"]:
        args.append("--no-augment")
    if values["max_epochs_minutes"] > 0:
        args += ["--max-epochs-minutes", repr(float(values["max_epochs_minutes"]))]
    if values["max_train_windows"] > 0:
        args += ["--max-train-windows", str(values["max_train_windows"])]
    return args


def train_command(values: Mapping[str, Any]) -> list[str]:
    """The full command line :func:`start_training` runs for validated form values."""
    return [sys.executable, "-m", "core", "train", *train_arguments(values)]


# --------------------------------------------------------------------------- metrics.jsonl


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


def read_metrics(folder: Path) -> list[dict[str, Any]]:
    """The records of ``folder/metrics.jsonl`` (incremental: one cached reader per file)."""
    path = Path(folder) / "metrics.jsonl"
    with _READERS_LOCK:
        reader = _READERS.setdefault(path, MetricsReader(path))
    return reader.read()


def epoch_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The per-epoch records (those carrying an ``epoch`` and a ``loss``)."""
    return [r for r in records if r.get("epoch") is not None and r.get("loss") is not None]


# --------------------------------------------------------------------------- the lock


@dataclass(frozen=True)
class TrainingLock:
    """The training that holds the machine: its process id, run name and start time."""

    pid: int
    run: str
    started: float


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs (not a zombie); reaps it if it is our own finished child."""
    if pid <= 0:
        return False
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass  # not our child: ask the system
    except OSError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat[stat.rfind(")") + 2] not in "ZX"
    except OSError:
        return True


def _read_lock() -> TrainingLock | None:
    try:
        data = json.loads(lock_path().read_text(encoding="utf-8"))
        return TrainingLock(int(data["pid"]), str(data["run"]), float(data.get("started", 0.0)))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, OSError):
        return TrainingLock(-1, "?", 0.0)  # unreadable: treated as stale


def current_training() -> TrainingLock | None:
    """The training holding the lock, or ``None``; a stale lock (dead process) is removed.

    Also enforces a pending stop: a run whose STOP file is older than the grace period and
    whose process still lives is terminated here, so a stop survives the page that asked for it.
    """
    lock = _read_lock()
    if lock is None:
        return None
    if not pid_alive(lock.pid):
        _remove_lock(lock)
        return None
    stop_file = runs_dir() / lock.run / "STOP"
    if stop_file.exists() and time.time() - stop_file.stat().st_mtime > STOP_GRACE_SECONDS:
        _terminate(lock.pid)
        if not pid_alive(lock.pid):
            _remove_lock(lock)
            return None
    return lock


def _remove_lock(expected: TrainingLock) -> None:
    """Remove the lock file if it still names ``expected`` (another start may have replaced it)."""
    if _read_lock() == expected:
        lock_path().unlink(missing_ok=True)


def _write_lock(lock: TrainingLock, exclusive: bool) -> bool:
    text = json.dumps({"pid": lock.pid, "run": lock.run, "started": lock.started})
    lock_path().parent.mkdir(parents=True, exist_ok=True)
    if exclusive:
        try:
            fd = os.open(lock_path(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        return True
    tmp = lock_path().with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(lock_path())
    return True


def _terminate(pid: int, wait_s: float = 5.0) -> None:
    """SIGINT the process group of ``pid`` (the trainer logs 'stopped'), then SIGTERM, then SIGKILL, ``wait_s`` apart."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                return
        deadline = time.time() + wait_s
        while time.time() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.1)


# --------------------------------------------------------------------------- start / stop


#: Children started by this process, kept so they can be reaped (no zombie, no ResourceWarning).
_CHILDREN: dict[str, subprocess.Popen] = {}


def start_training(config: Mapping[str, Any]) -> str:
    """Validate the form values and launch ``python -m core train`` in the background; returns the run name.

    The child runs in its own session (it outlives the page and the studio), writes to
    ``<run>/train.out`` and inherits ``CHORDSMITH_OUTPUT`` so it writes where this process reads.
    Raises :class:`InputError` for bad values or when another training holds the lock (naming it).
    """
    values = validate_config(config)
    busy = current_training()
    if busy is not None:
        raise InputError(f"a training is already running: {busy.run!r} (pid {busy.pid}); stop it or wait for it to finish")
    values["run_name"] = values["run_name"] or new_run_name()
    name = values["run_name"]
    placeholder = TrainingLock(os.getpid(), name, time.time())
    if not _write_lock(placeholder, exclusive=True):
        busy = current_training()
        raise InputError(f"a training is already running: {busy.run if busy else 'another run'!r}; try again when it ends")
    try:
        folder = run_dir(name)
        folder.mkdir(parents=True, exist_ok=False)
        env = dict(os.environ, CHORDSMITH_OUTPUT=str(paths.OUTPUT_DIR), PYTHONUNBUFFERED="1")
        command = train_command(values)
        (folder / "command.txt").write_text(shlex.join(command) + "\n", encoding="utf-8")
        with (folder / "train.out").open("ab") as out:
            child = subprocess.Popen(
                command, cwd=paths.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
    except BaseException:
        _remove_lock(placeholder)
        raise
    _CHILDREN[name] = child
    _write_lock(TrainingLock(child.pid, name, placeholder.started), exclusive=False)
    return name


def stop_training(run_name: str, grace_s: float = STOP_GRACE_SECONDS) -> None:
    """Ask a run to stop: write its STOP file; interrupt its process group if it still runs after ``grace_s``.

    Returns at once; the kill happens on a timer thread (and, should this process end first,
    the next :func:`current_training` call does it). Stopping a run that is not running is an
    :class:`InputError`.
    """
    folder = existing_run_dir(run_name)
    lock = current_training()
    if lock is None or lock.run != run_name:
        raise InputError(f"run {run_name!r} is not running")
    (folder / "STOP").write_text(f"stop requested at {time.strftime('%Y-%m-%d %H:%M:%S')}\n", encoding="utf-8")

    def kill_if_still_running() -> None:
        if _read_lock() == lock and pid_alive(lock.pid):
            _terminate(lock.pid)
        if not pid_alive(lock.pid):
            _remove_lock(lock)

    timer = threading.Timer(max(grace_s, 0.0), kill_if_still_running)
    timer.daemon = True
    timer.start()


# --------------------------------------------------------------------------- run summaries


@dataclass
class RunSummary:
    """One run as the Training page lists it."""

    name: str
    folder: Path
    status: str  # running, finished, stopped, failed, interrupted, starting
    config: dict[str, Any] = field(default_factory=dict)
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


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
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


def _status(name: str, records: list[dict[str, Any]], lock: TrainingLock | None, folder: Path) -> str:
    if lock is not None and lock.run == name:
        return "stopping" if (folder / "STOP").exists() else ("running" if records else "starting")
    last = records[-1].get("status") if records else None
    if last in FINAL_STATUSES:
        return str(last)
    if (folder / "model.keras").exists() and not records:
        return "finished"
    return "stopped" if (folder / "STOP").exists() else "interrupted"


def flat_config(config_json: Any) -> dict[str, Any]:
    """A run's ``config.json`` as one flat dict: the ``train`` settings with the ``model`` ones merged in."""
    if not isinstance(config_json, dict):
        return {}
    train = config_json.get("train", config_json)
    if not isinstance(train, dict):
        return {}
    flat = {k: v for k, v in train.items() if k != "model"}
    if isinstance(train.get("model"), dict):
        flat.update(train["model"])
    return flat


def summarize_run(folder: Path, lock: TrainingLock | None = None) -> RunSummary:
    """Everything the page lists about one run folder (missing files give ``None`` fields)."""
    folder = Path(folder)
    records = read_metrics(folder)
    epochs = epoch_records(records)
    config = flat_config(_read_json(folder / "config.json"))
    val_losses = [float(r["val_loss"]) for r in epochs if isinstance(r.get("val_loss"), int | float)]
    history = _read_json(folder / "history.json")
    if not val_losses and isinstance(history, dict) and isinstance(history.get("val_loss"), list):
        val_losses = [float(v) for v in history["val_loss"] if isinstance(v, int | float)]
    val_accs = [float(r["val_accuracy"]) for r in epochs if isinstance(r.get("val_accuracy"), int | float)]
    planned = next((r.get("epochs_planned") for r in reversed(records) if r.get("epochs_planned")), None)
    planned = planned or config.get("epochs")
    elapsed = next((r.get("elapsed") for r in reversed(records) if isinstance(r.get("elapsed"), int | float)), None)
    top1, top5 = model_test_accuracy(_read_json(folder / "test_results.json"))
    started = records[0].get("time") if records and isinstance(records[0].get("time"), int | float) else None
    return RunSummary(
        name=folder.name,
        folder=folder,
        status=_status(folder.name, records, lock, folder),
        config=config,
        reason=str(records[-1].get("reason", "")) if records else "",
        epochs_done=len(epochs),
        epochs_planned=int(planned) if planned else None,
        best_val_loss=min(val_losses) if val_losses else None,
        best_val_accuracy=max(val_accs) if val_accs else None,
        test_top1=top1,
        test_top5=top5,
        duration_s=float(elapsed) if elapsed is not None else None,
        started=float(started) if started is not None else folder.stat().st_mtime,
        has_model=(folder / "model.keras").exists(),
    )


def list_runs() -> list[RunSummary]:
    """Every run folder under ``output/runs``, newest first."""
    if not runs_dir().is_dir():
        return []
    lock = current_training()
    runs = [summarize_run(folder, lock) for folder in runs_dir().iterdir() if folder.is_dir()]
    return sorted(runs, key=lambda run: (run.started or 0.0, run.name), reverse=True)


# --------------------------------------------------------------------------- progress


@dataclass(frozen=True)
class RunProgress:
    """Where a run stands: for the progress bar, the epoch counter and the curves."""

    run: str
    status: str
    epoch: int
    epochs_planned: int | None
    elapsed_s: float
    eta_s: float | None
    records: list[dict[str, Any]]

    @property
    def fraction(self) -> float:
        """Share of the planned epochs done, 0..1 (1 once the run ended)."""
        if self.status in FINAL_STATUSES:
            return 1.0
        if not self.epochs_planned:
            return 0.0
        return min(1.0, self.epoch / self.epochs_planned)


def run_progress(run_name: str, now: float | None = None) -> RunProgress:
    """Epoch, epochs planned, elapsed time and ETA of a run, from its folder and the lock.

    The ETA is the mean epoch time times the epochs left, capped by what is left of the run's
    time budget (``max_minutes`` in its config); ``None`` before the first epoch ends or
    once the run is over.
    """
    folder = existing_run_dir(run_name)
    lock = current_training()
    summary = summarize_run(folder, lock)
    records = read_metrics(folder)
    epochs = epoch_records(records)
    now = time.time() if now is None else now
    live = summary.status in ("running", "starting", "stopping")
    elapsed = summary.duration_s or 0.0
    if live:
        started = lock.started if lock is not None and lock.run == run_name else None
        if started:
            elapsed = max(elapsed, now - started)
    eta: float | None = None
    if live and epochs and summary.epochs_planned:
        seconds = [float(r["seconds"]) for r in epochs if isinstance(r.get("seconds"), int | float)]
        per_epoch = sum(seconds) / len(seconds) if seconds else elapsed / len(epochs)
        eta = max(0.0, per_epoch * (summary.epochs_planned - len(epochs)))
        budget = summary.config.get("max_minutes")
        if isinstance(budget, int | float) and budget > 0:
            eta = min(eta, max(0.0, budget * 60 - elapsed))
    return RunProgress(run_name, summary.status, len(epochs), summary.epochs_planned, elapsed, eta, records)


# --------------------------------------------------------------------------- choosing a run


def set_active(run_name: str) -> Path:
    """Make a finished run the studio's active model; returns its folder."""
    folder = existing_run_dir(run_name)
    if not (folder / "model.keras").exists():
        raise InputError(f"run {run_name!r} has no model.keras yet (it has not finished)")
    paths.set_active_model_dir(folder)
    return folder


def active_run_name() -> str | None:
    """Name of the run in use as the active model, or ``None`` when it is ``models/default``."""
    active = paths.active_model_dir().resolve()
    return active.name if active.parent == runs_dir().resolve() else None


def tensorboard_command(run_name: str) -> str:
    """The shell command that opens TensorBoard on a run's logs."""
    folder = run_dir(run_name)
    return f"tensorboard --logdir {shlex.quote(str(folder / 'logs'))}"


def format_duration(seconds: float | None) -> str:
    """``1h 02m``, ``3m 05s`` or ``42s``; an em dash for ``None``."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


# --------------------------------------------------------------------------- the model in use


@dataclass(frozen=True)
class ModelInUse:
    """The active model as the Home page shows it."""

    folder: Path
    label: str  # "run <name>" or "models/default"
    exists: bool  # model.keras is there
    test_top1: float | None
    test_top5: float | None
    test_metrics: dict[str, float]  # the models' test figures, flattened ("lstm.top1": 0.41, "bigram.perplexity": 12.0)


def flatten_numbers(data: Any, prefix: str = "") -> dict[str, float]:
    """Every number in a nested JSON payload, keyed by its dotted path (lists and strings skipped)."""
    numbers: dict[str, float] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            numbers.update(flatten_numbers(value, f"{prefix}{key}."))
    elif isinstance(data, int | float) and not isinstance(data, bool):
        numbers[prefix.rstrip(".")] = float(data)
    return numbers


def model_in_use() -> ModelInUse:
    """The active model (a run chosen on the Training page, else ``models/default``) with its test results."""
    folder = paths.active_model_dir()
    run_name = active_run_name()
    label = f"run {run_name}" if run_name else (
        "models/default" if folder.resolve() == paths.DEFAULT_MODEL_DIR.resolve() else str(folder)
    )
    results = _read_json(folder / "test_results.json")
    top1, top5 = model_test_accuracy(results)
    headline = results["models"] if isinstance(results, dict) and isinstance(results.get("models"), dict) else results
    return ModelInUse(folder, label, (folder / "model.keras").exists(), top1, top5, flatten_numbers(headline))


def runs_frame(summaries: list[RunSummary]) -> pd.DataFrame:
    """The runs as a table for the page: name, status, epochs, best val loss, test top-1/top-5, duration, settings."""
    rows = []
    for run in summaries:
        config = run.config
        rows.append({
            "run": run.name,
            "status": run.status,
            "epochs": f"{run.epochs_done}/{run.epochs_planned}" if run.epochs_planned else str(run.epochs_done),
            "best val loss": run.best_val_loss,
            "test top-1": run.test_top1,
            "test top-5": run.test_top5,
            "duration": format_duration(run.duration_s),
            "started": time.strftime("%Y-%m-%d %H:%M", time.localtime(run.started)) if run.started else "",
            "settings": ", ".join(f"{label} {config[key]}" for key, label in _SETTING_LABELS if key in config),
            "ended because": run.reason,
        })
    return pd.DataFrame(rows, columns=["run", "status", "epochs", "best val loss", "test top-1", "test top-5", "duration",
                                       "started", "settings", "ended because"])


_SETTING_LABELS: tuple[tuple[str, str], ...] = (
    ("cell", "cell"), ("lstm_layers", "layers"), ("lstm_units", "units"), ("embedding_dim", "emb"),
    ("dropout", "dropout"), ("attention", "attention"), ("lr", "lr"), ("batch_size", "batch"), ("augment", "augment"),
    ("max_train_windows", "windows"),
)


# --------------------------------------------------------------------------- what the page follows


def run_to_follow(requested: str | None = None) -> str | None:
    """The run the live panel shows: the one training now, else ``requested`` if it exists, else the newest."""
    lock = current_training()
    if lock is not None:
        return lock.run
    if requested and _RUN_NAME_RE.match(requested) and (runs_dir() / requested).is_dir():
        return requested
    listed = list_runs()
    return listed[0].name if listed else None


def metrics_by_run(run_names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per-epoch records of several runs (for the comparison chart); :class:`InputError` for a missing run."""
    return {name: epoch_records(read_metrics(existing_run_dir(name))) for name in run_names}


def train_output_tail(run_name: str, lines: int = 30) -> str:
    """The last ``lines`` lines the trainer printed (``train.out``), empty if none."""
    path = existing_run_dir(run_name) / "train.out"
    if not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])
