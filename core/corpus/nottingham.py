"""Nottingham Music Database (cleaned ABC): British and Irish folk tunes with quoted chord symbols.

Every ``*.abc`` file holds many tunes; a tune starts at an ``X:`` line, its header runs to the
first ``K:`` line, and the body interleaves melody with chord symbols in double quotes.
A small regex reader is used instead of music21 (ABC melody is not needed, only the chords).

Choices, documented:

* **Chords** as the cleaned source writes them (its README): ``"Am"``, ``"D7"``, ``"Cd"`` =
  diminished triad, ``"Ca"`` = augmented (``"Fa7"`` = augmented seventh), ``"C/e"`` and
  ``"D/f+"`` = slash chords whose bass (``+`` sharp, ``b`` flat) is dropped. ``"(D7)"`` — an
  optional lead-back chord — is read as a chord. Spaces inside quotes are ignored (``"D m"``);
  an empty or unreadable symbol is skipped and reported with its line.
* **Keys**: ``K:`` tonic as written, scale type by :func:`core.corpus.modes.scale_type_of_mode`
  (dorian/phrygian/aeolian/locrian -> minor, ionian/lydian/mixolydian -> major). A ``K:``
  field in the body (own line or inline ``[K:…]``) starts a new segment in the new key.
* **Repeats** are not expanded: chords are kept in order as written, first- and second-time
  endings included (``[1 … :| [2 … ||`` gives body, ending 1, ending 2).
* **Segments** are the tune's parts: a segment closes (``ends=True``) at a part-ending bar line
  (``:|``, ``||``, ``|]``, ``::``) — unless that bar only closes a first-time ending, i.e. the
  next marker is ``[2`` — at a ``P:`` part label, and at the end of the tune. A body key change
  closes the running segment with ``ends=False`` (the music goes on). ``section`` is the ``P:``
  label in force, or ``""``.
* **Labels**: genre ``folk``; subgenre from the file name (``jigs``, ``reels``, ``hornpipes``…);
  ``genre_raw`` = ``nottingham:<file stem>``; no mood evidence, so mood ``""``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from core.chords import Chord, ChordError, parse_symbol_lenient, pitch_class
from core.corpus.modes import scale_type_of_mode
from core.corpus.rows import BuildReport, Segment, Song

SOURCE = "nottingham"
GENRE = "folk"

#: file stem (or its prefix, for the split reels files) -> tune type
SUBGENRES: dict[str, str] = {
    "ashover": "ashover", "hpps": "hornpipes", "jigs": "jigs", "morris": "morris",
    "playford": "playford", "reels": "reels", "slip": "slip jigs", "waltzes": "waltzes", "xmas": "xmas",
}

_FIELD_RE = re.compile(r"^([A-Za-z]):(.*)$")
_KEY_RE = re.compile(r"^\s*([A-Ga-g])([#b]?)\s*([A-Za-z]*)")
#: one body token: a quoted string, an inline field, a bar line, or a numbered ending
_TOKEN_RE = re.compile(
    r'"(?P<quoted>[^"]*)"'
    r"|\[(?P<field>[A-Za-z]):(?P<value>[^\]]*)\]"
    r"|(?P<bar>:\|\|:|:\|:|:\|\||::|:\||\|\||\|\]|\[\||\|:|\|)(?P<after_bar>\d)?"
    r"|\[(?P<ending>\d)"
    r"|\{[^}]*\}"  # grace notes take no time
    r"|\((?P<tuplet>[2-9])"
    r"|(?P<broken>[<>]+)"
    r"|\[?(?P<note>[_^=]*[A-Ga-gzx][,']*)(?P<num>\d*)(?P<slashes>/*)(?P<den>\d*)(?:[^\]\s|\"]*\])?"
)
_PART_END_BARS = frozenset({":||:", ":|:", ":||", "::", ":|", "||", "|]", "[|"})
_ABC_CHORD_RE = re.compile(r"^([A-G][#b]?)([^/]*)(?:/([A-Ga-g][#b+\-]?))?$")
_ANNOTATION_PREFIXES = ("^", "_", "<", ">", "@")


@dataclass
class _Event:
    """One thing in a tune body that the segmenter cares about."""

    kind: str  # "chord" | "part_end" | "ending" | "key" | "part"
    text: str
    line_no: int
    time: float = 0.0  # where it falls, in units of the tune's default note length (L:) from the body's start


@dataclass
class _TuneText:
    """The raw lines of one tune: ``(line number, text)`` pairs, from its ``X:`` line on."""

    lines: list[tuple[int, str]] = field(default_factory=list)


def subgenre_of(stem: str) -> str:
    """Tune type named by a file stem: ``jigs`` -> ``jigs``, ``reelsa-c`` -> ``reels``, ``hpps`` -> ``hornpipes``."""
    for prefix, name in SUBGENRES.items():
        if stem.startswith(prefix):
            return name
    return stem


def parse_key_field(value: str) -> tuple[int, str]:
    """Tonic pitch class and scale type of an ABC ``K:`` value: ``G``, ``Em``, ``Ador``, ``D mix``, ``F#m``.

    Raises :class:`ChordError` when no tonic or an unknown mode is written.
    """
    match = _KEY_RE.match(value)
    if not match:
        raise ChordError(f"unreadable key {value.strip()!r}")
    letter, accidental, mode = match.groups()
    return pitch_class(letter.upper() + accidental), scale_type_of_mode(mode)


def parse_abc_chord(label: str) -> tuple[Chord, bool]:
    """Chord of a quoted ABC chord symbol (without the quotes) and whether its quality was mapped.

    ``Am`` -> A min, ``Cd`` -> C dim, ``Ca`` -> C aug, ``Fa7`` -> F aug (mapped), ``D/f+`` -> D maj
    (bass dropped), ``(E7)`` -> E 7. Raises :class:`ChordError` when unreadable.
    """
    text = label.replace(" ", "")
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    match = _ABC_CHORD_RE.match(text)
    if not match:
        raise ChordError(f"unreadable ABC chord {label!r}")
    root, suffix, _bass = match.groups()
    if suffix.startswith("d") and not suffix.startswith("dim"):
        suffix = "dim" + suffix[1:]
    elif suffix.startswith("a") and not suffix.startswith(("aug", "add")):
        suffix = "aug" + suffix[1:]
    return parse_symbol_lenient(root + suffix)


def split_tunes(lines: list[str]) -> list[_TuneText]:
    """Group a file's lines into tunes; lines before the first ``X:`` are ignored."""
    tunes: list[_TuneText] = []
    for line_no, line in enumerate(lines, start=1):
        if line.startswith("X:"):
            tunes.append(_TuneText())
        if tunes:
            tunes[-1].lines.append((line_no, line))
    return tunes


def _body_events(body: list[tuple[int, str]]) -> list[_Event]:
    """The chords, part ends, endings, key changes and part labels of a tune body, in order, with their times."""
    events: list[_Event] = []
    clock = _NoteClock()
    for line_no, raw in body:
        line = raw.split("%", 1)[0].rstrip()
        field_match = _FIELD_RE.match(line)
        if field_match:
            name, value = field_match.groups()
            if name in ("K", "P"):
                events.append(_Event("key" if name == "K" else "part", value.strip(), line_no, clock.time))
            continue
        for token in _TOKEN_RE.finditer(line):
            if token["note"] is not None or token["tuplet"] is not None or token["broken"] is not None:
                clock.read(token)
            elif token["quoted"] is not None:
                events.append(_Event("chord", token["quoted"], line_no, clock.time))
            elif token["field"] in ("K", "P"):
                kind = "key" if token["field"] == "K" else "part"
                events.append(_Event(kind, token["value"].strip(), line_no, clock.time))
            elif token["bar"] is not None:
                if token["bar"] in _PART_END_BARS:
                    events.append(_Event("part_end", token["bar"], line_no, clock.time))
                if token["after_bar"]:
                    events.append(_Event("ending", token["after_bar"], line_no, clock.time))
            elif token["ending"] is not None:
                events.append(_Event("ending", token["ending"], line_no, clock.time))
    events.append(_Event("end", "", body[-1][0] if body else 0, clock.time))
    return events


class _NoteClock:
    """Adds up note lengths (in L: units) as a body is read: ``A2``, ``A/``, ``A3/2``, broken rhythm, triplets."""

    def __init__(self) -> None:
        self.time = 0.0
        self.last = 0.0  # length of the last note read
        self.next_factor = 1.0  # a broken rhythm's share for the next note
        self.tuplet: tuple[int, float] = (0, 1.0)  # notes left in a tuplet, their factor

    def read(self, token: re.Match[str]) -> None:
        """Advance by one note (or chord in brackets); a tuplet or broken-rhythm mark changes the next notes."""
        if token["tuplet"] is not None:
            count = int(token["tuplet"])
            self.tuplet = (count, (2 if count == 3 else 3 if count in (2, 4) else count - 1) / count)
            return
        if token["broken"] is not None:
            dots = len(token["broken"])
            share = 1 - 0.5 ** dots
            shift = self.last * share if token["broken"].startswith(">") else -self.last * share
            self.time += shift
            self.next_factor = 1 - share if token["broken"].startswith(">") else 1 + share
            return
        length = float(token["num"] or 1) / (float(token["den"]) if token["den"] else 2.0 ** len(token["slashes"]))
        length *= self.next_factor
        self.next_factor = 1.0
        if self.tuplet[0]:
            length *= self.tuplet[1]
            self.tuplet = (self.tuplet[0] - 1, self.tuplet[1])
        self.time += length
        self.last = length


def _closes_first_ending(events: list[_Event], index: int) -> bool:
    """True if the part-end bar at ``index`` is followed by another numbered ending (``[2``)."""
    for later in events[index + 1:]:
        if later.kind == "part_end":
            continue
        return later.kind == "ending"
    return False


class _SegmentBuilder:
    """Collects a tune's chords into segments as part ends, part labels and key changes arrive."""

    def __init__(self, tonic: int, scale_type: str, timing: tuple[int | None, float | None] = (None, None)) -> None:
        self.tonic, self.scale_type = tonic, scale_type
        self.metre, self.unit_beats = timing
        self.section = ""
        self.chords: list[Chord] = []
        self.starts: list[float] = []
        self.segments: list[Segment] = []

    def add(self, chord: Chord, time: float) -> None:
        """A chord starting at ``time`` (L: units)."""
        self.chords.append(chord)
        self.starts.append(time)

    def close(self, ends: bool, time: float | None = None) -> None:
        """End the running segment (if it has chords) at ``time``: each chord lasts until the next one."""
        if self.chords:
            beats: list[float | None] | None = None
            if self.unit_beats is not None and time is not None:
                stops = [*self.starts[1:], time]
                beats = [round((stop - start) * self.unit_beats, 4) if stop > start else None
                         for start, stop in zip(self.starts, stops, strict=True)]
            self.segments.append(Segment(self.chords, self.tonic, self.scale_type, self.section, ends,
                                         metre=self.metre, beats=beats))
        self.chords = []
        self.starts = []


def _segments(events: list[_Event], key: tuple[int, str], timing: tuple[int | None, float | None],
              path: Path, report: BuildReport) -> list[Segment]:
    """Segments of one tune body from its events; bad chords and keys are reported and skipped.

    ``timing`` is (beats per bar, beats per L: unit), ``None`` where the header does not say.
    """
    builder = _SegmentBuilder(key[0], key[1], timing)
    for index, event in enumerate(events):
        if event.kind == "chord":
            _read_chord(event, builder, path, report)
        elif event.kind == "part_end" and not _closes_first_ending(events, index):
            builder.close(ends=True, time=event.time)
        elif event.kind == "part":
            builder.close(ends=True, time=event.time)
            builder.section = event.text
        elif event.kind == "key":
            try:
                new_key = parse_key_field(event.text)
            except ChordError as error:
                report.skip(SOURCE, path, event.line_no, f"key change ignored: {error}")
                continue
            if new_key != (builder.tonic, builder.scale_type):
                builder.close(ends=False, time=event.time)
                builder.tonic, builder.scale_type = new_key
    builder.close(ends=True, time=events[-1].time if events else None)
    return builder.segments


def tune_timing(metre_field: str, length_field: str) -> tuple[int | None, float | None]:
    """(beats per bar, beats per default note length) from ``M:`` and ``L:`` (``6/8``, ``1/8`` -> 6, 1.0).

    ``C`` is 4/4 and ``C|`` 2/2; without ``L:`` the ABC default applies (1/16 below a 3/4 metre, else 1/8).
    """
    text = {"C": "4/4", "C|": "2/2"}.get(metre_field.strip(), metre_field.strip())
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or int(match.group(1)) == 0 or int(match.group(2)) == 0:
        return None, None
    numerator, denominator = int(match.group(1)), int(match.group(2))
    length = re.fullmatch(r"\s*(\d+)/(\d+)\s*", length_field)
    unit = int(length.group(1)) / int(length.group(2)) if length and int(length.group(2)) else (
        1 / 16 if numerator / denominator < 0.75 else 1 / 8)
    return numerator, unit * denominator


def _read_chord(event: _Event, builder: _SegmentBuilder, path: Path, report: BuildReport) -> None:
    """Parse one quoted symbol into the running segment, or report it as skipped."""
    if event.text.startswith(_ANNOTATION_PREFIXES):
        report.skip(SOURCE, path, event.line_no, f"text annotation {event.text!r}, not a chord")
        return
    try:
        chord, mapped = parse_abc_chord(event.text)
    except ChordError as error:
        report.skip(SOURCE, path, event.line_no, str(error))
        return
    report.chord(SOURCE, event.text, mapped, chord)
    builder.add(chord, event.time)


def parse_tune(tune: _TuneText, path: Path, report: BuildReport) -> Song | None:
    """One tune as a :class:`Song`, or ``None`` (reported) if it has no readable key or no chords."""
    first_line = tune.lines[0][0]
    number = tune.lines[0][1][2:].strip()
    title, key, header = "", None, {"M": "", "L": ""}
    body_start = len(tune.lines)
    for position, (line_no, line) in enumerate(tune.lines):
        field_match = _FIELD_RE.match(line)
        if not field_match:
            continue
        name, value = field_match.groups()
        if name == "T" and not title:
            title = value.strip()
        elif name in header and not header[name]:
            header[name] = value.strip()
        elif name == "K":
            try:
                key = parse_key_field(value)
            except ChordError as error:
                report.skip(SOURCE, path, line_no, f"tune X:{number} skipped: {error}")
                return None
            body_start = position + 1
            break
    if key is None:
        report.skip(SOURCE, path, first_line, f"tune X:{number} skipped: no K: field")
        return None
    timing = tune_timing(header["M"], header["L"])
    segments = _segments(_body_events(tune.lines[body_start:]), key, timing, path, report)
    if not segments:
        report.skip(SOURCE, path, first_line, f"tune X:{number} skipped: no chords")
        return None
    stem = path.stem
    return Song(
        source=SOURCE, song_id=f"{SOURCE}:{stem}:{number}", title=title or f"X:{number}",
        genre=GENRE, genre_raw=f"{SOURCE}:{stem}", subgenre=subgenre_of(stem), segments=segments,
    )


def parse_file(path: Path, report: BuildReport) -> list[Song]:
    """Every tune with chords in one ``.abc`` file."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    songs = [parse_tune(tune, path, report) for tune in split_tunes(lines)]
    return [song for song in songs if song is not None]


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """All tunes of the Nottingham source folder (its ``*.abc`` files, in name order)."""
    songs: list[Song] = []
    for path in sorted(Path(source_dir).glob("*.abc")):
        songs.extend(parse_file(path, report))
    return songs
