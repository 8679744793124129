"""Commands that need TensorFlow keep its start-up and C++ log lines off the terminal; real errors still get through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from core.cli.tensorflow_output import quiet_tensorflow
from core.run_files import MODEL_FILE

REPO = Path(__file__).resolve().parent.parent


def test_native_writes_inside_the_block_are_hidden_unless_verbose(capfd) -> None:
    with quiet_tensorflow():
        os.write(2, b"I0000 cpu_feature_guard.cc: noise\n")
    os.write(2, b"after\n")
    with quiet_tensorflow(verbose=True):
        os.write(2, b"shown with --verbose\n")
    assert capfd.readouterr().err == "after\nshown with --verbose\n"


def _cli(*argv: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    return subprocess.run([sys.executable, "-m", "core", *argv], cwd=REPO, capture_output=True, text=True, timeout=600,
                          env={**env, "CHORDSMITH_OUTPUT": str(tmp_path / "output")})


def test_a_tensorflow_command_prints_only_its_own_output(tmp_path: Path) -> None:
    done = _cli("summary", "--lstm-units", "8", "--diagram", str(tmp_path / "model.svg"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "Parameters:" in done.stdout and (tmp_path / "model.svg").is_file()


def test_an_error_after_tensorflow_loaded_is_still_one_line(tmp_path: Path) -> None:
    (tmp_path / MODEL_FILE).write_bytes(b"not a keras file")
    done = _cli("export", "--model", str(tmp_path), "--format", "onnx", "--out", str(tmp_path / "out"), tmp_path=tmp_path)
    assert done.returncode == 1  # the file named exists but cannot be used: a model fault, not bad input
    assert done.stderr.startswith("error: cannot load the model") and done.stderr.count("\n") == 1, done.stderr
