"""Scoring progressions with the model: per-chord probabilities, surprise, likelihood, perplexity, and
which genre or mood a progression sounds most like.

All numbers come from the fast decoder (:mod:`core.generation.decoder`), batched. A progression's
likelihood is ``Π p(chord_t | START, chords_<t, conditions)`` over its chords; with ``ends=True``
the model's p(END) after the last chord is a factor too (the progression is then read as complete).
Perplexity is ``exp(-log_likelihood / factors)``; surprise is ``-log2 p`` per chord, in bits.

Ranking a condition (:func:`rank_condition`) reads the model's own, unguided probabilities under
each value and turns them into a posterior calibrated on the validation songs when the model has a
``calibration.json`` (:mod:`core.generation.calibration`, whose ``clear_fit`` says whether the top
value is clearly ahead).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.chords import Chord
from core.conditions import CONDITION_NAMES, UNSPECIFIED, VOCABULARIES, Conditions
from core.errors import InputError
from core.generation.calibration import UNCALIBRATED, ConditionCalibration, load_calibration
from core.generation.chord_input import parse_chords
from core.generation.decoder import token_log_likelihoods
from core.generation.loading import Generator, as_generator
from core.generation.sampling import condition_rows
from core.spelling import Spelling
from core.vocabulary import END_ID, PAD_ID, VOCAB

RANKABLE: tuple[str, ...] = ("genre", "mood")
#: progressions x values decoded at once when scoring many progressions under every value.
RANK_CHUNK_ROWS = 2048


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


def rankable_values(name: str) -> list[str]:
    """The values a condition is ranked over (``unspecified`` left out); raises :class:`InputError` for other names."""
    if name not in RANKABLE:
        raise InputError(f"cannot rank by {name!r}; accepted: {', '.join(RANKABLE)}")
    return [v for v in VOCABULARIES[name] if v != UNSPECIFIED]


def condition_log_likelihoods(
    model: Generator | str | Path | None,
    progressions: Sequence[Sequence[Chord]],
    conditions: Conditions,
    name: str,
    ends: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Summed log-likelihood of every progression under every value of ``name`` [N, values], and factor counts [N].

    The other conditions are as in ``conditions``. Decoded in chunks of :data:`RANK_CHUNK_ROWS` rows.
    """
    values = rankable_values(name)
    if not progressions or any(len(p) == 0 for p in progressions):
        raise InputError("empty progression: give chord symbols such as 'C Am F G'")
    generator = as_generator(model)
    rows = _token_rows(progressions, ends)
    value_ids = np.array([VOCABULARIES[name].index(v) for v in values])
    column = CONDITION_NAMES.index(name)
    totals = np.empty((len(rows), len(values)))
    per_chunk = max(1, RANK_CHUNK_ROWS // len(values))
    for start in range(0, len(rows), per_chunk):
        chunk = rows[start : start + per_chunk]
        condition_ids = condition_rows(conditions, len(chunk) * len(values))
        condition_ids[:, column] = np.tile(value_ids, len(chunk))
        scores = token_log_likelihoods(generator.decoder, np.repeat(chunk, len(values), axis=0), condition_ids)
        totals[start : start + len(chunk)] = scores.sum(axis=1).reshape(len(chunk), len(values))
    factors = np.array([len(p) + (1 if ends else 0) for p in progressions], dtype=np.int64)
    return totals, factors


def rank_condition(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str] | str,
    conditions: Conditions | None = None,
    name: str = "genre",
    ends: bool = False,
    calibrated: bool = True,
) -> dict[str, float]:
    """Posterior over one condition's values (``genre`` or ``mood``), most likely first.

    Uniform prior over the values other than ``unspecified``; the evidence for value ``v`` is
    p(progression | v, the other conditions as given), one batched decode. With ``calibrated``
    (and a ``calibration.json`` beside the model) the evidence is scaled as fitted on the
    validation songs (:mod:`core.generation.calibration`); otherwise it is the raw product.
    """
    values = rankable_values(name)
    generator = as_generator(model)
    chord_list = parse_chords(chords)
    totals, factors = condition_log_likelihoods(generator, [chord_list], conditions or Conditions(), name, ends=ends)
    calibration = condition_calibration(generator, name) if calibrated else UNCALIBRATED
    posterior = calibration.posteriors(totals, factors)[0]
    order = np.argsort(-posterior, kind="stable")
    return {values[i]: float(posterior[i]) for i in order}


def condition_calibration(model: Generator | str | Path | None, name: str) -> ConditionCalibration:
    """The stored calibration of ``name`` for a model, or the raw posterior when it has none."""
    model_dir = as_generator(model).model_dir
    return UNCALIBRATED if model_dir is None else load_calibration(model_dir).get(name, UNCALIBRATED)
