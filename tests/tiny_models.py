"""Tiny random-weight models for tests of the decoder, generator, scorer and evaluator (no training)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.config import ModelConfig
from core.model import build_model, save_model
from core.run_files import MODEL_FILE
from core.vocabulary import END_ID

TINY = {"embedding_dim": 8, "genre_embedding_dim": 4, "mood_embedding_dim": 4, "key_embedding_dim": 4,
        "scale_type_embedding_dim": 2, "conditioning_units": 8, "lstm_units": 16, "attention_heads": 2}


def tiny_model(seed: int = 0, scale: float = 0.5, end_bias: float = 0.0, **overrides):
    """A tiny model with weights ~ N(0, scale) (so its distributions are far from uniform).

    ``end_bias`` is added to the output layer's END logit (large values make samples stop early).
    """
    model = build_model(ModelConfig(**{**TINY, **overrides}))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, scale, w.shape).astype("float32") for w in model.get_weights()])
    if end_bias:
        layer = model.get_layer("output_dense")
        kernel, bias = layer.get_weights()
        bias[END_ID] += end_bias
        layer.set_weights([kernel, bias])
    return model


def saved_tiny_model(folder: Path, **kwargs) -> Path:
    """Save :func:`tiny_model` as ``folder/model.keras``; returns the folder."""
    save_model(tiny_model(**kwargs), Path(folder) / MODEL_FILE)
    return Path(folder)


def keras_probabilities(model, chord_input: np.ndarray, condition_ids: np.ndarray) -> np.ndarray:
    """The Keras model's full-sequence output [B, L, V] in float64 for inputs [B, L] and conditions [B, 4]."""
    from core.dataset import CHORD_INPUT, CONDITION_INPUTS

    inputs = {CHORD_INPUT: np.asarray(chord_input, dtype=np.int32)}
    for column, name in enumerate(("genre", "mood", "key", "scale_type")):
        inputs[CONDITION_INPUTS[name]] = np.asarray(condition_ids, dtype=np.int32)[:, column : column + 1]
    return np.asarray(model(inputs, training=False), dtype=np.float64)
