"""Scoring progressions with the model: per-chord probabilities, surprise, likelihood, perplexity, and
which genre or mood a progression sounds most like.

All numbers come from the fast decoder (:mod:`core.generation.decoder`), batched. A progression's
likelihood is ``Π p(chord_t | START, chords_<t, conditions)`` over its chords; with ``ends=True``
the model's p(END) after the last chord is a factor too (the progression is then read as complete).
Perplexity is ``exp(-log_likelihood / factors)``; surprise is ``-log2 p`` per chord, in bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.chords import END_ID, PAD_ID, VOCAB, Chord
from core.conditions import CONDITION_NAMES, UNSPECIFIED, VOCABULARIES, Conditions
from core.errors import InputError
from core.generation.decoder import token_log_likelihoods
from core.generation.generate import Generator, as_generator, condition_rows, parse_chords
from core.spelling import Spelling

RANKABLE: tuple[str, ...] = ("genre", "mood")


def _token_rows(progressions: Sequence[Sequence[Chord]], ends: bool) -> np.ndarray:
    width = max(len(p) for p in progressions) + (1 if ends else 0)
    rows = np.full((len(progressions), width), PAD_ID, dtype=np.int64)
    for i, chords in enumerate(progressions):
        ids = VOCAB.encode(chords) + ([END_ID] if ends else [])
        rows[i, : len(ids)] = ids
    return rows


def score_progressions(
    model: Generator | str | Path | None,
    progressions: Sequence[Sequence[Chord | str] | str],
    conditions: Conditions | None = None,
    ends: bool = False,
) -> list[dict]:
    """:func:`score_progression` for many progressions in one batch."""
    generator = as_generator(model)
    conditions = conditions or Conditions()
    parsed = [parse_chords(p) for p in progressions]
    if not parsed or any(len(p) == 0 for p in parsed):
        raise InputError("empty progression: give chord symbols such as 'C Am F G'")
    rows = _token_rows(parsed, ends)
    log_likelihoods = token_log_likelihoods(generator.decoder, rows, condition_rows(conditions, len(rows)))
    key = None if conditions.tonic is None else (conditions.tonic, conditions.mode or "major")
    results = []
    for chords, row in zip(parsed, log_likelihoods, strict=True):
        chord_terms = row[: len(chords)]
        factors = len(chords) + (1 if ends else 0)
        total = float(row[:factors].sum())
        result = {
            "chords": Spelling.for_chords(chords, key, conditions.mode).symbols(chords),
            "probabilities": [float(np.exp(v)) for v in chord_terms],
            "surprise": [float(-v / math.log(2)) for v in chord_terms],
            "log_likelihood": total,
            "perplexity": float(np.exp(-total / factors)),
            "conditions": conditions.as_dict(),
        }
        if ends:
            result["end_probability"] = float(np.exp(row[len(chords)]))
        results.append(result)
    return results


def score_progression(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str] | str,
    conditions: Conditions | None = None,
    ends: bool = False,
) -> dict:
    """``{chords, probabilities, surprise (bits), log_likelihood (nats), perplexity, conditions}`` of one progression."""
    return score_progressions(model, [chords], conditions, ends=ends)[0]


def rank_condition(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str] | str,
    conditions: Conditions | None = None,
    name: str = "genre",
    ends: bool = False,
) -> dict[str, float]:
    """Posterior over one condition's values (``genre`` or ``mood``), most likely first.

    Uniform prior over the values other than ``unspecified``; the posterior of value ``v`` is
    proportional to p(progression | v, the other conditions as given). One batched decode.
    """
    if name not in RANKABLE:
        raise InputError(f"cannot rank by {name!r}; accepted: {', '.join(RANKABLE)}")
    generator = as_generator(model)
    conditions = conditions or Conditions()
    values = [v for v in VOCABULARIES[name] if v != UNSPECIFIED]
    chord_list = parse_chords(chords)
    if not chord_list:
        raise InputError("empty progression: give chord symbols such as 'C Am F G'")
    rows = np.repeat(_token_rows([chord_list], ends), len(values), axis=0)
    condition_ids = condition_rows(conditions, len(values))
    column = CONDITION_NAMES.index(name)
    condition_ids[:, column] = [VOCABULARIES[name].index(v) for v in values]
    totals = token_log_likelihoods(generator.decoder, rows, condition_ids).sum(axis=1)
    posterior = np.exp(totals - totals.max())
    posterior /= posterior.sum()
    order = np.argsort(-posterior, kind="stable")
    return {values[i]: float(posterior[i]) for i in order}
