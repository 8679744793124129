"""Training runs as background processes: start, resume, stop, and reap what this process started.

The studio never trains in-process: :func:`start_training` launches ``python -m core train`` as a
background process in its own session, its output going to ``<run>/train.out``, so a training
survives a page reload, a second browser tab and even a restart of the studio. The launcher takes
the single-training lock (:mod:`core.training.lock`) first and hands it down to the trainer.

Stopping is cooperative first: :func:`stop_training` writes ``<run>/STOP`` (the trainer's callback
ends the epoch and writes its ``stopped`` line); a process still alive after a grace period gets
SIGINT, SIGTERM, then SIGKILL, on its whole process group. A stop whose grace has passed while no
studio was there to enforce it is enforced by the next explicit step: pressing Stop again, or
starting another run.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from core import paths
from core.config import TrainConfig
from core.errors import InputError
from core.run_files import (
    COMMAND_FILE,
    CONFIG_FILE,
    RESUME_STATE_FILE,
    STOP_FILE,
    TRAIN_OUTPUT_FILE,
    read_json,
    request_stop,
    write_json_atomic,
)
from core.training.lock import HeldTrainingLock, TrainingLock, acquire_training_lock, current_training
from core.training.run_folder import summarize_run
from core.training.run_names import existing_run_dir, new_run_name, run_dir, runs_dir

#: Seconds between the STOP file and SIGTERM when the trainer does not stop by itself.
STOP_GRACE_SECONDS = 60.0



def train_command(config_path: Path) -> list[str]:
    """The command line :func:`start_training` runs: ``python -m core train --config PATH``."""
    return [sys.executable, "-m", "core", "train", "--config", str(config_path)]



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
