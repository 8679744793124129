"""Turning next-chord log-probabilities into choices: masks, temperature, top-k, top-p, seeded draws.

:class:`StepRule` is the one definition of the distribution a generation step draws from (which
chords are allowed, no immediate repeat, no chord equal to a locked neighbour, when ``END`` may
come, then temperature, top-k and top-p); left-to-right sampling, the particles behind locks and
their resampling passes (:mod:`core.generation.locks`) all read it. :class:`RowRandomness` gives
every progression of a batch its own random stream, so a progression does not change when others
are added to the batch or drawn alone.

Also the exact "both sides" conditional of one position in a progression, used by click-to-swap
alternatives and the composer's "what fits here".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.conditions import Conditions
from core.generation.decoder import Decoder, DecoderState
from core.numerals import in_scale
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB

#: rows x candidates decoded at once when scoring every candidate at a position.
CANDIDATE_CHUNK_ROWS = 8192


def condition_rows(conditions: Conditions, rows: int) -> np.ndarray:
    """Condition ids [rows, 4] (genre, mood, key, scale_type) repeated for every row: the decoder's condition input."""
    ids = conditions.ids()
    return np.tile(np.array([[ids["genre"], ids["mood"], ids["key"], ids["scale_type"]]], dtype=np.int64), (rows, 1))


def chord_mask(tonic: int | None = None, scale_type: str | None = None) -> np.ndarray:
    """Boolean [V] mask of chord tokens, optionally only those inside the key's scale (``in_scale``)."""
    mask = np.zeros(VOCAB.size, dtype=bool)
    for token_id, chord in enumerate(VOCAB.chords):
        if chord is not None and (tonic is None or in_scale(chord, tonic, scale_type or "major")):
            mask[token_id] = True
    return mask


def shape_distribution(log_scores: np.ndarray, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> np.ndarray:
    """Row-wise probabilities from log-scores (``-inf`` = excluded) after temperature, top-k and top-p.

    Top-k keeps the ``k`` highest (0: all); top-p keeps the smallest set of highest-probability
    tokens whose mass reaches ``p`` (the most likely token is always kept).
    """
    scores = np.asarray(log_scores, dtype=np.float64) / float(temperature)
    scores = scores - scores.max(axis=-1, keepdims=True)
    probs = np.exp(scores)
    probs /= probs.sum(axis=-1, keepdims=True)
    n = probs.shape[-1]
    if 0 < top_k < n:
        order = np.argsort(-probs, axis=-1, kind="stable")
        keep = np.zeros_like(probs, dtype=bool)
        np.put_along_axis(keep, order[:, :top_k], True, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    if top_p < 1.0:
        order = np.argsort(-probs, axis=-1, kind="stable")
        sorted_probs = np.take_along_axis(probs, order, axis=-1)
        mass_before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
        keep_sorted = mass_before < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=-1)
        probs = np.where(keep, probs, 0.0)
        probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def draw(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One index per row from row-wise probabilities (inverse CDF on one uniform per row)."""
    return draw_with(probs, rng.random(probs.shape[0]))


def draw_with(probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """One index per row from row-wise (unnormalised, non-negative) weights and one uniform in [0, 1) per row."""
    cumulative = np.cumsum(probs, axis=-1)
    target = np.asarray(uniforms, dtype=np.float64) * cumulative[:, -1]
    picks = (cumulative <= target[:, None]).sum(axis=-1)
    # never land on a zero-probability entry through rounding at the top end
    last_allowed = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.minimum(picks, last_allowed)


class RowRandomness:
    """Uniform numbers for a batch of progressions, each row drawn from its own stream.

    Number ``i`` of table ``name`` for row ``r`` of a request with random seed ``s`` is a pure
    function of ``(s, name, r, i)`` (SplitMix64's mixing function over a counter, the generator
    Java's ``SplittableRandom`` uses), so what row ``r`` draws never depends on how many rows the
    batch holds or on what the other rows did, and a whole table costs a few vector operations.
    ``seed=None`` picks a fresh seed (:attr:`seed` tells which).
    """

    def __init__(self, seed: int | None, rows: int) -> None:
        self.seed = int(np.random.SeedSequence().entropy % (2**32)) if seed is None else int(seed)
        self.rows = int(rows)
        self._tables: dict[str, np.ndarray] = {}

    def table(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Uniforms in [0, 1) ``[rows, *shape]`` for one named use (the same name always gives the same numbers)."""
        key = f"{name}{shape}"
        if key not in self._tables:
            count = int(np.prod(shape, dtype=np.int64))
            name_key = int.from_bytes(name.encode("utf-8")[:8].ljust(8, b"\0"), "little")
            base = _mix64(np.array([self.seed ^ _mix64(np.array([name_key], dtype=np.uint64))[0]], dtype=np.uint64))[0]
            counters = (np.arange(self.rows, dtype=np.uint64)[:, None] << np.uint64(32)) | np.arange(count, dtype=np.uint64)
            with np.errstate(over="ignore"):
                bits = _mix64(base + (counters + np.uint64(1)) * _GOLDEN_GAMMA)
            self._tables[key] = ((bits >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(self.rows, *shape)
        return self._tables[key]


_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)


def _mix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's output function (Steele, Lea & Flood 2014), elementwise on uint64 (wrapping arithmetic)."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class StepRule:
    """The distribution every generation step draws from, for one request.

    ``allowed`` [V] marks the chords that may be drawn (all, or the key's with ``in_key``);
    ``fixed`` maps 0-based positions to the chord id kept there (seeds and locks); ``END`` may be
    drawn at step ``t`` (``t`` chords written) when ``t >= min_length`` and every fixed chord is
    placed. A step never repeats the chord before it, nor draws the fixed chord right after it.
    """

    allowed: np.ndarray
    fixed: Mapping[int, int]
    min_length: int = 1
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0

    @property
    def last_fixed(self) -> int:
        """The last fixed position (-1: none)."""
        return max(self.fixed, default=-1)

    def scores(self, log_probs: np.ndarray, t: int, previous: np.ndarray | None) -> np.ndarray:
        """Masked log-scores [N, V] at step ``t`` given each row's previous token (``None`` at t = 0)."""
        mask = self.allowed.copy()
        mask[END_ID] = t >= max(1, self.min_length) and t > self.last_fixed
        scores = np.where(mask, log_probs, -np.inf)
        rows = np.arange(len(scores))
        if previous is not None:
            repeat = previous > END_ID
            scores[rows[repeat], previous[repeat]] = -np.inf
        if t + 1 in self.fixed:
            scores[rows, np.broadcast_to(np.asarray(self.fixed[t + 1]), rows.shape)] = -np.inf
        return scores

    def probabilities(self, log_probs: np.ndarray, t: int, previous: np.ndarray | None) -> np.ndarray:
        """The step's distribution [N, V]: :meth:`scores` after temperature, top-k and top-p."""
        return shape_distribution(self.scores(log_probs, t, previous), self.temperature, self.top_k, self.top_p)

    def fixed_log_weight(self, log_probs: np.ndarray, token: int | np.ndarray) -> np.ndarray:
        """log p_T(token) [N]: how likely the model, at the temperature, finds a fixed chord after each row."""
        tempered = np.asarray(log_probs, dtype=np.float64) / float(self.temperature)
        top = tempered.max(axis=-1)
        log_norm = top + np.log(np.exp(tempered - top[:, None]).sum(axis=-1))
        picked = np.take_along_axis(tempered, np.broadcast_to(np.asarray(token), (len(tempered),))[:, None], axis=1)
        return picked[:, 0] - log_norm


def candidate_log_scores(
    decoder: Decoder,
    token_ids: np.ndarray,
    position: int,
    condition_ids: np.ndarray,
    candidates: np.ndarray,
    chunk_rows: int = CANDIDATE_CHUNK_ROWS,
) -> np.ndarray:
    """log p(whole row with ``candidates[c]`` at ``position``), up to a per-row constant: [S, C].

    ``token_ids`` [S, T] are the tokens after ``START`` (an optional trailing END counts; PAD
    ends a row). For each row, the score of candidate ``c`` is ``log p(c | left) + sum over the
    later tokens of log p(token | everything before it, with c at position)``. Terms before the
    position are the same for every candidate and are left out, so a softmax over ``C`` gives the
    exact conditional ``p(x_position = c | every other token, conditions)``. The prefix is
    decoded once per row; rows x candidates are decoded in chunks of ``chunk_rows``.
    """
    token_ids = np.asarray(token_ids, dtype=np.int64)
    candidates = np.asarray(candidates, dtype=np.int64)
    rows, length = token_ids.shape
    state = decoder.initial(condition_ids)
    for t in range(position):
        state = decoder.advance(state, _feedable(token_ids[:, t]))
    left = state.log_probs[:, candidates]
    scores = left.copy()
    per_chunk = max(1, chunk_rows // max(1, len(candidates)))
    for start in range(0, rows, per_chunk):
        chunk = np.arange(start, min(rows, start + per_chunk))
        expanded = decoder.take(state, np.repeat(chunk, len(candidates)))
        expanded = decoder.advance(expanded, np.tile(candidates, len(chunk)))
        total = np.zeros(len(chunk) * len(candidates))
        for t in range(position + 1, length):
            tokens = np.repeat(token_ids[chunk, t], len(candidates))
            if (tokens == PAD_ID).all():
                break
            total += np.where(tokens == PAD_ID, 0.0, _pick(expanded, tokens))
            if t + 1 < length:
                expanded = decoder.advance(expanded, _feedable(tokens))
        scores[chunk] += total.reshape(len(chunk), len(candidates))
    return scores


def _feedable(tokens: np.ndarray) -> np.ndarray:
    """Tokens safe to feed: PAD (a finished row) is replaced by START; its outputs are ignored."""
    return np.where(tokens == PAD_ID, START_ID, tokens)


def _pick(state: DecoderState, tokens: np.ndarray) -> np.ndarray:
    return state.log_probs[np.arange(len(tokens)), np.where(tokens == PAD_ID, END_ID, tokens)]
