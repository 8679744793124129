"""Resume and recovery: a run killed mid-epoch continues from its last finished epoch, its logs appended."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.config import TrainConfig
from core.corpus.table import write_table
from core.errors import InputError
from core.inference_weights import file_sha256
from core.paths import REPO_ROOT
from core.run_files import LAST_CHECKPOINT, RESUME_STATE_FILE, partial_path
from core.training.resume import read_resume_point, trim_logs
from core.training.run_folder import epoch_records, read_metrics, summarize_run
from tests.progression_frames import progression_frame
from tests.test_pages_dataset_training import page, studio  # noqa: F401 - studio is a fixture

TINY_FLAGS = ["--embedding-dim", "8", "--lstm-units", "16", "--batch-size", "4", "--seed", "3", "--no-reports"]

#: runs the CLI with every training batch slowed down and its (epoch, batch) written to MARK, so a test can kill it mid-epoch.
SLOW_TRAINER = """
import sys, time
from pathlib import Path
from core.training import callbacks
mark = Path(sys.argv[1])
state = {"epoch": 0}
def begin(self, epoch, logs=None):
    state["epoch"] = epoch + 1
def batch_end(self, batch, logs=None, _original=callbacks.StopFileCallback.on_train_batch_end):
    mark.write_text(f"{state['epoch']} {batch}")
    time.sleep(0.05)
    return _original(self, batch, logs)
callbacks.StopFileCallback.on_epoch_begin = begin
callbacks.StopFileCallback.on_train_batch_end = batch_end
from core.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _environment(tmp_path: Path) -> dict[str, str]:
    table = tmp_path / "table.csv.gz"
    write_table(progression_frame(4), table)
    return {**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path / "out"), "CHORDSMITH_CORPUS": str(table),
            "TF_CPP_MIN_LOG_LEVEL": "3"}


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _mark(path: Path) -> tuple[int, int]:
    try:
        epoch, batch = path.read_text().split()
        return int(epoch), int(batch)
    except (OSError, ValueError):
        return 0, 0


def test_a_run_killed_mid_epoch_resumes_from_its_last_finished_epoch(tmp_path):
    env = _environment(tmp_path)
    run_dir = tmp_path / "out" / "runs" / "killed"
    mark = tmp_path / "mark"
    trainer = subprocess.Popen(
        [sys.executable, "-c", SLOW_TRAINER, str(mark), "train", "--run-name", "killed", "--epochs", "6", *TINY_FLAGS],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        _wait_for(lambda: _mark(mark) >= (3, 1) or trainer.poll() is not None, 300, "the third epoch's second batch")
        assert trainer.poll() is None, trainer.stderr.read().decode()
        trainer.send_signal(signal.SIGKILL)
        assert trainer.wait(30) == -signal.SIGKILL
    finally:
        if trainer.poll() is None:
            trainer.kill()

    point = read_resume_point(run_dir)
    assert point.epoch == 2 and point.elapsed_s > 0
    killed = read_metrics(run_dir)
    assert [r["epoch"] for r in epoch_records(killed)] == [1, 2]
    assert summarize_run(run_dir).status == "interrupted"

    resumed = subprocess.run([sys.executable, "-m", "core", "train", "--resume", "killed", "--epochs", "4"],
                             cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch 3/4" in resumed.stdout and "epoch 1/" not in resumed.stdout

    records = read_metrics(run_dir)
    assert records[: len(killed)] == killed  # appended, not rewritten
    assert [r["epoch"] for r in epoch_records(records)] == [1, 2, 3, 4]
    starts = [r for r in records if r["status"] == "started"]
    assert len(starts) == 2 and starts[1]["resumed_from_epoch"] == 2
    elapsed = [r["elapsed"] for r in epoch_records(records)]
    assert elapsed == sorted(elapsed)  # the clock goes on from the killed session's time
    assert records[-1]["status"] == "finished" and records[-1]["epochs_completed"] == 4
    with open(run_dir / "training_log.csv", encoding="utf-8") as handle:
        assert [int(row["epoch"]) for row in csv.DictReader(handle)] == [0, 1, 2, 3]
    history = json.loads((run_dir / "history.json").read_text(encoding="utf-8"))
    assert len(history["loss"]) == 4
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    assert config["train"]["epochs"] == 4 and config["resumed"][0]["from_epoch"] == 2
    assert read_resume_point(run_dir).epoch == 4 and (run_dir / "model.keras").is_file()

    again = subprocess.run([sys.executable, "-m", "core", "train", "--resume", "killed"],
                           cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "give more to resume" in again.stderr


def test_resume_continues_the_optimizer_and_the_schedule_where_they_stopped(tmp_path):
    from core.model import load_model
    from core.training.train import train
    from tests.test_train import TINY_MODEL

    config = TrainConfig(batch_size=8, epochs=2, seed=1, run_name="r", write_reports=False, model=TINY_MODEL,
                         schedule="cosine", warmup_epochs=1.0)
    run_dir = train(config, frame=progression_frame(2), run_dir=tmp_path / "r")
    saved = load_model(run_dir / LAST_CHECKPOINT)
    steps = int(saved.optimizer.iterations.numpy())
    assert steps > 0

    train(TrainConfig(**{**config.__dict__, "epochs": 3}), frame=progression_frame(2), run_dir=run_dir, resume=True)
    resumed = load_model(run_dir / LAST_CHECKPOINT)
    assert int(resumed.optimizer.iterations.numpy()) == steps * 3 // 2  # one more epoch of the same steps
    lrs = [r["lr"] for r in epoch_records(read_metrics(run_dir))]
    assert lrs[2] < lrs[1]  # the third epoch starts on the decaying side of the stretched cosine


def test_a_kill_between_the_two_renames_resumes_from_the_staged_state(tmp_path):
    checkpoint = tmp_path / LAST_CHECKPOINT
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"the model of epoch 5")
    (tmp_path / "metrics.jsonl").write_text("")
    (tmp_path / RESUME_STATE_FILE).write_text(json.dumps({"epoch": 4, "model_sha256": "of epoch 4's file"}))
    partial_path(tmp_path / RESUME_STATE_FILE).write_text(json.dumps(
        {"epoch": 5, "elapsed_s": 12.5, "callbacks": {}, "model_sha256": file_sha256(checkpoint)}))
    point = read_resume_point(tmp_path)
    assert point.epoch == 5 and point.elapsed_s == 12.5

    partial_path(tmp_path / RESUME_STATE_FILE).unlink()
    with pytest.raises(InputError, match="does not match"):
        read_resume_point(tmp_path)
    checkpoint.unlink()
    with pytest.raises(InputError, match="no saved epoch"):
        read_resume_point(tmp_path)


def test_trimming_drops_the_epochs_after_the_checkpoint_and_a_torn_line(tmp_path):
    lines = [{"status": "started"}, *({"status": "running", "epoch": e, "loss": 1.0} for e in (1, 2, 3))]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines) + '{"status": "runn')
    (tmp_path / "training_log.csv").write_text("epoch,loss\n0,3.0\n1,2.0\n2,1.0\n")
    trim_logs(tmp_path, 2)
    assert [r.get("epoch") for r in read_metrics(tmp_path)] == [None, 1, 2]
    assert (tmp_path / "training_log.csv").read_text() == "epoch,loss\n0,3.0\n1,2.0\n"


def _interrupted_run(out: Path, name: str, done: int, planned: int) -> Path:
    """A run folder whose trainer died after ``done`` of ``planned`` epochs, leaving its last epoch saved."""
    folder = out / "runs" / name
    (folder / LAST_CHECKPOINT).parent.mkdir(parents=True)
    records = [{"status": "started", "epochs_planned": planned, "time": 1.0}]
    records += [{"epoch": e, "loss": 2.0, "val_loss": 2.0, "elapsed": 5.0 * e, "epochs_planned": planned, "status": "running"}
                for e in range(1, done + 1)]
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / "config.json").write_text(json.dumps({"train": {"epochs": planned, "model": {}}}))
    (folder / RESUME_STATE_FILE).write_text(json.dumps({"epoch": done, "model_sha256": "x"}))
    return folder


def test_the_training_page_offers_resume_on_an_interrupted_run(studio, monkeypatch):  # noqa: F811 - the fixture
    from core.training import processes

    _interrupted_run(studio, "cut", 2, 5)
    finished = _interrupted_run(studio, "whole", 3, 3)
    with open(finished / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps({"status": "finished", "reason": "epochs completed"}) + "\n")
    assert processes.resume_offer("cut") == processes.ResumeOffer(2, 5) and processes.resume_offer("whole") is None
    with pytest.raises(InputError, match="more than the 2 epochs"):
        processes.resume_training("cut", 2)

    resumed = []
    monkeypatch.setattr(processes, "resume_training", lambda name, epochs=None: resumed.append((name, epochs)) or name)
    at = page("pages/2_training.py")
    at.query_params["run"] = "cut"
    at.run()
    assert not at.exception
    at.number_input(key="resume-epochs-cut").set_value(7)
    next(b for b in at.button if b.key == "resume-cut").click().run()
    assert not at.exception and resumed == [("cut", 7)]
    at.query_params["run"] = "whole"
    at.run()
    assert not any(b.key == "resume-whole" for b in at.button)
