"""Readers for a user's own songs: chord charts (plain text, ChordPro), MusicXML chord symbols, MIDI.

Each reader turns one file's bytes into :class:`~core.corpus.rows.Song` objects (source ``user``)
and lists what it could not read, so nothing is dropped silently:

* **plain text** (``.txt``, ``.chords``): one progression per line, chord symbols separated by
  spaces, commas or bars (``C G/B | Am7 F``). A ``key: G`` line sets the key of the lines after
  it (else the key is guessed from the chords); each line is a song of its own unless ``title:``
  lines group the lines under them into songs. ``#`` starts a comment line.
* **ChordPro** (``.cho``, ``.chordpro``, ``.chopro``, ``.crd``, ``.pro``): chords inline in square
  brackets (``[C]Swing [G]low``); ``{title: …}``/``{t: …}``, ``{artist: …}``, ``{key: G}``,
  ``{capo: N}`` (chords sound N semitones higher) and ``{new_song}``/``{ns}`` (as does a second
  ``{title}``: each starts a new song); a blank line or a
  ``{start_of_…}``/``{end_of_…}`` directive closes a section. One file is one song.
* **MusicXML** (``.musicxml``, ``.xml``, ``.mxl``): the chord symbols (``<harmony>``) of the part
  holding most of them, read with music21; the key from the key signature. Positions are measures.
* **MIDI** (``.mid``, ``.midi``): chords from simultaneous notes (music21 ``chordify``), each
  mapped to the nearest vocabulary chord; moments with fewer than three pitch classes or shorter
  than an eighth note are skipped and counted; the key is music21's key analysis.

Symbols outside the vocabulary are read as their nearest chord (:func:`core.chords.read_symbol`)
and listed as notes; a slash bass is dropped and counted (the vocabulary holds root-position chords). What
cannot be read is a :class:`Problem` with the file and the line (or measure). A file that cannot
be read at all (empty, over :data:`MAX_FILE_BYTES`, binary where text is expected, not UTF-8, not
MIDI or MusicXML) is an :class:`~core.errors.InputError` naming it.

Bounded work: before music21 sees a file, an ``.mxl`` archive's directory is checked against
:data:`MXL_LIMITS` (nothing is unpacked past it), a MusicXML file's chord symbols and notes are
counted, and a MIDI file's events are counted by a linear walk of its tracks (:func:`midi_counts`);
a file over the limits in :mod:`core.config` (``MAX_MUSICXML_…``, ``MAX_MIDI_…``) is refused in one
line saying what it holds and what is accepted, so no upload can take minutes.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from core.bounded_reads import ArchiveLimits, check_archive, read_member
from core.chords import Chord, ChordError, collapse_repeats, from_pitch_classes, read_symbol
from core.conditions import parse_key
from core.config import (
    MAX_IMPORT_FILE_BYTES,
    MAX_MIDI_EVENTS,
    MAX_MIDI_NOTES,
    MAX_MUSICXML_CHORD_SYMBOLS,
    MAX_MUSICXML_NOTES,
    MAX_MXL_ENTRIES,
    MAX_MXL_UNPACKED_BYTES,
)
from core.corpus.rows import Segment, Song
from core.errors import InputError

#: largest file read, in bytes (the limit lives in core.config).
MAX_FILE_BYTES = MAX_IMPORT_FILE_BYTES
#: what an ``.mxl`` archive may hold (core.config): refused before anything is unpacked.
MXL_LIMITS = ArchiveLimits(entries=MAX_MXL_ENTRIES, unpacked_bytes=MAX_MXL_UNPACKED_BYTES)
#: the ``source`` of every imported song.
USER_SOURCE = "user"
#: input formats, and the file-name endings that choose them.
FORMATS: tuple[str, ...] = ("text", "chordpro", "musicxml", "midi")
EXTENSIONS: dict[str, str] = {
    ".txt": "text", ".chords": "text", ".cho": "chordpro", ".chordpro": "chordpro", ".chopro": "chordpro",
    ".crd": "chordpro", ".pro": "chordpro", ".musicxml": "musicxml", ".xml": "musicxml", ".mxl": "musicxml",
    ".mid": "midi", ".midi": "midi",
}
#: MIDI moments shorter than this many quarter notes are passing notes, not chords.
MIN_MIDI_CHORD_QUARTERS = 0.5
_BAR_TOKENS = frozenset({"|", "||", "|:", ":|", "/", "%", "-"})
_NO_CHORD = frozenset({"n.c.", "nc", "n.c", "x"})


@dataclass(frozen=True)
class Problem:
    """Something in a file that was not read (or, as a note, read approximately): where, and why."""

    file: str
    line: int | None  # the line (text, ChordPro) or measure (MusicXML, MIDI); None: the whole file
    message: str
    unit: str = "line"

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}" if self.unit == "line" \
            else f"{self.file}, {self.unit} {self.line}"
        return f"{where}: {self.message}"


@dataclass
class FileReading:
    """What one file gave: its format, songs, problems (not read) and notes (read as the nearest chord)."""

    file: str
    format: str
    songs: list[Song] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    guessed_keys: int = 0  # songs whose key (or part of whose key) was guessed from their chords
    slash_basses: int = 0  # slash chords read without their bass (C/E as C)

    @property
    def chords(self) -> int:
        """Chords read (after immediate repeats were collapsed)."""
        return sum(len(collapse_repeats(s.chords)) for song in self.songs for s in song.segments)


# --------------------------------------------------------------------------- formats and bad files


def detect_format(name: str, data: bytes) -> str:
    """The format of a file, from its name's ending, else from its first bytes; :class:`InputError` if neither tells."""
    suffix = Path(name).suffix.lower()
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    head = data[:4096]
    if head.startswith(b"MThd"):
        return "midi"
    if head.startswith(b"PK") or b"<score-partwise" in head or b"<score-timewise" in head:
        return "musicxml"
    if b"\x00" in head:
        raise InputError(f"{name}: not a chord chart, MusicXML or MIDI file (name it .txt, .cho, .musicxml or .mid)")
    return "chordpro" if re.search(rb"\{\s*(title|t|key|artist)\s*:|\[[A-G][^\]\s]{0,12}\]", head) else "text"


def decode_text(name: str, data: bytes) -> str:
    """A text file's content: UTF-8 (a BOM allowed) or UTF-16 with a BOM; :class:`InputError` for binary or other encodings."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{name}: damaged UTF-16 text") from None
    if b"\x00" in data:
        raise InputError(f"{name}: binary data, not a text file (a chord chart is plain text)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not UTF-8 text (byte 0x{data[error.start]:02X} at position {error.start}); "
                         "save it as UTF-8 and upload it again") from None


def check_size(name: str, data: bytes) -> None:
    """:class:`InputError` for an empty file or one over :data:`MAX_FILE_BYTES`."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"{name}: {len(data):,} bytes; at most {MAX_FILE_BYTES:,} per file")


def read_file(name: str, data: bytes) -> FileReading:
    """Read one file (format from :func:`detect_format`); :class:`InputError` when it cannot be read at all."""
    check_size(name, data)
    kind = detect_format(name, data)
    if kind == "text":
        return read_text(name, decode_text(name, data))
    if kind == "chordpro":
        return read_chordpro(name, decode_text(name, data))
    if kind == "musicxml":
        return read_musicxml(name, data)
    return read_midi(name, data)


# --------------------------------------------------------------------------- shared pieces


def _song(file: str, index: int, title: str, artist: str = "") -> Song:
    return Song(source=USER_SOURCE, song_id=f"{USER_SOURCE}:{file}#{index}", title=title or Path(file).stem, artist=artist)


def _add_song(reading: FileReading, song: Song, pending: list[tuple[list[Chord], tuple[int, str] | None, str]]) -> None:
    """Add a song of ``(chords, key or None, section)`` segments; a missing key is guessed from the song's chords."""
    from core.spelling import guess_key

    guessed = guess_key([c for chords, _, _ in pending for c in chords])
    reading.guessed_keys += any(key is None for _, key, _ in pending)
    for chords, key, section in pending:
        tonic, mode = key or guessed
        song.segments.append(Segment(chords=chords, key_tonic=tonic, scale_type=mode, section=section))
    reading.songs.append(song)


def _read_token(token: str, reading: FileReading, line: int, transpose: int = 0) -> Chord | None:
    """One chord symbol (moved by ``transpose``), or ``None`` with a problem recorded."""
    if token.lower() in _NO_CHORD:
        reading.problems.append(Problem(reading.file, line, f"{token!r} (no chord) skipped"))
        return None
    try:
        parsed = read_symbol(token)
    except ChordError as error:
        reading.problems.append(Problem(reading.file, line, str(error)))
        return None
    if parsed.note:
        reading.notes.append(Problem(reading.file, line, parsed.note))
    reading.slash_basses += parsed.bass is not None
    return parsed.chord.transpose(transpose)


def _key_value(text: str, reading: FileReading, line: int, unit: str = "line") -> tuple[int, str] | None:
    try:
        tonic, mode = parse_key(text)
    except InputError as error:
        reading.problems.append(Problem(reading.file, line, str(error), unit))
        return None
    return tonic, mode or "major"


def _keep_progression(chords: list[Chord], reading: FileReading, line: int | None, unit: str = "line") -> bool:
    """Whether a progression is long enough to learn from (two different chords); a problem recorded if not."""
    if len(collapse_repeats(chords)) >= 2:
        return True
    if chords:
        reading.problems.append(Problem(reading.file, line, "only one chord: a progression needs at least two", unit))
    return False


# --------------------------------------------------------------------------- plain text


_DIRECTIVE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*?)\s*:\s*(.*)$")


def read_text(name: str, text: str) -> FileReading:
    """Plain-text chord chart (module docstring): ``title:``/``artist:``/``key:`` lines and one progression per line.

    Any other ``label:`` line is a progression whose section is the label (``Verse: C G Am F``).
    """
    reading = FileReading(name, "text")
    key: tuple[int, str] | None = None
    song: Song | None = None
    pending: list = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line, section = raw.strip(), f"line {number}"
        if not line or line.startswith("#"):
            continue
        directive = _DIRECTIVE.match(line)
        if directive:
            word, line = directive.group(1).lower(), directive.group(2).strip()
            if word in ("key", "title", "artist"):
                if word == "key":
                    key = _key_value(line, reading, number)
                elif word == "title":
                    if song is not None and pending:
                        _add_song(reading, song, pending)
                    song, pending = _song(name, len(reading.songs), line), []
                elif song is not None:
                    song.artist = line
                continue
            section = directive.group(1)
        chords = [c for token in re.split(r"[\s,]+", line) if token.strip("|:") and token not in _BAR_TOKENS
                  and (c := _read_token(token.strip("|:"), reading, number)) is not None]
        if not _keep_progression(chords, reading, number):
            continue
        if song is None:  # no title yet: the line is a song of its own
            _add_song(reading, _song(name, len(reading.songs), f"{Path(name).stem} line {number}"), [(chords, key, section)])
        else:
            pending.append((chords, key, section))
    if song is not None and pending:
        _add_song(reading, song, pending)
    return reading


# --------------------------------------------------------------------------- ChordPro


_CHORDPRO_DIRECTIVE = re.compile(r"^\s*\{\s*([A-Za-z_]+)\s*(?::\s*(.*?))?\s*\}\s*$")
_BRACKETS = re.compile(r"\[([^\]]*)\]")
_SECTION_DIRECTIVE = re.compile(r"^(start_of|end_of|so|eo)")


class _ChordProReader:
    """The state of one ChordPro file being read: the song's labels, the sections so far, the chords of this one."""

    def __init__(self, name: str) -> None:
        self.reading = FileReading(name, "chordpro")
        self.title, self.artist, self.key, self.capo = "", "", None, 0
        self.sections: list = []
        self.current: list[Chord] = []
        self.section_line = 1

    def close_section(self, next_line: int) -> None:
        """End the section in progress (kept when it has two chords or more); the next starts at ``next_line``."""
        if _keep_progression(self.current, self.reading, self.section_line):
            self.sections.append((self.current, self.key, f"from line {self.section_line}"))
        self.current, self.section_line = [], next_line

    def close_song(self, next_line: int) -> None:
        """End the song in progress and start a new one with fresh labels."""
        self.close_section(next_line)
        if self.sections:
            _add_song(self.reading, _song(self.reading.file, len(self.reading.songs), self.title, self.artist), self.sections)
        self.sections, self.title, self.artist, self.key, self.capo = [], "", "", None, 0

    def directive(self, word: str, value: str, number: int) -> None:
        """Apply one ``{word: value}`` directive found on line ``number``."""
        if word in ("new_song", "ns"):
            self.close_song(number + 1)
        elif word in ("title", "t"):
            if self.title or self.sections or self.current:  # a second title: ChordPro's songs are separated both ways
                self.close_song(number)
            self.title = value
        elif word in ("artist", "subtitle", "st"):
            self.artist = self.artist or value
        elif word == "key":
            self.close_section(number + 1)
            self.key = _key_value(value, self.reading, number)
        elif word == "capo":
            if value.isdigit():
                self.capo = int(value)
            else:
                self.reading.problems.append(Problem(self.reading.file, number, f"capo {value!r} is not a whole number "
                                                                                "of frets; read as 0"))
        elif _SECTION_DIRECTIVE.match(word):
            self.close_section(number + 1)

    def line(self, raw: str, number: int) -> None:
        """Read one line: a directive, a blank line (the end of a section) or text with ``[chords]``."""
        directive = _CHORDPRO_DIRECTIVE.match(raw)
        if raw.lstrip().startswith("#"):
            return
        if directive:
            self.directive(directive.group(1).lower(), (directive.group(2) or "").strip(), number)
        elif not raw.strip():
            self.close_section(number + 1)
        else:
            for token in _BRACKETS.findall(raw):
                chord = _read_token(token.strip(), self.reading, number, self.capo)
                if chord is not None:
                    self.current.append(chord)


def read_chordpro(name: str, text: str) -> FileReading:
    """ChordPro (module docstring): inline ``[C]`` chords, ``{title}``, ``{artist}``, ``{key}``, ``{capo}``, ``{new_song}``."""
    reader = _ChordProReader(name)
    lines = text.splitlines()
    for number, raw in enumerate(lines, start=1):
        reader.line(raw, number)
    reader.close_song(len(lines) + 1)
    return reader.reading


# --------------------------------------------------------------------------- MusicXML and MIDI (music21)


def _parse_music21(name: str, data: bytes, suffix: str, what: str):
    """A music21 score parsed from ``data`` (through a temporary file, so .mxl archives work); :class:`InputError` if not."""
    from music21 import converter

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return converter.parse(str(path))
        except Exception as error:  # noqa: BLE001 - music21 raises many kinds; each is the same message to the user
            reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
            raise InputError(f"{name}: cannot be read as {what} ({reason})") from None


def musicxml_documents(name: str, data: bytes) -> list[bytes]:
    """The XML documents of a MusicXML file: the file itself, or an ``.mxl`` archive's members (checked, bounded)."""
    if not data.startswith(b"PK"):
        return [data]
    check_archive(data, MXL_LIMITS, name)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return [read_member(archive, member, MAX_MXL_UNPACKED_BYTES) for member in archive.namelist()
                    if member.lower().endswith((".xml", ".musicxml")) and not member.startswith("META-INF/")]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, RuntimeError) as error:
        raise InputError(f"{name}: cannot be read as MusicXML (a damaged .mxl archive: {error})") from None


def check_musicxml_size(name: str, data: bytes) -> None:
    """:class:`InputError` when a MusicXML file holds more chord symbols or notes than the limits (counted linearly)."""
    documents = musicxml_documents(name, data)
    symbols = sum(document.count(b"<harmony") for document in documents)
    notes = sum(document.count(b"<note") for document in documents)
    if symbols > MAX_MUSICXML_CHORD_SYMBOLS:
        raise InputError(f"{name}: {symbols:,} chord symbols; at most {MAX_MUSICXML_CHORD_SYMBOLS:,} per MusicXML file "
                         "(split it into songs)")
    if notes > MAX_MUSICXML_NOTES:
        raise InputError(f"{name}: {notes:,} notes; at most {MAX_MUSICXML_NOTES:,} per MusicXML file "
                         "(keep the part with the chord symbols, or split it into songs)")


def read_musicxml(name: str, data: bytes) -> FileReading:
    """The chord symbols of a MusicXML file (module docstring); positions are measure numbers."""
    from music21 import harmony
    from music21 import key as m21key

    reading = FileReading(name, "musicxml")
    compressed = data.startswith(b"PK")
    if not compressed and not re.search(rb"<score-(partwise|timewise)", data[:65536]):
        raise InputError(f"{name}: not MusicXML (no <score-partwise> element)")
    check_musicxml_size(name, data)
    score = _parse_music21(name, data, ".mxl" if compressed else ".musicxml", "MusicXML")
    parts = list(score.parts) or [score]
    counts = [len(list(part.recurse().getElementsByClass(harmony.ChordSymbol))) for part in parts]
    best = max(range(len(parts)), key=lambda i: counts[i])
    if counts[best] == 0:
        reading.problems.append(Problem(name, None, "no chord symbols (<harmony> elements) in the file"))
        return reading
    for i, count in enumerate(counts):
        if count and i != best:
            reading.notes.append(Problem(name, None, f"{count} chord symbols of another part not used (they double part "
                                                     f"{best + 1}'s)"))
    chords: list[Chord] = []
    for symbol in parts[best].recurse().getElementsByClass(harmony.ChordSymbol):
        measure = symbol.measureNumber
        if isinstance(symbol, harmony.NoChord) or not symbol.pitches:
            reading.problems.append(Problem(name, measure, f"{symbol.figure!r} (no chord) skipped", "measure"))
            continue
        chord, mapped = from_pitch_classes(symbol.root().pitchClass, {p.pitchClass for p in symbol.pitches})
        if mapped:
            reading.notes.append(Problem(name, measure, f"{symbol.figure} read as {chord.symbol}", "measure"))
        chords.append(chord)
    signatures = list(parts[best].recurse().getElementsByClass(m21key.KeySignature))
    key = None
    if signatures:
        found = signatures[0] if isinstance(signatures[0], m21key.Key) else signatures[0].asKey("major")
        key = (found.tonic.pitchClass, "minor" if found.mode == "minor" else "major")
    title = score.metadata.title or score.metadata.movementName if score.metadata else ""
    _one_song(reading, chords, key, title or "")
    return reading


def _one_song(reading: FileReading, chords: list[Chord], key: tuple[int, str] | None, title: str) -> None:
    if _keep_progression(chords, reading, None):
        _add_song(reading, _song(reading.file, 0, title), [(chords, key, "")])


def midi_counts(data: bytes) -> tuple[int, int]:
    """``(events, notes)`` of a MIDI file, counted in one linear walk of its track chunks (notes: note-ons).

    A chunk or event cut short ends the walk (music21 then says what is wrong with the file).
    """
    events = notes = 0
    at = 0
    while at + 8 <= len(data):
        kind, size = data[at:at + 4], int.from_bytes(data[at + 4:at + 8], "big")
        body = data[at + 8: at + 8 + size]
        at += 8 + size
        if kind == b"MTrk":
            track_events, track_notes = _track_counts(body)
            events, notes = events + track_events, notes + track_notes
    return events, notes


def _track_counts(track: bytes) -> tuple[int, int]:
    """``(events, note-ons)`` of one MIDI track chunk's bytes (running status followed)."""
    events = notes = 0
    at, status = 0, 0
    data_bytes = {0x80: 2, 0x90: 2, 0xA0: 2, 0xB0: 2, 0xC0: 1, 0xD0: 1, 0xE0: 2}
    while at < len(track):
        while at < len(track) and track[at] & 0x80:  # the delta time: a variable-length number
            at += 1
        at += 1
        if at >= len(track):
            break
        if track[at] & 0x80:
            status, at = track[at], at + 1
        if status in (0xFF, 0xF0, 0xF7):  # a meta or system-exclusive event: (type,) length, data
            at += status == 0xFF
            length = 0
            while at < len(track):
                length, at = (length << 7) | (track[at] & 0x7F), at + 1
                if not track[at - 1] & 0x80:
                    break
            at += length
        elif status & 0xF0 in data_bytes:
            notes += status & 0xF0 == 0x90 and at + 1 < len(track) and track[at + 1] > 0
            at += data_bytes[status & 0xF0]
        else:
            break
        events += 1
    return events, notes


def check_midi_size(name: str, data: bytes) -> None:
    """:class:`InputError` when a MIDI file holds more notes or events than the limits (:func:`midi_counts`)."""
    events, notes = midi_counts(data)
    if notes > MAX_MIDI_NOTES:
        raise InputError(f"{name}: {notes:,} notes; at most {MAX_MIDI_NOTES:,} per MIDI file (keep the chord "
                         "instruments' tracks, or split it into songs)")
    if events > MAX_MIDI_EVENTS:
        raise InputError(f"{name}: {events:,} MIDI events; at most {MAX_MIDI_EVENTS:,} per file")


def read_midi(name: str, data: bytes) -> FileReading:
    """Chords from the simultaneous notes of a MIDI file (module docstring)."""
    reading = FileReading(name, "midi")
    if not data.startswith(b"MThd"):
        raise InputError(f"{name}: not a MIDI file (it does not start with 'MThd')")
    check_midi_size(name, data)
    score = _parse_music21(name, data, ".mid", "MIDI")
    chords: list[Chord] = []
    thin: list[int] = []
    short = 0
    for moment in score.chordify().recurse().getElementsByClass("Chord"):
        classes = {p.pitchClass for p in moment.pitches}
        if len(classes) < 3:
            thin.append(moment.measureNumber or 0)
            continue
        if moment.quarterLength < MIN_MIDI_CHORD_QUARTERS:
            short += 1
            continue
        chords.append(from_pitch_classes(moment.root().pitchClass, classes)[0])
    if thin:
        measures = sorted(set(thin))
        shown = ", ".join(map(str, measures[:8])) + (" …" if len(measures) > 8 else "")
        moments = "1 moment" if len(thin) == 1 else f"{len(thin)} moments"
        reading.problems.append(Problem(name, None, f"{moments} with fewer than three different notes (no chord) "
                                                    f"skipped, in measure{'s' if len(measures) > 1 else ''} {shown}"))
    if short:
        chords = "1 chord" if short == 1 else f"{short} chords"
        reading.problems.append(Problem(name, None, f"{chords} shorter than an eighth note (passing notes) skipped"))
    if not chords:
        reading.problems.append(Problem(name, None, "no chords: no moment with three or more notes sounding together"))
        return reading
    analysed = score.analyze("key")
    _one_song(reading, chords, (analysed.tonic.pitchClass, "minor" if analysed.mode == "minor" else "major"),
              Path(name).stem)
    return reading
