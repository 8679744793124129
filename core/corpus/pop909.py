"""POP909 (Chinese pop songs): beat-aligned Harte chords, split by key and by long rests.

Per song folder ``NNN/`` the parser reads ``chord_midi.txt`` (tab-separated ``start end label``,
Harte syntax, ``N`` = no chord) and ``key_audio.txt`` (``start end key`` with keys like
``Gb:maj``/``B:min``); titles and artists come from ``index.xlsx``.

Segmenting rules:

* A chord belongs to the key in force at its start time: the last key segment starting at or
  before it (chords before the first key segment take the first key). A key change closes the
  current segment (``ends=False``: the music goes on).
* A run of ``N`` lasting at least :data:`LONG_REST_BEATS` beats (two 4/4 bars) is a phrase
  boundary: it closes the current segment with ``ends=True``. Shorter ``N`` runs are skipped.
  ``chord_midi.txt`` is beat-aligned, so a song's beat is estimated as its shortest span
  (leading ``N`` rows are one beat each).
* The last segment of a song ends with ``ends=True``.

Durations and sections come from the companion ``pop909-structure/`` folder where it is present
(:mod:`core.corpus.pop909_structure`): beats from the song's tempo, phrase labels from annotator 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from openpyxl import load_workbook

from core.chords import Chord, ChordError, parse_harte, pitch_class
from core.corpus.pop909_structure import STRUCTURE_FOLDER, read_structure, split_at_phrases
from core.corpus.rows import BuildReport, Segment, Song

SOURCE = "pop909"
GENRE = "pop"
GENRE_RAW = "pop909 (Chinese pop)"
#: A run of ``N`` (no chord) at least this many beats long splits a segment (two bars of 4/4).
LONG_REST_BEATS = 8
#: Tolerance when comparing a rest's length in beats with the threshold (spans are not exact).
_BEAT_TOLERANCE = 0.25

_KEY_RE = re.compile(r"([A-G][#b]?):(maj|min)")


@dataclass(frozen=True)
class KeySpan:
    """A key in force from ``start`` seconds on."""

    start: float
    tonic: int
    scale_type: str


@dataclass(frozen=True)
class ChordSpan:
    """One row of ``chord_midi.txt``: a chord (``None`` for ``N``) from ``start`` to ``end`` seconds."""

    start: float
    end: float
    label: str
    chord: Chord | None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.end - self.start


def read_index(path: Path, report: BuildReport) -> dict[int, tuple[str, str]]:
    """``song number -> (title, artist)`` from ``index.xlsx``; a missing or unreadable index is reported."""
    if not path.exists():
        report.skip(SOURCE, path, None, "index.xlsx missing: titles fall back to folder names")
        return {}
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises several unrelated types for a bad file
        report.skip(SOURCE, path, None, f"index.xlsx unreadable ({error}): titles fall back to folder names")
        return {}
    rows = workbook.active.iter_rows(values_only=True)
    header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
    try:
        id_col, name_col, artist_col = header.index("song_id"), header.index("name"), header.index("artist")
    except ValueError:
        report.skip(SOURCE, path, 1, f"index.xlsx header lacks song_id/name/artist: {header}")
        return {}
    index: dict[int, tuple[str, str]] = {}
    for line_no, row in enumerate(rows, start=2):
        try:
            number = int(row[id_col])
        except (TypeError, ValueError, IndexError):
            report.skip(SOURCE, path, line_no, f"bad song_id {row[id_col] if len(row) > id_col else None!r}")
            continue
        index[number] = (_cell_text(row, name_col), _cell_text(row, artist_col))
    workbook.close()
    return index


def _cell_text(row: tuple, column: int) -> str:
    value = row[column] if column < len(row) else None
    return "" if value is None else str(value).strip()


def read_keys(path: Path, report: BuildReport) -> list[KeySpan]:
    """Key spans of ``key_audio.txt`` in time order; malformed lines are reported and skipped."""
    keys: list[KeySpan] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split()
        match = _KEY_RE.fullmatch(fields[2]) if len(fields) == 3 else None
        try:
            start = float(fields[0])
        except (ValueError, IndexError):
            match = None
        if not match:
            report.skip(SOURCE, path, line_no, f"malformed key line {line.strip()!r}")
            continue
        scale_type = "major" if match.group(2) == "maj" else "minor"
        keys.append(KeySpan(start, pitch_class(match.group(1)), scale_type))
    return sorted(keys, key=lambda k: k.start)


def read_chords(path: Path, report: BuildReport) -> list[ChordSpan]:
    """Chord spans of ``chord_midi.txt``; every chord goes through ``report.chord``, bad lines are skipped."""
    spans: list[ChordSpan] = []
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        try:
            start, end, label = float(fields[0]), float(fields[1]), fields[2].strip()
            if len(fields) != 3 or end <= start:
                raise ValueError("expected 'start<TAB>end<TAB>label' with end > start")
            chord, mapped = parse_harte(label)
        except (ValueError, IndexError, ChordError) as error:
            report.skip(SOURCE, path, line_no, f"{error} in {line.strip()!r}")
            continue
        if chord is not None:
            report.chord(SOURCE, label, mapped, chord)
        spans.append(ChordSpan(start, end, label, chord))
    return spans


def key_at(keys: list[KeySpan], time: float) -> KeySpan:
    """The key in force at ``time``: the last span starting at or before it, else the first."""
    current = keys[0]
    for key in keys:
        if key.start <= time:
            current = key
        else:
            break
    return current


def segment_song(spans: list[ChordSpan], keys: list[KeySpan], beat_seconds: float | None = None) -> list[Segment]:
    """Cut a song's chord spans into segments at key changes and long rests (see module docstring).

    Each chord's beats are its span over ``beat_seconds`` (the song's tempo), rounded to half beats.
    """
    beat = min((s.duration for s in spans), default=1.0)
    beat_length = beat_seconds or beat
    segments: list[Segment] = []
    current: Segment | None = None
    rest = 0.0
    for span in spans:
        if span.chord is None:
            rest += span.duration
            continue
        if current is not None and rest / beat >= LONG_REST_BEATS - _BEAT_TOLERANCE:
            current.ends = True
            current = None
        rest = 0.0
        key = key_at(keys, span.start)
        if current is not None and (current.key_tonic, current.scale_type) != (key.tonic, key.scale_type):
            current.ends = False
            current = None
        if current is None:
            current = Segment(chords=[], key_tonic=key.tonic, scale_type=key.scale_type, ends=True, beats=[])
            segments.append(current)
        current.chords.append(span.chord)
        current.beats.append(max(0.5, round(span.duration / beat_length * 2) / 2))
    return segments


def parse_song(folder: Path, index: dict[int, tuple[str, str]], report: BuildReport) -> Song | None:
    """One song folder as a :class:`Song`, or ``None`` (reported) when its files are missing or empty."""
    chord_path, key_path = folder / "chord_midi.txt", folder / "key_audio.txt"
    for path in (chord_path, key_path):
        if not path.exists():
            report.skip(SOURCE, path, None, "file missing: song skipped")
            return None
    keys = read_keys(key_path, report)
    if not keys:
        report.skip(SOURCE, key_path, None, "no readable key: song skipped")
        return None
    structure = read_structure(folder.parent.parent / STRUCTURE_FOLDER / "POP909" / folder.name, report)
    segments = segment_song(read_chords(chord_path, report), keys, structure.beat_seconds if structure else None)
    if not segments:
        report.skip(SOURCE, chord_path, None, "no chords: song skipped")
        return None
    if structure is not None:
        segments = split_at_phrases(segments, structure)
    number = int(folder.name)
    title, artist = index.get(number, (folder.name, ""))
    return Song(
        source=SOURCE, song_id=f"{SOURCE}:{folder.name}", title=title or folder.name, artist=artist,
        genre=GENRE, genre_raw=GENRE_RAW, segments=segments,
    )


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """Every song folder (``NNN/``) of the POP909 folder as songs in folder order."""
    source_dir = Path(source_dir)
    index = read_index(source_dir / "index.xlsx", report)
    if not (source_dir.parent / STRUCTURE_FOLDER).is_dir():
        report.skip(SOURCE, source_dir.parent / STRUCTURE_FOLDER, None,
                    "folder missing: POP909 sections stay unlabelled, beats from the shortest chord span")
    folders = sorted(p for p in source_dir.iterdir() if p.is_dir() and p.name.isdigit())
    songs = [parse_song(folder, index, report) for folder in folders]
    return [song for song in songs if song is not None]
