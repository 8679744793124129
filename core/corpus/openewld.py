"""OpenEWLD (public-domain Wikifonia lead sheets): MusicXML chord symbols on bars and beats -> songs.

``dataset/<authors>/<Title>/<Title>.mxl`` are compressed MusicXML lead sheets; ``genres_styles.csv``
gives each sheet's written metre and key and its Discogs genres/styles with vote counts. The MusicXML
is read with the standard library (no music21): the first part's ``<harmony>`` elements (root, kind,
``<degree>`` additions and alterations, an ``<offset>``) are placed at the running position of its
notes (``<chord/>`` notes and grace notes take no time; ``<backup>``/``<forward>`` move it), and each
chord lasts until the next (the last to the end of the piece). Beats are of the time signature's unit.

The source warns that keys and metres can be wrong (a detection bug; 4/4 written by default), so both
are checked against the music: the metre is the bars' own length where most full bars disagree with
the written time signature, and the key is the chords' best-fitting key
(:func:`core.corpus.jazz_standards.estimate_key`) where that fits the chords clearly better (by
:data:`KEY_MARGIN` of the beats in the scale) than the written key. Every correction is noted in the
build report. No section labels: one segment per sheet, label ``other``.

Genre (Discogs genres of the recordings of the work, noisy): the genre with the most votes, mapped by
:data:`DISCOGS_GENRES` (``Folk, World, & Country`` is country when a style says Country, else folk);
genres with no project counterpart (Reggae, Non-Music, Brass & Military…) give no genre. The raw
genres and styles are kept in ``genre_raw``.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ElementTree
import zipfile
from collections import Counter
from pathlib import Path

from core.chords import ROOTS, Chord, ChordError, from_intervals, pitch_class
from core.corpus.jazz_standards import estimate_key
from core.corpus.rows import BuildReport, Segment, Song
from core.errors import InputError
from core.numerals import in_scale

SOURCE = "openewld"
INDEX_FILE = "genres_styles.csv"
KEY_MARGIN = 0.15
DISCOGS_GENRES = {
    "Pop": "pop", "Stage & Screen": "pop", "Rock": "rock", "Jazz": "jazz", "Funk / Soul": "soul",
    "Blues": "blues", "Latin": "latin", "Classical": "classical", "Electronic": "disco",
    "Folk, World, & Country": "folk",
}
KIND_INTERVALS: dict[str, frozenset[int]] = {
    "major": frozenset({0, 4, 7}), "minor": frozenset({0, 3, 7}), "augmented": frozenset({0, 4, 8}),
    "diminished": frozenset({0, 3, 6}), "dominant": frozenset({0, 4, 7, 10}),
    "major-seventh": frozenset({0, 4, 7, 11}), "minor-seventh": frozenset({0, 3, 7, 10}),
    "diminished-seventh": frozenset({0, 3, 6, 9}), "augmented-seventh": frozenset({0, 4, 8, 10}),
    "half-diminished": frozenset({0, 3, 6, 10}), "major-minor": frozenset({0, 3, 7, 11}),
    "minor-major": frozenset({0, 3, 7, 11}), "major-sixth": frozenset({0, 4, 7, 9}),
    "minor-sixth": frozenset({0, 3, 7, 9}), "dominant-ninth": frozenset({0, 2, 4, 7, 10}),
    "major-ninth": frozenset({0, 2, 4, 7, 11}), "minor-ninth": frozenset({0, 2, 3, 7, 10}),
    "augmented-ninth": frozenset({0, 2, 4, 8, 10}), "dominant-11th": frozenset({0, 2, 4, 5, 7, 10}),
    "major-11th": frozenset({0, 2, 4, 5, 7, 11}), "minor-11th": frozenset({0, 2, 3, 5, 7, 10}),
    "dominant-13th": frozenset({0, 2, 4, 7, 9, 10}), "major-13th": frozenset({0, 2, 4, 7, 9, 11}),
    "minor-13th": frozenset({0, 2, 3, 7, 9, 10}), "suspended-second": frozenset({0, 2, 7}),
    "suspended-fourth": frozenset({0, 5, 7}), "power": frozenset({0, 7}), "maj69": frozenset({0, 2, 4, 7, 9}),
}
_DEGREE_SEMITONES = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 10, 9: 2, 11: 5, 13: 9}
_FIFTHS_MAJOR_TONIC = 0  # C major has no sharps or flats


def discogs_genre(genres: str, styles: str) -> str:
    """The project genre of a Discogs ``Genre:votes, …`` cell: the most-voted genre mapped (module docstring)."""
    votes = Counter()
    for name, count in re.findall(r"([^:,][^:]*?):(\d+)", genres):
        votes[name.strip()] += int(count)
    if not votes:
        return ""
    top = sorted(votes.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    if top == "Folk, World, & Country" and "country" in styles.lower():
        return "country"
    return DISCOGS_GENRES.get(top, "")


def read_index(source_dir: Path, report: BuildReport) -> dict[str, dict[str, str]]:
    """``genres_styles.csv`` rows by lead-sheet path; a missing or unreadable index is an :class:`InputError`."""
    path = source_dir / INDEX_FILE
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"{path} cannot be read ({type(error).__name__}: {error}); check the openewld folder") from None
    index = {}
    for line_no, row in enumerate(rows, start=2):
        if not row.get("path_leadsheet"):
            report.skip(SOURCE, path, line_no, "row without path_leadsheet")
            continue
        index[row["path_leadsheet"]] = row
    return index


def harmony_chord(element: ElementTree.Element) -> tuple[Chord | None, str, bool]:
    """The chord of a ``<harmony>`` (None for ``none``/no root), its label as written, whether it was mapped."""
    step = element.findtext("root/root-step")
    kind = (element.findtext("kind") or "").strip() or "major"
    alter = float(element.findtext("root/root-alter") or 0)
    label = f"{step}{'#' * int(alter) if alter > 0 else 'b' * int(-alter)}:{kind}"
    if step is None or kind == "none":
        return None, label, False
    if kind not in KIND_INTERVALS:
        raise ChordError(f"unknown chord kind {kind!r}")
    intervals = set(KIND_INTERVALS[kind])
    for degree in element.findall("degree"):
        value = int(degree.findtext("degree-value") or 0)
        shift = int(float(degree.findtext("degree-alter") or 0))
        base = _DEGREE_SEMITONES.get(value if value <= 13 else 13, 0)
        action = degree.findtext("degree-type") or "add"
        label += f"({action}{value}{'+' * shift if shift > 0 else '-' * -shift})"
        if action in ("subtract", "alter"):
            intervals.discard(base)
        if action in ("add", "alter"):
            intervals.add((base + shift) % 12)
    chord, mapped = from_intervals((pitch_class(step) + int(alter)) % 12, intervals)
    return chord, label, mapped


def score_root(path: Path) -> ElementTree.Element:
    """The MusicXML document of an ``.mxl`` archive (its first ``.xml`` member outside META-INF)."""
    with zipfile.ZipFile(path) as archive:
        members = [m for m in archive.namelist() if m.lower().endswith(".xml") and not m.startswith("META-INF/")]
        if not members:
            raise ValueError("no MusicXML document in the archive")
        return ElementTree.fromstring(archive.read(members[0]))


class _SheetReading:
    """What walking a sheet's first part gives: chords at positions (quarters), bar lengths, metre and key."""

    def __init__(self) -> None:
        self.chords: list[tuple[float, Chord, str, bool]] = []
        self.bar_lengths: list[float] = []
        self.time_signature: tuple[int, int] | None = None
        self.key: tuple[int, str] | None = None
        self.end = 0.0


def _read_attributes(element: ElementTree.Element, reading: _SheetReading, divisions: float) -> float:
    """Take divisions, the first key and the first time signature from an ``<attributes>``; the divisions in force."""
    divisions = float(element.findtext("divisions") or divisions)
    fifths = element.findtext("key/fifths")
    if fifths is not None and reading.key is None:
        minor = (element.findtext("key/mode") or "major").strip() == "minor"
        tonic = (_FIFTHS_MAJOR_TONIC + 7 * int(fifths) + (9 if minor else 0)) % 12
        reading.key = (tonic, "minor" if minor else "major")
    beats, beat_type = element.findtext("time/beats"), element.findtext("time/beat-type")
    if beats and beat_type and reading.time_signature is None and beats.isdigit() and beat_type.isdigit():
        reading.time_signature = (int(beats), int(beat_type))
    return divisions


def walk_sheet(root: ElementTree.Element, where: str, report: BuildReport) -> _SheetReading:
    """Chords of the first part with their positions in quarter notes, and each bar's length."""
    reading, divisions, start = _SheetReading(), 1.0, 0.0
    part = root.find("part")
    for measure in part.findall("measure") if part is not None else []:
        position = furthest = 0.0
        for element in measure:
            if element.tag == "attributes":
                divisions = _read_attributes(element, reading, divisions)
            elif element.tag == "harmony":
                offset = float(element.findtext("offset") or 0) / divisions
                try:
                    chord, label, mapped = harmony_chord(element)
                except (ChordError, ValueError) as error:
                    report.skip(SOURCE, where, None, f"measure {measure.get('number')}: {error}")
                    continue
                if chord is not None:
                    report.chord(SOURCE, label, mapped, chord)
                    reading.chords.append((start + position + offset, chord, label, mapped))
            elif element.tag in ("note", "forward", "backup"):
                if element.tag == "note" and (element.find("chord") is not None or element.find("grace") is not None):
                    continue
                step = float(element.findtext("duration") or 0) / divisions
                position += -step if element.tag == "backup" else step
                furthest = max(furthest, position)
        reading.bar_lengths.append(furthest)
        start += furthest
    reading.end = start
    return reading


def checked_metre(reading: _SheetReading, where: str, report: BuildReport) -> tuple[int, int] | None:
    """The written time signature, or the one the full bars hold where most of them disagree (noted)."""
    written = reading.time_signature or (4, 4)
    inner = [length for length in reading.bar_lengths[1:-1] if length > 0]
    if not inner:
        return reading.time_signature
    common = Counter(inner).most_common(1)[0][0]
    if abs(common - written[0] * 4 / written[1]) < 1e-6:
        return written
    corrected = (round(common * written[1] / 4), written[1])
    if corrected[0] <= 0:
        return written
    report.note(SOURCE, where, f"metre {written[0]}/{written[1]} written, bars hold {corrected[0]}/{corrected[1]}")
    return corrected


def checked_key(reading: _SheetReading, where: str, report: BuildReport) -> tuple[int, str]:
    """The written key, or the chords' best key where it fits the chords clearly better (noted)."""
    chords = [chord for _, chord, _, _ in reading.chords]
    estimated = estimate_key([[chord] for chord in chords])
    if reading.key is None:
        report.note(SOURCE, where, "no key written: key estimated from the chords")
        return estimated

    def fit(key: tuple[int, str]) -> float:
        return sum(in_scale(chord, key[0], key[1]) for chord in chords) / len(chords)

    if fit(estimated) - fit(reading.key) >= KEY_MARGIN:
        written, found = (f"{ROOTS[key[0]]} {key[1]}" for key in (reading.key, estimated))
        report.note(SOURCE, where, f"key {written} written, the chords fit {found}: key corrected")
        return estimated
    return reading.key


def parse_sheet(path: Path, relative: str, row: dict[str, str], report: BuildReport) -> Song | None:
    """One lead sheet as a song (one segment, each chord with its beats), or None (reported)."""
    try:
        reading = walk_sheet(score_root(path), relative, report)
    except (OSError, ValueError, zipfile.BadZipFile, ElementTree.ParseError) as error:
        report.skip(SOURCE, relative, None, f"cannot be read: {type(error).__name__}: {error}")
        return None
    if not reading.chords:
        report.skip(SOURCE, relative, None, "no chord symbols")
        return None
    metre = checked_metre(reading, relative, report)
    tonic, scale_type = checked_key(reading, relative, report)
    unit = metre[1] / 4 if metre else None
    stops = [start for start, *_ in reading.chords[1:]] + [reading.end]
    beats = [round((stop - start) * unit, 4) if unit and stop > start else None
             for (start, *_), stop in zip(reading.chords, stops, strict=True)]
    folders = Path(relative).parts
    title, authors = folders[-2].replace("_", " "), folders[-3].replace("_", " ").replace("-", ", ")
    segment = Segment([chord for _, chord, _, _ in reading.chords], tonic, scale_type, metre=metre[0] if metre else None,
                      beats=beats)
    raw = f"discogs genres: {row.get('discogs_genres', '')}; styles: {row.get('discogs_styles', '')}"
    return Song(source=SOURCE, song_id=f"{SOURCE}:{folders[-3]}/{folders[-2]}", title=title, artist=authors,
                genre=discogs_genre(row.get("discogs_genres", ""), row.get("discogs_styles", "")), genre_raw=raw,
                subgenre=row.get("discogs_styles", "").split(":")[0], segments=[segment])


def parse(source_dir: Path, report: BuildReport) -> list[Song]:
    """Every lead sheet listed in ``genres_styles.csv`` (and any other ``.mxl`` under ``dataset/``), in path order."""
    source_dir = Path(source_dir)
    index = read_index(source_dir, report)
    sheets = sorted({p.relative_to(source_dir).as_posix() for p in (source_dir / "dataset").rglob("*.mxl")} | set(index))
    songs = []
    for relative in sheets:
        path = source_dir / relative
        if not path.is_file():
            report.skip(SOURCE, path, None, f"listed in {INDEX_FILE} but missing")
            continue
        song = parse_sheet(path, relative, index.get(relative, {}), report)
        if song is not None:
            songs.append(song)
    return songs
