"""Model files that cannot be used (core/model_faults.py): one line saying why, on every command that loads a model.

Model files that cannot be used — empty, cut short, garbage, an old HDF5 file, a random zip, an
unknown layer, a Lambda layer safe mode refuses, a Keras model of another architecture, a model of
another vocabulary or other labels, NaN weights — are built here and given to every command that
loads a model (generate, score, evaluate, export, serve): each is one line saying why, status 1;
``serve`` fails before uvicorn starts. Damaged or mismatched inference weights beside a good
``.keras`` file are rebuilt from it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from core.cli import main
from core.errors import InputError, ModelFault
from core.inference_weights import weights_files
from core.model import save_model
from core.run_files import MODEL_FILE
from tests.cli_output import one_error_line
from tests.tiny_models import saved_tiny_model, tiny_model

ROOT = Path(__file__).resolve().parent.parent
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
    reference = _load_fresh(model_file).decoder.base.output_bias.copy()
    npz_path, json_path = weights_files(model_file)
    npz_path.write_bytes(npz_path.read_bytes()[:100])  # cut short
    np.testing.assert_array_equal(_load_fresh(model_file).decoder.base.output_bias, reference)
    json_path.write_text("{not json", encoding="utf-8")
    np.testing.assert_array_equal(_load_fresh(model_file).decoder.base.output_bias, reference)
    assert json.loads(json_path.read_text(encoding="utf-8"))["fast"] is True  # written again


def test_inference_weights_of_another_vocabulary_are_rebuilt_not_run(tmp_path) -> None:
    """A JSON naming this model's content and config, paired with a 50-token npz (its hash and shapes), is not trusted."""
    from core.inference_weights import save_inference_weights, weights_of_model

    model_file = saved_tiny_model(tmp_path / "run", seed=5) / MODEL_FILE
    reference = _load_fresh(model_file).decoder.base.output_bias.copy()
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
    np.testing.assert_array_equal(decoder.base.output_bias, reference)
