"""Turning next-chord log-probabilities into choices: masks, temperature, top-k, top-p, seeded draws.

Also the exact "both sides" conditional of one position in a progression, used by locked
generation (Gibbs-style passes) and by click-to-swap alternatives.
"""

from __future__ import annotations

import numpy as np

from core.chords import END_ID, PAD_ID, START_ID, VOCAB, in_scale
from core.generation.decoder import Decoder, DecoderState

#: rows x candidates decoded at once when scoring every candidate at a position.
CANDIDATE_CHUNK_ROWS = 8192


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
    cumulative = np.cumsum(probs, axis=-1)
    uniform = rng.random(probs.shape[0]) * cumulative[:, -1]
    picks = (cumulative <= uniform[:, None]).sum(axis=-1)
    # never land on a zero-probability entry through rounding at the top end
    last_allowed = probs.shape[-1] - 1 - np.argmax(probs[:, ::-1] > 0, axis=-1)
    return np.minimum(picks, last_allowed)


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
