"""Scale-out training: strategies, the mirrored run's parity with one device, and a two-worker run on loopback.

Training under a strategy runs in subprocesses (``tests/distributed_training.py``): logical CPU
devices and multi-worker collectives can only be set up before TensorFlow starts in a process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.cli.train import config_from_args
from core.errors import InputError
from core.run_files import CONFIG_FILE, HISTORY_FILE, METRICS_FILE, MODEL_FILE
from core.training.distribute import STRATEGIES, cluster_spec, is_chief, make_strategy, validate_strategy
from tests.progression_frames import progression_frame

REPO_ROOT = Path(__file__).resolve().parent.parent
PROCESS_TIMEOUT = 240


def _start(run_dir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.distributed_training", str(run_dir), "--epochs", "1", *args]
    inherited = {name: value for name, value in os.environ.items() if name != "TF_CONFIG"}
    environment = {**inherited, "TF_CPP_MIN_LOG_LEVEL": "2", **(env or {})}
    return subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def _finish(process: subprocess.Popen) -> str:
    try:
        output, _ = process.communicate(timeout=PROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        pytest.fail(f"training process timed out:\n{output[-3000:]}")
    assert process.returncode == 0, output[-3000:]
    return output


def _history(run_dir: Path) -> dict[str, list[float]]:
    return json.loads((run_dir / HISTORY_FILE).read_text(encoding="utf-8"))


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [int(probe.getsockname()[1]) for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


# --- configuration ------------------------------------------------------------------------------------


def test_strategy_names_and_replica_flags_are_checked(monkeypatch):
    assert STRATEGIES == ("default", "mirrored", "multiworker")
    validate_strategy("default")
    validate_strategy("mirrored", 2)
    with pytest.raises(InputError, match="unknown strategy"):
        validate_strategy("horovod")
    with pytest.raises(InputError, match="at least 1"):
        validate_strategy("mirrored", 0)
    with pytest.raises(InputError, match="only applies to --strategy mirrored"):
        validate_strategy("default", 2)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(InputError, match="needs the TF_CONFIG"):
        validate_strategy("multiworker")
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(InputError, match="not a valid cluster description"):
        cluster_spec()
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 3}}))
    with pytest.raises(InputError, match="outside its 1 worker addresses"):
        cluster_spec()


def test_default_strategy_is_the_chief():
    strategy = make_strategy("default")
    assert strategy.num_replicas_in_sync == 1 and is_chief(strategy)


def test_train_flags_reach_the_config():
    from core.cli import build_parser

    args = build_parser().parse_args(["train", "--strategy", "mirrored", "--cpu-replicas", "2", "--batch-size", "64"])
    config = config_from_args(args)
    assert (config.strategy, config.cpu_replicas, config.batch_size) == ("mirrored", 2, 64)
    with pytest.raises(InputError, match="only applies"):
        config_from_args(build_parser().parse_args(["train", "--cpu-replicas", "2"]))


# --- runs ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_mirrored_on_two_cpu_devices_follows_the_single_device_run(tmp_path, monkeypatch):
    import core.training.train
    from core.model import load_model
    from tests.distributed_training import _unshuffled_dataset, comparable_config

    mirrored = _start(tmp_path / "mirrored", "--strategy", "mirrored", "--cpu-replicas", "2")
    monkeypatch.setattr(core.training.train, "make_dataset", _unshuffled_dataset)  # what the subprocess does too
    single_dir = core.training.train.train(comparable_config(epochs=1), frame=progression_frame(2), run_dir=tmp_path / "single")
    _finish(mirrored)

    config = json.loads((tmp_path / "mirrored" / CONFIG_FILE).read_text(encoding="utf-8"))["train"]
    assert (config["strategy"], config["cpu_replicas"], config["batch_size"]) == ("mirrored", 2, 16)
    single, distributed = _history(single_dir), _history(tmp_path / "mirrored")
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(distributed[key], single[key], rtol=1e-5, err_msg=key)
    for key in ("accuracy", "top5"):
        np.testing.assert_allclose(distributed[key], single[key], atol=1e-6, err_msg=key)
    single_weights = load_model(single_dir / MODEL_FILE).get_weights()
    mirrored_weights = load_model(tmp_path / "mirrored" / MODEL_FILE).get_weights()
    assert max(float(np.abs(a - b).max()) for a, b in zip(single_weights, mirrored_weights, strict=True)) < 1e-5


@pytest.mark.slow
def test_two_workers_on_loopback_train_one_model(tmp_path):
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    run_dir = tmp_path / "runs" / "multi"
    scratch = tmp_path / "scratch"  # the non-chief worker's temporary folder lands here (TMPDIR)
    scratch.mkdir()
    workers = [
        _start(run_dir, "--strategy", "multiworker",
               env={"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
                    "TMPDIR": str(scratch)})
        for index in range(2)
    ]
    for worker in workers:
        _finish(worker)
    assert (run_dir / MODEL_FILE).is_file() and (run_dir / HISTORY_FILE).is_file()
    assert list((tmp_path / "runs").iterdir()) == [run_dir]  # only the chief wrote the run
    assert [p.parent.name.startswith("chordsmith-worker1-") for p in scratch.rglob(MODEL_FILE)] == [True]
    records = [json.loads(line) for line in (run_dir / METRICS_FILE).read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in records] == ["started", "running", "finished"]
    history = _history(run_dir)
    assert np.isfinite(history["loss"]).all() and np.isfinite(history["val_loss"]).all()
    config = json.loads((run_dir / CONFIG_FILE).read_text(encoding="utf-8"))["train"]
    assert config["strategy"] == "multiworker"
