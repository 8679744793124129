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

A song-context model (:mod:`core.song_context`) also reads where its rows are in a song: ``initial``
takes a :class:`SongPlace` (each step's section id, the metre), which the wrappers hand down unchanged
(window models ignore it; without one every section and the metre are unknown), and after each token fed
``state.durations`` holds the log-distribution of that token's duration class (``None`` for a model
without a duration head).
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

    ``internal`` holds what the decoder needs to go on (recurrent states, or token history);
    ``durations`` [B, D] (a song-context model's) the log-distribution over the duration classes of the
    token just fed (``None`` for a model without a duration head).
    """

    log_probs: np.ndarray
    internal: dict = field(default_factory=dict)
    durations: np.ndarray | None = None

    @property
    def batch_size(self) -> int:
        return int(self.log_probs.shape[0])


@dataclass(frozen=True)
class SongPlace:
    """Where rows are in a song, for a song-context model: the section id of the chord each step predicts, the metre.

    ``sections`` is [B, T] or [1, T] (one schedule for every row): step ``t`` (``t = 0`` predicts the first
    chord, after ``START``) reads column ``min(t, T - 1)``; ``metre`` is [B] or [1] metre classes
    (:mod:`core.song_context`; 0 = unknown).
    """

    sections: np.ndarray
    metre: np.ndarray

    @classmethod
    def of(cls, sections: object, metre: int = 0) -> SongPlace:
        """One schedule for every row: ``sections`` a section id, or one per step; ``metre`` a metre class."""
        schedule = np.asarray(sections, dtype=np.int64).reshape(1, -1)
        if schedule.shape[1] == 0:
            schedule = np.zeros((1, 1), dtype=np.int64)
        return cls(schedule, np.asarray([metre], dtype=np.int64))

    def rows(self, rows: np.ndarray) -> SongPlace:
        """The place of the given rows (a shared schedule stays shared)."""
        rows = np.asarray(rows, dtype=np.int64)
        sections = self.sections if self.sections.shape[0] == 1 else self.sections[rows]
        return SongPlace(sections, self.metre if self.metre.shape[0] == 1 else self.metre[rows])

    def sections_at(self, step: int, batch: int) -> np.ndarray:
        """The section ids [batch] step ``step`` reads."""
        column = self.sections[:, min(step, self.sections.shape[1] - 1)]
        return np.broadcast_to(column, (batch,))

    def metres(self, batch: int) -> np.ndarray:
        """The metre class of each of ``batch`` rows."""
        return np.broadcast_to(self.metre, (batch,))


#: the place a row without one is in: every section and the metre unknown.
UNKNOWN_PLACE = SongPlace(np.zeros((1, 1), dtype=np.int64), np.zeros(1, dtype=np.int64))


def taken_durations(state: DecoderState, rows: np.ndarray) -> np.ndarray | None:
    """``state.durations`` of the given rows (``None`` stays ``None``)."""
    return None if state.durations is None else state.durations[np.asarray(rows, dtype=np.int64)]


class Decoder(Protocol):
    """What samplers and scorers need from a model."""

    vocab_size: int
    backend: str

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        """State after feeding ``START`` to rows with ``condition_ids`` [B, 4] (genre, mood, key, scale_type), at
        ``place`` in a song (read by song-context models only; ``None``: unknown)."""
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
        # The first layer sees [chord embedding, (section embedding,) conditioning]: split its kernel into the shares.
        self._token_projection = self._cast(self.chord_embedding @ first.kernel[: self.embedding_dim] + first.input_bias)
        self.song_context = weights.song_context
        section_dim = 0
        if weights.song_context:
            self.condition_embeddings.append(wide(weights.metre_embedding))  # the fifth condition, after the four
            section_dim = weights.section_embedding.shape[1]
            share = first.kernel[self.embedding_dim:self.embedding_dim + section_dim]
            self._section_projection = self._cast(wide(weights.section_embedding) @ share)
            self._duration_kernel = self._cast(wide(weights.duration_kernel))
            self._duration_bias = self._cast(wide(weights.duration_bias))
        self._conditioning_share = first.kernel[self.embedding_dim + section_dim:]
        for cell in self.cells:
            cell.kernel, cell.recurrent_kernel, cell.bias = map(self._cast, (cell.kernel, cell.recurrent_kernel, cell.bias))
        self._output_kernel = self._cast(self.output_kernel)
        self._output_bias = self._cast(self.output_bias)

    def _cast(self, array: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(array, dtype=self.dtype)

    def conditioning(self, condition_ids: np.ndarray, metre: np.ndarray | None = None) -> np.ndarray:
        """The conditioning vector [B, units] (``conditioning_dense`` output) for condition ids [B, 4] (and, for a
        song-context model, metre classes [B]; default unknown)."""
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_ORDER))
        if self.song_context:
            metre = np.zeros(len(condition_ids), dtype=np.int64) if metre is None else np.asarray(metre, dtype=np.int64)
            condition_ids = np.concatenate([condition_ids, metre.reshape(-1, 1)], axis=1)
        embedded = np.concatenate([table[condition_ids[:, i]] for i, table in enumerate(self.condition_embeddings)], axis=1)
        return self.conditioning_activation(embedded @ self.conditioning_kernel + self.conditioning_bias)

    def _log_probs(self, top_output: np.ndarray) -> np.ndarray:
        return log_softmax(top_output @ self._output_kernel + self._output_bias)

    def _step(self, internal: dict, token_ids: np.ndarray) -> DecoderState:
        x = self._token_projection[token_ids] + internal["conditioning_projection"]
        place, step = internal.get("place"), internal.get("step", 0)
        if place is not None:  # a song-context model: the section of the chord this step predicts
            x = x + self._section_projection[place.sections_at(step, len(token_ids))]
        states = []
        for index, cell in enumerate(self.cells):
            if index > 0:
                x = x @ cell.kernel + cell.input_bias
            x, state = cell.step(x, internal["states"][index])
            states.append(state)
        internal = {"conditioning_projection": internal["conditioning_projection"], "states": states,
                    **({"place": place, "step": step + 1} if place is not None else {})}
        durations = log_softmax(x @ self._duration_kernel + self._duration_bias) if place is not None else None
        return DecoderState(self._log_probs(x), internal, durations)

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_ORDER))
        batch = condition_ids.shape[0]
        place = (place or UNKNOWN_PLACE) if self.song_context else None
        conditioning = self.conditioning(condition_ids, None if place is None else place.metres(batch))
        internal = {
            "conditioning_projection": self._cast(conditioning @ self._conditioning_share),
            "states": [cell.zero_state(batch, self.dtype) for cell in self.cells],
            **({"place": place, "step": 0} if place is not None else {}),
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
        if "place" in state.internal:
            internal.update(place=state.internal["place"].rows(rows), step=state.internal["step"])
        return DecoderState(state.log_probs[rows], internal, taken_durations(state, rows))


# --- the full-sequence fallback ---------------------------------------------------------------


class KerasDecoder:
    """Runs the whole (padded) sequence through the Keras model at every step; for attention models.

    A song-context model's section input is filled from the rows' :class:`SongPlace` (each window position
    reads the section of the step it predicts), and its duration output at the last fed position is the
    state's ``durations``.
    """

    backend = "keras full-sequence (tf.function)"

    def __init__(self, model) -> None:
        import tensorflow as tf

        from core.dataset import METRE_INPUT

        self.model = model
        self.sequence_length = int(model.inputs[0].shape[1])
        self._input_names = [tensor.name.split(":")[0] for tensor in model.inputs]
        self.song_context = METRE_INPUT in self._input_names
        outputs = model.outputs if isinstance(model.outputs, list) else [model.outputs]
        self.vocab_size = int(outputs[0].shape[-1])
        self._call = tf.function(lambda inputs: model(inputs, training=False), reduce_retracing=True)

    def _inputs(self, condition_ids: np.ndarray, history: np.ndarray, place: SongPlace | None) -> tuple[dict, int]:
        from core.dataset import CHORD_INPUT, CONDITION_INPUTS, METRE_INPUT, SECTION_INPUT

        length, batch = self.sequence_length, history.shape[0]
        window = history[:, -length:]
        used = window.shape[1]
        chords = np.full((batch, length), PAD_ID, dtype=np.int32)
        chords[:, :used] = window
        inputs = {CHORD_INPUT: chords}
        for column, name in enumerate(CONDITION_ORDER):
            inputs[CONDITION_INPUTS[name]] = condition_ids[:, column : column + 1].astype(np.int32)
        if place is not None:
            first = history.shape[1] - used  # the step the window's first position predicts
            sections = np.zeros((batch, length), dtype=np.int32)
            for position in range(used):
                sections[:, position] = place.sections_at(first + position, batch)
            inputs[SECTION_INPUT] = sections
            inputs[METRE_INPUT] = place.metres(batch).astype(np.int32).reshape(-1, 1)
        return inputs, used

    def _run(self, condition_ids: np.ndarray, history: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        inputs, used = self._inputs(condition_ids, history, place)
        outputs = self._call(inputs)
        durations = None
        if isinstance(outputs, dict):
            from core.dataset import CHORDS_OUTPUT, DURATIONS_OUTPUT

            durations = np.log(np.maximum(np.asarray(outputs[DURATIONS_OUTPUT])[:, used - 1, :].astype(np.float64), 1e-300))
            outputs = outputs[CHORDS_OUTPUT]
        probabilities = np.asarray(outputs)[:, used - 1, :].astype(np.float64)
        log_probs = np.log(np.maximum(probabilities, 1e-300))
        internal = {"condition_ids": condition_ids, "history": history, **({"place": place} if place is not None else {})}
        return DecoderState(log_probs, internal, durations)

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_ORDER))
        history = np.full((condition_ids.shape[0], 1), START_ID, dtype=np.int64)
        return self._run(condition_ids, history, (place or UNKNOWN_PLACE) if self.song_context else None)

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        history = np.concatenate([state.internal["history"], np.asarray(token_ids, dtype=np.int64)[:, None]], axis=1)
        return self._run(state.internal["condition_ids"], history, state.internal.get("place"))

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        rows = np.asarray(rows, dtype=np.int64)
        internal = {key: value.rows(rows) if key == "place" else value[rows] for key, value in state.internal.items()}
        return DecoderState(state.log_probs[rows], internal, taken_durations(state, rows))


class PlacedDecoder:
    """A decoder whose every :meth:`initial` is at one :class:`SongPlace` unless told another, for samplers (the
    lock passes, alternatives) that start rows without naming a place. The place is one schedule for every row, so
    any batch the sampler starts reads it."""

    def __init__(self, base: Decoder, place: SongPlace) -> None:
        self.base = base
        self.place = place
        self.vocab_size = base.vocab_size
        self.backend = base.backend

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        return self.base.initial(condition_ids, place or self.place)

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        return self.base.advance(state, token_ids)

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        return self.base.take(state, rows)


def make_decoder(model, dtype: type = np.float32) -> Decoder:
    """The fast NumPy decoder for a Keras model, or the Keras fallback when it has an ``attention`` layer.

    It reads chords in the model's own encoding: a key-relative model's decoder is wrapped by
    :func:`core.generation.key_decoder.key_relative_decoder` (``load_generator`` does that for you).
    """
    if any(layer.name == "attention" for layer in model.layers):
        return KerasDecoder(model)
    return FastDecoder(DecoderWeights.from_model(model), dtype=dtype)


# --- whole sequences --------------------------------------------------------------------------


def sequence_log_probs(decoder: Decoder, chord_ids: np.ndarray, condition_ids: np.ndarray,
                       place: SongPlace | None = None) -> np.ndarray:
    """Next-token log-distributions at every position of framed rows ``[START] + tokens``.

    ``chord_ids`` [B, T] are the tokens after ``START`` (PAD allowed at the end; rows are fed
    PAD-free, and a padded position's output is undefined). Returns [B, T + 1, V]: entry ``t`` is
    the distribution of the token after ``t`` fed tokens (``t = 0``: after ``START`` alone).
    """
    chord_ids = np.asarray(chord_ids, dtype=np.int64)
    state = decoder.initial(condition_ids, place) if place is not None else decoder.initial(condition_ids)
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
