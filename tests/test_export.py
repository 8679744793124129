"""Export: SavedModel, TFLite and ONNX artifacts load back in their own runtimes and match Keras.

One tiny random-weight model is exported once per format (through the CLI). Each artifact must
give Keras's probabilities to 1e-5 on real windows with padding and on a random probe batch,
fed by name in any order, and sampling through it must give the same chords as sampling
through the Keras model for a fixed seed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.conditions import Conditions
from core.dataset import encode_frame
from core.errors import InputError
from core.generation.decoder import KerasDecoder
from core.generation.generate import generate
from core.generation.key_decoder import key_relative_decoder
from core.generation.loading import Generator
from core.model import load_model, model_config_of
from core.serving.export import FORMATS, MANIFEST_FILE, PARITY_TOLERANCE, keras_probabilities, probe_inputs
from core.serving.runtimes import OnnxRunner, SavedModelRunner, TFLiteRunner, exported_generator, load_exported
from tests.sample_corpus import sample_frame
from tests.tiny_models import saved_tiny_model

pytestmark = pytest.mark.slow

RUNNER_TYPES = {"savedmodel": SavedModelRunner, "tflite": TFLiteRunner, "onnx": OnnxRunner}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(keras model, model folder, export folder) with every format exported via ``python -m core export``."""
    model_dir = saved_tiny_model(tmp_path_factory.mktemp("tiny"), seed=3)
    out = model_dir / "export"
    for fmt in FORMATS:
        assert main(["export", "--model", str(model_dir), "--format", fmt, "--out", str(out)]) == 0
    return load_model(model_dir, compile=False), model_dir, out


def _windows(model) -> dict[str, np.ndarray]:
    """Real table windows (every one padded) stacked on the probe batch (padded and unpadded rows)."""
    config = model_config_of(model)
    windows = encode_frame(sample_frame(), config.sequence_length).inputs()
    probe = probe_inputs(config, rows=12, seed=5)
    return {name: np.concatenate([windows[name], probe[name]]) for name in windows}


@pytest.mark.parametrize("fmt", FORMATS)
def test_exported_probabilities_match_keras(exported, fmt):
    model, _, out = exported
    runner = load_exported(out, fmt)
    assert isinstance(runner, RUNNER_TYPES[fmt])
    inputs = _windows(model)
    assert (inputs["chord_sequence_input"] == 0).any()  # padding is part of the check
    reordered = dict(reversed(list(inputs.items())))  # fed by name, whatever the order
    got = runner.predict(reordered)
    want = keras_probabilities(model, inputs)
    assert got.shape == want.shape
    assert float(np.abs(got - want).max()) <= PARITY_TOLERANCE
    single = runner.predict({k: v[:1] for k, v in inputs.items()})  # the batch dimension is dynamic
    assert float(np.abs(single - want[:1]).max()) <= PARITY_TOLERANCE


@pytest.mark.parametrize("fmt", FORMATS)
def test_generation_through_export_matches_keras(exported, fmt):
    model, model_dir, out = exported
    settings = {"conditions": Conditions.parse(genre="jazz", key="Am"), "length": 14, "num_samples": 4,
                "random_seed": 11, "temperature": 1.2, "seed_chords": ["Am"]}
    keras_decoder = key_relative_decoder(KerasDecoder(model), model_config_of(model).chord_encoding)
    through_keras = generate(Generator(keras_decoder, model_dir), **settings)
    through_export = generate(exported_generator(out, fmt), **settings)
    assert [s.symbols for s in through_export] == [s.symbols for s in through_keras]
    assert any(len(s.symbols) > 1 for s in through_keras)
    for a, b in zip(through_export, through_keras, strict=True):
        assert np.allclose(a.probabilities, b.probabilities, atol=1e-5)


def test_manifest_lists_every_format(exported):
    model, _, out = exported
    content = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    assert sorted(content["formats"]) == sorted(FORMATS)
    assert [i["name"] for i in content["inputs"]] == [t.name.split(":")[0] for t in model.inputs]
    assert content["output"]["name"] == "probabilities"
    assert len(content["vocabulary"]) == model_config_of(model).vocab_size
    for entry in content["formats"].values():
        assert entry["size_bytes"] > 0 and entry["max_abs_error"] <= PARITY_TOLERANCE
        assert (out / entry["path"]).exists()


def test_model_config_is_read_back_from_the_layers(exported):
    from core.model import build_model

    model, _, _ = exported
    rebuilt = build_model(model_config_of(model))
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]


def test_bad_format_and_paths_are_input_errors(exported, tmp_path, capsys):
    from core.serving.export import export_model

    model, _, out = exported
    with pytest.raises(InputError, match="unknown export format"):
        export_model(model, "coreml", tmp_path)
    with pytest.raises(InputError, match="not found"):
        load_exported(tmp_path / "missing.onnx")
    with pytest.raises(InputError, match="not an exported model"):
        load_exported(tmp_path)
    assert main(["export", "--model", str(tmp_path / "nowhere"), "--format", "onnx", "--out", str(tmp_path)]) == 2
    assert "no model.keras" in capsys.readouterr().err
