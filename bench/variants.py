"""Train the quality table's variant models one after another, each within a time budget, politely.

    nohup python -m bench.variants --minutes 8 > output/variants.log 2>&1 &

The machine has 2 cores, so only one training runs at a time: before each run this waits until
no other ``core train`` process is alive, ``output/training.lock`` (the studio's single-training
lock) is free and no ``python -m bench`` run holds ``output/bench.lock``, then takes the training
lock for its own run and hands it to the trainer it starts (core.training.lock), which holds it
until it ends. Runs land in
``output/runs/<variant>/`` (names and flags in :data:`bench.quality.VARIANTS`); a variant whose
run already holds a model is skipped.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from bench.quality import VARIANTS
from core.paths import RUNS_DIR
from core.run_files import MODEL_FILE
from core.training.processes import pid_alive

REPO = Path(__file__).resolve().parent.parent


def other_trainings() -> list[int]:
    """Process ids of running ``core train`` commands other than this process's children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            words = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"core" in words and b"train" in words and b"-m" in words:
            found.append(int(entry.name))
    return found


BENCH_LOCK = "bench.lock"


def _bench_lock_path() -> Path:
    from core.paths import OUTPUT_DIR

    return OUTPUT_DIR / BENCH_LOCK


def benchmark_running() -> bool:
    """True while a ``python -m bench`` run holds ``output/bench.lock`` (a stale lock is removed)."""
    path = _bench_lock_path()
    try:
        pid = int(path.read_text(encoding="utf-8").strip() or "0")
    except FileNotFoundError:
        return False
    except (OSError, ValueError):
        pid = 0
    if pid == os.getpid() or pid_alive(pid):
        return pid != os.getpid()
    path.unlink(missing_ok=True)
    return False


def wait_for_machine(poll_s: float = 20.0, include_benchmarks: bool = True) -> None:
    """Block until no other training (and, with ``include_benchmarks``, no benchmark) runs and the lock is free."""
    from core.training.lock import current_training

    while other_trainings() or current_training() is not None or (include_benchmarks and benchmark_running()):
        time.sleep(poll_s)


@contextlib.contextmanager
def machine_for_benchmark(poll_s: float = 10.0) -> Iterator[None]:
    """Wait for the machine (no training, no other benchmark), then hold ``output/bench.lock`` for the block."""
    path = _bench_lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        wait_for_machine(poll_s, include_benchmarks=True)
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(str(os.getpid()))
        break
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def train_variant(name: str, flags: str, minutes: float) -> int:
    """Run one variant under the training lock (taken here, handed to the trainer); returns the exit status."""
    from core.training.lock import TrainingBusy, acquire_training_lock

    command = [sys.executable, "-m", "core", "train", "--run-name", name, "--max-epochs-minutes", str(minutes),
               "--no-reports", *shlex.split(flags)]
    while True:
        wait_for_machine()
        try:
            held = acquire_training_lock(name)
            break
        except TrainingBusy:
            continue  # another start took the machine between the wait and the lock
    print(f"[variants] {time.strftime('%H:%M:%S')} start {name}: {' '.join(command)}", flush=True)
    try:
        child = subprocess.Popen(command, cwd=REPO, env={**os.environ, **held.child_env()}, pass_fds=(held.fd,))
    except BaseException:
        held.release()
        raise
    held.hand_over()  # the trainer holds the lock now, until it ends
    status = child.wait()
    print(f"[variants] {time.strftime('%H:%M:%S')} end {name}: exit {status}", flush=True)
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description="train the variant runs one at a time within a time budget each")
    parser.add_argument("--minutes", type=float, default=8.0, help="training budget per variant (default 8)")
    parser.add_argument("--only", help="comma-separated variant run names (default: all)")
    parser.add_argument("--extra", action="append", default=[],
                        help="NAME=FLAGS: another run to train first (e.g. a quick development run)")
    args = parser.parse_args()
    queue: list[tuple[str, str, float]] = []
    for item in args.extra:
        name, _, flags = item.partition("=")
        queue.append((name, flags, args.minutes))
    chosen = args.only.split(",") if args.only else list(VARIANTS)
    queue += [(name, VARIANTS[name][1], args.minutes) for name in chosen]
    for name, flags, minutes in queue:
        if (RUNS_DIR / name / MODEL_FILE).exists():
            print(f"[variants] skip {name}: already trained", flush=True)
            continue
        train_variant(name, flags, minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
