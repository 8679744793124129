"""Training runs as the studio drives them: start, stop, the single-training lock, follow, choose the active model.

A run is a folder ``output/runs/<name>/`` written by ``python -m core train`` (see
:mod:`core.training.train`; its files: :mod:`core.training.run_folder`). This module never trains
in-process: :func:`start_training` launches the command line as a background process in its own
session, its output going to ``<run>/train.out``, so a training survives a page reload, a second
browser tab and even a restart of the studio.

One training at a time, machine-wide: every training (started here, by ``python -m core train``
or by ``python -m bench.variants``) holds ``output/training.lock`` with ``fcntl.flock`` on an open
descriptor for its whole life (:func:`training_lock`). The kernel releases it when the holder ends
in any way (even ``kill -9``), so a dead holder never blocks the next start and nothing decides
staleness from a process id or from the file's content; the file only says who holds the lock
(JSON: pid, run, started) and is removed on a clean release. The studio takes the lock itself
before it launches the trainer and hands the open descriptor down to it
(:data:`LOCK_FD_ENV`), so there is no moment at which a second start could slip in.

Reading is read-only: :func:`current_training`, polled by the Training page every 2 s, neither
deletes files nor signals processes. Stopping is cooperative first: :func:`stop_training`
writes ``<run>/STOP`` (the trainer's callback ends the epoch and writes its ``stopped`` line); a
process still alive after a grace period gets SIGINT, SIGTERM, then SIGKILL, on its whole process
group. A stop whose grace has passed while no studio was there to enforce it is enforced by the
next explicit step: pressing Stop again, or starting another run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from core import paths
from core.config import RUN_NAME_PATTERN, SETTINGS, TrainConfig
from core.errors import InputError
from core.run_files import (
    COMMAND_FILE,
    CONFIG_FILE,
    FINAL_STATUSES,
    LIVE_STATUSES,
    MODEL_FILE,
    PHASES,
    RESUME_STATE_FILE,
    STOP_FILE,
    TEST_RESULTS_FILE,
    TRAIN_OUTPUT_FILE,
    TRAINING_LOCK_FILE,
    read_json,
    request_stop,
    write_json_atomic,
)
from core.training.run_folder import (
    RunSummary,
    epoch_records,
    flatten_numbers,
    model_test_accuracy,
    read_metrics,
    read_output_tail,
    read_phase,
    run_elapsed,
    summarize_run,
    summarize_runs,
)

#: Seconds between the STOP file and SIGTERM when the trainer does not stop by itself.
STOP_GRACE_SECONDS = 60.0
#: Environment variable naming the inherited descriptor through which a launcher hands its held lock to the trainer.
LOCK_FD_ENV = "CHORDSMITH_TRAINING_LOCK_FD"
#: How long a start retries a lock it finds taken: :func:`current_training` probes it for microseconds at a time.
_PROBE_RETRY_S = 0.5


def runs_dir() -> Path:
    """The folder holding every run (``CHORDSMITH_OUTPUT``/runs)."""
    return paths.RUNS_DIR


def lock_path() -> Path:
    """The machine-wide single-training lock file."""
    return paths.OUTPUT_DIR / TRAINING_LOCK_FILE


def run_dir(run_name: str) -> Path:
    """The folder of one run; :class:`InputError` if the name is not a plain folder name."""
    if not RUN_NAME_PATTERN.match(run_name or ""):
        raise InputError(f"run name {run_name!r} is not usable: use {SETTINGS['run_name'].pattern_help}")
    return runs_dir() / run_name


def existing_run_dir(run_name: str) -> Path:
    """The folder of a run that exists; :class:`InputError` naming the run otherwise."""
    folder = run_dir(run_name)
    if not folder.is_dir():
        raise InputError(f"no run named {run_name!r} in {runs_dir()} (it may have been deleted)")
    return folder


# --------------------------------------------------------------------------- the trainer's command


def new_run_name(now: float | None = None) -> str:
    """A fresh time-stamped run name such as ``run-20250101-120000`` (suffixed if taken)."""
    return paths.stamped_name("run", runs_dir(), now)


def train_command(config_path: Path) -> list[str]:
    """The command line :func:`start_training` runs: ``python -m core train --config PATH``."""
    return [sys.executable, "-m", "core", "train", "--config", str(config_path)]


# --------------------------------------------------------------------------- the lock


@dataclass(frozen=True)
class TrainingLock:
    """The training that holds the machine: its process id, run name and start time (epoch seconds)."""

    pid: int
    run: str
    started: float

    def describe(self) -> str:
        """``run 'X' (pid N, started 2025-01-01 12:00:00)``, for messages."""
        if not self.run:
            return "another process (it is writing the lock file)"
        return f"run {self.run!r} (pid {self.pid}, started {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(self.started))})"


class TrainingBusy(InputError):
    """A start refused because another training holds the lock; ``holder`` is that training (``None``: it just ended)."""

    def __init__(self, holder: TrainingLock | None) -> None:
        self.holder = holder
        who = holder.describe() if holder is not None else "another run (it has just ended: try again)"
        super().__init__(f"a training is already running: {who}; stop it or wait for it to finish")


def _same_file(fd: int, path: Path) -> bool:
    """Whether the open descriptor ``fd`` is the file at ``path`` now (not one removed or replaced since)."""
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(fd)
    return (opened.st_dev, opened.st_ino) == (named.st_dev, named.st_ino)


def _parse_holder(raw: bytes) -> TrainingLock | None:
    try:
        data = json.loads(raw)
        return TrainingLock(int(data["pid"]), str(data["run"]), float(data["started"]))
    except (ValueError, KeyError, TypeError):
        return None


def _read_holder(fd: int) -> TrainingLock:
    """Who holds the lock, from the file of a lock seen held; retried briefly while empty or half-written.

    Content never decides whether the lock is held (the flock does): a file caught mid-write is
    reported as held by a process that has not written its name yet.
    """
    deadline = time.monotonic() + _PROBE_RETRY_S
    while True:
        holder = _parse_holder(os.pread(fd, 4096, 0))
        if holder is not None:
            return holder
        if time.monotonic() >= deadline:
            return TrainingLock(0, "", 0.0)
        time.sleep(0.01)


def current_training() -> TrainingLock | None:
    """The training holding the lock now, or ``None``. Read-only: removes nothing, signals nothing.

    Held means some process holds the flock; a file left by a trainer that was killed is not held
    (and is taken over by the next start). Probing takes a shared lock for a few microseconds,
    which an acquirer rides out (:data:`_PROBE_RETRY_S`).
    """
    path = lock_path()
    while True:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _read_holder(fd)
            if _same_file(fd, path):
                return None
        finally:
            os.close(fd)  # also lets go of the probe's shared lock


class HeldTrainingLock:
    """The training lock held by this process through an open descriptor, until :meth:`release` or the process ends."""

    def __init__(self, fd: int, holder: TrainingLock) -> None:
        self._fd: int | None = fd
        self.holder = holder

    @property
    def fd(self) -> int:
        """The open descriptor the lock is held on."""
        if self._fd is None:
            raise RuntimeError("the training lock is no longer held here")
        return self._fd

    def record(self, holder: TrainingLock) -> None:
        """Write who holds the lock into its file (in place: the lock belongs to the open file, not to its name)."""
        data = json.dumps(asdict(holder)).encode("utf-8")
        os.pwrite(self.fd, data, 0)
        os.ftruncate(self.fd, len(data))
        self.holder = holder

    def child_env(self) -> dict[str, str]:
        """Environment for a trainer started with ``pass_fds=(self.fd,)``: it takes the lock over (see :meth:`hand_over`)."""
        return {LOCK_FD_ENV: str(self.fd)}

    def hand_over(self) -> None:
        """Close this process's descriptor without unlocking: a child that inherited it holds the lock on alone."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def release(self) -> None:
        """Remove the lock file and let go (nothing when already released or handed over)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            if _same_file(fd, lock_path()):
                lock_path().unlink(missing_ok=True)  # while still held: the next start creates a fresh file
        finally:
            os.close(fd)  # the last descriptor of the open file: the kernel drops the flock


def _inherited_lock() -> int | None:
    """The lock descriptor a launcher handed down (:data:`LOCK_FD_ENV`), if it is the lock file and held through it."""
    value = os.environ.pop(LOCK_FD_ENV, None)  # popped: never passed further down
    if not value:
        return None
    try:
        fd = int(value)
        if not _same_file(fd, lock_path()):
            return None
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the inherited open file holds it already: succeeds at once
    except (ValueError, OSError):
        return None
    os.set_inheritable(fd, False)
    return fd


def _lock_exclusively(path: Path) -> int:
    """Open ``path`` and take its flock, or raise :class:`TrainingBusy` naming the holder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + _PROBE_RETRY_S
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if time.monotonic() >= deadline:
                raise TrainingBusy(current_training()) from None
            time.sleep(0.01)  # perhaps only a reader's probe: try again
            continue
        if _same_file(fd, path):
            return fd
        os.close(fd)  # released and removed between our open and our lock: lock the new file instead


def acquire_training_lock(run: str) -> HeldTrainingLock:
    """Take the machine's single-training lock for ``run``; :class:`TrainingBusy` (an InputError) if it is taken.

    A trainer started by :func:`start_training` (or ``bench.variants``) takes over the lock its
    launcher handed down instead; its start time is kept. The caller must :meth:`HeldTrainingLock.release`
    it (or use :func:`training_lock`); the kernel releases it anyway when the process ends.
    """
    fd = _inherited_lock()
    started = time.time()
    if fd is not None:
        previous = _parse_holder(os.pread(fd, 4096, 0))
        started = previous.started if previous is not None and previous.run == run else started
    else:
        fd = _lock_exclusively(lock_path())
    held = HeldTrainingLock(fd, TrainingLock(os.getpid(), run, started))
    held.record(held.holder)
    return held


@contextlib.contextmanager
def training_lock(run: str) -> Iterator[HeldTrainingLock]:
    """Hold the training lock for the block (:class:`TrainingBusy` if taken); released however the block ends.

    In the main thread SIGTERM is turned into ``SystemExit(143)`` for the block, so a terminated
    trainer unwinds and releases too (the kernel would drop the flock anyway; this also removes the file).
    """
    held = acquire_training_lock(run)
    restore = _exit_on_sigterm()
    try:
        yield held
    finally:
        restore()
        held.release()


def _exit_on_sigterm():
    """Make SIGTERM raise ``SystemExit(143)``; returns the function that puts the previous handler back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.getsignal(signal.SIGTERM)

    def exit_now(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, exit_now)
    return lambda: signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


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


def _terminate(pid: int, wait_s: float = 5.0) -> None:
    """SIGINT the process group of ``pid`` (the trainer logs 'stopped'), then SIGTERM, then SIGKILL, ``wait_s`` apart."""
    if pid <= 1 or pid == os.getpid():
        return  # an unnamed holder, or ourselves: never signalled
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


def start_training(config: TrainConfig) -> str:
    """Launch ``python -m core train --config <run>/config.json`` for ``config`` in the background; returns the run name.

    The config (named, when it has no run name) is written into the new run folder, where the
    trainer replaces it with its complete ``config.json``. The child runs in its own session (it
    outlives the page and the studio), writes to ``<run>/train.out`` and inherits
    ``CHORDSMITH_OUTPUT`` so it writes where this process reads. Raises :class:`InputError` for bad
    values, a run name already taken, or when another training holds the lock (naming it).
    """
    config.validate()
    name = config.run_name or new_run_name()
    if run_dir(name).exists():
        raise InputError(f"a run named {name!r} already exists; choose another name or leave it empty")
    _reap_children()
    _enforce_overdue_stop()
    held = acquire_training_lock(name)  # TrainingBusy (an InputError) names the run holding it
    try:
        folder = run_dir(name)
        folder.mkdir(parents=True, exist_ok=False)
        config_path = folder / CONFIG_FILE
        write_json_atomic(config_path, {"train": replace(config, run_name=name).to_dict()})
    except BaseException:
        held.release()
        raise
    _launch(name, train_command(config_path), held)
    return name


def _launch(name: str, command: list[str], held: HeldTrainingLock) -> None:
    """Start ``command`` (a trainer for run ``name``) in its own session, output to ``train.out``; hand it the lock."""
    folder = run_dir(name)
    try:
        env = dict(os.environ, CHORDSMITH_OUTPUT=str(paths.OUTPUT_DIR), PYTHONUNBUFFERED="1", **held.child_env())
        (folder / COMMAND_FILE).write_text(shlex.join(command) + "\n", encoding="utf-8")
        with (folder / TRAIN_OUTPUT_FILE).open("ab") as out:
            child = subprocess.Popen(
                command, cwd=paths.REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True, pass_fds=(held.fd,),
            )
    except BaseException:
        held.release()
        raise
    _CHILDREN[name] = child
    held.record(TrainingLock(child.pid, name, held.holder.started))
    held.hand_over()  # the child holds the lock now, until it ends


@dataclass(frozen=True)
class ResumeOffer:
    """A run that can go on: the epochs it finished and saved, and the epochs it planned."""

    epoch: int
    planned: int


def resume_offer(run_name: str) -> ResumeOffer | None:
    """What :func:`resume_training` would continue for a run that is not training and stopped short (``None``: nothing).

    A run qualifies when it saved an epoch (``checkpoints/last.json``) and ended before its
    planned epochs: killed, stopped, failed, or still marked running by a trainer that is gone.
    """
    folder = existing_run_dir(run_name)
    state = read_json(folder / RESUME_STATE_FILE)
    lock = current_training()
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or (lock is not None and lock.run == run_name):
        return None
    summary = summarize_run(folder)
    planned = summary.epochs_planned or state["epoch"]
    if summary.status == "finished" or state["epoch"] >= planned:
        return None
    return ResumeOffer(state["epoch"], planned)


def resume_training(run_name: str, epochs: int | None = None) -> str:
    """Continue a run in the background from its last saved epoch (``python -m core train --resume``); returns its name.

    ``epochs`` is the new total (default: the run's own). :class:`InputError` when the run has
    nothing to resume, the total is not above the saved epoch, or another training holds the lock.
    """
    offer = resume_offer(run_name)
    if offer is None:
        raise InputError(f"run {run_name!r} has nothing to resume (no saved epoch, it is training, or it finished)")
    if epochs is not None and int(epochs) <= offer.epoch:
        raise InputError(f"give more than the {offer.epoch} epochs {run_name!r} has trained, got {epochs}")
    _reap_children()
    _enforce_overdue_stop()
    (run_dir(run_name) / STOP_FILE).unlink(missing_ok=True)  # a stop request that ended the run is done with
    held = acquire_training_lock(run_name)
    command = [sys.executable, "-m", "core", "train", "--resume", run_name, *(["--epochs", str(int(epochs))] if epochs else [])]
    _launch(run_name, command, held)
    return run_name


def stop_training(run_name: str, grace_s: float = STOP_GRACE_SECONDS) -> None:
    """Ask a run to stop: write its STOP file; interrupt its process group if it still runs ``grace_s`` later.

    Returns at once; the kill happens on a timer thread. Asking again for a run whose STOP file is
    older (a page that asked has gone) keeps the first request's deadline, so a stop survives the
    page that asked for it. Stopping a run that is not running is an :class:`InputError`.
    """
    folder = existing_run_dir(run_name)
    lock = current_training()
    if lock is None or lock.run != run_name:
        raise InputError(f"run {run_name!r} is not running")
    stop_file = folder / STOP_FILE
    if stop_file.exists():
        grace_s -= time.time() - stop_file.stat().st_mtime
    else:
        request_stop(folder)
    timer = threading.Timer(max(grace_s, 0.0), _terminate_if_holding, args=(lock,))
    timer.daemon = True
    timer.start()


def _terminate_if_holding(lock: TrainingLock) -> None:
    """Terminate the training ``lock`` names if it still holds the lock (not a later one that took it since)."""
    if current_training() == lock:
        _terminate(lock.pid)
    _reap_children()


def _enforce_overdue_stop() -> None:
    """Terminate the training holding the lock if its STOP file is older than the grace period."""
    lock = current_training()
    if lock is None or not lock.run:
        return
    stop_file = runs_dir() / lock.run / STOP_FILE
    if stop_file.exists() and time.time() - stop_file.stat().st_mtime > STOP_GRACE_SECONDS:
        _terminate_if_holding(lock)


def _reap_children() -> None:
    """Forget (and reap) the trainers this process started that have ended."""
    for name, child in list(_CHILDREN.items()):
        if child.poll() is not None:
            del _CHILDREN[name]


# --------------------------------------------------------------------------- following runs


def list_runs() -> list[RunSummary]:
    """Every run folder under ``output/runs``, newest first, the one training now marked live."""
    lock = current_training()
    return summarize_runs(runs_dir(), lock.run if lock else None)


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
    phase: str | None = None  # while live: a key of run_folder.PHASES (training, evaluating, ...)

    @property
    def phase_label(self) -> str:
        """The phase in words (``evaluating on the test songs``), or the status once the run is over."""
        return PHASES.get(self.phase or "", self.status)

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

    The elapsed time is wall time since the run's launch (:func:`run_folder.run_elapsed`): it
    never goes backwards, live or over. The ETA is the mean epoch time times the epochs left,
    capped by what is left of the run's time budget (``max_minutes`` in its config); ``None``
    before the first epoch ends, outside the training phase (evaluating, writing samples) and
    once the run is over.
    """
    folder = existing_run_dir(run_name)
    lock = current_training()
    holds_lock = lock is not None and lock.run == run_name
    summary = summarize_run(folder, training=holds_lock)
    records = read_metrics(folder)
    epochs = epoch_records(records)
    now = time.time() if now is None else now
    live = summary.status in LIVE_STATUSES
    session = lock.started if holds_lock and lock.started else None
    elapsed = run_elapsed(folder, records, live, now, session) or 0.0
    phase = live_phase(folder, session, bool(records)) if live else None
    eta: float | None = None
    if phase == "training" and epochs and summary.epochs_planned:
        seconds = [float(r["seconds"]) for r in epochs if isinstance(r.get("seconds"), int | float)]
        per_epoch = sum(seconds) / len(seconds) if seconds else elapsed / len(epochs)
        eta = max(0.0, per_epoch * (summary.epochs_planned - len(epochs)))
        budget = summary.config.max_minutes if summary.config is not None else None
        if isinstance(budget, int | float) and budget > 0:
            eta = min(eta, max(0.0, budget * 60 - elapsed))
    return RunProgress(run_name, summary.status, len(epochs), summary.epochs_planned, elapsed, eta, records, phase)


def live_phase(folder: Path, session_started: float | None, started: bool) -> str:
    """What a live run's trainer is doing: its ``phase.json``, or ``starting`` before this session has written one.

    ``started``: the trainer has written its ``metrics.jsonl`` (a trainer that writes no
    ``phase.json`` is then taken to be training).
    """
    phase = read_phase(folder)
    if phase is None or phase.get("phase") not in PHASES:
        return "training" if started and phase is None else "starting"
    if session_started is not None and float(phase["launched"]) < session_started - 1.0:
        return "starting"  # an earlier session's file: this trainer is still loading
    return str(phase["phase"])


@dataclass(frozen=True)
class FineTuneResult:
    """A fine-tuned run's test songs scored by the model it started from (before) and by itself (after)."""

    songs: int
    tokens: int
    perplexity_before: float
    perplexity_after: float
    top1_before: float
    top1_after: float
    base: str  # the base model's path


def fine_tune_result(run_name: str) -> FineTuneResult | None:
    """Before and after on a fine-tuned run's held-out songs, from its ``test_results.json``.

    ``None`` for a run that was not fine-tuned, or has not been evaluated yet.
    """
    results = read_json(existing_run_dir(run_name) / TEST_RESULTS_FILE)
    models = results.get("models") if isinstance(results, dict) else None
    if not isinstance(models, dict) or not isinstance(models.get("base_lstm"), dict) or not isinstance(models.get("lstm"), dict):
        return None
    before, after = models["base_lstm"], models["lstm"]
    split = results.get("split", "test")
    return FineTuneResult(int(results.get(f"{split}_songs") or 0), int(after.get("tokens") or 0),
                          float(before["perplexity"]), float(after["perplexity"]), float(before["top1"]),
                          float(after["top1"]), str((results.get("base") or {}).get("path", "")))


# --------------------------------------------------------------------------- choosing a run


def set_active(run_name: str) -> Path:
    """Make a finished run the studio's active model; returns its folder."""
    folder = existing_run_dir(run_name)
    if not (folder / MODEL_FILE).exists():
        raise InputError(f"run {run_name!r} has no {MODEL_FILE} yet (it has not finished)")
    paths.set_active_model_dir(folder)
    return folder


def active_run_name() -> str | None:
    """Name of the run in use as the active model, or ``None`` when it is ``models/default``."""
    active = paths.active_model_dir().resolve()
    return active.name if active.parent == runs_dir().resolve() else None


def use_default_model() -> None:
    """Make the shipped default (``models/default``) the studio's active model again."""
    paths.ACTIVE_MODEL_FILE.unlink(missing_ok=True)


@dataclass(frozen=True)
class ModelChoice:
    """A model the studio can make active: the shipped default or a run with a model."""

    label: str  # "models/default (shipped)" or the run's name
    folder: Path
    run: str | None  # None: the shipped default


#: the label of the shipped default among the model choices.
DEFAULT_MODEL_LABEL = "models/default (shipped)"


def model_choices() -> list[ModelChoice]:
    """The models that can be made active: the shipped default first (always), then every run with a model, newest first."""
    default = ModelChoice(DEFAULT_MODEL_LABEL, paths.DEFAULT_MODEL_DIR, None)
    return [default, *(ModelChoice(run.name, run.folder, run.name) for run in list_runs() if run.has_model)]


def activate(choice: ModelChoice) -> None:
    """Make ``choice`` the active model (:func:`use_default_model` for the default, :func:`set_active` for a run)."""
    if choice.run is None:
        use_default_model()
    else:
        set_active(choice.run)


# --------------------------------------------------------------------------- renaming, deleting, downloading runs


def _not_training(run_name: str, doing: str) -> Path:
    """The run's folder, or :class:`InputError` when it is training now (it must be stopped first)."""
    folder = existing_run_dir(run_name)
    lock = current_training()
    if lock is not None and lock.run == run_name:
        raise InputError(f"run {run_name!r} is training now: stop it (or wait for it to end) before you {doing} it")
    return folder


def rename_run(run_name: str, new_name: str) -> Path:
    """Rename a run that is not training (its folder and the name in its ``config.json``); returns the new folder.

    The active model follows the rename. :class:`InputError` for an unusable or taken name.
    """
    new_name = (new_name or "").strip()
    target = run_dir(new_name)
    folder = _not_training(run_name, "rename")
    if new_name == run_name:
        return folder
    if target.exists():
        raise InputError(f"a run named {new_name!r} already exists; choose another name")
    was_active = active_run_name() == run_name
    os.rename(folder, target)
    config = read_json(target / CONFIG_FILE)
    if isinstance(config, dict) and isinstance(config.get("train"), dict):
        config["train"]["run_name"] = new_name
        write_json_atomic(target / CONFIG_FILE, config)
    if was_active:
        paths.set_active_model_dir(target)
    return target


def delete_run(run_name: str) -> bool:
    """Delete a run that is not training, with every file in it; returns whether it was the active model.

    When it was, the shipped default becomes the active model again.
    """
    import shutil

    folder = _not_training(run_name, "delete")
    was_active = active_run_name() == run_name
    if was_active:
        use_default_model()
    shutil.rmtree(folder)
    return was_active


def run_zip(run_name: str) -> bytes:
    """A run folder as a zip archive (``<run>/…`` inside; half-written partial files left out)."""
    import io
    import zipfile

    folder = existing_run_dir(run_name)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and ".partial" not in path.name and "-partial" not in path.name:
                archive.write(path, Path(run_name) / path.relative_to(folder))
    return buffer.getvalue()


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


def model_in_use() -> ModelInUse:
    """The active model (a run chosen on the Training page, else ``models/default``) with its test results."""
    folder = paths.active_model_dir()
    run_name = active_run_name()
    label = f"run {run_name}" if run_name else (
        "models/default" if folder.resolve() == paths.DEFAULT_MODEL_DIR.resolve() else str(folder)
    )
    results = read_json(folder / TEST_RESULTS_FILE)
    top1, top5 = model_test_accuracy(results)
    headline = results["models"] if isinstance(results, dict) and isinstance(results.get("models"), dict) else results
    return ModelInUse(folder, label, (folder / MODEL_FILE).exists(), top1, top5, flatten_numbers(headline))


# --------------------------------------------------------------------------- what the page follows


def run_to_follow(requested: str | None = None) -> str | None:
    """The run the live panel shows: the one training now, else ``requested`` if it exists, else the newest."""
    lock = current_training()
    if lock is not None and RUN_NAME_PATTERN.match(lock.run) and (runs_dir() / lock.run).is_dir():
        return lock.run  # (a command-line run has no folder for its first seconds)
    if requested and RUN_NAME_PATTERN.match(requested) and (runs_dir() / requested).is_dir():
        return requested
    listed = list_runs()
    return listed[0].name if listed else None


def metrics_by_run(run_names: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Per-epoch records of several runs (for the comparison chart); :class:`InputError` for a missing run."""
    return {name: epoch_records(read_metrics(existing_run_dir(name))) for name in run_names}


def train_output_tail(run_name: str, lines: int = 30) -> str:
    """The last ``lines`` lines the trainer printed (``train.out``), empty if none."""
    return read_output_tail(existing_run_dir(run_name), lines)
