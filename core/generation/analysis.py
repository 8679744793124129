"""Analyze a typed progression: how likely the model finds it, and which genre and mood it fits, if any.

What the Analyze panel shows, in one call (:func:`analyze`): the chords as typed (read with
:func:`core.chords.read_symbol`: slash basses kept, ``G7sus4`` read as its nearest chord with a
note), spelled in the requested or guessed key; each chord's probability and surprise; the
likelihood and perplexity (:func:`core.generation.score.score_progression`); and for genre and mood
the calibrated posterior (:func:`core.generation.score.rank_condition`, fitted on the validation
songs where the model has a ``calibration.json``) with the value that clearly fits, or none
(:func:`core.generation.calibration.clear_fit`: "no clear fit").

Input is capped at :data:`core.config.MAX_CHORDS` chords, the cap ``python -m core score``
and ``POST /score`` apply, with the same message (:func:`check_scored_length`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.chords import ParsedSymbol
from core.conditions import Conditions
from core.config import MAX_CHORDS
from core.errors import InputError
from core.generation.calibration import clear_fit
from core.generation.chord_input import TypedChord, read_chords, reading_notes
from core.generation.loading import Generator, as_generator
from core.spelling import Spelling


def check_scored_length(count: int) -> None:
    """:class:`InputError` for an empty progression or one longer than :data:`MAX_CHORDS` chords."""
    if count == 0:
        raise InputError("empty progression: give chord symbols such as 'C Am F G'")
    if count > MAX_CHORDS:
        raise InputError(f"a progression may hold at most {MAX_CHORDS} chords, got {count:,}")


#: most characters of one typed symbol the reading accepts on average (``Bbm7b5/Ab`` is 9).
SYMBOL_CHARACTERS = 16


def symbols_typed(text: str) -> int:
    """How many symbols a typed progression holds (separated by spaces, commas or bars), counted without reading them."""
    return len(text.replace(",", " ").replace("|", " ").split())


def read_scored(chords: Sequence[TypedChord] | str) -> list[ParsedSymbol]:
    """Typed chords read for scoring, within the cap (:func:`check_scored_length`); a text too long to hold that many
    is refused before any symbol is read, counting the chords it holds (what the cap limits) when they are too many."""
    if isinstance(chords, str) and len(chords) > SYMBOL_CHARACTERS * MAX_CHORDS:
        check_scored_length(symbols_typed(chords))
        raise InputError(f"a progression may be at most {SYMBOL_CHARACTERS * MAX_CHORDS:,} characters long, "
                         f"got {len(chords):,}")
    parsed = read_chords(chords)
    check_scored_length(len(parsed))
    return parsed


@dataclass(frozen=True)
class Fit:
    """A condition's calibrated posterior (most likely first) and the value that clearly fits (``None``: no clear fit)."""

    posterior: dict[str, float]
    clear: str | None

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {"posterior": self.posterior, "clear_fit": self.clear}


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze` finds: the score (as :func:`core.generation.score.score_progression` gives it, symbols
    spelled with slash basses), the key they are spelled in, the genre and mood fits, and reading notes."""

    score: dict
    key: str
    genre: Fit
    mood: Fit
    notes: list[str]

    def to_dict(self) -> dict:
        """JSON-ready."""
        return {**self.score, "key": self.key, "genre": self.genre.to_dict(), "mood": self.mood.to_dict(),
                "notes": list(self.notes)}


def analyze(model: Generator | str | Path | None, chords: Sequence[TypedChord] | str,
            conditions: Conditions | None = None, ends: bool = False) -> Analysis:
    """Score a typed progression and fit it to a genre and a mood (see the module docstring)."""
    from core.generation.score import rank_condition, score_progression

    conditions = conditions or Conditions()
    parsed = read_scored(chords)
    generator = as_generator(model)
    plain = [p.chord for p in parsed]
    score = score_progression(generator, plain, conditions, ends=ends)
    key = (conditions.tonic, conditions.mode or "major") if conditions.tonic is not None else None
    spelling = Spelling.for_chords(plain, key, conditions.mode)
    score["chords"] = spelling.symbols([p.slash for p in parsed])
    fits = {}
    for name in ("genre", "mood"):
        posterior = rank_condition(generator, plain, conditions, name, ends=ends)
        fits[name] = Fit(posterior, clear_fit(posterior))
    return Analysis(score, spelling.name, fits["genre"], fits["mood"], reading_notes(parsed))
