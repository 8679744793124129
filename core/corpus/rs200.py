"""Rolling Stone 200 rock corpus (de Clercq & Temperley) ``.har`` files -> :class:`Song` objects.

Each analyst's file (``<name>_dt.har``, ``<name>_tdc.har``) is its own song (``rs200:<name>_dt``).
A file defines macros, one per line, ``Name: body`` (``%`` starts a comment); the ``S:`` line is the
song. Body tokens:

* Roman numerals relative to the key in force (always major-scale based: ``bVII``, ``iv``, ``bIII``),
  with RS200 suffixes: ``7`` a diatonic seventh (``I7`` = Imaj7, ``V7`` = V7), ``d7`` a dominant
  seventh, ``h7`` half-diminished, ``x7`` fully diminished, ``o`` diminished, ``a``/``+`` augmented,
  ``s4`` suspended fourth, ``9``/``11``, inversion figures ``6 64 65 43 42`` (no change of chord),
  alterations ``b5 #9 b9``, and applied chords ``V/vi`` (the numeral read in the key of the target's root);
* ``R`` a rest (no chord), ``.`` the previous chord again;
* ``|`` a bar line; ``|*N`` plays the bar just closed N times in all;
* ``$Name`` / ``$Name*N`` expands a macro (N times);
* ``[Bb]`` a key change (tonic only), ``[4/4]`` a metre (default 4/4; ``[0]`` ignored).

Durations: a bar's beats (the metre's numerator) are shared equally by its tokens (chords, ``.``, ``R``),
so ``I . IV .`` gives I and IV two beats each; a section's raw label is its macro name.

A key change inside a macro lasts to the end of that macro; the key in force before it comes back after.
A macro the song never plays gives no chords, but its unreadable tokens are reported all the same.
Segments: each top-level macro reference in the ``S:`` line (``$Vr``, ``$Ch*2``) is a section occurrence;
a key change splits it (``ends=False`` there). Chords written directly in the ``S:`` line form unnamed
segments. Scale type per tonic by :func:`core.corpus.scale.infer_scale_type`.

Titles come from ``songs.json`` (matched by normalised title to the file name). The source names no
artists; ``artist`` and a Deezer mood are filled only by the rules of :mod:`core.corpus.mood_matching`
(an artist the analysis credits itself, or the Billboard transcription of the title in the same key).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.chords import Chord, ChordError, from_intervals, pitch_class
from core.corpus.mood import DeezerMoods, normalise_title
from core.corpus.mood_matching import billboard_credits, file_credit, rs200_mood
from core.corpus.rows import BuildReport, Segment, Song
from core.corpus.scale import infer_scale_type
from core.numerals import SCALE_STEPS, from_roman

SOURCE = "rs200"
GENRE = "rock"
GENRE_RAW = "rolling-stone-500 (rs200)"
SONG_MACRO = "S"
MAX_MACRO_DEPTH = 20
DEFAULT_METRE = 4  # the format's default: a file without a metre token is in 4/4

_DEFINITION = re.compile(r"^\s*([A-Za-z][A-Za-z0-9]*)\s*:(.*)$")
_TOKEN = re.compile(r"\|\*\d+|\||\$[A-Za-z][A-Za-z0-9]*(?:\*\d+)?|\[[^\]]*\]|[^\s|]+")
_KEY_TOKEN = re.compile(r"^\[([A-G][#b]?)\]$")
_METRE_TOKEN = re.compile(r"^\[[0-9/]+\]$")
_NUMERAL = re.compile(r"^([#b]*)(VII|VI|V|IV|III|II|I|vii|vi|v|iv|iii|ii|i)([^/]*)(?:/(.+))?$")
_SUFFIX = re.compile(r"^([dhxoa+]?)(7|9|11|13|65|43|42|64|6|2)?((?:s4|b5|#5|b9|#9|#11)*)$")
_SEVENTH_FIGURES = frozenset({"7", "65", "43", "42", "2"})
_TRIAD_FIGURES = frozenset({"", "6", "64"})
_SECTION_WORDS = {
    "Vr": "verse", "Ch": "chorus", "Br": "bridge", "In": "intro", "Ou": "outro", "So": "solo", "Pc": "pre-chorus",
    "Ln": "link", "Inst": "instrumental", "Co": "coda", "Coda": "coda", "Rf": "refrain", "Tg": "tag", "Fadeout": "fadeout",
}
_MAJOR = SCALE_STEPS["major"]


# --- Roman numerals ------------------------------------------------------------------------------


def _degree_root(accidentals: str, roman: str, tonic: int) -> int:
    degree = ("i", "ii", "iii", "iv", "v", "vi", "vii").index(roman.lower())
    return (tonic + _MAJOR[degree] + accidentals.count("#") - accidentals.count("b")) % 12


def _diatonic_seventh(root: int, tonic: int) -> int:
    """Interval of the seventh above ``root`` that lies in the tonic's major scale (11 if that fits, else 10)."""
    scale = {(tonic + step) % 12 for step in _MAJOR}
    return 11 if (root + 11) % 12 in scale and (root + 10) % 12 not in scale else 10


def _seventh(marker: str, minor: bool, root: int, tonic: int) -> int:
    if marker in ("x", "o"):
        return 9
    if marker in ("d", "h", "a", "+") or minor:
        return 10
    return _diatonic_seventh(root, tonic)


def _suffix_tones(suffix: str, minor: bool, root: int, tonic: int) -> set[int]:
    match = _SUFFIX.match(suffix)
    if not match:
        raise ChordError(f"unknown RS200 chord suffix {suffix!r}")
    marker, figure, alterations = match.groups()
    figure = figure or ""
    if marker in ("h", "x", "o"):
        tones = {0, 3, 6}
    elif marker in ("a", "+"):
        tones = {0, 4, 8}
    else:
        tones = {0, 3 if minor else 4, 7}
    if figure in _SEVENTH_FIGURES or figure in ("9", "11", "13") or marker in ("d", "h") and figure not in _TRIAD_FIGURES:
        tones.add(_seventh(marker, minor, root, tonic))
    tones |= {"9": {2}, "11": {5}, "13": {2, 9}}.get(figure, set())
    if figure == "11":
        tones -= {3, 4}  # rock V11 is the IV/V sound: no third
    return _alter(tones, alterations)


def _alter(tones: set[int], alterations: str) -> set[int]:
    for alteration in re.findall(r"s4|b5|#5|b9|#9|#11", alterations):
        if alteration == "s4":
            tones = (tones - {3, 4}) | {5}
        elif alteration in ("b5", "#5"):
            tones = (tones - {7}) | {6 if alteration == "b5" else 8}
        else:
            tones.add({"b9": 1, "#9": 3, "#11": 6}[alteration])
    return tones


def _plain_triad(suffix: str) -> bool:
    return suffix in _TRIAD_FIGURES


def rs200_chord(label: str, tonic: int) -> tuple[Chord, bool]:
    """Chord for an RS200 numeral (``I``, ``bVII``, ``IV64``, ``V7/vi``, ``viix42/V``, ``Vs4``) in a key.

    Applied chords are read in the key of the target degree's root. Plain triads go through
    :func:`core.numerals.from_roman`; RS200-specific suffixes are read locally (see module doc).
    Returns the chord and whether its quality was mapped. Raises :class:`ChordError` if unreadable.
    """
    match = _NUMERAL.match(label)
    if not match:
        raise ChordError(f"unreadable RS200 numeral {label!r}")
    accidentals, roman, suffix, target = match.groups()
    key = tonic
    if target:
        target_match = _NUMERAL.match(target)
        if not target_match or target_match.group(4):
            raise ChordError(f"unreadable applied-chord target {target!r} in {label!r}")
        key = _degree_root(target_match.group(1), target_match.group(2), tonic)
    if _plain_triad(suffix):
        return from_roman(accidentals + roman, key, "major")
    root = _degree_root(accidentals, roman, key)
    return from_intervals(root, _suffix_tones(suffix, roman.islower(), root, key))


# --- macro expansion -----------------------------------------------------------------------------


@dataclass
class _Played:
    """One chord as played: the chord, its tonic, and the section occurrence it belongs to."""

    chord: Chord
    tonic: int
    occurrence: int
    beats: float | None = None  # set when its bar closes: the bar's beats shared by the bar's tokens


@dataclass
class _Expansion:
    path: Path
    report: BuildReport
    macros: dict[str, tuple[str, int]]
    tonic: int | None = None
    occurrence: int = 0
    played: list[_Played] = field(default_factory=list)
    bar: list[_Played] = field(default_factory=list)
    sections: dict[int, str] = field(default_factory=dict)
    raw_sections: dict[int, str] = field(default_factory=dict)
    expanded: set[str] = field(default_factory=set)
    metre: int = DEFAULT_METRE
    slots: int = 0  # tokens in the open bar (chords, "." and rests)

    def skip(self, line_no: int, reason: str) -> None:
        self.report.skip(SOURCE, self.path, line_no, reason)

    def emit(self, chord: Chord) -> None:
        assert self.tonic is not None
        item = _Played(chord, self.tonic, self.occurrence)
        self.played.append(item)
        self.bar.append(item)


def _read_definitions(path: Path, report: BuildReport) -> dict[str, tuple[str, int]]:
    """Macro name -> (body without comments, line number)."""
    macros: dict[str, tuple[str, int]] = {}
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("%", 1)[0].strip()
        if not text:
            continue
        match = _DEFINITION.match(text)
        if not match:
            report.skip(SOURCE, path, line_no, f"not a 'Name: ...' definition: {text[:60]!r}")
            continue
        name, body = match.groups()
        macros[name] = (body, line_no)
    return macros


def _expand(state: _Expansion, name: str, depth: int, top_level: bool) -> None:
    body, line_no = state.macros[name]
    state.expanded.add(name)
    key_before = state.tonic
    for token in _TOKEN.findall(body):
        _read_token(state, token, line_no, depth, top_level)
    if depth > 0:
        state.tonic = key_before


def _read_token(state: _Expansion, token: str, line_no: int, depth: int, top_level: bool) -> None:
    if token.startswith("$"):
        _expand_reference(state, token, line_no, depth, top_level)
    elif token == "|":
        close_bar(state)
        state.bar = []
    elif token.startswith("|*"):
        close_bar(state)
        _repeat_bar(state, int(token[2:]))
    elif _KEY_TOKEN.match(token):
        state.tonic = pitch_class(_KEY_TOKEN.match(token).group(1))
    elif _METRE_TOKEN.match(token):
        numerator = token[1:-1].partition("/")[0]
        state.metre = int(numerator) if numerator.isdigit() and int(numerator) > 0 else state.metre
    elif token == "R":
        state.slots += 1
    elif token == ".":
        state.slots += 1
        if state.bar or state.played:
            state.emit((state.bar or state.played)[-1].chord)
    else:
        state.slots += 1
        _read_chord(state, token, line_no)


def close_bar(state: _Expansion) -> None:
    """Give the open bar's chords their beats: the metre shared by the bar's tokens (chords, ``.``, ``R``)."""
    if state.slots:
        for item in state.bar:
            item.beats = state.metre / state.slots
    state.slots = 0


def _expand_reference(state: _Expansion, token: str, line_no: int, depth: int, top_level: bool) -> None:
    name, _, count_text = token[1:].partition("*")
    if name not in state.macros or name == SONG_MACRO:
        state.skip(line_no, f"undefined macro ${name}")
        return
    if depth >= MAX_MACRO_DEPTH:
        state.skip(line_no, f"macro ${name} nested too deep (recursive?)")
        return
    if top_level:
        state.occurrence += 1
        state.sections[state.occurrence] = section_name(name)
        state.raw_sections[state.occurrence] = name
    for _ in range(int(count_text) if count_text else 1):
        _expand(state, name, depth + 1, top_level=False)
    if top_level:
        state.occurrence += 1  # chords written after it in the S line form their own segment


def _repeat_bar(state: _Expansion, count: int) -> None:
    bar = list(state.bar)
    for _ in range(count - 1):
        for item in bar:
            state.played.append(_Played(item.chord, item.tonic, item.occurrence, item.beats))
    state.bar = []


def _read_chord(state: _Expansion, label: str, line_no: int) -> None:
    if state.tonic is None:
        state.skip(line_no, f"chord {label!r} before any [key]")
        return
    try:
        chord, mapped = rs200_chord(label, state.tonic)
    except ChordError as error:
        state.skip(line_no, str(error))
        return
    state.report.chord(SOURCE, label, mapped, chord)
    state.emit(chord)


def _check_unused_macros(state: _Expansion) -> None:
    """Report unreadable tokens in macros the song never plays (they give no chords, but the line is still wrong)."""
    for name, (body, line_no) in state.macros.items():
        if name in state.expanded:
            continue
        for token in _TOKEN.findall(body):
            if token.startswith("$"):
                reference = token[1:].partition("*")[0]
                if reference not in state.macros or reference == SONG_MACRO:
                    state.skip(line_no, f"undefined macro ${reference} in unused macro {name}")
            elif not (token.startswith("|") or _KEY_TOKEN.match(token) or _METRE_TOKEN.match(token) or token in ("R", ".")):
                try:
                    rs200_chord(token, 0)  # readability does not depend on the key
                except ChordError as error:
                    state.skip(line_no, f"{error} in unused macro {name}")


def section_name(macro: str) -> str:
    """Readable section name for a macro (``Vr2`` -> ``verse``, ``Ch`` -> ``chorus``); else the macro name."""
    prefixes = [prefix for prefix in _SECTION_WORDS if macro.startswith(prefix)]
    return _SECTION_WORDS[max(prefixes, key=len)] if prefixes else macro


def _segments(state: _Expansion) -> list[Segment]:
    runs: list[tuple[list[Chord], int, int, list[float | None]]] = []
    for item in state.played:
        if runs and runs[-1][1] == item.tonic and runs[-1][2] == item.occurrence:
            runs[-1][0].append(item.chord)
            runs[-1][3].append(item.beats)
        else:
            runs.append(([item.chord], item.tonic, item.occurrence, [item.beats]))
    scales: dict[int, str] = {}
    for tonic in {run[1] for run in runs}:
        scales[tonic] = infer_scale_type([c for chords, t, _, _ in runs if t == tonic for c in chords], tonic)
    segments = []
    for index, (chords, tonic, occurrence, beats) in enumerate(runs):
        next_occurrence = runs[index + 1][2] if index + 1 < len(runs) else None
        segments.append(Segment(chords, tonic, scales[tonic], state.sections.get(occurrence, ""), next_occurrence != occurrence,
                                raw_label=state.raw_sections.get(occurrence, ""), metre=state.metre, beats=beats))
    return segments


def parse_file(path: Path, report: BuildReport) -> list[Segment]:
    """Key-labelled section segments of one ``.har`` file (its ``S:`` line expanded)."""
    macros = _read_definitions(path, report)
    if SONG_MACRO not in macros:
        report.skip(SOURCE, path, None, "no 'S:' line")
        return []
    state = _Expansion(path, report, macros)
    _expand(state, SONG_MACRO, depth=0, top_level=True)
    close_bar(state)
    _check_unused_macros(state)
    return _segments(state)


# --- songs ---------------------------------------------------------------------------------------


def load_titles(path: Path) -> dict[str, str]:
    """Normalised title (file-name form) -> title as written, from ``songs.json``."""
    if not path.exists():
        return {}
    songs = json.loads(path.read_text(encoding="utf-8"))
    return {normalise_title(key): (value or {}).get("title", key) for key, value in songs.items()}


def _title_for(stem: str, titles: dict[str, str], path: Path) -> str:
    found = titles.get(normalise_title(stem.replace("_", " ")))
    if found:
        return found
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("%"):
            return line.strip().lstrip("%").strip() or stem
    return stem


def _header_comments(path: Path) -> list[str]:
    """The ``%`` comment lines before the first macro definition (where an analysis names its song)."""
    comments = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("%"):
            comments.append(line.strip())
        elif line.strip():
            break
    return comments


def _credits(source_dir: Path) -> dict[str, str]:
    """Normalised title -> the artist any analyst's file of that title credits (``""`` when none does)."""
    credits: dict[str, str] = {}
    titles = load_titles(source_dir / "songs.json")
    for path in sorted((source_dir / "rs200_harmony").glob("*.har")):
        try:
            title = _title_for(path.stem.rsplit("_", 1)[0], titles, path)
            credit = file_credit(title, _header_comments(path))
        except (OSError, UnicodeDecodeError):
            continue  # reported when the file itself is parsed
        if credit:
            credits[title] = credit
    return credits


def parse(source_dir: Path, report: BuildReport, deezer: DeezerMoods | None = None) -> list[Song]:
    """Read every ``rs200_harmony/*.har`` under ``source_dir`` into songs (one per analyst file).

    Mood (and the artist it was matched by) from :func:`core.corpus.mood_matching.rs200_mood`, with
    Billboard read from the ``billboard`` folder beside ``source_dir`` and ``deezer`` defaulting to
    the ``deezer-mood`` folder there.
    """
    source_dir = Path(source_dir)
    titles = load_titles(source_dir / "songs.json")
    if deezer is None and (source_dir.parent / "deezer-mood").is_dir():
        deezer = DeezerMoods(source_dir.parent / "deezer-mood")
    billboard = billboard_credits(source_dir.parent / "billboard")
    credits = _credits(source_dir)
    songs: list[Song] = []
    for path in sorted((source_dir / "rs200_harmony").glob("*.har")):
        try:
            segments = parse_file(path, report)
            title = _title_for(path.stem.rsplit("_", 1)[0], titles, path)
        except (OSError, UnicodeDecodeError) as error:
            report.skip(SOURCE, path, None, f"unreadable file: {error}")
            continue
        if not segments:
            report.skip(SOURCE, path, None, "no chords")
            continue
        artist, mood, evidence = rs200_mood(title, segments[0].key_tonic, credits.get(title, ""), billboard, deezer)
        songs.append(
            Song(
                source=SOURCE, song_id=f"{SOURCE}:{path.stem}", title=title, artist=artist, genre=GENRE,
                genre_raw=GENRE_RAW, mood=mood, mood_evidence=evidence, segments=segments,
            )
        )
    return songs
