"""Chord symbols: parsing and normalisation to root x quality, slash chords, transposition.

Every chord in the studio is a :class:`Chord`: a root pitch class (0 = C … 11 = B, one spelling
each: C C# D Eb E F F# G Ab A Bb B) and one quality from :data:`QUALITIES`. Whatever a source
writes (Harte ``A:min7``, lead-sheet ``Am7``/``A-7``, Roman numerals, music21 chords) is mapped to
the nearest listed quality by its pitch-class intervals; the parsers count what was mapped.
The vocabulary holds root-position chords: the corpus parsers drop a slash bass, while what a user
types keeps it beside the chord (:func:`read_symbol` returns a :class:`SlashChord`'s parts and a
note when a symbol outside the vocabulary was read as its nearest chord). How a chord is written
in a key (``G#m7b5`` rather than ``Abm7b5`` in A major) is :mod:`core.spelling`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from core.errors import InputError

ROOTS: tuple[str, ...] = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

#: quality name -> (intervals above the root, lead-sheet suffix). Order fixes the vocabulary ids.
QUALITIES: dict[str, tuple[frozenset[int], str]] = {
    "maj": (frozenset({0, 4, 7}), ""),
    "min": (frozenset({0, 3, 7}), "m"),
    "7": (frozenset({0, 4, 7, 10}), "7"),
    "maj7": (frozenset({0, 4, 7, 11}), "maj7"),
    "min7": (frozenset({0, 3, 7, 10}), "m7"),
    "dim": (frozenset({0, 3, 6}), "dim"),
    "dim7": (frozenset({0, 3, 6, 9}), "dim7"),
    "hdim7": (frozenset({0, 3, 6, 10}), "m7b5"),
    "aug": (frozenset({0, 4, 8}), "aug"),
    "sus2": (frozenset({0, 2, 7}), "sus2"),
    "sus4": (frozenset({0, 5, 7}), "sus4"),
    "6": (frozenset({0, 4, 7, 9}), "6"),
    "min6": (frozenset({0, 3, 7, 9}), "m6"),
    "9": (frozenset({0, 2, 4, 7, 10}), "9"),
    "add9": (frozenset({0, 2, 4, 7}), "add9"),
    "minmaj7": (frozenset({0, 3, 7, 11}), "mM7"),
}
QUALITY_NAMES: tuple[str, ...] = tuple(QUALITIES)
MINOR_QUALITIES = frozenset({"min", "min7", "min6", "minmaj7", "dim", "dim7", "hdim7"})

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


class ChordError(InputError):
    """A chord symbol that cannot be read."""


def pitch_class(name: str) -> int:
    """Pitch class of a note name such as ``C``, ``F#``, ``Bb``, ``Ebb`` or ``E-`` (music21 flat)."""
    match = re.fullmatch(r"([A-Ga-g])([#b\-]*)", name.strip())
    if not match:
        raise ChordError(f"unknown note name {name!r}")
    letter, accidentals = match.groups()
    shift = accidentals.count("#") - accidentals.count("b") - accidentals.count("-")
    return (_LETTER_PC[letter.upper()] + shift) % 12


@dataclass(frozen=True, order=True)
class Chord:
    """A chord as root pitch class (0-11) and quality name (a key of :data:`QUALITIES`)."""

    root: int
    quality: str

    def __post_init__(self) -> None:
        if not 0 <= self.root < 12 or self.quality not in QUALITIES:
            raise ChordError(f"invalid chord root={self.root} quality={self.quality!r}")

    @property
    def symbol(self) -> str:
        """Lead-sheet symbol, e.g. ``Am7``, ``Bbmaj7``, ``F#m7b5``."""
        return ROOTS[self.root] + QUALITIES[self.quality][1]

    @property
    def intervals(self) -> frozenset[int]:
        """Semitones above the root of the chord's tones."""
        return QUALITIES[self.quality][0]

    def pitch_classes(self) -> list[int]:
        """The chord's pitch classes, root first, then ascending intervals."""
        return [(self.root + i) % 12 for i in sorted(self.intervals)]

    def transpose(self, semitones: int) -> Chord:
        """The same chord moved by ``semitones``."""
        return Chord((self.root + semitones) % 12, self.quality)

    @property
    def is_minor(self) -> bool:
        """True for chords with a minor third (minor, diminished, half-diminished families)."""
        return self.quality in MINOR_QUALITIES

    def __str__(self) -> str:
        return self.symbol


#: where an interval sits when a chord is stacked in thirds: root, third (or the suspended tone), fifth,
#: seventh or sixth, then the ninth. ``sus2``'s second stands in for the third.
_STACK_POSITION = {0: 0, 3: 1, 4: 1, 5: 1, 6: 2, 7: 2, 8: 2, 9: 3, 10: 3, 11: 3, 2: 4}


def chord_tones(chord: Chord) -> list[int]:
    """The chord's pitch classes stacked in thirds: root, third, fifth, seventh (or sixth), ninth.

    Inversion ``k`` puts tone ``k`` of this list in the bass (``C/E`` is the first inversion of C).
    """
    def position(interval: int) -> int:
        return 1 if interval == 2 and chord.quality == "sus2" else _STACK_POSITION[interval]

    return [(chord.root + i) % 12 for i in sorted(chord.intervals, key=position)]


@dataclass(frozen=True)
class SlashChord:
    """A vocabulary chord over a bass pitch class: an inversion (``C/E``) or any note (``C/Bb``).

    The model knows only the chord; the bass is how it is voiced and written. ``bass`` is
    ``None`` (or the root, normalised to ``None``) for root position.
    """

    chord: Chord
    bass: int | None = None

    def __post_init__(self) -> None:
        if self.bass is not None:
            if not 0 <= self.bass < 12:
                raise ChordError(f"invalid bass pitch class {self.bass}")
            if self.bass == self.chord.root:
                object.__setattr__(self, "bass", None)

    @classmethod
    def inverted(cls, chord: Chord, inversion: int) -> SlashChord:
        """``chord`` in an inversion: 0 root position, 1 the third in the bass, 2 the fifth, 3 the seventh."""
        tones = chord_tones(chord)
        if not 0 <= inversion < len(tones):
            raise ChordError(f"{chord.symbol} has inversions 0..{len(tones) - 1}, not {inversion}")
        return cls(chord, tones[inversion])

    @property
    def inversion(self) -> int | None:
        """Which inversion this is (0 = root position); ``None`` when the bass is not a chord tone."""
        if self.bass is None:
            return 0
        tones = chord_tones(self.chord)
        return tones.index(self.bass) if self.bass in tones else None

    @property
    def symbol(self) -> str:
        """Symbol in the studio's default spelling, e.g. ``C/E``, ``Am7``; :mod:`core.spelling` writes it in a key."""
        return self.chord.symbol + ("" if self.bass is None else "/" + ROOTS[self.bass])

    def __str__(self) -> str:
        return self.symbol


def as_slash(item: Chord | SlashChord) -> SlashChord:
    """A :class:`SlashChord` for a chord (root position) or the slash chord itself."""
    return item if isinstance(item, SlashChord) else SlashChord(item)


def nearest_quality(intervals: Iterable[int]) -> tuple[str, bool]:
    """The listed quality closest to a set of intervals above a root; and whether it was inexact.

    Closeness: the third and fifth decide first (a chord keeps its major/minor/diminished/
    augmented/suspended colour), then the fewest tones added or missing.
    """
    wanted = frozenset(i % 12 for i in intervals) | {0}
    for name, (tones, _) in QUALITIES.items():
        if tones == wanted:
            return name, False
    weights = {1: 1, 2: 1, 3: 8, 4: 8, 5: 1, 6: 4, 7: 4, 8: 4, 9: 2, 10: 2, 11: 2}
    if 4 in wanted:
        weights[3] = 1  # a minor third beside a major one is a #9
    if not wanted & {3, 4}:
        weights[2] = weights[5] = 8  # suspended: the 2nd or 4th stands in for the third

    def distance(name: str) -> int:
        return sum(weights[i] for i in wanted ^ QUALITIES[name][0] if i)

    return min(QUALITY_NAMES, key=distance), True


def from_intervals(root: int, intervals: Iterable[int]) -> tuple[Chord, bool]:
    """Chord from a root and its tones' intervals, mapped to the nearest quality."""
    quality, mapped = nearest_quality(intervals)
    return Chord(root % 12, quality), mapped


def from_pitch_classes(root: int, pitch_classes: Iterable[int]) -> tuple[Chord, bool]:
    """Chord from a root and absolute pitch classes (e.g. a music21 chord's pitches)."""
    return from_intervals(root, [(pc - root) % 12 for pc in pitch_classes])


# --- Harte syntax (Billboard, POP909): root:shorthand(extensions)/bass ----------------------

_HARTE_SHORTHAND: dict[str, frozenset[int]] = {
    "maj": frozenset({0, 4, 7}), "min": frozenset({0, 3, 7}), "dim": frozenset({0, 3, 6}),
    "aug": frozenset({0, 4, 8}), "maj7": frozenset({0, 4, 7, 11}), "min7": frozenset({0, 3, 7, 10}),
    "7": frozenset({0, 4, 7, 10}), "dim7": frozenset({0, 3, 6, 9}), "hdim7": frozenset({0, 3, 6, 10}),
    "minmaj7": frozenset({0, 3, 7, 11}), "maj6": frozenset({0, 4, 7, 9}), "min6": frozenset({0, 3, 7, 9}),
    "9": frozenset({0, 4, 7, 10, 2}), "maj9": frozenset({0, 4, 7, 11, 2}), "min9": frozenset({0, 3, 7, 10, 2}),
    "11": frozenset({0, 4, 7, 10, 2, 5}), "min11": frozenset({0, 3, 7, 10, 2, 5}),
    "13": frozenset({0, 4, 7, 10, 2, 9}), "maj13": frozenset({0, 4, 7, 11, 2, 9}),
    "min13": frozenset({0, 3, 7, 10, 2, 9}), "sus2": frozenset({0, 2, 7}), "sus4": frozenset({0, 5, 7}),
    "5": frozenset({0, 7}), "1": frozenset({0}), "": frozenset({0, 4, 7}),
    "sus4(b7)": frozenset({0, 5, 7, 10}), "7sus4": frozenset({0, 5, 7, 10}),
}
_DEGREE_SEMITONES = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 8: 12, 9: 14, 10: 16, 11: 17, 12: 19, 13: 21}


def _degree(text: str) -> int:
    match = re.fullmatch(r"([#b]*)(\d+)", text.strip())
    if not match or int(match.group(2)) not in _DEGREE_SEMITONES:
        raise ChordError(f"unknown interval degree {text!r}")
    acc, number = match.groups()
    return (_DEGREE_SEMITONES[int(number)] + acc.count("#") - acc.count("b")) % 12


def parse_harte(label: str) -> tuple[Chord | None, bool]:
    """Read a Harte label (``A:min7``, ``C:maj/3``, ``G:(1,3,5,b7)``, ``N``, ``X``).

    Returns ``(None, False)`` for no-chord labels (``N``, ``X``), else the chord and whether its
    quality was mapped to a nearer listed one. Raises :class:`ChordError` if unreadable.
    """
    label = label.strip()
    if label in ("N", "X", "&pause", ""):
        return None, False
    match = re.fullmatch(r"([A-G][#b]*)(?::([^/(]*)(?:\(([^)]*)\))?)?(?:/([#b]*\d+))?", label)
    if not match:
        raise ChordError(f"unreadable Harte chord label {label!r}")
    root_name, shorthand, extensions, _bass = match.groups()
    root = pitch_class(root_name)
    shorthand = shorthand or ("" if extensions else "maj")
    if shorthand not in _HARTE_SHORTHAND:
        raise ChordError(f"unknown Harte shorthand {shorthand!r} in {label!r}")
    tones = set(_HARTE_SHORTHAND[shorthand])
    if shorthand == "" and extensions:
        tones = {0}
    for item in (extensions or "").split(","):
        item = item.strip()
        if not item:
            continue
        if item.startswith("*"):
            tones.discard(_degree(item[1:]))
        else:
            tones.add(_degree(item))
    chord, mapped = from_intervals(root, tones)
    return chord, mapped


# --- lead-sheet symbols (users, jazz charts, ABC) ---------------------------------------------

#: suffix (after the root, before a slash) -> intervals. Longest suffix wins.
_SUFFIX_TONES: dict[str, frozenset[int]] = {
    "": frozenset({0, 4, 7}), "M": frozenset({0, 4, 7}), "maj": frozenset({0, 4, 7}),
    "m": frozenset({0, 3, 7}), "min": frozenset({0, 3, 7}), "mi": frozenset({0, 3, 7}), "-": frozenset({0, 3, 7}),
    "7": frozenset({0, 4, 7, 10}), "dom7": frozenset({0, 4, 7, 10}),
    "maj7": frozenset({0, 4, 7, 11}), "M7": frozenset({0, 4, 7, 11}), "^7": frozenset({0, 4, 7, 11}),
    "^": frozenset({0, 4, 7, 11}), "Δ": frozenset({0, 4, 7, 11}), "Δ7": frozenset({0, 4, 7, 11}),
    "m7": frozenset({0, 3, 7, 10}), "min7": frozenset({0, 3, 7, 10}), "mi7": frozenset({0, 3, 7, 10}),
    "-7": frozenset({0, 3, 7, 10}),
    "dim": frozenset({0, 3, 6}), "o": frozenset({0, 3, 6}), "°": frozenset({0, 3, 6}),
    "dim7": frozenset({0, 3, 6, 9}), "o7": frozenset({0, 3, 6, 9}), "°7": frozenset({0, 3, 6, 9}),
    "m7b5": frozenset({0, 3, 6, 10}), "-7b5": frozenset({0, 3, 6, 10}), "h": frozenset({0, 3, 6, 10}),
    "h7": frozenset({0, 3, 6, 10}), "ø": frozenset({0, 3, 6, 10}), "ø7": frozenset({0, 3, 6, 10}),
    "hdim7": frozenset({0, 3, 6, 10}),
    "aug": frozenset({0, 4, 8}), "+": frozenset({0, 4, 8}), "#5": frozenset({0, 4, 8}),
    "sus2": frozenset({0, 2, 7}), "sus4": frozenset({0, 5, 7}), "sus": frozenset({0, 5, 7}),
    "6": frozenset({0, 4, 7, 9}), "maj6": frozenset({0, 4, 7, 9}), "M6": frozenset({0, 4, 7, 9}),
    "m6": frozenset({0, 3, 7, 9}), "-6": frozenset({0, 3, 7, 9}), "min6": frozenset({0, 3, 7, 9}),
    "9": frozenset({0, 2, 4, 7, 10}), "add9": frozenset({0, 2, 4, 7}), "add2": frozenset({0, 2, 4, 7}),
    "mM7": frozenset({0, 3, 7, 11}), "m^7": frozenset({0, 3, 7, 11}), "-^7": frozenset({0, 3, 7, 11}),
    "minmaj7": frozenset({0, 3, 7, 11}), "m(maj7)": frozenset({0, 3, 7, 11}), "-^": frozenset({0, 3, 7, 11}),
}
#: lenient extras: extended or altered chords mapped to the nearest listed quality.
_EXTENDED_TONES: dict[str, frozenset[int]] = {
    "maj9": frozenset({0, 4, 7, 11, 2}), "^9": frozenset({0, 4, 7, 11, 2}), "M9": frozenset({0, 4, 7, 11, 2}),
    "m9": frozenset({0, 3, 7, 10, 2}), "-9": frozenset({0, 3, 7, 10, 2}), "min9": frozenset({0, 3, 7, 10, 2}),
    "11": frozenset({0, 4, 7, 10, 5}), "m11": frozenset({0, 3, 7, 10, 5}), "-11": frozenset({0, 3, 7, 10, 5}),
    "13": frozenset({0, 4, 7, 10, 9}), "m13": frozenset({0, 3, 7, 10, 9}), "-13": frozenset({0, 3, 7, 10, 9}),
    "maj13": frozenset({0, 4, 7, 11, 9}), "^13": frozenset({0, 4, 7, 11, 9}),
    "7b9": frozenset({0, 4, 7, 10, 1}), "7#9": frozenset({0, 4, 7, 10, 3}), "7b5": frozenset({0, 4, 6, 10}),
    "7#5": frozenset({0, 4, 8, 10}), "7+": frozenset({0, 4, 8, 10}), "+7": frozenset({0, 4, 8, 10}),
    "aug7": frozenset({0, 4, 8, 10}), "7alt": frozenset({0, 4, 10, 1, 3}), "alt": frozenset({0, 4, 10, 1, 3}),
    "7sus": frozenset({0, 5, 7, 10}), "7sus4": frozenset({0, 5, 7, 10}), "9sus": frozenset({0, 5, 7, 10, 2}),
    "9sus4": frozenset({0, 5, 7, 10, 2}), "69": frozenset({0, 4, 7, 9, 2}), "6/9": frozenset({0, 4, 7, 9, 2}),
    "m69": frozenset({0, 3, 7, 9, 2}), "-69": frozenset({0, 3, 7, 9, 2}), "5": frozenset({0, 7}),
    "7b9b13": frozenset({0, 4, 7, 10, 1, 8}), "7#11": frozenset({0, 4, 7, 10, 6}), "9#11": frozenset({0, 4, 7, 10, 2, 6}),
    "13b9": frozenset({0, 4, 10, 1, 9}), "13#11": frozenset({0, 4, 10, 6, 9}), "7b13": frozenset({0, 4, 7, 10, 8}),
    "7#9#5": frozenset({0, 4, 8, 10, 3}), "7#9b5": frozenset({0, 4, 6, 10, 3}), "7b9#5": frozenset({0, 4, 8, 10, 1}),
    "7b9b5": frozenset({0, 4, 6, 10, 1}), "7b9#11": frozenset({0, 4, 7, 10, 1, 6}), "7#9#11": frozenset({0, 4, 7, 10, 3, 6}),
    "9b5": frozenset({0, 4, 6, 10, 2}), "9#5": frozenset({0, 4, 8, 10, 2}), "^7#11": frozenset({0, 4, 7, 11, 6}),
    "^7#5": frozenset({0, 4, 8, 11}), "maj7#5": frozenset({0, 4, 8, 11}), "-11b5": frozenset({0, 3, 6, 10}),
    "m11b5": frozenset({0, 3, 6, 10}), "o^7": frozenset({0, 3, 6, 11}), "-#5": frozenset({0, 3, 8}),
    "m#5": frozenset({0, 3, 8}), "m7#5": frozenset({0, 3, 8, 10}), "-7#5": frozenset({0, 3, 8, 10}),
    "2": frozenset({0, 2, 4, 7}), "add11": frozenset({0, 4, 5, 7}), "madd9": frozenset({0, 2, 3, 7}),
    "-add9": frozenset({0, 2, 3, 7}), "m7b9": frozenset({0, 3, 7, 10, 1}), "-7b9": frozenset({0, 3, 7, 10, 1}),
    "13sus": frozenset({0, 5, 7, 10, 9}), "7susadd3": frozenset({0, 4, 5, 7, 10}), "9b9": frozenset({0, 4, 10, 1}),
    "7b9sus": frozenset({0, 5, 7, 10, 1}), "mmaj9": frozenset({0, 3, 7, 11, 2}), "-^9": frozenset({0, 3, 7, 11, 2}),
}
_SYMBOL_RE = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)(.*?)(?:/([A-Ga-g][#b♯♭]?))?\s*$")


def _split_symbol(text: str) -> tuple[int, str]:
    match = _SYMBOL_RE.match(text)
    if not match:
        raise ChordError(f"unknown chord symbol {text!r} (try e.g. C, Am, G7, Fmaj7, Bm7b5)")
    letter, accidental, suffix, _bass = match.groups()
    accidental = accidental.replace("♯", "#").replace("♭", "b")
    return pitch_class(letter.upper() + accidental), suffix.strip()


def parse_symbol(text: str) -> Chord:
    """Read a lead-sheet chord symbol exactly, as a user types it (``Am7``, ``F#m7b5``, ``Bb/D``).

    Only qualities in the vocabulary are accepted (with common spellings: ``A-7``, ``Cmaj7``,
    ``C^7``, ``Bø``, ``Co7``, ``Caug``, ``C+``). Anything else raises :class:`ChordError` with a
    message that names the symbol.
    """
    root, suffix = _split_symbol(text)
    if suffix not in _SUFFIX_TONES:
        raise ChordError(
            f"unknown chord symbol {text.strip()!r}: quality {suffix!r} is not one of "
            + ", ".join(repr(q[1] or "(major)") for q in QUALITIES.values())
        )
    quality, _ = nearest_quality(_SUFFIX_TONES[suffix])
    return Chord(root, quality)


def parse_symbol_lenient(text: str) -> tuple[Chord, bool]:
    """Read a lead-sheet symbol, mapping extended or altered chords (``C13b9``) to the nearest quality.

    Returns the chord and whether it was mapped. Raises :class:`ChordError` if unreadable.
    """
    root, suffix = _split_symbol(text)
    tones = _SUFFIX_TONES.get(suffix)
    if tones is None:
        tones = _EXTENDED_TONES.get(suffix)
    if tones is None:
        raise ChordError(f"unknown chord symbol {text.strip()!r}")
    quality, mapped = nearest_quality(tones)
    return Chord(root, quality), mapped or suffix in _EXTENDED_TONES


#: what users type beyond the corpus spellings: more extensions, read as their nearest vocabulary chord.
_USER_TONES: dict[str, frozenset[int]] = {
    "maj11": frozenset({0, 4, 7, 11, 2, 5}), "add4": frozenset({0, 4, 5, 7}), "7sus2": frozenset({0, 2, 7, 10}),
    "sus2sus4": frozenset({0, 2, 5, 7}), "sus24": frozenset({0, 2, 5, 7}), "madd11": frozenset({0, 3, 5, 7}),
    "m7add11": frozenset({0, 3, 5, 7, 10}), "6add9": frozenset({0, 4, 7, 9, 2}), "m6/9": frozenset({0, 3, 7, 9, 2}),
    "maj9#11": frozenset({0, 4, 7, 11, 2, 6}), "13sus4": frozenset({0, 5, 7, 10, 9}), "7+5": frozenset({0, 4, 8, 10}),
    "min7b5": frozenset({0, 3, 6, 10}), "mi7b5": frozenset({0, 3, 6, 10}), "m9b5": frozenset({0, 3, 6, 10, 2}),
    "dim9": frozenset({0, 3, 6, 9, 2}), "maj7sus4": frozenset({0, 5, 7, 11}), "madd2": frozenset({0, 2, 3, 7}),
    "11b9": frozenset({0, 4, 7, 10, 1, 5}), "m11b5": frozenset({0, 3, 6, 10, 5}), "add2add4": frozenset({0, 2, 4, 5, 7}),
}


class ParsedSymbol(NamedTuple):
    """A symbol as a user typed it: the vocabulary chord, the slash bass (``None`` = the root) and a note
    saying how a symbol outside the vocabulary was read (``"G13 read as G7"``), else ``None``."""

    chord: Chord
    bass: int | None
    note: str | None

    @property
    def slash(self) -> SlashChord:
        """The chord over its bass."""
        return SlashChord(self.chord, self.bass)


def _user_suffix_tones(suffix: str) -> tuple[frozenset[int], bool] | None:
    """Intervals of a typed suffix, and whether it is a vocabulary spelling (no note needed).

    Exact first, then with parentheses, commas, spaces and the case of ``Maj``/``Min`` tidied.
    """
    if suffix in _SUFFIX_TONES:
        return _SUFFIX_TONES[suffix], True
    for table in (_EXTENDED_TONES, _USER_TONES):
        if suffix in table:
            return table[suffix], False
    tidy = re.sub(r"[\s(),]", "", suffix).replace("♯", "#").replace("♭", "b")
    tidy = re.sub(r"^(Maj|MAJ|Ma)(?=\d|$)", "maj", tidy)
    tidy = re.sub(r"^(Min|MIN)(?=\d|$)", "min", tidy)
    return _user_suffix_tones(tidy) if tidy != suffix else None


def read_symbol(text: str) -> ParsedSymbol:
    """Read a symbol as a user types it, keeping a slash bass and reading unknown extensions leniently.

    ``G/B`` -> (G, B, None); ``C/Bb`` -> (C, Bb, None) (a bass outside the chord is kept too);
    ``G7sus4`` -> (Gsus4, None, "G7sus4 read as Gsus4"): extended and altered chords (``11``,
    ``13``, ``7#9``, ``7alt``, ``m11``, ``maj9``, ``6/9``, ``add11`` …) become the nearest
    vocabulary chord, by the same measure the corpus parsers use. Raises :class:`ChordError` for
    text that is no chord symbol.
    """
    match = _SYMBOL_RE.match(text)
    if not match:
        raise ChordError(f"unknown chord symbol {text.strip()!r} (try e.g. C, Am, G7, Fmaj7, Bm7b5, C/E)")
    letter, accidental, suffix, bass_name = match.groups()
    root_name = letter.upper() + accidental.replace("♯", "#").replace("♭", "b")
    found = _user_suffix_tones(suffix.strip())
    if found is None:
        raise ChordError(f"unknown chord symbol {text.strip()!r}: quality {suffix.strip()!r} is not one this studio reads")
    tones, in_vocabulary = found
    quality, mapped = nearest_quality(tones)
    chord = Chord(pitch_class(root_name), quality)
    bass = None
    if bass_name:
        bass = pitch_class(bass_name[0].upper() + bass_name[1:].replace("♯", "#").replace("♭", "b"))
    note = None
    if mapped or not in_vocabulary:
        note = f"{text.strip()} read as {root_name}{QUALITIES[quality][1]}" + (f"/{bass_name}" if bass_name else "")
    return ParsedSymbol(chord, None if bass == chord.root else bass, note)


def read_progression(text: str) -> list[ParsedSymbol]:
    """:func:`read_symbol` for each symbol of a progression typed with spaces, commas or bars (``C G/B | Am7 F``)."""
    tokens = [t for t in re.split(r"[\s,|]+", text.strip()) if t]
    if not tokens:
        raise ChordError("empty progression: type chord symbols such as 'C Am F G'")
    return [read_symbol(t) for t in tokens]


def parse_progression(text: str) -> list[Chord]:
    """Read a progression typed as symbols separated by spaces, commas or bars (``C Am | F G``)."""
    tokens = [t for t in re.split(r"[\s,|]+", text.strip()) if t]
    if not tokens:
        raise ChordError("empty progression: type chord symbols such as 'C Am F G'")
    return [parse_symbol(t) for t in tokens]


def collapse_repeats(chords: Sequence[Chord]) -> list[Chord]:
    """Drop immediate repeats: ``C C G G C`` -> ``C G C``."""
    out: list[Chord] = []
    for chord in chords:
        if not out or out[-1] != chord:
            out.append(chord)
    return out
