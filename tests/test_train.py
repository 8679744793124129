"""Training runs: every artifact is written, the STOP file and time budget stop cleanly, bad values are refused."""

from __future__ import annotations

import csv
import json
import time
from dataclasses import replace

import pytest

from core.cli import build_parser, main
from core.cli.train import config_from_args
from core.config import ModelConfig, TrainConfig
from core.errors import InputError
from core.model import load_model
from core.run_files import (
    BEST_CHECKPOINT,
    CONFIG_FILE,
    FINAL_STATUSES,
    HISTORY_FILE,
    LOGS_DIR,
    METRICS_FILE,
    MODEL_FILE,
    STOP_FILE,
    TRAINING_LOG_FILE,
    request_stop,
)
from core.training.callbacks import StopFileCallback, TimeBudgetCallback
from core.training.run_folder import read_metrics
from core.training.schedule import FLOOR_SHARE
from core.training.train import load_run_config, train
from tests.progression_frames import progression_frame

TINY_MODEL = ModelConfig(embedding_dim=8, genre_embedding_dim=4, mood_embedding_dim=4, key_embedding_dim=4,
                         scale_type_embedding_dim=2, conditioning_units=8, lstm_units=16)


def _config(**overrides) -> TrainConfig:
    values = {"batch_size": 8, "epochs": 1, "seed": 1, "run_name": "smoke", "write_reports": False, "model": TINY_MODEL}
    return TrainConfig(**{**values, **overrides})


def test_one_epoch_writes_every_artifact(tmp_path):
    records = []
    run_dir = train(_config(max_train_windows=40), frame=progression_frame(5), progress_callback=records.append,
                    run_dir=tmp_path / "smoke")
    for name in (CONFIG_FILE, MODEL_FILE, BEST_CHECKPOINT, HISTORY_FILE, METRICS_FILE, TRAINING_LOG_FILE):
        assert (run_dir / name).is_file(), name
    assert (run_dir / LOGS_DIR).is_dir() and any((run_dir / LOGS_DIR).rglob("*"))
    assert not list(run_dir.rglob(".*partial*"))  # atomic writes leave no temporary files

    lines = read_metrics(run_dir)
    assert lines == records  # the progress callback saw exactly what was written
    assert [r["status"] for r in lines] == ["started", "running", "finished"]
    epoch = lines[1]
    for key in ("epoch", "loss", "accuracy", "top5", "val_loss", "val_accuracy", "val_top5", "lr", "seconds", "elapsed",
                "epochs_planned"):
        assert epoch[key] is not None, key
    assert epoch["epoch"] == 1 and epoch["epochs_planned"] == 1
    assert epoch["lr"] == pytest.approx(TrainConfig().lr * FLOOR_SHARE)  # the default cosine schedule starts its warm-up
    assert lines[-1]["epochs_completed"] == 1 and lines[0]["train_windows"] == 40

    with open(run_dir / TRAINING_LOG_FILE, encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 1
    history = json.loads((run_dir / HISTORY_FILE).read_text(encoding="utf-8"))
    assert len(history["loss"]) == 1 and "val_top5" in history
    assert load_run_config(run_dir) == _config(max_train_windows=40)
    assert TrainConfig.from_file(run_dir / CONFIG_FILE) == _config(max_train_windows=40)  # what train --config reads
    model = load_model(run_dir / MODEL_FILE)
    assert model.get_layer("lstm_1").units == 16
    from core.inference_weights import file_sha256, read_inference_weights

    for saved in (run_dir / MODEL_FILE, run_dir / BEST_CHECKPOINT):  # inference weights beside each
        assert read_inference_weights(saved, file_sha256(saved)) is not None, saved

    with pytest.raises(InputError, match="already holds a run"):
        train(_config(), frame=progression_frame(1), run_dir=run_dir)


def test_stop_file_stops_training_at_the_end_of_a_batch(tmp_path):
    run_dir = tmp_path / "stopped"

    def stop_when_started(record: dict) -> None:
        if record["status"] == "started":
            request_stop(run_dir)

    started = time.monotonic()
    train(_config(epochs=50, batch_size=4), frame=progression_frame(3), progress_callback=stop_when_started, run_dir=run_dir)
    lines = read_metrics(run_dir)
    assert lines[-1]["status"] == "stopped" and lines[-1]["reason"] == "stop file"
    assert lines[-1]["epochs_completed"] == 1 and len(lines) == 3
    assert (run_dir / MODEL_FILE).is_file() and (run_dir / BEST_CHECKPOINT).is_file()
    assert time.monotonic() - started < 60


class _FakeModel:
    stop_training = False


def test_time_budget_and_stop_file_callbacks_flag_the_model(tmp_path):
    budget = TimeBudgetCallback(max_minutes=1e-6)
    budget.set_model(_FakeModel())
    budget.on_train_begin()
    time.sleep(0.01)
    budget.on_train_batch_end(0)
    assert budget.triggered and budget.model.stop_training

    stop = StopFileCallback(tmp_path / STOP_FILE)
    stop.set_model(_FakeModel())
    stop.on_train_batch_end(0)
    assert not stop.triggered
    request_stop(tmp_path)
    stop.on_train_batch_end(1)
    assert stop.triggered and stop.model.stop_training
    assert set(FINAL_STATUSES) == {"finished", "stopped", "failed"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"epochs": 0}, "epochs"), ({"epochs": -3}, "epochs"), ({"lr": 0.0}, "learning rate"), ({"lr": -1e-3}, "learning rate"),
        ({"lr": 1.5}, "learning rate"), ({"batch_size": 0}, "batch size"), ({"max_minutes": -1}, "time budget"),
        ({"max_minutes": float("nan")}, "time budget"), ({"epochs": float("inf")}, "epochs"), ({"run_name": "a/b"}, "run name"),
        ({"run_name": ".."}, "run name"), ({"model": ModelConfig(dropout=1.2)}, "dropout"),
    ],
)
def test_bad_values_are_input_errors_before_anything_is_written(tmp_path, overrides, message):
    with pytest.raises(InputError, match=message):
        train(_config(**overrides), frame=progression_frame(1), run_dir=tmp_path / "bad")
    assert not (tmp_path / "bad").exists()


def test_command_line_reports_bad_values_on_one_line(capsys):
    assert main(["train", "--epochs", "0"]) == 2
    assert main(["train", "--lr", "2"]) == 2
    assert main(["train", "--reproduce-default", "--lstm-units", "64"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)


def test_train_command_starts_from_a_config_file_and_flags_override_it(tmp_path):
    path = tmp_path / CONFIG_FILE
    path.write_text(json.dumps({"train": _config(epochs=7, max_minutes=40.0).to_dict(), "data": {"train_windows": 1}}))
    args = build_parser().parse_args(["train", "--config", str(path), "--epochs", "3", "--max-minutes", "0",
                                      "--lstm-units", "32", "--no-augment"])
    expected = _config(epochs=3, augment=False, model=replace(TINY_MODEL, lstm_units=32))  # 0 minutes: no budget
    assert config_from_args(args) == expected
    assert config_from_args(build_parser().parse_args(["train", "--config", str(path)])) == _config(epochs=7, max_minutes=40.0)


def test_train_command_refuses_a_bad_config_file_on_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    for text, words in (('{"epochs": 0}', "epochs must be"), ('{"epoch": 3}', "unknown setting(s): epoch"),
                        ("{not json", "not valid JSON"), ('{"model": {"lstm_units": 1e9}}', "lstm units must be")):
        bad.write_text(text)
        assert main(["train", "--config", str(bad)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"error: {bad}: ") and words in err and len(err.splitlines()) == 1
    assert main(["train", "--config", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the config file ") and "cannot be read" in err and len(err.splitlines()) == 1


def test_summary_command_prints_parameters_and_writes_a_diagram(tmp_path, capsys):
    diagram = tmp_path / "model_architecture.svg"
    assert main(["summary", "--lstm-units", "16", "--embedding-dim", "8", "--cell", "gru", "--attention",
                 "--diagram", str(diagram)]) == 0
    out = capsys.readouterr().out
    assert "gru_1" in out and "attention" in out and "parameters" in out.lower()
    assert diagram.read_text(encoding="utf-8").startswith("<svg") and diagram.with_suffix(".txt").is_file()


def test_reports_run_after_the_model_is_saved_and_before_the_closing_line(tmp_path):
    seen = []

    def reports(run_dir):
        seen.append(((run_dir / MODEL_FILE).is_file(), [r["status"] for r in read_metrics(run_dir)]))
        return ["evaluate_run: RuntimeError: no test songs"]

    run_dir = train(_config(write_reports=True, max_train_windows=16), frame=progression_frame(2),
                    run_dir=tmp_path / "reported", reports=reports)
    assert seen == [(True, ["started", "running"])]  # the model exists; the run has not closed yet
    closing = read_metrics(run_dir)[-1]
    assert closing["status"] == "finished" and closing["report_errors"] == ["evaluate_run: RuntimeError: no test songs"]

    called = []
    train(_config(write_reports=False, max_train_windows=16), frame=progression_frame(2),
          run_dir=tmp_path / "unreported", reports=called.append)
    assert called == []  # write_reports=False: no reports, whatever the caller hands in


def test_the_command_line_hands_the_trainer_the_run_reports(tmp_path, monkeypatch):
    import core.training.train as trainer
    from core.evaluation.reports import write_run_reports

    handed = {}

    def fake_train(config, **kwargs):
        handed.update(kwargs)
        return tmp_path / "run"

    monkeypatch.setattr(trainer, "train", fake_train)
    monkeypatch.setattr("core.paths.RUNS_DIR", tmp_path / "runs")
    monkeypatch.setattr("core.paths.OUTPUT_DIR", tmp_path)
    assert main(["train", "--run-name", "handed", "--epochs", "1"]) == 0
    assert handed["reports"] is write_run_reports
