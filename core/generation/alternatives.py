"""Click-to-swap alternatives: the exact distribution of one chord given every other chord of the progression.

Both neighbours count: the chords after the position enter through their likelihood (and, with
``ends``, the model's p(END) after the last chord), so "what fits here" reads the whole
progression. With ``guidance`` the conditional is that of the guided chain, as generation samples
it (:mod:`core.generation.guidance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from core.chords import Chord
from core.conditions import Conditions
from core.errors import InputError
from core.generation.chord_input import parse_chords
from core.generation.guidance import guided_decoder
from core.generation.loading import Generator, as_generator
from core.generation.sampling import candidate_log_scores, chord_mask, condition_rows, shape_distribution
from core.vocabulary import END_ID, VOCAB


def position_distribution(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str],
    position: int,
    conditions: Conditions | None = None,
    in_key: bool = False,
    ends: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Exact p(chord at ``position`` = c | every other chord, conditions) over the vocabulary [V].

    ``position`` is 0-based. The chords after the position count through their likelihood;
    ``ends=True`` also counts the model's p(END) after the last chord. ``in_key`` limits the
    candidates to the key's scale. Non-candidates (specials, out-of-key chords) get 0. With
    ``guidance`` the conditional is that of the guided chain, as generation samples it.
    """
    generator = as_generator(model)
    conditions = conditions or Conditions()
    chord_list = parse_chords(chords)
    if not 0 <= int(position) < len(chord_list):
        raise InputError(f"position {int(position) + 1} is outside the progression (1..{len(chord_list)})")
    if in_key and conditions.tonic is None:
        raise InputError("in-key alternatives need a key")
    allowed = chord_mask(conditions.tonic, conditions.mode) if in_key else chord_mask()
    candidates = np.flatnonzero(allowed)
    tokens = VOCAB.encode(chord_list) + ([END_ID] if ends else [])
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    scores = candidate_log_scores(decoder, np.array([tokens]), int(position), condition_rows(conditions, 1), candidates)
    distribution = np.zeros(VOCAB.size)
    distribution[candidates] = shape_distribution(scores)[0]
    return distribution


def alternatives(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str],
    position: int,
    conditions: Conditions | None = None,
    k: int = 5,
    in_key: bool = False,
    ends: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> list[tuple[Chord, float]]:
    """The ``k`` most probable chords at 0-based ``position`` given both neighbours, best first."""
    if int(k) < 1:
        raise InputError(f"k must be at least 1, got {k}")
    distribution = position_distribution(model, chords, position, conditions, in_key=in_key, ends=ends,
                                         guidance=guidance)
    order = np.argsort(-distribution, kind="stable")
    return [(VOCAB.chord(i), float(distribution[i])) for i in order[: int(k)] if distribution[i] > 0]
