"""free-midi-chords (``chords.py.txt``): curated Roman-numeral progressions tagged with mood words.

The file is a Python script; it is read as TEXT, line by line, and never imported or executed.
Progressions are double-quoted strings inside the lists ``prog_maj``, ``prog_min`` and
``prog_modal`` (other lists, such as ``chord_types_maj``, are not progressions and are ignored),
e.g. ``"I V vi IV =Hopeful Romantic"``. Each string becomes one :class:`Song` with one
:class:`Segment`; ``song_id`` is ``free-midi-chords:<list>-<NNN>`` (``maj``/``min``/``modal``,
``NNN`` the entry's place in its list, from 1). Every entry line of a list takes its place, readable
or not (blank and comment lines take none), so a line skipped as malformed shifts no other id.

Keys: the numerals are key-relative, so every progression is placed in **C major** (tonic 0) or
**A minor** (tonic 9):

* ``prog_maj``: C major, numerals on the major scale; ``prog_min``: A minor, numerals on the
  natural-minor scale (``III`` = C, ``VII`` = G).
* ``prog_modal``: numerals are relative to the Ionian (major) scale (the source README says so),
  whatever the mode. The progression is minor when its first tonic chord (``i``/``im``) is minor,
  else major; it is then read in A (minor) or C (major) with the Ionian frame (``im bIIIM`` in A =
  Am C).

Numerals: case gives the triad (upper major, lower minor); accidentals ``b``/``#`` move the root.
Suffixes follow the generator's library (mingus): ``M``/``m`` force a major/minor triad, ``7`` is
the scale's own seventh above the root (``I7`` in C = Cmaj7, ``V7`` = G7, ``ii7`` = Dm7), ``dom7``
a dominant seventh, ``M7`` a major seventh, ``6`` an added sixth (not an inversion figure), ``5``
a power chord, ``-5`` a flattened fifth, plus ``9``, ``69``, ``add9``, ``sus2``, ``sus4``, ``dim``.
Chords outside the vocabulary are mapped to the nearest quality (counted in the report).
A numeral that cannot be read skips its whole progression (reported with the line number).

Mood: the words after ``=`` are looked up in :data:`core.corpus.mood.FREE_MIDI_MOOD_WORDS`;
the most frequent mood wins, ties go to the mood of the earliest word. Tags that are not moods
(``New``, ``Cadence``) give no evidence; without any mood word the mood stays ``""``.
``mood_evidence`` keeps all words as written. No genre evidence: ``genre`` and ``genre_raw`` are ``""``.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from core.chords import Chord, ChordError, from_intervals
from core.corpus.mood import FREE_MIDI_MOOD_WORDS
from core.corpus.rows import BuildReport, Segment, Song
from core.numerals import SCALE_STEPS, from_roman

SOURCE = "free-midi-chords"
FILE_NAME = "chords.py.txt"
#: list name -> (short name for ids, scale the numerals are relative to); a modal line's scale type is decided per line.
PROGRESSION_LISTS: dict[str, tuple[str, str]] = {"prog_maj": ("maj", "major"), "prog_min": ("min", "minor"),
                                                 "prog_modal": ("modal", "major")}
TONIC_OF_SCALE: dict[str, int] = {"major": 0, "minor": 9}

_LIST_START_RE = re.compile(r"^\s*([A-Za-z_]\w*)\s*=\s*\[")
_STRING_RE = re.compile(r'^\s*"([^"]*)"\s*,?\s*(?:#.*)?$')
_NUMERAL_RE = re.compile(r"^([#b]*)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)$")

#: suffix (after an optional M/m triad marker) -> tones added to the triad; "7" is handled apart.
_ADDED_TONES: dict[str, frozenset[int]] = {
    "": frozenset(), "6": frozenset({9}), "69": frozenset({9, 2}), "9": frozenset({10, 2}),
    "add9": frozenset({2}), "dom7": frozenset({10}),
}
_REPLACED_TONES: dict[str, frozenset[int]] = {
    "5": frozenset({0, 7}), "sus2": frozenset({0, 2, 7}), "sus4": frozenset({0, 5, 7}), "dim": frozenset({0, 3, 6}),
}


def numeral_intervals(numeral: str, scale_frame: str, tonic: int) -> tuple[int, frozenset[int]]:
    """Root pitch class and chord intervals of one numeral of this file (see module docstring)."""
    match = _NUMERAL_RE.match(numeral)
    if not match:
        raise ChordError(f"unreadable Roman numeral {numeral!r}")
    accidentals, roman, suffix = match.groups()
    root = from_roman(accidentals + roman, tonic, scale_frame)[0].root
    minor = roman.islower()
    if suffix[:1] in ("M", "m") and not suffix.startswith("maj"):
        minor, suffix = suffix[0] == "m", suffix[1:]
        marker = True
    else:
        marker = False
    triad = frozenset({0, 3 if minor else 4, 7})
    if suffix.startswith("-5"):
        triad, suffix = frozenset({0, 3 if minor else 4, 6}), suffix[2:]
    if suffix == "7":
        return root, triad | {_seventh(root, tonic, scale_frame, minor, marker)}
    if suffix == "dom7":
        return root, frozenset({0, 4, 7, 10})
    if suffix in _REPLACED_TONES:
        return root, _REPLACED_TONES[suffix]
    if suffix in _ADDED_TONES:
        return root, triad | _ADDED_TONES[suffix]
    raise ChordError(f"unknown suffix {suffix!r} in Roman numeral {numeral!r}")


def _seventh(root: int, tonic: int, scale_frame: str, minor: bool, marker: bool) -> int:
    """Interval of the seventh for a ``7`` suffix: ``M7`` major, ``m7`` minor, bare ``7`` the scale's own."""
    if marker:
        return 10 if minor else 11
    scale = {(tonic + step) % 12 for step in SCALE_STEPS[scale_frame]}
    return 11 if (root + 11) % 12 in scale else 10


def read_numeral(numeral: str, scale_frame: str, tonic: int) -> tuple[Chord, bool]:
    """A numeral as a :class:`Chord` and whether its quality was mapped; raises :class:`ChordError`."""
    root, intervals = numeral_intervals(numeral, scale_frame, tonic)
    return from_intervals(root, intervals)


def modal_scale_type(numerals: list[str]) -> str:
    """``minor`` when the first tonic chord (``i``, ``im``, ``i7`` …) of a modal progression is minor."""
    for numeral in numerals:
        match = _NUMERAL_RE.match(numeral)
        if match and not match.group(1) and match.group(2).upper() == "I":
            suffix = match.group(3)
            minor = (match.group(2) == "i" and not suffix.startswith("M")) or suffix.startswith("m")
            return "minor" if minor else "major"
    return "major"


def mood_of(words: list[str]) -> str:
    """Majority mood of the mapped words (ties: the earliest word's mood); ``""`` without mood words."""
    moods = [FREE_MIDI_MOOD_WORDS[w] for w in words if w in FREE_MIDI_MOOD_WORDS]
    if not moods:
        return ""
    counts = Counter(moods)
    top = max(counts.values())
    return next(m for m in moods if counts[m] == top)


def parse_progression(text: str, list_name: str, number: int, path: Path, line_no: int,
                      report: BuildReport) -> Song | None:
    """One progression string as a :class:`Song`, or ``None`` (reported) when unreadable."""
    short, frame = PROGRESSION_LISTS[list_name]
    body, _, words_text = text.partition("=")
    numerals, words = body.split(), words_text.split()
    if not numerals:
        report.skip(SOURCE, path, line_no, f"progression without numerals: {text!r}")
        return None
    scale_type = modal_scale_type(numerals) if short == "modal" else frame
    tonic = TONIC_OF_SCALE[scale_type]
    try:
        read = [(numeral, *read_numeral(numeral, frame, tonic)) for numeral in numerals]
    except ChordError as error:
        report.skip(SOURCE, path, line_no, f"{error} in {text!r}")
        return None
    for numeral, chord, mapped in read:
        report.chord(SOURCE, numeral, mapped, chord)
    return Song(
        source=SOURCE, song_id=f"{SOURCE}:{short}-{number:03d}", title=" ".join(numerals),
        mood=mood_of(words), mood_evidence=f"free-midi words: {' '.join(words)}" if words else "",
        segments=[Segment(chords=[c for _, c, _ in read], key_tonic=tonic, scale_type=scale_type)],
    )


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """Every progression string of the ``prog_*`` lists in ``chords.py.txt``, in file order."""
    path = Path(source_dir) / FILE_NAME
    if not path.exists():
        report.skip(SOURCE, path, None, "file missing")
        return []
    songs: list[Song] = []
    current: str | None = None
    numbers: Counter = Counter()
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        start = _LIST_START_RE.match(line)
        if start:
            current = start.group(1) if start.group(1) in PROGRESSION_LISTS else None
            continue
        if current is None or not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("]"):
            current = None
            continue
        numbers[current] += 1  # every entry line takes its number, readable or not: a skipped line shifts no id
        match = _STRING_RE.match(line)
        if not match:
            report.skip(SOURCE, path, line_no, f"not a progression string: {stripped!r}")
            continue
        song = parse_progression(match.group(1), current, numbers[current], path, line_no, report)
        if song is not None:
            songs.append(song)
    return songs
