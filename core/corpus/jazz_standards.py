"""Jazz standards (iReal Pro playlists, ``JazzStandards.json``): one segment per section pass.

Each tune has ``Title``, ``Composer``, ``Rhythm``, usually ``Key`` (``F``, ``Eb``, ``Dmin``) and
``Sections`` (``Label``, ``MainSegment.Chords``, optional ``Endings``). A ``Chords`` string splits
into bars at ``|`` and into chord slots at ``,``.

Choices:

* A section without endings is one :class:`Segment`; a section with endings gives one segment per
  ending, its main part followed by that ending (the way the section is played each time round).
  ``Repeats`` is not unrolled: the chords are kept once, as written. ``section`` is the label
  (``""`` when the tune has none).
* Alternates in parentheses are dropped (``Dmaj7(Em7b5)`` -> ``Dmaj7``; a slot holding only an
  alternate is empty). Empty slots, ``W``, ``n``/``N.C.``/``NC`` (no chord) are skipped; a bar
  ``x``/``%`` repeats the previous bar's chords.
* Symbols go through :func:`normalise_symbol` (this dataset's spellings: ``07`` = dim7, ``0`` = dim,
  ``m/maj7`` = minor-major seventh) and then :func:`core.chords.parse_symbol_lenient`; a few
  spellings that function does not know (``maj7#11``, ``mb6``, ``maug`` …) are read from
  :data:`EXTRA_SUFFIX_TONES` and mapped to the nearest listed quality.
* Key: the ``Key`` field (minor when it ends in ``min``, ``m`` or ``-``). When a tune has no key
  (233 of 1,382 do), :func:`estimate_key` guesses it from the chords. On the 1,149 tunes that do
  carry a key the guess matches it 83% of the time (84% for the tonic alone); the last chord alone
  would match only 37% (tunes end on turnarounds), the first chord 72%.
* Genre by ``Rhythm``: bossa/samba/latin/afro/mambo/cha-cha/rhumba/calypso -> ``latin``; otherwise
  ``blues`` for a title with the word "blues" (not "Bluesette") or a 12-bar blues section (see :func:`is_twelve_bar_blues`);
  otherwise ``jazz``. ``subgenre`` and ``genre_raw`` keep the rhythm string.
* Mood: the source has none; a distinctive title recorded at least twice in the Deezer set, every
  recording in the same quadrant, gets that mood (:func:`core.corpus.mood_matching.jazz_mood`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from core.chords import Chord, ChordError, from_intervals, parse_symbol_lenient, pitch_class
from core.corpus.mood import DeezerMoods
from core.corpus.mood_matching import jazz_mood, known_song_titles
from core.corpus.rows import BuildReport, Segment, Song
from core.numerals import in_scale

SOURCE = "jazz-standards"
FILE_NAME = "JazzStandards.json"
LATIN_RHYTHM_WORDS: tuple[str, ...] = ("bossa", "samba", "latin", "afro", "mambo", "cha-cha", "cha cha", "rhumba",
                                       "rumba", "calypso")
EMPTY_SLOTS = frozenset({"", "W", "w", "n", "N.C.", "NC", "N.C", "n.c."})
REPEAT_BAR = frozenset({"x", "%"})
#: iReal's lower-case section marks (``*i`` intro, ``*v`` verse); capital letters are rehearsal letters.
CHART_MARKS = {"i": "intro", "v": "verse"}

#: Suffixes (after root, before any slash bass) that parse_symbol_lenient does not know -> intervals.
EXTRA_SUFFIX_TONES: dict[str, frozenset[int]] = {
    "maj7#11": frozenset({0, 4, 7, 11, 6}), "maj9#11": frozenset({0, 4, 7, 11, 2, 6}),
    "^9#11": frozenset({0, 4, 7, 11, 2, 6}), "mb6": frozenset({0, 3, 7, 8}), "-b6": frozenset({0, 3, 7, 8}),
    "maug": frozenset({0, 3, 8}), "-aug": frozenset({0, 3, 8}), "7b13sus": frozenset({0, 5, 7, 10, 8}),
    "7b9#9": frozenset({0, 4, 7, 10, 1, 3}), "13#9": frozenset({0, 4, 7, 10, 9, 3}),
    "7#5#9": frozenset({0, 4, 8, 10, 3}), "7b5b9": frozenset({0, 4, 6, 10, 1}), "7b5#9": frozenset({0, 4, 6, 10, 3}),
    "maj13": frozenset({0, 4, 7, 11, 9}), "h9": frozenset({0, 3, 6, 10, 2}), "o^7": frozenset({0, 3, 6, 11}),
    "7#9b13": frozenset({0, 4, 7, 10, 3, 8}), "7#11#9": frozenset({0, 4, 7, 10, 6, 3}),
    "9#11": frozenset({0, 4, 7, 10, 2, 6}), "13b9": frozenset({0, 4, 7, 10, 1, 9}),
}
_ALTERNATE_RE = re.compile(r"\([^)]*\)")
_SYMBOL_RE = re.compile(r"([A-Ga-g][#b]?)(.*?)((?:/[A-Ga-g][#b]?)*)")
_KEY_RE = re.compile(r"([A-G][#b]?)(min|m|-|maj)?")
_BLUES_WORD_RE = re.compile(r"\bblues\b", re.IGNORECASE)


def normalise_symbol(symbol: str) -> str:
    """Rewrite this dataset's spellings into ones :func:`parse_symbol_lenient` reads.

    ``B07`` -> ``Bo7``, ``F#0`` -> ``F#o``, ``Cm/maj7`` -> ``CmM7``, ``Am/maj7/G#`` -> ``AmM7/G#``
    (only the last slash bass is kept; it is dropped later anyway).
    """
    text = symbol.strip().replace("m/maj7", "mM7").replace("-/maj7", "mM7")
    match = _SYMBOL_RE.fullmatch(text)
    if not match:
        return text
    root, suffix, basses = match.groups()
    if suffix.startswith("0"):
        suffix = "o" + suffix[1:]
    bass = basses.rsplit("/", 1)[-1] if basses else ""
    return root + suffix + (f"/{bass}" if bass else "")


def read_symbol(symbol: str) -> tuple[Chord, bool]:
    """A chord symbol as a :class:`Chord` and whether its quality was mapped; raises :class:`ChordError`."""
    text = normalise_symbol(symbol)
    try:
        return parse_symbol_lenient(text)
    except ChordError:
        match = _SYMBOL_RE.fullmatch(text)
        if not match or match.group(2) not in EXTRA_SUFFIX_TONES:
            raise
        return from_intervals(pitch_class(match.group(1)[0].upper() + match.group(1)[1:]), EXTRA_SUFFIX_TONES[match.group(2)])


def read_bars(chords_text: str, where: str, report: BuildReport) -> list[list[Chord]]:
    """Bars of a ``Chords`` string as lists of chords; unreadable symbols are reported and skipped."""
    return [[chord for chord, _ in bar] for bar in read_timed_bars(chords_text, where, report, None)]


Timed = tuple[Chord, float | None]


def read_timed_bars(chords_text: str, where: str, report: BuildReport, metre: int | None) -> list[list[Timed]]:
    """Bars of a ``Chords`` string as ``(chord, beats)`` lists: the bar's ``metre`` beats shared by its slots.

    An empty slot (``C7,`` or ``W``) or a bar without chords lengthens the chord before it; ``x``/``%``
    repeats the previous bar. Beats are ``None`` without a metre. Unreadable symbols are reported and skipped.
    """
    bars: list[list[Timed]] = []
    last: list[Timed] = []  # the bar holding the chord sounding now
    for bar_text in chords_text.split("|"):
        if bar_text.strip() in REPEAT_BAR:
            previous = bars[-1] if bars else []
            for chord, _ in previous:
                report.chord(SOURCE, bar_text.strip(), False, chord)
            bars.append(list(previous))
            last = bars[-1] if previous else last
            continue
        slots = bar_text.split(",")
        share = metre / len(slots) if metre else None
        bar: list[Timed] = []
        for slot in slots:
            symbol = _ALTERNATE_RE.sub("", slot).strip()
            if symbol in EMPTY_SLOTS:
                _lengthen(bar or last, share)
                continue
            try:
                chord, mapped = read_symbol(symbol)
            except ChordError as error:
                report.skip(SOURCE, where, None, f"unreadable chord {slot!r}: {error}")
                continue
            report.chord(SOURCE, symbol, mapped, chord)
            bar.append((chord, share))
        bars.append(bar)
        last = bar if bar else last
    return bars


def _lengthen(bar: list[Timed], beats: float | None) -> None:
    """Add ``beats`` to the last chord of ``bar`` (nothing when there is none or the beats are unknown)."""
    if bar and beats is not None and bar[-1][1] is not None:
        bar[-1] = (bar[-1][0], bar[-1][1] + beats)


def parse_key(text: str) -> tuple[int, str] | None:
    """``(tonic, scale type)`` of a key field such as ``F``, ``Eb``, ``Dmin``, ``C#min``; ``None`` if unreadable."""
    match = _KEY_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        return None
    return pitch_class(match.group(1)), "minor" if match.group(2) in ("min", "m", "-") else "major"


def estimate_key(bars: list[list[Chord]]) -> tuple[int, str]:
    """Best-scoring key of non-empty bars: share of chords inside the key's scale, plus 0.2 when the first
    chord's root is the tonic, 0.2 when the last bar starts on the tonic, and 2 x the share of chords that
    are the tonic chord (right root and third). Ties go to the lower tonic, major first.
    """
    chords = [chord for bar in bars for chord in bar]
    best: tuple[float, int, str] | None = None
    for scale_type in ("major", "minor"):
        for tonic in range(12):
            fit = sum(in_scale(chord, tonic, scale_type) for chord in chords) / len(chords)
            tonic_chords = sum(c.root == tonic and c.is_minor == (scale_type == "minor") for c in chords) / len(chords)
            score = fit + 0.2 * (bars[0][0].root == tonic) + 0.2 * (bars[-1][0].root == tonic) + 2 * tonic_chords
            if best is None or score > best[0]:
                best = (score, tonic, scale_type)
    assert best is not None
    return best[1], best[2]


def is_twelve_bar_blues(bars: list[list[Chord]], tonic: int) -> bool:
    """True for a 12-bar section in the blues shape: I in bar 1, IV in bar 5, V or ii in bar 9 (roots only)."""
    if len(bars) != 12 or not all(bars[i] for i in (0, 4, 8)):
        return False
    def root(bar: int) -> int:
        return (bars[bar][0].root - tonic) % 12
    return root(0) == 0 and root(4) == 5 and root(8) in (7, 2)


def genre_of(title: str, rhythm: str, passes: list[list[list[Chord]]], tonic: int) -> str:
    """Genre from the rhythm, the title and the form (see module docstring)."""
    lowered = rhythm.lower()
    if any(word in lowered for word in LATIN_RHYTHM_WORDS):
        return "latin"
    if _BLUES_WORD_RE.search(title) or any(is_twelve_bar_blues(bars, tonic) for bars in passes):
        return "blues"
    return "jazz"


def section_passes(section: dict[str, Any], where: str, report: BuildReport, metre: int | None = None) -> list[list[list[Timed]]]:
    """The timed bars of each pass through a section: main alone, or main + ending for each ending."""
    main = section.get("MainSegment") or {}
    main_bars = read_timed_bars(str(main.get("Chords", "")), where, report, metre)
    endings = section.get("Endings") or []
    if not endings:
        return [main_bars]
    passes = []
    for number, ending in enumerate(endings, start=1):
        ending_bars = read_timed_bars(str(ending.get("Chords", "")), f"{where} ending {number}", report, metre)
        passes.append([list(bar) for bar in main_bars] + ending_bars)
    return passes


def metre_of(text: object) -> int | None:
    """Beats per bar of a ``TimeSignature`` such as ``4/4`` or ``3/4``; ``None`` when missing or unreadable."""
    numerator = str(text or "").partition("/")[0].strip()
    return int(numerator) if numerator.isdigit() and int(numerator) > 0 else None


def parse_tune(tune: dict[str, Any], number: int, path: Path, report: BuildReport) -> Song | None:
    """One tune as a :class:`Song`, or ``None`` (reported) when it has no readable chords."""
    title = str(tune.get("Title") or "").strip()
    where = f"{path.name} tune {number} {title!r}"
    sections = tune.get("Sections")
    if not title or not isinstance(sections, list):
        report.skip(SOURCE, where, None, "tune without Title or Sections list")
        return None
    labelled: list[tuple[str, list[list[Timed]]]] = []
    metre = metre_of(tune.get("TimeSignature"))
    for section in sections:
        if not isinstance(section, dict):
            report.skip(SOURCE, where, None, f"section is not an object: {section!r}")
            continue
        label = str(section.get("Label") or "")
        for bars in section_passes(section, f"{where} section {label or '?'}", report, metre):
            if any(bars):
                labelled.append((label, bars))
    if not labelled:
        report.skip(SOURCE, where, None, "no readable chords")
        return None
    key = parse_key(tune["Key"]) if tune.get("Key") else None
    if tune.get("Key") and key is None:
        report.skip(SOURCE, where, None, f"unreadable key {tune['Key']!r}: key taken from the last chord")
    if key is None:
        key = estimate_key([[chord for chord, _ in bar] for _, bars in labelled for bar in bars if bar])
    tonic, scale_type = key
    rhythm = str(tune.get("Rhythm") or "").strip()
    segments = [
        Segment(chords=[chord for bar in bars for chord, _ in bar], key_tonic=tonic, scale_type=scale_type, section=label,
                label=CHART_MARKS.get(label, ""), metre=metre, beats=[beats for bar in bars for _, beats in bar])
        for label, bars in labelled
    ]
    plain = [[[chord for chord, _ in bar] for bar in bars] for _, bars in labelled]
    return Song(
        source=SOURCE, song_id=f"{SOURCE}:{number:04d}", title=title, artist=str(tune.get("Composer") or "").strip(),
        genre=genre_of(title, rhythm, plain, tonic), genre_raw=rhythm, subgenre=rhythm,
        segments=segments,
    )


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """Every tune of ``JazzStandards.json`` as a song (ids by position in the file, from 1)."""
    path = Path(source_dir) / FILE_NAME
    if not path.exists():
        report.skip(SOURCE, path, None, "file missing")
        return []
    try:
        tunes = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:  # e.g. a truncated file: say where the JSON breaks off
        report.skip(SOURCE, path, error.lineno, f"invalid JSON at line {error.lineno} column {error.colno} "
                    f"(character {error.pos} of {len(error.doc)}): {error.msg}")
        return []
    except (OSError, UnicodeDecodeError) as error:
        report.skip(SOURCE, path, None, f"unreadable file: {error}")
        return []
    if not isinstance(tunes, list):
        report.skip(SOURCE, path, None, "top level is not a list of tunes")
        return []
    songs: list[Song] = []
    for number, tune in enumerate(tunes, start=1):
        if not isinstance(tune, dict):
            report.skip(SOURCE, path, None, f"tune {number} is not an object")
            continue
        song = parse_tune(tune, number, path, report)
        if song is not None:
            songs.append(song)
    return _with_moods(songs, Path(source_dir).parent)


def _with_moods(songs: list[Song], sources_root: Path) -> list[Song]:
    """The songs with moods from their Deezer recordings where the rule allows (needs ``deezer-mood`` beside)."""
    if not (sources_root / "deezer-mood").is_dir():
        return songs
    deezer, known = DeezerMoods(sources_root / "deezer-mood"), known_song_titles(sources_root)
    for song in songs:
        song.mood, song.mood_evidence = jazz_mood(song.title, deezer, known)
    return songs
