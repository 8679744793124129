"""Classifier-free guidance at sampling: push each next-chord distribution toward the requested genre and mood.

The model was trained with condition dropout, so it also knows p(x | c with a condition open).
With a weight ``w_k`` per guided condition ``k`` the guided next-chord log-probabilities are::

    log q(x) = log p(x | c) + Σ_k w_k · (log p(x | c) − log p(x | c with condition k open))  − log Z

renormalised over the vocabulary, and only then masked, tempered, top-k'd and top-p'd like the
model's own distribution. ``w = 0`` is the model itself; larger ``w`` favours the chords that the
condition makes more likely than they would be without it.

:class:`GuidedDecoder` wraps any :class:`core.generation.decoder.Decoder`: every row is decoded
together with one copy per guided condition (that condition set to 0, "unspecified"), stacked in
the same batch, so a step is still one decoder step. It has the decoder interface, so
left-to-right sampling, the both-sides resampling behind locks and the click-to-swap
alternatives all see the guided chain ``q(x_1..x_n) = Π_t q(x_t | x_<t)``: the both-sides
conditional of a locked progression is the exact conditional of that guided joint, the same
distribution left-to-right guided sampling draws from. Scoring and the genre/mood ranking never
use it: they read the model's own probabilities.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping

import numpy as np

from core.conditions import CONDITION_NAMES, UNSPECIFIED, Conditions
from core.config import MAX_GUIDANCE
from core.errors import InputError
from core.generation.decoder import Decoder, DecoderState, SongPlace, log_softmax, taken_durations

#: conditions that can be guided (key and scale type are steered by the in-key mask instead).
GUIDABLE: tuple[str, ...] = ("genre", "mood")
#: a weight, or a weight per guided condition; ``None`` is no guidance.
Guidance = float | Mapping[str, float] | None


def validate_guidance(guidance: Guidance) -> dict[str, float]:
    """``{condition: weight}`` checked: guidable names, finite weights in [0, MAX_GUIDANCE]; raises :class:`InputError`.

    One number is the same weight for genre and mood (what the settings' ``guidance`` is).
    """
    if isinstance(guidance, numbers.Real) and not isinstance(guidance, bool):
        guidance = dict.fromkeys(GUIDABLE, guidance)
    elif guidance is not None and not isinstance(guidance, Mapping):
        raise InputError(f"guidance must be a number or a weight per condition, got {guidance!r}")
    checked: dict[str, float] = {}
    for name, weight in (guidance or {}).items():
        if name not in GUIDABLE:
            raise InputError(f"cannot guide {name!r}; accepted: {', '.join(GUIDABLE)}")
        try:
            value = float(weight)
        except (TypeError, ValueError):
            raise InputError(f"{name} guidance must be a number, got {weight!r}") from None
        if not 0.0 <= value <= MAX_GUIDANCE:  # also refuses NaN
            raise InputError(f"{name} guidance must be in 0..{MAX_GUIDANCE:g}, got {weight}")
        checked[name] = value
    return checked


def effective_guidance(conditions: Conditions, guidance: Guidance) -> dict[str, float]:
    """The weights that change anything: non-zero, on a condition that is actually requested."""
    return {name: w for name, w in validate_guidance(guidance).items()
            if w != 0.0 and getattr(conditions, name) != UNSPECIFIED}


def guided_decoder(decoder: Decoder, conditions: Conditions, guidance: Guidance) -> Decoder:
    """A :class:`GuidedDecoder`, or ``decoder`` itself when no weight has an effect (``w = 0`` samples as before, exactly)."""
    weights = effective_guidance(conditions, guidance)
    return GuidedDecoder(decoder, weights) if weights else decoder


class GuidedDecoder:
    """A decoder whose ``log_probs`` are the guided distribution (see the module docstring).

    Rows ``0..B-1`` of the wrapped decoder's batch are the requested conditions; block ``k + 1``
    (rows ``(k+1)B..(k+2)B-1``) is the same rows with guided condition ``k`` open.
    """

    def __init__(self, decoder: Decoder, weights: Mapping[str, float]) -> None:
        self.inner = decoder
        self.weights = validate_guidance(weights)
        self._columns = [CONDITION_NAMES.index(name) for name in self.weights]
        self._factors = np.array(list(self.weights.values()), dtype=np.float64)
        self.vocab_size = decoder.vocab_size
        self.backend = decoder.backend

    @property
    def blocks(self) -> int:
        """Copies of each row in the wrapped batch: the conditioned one plus one per guided condition."""
        return 1 + len(self._columns)

    def _guided(self, inner: DecoderState) -> DecoderState:
        stacked = inner.log_probs.reshape(self.blocks, -1, inner.log_probs.shape[-1])
        conditioned, opened = stacked[0], stacked[1:]
        scores = conditioned + np.tensordot(self._factors, conditioned[None] - opened, axes=1)
        durations = None if inner.durations is None else inner.durations[: conditioned.shape[0]]  # the model's own
        return DecoderState(log_softmax(scores), {"inner": inner}, durations)

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        condition_ids = np.asarray(condition_ids, dtype=np.int64).reshape(-1, len(CONDITION_NAMES))
        blocks = [condition_ids]
        for column in self._columns:
            opened = condition_ids.copy()
            opened[:, column] = 0
            blocks.append(opened)
        if place is None:
            return self._guided(self.inner.initial(np.concatenate(blocks)))
        rows = np.tile(np.arange(len(condition_ids)), self.blocks)
        return self._guided(self.inner.initial(np.concatenate(blocks), place.rows(rows)))

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        tokens = np.tile(np.asarray(token_ids, dtype=np.int64), self.blocks)
        return self._guided(self.inner.advance(state.internal["inner"], tokens))

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        rows = np.asarray(rows, dtype=np.int64)
        batch = state.batch_size
        inner_rows = np.concatenate([rows + block * batch for block in range(self.blocks)])
        inner = self.inner.take(state.internal["inner"], inner_rows)
        return DecoderState(state.log_probs[rows], {"inner": inner}, taken_durations(state, rows))

    def model_log_probs(self, state: DecoderState) -> np.ndarray:
        """The model's own (unguided) next-chord log-probabilities of the rows [B, V]."""
        return state.internal["inner"].log_probs[: state.batch_size]


def model_log_probs(decoder: Decoder, state: DecoderState) -> np.ndarray:
    """The model's own next-chord log-probabilities of a state, guided or not (what samples report)."""
    return decoder.model_log_probs(state) if isinstance(decoder, GuidedDecoder) else state.log_probs
