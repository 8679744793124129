"""Training runs for the studio: form validation, metrics reading, listing, progress, start/stop in the background.

The lock itself (races, release, dead holders, the command line) is tested in tests/test_lock.py.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import pytest

from core import paths
from core.config import BEFORE_SETTING, MODEL_BEFORE_SETTING, ModelConfig, TrainConfig
from core.errors import InputError
from core.run_files import (
    CONFIG_FILE,
    LOGS_DIR,
    METRICS_FILE,
    MODEL_FILE,
    STOP_FILE,
    TEST_RESULTS_FILE,
    TRAIN_OUTPUT_FILE,
)
from core.training import active_model, follow, processes, run_folder, run_names
from core.training.lock import TrainingLock, acquire_training_lock, current_training
from studio.run_tables import format_duration, runs_frame, tensorboard_command
from tests.private_output import private_output

#: A stand-in trainer: writes metrics.jsonl like core.training.train, one epoch per 0.2 s, honours STOP unless told not to.
FAKE_TRAINER = r'''
import json, sys, time, pathlib
folder, epochs, obey = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "obey"
metrics_file, stop_file = sys.argv[4], sys.argv[5]
folder.mkdir(parents=True, exist_ok=True)
start = time.time()
def write(record):
    with (folder / metrics_file).open("a") as f:
        f.write(json.dumps(record) + "\n")
write({"status": "started", "epochs_planned": epochs, "time": start})
for epoch in range(1, epochs + 1):
    time.sleep(0.2)
    write({"epoch": epoch, "loss": 3.0 / epoch, "accuracy": 0.1 * epoch, "val_loss": 3.2 / epoch, "val_accuracy": 0.1,
           "lr": 0.001, "seconds": 0.2, "elapsed": time.time() - start, "epochs_planned": epochs, "status": "running"})
    if obey and (folder / stop_file).exists():
        write({"status": "stopped", "elapsed": time.time() - start, "epochs_planned": epochs})
        sys.exit(0)
write({"status": "finished", "elapsed": time.time() - start, "epochs_planned": epochs})
'''


@pytest.fixture
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private CHORDSMITH_OUTPUT: nothing here touches the real output/."""
    return private_output(tmp_path, monkeypatch)


@pytest.fixture
def fake_trainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: Path):
    """Make start_training launch FAKE_TRAINER; returns a setter for (epochs, obey STOP)."""
    script = tmp_path / "fake_train.py"
    script.write_text(FAKE_TRAINER)
    settings = {"obey": "obey"}

    def command(config_path: Path):
        config = TrainConfig.from_file(config_path)  # what `python -m core train --config` reads
        return [sys.executable, str(script), str(output / "runs" / config.run_name), str(config.epochs), settings["obey"],
                METRICS_FILE, STOP_FILE]

    monkeypatch.setattr(processes, "train_command", command)
    yield settings
    lock = current_training()
    if lock is not None:  # never leave a child behind
        processes._terminate(lock.pid, wait_s=2)


def write_run(output: Path, name: str, records: list[dict], test_results: dict | None = None,
              config: dict | None = None, model: bool = True) -> Path:
    folder = output / "runs" / name
    folder.mkdir(parents=True)
    (folder / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    config = config or {"epochs": 3, "lr": 0.001, "model": {"lstm_units": 64, "cell": "gru"}}
    (folder / CONFIG_FILE).write_text(json.dumps({"train": config, "data": {"train_windows": 10}}))
    if test_results is not None:
        (folder / TEST_RESULTS_FILE).write_text(json.dumps(test_results))
    if model:
        (folder / MODEL_FILE).write_bytes(b"not really a model")
    return folder


def epoch(n: int, val_loss: float, seconds: float = 10.0) -> dict:
    return {"epoch": n, "loss": val_loss - 0.1, "accuracy": 0.3, "top5": 0.7, "val_loss": val_loss, "val_accuracy": 0.25,
            "val_top5": 0.6, "lr": 0.001, "seconds": seconds, "elapsed": n * seconds, "epochs_planned": 3, "status": "running"}


def wait_until(condition, timeout: float = 20.0) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


# --------------------------------------------------------------------------- validation


def test_form_values_make_one_checked_train_config(output: Path) -> None:
    config = TrainConfig.from_values({"epochs": 2, "attention": True, "augment": False, "max_train_windows": 64,
                                      "max_minutes": 0.0, "lstm_layers": 3, "cell": "GRU", "run_name": " "})
    assert config.batch_size == TrainConfig().batch_size and config.epochs == 2  # unset values keep the defaults
    assert not config.augment and config.max_train_windows == 64
    assert config.max_minutes is None and config.run_name is None  # 0 minutes: no budget; empty name: a dated one
    assert (config.model.cell, config.model.lstm_layers, config.model.attention) == ("gru", 3, True)
    assert processes.train_command(output / "x" / CONFIG_FILE)[-3:] == ["train", "--config", str(output / "x" / CONFIG_FILE)]


@pytest.mark.parametrize(("config", "message"), [
    ({"epochs": 0}, "epochs must be a whole number from 1 to 10000, got 0"),
    ({"epochs": float("inf")}, "epochs must be"),
    ({"lr": 0}, "learning rate"),
    ({"lr": -0.1}, "learning rate"),
    ({"lr": 1.0}, "learning rate"),
    ({"lr": 50}, "learning rate"),
    ({"lr": float("nan")}, "learning rate"),
    ({"batch_size": 0}, "batch size must be a whole number from 1 to 8192"),
    ({"dropout": 1.0}, "dropout"),
    ({"lstm_layers": 0}, "recurrent layers"),
    ({"cell": "rnn"}, "unknown cell"),
    ({"epochs": 2.5}, "whole number"),
    ({"epochs": "many"}, "epochs must be"),
    ({"run_name": "my run"}, "not usable"),
    ({"run_name": ".."}, "not usable"),
    ({"learning_rate": 0.1}, "unknown training setting"),
])
def test_bad_form_values_are_input_errors(output: Path, config: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TrainConfig.from_values(config)


def test_existing_run_name_is_refused(output: Path) -> None:
    write_run(output, "taken", [])
    with pytest.raises(InputError, match="'taken' already exists"):
        processes.start_training(TrainConfig(run_name="taken"))
    assert run_names.new_run_name() != "taken"


# --------------------------------------------------------------------------- metrics.jsonl


def test_metrics_reader_is_incremental_and_tolerates_a_partial_line(tmp_path: Path) -> None:
    path = tmp_path / METRICS_FILE
    reader = run_folder.MetricsReader(path)
    assert reader.read() == []
    path.write_text('{"status": "started"}\n{"epoch": 1, "loss": 2.0}\n{"epoch": 2, "lo')
    assert [r.get("epoch") for r in reader.read()] == [None, 1]
    with path.open("a") as handle:
        handle.write('ss": 1.5}\nnot json\n')
    assert [r.get("epoch") for r in reader.read()] == [None, 1, 2]
    path.unlink()
    path.write_text('{"status": "started"}\n')  # a new file (run restarted): read again from the start
    assert reader.read() == [{"status": "started"}]


# --------------------------------------------------------------------------- listing and progress


def test_list_runs_reads_status_best_val_loss_test_accuracy_and_duration(output: Path) -> None:
    write_run(output, "done", [{"status": "started", "time": 100.0}, epoch(1, 2.0), epoch(2, 1.5), epoch(3, 1.7),
                               {"status": "finished", "elapsed": 31.0, "epochs_planned": 3}],
              test_results={"model": {"top1": 0.41, "top5": 0.8}, "baselines": {"bigram": {"top1": 0.3}}})
    write_run(output, "crashed", [{"status": "started", "time": 200.0}, epoch(1, 2.2)], model=False)
    write_run(output, "broke", [{"status": "started", "time": 50.0}, {"status": "failed", "error": "boom"}], model=False)
    listed = {run.name: run for run in follow.list_runs()}
    assert [run.name for run in follow.list_runs()] == ["crashed", "done", "broke"]  # newest first
    done = listed["done"]
    assert done.status == "finished" and done.best_val_loss == 1.5 and done.epochs_done == 3
    assert done.test_top1 == 0.41 and done.test_top5 == 0.8 and done.duration_s == 31.0
    # as config.json says; settings added since (schedule, warm-up, mixed precision) read as the runs of then did
    assert done.config == TrainConfig(epochs=3, lr=0.001, model=ModelConfig(lstm_units=64, cell="gru", **MODEL_BEFORE_SETTING),
                                      **BEFORE_SETTING)
    assert listed["crashed"].status == "interrupted" and listed["crashed"].test_top1 is None
    assert listed["broke"].status == "failed" and listed["broke"].best_val_loss is None


def test_a_run_without_metrics_lists_by_its_oldest_file_not_by_a_file_added_later(output: Path) -> None:
    old = write_run(output, "old", [], test_results={"model": {"top1": 0.1}})
    os.utime(old / MODEL_FILE, (1000.0, 1000.0))
    write_run(output, "new", [{"status": "started", "time": 5000.0}])
    (old / "model.inference.npz").write_bytes(b"derived later, on first use")  # moves the folder's own time
    assert [run.name for run in follow.list_runs()][:2] == ["new", "old"]


def test_progress_gives_epoch_and_eta_while_running(output: Path) -> None:
    write_run(output, "live", [{"status": "started", "time": 0.0}, epoch(1, 2.0, seconds=10), epoch(2, 1.8, seconds=20)],
              config={"epochs": 10}, model=False)
    held = acquire_training_lock("live")
    held.record(TrainingLock(os.getpid(), "live", 1000.0))
    try:
        progress = follow.run_progress("live", now=1100.0)
    finally:
        held.release()
    assert progress.status == "running" and progress.epoch == 2 and progress.epochs_planned == 3
    assert progress.elapsed_s == pytest.approx(100.0)
    assert progress.eta_s == pytest.approx(15.0)  # mean 15 s per epoch, one epoch left of the 3 planned
    assert 0.6 < progress.fraction < 0.7
    with pytest.raises(InputError, match="no run named 'gone'"):
        follow.run_progress("gone")


# --------------------------------------------------------------------------- background process


def test_start_runs_in_background_holds_the_lock_and_stops(output: Path, fake_trainer: dict) -> None:
    name = processes.start_training(TrainConfig(epochs=200, run_name="bg"))
    assert name == "bg"
    written = TrainConfig.from_file(output / "runs" / "bg" / CONFIG_FILE)  # the config the trainer was started from
    assert written == TrainConfig(epochs=200, run_name="bg")
    lock = current_training()
    assert lock is not None and lock.run == "bg" and lock.pid != os.getpid()
    assert os.getsid(lock.pid) == lock.pid  # its own session: outlives the page
    with pytest.raises(InputError, match="already running: run 'bg' \\(pid "):
        processes.start_training(TrainConfig(epochs=1))
    assert wait_until(lambda: follow.run_progress("bg").epoch >= 1)
    processes.stop_training("bg")
    assert (output / "runs" / "bg" / STOP_FILE).exists()
    assert wait_until(lambda: current_training() is None)
    summary = {run.name: run for run in follow.list_runs()}["bg"]
    assert summary.status == "stopped" and 1 <= summary.epochs_done < 200
    assert (output / "runs" / "bg" / TRAIN_OUTPUT_FILE).exists()
    with pytest.raises(InputError, match="not running"):
        processes.stop_training("bg")


def test_stop_kills_a_trainer_that_ignores_stop_after_the_grace_period(output: Path, fake_trainer: dict) -> None:
    fake_trainer["obey"] = "ignore"
    processes.start_training(TrainConfig(epochs=500, run_name="stubborn"))
    assert wait_until(lambda: follow.run_progress("stubborn").epoch >= 1)
    processes.stop_training("stubborn", grace_s=0.3)
    assert wait_until(lambda: current_training() is None, timeout=15)
    assert {run.name: run for run in follow.list_runs()}["stubborn"].status == "stopped"


# --------------------------------------------------------------------------- choosing


def test_set_active_and_tensorboard_command(output: Path) -> None:
    write_run(output, "good", [{"status": "finished"}])
    write_run(output, "unfinished", [{"status": "started"}], model=False)
    active_model.set_active("good")
    assert paths.active_model_dir() == (output / "runs" / "good").resolve()
    assert active_model.active_run_name() == "good"
    with pytest.raises(InputError, match="no model.keras"):
        active_model.set_active("unfinished")
    with pytest.raises(InputError, match="no run named"):
        active_model.set_active("deleted")
    # relative, never the server's absolute path (issue 25, item 11): the output folder here is outside the project
    assert tensorboard_command("good") == f'tensorboard --logdir "$CHORDSMITH_OUTPUT"/runs/good/{LOGS_DIR}'
    assert str(output) not in tensorboard_command("good")


def test_format_duration() -> None:
    assert format_duration(None) == "—"
    assert format_duration(42) == "42s"
    assert format_duration(185) == "3m 05s"
    assert format_duration(3720) == "1h 02m"


# --------------------------------------------------------------------------- one real training


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("core.training.train") is None or not paths.CORPUS_TABLE.exists(),
                    reason="needs core/training/train.py and the shipped corpus table")
def test_a_tiny_real_training_finishes(output: Path) -> None:
    name = processes.start_training(TrainConfig.from_values({"epochs": 1, "batch_size": 32, "lstm_units": 16, "embedding_dim": 8,
                                                        "lstm_layers": 1, "max_train_windows": 64, "run_name": "tiny"}))
    # the bound only guards against a hang: a 64-window epoch takes seconds idle, minutes on a machine loaded 10+
    finished = wait_until(lambda: current_training() is None, timeout=600)
    log = (output / "runs" / name / TRAIN_OUTPUT_FILE).read_text()
    if not finished:
        processes._terminate(current_training().pid, wait_s=2)
    assert finished, log[-2000:]
    summary = {run.name: run for run in follow.list_runs()}["tiny"]
    assert summary.status == "finished", log[-2000:]
    assert summary.epochs_done == 1 and summary.best_val_loss is not None and summary.has_model


def test_model_in_use_reads_the_active_runs_test_results(output: Path) -> None:
    write_run(output, "chosen", [{"status": "finished"}], test_results={"model": {"top1": 0.5, "top5": 0.9}, "n": 10})
    active_model.set_active("chosen")
    model = active_model.model_in_use()
    assert model.label == "run chosen" and model.exists
    assert model.test_top1 == 0.5 and model.test_metrics == {"model.top1": 0.5, "model.top5": 0.9, "n": 10.0}
    (output / "active_model.txt").unlink()
    assert active_model.model_in_use().label == "models/default"


def test_runs_frame_lists_each_run_once(output: Path) -> None:
    write_run(output, "one", [{"status": "started", "time": 1.0}, epoch(1, 2.0), {"status": "finished", "elapsed": 61.0,
                                                                                   "reason": "epochs completed"}])
    table = runs_frame(follow.list_runs())
    assert table.loc[0, "run"] == "one" and table.loc[0, "duration"] == "1m 01s"
    assert table.loc[0, "epochs"] == "1/3" and "units 64" in table.loc[0, "settings"]
    assert table.loc[0, "ended because"] == "epochs completed"
    assert runs_frame([]).empty


def test_run_to_follow_metrics_by_run_and_output_tail(output: Path) -> None:
    assert follow.run_to_follow() is None
    write_run(output, "old", [{"status": "started", "time": 1.0}, epoch(1, 2.0), {"status": "finished"}])
    write_run(output, "new", [{"status": "started", "time": 2.0}, {"status": "failed"}])
    (output / "runs" / "new" / TRAIN_OUTPUT_FILE).write_text("".join(f"line {i}\n" for i in range(100)))
    assert follow.run_to_follow() == "new"
    assert follow.run_to_follow("old") == "old"
    assert follow.run_to_follow("deleted") == "new"
    assert follow.run_to_follow("../etc") == "new"
    assert [r["epoch"] for r in follow.metrics_by_run(["old", "new"])["old"]] == [1]
    with pytest.raises(InputError, match="no run named 'deleted'"):
        follow.metrics_by_run(["old", "deleted"])
    assert follow.train_output_tail("new", lines=2) == "line 98\nline 99"
    assert follow.train_output_tail("old") == ""


def test_test_accuracy_reads_the_evaluators_layout(output: Path) -> None:
    evaluated = {"split": "test", "model": "run x", "test_windows": 10,
                 "models": {"lstm": {"top1": 0.44, "top5": 0.78, "perplexity": 8.0},
                            "bigram": {"top1": 0.3, "top5": 0.6, "perplexity": 12.0}},
                 "per_genre": {"pop": {"lstm": {"top1": 0.5}}}}
    assert run_folder.model_test_accuracy(evaluated) == (0.44, 0.78)
    assert run_folder.model_test_accuracy({"models": {"lstm": {"top1": float("nan")}}}) == (None, None)
    assert run_folder.model_test_accuracy(None) == (None, None)
    write_run(output, "evaluated", [{"status": "finished"}], test_results=evaluated)
    active_model.set_active("evaluated")
    model = active_model.model_in_use()
    assert model.test_top1 == 0.44 and model.test_metrics["bigram.perplexity"] == 12.0
    assert not any(key.startswith("per_genre") for key in model.test_metrics)
