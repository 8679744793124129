"""Keys and Roman numerals: a chord's scale degree and numeral in a key, and the chord a numeral names.

Split from :mod:`core.chords` (which holds the chords themselves): the Roman-numeral view is what
the corpus parsers of numeral-written sources (RS200), the song analysis and the statistics read a
chord in a key with. ``vi`` in C major is A minor; accidentals are relative to the key's own scale.
"""

from __future__ import annotations

import re

from core.chords import MINOR_QUALITIES, Chord, ChordError, SlashChord, from_intervals
from core.errors import InputError

SCALE_STEPS = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
#: semitones above the tonic -> (scale degree index, accidental) in a major-key frame.
_DEGREE_OF_INTERVAL = {0: (0, ""), 1: (1, "b"), 2: (1, ""), 3: (2, "b"), 4: (2, ""), 5: (3, ""),
                       6: (3, "#"), 7: (4, ""), 8: (5, "b"), 9: (5, ""), 10: (6, "b"), 11: (6, "")}
_ROMAN_SUFFIX = {"maj": "", "min": "", "7": "7", "maj7": "maj7", "min7": "7", "dim": "o", "dim7": "o7",
                 "hdim7": "ø7", "aug": "+", "sus2": "sus2", "sus4": "sus4", "6": "6", "min6": "6",
                 "9": "9", "add9": "add9", "minmaj7": "maj7"}
_LOWER = MINOR_QUALITIES


#: figured-bass inversion figures: triads (1st, 2nd inversion) and seventh chords (1st-3rd), with
#: the quality mark that stays beside the numeral (``viio6``, ``V65``, ``viiø43``, ``IVmaj42``).
_TRIAD_MARK = {"maj": "", "min": "", "dim": "o", "aug": "+"}
_SEVENTH_MARK = {"7": "", "min7": "", "maj7": "maj", "minmaj7": "maj", "dim7": "o", "hdim7": "ø"}
_TRIAD_FIGURES, _SEVENTH_FIGURES = ("6", "64"), ("65", "43", "42")


def scale_degree(interval: int, scale_type: str = "major") -> tuple[int, str]:
    """Scale degree (0 = tonic … 6) and accidental (``""``, ``"b"``, ``"#"``) of a note ``interval`` semitones above the tonic.

    Relative to the key's own scale: in minor, 4 semitones is the raised third (``#``, 3rd degree)
    and 11 the raised seventh; in major, 3 is ``b`` 3rd and 6 is ``#`` 4th.
    """
    if scale_type not in SCALE_STEPS:
        raise InputError(f"unknown scale type {scale_type!r}; accepted: major, minor")
    interval %= 12
    steps = SCALE_STEPS[scale_type]
    if interval in steps:
        return steps.index(interval), ""
    degree, accidental = _DEGREE_OF_INTERVAL[interval]
    diff = (interval - steps[degree]) % 12
    return degree, "#" if diff == 1 else "b" if diff == 11 else accidental


def roman_numeral(chord: Chord, tonic: int, scale_type: str = "major", bass: int | None = None) -> str:
    """Roman numeral of ``chord`` in the key (``tonic``, ``scale_type``), e.g. ``vi``, ``bVII``, ``V7``, ``viiø7``.

    Accidentals are relative to the key's own scale, so in A minor C is ``III`` and G is ``VII``,
    while in A major they are ``bIII`` and ``bVII``. Case follows the chord's third. A ``bass``
    pitch class other than the root adds figured-bass inversion figures to triads and seventh
    chords (``I6``, ``V65``, ``viio42``); other chords, and basses outside the chord, get the bass's
    scale degree after a slash (``I/b7``, ``Vsus4/1``).
    """
    degree, accidental = scale_degree(chord.root - tonic, scale_type)
    numeral = _NUMERALS[degree]
    if chord.quality in _LOWER:
        numeral = numeral.lower()
    plain = accidental + numeral + _ROMAN_SUFFIX[chord.quality]
    if bass is None or bass % 12 == chord.root:
        return plain
    inversion = SlashChord(chord, bass).inversion
    if inversion is not None and chord.quality in _TRIAD_MARK:
        return accidental + numeral + _TRIAD_MARK[chord.quality] + _TRIAD_FIGURES[inversion - 1]
    if inversion is not None and chord.quality in _SEVENTH_MARK:
        return accidental + numeral + _SEVENTH_MARK[chord.quality] + _SEVENTH_FIGURES[inversion - 1]
    bass_degree, bass_accidental = scale_degree(bass - tonic, scale_type)
    return f"{plain}/{bass_accidental}{bass_degree + 1}"


def in_scale(chord: Chord, tonic: int, scale_type: str) -> bool:
    """True if every tone of ``chord`` lies in the key's scale (natural minor for ``minor``)."""
    steps = {(tonic + s) % 12 for s in SCALE_STEPS[scale_type]}
    return all(pc in steps for pc in chord.pitch_classes())


_ROMAN_RE = re.compile(r"^([#b]*)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)(.*)$")



def from_roman(numeral: str, tonic: int, scale_type: str = "major") -> tuple[Chord, bool]:
    """Chord for a Roman numeral in a key: ``vi``, ``bVII``, ``V7``, ``ii7``, ``viio7``, ``iiø7``, ``IV6``.

    Upper case is major, lower case minor; suffixes ``o``/``dim``, ``ø``/``h``, ``+``, ``7``,
    ``maj7``/``M7``, ``sus2``, ``sus4``, ``9``, ``add9`` are read. Figured-bass inversion figures
    (``6``, ``64``, ``65``, ``43``, ``42``) on triads are inversions, not added sixths: they do
    not change the chord. Returns the chord and whether it was mapped to a nearer quality.
    """
    match = _ROMAN_RE.match(numeral.strip())
    if not match:
        raise ChordError(f"unreadable Roman numeral {numeral!r}")
    accidentals, roman, suffix = match.groups()
    degree = [n.lower() for n in _NUMERALS].index(roman.lower())
    root = (tonic + SCALE_STEPS[scale_type][degree] + accidentals.count("#") - accidentals.count("b")) % 12
    minor = roman.islower()
    suffix = suffix.strip()
    seventh_figures = {"7", "65", "43", "42", "2"}
    triad_figures = {"", "6", "64", "53", "63"}
    if suffix.startswith(("o", "dim", "°")):
        rest = suffix.lstrip("o°").removeprefix("dim")
        tones = {0, 3, 6, 9} if rest in seventh_figures else {0, 3, 6}
    elif suffix.startswith(("ø", "h", "/o")):
        tones = {0, 3, 6, 10}
    elif suffix.startswith("+"):
        rest = suffix[1:]
        tones = {0, 4, 8, 10} if rest in seventh_figures else {0, 4, 8}
    else:
        third = 3 if minor else 4
        tones = {0, third, 7}
        if suffix in triad_figures:
            pass
        elif suffix in seventh_figures:
            tones |= {10}
        elif suffix in ("maj7", "M7", "M65", "M43", "M42", "M2"):
            tones |= {11}
        elif suffix in ("9",):
            tones |= {10, 2}
        elif suffix in ("add9", "add2"):
            tones |= {2}
        elif suffix in ("sus4", "sus"):
            tones = {0, 5, 7}
        elif suffix in ("sus2",):
            tones = {0, 2, 7}
        elif suffix in ("7sus4", "7sus"):
            tones = {0, 5, 7, 10}
        elif suffix in ("add6", "6add"):
            tones |= {9}
        elif suffix in ("11",):
            tones |= {10, 5}
        elif suffix in ("13",):
            tones |= {10, 9}
        else:
            raise ChordError(f"unknown Roman-numeral suffix {suffix!r} in {numeral!r}")
    return from_intervals(root, tones)
