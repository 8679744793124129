"""The piano score of a progression: every chord's bass, voicing, spelling and Roman numeral, decided once.

The writers (:mod:`core.notation.musicxml`, :mod:`~core.notation.midi`, :mod:`~core.notation.svg`,
:mod:`~core.notation.wav`) only write a :class:`Score` down, so every format shows and plays the same notes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from core.chords import Chord, SlashChord, as_slash
from core.errors import InputError
from core.spelling import Note, Spelling
from core.voicing import VoicingStyle, voice_progression

DEFAULT_TEMPO = 100.0
DEFAULT_BEATS_PER_CHORD = 4
PIANO_TRACK_NAME = "Piano"


@dataclass(frozen=True)
class Score:
    """A voiced, spelled progression ready to write down: what the page shows, plays and exports.

    ``key`` (tonic, mode) is the key signature and the Roman numerals' key, ``None`` for neither;
    ``spelling`` is that key's, or the guessed key's when ``key`` is ``None``. ``voicings`` hold
    each chord's MIDI pitches, bass first.
    """

    chords: tuple[SlashChord, ...]
    voicings: tuple[tuple[int, ...], ...]
    spelling: Spelling
    key: tuple[int, str] | tuple[int, str, str] | None
    title: str
    bpm: float
    beats_per_chord: int

    @property
    def symbols(self) -> list[str]:
        """Each chord's symbol spelled in key, slash bass included (``G#m7b5``, ``C/E``)."""
        return self.spelling.symbols(self.chords)

    @property
    def romans(self) -> list[str]:
        """Each chord's Roman numeral in :attr:`key` with inversion figures (empty without a key)."""
        return [self.spelling.roman(c) for c in self.chords] if self.key is not None else []

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return progression_seconds(len(self.chords), self.bpm, self.beats_per_chord)

    def spelled_notes(self, index: int) -> list[Note]:
        """Names of chord ``index``'s pitches (bass first), as the chord spells its tones."""
        slash = self.chords[index]
        names = self.spelling.chord_tones(slash)  # as its symbol names them
        bass = self.spelling.bass(slash)
        return [bass if i == 0 and bass is not None else names.get(m % 12) or self.spelling.note(m)
                for i, m in enumerate(self.voicings[index])]

    def only(self, index: int) -> Score:
        """The score of chord ``index`` alone, voiced as in the progression (to audition one chord)."""
        return dataclasses.replace(self, chords=self.chords[index:index + 1], voicings=self.voicings[index:index + 1])


def validate_progression(chords: Sequence[Chord | SlashChord], beats_per_chord: int, bpm: float) -> None:
    """Raise :class:`InputError` for an empty progression, a fractional or silly beat count, or tempo."""
    if not chords:
        raise InputError("empty progression: nothing to notate")
    if int(beats_per_chord) != beats_per_chord or not 1 <= beats_per_chord <= 16:
        raise InputError(f"beats per chord must be a whole number from 1 to 16, not {beats_per_chord}")
    if not 20 <= bpm <= 300:
        raise InputError(f"tempo must be between 20 and 300 bpm, not {bpm}")


def build_score(
    chords: Sequence[Chord | SlashChord],
    title: str = "Progression",
    key: tuple[int, str] | tuple[int, str, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    voicing: VoicingStyle = "voice-led",
) -> Score:
    """The voiced, spelled score of a progression (:class:`Score`).

    ``chords`` may be plain chords or :class:`SlashChord` (an inversion or a typed bass, kept).
    ``key`` (tonic pitch class, ``"major"``/``"minor"``, optionally the tonic's name, ``(6, "major", "Gb")``)
    adds a key signature and Roman numerals; spelling follows it (the named key's scale), or the key
    :func:`core.spelling.guess_key` reads when it is ``None``.
    Each chord lasts ``beats_per_chord`` quarter notes (one chord per 4/4 bar by default).
    """
    validate_progression(chords, beats_per_chord, bpm)
    slashes = tuple(as_slash(c) for c in chords)
    if key is not None:
        key = (key[0] % 12, key[1], *key[2:3])  # a third item names the tonic: (6, "major", "Gb") is spelled in Gb
    return Score(
        chords=slashes,
        voicings=tuple(tuple(v) for v in voice_progression(slashes, voicing)),
        spelling=Spelling.for_chords(slashes, key),
        key=key,
        title=title,
        bpm=float(bpm),
        beats_per_chord=int(beats_per_chord),
    )


def progression_seconds(n_chords: int, bpm: float, beats_per_chord: float) -> float:
    """Length of a progression in seconds."""
    return n_chords * beats_per_chord * 60.0 / bpm


def beats_per_bar(beats_per_chord: int) -> int:
    """4 (4/4) when chords fill or divide whole bars, else one chord per bar of ``beats_per_chord``/4."""
    return 4 if beats_per_chord % 4 == 0 or 4 % beats_per_chord == 0 else beats_per_chord
