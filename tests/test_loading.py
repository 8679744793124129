"""Loading a model for inference: the framework-free weights beside a model file, and the one loader.

The NumPy decoder built from the ``.npz`` must compute exactly what the decoder built from the Keras
model's weights computes (the Keras parity itself is in test_generate.py and test_score.py); the
copy is derived once for a model without one and is ignored when the model file changes, when the
npz is not the one its JSON names, or when it would need pickles. ``load_generator`` and
``core.model.load_model`` accept a run folder, a ``models/`` folder and any ``.keras`` file.
"""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from core.errors import InputError, ModelFault
from core.generation.decoder import FastDecoder, KerasDecoder, make_decoder, sequence_log_probs
from core.generation.loading import load_generator
from core.inference_weights import (
    FORMAT_VERSION,
    file_sha256,
    read_inference_weights,
    weights_files,
    write_inference_weights,
)
from core.model import load_model, save_model
from core.run_files import BEST_CHECKPOINT, CHECKPOINTS_DIR, MODEL_FILE
from tests.tiny_models import saved_tiny_model, tiny_model

ROWS = np.random.default_rng(0).integers(3, 190, (6, 14))  # longer than the model's window: the decoder steps on
CONDITIONS = np.array([[1, 2, 3, 1], [0, 0, 0, 0], [5, 4, 24, 2], [10, 1, 7, 1], [2, 3, 12, 0], [3, 0, 1, 2]])


def _log_probs(decoder) -> np.ndarray:
    return sequence_log_probs(decoder, ROWS, CONDITIONS)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_npz_decoder_equals_the_keras_weights_decoder_exactly(tmp_path, cell: str) -> None:
    model = tiny_model(seed=5, cell=cell)
    save_model(model, tmp_path / MODEL_FILE)
    written = write_inference_weights(model, tmp_path / MODEL_FILE)
    npz_path, json_path = weights_files(tmp_path / MODEL_FILE)
    assert npz_path.is_file() and json_path.is_file() and written.fast
    read = read_inference_weights(tmp_path / MODEL_FILE, file_sha256(tmp_path / MODEL_FILE))
    assert read is not None and read.model_config["cell"] == cell
    np.testing.assert_array_equal(_log_probs(FastDecoder(read.decoder)), _log_probs(make_decoder(model)))
    description = json.loads(json_path.read_text(encoding="utf-8"))
    assert description["format_version"] == FORMAT_VERSION and description["vocab_size"] == 195
    assert description["layer_units"] == [16, 16] and description["model_config"]["lstm_units"] == 16


def test_a_model_without_weights_gets_them_once_and_a_changed_model_again(tmp_path) -> None:
    folder = saved_tiny_model(tmp_path / "run", seed=1)
    npz_path, json_path = weights_files(folder / MODEL_FILE)
    assert not json_path.exists()
    first = load_generator(folder)
    assert first.backend.startswith("fast numpy step") and npz_path.is_file() and json_path.is_file()
    assert load_generator(folder / MODEL_FILE) is first  # same file, same content: loaded once
    recorded = json.loads(json_path.read_text(encoding="utf-8"))["source_sha256"]

    save_model(tiny_model(seed=2), folder / MODEL_FILE)  # retrained in place: other content
    second = load_generator(folder)
    assert second is not first
    assert json.loads(json_path.read_text(encoding="utf-8"))["source_sha256"] != recorded
    np.testing.assert_array_equal(_log_probs(second.decoder.base), _log_probs(make_decoder(tiny_model(seed=2))))


def test_a_copy_that_does_not_match_is_ignored(tmp_path) -> None:
    model = tiny_model(seed=3)
    model_file = tmp_path / MODEL_FILE
    save_model(model, model_file)
    write_inference_weights(model, model_file)
    npz_path, json_path = weights_files(model_file)
    digest = file_sha256(model_file)

    arrays = dict(np.load(npz_path))
    arrays["output_dense.bias"] = arrays["output_dense.bias"] + 1.0
    np.savez(npz_path, **arrays)  # the npz changed behind the JSON's back
    assert read_inference_weights(model_file, digest) is None
    assert read_inference_weights(model_file, "0" * 64) is None  # made from other content

    write_inference_weights(model, model_file)
    description = json.loads(json_path.read_text(encoding="utf-8"))
    buffer = io.BytesIO()
    np.savez(buffer, **{**dict(np.load(npz_path)), "chord_embedding": np.array([object()], dtype=object)})
    npz_path.write_bytes(buffer.getvalue())  # a pickled array, with a JSON that vouches for it
    description["weights_sha256"] = file_sha256(npz_path)
    description["arrays"]["chord_embedding"] = [1]
    json_path.write_text(json.dumps(description), encoding="utf-8")
    assert read_inference_weights(model_file, digest) is None  # never unpickled: allow_pickle=False refuses it


def test_attention_models_record_that_they_need_keras(tmp_path) -> None:
    folder = saved_tiny_model(tmp_path, seed=4, attention=True)
    generator = load_generator(folder)
    npz_path, json_path = weights_files(folder / MODEL_FILE)
    assert isinstance(generator.decoder.base, KerasDecoder) and not npz_path.exists()
    assert json.loads(json_path.read_text(encoding="utf-8"))["fast"] is False


def test_any_keras_file_a_run_folder_or_a_models_folder_loads(tmp_path) -> None:
    run = saved_tiny_model(tmp_path / "runs" / "x", seed=6)
    (run / CHECKPOINTS_DIR).mkdir()
    shutil.copy(run / MODEL_FILE, run / BEST_CHECKPOINT)
    best = load_generator(run / BEST_CHECKPOINT)
    assert best.model_file == (run / BEST_CHECKPOINT).resolve()
    assert weights_files(run / BEST_CHECKPOINT)[0].is_file()  # checkpoints/best.inference.npz
    np.testing.assert_array_equal(_log_probs(best.decoder), _log_probs(load_generator(run).decoder))
    assert load_model(run / BEST_CHECKPOINT, compile=False).get_layer("lstm_1").units == 16
    assert load_model(run, compile=False).get_layer("lstm_1").units == 16


def test_missing_models_are_input_errors_and_unreadable_ones_model_faults(tmp_path) -> None:
    with pytest.raises(InputError, match="no model.keras in"):
        load_generator(tmp_path / "missing")
    with pytest.raises(InputError, match="model file not found"):
        load_generator(tmp_path / "missing.keras")
    (tmp_path / MODEL_FILE).write_bytes(b"not a zip file")
    for load in (load_generator, load_model):
        with pytest.raises(ModelFault, match="cannot load the model .*not a Keras model file"):
            load(tmp_path)
