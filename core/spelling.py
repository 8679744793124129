"""Spelling chords in a key: note names, chord symbols and Roman numerals as a musician writes them.

A chord is stored as root pitch class x quality (:mod:`core.chords`); how it is written depends on
the key. In A major the leading-tone chord is ``G#m7b5``, not ``Abm7b5``; in B major the line
``F#maj7 E Abm7 B C#6 Ebm`` reads ``F#maj7 E G#m7 B C#6 D#m``. The rules, for a key (tonic, mode):

- the key is named as the user named it (``Gb major`` and ``F# major`` are spelled apart; any of
  the 30 key names whose scale needs no double sharp or flat), else as usual (:data:`KEY_TONICS`:
  Db major, G# minor, Eb minor …), and its scale takes seven consecutive letters from the tonic's;
- a root is named by its scale degree: a diatonic root takes the scale's own name, a chromatic
  one the lowered or raised degree its Roman numeral names (``bIII``, ``#IV``, ``bVII`` in major;
  the raised third, sixth and seventh in minor, so E7 in A minor holds G#), so a symbol and its
  numeral always agree (``D#maj7 VImaj7`` and ``B#7 #IV7`` in F# major, ``Ebmaj7 VImaj7`` in Gb);
- a chord's tones are named by their interval above the root (a third two letters up, a fifth
  four …), a double sharp or flat where the degree needs one (``F##`` in F# major's D# chord);
  a diminished seventh's seventh becomes a sixth when it would need a double flat;
- only a root that would itself need a double sharp or flat (``Ebb``, bII of Db major) is
  respelled: as the enharmonic whose tones need fewest doubles and accidentals (``D``), leaning
  to the key's side (sharps in sharp keys);
- a slash bass that is a chord tone is named as that tone, any other bass by its interval above
  the root (``C/Bb`` a minor seventh, ``C/F#`` a raised fourth, ``C/Ab`` a minor sixth).

A key left open is spelled in the key :func:`guess_key` reads from the chords. Spelling is
presentation only: it never changes which chord a symbol stands for.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import NamedTuple

from core.chords import QUALITIES, Chord, SlashChord, as_slash, pitch_class
from core.errors import InputError
from core.numerals import SCALE_STEPS, in_scale, roman_numeral, scale_degree

LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
#: the usual name of each key's tonic, by mode and tonic pitch class (fewest accidentals; F# major, Eb minor at six).
KEY_TONICS: dict[str, tuple[str, ...]] = {
    "major": ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"),
    "minor": ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B"),
}
#: letter steps above the root for each interval of a chord tone (third = 2 letters up). A diminished
#: seventh's 9 semitones take the seventh's letter (``Ab`` in Bdim7) unless that needs a double flat
#: (``Bbb`` in Cdim7), then the sixth's (``A``).
_TONE_STEPS = {0: (0,), 2: (1,), 3: (2,), 4: (2,), 5: (3,), 6: (4,), 7: (4,), 8: (4,), 9: (5,), 10: (6,), 11: (6,)}
_DIM7_SEVENTH_STEPS = (6, 5)
#: letter steps above the root for a slash bass outside the chord (``C/F#``: a raised fourth, ``C/Db``: a minor second).
_BASS_STEPS = {1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 5, 9: 5, 10: 6, 11: 6}


class Note(NamedTuple):
    """A spelled pitch class: a letter and its alteration in semitones (-1 flat, +1 sharp)."""

    letter: str
    alter: int

    @property
    def name(self) -> str:
        """ASCII name: ``C``, ``F#``, ``Bb``; ``F##``/``Bbb`` only for a chord tone that needs it (never a root)."""
        return self.letter + ("#" * self.alter if self.alter > 0 else "b" * -self.alter)

    @property
    def pitch_class(self) -> int:
        """The pitch class it names."""
        return (_LETTER_PC[self.letter] + self.alter) % 12

    def __str__(self) -> str:
        return self.name


def note_named(letter: str, pc: int) -> Note:
    """``pc`` written with ``letter`` (``note_named("E", 3)`` is ``Eb``; ``note_named("F", 4)`` is ``Fb``)."""
    alter = (pc - _LETTER_PC[letter] + 6) % 12 - 6
    return Note(letter, alter)


def _letter_up(letter: str, steps: int) -> str:
    return LETTERS[(LETTERS.index(letter) + steps) % 7]


def key_name(tonic: int, mode: str, named: str | None = None) -> str:
    """The name of a key: ``named`` (a tonic as the user wrote it, ``"Gb"``) when it is a key name whose scale needs
    no double accidental and names ``tonic``, else the usual one: ``key_name(8, "minor")`` is ``"G# minor"``,
    ``key_name(6, "major", "Gb")`` ``"Gb major"``, ``key_name(1, "minor", "Db")`` ``"C# minor"`` (Db minor needs Bbb)."""
    if mode not in KEY_TONICS:
        raise InputError(f"unknown scale type {mode!r}; accepted: major, minor")
    return f"{tonic_name(tonic, mode, named)} {mode}"


def tonic_name(tonic: int, mode: str, named: str | None = None) -> str:
    """The tonic's name in :func:`key_name`: ``named`` when usable for the key, else :data:`KEY_TONICS`'."""
    if named:
        written = named.strip()
        written = written[:1].upper() + written[1:]
        if written in _NAMED_TONICS[mode] and pitch_class(written) == tonic % 12:
            return written
    return KEY_TONICS[mode][tonic % 12]


def _scale_of(tonic: Note, mode: str) -> tuple[Note, ...]:
    return tuple(note_named(_letter_up(tonic.letter, degree), tonic.pitch_class + step)
                 for degree, step in enumerate(SCALE_STEPS[mode]))


def _letter_of(name: str) -> Note:
    return note_named(name[0], pitch_class(name))


#: every key name per mode whose scale needs no double sharp or flat: the 15 major and 15 minor key signatures.
_NAMED_TONICS: dict[str, frozenset[str]] = {
    mode: frozenset(f"{letter}{accidental}" for letter in LETTERS for accidental in ("", "#", "b")
                    if all(abs(n.alter) <= 1 for n in _scale_of(_letter_of(f"{letter}{accidental}"), mode)))
    for mode in ("major", "minor")
}


def guess_key(chords: Sequence[Chord | SlashChord], scale_type: str | None = None) -> tuple[int, str]:
    """The key a progression most plausibly sits in, for Roman numerals and spelling when the user left it open.

    Ranks the 24 keys (or the 12 of ``scale_type``) by: most chords wholly inside the scale, then
    the first chord being the tonic chord, then the last, then major over minor, then the lower
    tonic. ``C G Am F`` → C major; ``Am F C G`` → A minor.
    """
    modes = (scale_type,) if scale_type in ("major", "minor") else ("major", "minor")
    plain = [as_slash(c).chord for c in chords]
    if not plain:
        return 0, modes[0]

    def rank(key: tuple[int, str]) -> tuple:
        tonic, mode = key
        fits = sum(in_scale(c, tonic, mode) for c in plain)

        def is_tonic(chord: Chord) -> bool:
            return chord.root == tonic and chord.is_minor == (mode == "minor")

        return fits, is_tonic(plain[0]), is_tonic(plain[-1]), mode == "major", -tonic

    return max(((tonic, mode) for mode in modes for tonic in range(12)), key=rank)


class Spelling:
    """How chords are written in one key: ``Spelling(9, "major").symbol(Chord(8, "hdim7"))`` is ``"G#m7b5"``.

    Cheap to build; results are cached per key. :meth:`for_chords` picks the requested key or
    guesses one; :meth:`from_name` reads ``"G# minor"`` or ``"Gb major"``. ``named`` is the tonic as
    the user wrote it (``"Gb"``): the key is spelled by that name's scale (:func:`tonic_name`).
    """

    def __init__(self, tonic: int, mode: str = "major", named: str | None = None) -> None:
        if mode not in SCALE_STEPS:
            raise InputError(f"unknown scale type {mode!r}; accepted: major, minor")
        self.tonic, self.mode = tonic % 12, mode
        self.tonic_note: Note = _letter_of(tonic_name(self.tonic, mode, named))
        self.scale: tuple[Note, ...] = _scale_of(self.tonic_note, mode)
        #: key signature: sharps (> 0) or flats (< 0).
        self.fifths: int = sum(note.alter for note in self.scale)

    @classmethod
    def for_chords(cls, chords: Sequence[Chord | SlashChord], key: tuple[int, str] | tuple[int, str, str] | None = None,
                   scale_type: str | None = None) -> Spelling:
        """The spelling for ``key`` (tonic, mode, optionally the tonic's name), or for the key :func:`guess_key`
        reads from ``chords`` (among ``scale_type``'s keys when given) when ``key`` is ``None``."""
        return _spelling(*(key if key is not None else guess_key(chords, scale_type)))

    @classmethod
    def from_name(cls, name: str) -> Spelling:
        """The spelling of a key written ``"<tonic> <mode>"`` (``"G# minor"``, ``"Gb major"``), spelled as named."""
        tonic, _, mode = name.strip().partition(" ")
        return _spelling(pitch_class(tonic), mode.strip() or "major", tonic)

    @property
    def key(self) -> tuple[int, str]:
        """(tonic pitch class, mode)."""
        return self.tonic, self.mode

    @property
    def named_key(self) -> tuple[int, str, str]:
        """(tonic pitch class, mode, tonic name): the key as named, for notation (``(6, "major", "Gb")``)."""
        return self.tonic, self.mode, self.tonic_note.name

    @property
    def name(self) -> str:
        """The key's name, e.g. ``"G# minor"``, ``"Gb major"``."""
        return f"{self.tonic_note.name} {self.mode}"

    def __repr__(self) -> str:
        return f"Spelling({self.name!r})"

    # --- notes ---------------------------------------------------------------------------------

    def note(self, pc: int) -> Note:
        """A lone pitch class (a bass outside the chord) named by its scale degree, never double-sharp or -flat."""
        return _note_in_key(self.tonic, self.mode, self.tonic_note.name, pc % 12)

    def chord_notes(self, chord: Chord) -> dict[int, Note]:
        """Each of the chord's pitch classes -> its spelled name, root included."""
        return dict(_chord_notes(self.tonic, self.mode, self.tonic_note.name, chord))

    def chord_tones(self, chord: Chord | SlashChord) -> dict[int, Note]:
        """The tones of a chord as its symbol names them: :meth:`chord_notes`, unless its slash bass is a tone that
        would need a double accidental (``C##`` under A# in B major): then the whole chord is spelled from the
        enharmonic root that needs none (``Bb/D``), so the symbol never shows one."""
        slash = as_slash(chord)
        tones = self.chord_notes(slash.chord)
        if slash.bass is None or slash.bass not in tones or abs(tones[slash.bass].alter) <= 1:
            return tones
        return dict(min((_tones_over(root, slash.chord) for root in _enharmonics(slash.chord.root)),
                        key=lambda spelled: (abs(dict(spelled)[slash.bass].alter) > 1,
                                             sum(abs(n.alter) > 1 for _, n in spelled))))

    def root(self, chord: Chord | SlashChord) -> Note:
        """The spelled root."""
        return self.chord_tones(chord)[as_slash(chord).chord.root]

    def bass(self, chord: Chord | SlashChord) -> Note | None:
        """The spelled slash bass, ``None`` in root position: a chord tone as the chord spells it (:meth:`chord_tones`),
        any other note by its interval above the spelled root (``C/Bb``), or its scale degree if that needs a double."""
        slash = as_slash(chord)
        if slash.bass is None:
            return None
        tones = self.chord_tones(slash)
        if slash.bass in tones:
            return tones[slash.bass]
        root = tones[slash.chord.root]
        over_root = note_named(_letter_up(root.letter, _BASS_STEPS[(slash.bass - slash.chord.root) % 12]), slash.bass)
        return over_root if abs(over_root.alter) <= 1 else self.note(slash.bass)

    # --- symbols and numerals ------------------------------------------------------------------

    def symbol(self, chord: Chord | SlashChord) -> str:
        """The lead-sheet symbol in this key: ``G#m7b5``, ``C/E``, ``F#maj7``."""
        slash = as_slash(chord)
        bass = self.bass(slash)
        text = self.root(slash).name + QUALITIES[slash.chord.quality][1]
        return text if bass is None else f"{text}/{bass.name}"

    def symbols(self, chords: Sequence[Chord | SlashChord]) -> list[str]:
        """:meth:`symbol` of each chord."""
        return [self.symbol(c) for c in chords]

    def roman(self, chord: Chord | SlashChord) -> str:
        """The Roman numeral in this key, with inversion figures for a slash bass (``V65``, ``I/b7``)."""
        slash = as_slash(chord)
        return roman_numeral(slash.chord, self.tonic, self.mode, slash.bass)


@functools.cache
def _spelling(tonic: int, mode: str, named: str | None = None) -> Spelling:
    return Spelling(tonic, mode, named)


def _key_side(tonic: int, mode: str, named: str) -> int:
    """+1 for a sharp key, -1 for a flat one, 0 for C major / A minor."""
    fifths = _spelling(tonic, mode, named).fifths
    return (fifths > 0) - (fifths < 0)


def _by_degree(tonic: int, mode: str, named: str, pc: int) -> Note:
    """``pc`` named by its scale degree in the key (the Roman numeral's degree)."""
    degree, _ = scale_degree(pc - tonic, mode)
    return note_named(_spelling(tonic, mode, named).scale[degree].letter, pc)


def _enharmonics(pc: int) -> list[Note]:
    """Every name of ``pc`` with at most one sharp or flat."""
    return [note for note in (note_named(letter, pc) for letter in LETTERS) if abs(note.alter) <= 1]


@functools.cache
def _note_in_key(tonic: int, mode: str, named: str, pc: int) -> Note:
    note = _by_degree(tonic, mode, named, pc)
    if abs(note.alter) <= 1:
        return note
    side = _key_side(tonic, mode, named)
    return min(_enharmonics(pc), key=lambda n: (abs(n.alter), n.alter * side < 0, n.letter))


def _tones_over(root: Note, chord: Chord) -> tuple[tuple[int, Note], ...]:
    """The chord's tones named by their interval above a spelled root."""
    tones = []
    for interval in sorted(chord.intervals):
        pc = (root.pitch_class + interval) % 12
        steps = _DIM7_SEVENTH_STEPS if chord.quality == "dim7" and interval == 9 else _TONE_STEPS[interval]
        names = [note_named(_letter_up(root.letter, step), pc) for step in steps]
        tones.append((pc, next((n for n in names if abs(n.alter) <= 1), names[0])))
    return tuple(tones)


@functools.cache
def _chord_notes(tonic: int, mode: str, named: str, chord: Chord) -> tuple[tuple[int, Note], ...]:
    """The chord's tones spelled in the key: its root by scale degree (respelled only if it would itself need a
    double accidental), each tone by its interval above the root."""
    root = _by_degree(tonic, mode, named, chord.root)
    if abs(root.alter) <= 1:
        return _tones_over(root, chord)

    def doubles(tones: tuple[tuple[int, Note], ...]) -> int:
        return sum(abs(note.alter) > 1 for _, note in tones)

    side = _key_side(tonic, mode, named)
    options = [_tones_over(root, chord) for root in _enharmonics(chord.root)]
    return min(options, key=lambda tones: (doubles(tones), sum(abs(n.alter) for _, n in tones),
                                           tones[0][1].alter * side < 0, tones[0][1].letter))


def spell(chord: Chord | SlashChord, key: tuple[int, str]) -> str:
    """The symbol of one chord in a key (tonic, mode): ``spell(Chord(8, "hdim7"), (9, "major"))`` is ``"G#m7b5"``."""
    return _spelling(*key).symbol(chord)


def spell_progression(chords: Sequence[Chord | SlashChord], key: tuple[int, str] | None = None) -> list[str]:
    """Symbols of a progression in ``key``, or in the key :func:`guess_key` reads from it when ``None``."""
    return Spelling.for_chords(chords, key).symbols(chords)
