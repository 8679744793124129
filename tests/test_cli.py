"""The command line's promise (core/cli/__init__.py): bad input is one ``error:`` line with status 2, a fault status 1.

The cases a probe of every sub-command found are regression tests here; an unforeseen failure is
one line too, unless the traceback is asked for.
"""

from __future__ import annotations

import socket

import pytest

from core.cli import TRACEBACK_VARIABLE, main
from core.errors import InputError
from tests.cli_output import one_error_line
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory) -> str:
    return str(saved_tiny_model(tmp_path_factory.mktemp("tiny")))


@pytest.mark.parametrize(
    ("argv", "status", "needle"),
    [
        (["generate", "--lock", "1:C 1:G"], 2, "two locks at the same position"),
        (["generate", "--random-seed", "-1"], 2, "random seed"),
        (["generate", "--export", "{file}/sub"], 2, "--export"),
        (["generate", "--export", "{file}"], 2, "--export"),
        (["export", "--format", "onnx", "--out", "{file}/sub"], 2, "--out"),
        (["export", "--format", "onnx", "--out", "{file}"], 2, "--out"),
        (["summary", "--lstm-units", "100000"], 2, "lstm units must be a whole number from 1 to 4096"),
        (["summary", "--diagram", "{file}/model.svg"], 2, "--diagram"),
        (["train", "--run-name", ".."], 2, "run name '..' is not usable"),
        (["train", "--max-epochs-minutes", "nan"], 2, "time budget"),
        (["train", "--epochs", "inf"], 2, "epochs"),
        (["data", "batch", "--batch-size", "100000"], 2, "batch size must be a whole number from 1 to 8192"),
        (["data", "batch", "--seed", "-1"], 2, "seed"),
        (["data", "build", "--out", "{file}/table.csv.gz"], 2, "--out"),
        (["score", "--chords", " ".join(["C", "G"] * 40)], 2, "at most 64 chords, got 80"),
        (["serve", "--port", "99999"], 2, "--port"),
        (["serve", "--host", "no-such-host.invalid"], 2, "--host"),
    ],
)
def test_the_issues_cases_are_one_line(tiny_dir, tmp_path, capsys, argv, status, needle) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way", encoding="utf-8")
    argv = [part.format(file=blocker) for part in argv]
    if argv[0] in ("generate", "export", "score"):
        argv += ["--model", tiny_dir]
    assert main(argv) == status
    assert needle in one_error_line(capsys)


def test_non_finite_settings_in_a_config_dict_are_refused() -> None:
    from core.config import TrainConfig

    for value in (float("inf"), float("-inf"), float("nan")):
        with pytest.raises(InputError, match="epochs"):
            TrainConfig.from_dict({"epochs": value}).validate()


def test_a_taken_port_is_one_line_and_status_1(tiny_dir, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--model", tiny_dir, "--port", str(taken.getsockname()[1])]) == 1
    assert "is in use" in one_error_line(capsys)


def test_an_unforeseen_failure_is_one_line_unless_asked_for_the_traceback(monkeypatch, capsys) -> None:
    import core.cli.summary

    def crash(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(core.cli.summary, "run", crash)
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)
    assert main(["summary"]) == 1
    line = one_error_line(capsys)
    assert "unexpected RuntimeError: boom second line" in line and TRACEBACK_VARIABLE in line
    monkeypatch.setattr(core.cli.summary, "run", lambda args: (_ for _ in ()).throw(MemoryError()))
    assert main(["summary"]) == 1
    assert "ran out of memory" in one_error_line(capsys)
    monkeypatch.setattr(core.cli.summary, "run", crash)
    monkeypatch.setenv(TRACEBACK_VARIABLE, "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["summary"])
