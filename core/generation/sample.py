"""One generated progression (:class:`Sample`) and the Roman numerals it is shown with.

A sample keeps the vocabulary chords the model drew (root × quality), each chord's typed slash
bass, the model's probability of each chord, and how it was made (conditions, locked positions,
reading notes, a transposition for display) and, from a song-context model, each chord's duration in beats.
Roman numerals are in the requested key; with the
key open they are in the key :func:`core.spelling.guess_key` reads from the chords.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.chords import Chord, SlashChord, as_slash
from core.conditions import Conditions
from core.numerals import roman_numeral
from core.spelling import Spelling, guess_key, key_name


@dataclass
class Sample:
    """One progression: its chords as shown, the model's probabilities, numerals and how it was made.

    ``chords`` are vocabulary chords (root × quality); ``basses`` holds each chord's slash bass
    (``None``: root position), so a typed ``C/E`` keeps its E. ``transposition`` is how many
    semitones the shown chords are moved from the key the model generated them in (edits move
    them back to run the model, :mod:`core.generation.edits`); ``probabilities`` are the model's
    for the generated chords.
    """

    chords: list[Chord]
    probabilities: list[float]  # model p(chord | chords before, conditions) per chord
    conditions: Conditions
    roman: list[str]
    roman_key: str  # the key the Roman numerals are in, e.g. "A minor"
    ended: bool  # the model chose END (rather than running out of length)
    locked: list[int] = field(default_factory=list)  # 0-based positions fixed by seeds or locks
    basses: list[int | None] = field(default_factory=list)  # slash bass per chord (empty: all root position)
    notes: list[str] = field(default_factory=list)  # how typed symbols outside the vocabulary were read
    transposition: int = 0  # semitones the shown chords are moved from the generated ones
    durations: list[int] | None = None  # beats per chord, from a model with a duration head (None: no durations)

    @property
    def slash_chords(self) -> list[SlashChord]:
        """Each chord over its bass (root position where none was typed): what notation and audio render."""
        basses = self.basses or [None] * len(self.chords)
        return [SlashChord(chord, bass) for chord, bass in zip(self.chords, basses, strict=True)]

    @property
    def model_chords(self) -> list[Chord]:
        """The chords as the model generated them (moved back by :attr:`transposition`)."""
        return [c.transpose(-self.transposition) for c in self.chords]

    @property
    def symbols(self) -> list[str]:
        """Lead-sheet symbols spelled in :attr:`roman_key` (``G#m7b5`` in A major), slash basses included."""
        return Spelling.from_name(self.roman_key).symbols(self.slash_chords)

    def to_dict(self) -> dict:
        """JSON-ready: ``chords`` (symbols), ``roman``, ``probabilities``, ``conditions``, ``notes`` and the rest."""
        return {
            "chords": self.symbols,
            "roman": self.roman,
            "roman_key": self.roman_key,
            "probabilities": [round(p, 6) for p in self.probabilities],
            "conditions": self.conditions.as_dict(),
            "ended": self.ended,
            "locked": [p + 1 for p in self.locked],
            "notes": list(self.notes),
            **({"durations": list(self.durations)} if self.durations is not None else {}),
        }


def roman_for(chords: Sequence[Chord | SlashChord], conditions: Conditions,
              transposition: int = 0) -> tuple[list[str], str]:
    """Roman numerals of ``chords`` and the key they are in (the requested key, else :func:`guess_key`).

    ``transposition`` moves the requested key with chords that were moved from it. Slash basses
    add inversion figures (``V65``). The key keeps the name the user gave it (``Gb major``, not
    ``F# major``), so the chords are spelled by its scale (:mod:`core.spelling`).
    """
    named = None
    if conditions.tonic is not None:
        tonic, mode = (conditions.tonic + transposition) % 12, conditions.mode or "major"
        named = conditions.key.split()[0] if transposition % 12 == 0 else None  # the key as the user named it
    else:
        tonic, mode = guess_key(chords, conditions.mode)
    slashes = [as_slash(c) for c in chords]
    return [roman_numeral(c.chord, tonic, mode, c.bass) for c in slashes], key_name(tonic, mode, named)
