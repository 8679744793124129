"""The model: the guide's architecture, masking of padding, causality, variants and save/load."""

from __future__ import annotations

import numpy as np
import pytest

from core.config import ModelConfig
from core.dataset import CHORD_INPUT, encode_frame
from core.errors import InputError
from core.model import (
    MaskedSparseCategoricalCrossentropy,
    build_model,
    compile_model,
    load_model,
    save_model,
)
from core.run_files import MODEL_FILE
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB
from tests.progression_frames import progression_frame

TINY = {"embedding_dim": 8, "genre_embedding_dim": 4, "mood_embedding_dim": 4, "key_embedding_dim": 4,
        "scale_type_embedding_dim": 2, "conditioning_units": 8, "lstm_units": 16}


def _tiny(**overrides) -> ModelConfig:
    return ModelConfig(**{**TINY, **overrides})


def _predict(model, inputs) -> np.ndarray:
    """Probabilities from a direct (eager) call: no tf.function tracing, so tests stay fast."""
    return np.asarray(model({k: np.asarray(v) for k, v in inputs.items()}, training=False))


def _batch():
    encoded = encode_frame(progression_frame(1, splits=("train",)), 12)
    return encoded.inputs(), encoded.targets


def test_default_model_is_the_guides_architecture():
    import keras

    model = build_model(ModelConfig())
    assert model.output_shape == (None, 12, VOCAB.size)
    assert [i.name for i in model.inputs] == [
        "chord_sequence_input", "genre_input", "mood_input", "key_input", "scale_type_input"]
    chord_embedding = model.get_layer("chord_embedding")
    assert chord_embedding.mask_zero and chord_embedding.output_dim == 128
    dims = {n: model.get_layer(f"{n}_embedding").output_dim for n in ("genre", "mood", "key", "scale_type")}
    assert dims == {"genre": 16, "mood": 16, "key": 12, "scale_type": 4}
    assert model.get_layer("conditioning_dense").units == 128
    assert model.get_layer("conditioning_dense").get_config()["activation"] == "relu"
    assert model.get_layer("conditioning_repeat").n == 12
    assert model.get_layer("sequence_concat").output.shape == (None, 12, 256)
    for name in ("lstm_1", "lstm_2"):
        layer = model.get_layer(name)
        assert isinstance(layer, keras.layers.LSTM) and layer.units == 256 and layer.return_sequences
    assert model.get_layer("dropout_1").rate == model.get_layer("dropout_2").rate == 0.3
    output = model.get_layer("output_dense")
    assert isinstance(output, keras.layers.TimeDistributed)
    assert output.layer.get_config()["activation"] == "softmax"
    assert 1_000_000 < model.count_params() < 3_000_000


def test_gru_and_attention_variants_output_distributions():
    inputs, _ = _batch()
    for config in (_tiny(cell="gru"), _tiny(attention=True, attention_heads=2), _tiny(lstm_layers=3)):
        model = build_model(config)
        probabilities = _predict(model, inputs)
        assert probabilities.shape == (len(inputs[CHORD_INPUT]), 12, VOCAB.size)
        np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)
        assert all(model.get_layer(name) for name in config.recurrent_layer_names())
    assert build_model(_tiny(cell="gru")).get_layer("gru_1").__class__.__name__ == "GRU"


@pytest.mark.parametrize("attention", [False, True])
def test_predictions_are_causal(attention):
    """A later chord never changes an earlier step's prediction (so padding after a window cannot either)."""
    model = build_model(_tiny(attention=attention, attention_heads=2))
    inputs, _ = _batch()
    changed = {k: v.copy() for k, v in inputs.items()}
    changed[CHORD_INPUT][:, 6:] = VOCAB.id_of_symbol("F#dim7")
    before, after = _predict(model, inputs), _predict(model, changed)
    np.testing.assert_allclose(before[:, :6], after[:, :6], atol=1e-6)


def _sharpen(model) -> None:
    """Give an untrained model peaked, padding-favouring outputs so masked and unmasked numbers differ clearly."""
    import keras

    keras.utils.set_random_seed(7)
    output = model.get_layer("output_dense")
    kernel, bias = output.get_weights()
    rng = np.random.default_rng(7)
    bias = rng.normal(0.0, 2.0, size=bias.shape).astype(bias.dtype)
    bias[PAD_ID] = 4.0  # padding targets would look easy if they were counted
    bias[VOCAB.encode(["C", "G", "Am", "F", "E7"])] = [4.5, 3.5, 3.5, 3.0, 3.0]  # some real targets are likely
    output.set_weights([kernel * 20.0, bias])


def _masked_reference(probabilities: np.ndarray, targets: np.ndarray) -> tuple[float, float, float]:
    """Hand-computed loss, accuracy and top-5 accuracy over the non-padding targets."""
    mask = targets != PAD_ID
    picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
    cross_entropy = -np.log(np.clip(picked, 1e-7, 1 - 1e-7))
    loss = float((cross_entropy * mask).sum() / mask.sum())
    accuracy = float(((probabilities.argmax(-1) == targets) & mask).sum() / mask.sum())
    rank = (probabilities > picked[..., None]).sum(-1)  # how many tokens beat the target
    top5 = float(((rank < 5) & mask).sum() / mask.sum())
    return loss, accuracy, top5


def test_loss_and_metrics_ignore_padding_exactly():
    model = compile_model(build_model(_tiny()))
    _sharpen(model)
    inputs, targets = _batch()
    assert (targets == PAD_ID).any() and (targets != PAD_ID).any()
    size = len(targets)
    result = model.evaluate(inputs, targets, batch_size=size, verbose=0, return_dict=True)
    probabilities = _predict(model, inputs)
    loss, accuracy, top5 = _masked_reference(probabilities, targets)
    assert result["loss"] == pytest.approx(loss, abs=1e-5)
    assert result["accuracy"] == pytest.approx(accuracy, abs=1e-6)
    assert result["top5"] == pytest.approx(top5, abs=1e-6)

    # an unmasked mean would differ: padding really is excluded
    picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
    assert abs(float(-np.log(picked).mean()) - loss) > 0.5
    assert 0.0 < accuracy < top5 < 1.0

    # whatever sits in the padded input positions (targets stay PAD there), the loss and metrics are unchanged
    padded_inputs = {k: v.copy() for k, v in inputs.items()}
    chord_input = padded_inputs[CHORD_INPUT]
    rng = np.random.default_rng(0)
    pad_positions = chord_input == PAD_ID
    chord_input[pad_positions] = rng.integers(3, VOCAB.size, size=pad_positions.sum())
    changed = model.evaluate(padded_inputs, targets, batch_size=size, verbose=0, return_dict=True)
    for name in ("loss", "accuracy", "top5"):
        assert changed[name] == pytest.approx(result[name], abs=1e-6)


def test_a_window_scores_the_same_alone_or_beside_longer_windows():
    """Per-token loss of a short window does not depend on the batch's other (longer) windows."""
    model = compile_model(build_model(_tiny()))
    inputs, targets = _batch()
    short = 0  # C G Am F + END
    one_window = {k: v[short : short + 1] for k, v in inputs.items()}
    alone = model.evaluate(one_window, targets[short : short + 1], verbose=0, return_dict=True)
    probabilities = _predict(model, inputs)
    loss, _, _ = _masked_reference(probabilities[short:short + 1], targets[short:short + 1])
    assert alone["loss"] == pytest.approx(loss, abs=1e-5)
    assert targets[short, 4] == END_ID and inputs[CHORD_INPUT][short, 0] == START_ID


def test_save_and_load_round_trip_gives_identical_predictions(tmp_path):
    model = compile_model(build_model(_tiny(attention=True, attention_heads=2)))
    inputs, targets = _batch()
    model.optimizer.build(model.trainable_variables)  # so the optimizer state is saved and restored too
    path = tmp_path / MODEL_FILE
    save_model(model, path)
    assert path.exists() and not list(tmp_path.glob(".*partial*"))
    loaded = load_model(path)
    np.testing.assert_array_equal(_predict(model, inputs), _predict(loaded, inputs))
    assert isinstance(loaded.loss, MaskedSparseCategoricalCrossentropy)  # compiled state comes back too
    with pytest.raises(InputError, match="not found"):
        load_model(tmp_path / "missing.keras")


def test_unrolled_twin_computes_the_same_function():
    config = _tiny()
    model = build_model(config)
    unrolled = build_model(config, unroll=True)
    unrolled.set_weights(model.get_weights())
    inputs, _ = _batch()
    np.testing.assert_allclose(_predict(model, inputs), _predict(unrolled, inputs), atol=1e-5)


def test_config_round_trips_and_rejects_bad_values():
    config = _tiny(cell="gru", attention=True)
    assert ModelConfig.from_json(config.to_json()) == config
    for bad in ({"cell": "rnn"}, {"dropout": 1.0}, {"lstm_units": 0}, {"sequence_length": 1}, {"condition_dropout": -0.1}):
        with pytest.raises(InputError):
            build_model(_tiny(**bad))
