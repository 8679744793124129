"""Hardening of the command line (issue 13, parts 1, 2 and 7): one ``error:`` line, never a traceback.

Model files that cannot be used — empty, cut short, garbage, an old HDF5 file, a random zip, an
unknown layer, a Lambda layer safe mode refuses, a Keras model of another architecture, a model of
another vocabulary or other labels, NaN weights — are built here and given to every command that
loads a model (generate, score, evaluate, export, serve): each is one line saying why, status 1.
Damaged or mismatched inference weights beside a good ``.keras`` file are rebuilt from it. The
issue's own cases are regression tests; ``score`` reads stdin in bounded batches (10 MB with flat
memory, an over-long or non-UTF-8 line named by its number); ``serve`` fails before uvicorn starts.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.cli import TRACEBACK_VARIABLE, main
from core.errors import InputError, ModelFault
from core.inference_weights import weights_files
from core.model import save_model
from core.run_files import MODEL_FILE
from tests.tiny_models import saved_tiny_model, tiny_model

ROOT = Path(__file__).resolve().parent.parent

#: bad model file name -> a phrase its one-line error must hold.
BAD_MODELS: dict[str, str] = {
    "empty": "the file is empty",
    "truncated": "cut short",
    "garbage": "not a Keras model file",
    "hdf5": "HDF5",
    "random_zip": "not a Keras model (no config.json",
    "unknown_layer": "a layer this Keras does not know",
    "lambda": "refused by Keras safe mode",
    "dense": "not a Chordsmith model",
    "vocabulary": "another corpus (chord tokens: the model has 50",
    "genres": "another corpus (genres: the model has 3",
    "nan_weights": "NaN or infinite weights",
}
#: commands that load a model, with the flags they need besides --model.
MODEL_COMMANDS: dict[str, list[str]] = {
    "generate": [], "score": ["--chords", "C G Am F"], "evaluate": [],
    "export": ["--format", "onnx", "--out", "{tmp}/exported"], "serve": ["--port", "{port}"],
}


def _rewritten(source: Path, target: Path, change) -> Path:
    """A copy of the .keras archive ``source`` whose config.json went through ``change``."""
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for item in original.infolist():
            content = original.read(item.filename)
            copy.writestr(item, change(content) if item.filename == "config.json" else content)
    return target


def _build_bad_models(folder: Path) -> dict[str, Path]:
    import keras

    good = saved_tiny_model(folder / "good") / MODEL_FILE
    content = good.read_bytes()
    files = {name: folder / f"{name}.keras" for name in BAD_MODELS}
    files["empty"].write_bytes(b"")
    files["truncated"].write_bytes(content[: len(content) // 2])
    files["garbage"].write_bytes(bytes(range(256)) * 16)
    files["hdf5"].write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    with zipfile.ZipFile(files["random_zip"], "w") as archive:
        archive.writestr("notes.txt", "not a model")
    _rewritten(good, files["unknown_layer"], lambda text: text.replace(b'"LSTM"', b'"NoSuchLayer"'))
    inputs = keras.Input((3,))
    keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs)).save(files["lambda"])
    inputs = keras.Input((4,))
    keras.Model(inputs, keras.layers.Dense(2)(inputs)).save(files["dense"])
    save_model(tiny_model(vocab_size=50), files["vocabulary"])
    save_model(tiny_model(genre_count=3), files["genres"])
    broken = tiny_model(seed=3)
    kernel, bias = broken.get_layer("output_dense").get_weights()
    kernel[0, 0] = np.nan
    broken.get_layer("output_dense").set_weights([kernel, bias])
    save_model(broken, files["nan_weights"])
    return {"good": good, **files}


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory) -> dict[str, Path]:
    return _build_bad_models(tmp_path_factory.mktemp("bad-models"))


@pytest.fixture()
def small_frame(monkeypatch):
    """evaluate reads a few-song table instead of the shipped one."""
    import core.evaluation.evaluate
    from tests.test_evaluate import FRAME

    monkeypatch.setattr(core.evaluation.evaluate, "shipped_table", lambda: FRAME)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def one_error_line(capsys) -> str:
    """The single ``error:`` line a failed command wrote (asserting it is one line, without a traceback)."""
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.out + captured.err
    return lines[0]


# --------------------------------------------------------------------------- models that cannot be used


@pytest.mark.parametrize("command", list(MODEL_COMMANDS))
@pytest.mark.parametrize("bad", list(BAD_MODELS))
def test_a_model_that_cannot_be_used_is_one_line_and_status_1(bad_models, small_frame, tmp_path, capsys,
                                                             command: str, bad: str) -> None:
    flags = [f.format(tmp=tmp_path, port=_free_port()) for f in MODEL_COMMANDS[command]]
    assert main([command, "--model", str(bad_models[bad]), *flags]) == 1
    line = one_error_line(capsys)
    assert BAD_MODELS[bad] in line and str(bad_models[bad]) in line
    assert not (tmp_path / "exported").exists()


def test_serve_with_a_bad_model_stops_before_uvicorn_with_one_line(bad_models, tmp_path) -> None:
    done = subprocess.run([sys.executable, "-m", "core", "serve", "--port", str(_free_port()), "--model",
                           str(bad_models["truncated"])], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path)})
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot load the model") and done.stderr.count("\n") == 1, done.stderr
    assert "startup" not in done.stderr.lower() and done.stdout == ""


def test_loaders_raise_model_faults_the_pages_and_api_can_show(bad_models) -> None:
    from core.generation.loading import load_generator
    from core.model import load_model

    for load in (load_generator, load_model):
        with pytest.raises(ModelFault, match="another corpus"):
            load(bad_models["vocabulary"])
    with pytest.raises(InputError, match="model file not found"):  # a path that is not there is the input's fault
        load_generator(bad_models["good"].with_name("missing.keras"))


def _load_fresh(model_file: Path):
    from core.generation import loading

    loading._load.cache_clear()
    return loading.load_generator(model_file)


def test_damaged_inference_weights_are_rebuilt_from_the_keras_file(tmp_path) -> None:
    model_file = saved_tiny_model(tmp_path / "run", seed=4) / MODEL_FILE
    reference = _load_fresh(model_file).decoder.output_bias.copy()
    npz_path, json_path = weights_files(model_file)
    npz_path.write_bytes(npz_path.read_bytes()[:100])  # cut short
    np.testing.assert_array_equal(_load_fresh(model_file).decoder.output_bias, reference)
    json_path.write_text("{not json", encoding="utf-8")
    np.testing.assert_array_equal(_load_fresh(model_file).decoder.output_bias, reference)
    assert json.loads(json_path.read_text(encoding="utf-8"))["fast"] is True  # written again


def test_inference_weights_of_another_vocabulary_are_rebuilt_not_run(tmp_path) -> None:
    """A JSON naming this model's content and config, paired with a 50-token npz (its hash and shapes), is not trusted."""
    from core.inference_weights import save_inference_weights, weights_of_model

    model_file = saved_tiny_model(tmp_path / "run", seed=5) / MODEL_FILE
    reference = _load_fresh(model_file).decoder.output_bias.copy()
    other = tmp_path / "other" / MODEL_FILE
    other.parent.mkdir()
    save_inference_weights(weights_of_model(tiny_model(vocab_size=50), "unused"), other)
    (npz_path, json_path), (other_npz, other_json) = weights_files(model_file), weights_files(other)
    description = json.loads(json_path.read_text(encoding="utf-8"))
    foreign = json.loads(other_json.read_text(encoding="utf-8"))
    npz_path.write_bytes(other_npz.read_bytes())
    json_path.write_text(json.dumps({**description, "weights_sha256": foreign["weights_sha256"],
                                     "arrays": foreign["arrays"]}), encoding="utf-8")
    decoder = _load_fresh(model_file).decoder
    assert decoder.vocab_size == len(reference)
    np.testing.assert_array_equal(decoder.output_bias, reference)


# --------------------------------------------------------------------------- the issue's cases


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


# --------------------------------------------------------------------------- score reads stdin in batches


def test_score_streams_many_lines_in_order(tiny_dir, capsys, monkeypatch) -> None:
    from core.cli.line_input import BATCH_LINES

    progressions = ["C G Am F", "Dm7 G7 Cmaj7", "Am F C G"]
    count = BATCH_LINES * 2 + 7
    lines = "\n".join(progressions[i % 3] if i % 5 else "" for i in range(count))
    monkeypatch.setattr("sys.stdin", io.StringIO(lines))
    assert main(["score", "--model", tiny_dir, "--key", "C", "--format", "json"]) == 0
    results = json.loads(capsys.readouterr().out)
    expected = [progressions[i % 3] for i in range(count) if i % 5]
    assert [" ".join(r["chords"]) for r in results] == expected


@pytest.mark.parametrize(
    ("stdin", "needle"),
    [
        (b"C G\n\nC " + b"x" * 10_000_000, "line 3 of the input is longer than 4096 bytes"),
        (b"C G\nAm \xff\xfe F\n", "line 2 of the input is not UTF-8 text"),
        (b"C G\nC Q7\n", "line 2: unknown chord symbol 'Q7'"),
        (b"C G\n" + b"C G " * 40 + b"\n", "line 2: a progression may hold at most 64 chords, got 80"),
        (b"\n  \n", "no progressions"),
    ],
)
def test_bad_stdin_lines_are_named_by_number(tiny_dir, capsys, monkeypatch, stdin: bytes, needle: str) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    assert main(["score", "--model", tiny_dir]) == 2
    assert needle in one_error_line(capsys)


def test_a_reader_that_leaves_early_stops_score_quietly(tiny_dir, tmp_path) -> None:
    """``score < big | head -1``: the closed pipe ends the command with status 1 and nothing on stderr."""
    stdin = tmp_path / "many.txt"
    stdin.write_text("C G Am F\n" * 20_000, encoding="utf-8")
    with open(stdin, "rb") as given:
        process = subprocess.Popen([sys.executable, "-m", "core", "score", "--model", tiny_dir, "--key", "C"], cwd=ROOT,
                                   stdin=given, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env={**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path)})
        assert process.stdout.readline().split()[:2] == [b"C", b"G"]
        process.stdout.close()
        _, err = process.communicate(timeout=300)
    assert process.returncode == 1 and err == b"", err


PEAK_RSS_SCRIPT = """
import resource, sys
from core.cli import main
status = main(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)  # kilobytes on Linux
sys.exit(status)
"""


def _peak_rss_kb(argv: list[str], stdin: Path, tmp_path: Path) -> int:
    with open(stdin, "rb") as given:
        done = subprocess.run([sys.executable, "-c", PEAK_RSS_SCRIPT, *argv], stdin=given, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT, timeout=600,
                              env={**os.environ, "CHORDSMITH_OUTPUT": str(tmp_path)})
    assert done.returncode == 0, done.stderr
    return int(done.stderr.strip().splitlines()[-1])


def test_score_memory_stays_flat_over_10_mb_of_stdin(tiny_dir, tmp_path) -> None:
    """20,000 ten-chord progressions padded to 10 MB; read whole and scored at once they took ~500 MB more."""
    line = "C G Am F C G Am F C G"
    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_text((line.ljust(499) + "\n") * 20_000, encoding="utf-8")
    small.write_text((line.ljust(499) + "\n") * 4, encoding="utf-8")
    assert big.stat().st_size == 10_000_000
    argv = ["score", "--model", tiny_dir, "--key", "C"]
    baseline = _peak_rss_kb(argv, small, tmp_path)  # also writes the inference weights once
    growth_mb = (_peak_rss_kb(argv, big, tmp_path) - baseline) / 1024
    assert growth_mb < 300, f"peak RSS grew {growth_mb:.0f} MB over 10 MB of stdin"


# --------------------------------------------------------------------------- pages


def _page_showing(fault: str) -> None:
    """A page whose work raises ``fault`` inside :func:`studio.page.input_errors` (run by AppTest)."""
    import errno

    from core.errors import EnvironmentFault, InputError, ModelFault
    from studio.page import input_errors

    raised = {"input": InputError("bad value"), "environment": EnvironmentFault("the disk is full"),
              "model": ModelFault("cannot load the model x.keras: the file is empty"),
              "os": OSError(errno.ENOSPC, "No space left on device", "/tmp/x")}
    with input_errors():
        raise raised[fault]


@pytest.mark.parametrize(("fault", "shown"), [
    ("input", "bad value"), ("environment", "the disk is full"), ("model", "the file is empty"),
    ("os", "the disk is full (no space left on device): /tmp/x"),
])
def test_pages_show_faults_and_unusable_models_as_errors(fault: str, shown: str) -> None:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_page_showing, args=(fault,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [shown] or shown in at.error[0].value
