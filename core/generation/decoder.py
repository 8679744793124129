"""Step-by-step next-chord probabilities from a trained model, without ``model.predict`` in a loop.

:class:`FastDecoder` runs on :class:`DecoderWeights` — the Keras model's arrays, found by layer
name (:meth:`DecoderWeights.from_model`), or read without TensorFlow from the copy kept beside a
model file (:mod:`core.inference_weights`) — one recurrent step per chord, carrying each layer's
state (``h, c`` for LSTM, ``h`` for GRU), batched over rows. The conditioning vector and its
share of the first layer's input projection are computed once per row; the chord embedding's
share is pre-multiplied for the whole vocabulary, so a step costs one table lookup, the
recurrent matmuls and the output layer.
Dropout is inactive at inference, so it is simply left out. Padding never enters: a step is only
taken for a real token, which is exactly what the masked Keras model computes for a sequence's
non-padded prefix.

:class:`KerasDecoder` is the fallback for models the fast path cannot reproduce (``attention``:
causal self-attention looks back over all positions). Each step re-runs the full sequence through
a compiled ``tf.function``; sequences longer than the model's length use the last ``L`` tokens.

Both share one small interface: :meth:`initial` (state after ``START``), :meth:`advance` (feed one
token per row) and :meth:`take` (select or repeat rows), with ``state.log_probs`` holding each
row's natural-log next-token distribution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from core.inference_weights import CONDITION_ORDER, DecoderWeights
from core.vocabulary import PAD_ID, START_ID


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # overflow-free logistic


_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "linear": lambda x: x,
}


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax in float64."""
    logits = logits.astype(np.float64, copy=False)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@dataclass
class DecoderState:
    """Rows being decoded: ``log_probs`` [B, V] is each row's next-token log-distribution.

    ``internal`` holds what the decoder needs to go on (recurrent states, or token history).
    """

    log_probs: np.ndarray
    internal: dict = field(default_factory=dict)

    @property
    def batch_size(self) -> int:
        return int(self.log_probs.shape[0])


class Decoder(Protocol):
    """What samplers and scorers need from a model."""

    vocab_size: int
    backend: str

    def initial(self, condition_ids: np.ndarray) -> DecoderState:
        """State after feeding ``START`` to rows with ``condition_ids`` [B, 4] (genre, mood, key, scale_type)."""
        ...

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        """Feed one token per row."""
        ...

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        """A state made of the given rows (indices may repeat)."""
        ...


# --- the NumPy fast path ----------------------------------------------------------------------


@dataclass
class RecurrentCell:
    """One Keras LSTM or GRU layer's weights and its single-step update.

    Keras gate order: LSTM ``i, f, c, o`` (state ``h, c``); GRU ``z, r, h`` with ``reset_after``
    (two bias rows: input and recurrent), state ``h``.
    """

    kind: str
    kernel: np.ndarray
    recurrent_kernel: np.ndarray
    bias: np.ndarray  # LSTM: [4U]; GRU: [2, 3U]
    units: int

    def zero_state(self, batch: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
        zeros = np.zeros((batch, self.units), dtype=dtype)
        return (zeros, zeros.copy()) if self.kind == "lstm" else (zeros,)

    @property
    def input_bias(self) -> np.ndarray:
        """Bias added to the input projection (all of it for LSTM, the input row for GRU)."""
        return self.bias if self.kind == "lstm" else self.bias[0]

    def step(self, projected_input: np.ndarray, state: tuple[np.ndarray, ...]) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
        """One step given ``x @ kernel + input_bias`` already computed; returns (output, new state)."""
        u = self.units
        if self.kind == "lstm":
            h, c = state
            z = projected_input + h @ self.recurrent_kernel
            i, f, g, o = _sigmoid(z[:, :u]), _sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), _sigmoid(z[:, 3 * u:])
            c = f * c + i * g
            h = o * np.tanh(c)
            return h, (h, c)
        (h,) = state
        recurrent = h @ self.recurrent_kernel + self.bias[1]
        update = _sigmoid(projected_input[:, :u] + recurrent[:, :u])
        reset = _sigmoid(projected_input[:, u:2 * u] + recurrent[:, u:2 * u])
        candidate = np.tanh(projected_input[:, 2 * u:] + reset * recurrent[:, 2 * u:])
        h = update * h + (1.0 - update) * candidate
        return h, (h,)


class FastDecoder:
    """NumPy stateful decoder over :class:`DecoderWeights` (see the module docstring)."""

    backend = "fast numpy step"

    def __init__(self, weights: DecoderWeights, dtype: type = np.float32) -> None:
        self.dtype = np.dtype(dtype)

        def wide(array: np.ndarray) -> np.ndarray:
            return np.asarray(array, dtype=np.float64)

        self.chord_embedding = wide(weights.chord_embedding)
        self.vocab_size, self.embedding_dim = self.chord_embedding.shape
        self.condition_embeddings = [wide(table) for table in weights.condition_embeddings]
        self.conditioning_kernel, self.conditioning_bias = wide(weights.conditioning_kernel), wide(weights.conditioning_bias)
        if weights.conditioning_activation not in _ACTIVATIONS:
            raise ValueError(f"unsupported conditioning activation {weights.conditioning_activation!r}")
        self.conditioning_activation = _ACTIVATIONS[weights.conditioning_activation]
        self.cells = [RecurrentCell(weights.cell, wide(kernel), wide(recurrent_kernel), wide(bias), recurrent_kernel.shape[0])
                      for kernel, recurrent_kernel, bias in weights.recurrent]
        if not self.cells:
            raise ValueError("no recurrent layers")
        self.output_kernel, self.output_bias = wide(weights.output_kernel), wide(weights.output_bias)
        self.sequence_length = int(weights.sequence_length)
        first = self.cells[0]
        # The first layer sees [chord embedding, conditioning]: split its kernel into the two shares.
        self._token_projection = self._cast(self.chord_embedding @ first.kernel[: self.embedding_dim] + first.input_bias)
        self._conditioning_share = first.kernel[self.embedding_dim:]
        for cell in self.cells:
            cell.kernel, cell.recurrent_kernel, cell.bias = map(self._cast, (cell.kernel, cell.recurrent_kernel, cell.bias))
        self._output_kernel = self._cast(self.output_kernel)
        self._output_bias = self._cast(self.output_bias)

    def _cast(self, array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array, dtype=self.dtype)

    def conditioning(self, condition_ids: np.ndarray) -> np.ndarray:
        """The conditioning vector [B, units] (``conditioning_dense`` output) for condition ids [B, 4]."""
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_ORDER))
        embedded = np.concatenate([table[condition_ids[:, i]] for i, table in enumerate(self.condition_embeddings)], axis=1)
        return self.conditioning_activation(embedded @ self.conditioning_kernel + self.conditioning_bias)

    def _log_probs(self, top_output: np.ndarray) -> np.ndarray:
        return log_softmax(top_output @ self._output_kernel + self._output_bias)

    def _step(self, internal: dict, token_ids: np.ndarray) -> DecoderState:
        x = self._token_projection[token_ids] + internal["conditioning_projection"]
        states = []
        for index, cell in enumerate(self.cells):
            if index > 0:
                x = x @ cell.kernel + cell.input_bias
            x, state = cell.step(x, internal["states"][index])
            states.append(state)
        internal = {"conditioning_projection": internal["conditioning_projection"], "states": states}
        return DecoderState(self._log_probs(x), internal)

    def initial(self, condition_ids: np.ndarray) -> DecoderState:
        conditioning = self.conditioning(condition_ids)
        batch = conditioning.shape[0]
        internal = {
            "conditioning_projection": self._cast(conditioning @ self._conditioning_share),
            "states": [cell.zero_state(batch, self.dtype) for cell in self.cells],
        }
        return self._step(internal, np.full(batch, START_ID, dtype=np.int64))

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        return self._step(state.internal, np.asarray(token_ids, dtype=np.int64))

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        rows = np.asarray(rows, dtype=np.int64)
        internal = {
            "conditioning_projection": state.internal["conditioning_projection"][rows],
            "states": [tuple(part[rows] for part in layer_state) for layer_state in state.internal["states"]],
        }
        return DecoderState(state.log_probs[rows], internal)


# --- the full-sequence fallback ---------------------------------------------------------------


class KerasDecoder:
    """Runs the whole (padded) sequence through the Keras model at every step; for attention models."""

    backend = "keras full-sequence (tf.function)"

    def __init__(self, model) -> None:
        import tensorflow as tf

        self.model = model
        self.sequence_length = int(model.inputs[0].shape[1])
        self.vocab_size = int(model.outputs[0].shape[-1])
        self._input_names = [tensor.name.split(":")[0] for tensor in model.inputs]
        self._call = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)

    def _run(self, condition_ids: np.ndarray, history: np.ndarray) -> DecoderState:
        from core.dataset import CHORD_INPUT, CONDITION_INPUTS

        length = self.sequence_length
        window = history[:, -length:]
        used = window.shape[1]
        chords = np.full((history.shape[0], length), PAD_ID, dtype=np.int32)
        chords[:, :used] = window
        inputs = {CHORD_INPUT: chords}
        for column, name in enumerate(CONDITION_ORDER):
            inputs[CONDITION_INPUTS[name]] = condition_ids[:, column : column + 1].astype(np.int32)
        probabilities = np.asarray(self._call(inputs))[:, used - 1, :].astype(np.float64)
        log_probs = np.log(np.maximum(probabilities, 1e-300))
        return DecoderState(log_probs, {"condition_ids": condition_ids, "history": history})

    def initial(self, condition_ids: np.ndarray) -> DecoderState:
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_ORDER))
        history = np.full((condition_ids.shape[0], 1), START_ID, dtype=np.int64)
        return self._run(condition_ids, history)

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        history = np.concatenate([state.internal["history"], np.asarray(token_ids, dtype=np.int64)[:, None]], axis=1)
        return self._run(state.internal["condition_ids"], history)

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        rows = np.asarray(rows, dtype=np.int64)
        internal = {key: value[rows] for key, value in state.internal.items()}
        return DecoderState(state.log_probs[rows], internal)


def make_decoder(model, dtype: type = np.float32) -> Decoder:
    """The fast NumPy decoder for a Keras model, or the Keras fallback when it has an ``attention`` layer.

    It reads chords in the model's own encoding: a key-relative model's decoder is wrapped by
    :func:`core.generation.key_decoder.key_relative_decoder` (``load_generator`` does that for you).
    """
    if any(layer.name == "attention" for layer in model.layers):
        return KerasDecoder(model)
    return FastDecoder(DecoderWeights.from_model(model), dtype=dtype)


# --- whole sequences --------------------------------------------------------------------------


def sequence_log_probs(decoder: Decoder, chord_ids: np.ndarray, condition_ids: np.ndarray) -> np.ndarray:
    """Next-token log-distributions at every position of framed rows ``[START] + tokens``.

    ``chord_ids`` [B, T] are the tokens after ``START`` (PAD allowed at the end; rows are fed
    PAD-free, and a padded position's output is undefined). Returns [B, T + 1, V]: entry ``t`` is
    the distribution of the token after ``t`` fed tokens (``t = 0``: after ``START`` alone).
    """
    chord_ids = np.asarray(chord_ids, dtype=np.int64)
    state = decoder.initial(condition_ids)
    out = np.empty((chord_ids.shape[0], chord_ids.shape[1] + 1, decoder.vocab_size))
    out[:, 0] = state.log_probs
    for t in range(chord_ids.shape[1]):
        state = decoder.advance(state, np.where(chord_ids[:, t] == PAD_ID, START_ID, chord_ids[:, t]))
        out[:, t + 1] = state.log_probs
    return out


def token_log_likelihoods(decoder: Decoder, token_ids: np.ndarray, condition_ids: np.ndarray) -> np.ndarray:
    """log p(token_t | START, tokens_<t, conditions) for rows of tokens after ``START`` [B, T]; PAD positions give 0."""
    token_ids = np.asarray(token_ids, dtype=np.int64)
    if token_ids.shape[1] == 0:
        return np.zeros(token_ids.shape)
    log_probs = sequence_log_probs(decoder, token_ids[:, :-1], condition_ids)
    picked = np.take_along_axis(log_probs, token_ids[:, :, None], axis=2)[:, :, 0]
    return np.where(token_ids == PAD_ID, 0.0, picked)
