"""The single-training lock (core.training.lock): atomic under simultaneous starts, taken by the CLI, never stale.

Processes here are small Python snippets that take the lock through the same function the trainer's
command line does (:func:`core.training.lock.training_lock`), each with a private CHORDSMITH_OUTPUT.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core import paths
from core.cli import main
from core.config import TrainConfig
from core.run_files import STOP_FILE, TRAIN_OUTPUT_FILE, TRAINING_LOCK_FILE
from core.training import follow, processes
from core.training.lock import TrainingBusy, TrainingLock, acquire_training_lock, current_training, lock_path, training_lock
from tests.private_output import private_output

ROOT = Path(__file__).resolve().parent.parent
PAIRS = 10

#: Takes the lock for run argv[1] once a byte arrives on fd argv[2] (shared by every contender), reports,
#: then holds it until a byte arrives on fd argv[3]; argv[4] "fail" raises inside the lock instead of waiting.
CONTENDER = r'''
import os, sys
from core.training.lock import TrainingBusy, training_lock
run, start_fd, release_fd, mode = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
print("ready", flush=True)
os.read(start_fd, 1)
try:
    with training_lock(run):
        print("acquired", os.getpid(), flush=True)
        if mode == "fail":
            raise RuntimeError("training failed")
        os.read(release_fd, 1)
except TrainingBusy as busy:
    print("refused", busy, flush=True)
    os.read(release_fd, 1)
'''


@pytest.fixture
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private CHORDSMITH_OUTPUT for this process and the processes it starts."""
    return private_output(tmp_path, monkeypatch)


class Contenders:
    """Processes running :data:`CONTENDER`, released together through shared pipes (the barrier)."""

    def __init__(self) -> None:
        self.start_read, self.start_write = os.pipe()
        self.release_read, self.release_write = os.pipe()
        self.processes: list[subprocess.Popen] = []

    def spawn(self, run: str, output: Path, mode: str = "hold") -> subprocess.Popen:
        process = subprocess.Popen(
            [sys.executable, "-c", CONTENDER, run, str(self.start_read), str(self.release_read), mode],
            cwd=ROOT, env={**os.environ, "CHORDSMITH_OUTPUT": str(output)}, pass_fds=(self.start_read, self.release_read),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        self.processes.append(process)
        return process

    def go(self) -> list[str]:
        """Start every contender at once (after all are ready); returns each one's first answer."""
        for process in self.processes:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        os.write(self.start_write, b"g" * len(self.processes))  # one write wakes every blocked reader
        return [process.stdout.readline().strip() for process in self.processes]

    def release(self) -> None:
        os.write(self.release_write, b"r" * len(self.processes))
        for process in self.processes:
            process.wait(timeout=30)

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait()
            process.stdout.close()
            process.stderr.close()
        for fd in (self.start_read, self.start_write, self.release_read, self.release_write):
            os.close(fd)


@pytest.fixture
def contenders():
    group = Contenders()
    yield group
    group.close()


def held_by(output: Path) -> TrainingLock | None:
    """current_training() for another output folder."""
    saved = paths.OUTPUT_DIR
    paths.OUTPUT_DIR = output
    try:
        return current_training()
    finally:
        paths.OUTPUT_DIR = saved


# --------------------------------------------------------------------------- the race


def test_ten_simultaneous_pairs_exactly_one_of_each_trains(tmp_path: Path, contenders: Contenders) -> None:
    outputs = [tmp_path / f"pair{i}" for i in range(PAIRS)]
    for i, out in enumerate(outputs):
        contenders.spawn(f"p{i}-a", out)
        contenders.spawn(f"p{i}-b", out)
    answers = contenders.go()
    for i, out in enumerate(outputs):
        pair = answers[2 * i: 2 * i + 2]
        assert sorted(answer.split()[0] for answer in pair) == ["acquired", "refused"], pair
        winner = 0 if pair[0].startswith("acquired") else 1
        pid = contenders.processes[2 * i + winner].pid
        refusal = pair[1 - winner]
        assert f"a training is already running: run 'p{i}-{'ab'[winner]}' (pid {pid}, started " in refusal, refusal
        assert held_by(out) == TrainingLock(pid, f"p{i}-{'ab'[winner]}", held_by(out).started)
    contenders.release()
    assert all(process.returncode == 0 for process in contenders.processes)
    for out in outputs:  # released on exit, file removed
        assert held_by(out) is None and not (out / TRAINING_LOCK_FILE).exists()


# --------------------------------------------------------------------------- release and dead holders


def test_released_on_normal_exit_on_error_and_on_sigterm(output: Path, contenders: Contenders) -> None:
    normal = contenders.spawn("normal", output / "normal")
    failing = contenders.spawn("failing", output / "failing", mode="fail")
    terminated = contenders.spawn("terminated", output / "terminated")
    assert [answer.split()[0] for answer in contenders.go()] == ["acquired"] * 3
    failing.wait(timeout=30)
    assert failing.returncode == 1 and "training failed" in failing.stderr.read()
    terminated.send_signal(signal.SIGTERM)
    assert terminated.wait(timeout=30) == 128 + signal.SIGTERM
    assert held_by(output / "normal").run == "normal"
    contenders.release()
    assert normal.returncode == 0
    for name in ("normal", "failing", "terminated"):
        assert held_by(output / name) is None and not (output / name / TRAINING_LOCK_FILE).exists(), name


def test_a_killed_holder_leaves_a_file_that_is_not_held_and_is_taken_over(output: Path, contenders: Contenders) -> None:
    holder = contenders.spawn("killed", output)
    assert contenders.go() == [f"acquired {holder.pid}"]
    holder.kill()
    holder.wait(timeout=30)
    assert lock_path().exists()  # kill -9: nothing cleaned up, yet
    assert current_training() is None  # the kernel dropped the flock with the process
    assert lock_path().exists()  # and looking removed nothing
    with training_lock("next") as held:
        assert current_training() == TrainingLock(os.getpid(), "next", held.holder.started)
    assert current_training() is None and not lock_path().exists()


@pytest.mark.parametrize("content", [b"", b'{"pid": 12', b"garbage"])
def test_a_held_lock_with_an_empty_or_half_written_file_is_never_stale(output: Path, content: bytes) -> None:
    held = acquire_training_lock("writing")
    try:
        os.pwrite(held.fd, content, 0)
        os.ftruncate(held.fd, len(content))
        holder = current_training()
        assert holder is not None and holder.run == ""  # held, by a process that has not written its name
        with pytest.raises(TrainingBusy, match="already running: another process"):
            acquire_training_lock("second")
        assert lock_path().read_bytes() == content  # nobody rewrote or removed it
    finally:
        held.release()
    lock_path().parent.mkdir(parents=True, exist_ok=True)
    lock_path().write_bytes(content)  # the same content with nobody holding the lock: simply free
    assert current_training() is None
    acquire_training_lock("third").release()


def test_polling_is_read_only(output: Path, contenders: Contenders) -> None:
    holder = contenders.spawn("stubborn", output)
    contenders.go()
    stop_file = output / "runs" / "stubborn" / STOP_FILE
    stop_file.parent.mkdir(parents=True)
    stop_file.write_text("stop requested long ago\n")
    old = time.time() - 10 * processes.STOP_GRACE_SECONDS
    os.utime(stop_file, (old, old))
    for _ in range(3):
        assert current_training().run == "stubborn"
        follow.list_runs()
        follow.run_to_follow()
    assert holder.poll() is None and stop_file.exists() and lock_path().exists()  # no signal, nothing removed
    contenders.release()


# --------------------------------------------------------------------------- who takes it


#: A trainer stand-in that takes the lock as ``python -m core train`` does and runs until its STOP file appears.
LOCKING_TRAINER = r'''
import pathlib, sys, time
from core.training.lock import training_lock
from core.run_files import STOP_FILE
folder = pathlib.Path(sys.argv[1])
with training_lock(folder.name) as held:
    print("holding", held.holder.pid, flush=True)
    while not (folder / STOP_FILE).exists():
        time.sleep(0.05)
'''


def test_the_studio_hands_its_lock_to_the_trainer_it_starts(output: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "train_command",
                        lambda config_path: [sys.executable, "-c", LOCKING_TRAINER, str(Path(config_path).parent)])
    name = processes.start_training(TrainConfig(run_name="handed"))
    try:
        holder = current_training()
        assert holder is not None and holder.run == "handed" and holder.pid != os.getpid()
        with pytest.raises(TrainingBusy, match=f"already running: run 'handed' \\(pid {holder.pid}, started "):
            processes.start_training(TrainConfig(run_name="second"))
        train_out = output / "runs" / name / TRAIN_OUTPUT_FILE
        deadline = time.time() + 30
        while "holding" not in train_out.read_text() and time.time() < deadline:
            time.sleep(0.05)
        assert train_out.read_text().split() == ["holding", str(holder.pid)]  # took it over, was not refused
        assert current_training() == holder  # same pid, run and start time after the take-over
        processes.stop_training(name)
        deadline = time.time() + 30
        while current_training() is not None and time.time() < deadline:
            time.sleep(0.05)
        assert current_training() is None and not lock_path().exists()  # the trainer released it
    finally:
        holder = current_training()
        if holder is not None:
            processes._terminate(holder.pid, wait_s=2)


def test_the_command_line_trains_under_the_lock(output: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    import core.training.train

    seen = []

    def fake_train(config, **_):  # the trainer's other arguments do not matter here
        seen.append(current_training())
        if config.run_name == "broken":
            raise RuntimeError("training failed")
        return output / "runs" / config.run_name

    monkeypatch.setattr(core.training.train, "train", fake_train)
    assert main(["train", "--run-name", "cli-run", "--epochs", "1"]) == 0
    assert seen[0].run == "cli-run" and seen[0].pid == os.getpid()
    assert current_training() is None and not lock_path().exists()
    capsys.readouterr()
    assert main(["train", "--run-name", "broken", "--epochs", "1"]) == 1  # a failure is one line, not a traceback
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("error:") and "training failed" in error[0], error
    assert seen[1].run == "broken" and current_training() is None and not lock_path().exists()


def test_a_second_command_line_training_is_refused_with_one_line(output: Path) -> None:
    with training_lock("busy"):
        result = subprocess.run(
            [sys.executable, "-m", "core", "train", "--run-name", "second", "--epochs", "1", "--max-train-windows", "8",
             "--no-reports"],
            cwd=ROOT, env={**os.environ, "CHORDSMITH_OUTPUT": str(output)}, capture_output=True, text=True, timeout=120,
        )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    expected = f"error: a training is already running: run 'busy' (pid {os.getpid()}, started "
    assert len(lines) == 1 and lines[0].startswith(expected), lines
    assert not (output / "runs" / "second").exists()
    assert "epoch" not in result.stdout  # nothing trained
