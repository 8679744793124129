"""The composer: "what comes next?" after the chords typed so far, and "what fits here?" between two stretches.

:func:`next_chords` ranks the chords that may come next, most probable first:

* after ``chords`` alone, by the model's next-chord distribution p(c | chords, conditions);
* with ``followed_by`` (the chords that come after the gap), by the exact both-sides conditional
  p(c | chords before, chords after, conditions) ∝ p(c | before) · Π p(each later chord | …, c, …) —
  the conditional the swap alternatives use (:func:`core.generation.alternatives.position_distribution`);
* ``ends=True`` also counts the model's p(END) after the last chord: after ``followed_by``, or
  right after the chord asked for when nothing follows ("what ends it?").

The candidates are the chords a generated progression could hold there: every vocabulary chord
(only those inside the key's scale with ``in_key``), never the chord right before nor right after
the gap (no immediate repeats); the probabilities are renormalised over them, so they sum to 1 over
every candidate (the ranking shows the ``top`` first). With ``guidance`` they are the guided
chain's, as generation samples it (:mod:`core.generation.guidance`). The command line
(``python -m core next``) and the API (``POST /next``) call :func:`next_chords` and give the same
ranking. Symbols are spelled in the requested key, else in the key read from the typed chords.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.chords import Chord
from core.conditions import Conditions
from core.config import MAX_CHORDS, ComposerSettings
from core.errors import InputError
from core.generation.chord_input import TypedChord, read_chords, reading_notes
from core.generation.guidance import guided_decoder
from core.generation.loading import Generator, as_generator
from core.generation.sampling import candidate_log_scores, chord_mask, condition_rows
from core.spelling import Spelling, guess_key
from core.vocabulary import END_ID, VOCAB

#: most chords around the gap (before and after together): a progression's length limit.
MAX_CONTEXT = MAX_CHORDS - 1


@dataclass(frozen=True)
class RankedChord:
    """One candidate: the chord, its symbol spelled in the ranking's key, and its probability there."""

    chord: Chord
    symbol: str
    probability: float

    def to_dict(self) -> dict:
        """``{"chord": symbol, "probability": p}`` (six decimals), as the CLI and the API write it."""
        return {"chord": self.symbol, "probability": round(self.probability, 6)}


@dataclass(frozen=True)
class Ranking:
    """The ranked candidates (most probable first), the key they are spelled in, and how typed symbols were read."""

    chords: list[RankedChord]
    key: str
    notes: list[str]

    def to_list(self) -> list[dict]:
        """The ranking as JSON-ready ``{"chord", "probability"}`` items, most probable first."""
        return [ranked.to_dict() for ranked in self.chords]


def next_chords(
    model: Generator | str | Path | None,
    chords: Sequence[TypedChord] | str = (),
    conditions: Conditions | None = None,
    followed_by: Sequence[TypedChord] | str = (),
    in_key: bool = False,
    top: int = ComposerSettings.settings()["top"].default,
    ends: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> Ranking:
    """The ``top`` most probable chords after ``chords`` (and before ``followed_by``); see the module docstring.

    Raises :class:`InputError` for unknown symbols, ``in_key`` without a key, a ``top`` outside its
    limits, or more than :data:`MAX_CONTEXT` chords around the gap.
    """
    conditions = conditions or Conditions()
    before, after = read_chords(chords), read_chords(followed_by)
    ComposerSettings(top=top).validate()
    if len(before) + len(after) > MAX_CONTEXT:
        raise InputError(f"at most {MAX_CONTEXT} chords around the chord asked for, got {len(before) + len(after)}")
    if in_key and conditions.tonic is None:
        raise InputError("in-key chords need a key (e.g. --key C or --key 'A minor')")
    generator = as_generator(model)
    allowed = chord_mask(conditions.tonic, conditions.mode) if in_key else chord_mask()
    for neighbour in ([before[-1]] if before else []) + ([after[0]] if after else []):
        allowed[VOCAB.id_of(neighbour.chord)] = False
    candidates = np.flatnonzero(allowed)
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    tokens = [VOCAB.id_of(p.chord) for p in before] + [int(candidates[0])] + [VOCAB.id_of(p.chord) for p in after]
    scores = candidate_log_scores(decoder, np.array([tokens + ([END_ID] if ends else [])]), len(before),
                                  condition_rows(conditions, 1), candidates)[0]
    probabilities = np.exp(scores - scores.max())
    probabilities /= probabilities.sum()
    typed = [p.chord for p in before + after]
    key = (conditions.tonic, conditions.mode or "major") if conditions.tonic is not None else None
    order = np.argsort(-probabilities, kind="stable")[: int(top)]
    if key is None:
        key = guess_key(typed or [VOCAB.chord(int(candidates[i])) for i in order], conditions.mode)
    spelling = Spelling(*key)
    ranked = [RankedChord(VOCAB.chord(int(candidates[i])), spelling.symbol(VOCAB.chord(int(candidates[i]))),
                          float(probabilities[i])) for i in order]
    return Ranking(ranked, spelling.name, reading_notes(before + after))
