"""A key-relative model seen from outside: absolute chords in, distributions over absolute chords out.

A key-relative model (:mod:`core.key_relative`) reads chords moved so that the key's tonic is C. This
wrapper gives it the :class:`core.generation.decoder.Decoder` interface every sampler and scorer
uses, on absolute chords, so nothing above it knows the encoding:

* a row whose **key is given** is one hypothesis: the chords it is fed are moved down by the tonic,
  the key condition becomes C in the same mode, and its next-chord distribution is moved back up;
* a row whose **key is open** is 24 hypotheses (12 with a major or minor scale type), one per key,
  decoded together in one batch. Its distribution is the mixture over the keys weighted by their
  posterior: the corpus's key prior for the row's genre (:func:`core.key_relative.key_prior`) times
  the likelihood of the chords fed so far under each key. That is the exact marginal
  p(next | chords so far) = Σ_k p(k | chords so far) p(next | chords so far, k): scoring an open-key
  progression marginalises over the keys, and sampling from it is the same as drawing the key from
  the prior and then the chords in it (seed chords pull the posterior toward their own key).

Cost: a given key costs a gather per step; an open key decodes a row per possible key (24, or 12 with a
major or minor scale type) in the same batch.
"""

from __future__ import annotations

import numpy as np

from core.generation.decoder import Decoder, DecoderState, SongPlace, taken_durations
from core.key_relative import absolute_distributions, key_prior, key_tonics, relative_key_ids, to_relative
from core.paths import CORPUS_TABLE
from core.vocabulary import END_ID

_KEY_COLUMN, _GENRE_COLUMN, _SCALE_COLUMN = 2, 0, 3


class KeyRelativeDecoder:
    """A key-relative model's decoder with the absolute-chord :class:`Decoder` interface (module docstring)."""

    def __init__(self, base: Decoder) -> None:
        self.base = base
        self.vocab_size = base.vocab_size
        self.backend = f"{base.backend}, key-relative"

    # ``internal``: "base" (the base decoder's state over hypothesis rows), "owner" [H] (the row each hypothesis
    # belongs to, ascending), "key_id" [H] (its key), "tonic" [H], "log_weight" [H] (log posterior of the
    # hypothesis within its row), "absolute" [H, V] (each hypothesis's own next-token log-distribution over
    # absolute ids), "mixed": whether any row has an open key.

    def initial(self, condition_ids: np.ndarray, place: SongPlace | None = None) -> DecoderState:
        conditions = np.asarray(condition_ids, dtype=np.int64).reshape(-1, 4)
        keys = [np.array([row[_KEY_COLUMN]]) for row in conditions]  # a given key: itself
        log_priors = [np.zeros(1) for _ in conditions]
        open_rows = np.flatnonzero(conditions[:, _KEY_COLUMN] == 0)
        if len(open_rows):
            prior = key_prior(conditions[open_rows, _GENRE_COLUMN], conditions[open_rows, _SCALE_COLUMN], CORPUS_TABLE.parent)
            for row, row_prior in zip(open_rows, prior, strict=True):
                possible = np.flatnonzero(row_prior > 0)
                keys[row], log_priors[row] = possible + 1, np.log(row_prior[possible])
        counts = np.array([len(k) for k in keys])
        owner = np.repeat(np.arange(len(conditions)), counts)
        expanded = conditions[owner].copy()
        key_ids = np.concatenate(keys).astype(np.int64) if keys else np.zeros(0, dtype=np.int64)
        expanded[:, _KEY_COLUMN] = relative_key_ids(key_ids)
        internal = {"owner": owner, "tonic": key_tonics(key_ids), "key_id": key_ids,
                    "log_weight": np.concatenate(log_priors) if keys else np.zeros(0), "mixed": bool(len(open_rows))}
        base = self.base.initial(expanded) if place is None else self.base.initial(expanded, place.rows(owner))
        return self._state(base, internal)

    def advance(self, state: DecoderState, token_ids: np.ndarray) -> DecoderState:
        internal = state.internal
        owner, tonic = internal["owner"], internal["tonic"]
        fed = np.asarray(token_ids, dtype=np.int64)[owner]
        log_weight = internal["log_weight"]
        if internal["mixed"]:
            heard = np.take_along_axis(internal["absolute"], fed[:, None], axis=1)[:, 0]
            chord = fed > END_ID  # START fed to a finished row carries no evidence about the key
            log_weight = _normalised(np.where(chord, log_weight + heard, log_weight), owner)
        base = self.base.advance(internal["base"], to_relative(fed, tonic))
        return self._state(base, {**internal, "log_weight": log_weight})

    def take(self, state: DecoderState, rows: np.ndarray) -> DecoderState:
        rows = np.asarray(rows, dtype=np.int64)
        internal = state.internal
        owner = internal["owner"]
        starts = np.searchsorted(owner, np.arange(state.batch_size))
        counts = np.bincount(owner, minlength=state.batch_size)[rows]
        picked = np.repeat(starts[rows] - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        taken = {
            "base": self.base.take(internal["base"], picked),
            "owner": np.repeat(np.arange(len(rows)), counts),
            "tonic": internal["tonic"][picked],
            "key_id": internal["key_id"][picked],
            "log_weight": internal["log_weight"][picked],
            "absolute": internal["absolute"][picked],
            "mixed": internal["mixed"],
        }
        return DecoderState(state.log_probs[rows], taken, taken_durations(state, rows))

    def draw_keys(self, condition_ids: np.ndarray, prefix: np.ndarray, uniforms: np.ndarray,
                  place: SongPlace | None = None) -> np.ndarray:
        """``condition_ids`` [B, 4] with each open key drawn from its posterior given the chords of ``prefix`` [B, T].

        ``uniforms`` [B] pick the key (inverse CDF over the 24 keys' posterior). Drawing the key and then
        sampling in it draws from the same distribution as sampling from the mixture over the keys,
        at the cost of one key instead of 24 per step: what generation does with an open key.
        """
        conditions = np.asarray(condition_ids, dtype=np.int64).reshape(-1, 4).copy()
        open_rows = np.flatnonzero(conditions[:, _KEY_COLUMN] == 0)
        if not len(open_rows):
            return conditions
        state = self.initial(conditions[open_rows], place)
        for t in range(np.asarray(prefix).shape[1]):
            state = self.advance(state, np.asarray(prefix)[open_rows, t])
        owner, key_ids = state.internal["owner"], state.internal["key_id"]
        posterior = np.exp(state.internal["log_weight"])
        for index, row in enumerate(open_rows):
            mine = owner == index
            cumulative = np.cumsum(posterior[mine]) / posterior[mine].sum()
            pick = min(int(np.searchsorted(cumulative, uniforms[row], side="right")), int(mine.sum()) - 1)
            conditions[row, _KEY_COLUMN] = key_ids[mine][pick]
        return conditions

    def _state(self, base: DecoderState, internal: dict) -> DecoderState:
        absolute = absolute_distributions(base.log_probs, internal["tonic"])
        internal = {**internal, "base": base, "absolute": absolute}
        durations = base.durations  # a chord's duration does not move with the key; open keys mix it by their posterior
        if not internal["mixed"]:
            return DecoderState(absolute, internal, durations)
        if durations is not None:
            durations = _mixture(durations, internal["log_weight"], internal["owner"])
        return DecoderState(_mixture(absolute, internal["log_weight"], internal["owner"]), internal, durations)


def _segment_log_sum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """log Σ exp(values) over each row's hypotheses (``owner`` ascending); values [H] or [H, V]."""
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    peak = np.maximum.reduceat(values, starts, axis=0)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        return np.log(np.add.reduceat(np.exp(values - peak[owner]), starts, axis=0)) + peak


def _normalised(log_weight: np.ndarray, owner: np.ndarray) -> np.ndarray:
    return log_weight - _segment_log_sum(log_weight, owner)[owner]


def _mixture(absolute: np.ndarray, log_weight: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Each row's next-token log-distribution: its hypotheses' distributions mixed by their posterior."""
    return _segment_log_sum(absolute + log_weight[:, None], owner)


def key_relative_decoder(base: Decoder, encoding: str) -> Decoder:
    """``base`` as it is for an absolute model, wrapped in :class:`KeyRelativeDecoder` for a key-relative one."""
    from core.key_relative import KEY_RELATIVE

    return KeyRelativeDecoder(base) if encoding == KEY_RELATIVE else base
