"""The machine-wide single-training lock: one training at a time, whoever starts it.

Every training (started by the studio, by ``python -m core train`` or by ``python -m bench.variants``)
holds ``output/training.lock`` with ``fcntl.flock`` on an open descriptor for its whole life
(:func:`training_lock`). The kernel releases it when the holder ends in any way (even ``kill -9``),
so a dead holder never blocks the next start and nothing decides staleness from a process id or
from the file's content; the file only says who holds the lock (JSON: pid, run, started) and is
removed on a clean release. A launcher takes the lock itself before it starts the trainer and hands
the open descriptor down to it (:data:`LOCK_FD_ENV`), so there is no moment at which a second start
could slip in. Reading (:func:`current_training`, polled by the Training page) is read-only.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from core import paths
from core.errors import InputError
from core.run_files import TRAINING_LOCK_FILE

#: Environment variable naming the inherited descriptor through which a launcher hands its held lock to the trainer.
LOCK_FD_ENV = "CHORDSMITH_TRAINING_LOCK_FD"
#: How long a start retries a lock it finds taken: :func:`current_training` probes it for microseconds at a time.
_PROBE_RETRY_S = 0.5


def lock_path() -> Path:
    """The machine-wide single-training lock file."""
    return paths.OUTPUT_DIR / TRAINING_LOCK_FILE


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
