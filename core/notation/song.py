"""A song written down: MusicXML (chord symbols, rehearsal marks, a system per section), MIDI (markers) and WAV.

The chords are voiced and spelled once for the whole song by :func:`core.notation.score.build_score`
(voice-led across section boundaries, spelled in the song's key), so the song's notation, MIDI and
audio agree with every progression's. What differs from a progression is time: each chord lasts its
own number of beats of the song's time signature, so the writers here lay chords into bars
themselves:

- MusicXML (:func:`song_musicxml`, written as text): a grand staff in the song's time and key
  signature, a metronome mark, each section opening a new system with a rehearsal mark naming it
  (:func:`song_svg` engraves it with those systems),
  a ``<harmony>`` chord symbol at each chord's onset, each chord's notes held for its beats (tied
  across a bar line when a chord holds whole bars);
- MIDI (:func:`song_midi`, written byte by byte): tempo, time and key signature, each section's
  name and each chord's symbol as markers at their onsets, every note on once and off once;
- WAV (:func:`song_wav`): each chord rendered for its own length by :mod:`core.audio` and joined.

The song's tempo counts beats of its time signature (eighths in 6/8), so MIDI's quarter-note tempo
is ``tempo × quarters per beat``.
"""

from __future__ import annotations

import io
import json
import struct
import wave
from pathlib import Path
from xml.sax.saxutils import escape

from core import audio
from core.chords import QUALITIES
from core.notation.midi import MIDI_TICKS_PER_QUARTER, VELOCITY, _meta, _track
from core.notation.musicxml import _KIND_OF_QUALITY
from core.notation.score import Score, build_score
from core.song.chart import to_chordpro, to_text
from core.song.model import Song
from core.spelling import Note

#: MusicXML divisions per quarter note: an eighth-note beat is one division.
DIVISIONS = 2
#: bars per system within a section (the chart's bars per line): a long section wraps, every section starts a system.
BARS_PER_SYSTEM = 4
#: written note values in divisions (longest first): divisions -> (type, dotted).
_VALUES = ((12, "whole", True), (8, "whole", False), (6, "half", True), (4, "half", False), (3, "quarter", True),
           (2, "quarter", False), (1, "eighth", False))
_ACCIDENTALS = {-1: "flat", 0: "natural", 1: "sharp"}


def song_score(song: Song, voicing: str = "voice-led") -> Score:
    """Every chord of the song voiced and spelled in one :class:`core.notation.score.Score` (its beats unused here)."""
    chords = [chord for section in song.sections for chord in section.chords]
    return build_score(chords, song.title, key=song.spelling.key if song.key is not None else None,
                       bpm=song.tempo, voicing=voicing)


def chord_spans(song: Song) -> list[tuple[int, int, int, int]]:
    """Per chord of the song, in order: (section index, position in it, first beat in the song, beats)."""
    spans, start = [], 0
    for index, section in enumerate(song.sections):
        for position, (onset, beats) in enumerate(zip(section.onsets, section.durations, strict=True)):
            spans.append((index, position, start + onset, beats))
        start += section.bars * song.time.beats
    return spans


# --------------------------------------------------------------------------- MusicXML


def _pitch(midi: int, note: Note) -> str:
    octave = (midi - note.alter) // 12 - 1
    alter = f"<alter>{note.alter}</alter>" if note.alter else ""
    return f"<pitch><step>{note.letter}</step>{alter}<octave>{octave}</octave></pitch>"


def _harmony(score: Score, index: int) -> str:
    slash = score.chords[index]
    root = score.spelling.root(slash)
    bass = score.spelling.bass(slash)
    suffix = QUALITIES[slash.chord.quality][1]
    out = (f"<harmony><root><root-step>{root.letter}</root-step>"
           + (f"<root-alter>{root.alter}</root-alter>" if root.alter else "") + "</root>"
           + f'<kind text="{escape(suffix)}">{_KIND_OF_QUALITY[slash.chord.quality]}</kind>')
    if bass is not None:
        out += (f"<bass><bass-step>{bass.letter}</bass-step>"
                + (f"<bass-alter>{bass.alter}</bass-alter>" if bass.alter else "") + "</bass>")
    return out + "</harmony>"


def _values(divisions: int) -> list[tuple[int, str, bool]]:
    out = []
    while divisions > 0:
        value = next(v for v in _VALUES if v[0] <= divisions)
        out.append(value)
        divisions -= value[0]
    return out


class _Accidentals:
    """Which accidentals a measure must show: against the key signature and the notes before in the bar."""

    def __init__(self, fifths: int) -> None:
        sharps, flats = "FCGDAEB"[:max(fifths, 0)], "BEADGCF"[:max(-fifths, 0)]
        self.key = {letter: (1 if letter in sharps else -1 if letter in flats else 0) for letter in "CDEFGAB"}
        self.bar: dict[tuple[str, int], int] = {}

    def new_bar(self) -> None:
        self.bar = {}

    def shown(self, note: Note, octave: int) -> str:
        before = self.bar.get((note.letter, octave), self.key[note.letter])
        self.bar[(note.letter, octave)] = note.alter
        return "" if before == note.alter else f"<accidental>{_ACCIDENTALS.get(note.alter, 'natural')}</accidental>"


def _notes(pitches: list[tuple[int, Note]], divisions: int, staff: int, ties: tuple[bool, bool],
           accidentals: _Accidentals) -> str:
    """One chord's notes on one staff for ``divisions``, as tied written values; ties (in, out) of the whole."""
    out = []
    values = _values(divisions)
    for number, (length, kind, dotted) in enumerate(values):
        tie_in = ties[0] or number > 0
        tie_out = ties[1] or number < len(values) - 1
        for order, (midi, note) in enumerate(pitches):
            octave = (midi - note.alter) // 12 - 1
            shown = accidentals.shown(note, octave) if not tie_in else ""
            tie = ('<tie type="stop"/>' if tie_in else "") + ('<tie type="start"/>' if tie_out else "")
            notations = ('<tied type="stop"/>' if tie_in else "") + ('<tied type="start"/>' if tie_out else "")
            out.append("<note>" + ("<chord/>" if order else "") + _pitch(midi, note) + f"<duration>{length}</duration>"
                       + tie + f"<voice>{staff}</voice><type>{kind}</type>" + ("<dot/>" if dotted else "") + shown
                       + f"<staff>{staff}</staff>" + (f"<notations>{notations}</notations>" if notations else "")
                       + "</note>")
    return "".join(out)


def _attributes(song: Song, score: Score) -> str:
    key = (f"<key><fifths>{score.spelling.fifths}</fifths><mode>{score.spelling.mode}</mode></key>"
           if song.key is not None else "")
    return (f"<attributes><divisions>{DIVISIONS}</divisions>{key}<time><beats>{song.time.beats}</beats>"
            f"<beat-type>{song.time.unit}</beat-type></time><staves>2</staves>"
            '<clef number="1"><sign>G</sign><line>2</line></clef><clef number="2"><sign>F</sign><line>4</line></clef>'
            "</attributes>")


def _tempo(song: Song) -> str:
    unit = {4: "quarter", 8: "eighth", 2: "half"}[song.time.unit]
    return (f'<direction placement="above"><direction-type><metronome><beat-unit>{unit}</beat-unit>'
            f"<per-minute>{song.tempo}</per-minute></metronome></direction-type>"
            f'<sound tempo="{song.tempo * song.time.quarters_per_beat:g}"/></direction>')


def _pieces(song: Song) -> dict[int, list[tuple[int, int, int, bool, bool]]]:
    """Per bar (0-based): (chord index, beat in bar, beats, tied in, tied out) for each piece of a chord in it."""
    per_bar: dict[int, list[tuple[int, int, int, bool, bool]]] = {}
    for index, (_, _, start, beats) in enumerate(chord_spans(song)):
        beat, end = start, start + beats
        while beat < end:
            bar, in_bar = divmod(beat, song.time.beats)
            length = min(end - beat, song.time.beats - in_bar)
            per_bar.setdefault(bar, []).append((index, in_bar, length, beat > start, beat + length < end))
            beat += length
    return per_bar


def _measure(song: Song, score: Score, bar: int, pieces: list, accidentals: _Accidentals,
             head: str) -> str:
    per_beat = int(DIVISIONS * song.time.quarters_per_beat)
    accidentals.new_bar()
    upper, lower = [], []
    for index, _, beats, tied_in, tied_out in pieces:
        pitches = list(zip(score.voicings[index], score.spelled_notes(index), strict=True))
        if not tied_in:
            upper.append(_harmony(score, index))
        upper.append(_notes(pitches[1:] or pitches[:1], beats * per_beat, 1, (tied_in, tied_out), accidentals))
        lower.append(_notes(pitches[:1], beats * per_beat, 2, (tied_in, tied_out), accidentals))
    total = song.time.beats * per_beat
    final = bar == sum(s.bars for s in song.sections) - 1
    barline = '<barline location="right"><bar-style>light-heavy</bar-style></barline>' if final else ""
    return (f'<measure number="{bar + 1}">{head}{"".join(upper)}<backup><duration>{total}</duration></backup>'
            f'{"".join(lower)}{barline}</measure>')


def song_musicxml(song: Song, voicing: str = "voice-led") -> bytes:
    """The song as MusicXML 4.0 (UTF-8): a piano grand staff, chord symbols, each section a rehearsal mark opening
    a new system (and a new system every :data:`BARS_PER_SYSTEM` bars within it)."""
    score = song_score(song, voicing)
    pieces = _pieces(song)
    accidentals = _Accidentals(score.spelling.fifths if song.key is not None else 0)
    starts, breaks, bar = {}, set(), 0
    for section in song.sections:
        starts.setdefault(bar, section.name)
        breaks.update(range(bar, bar + section.bars, BARS_PER_SYSTEM))
        bar += section.bars
    measures = []
    for number in range(bar):
        head = '<print new-system="yes"/>' if number in breaks and number else ""
        if number == 0:
            head += _attributes(song, score) + _tempo(song)
        if number in starts:
            head += (f'<direction placement="above"><direction-type><rehearsal>{escape(starts[number])}</rehearsal>'
                     "</direction-type></direction>")
        measures.append(_measure(song, score, number, pieces.get(number, []), accidentals, head))
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n'
            f'<score-partwise version="4.0"><work><work-title>{escape(song.title)}</work-title></work>'
            "<identification><encoding><software>Chordsmith</software></encoding></identification>"
            '<part-list><score-part id="P1"><part-name print-object="no">Piano</part-name></score-part></part-list>'
            f'<part id="P1">{"".join(measures)}</part></score-partwise>\n')
    return text.encode("utf-8")


def song_svg(song: Song, voicing: str = "voice-led") -> str:
    """The song engraved by verovio as SVG, its systems where the MusicXML breaks them (a section starts one)."""
    from core.notation.svg import SVG_OPTIONS, verovio_toolkit

    toolkit = verovio_toolkit()
    toolkit.setOptions({**SVG_OPTIONS, "breaks": "encoded"})
    if not toolkit.loadData(song_musicxml(song, voicing).decode("utf-8")):
        raise RuntimeError(f"verovio could not read the song's MusicXML: {toolkit.getLog()}")
    return "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))


# --------------------------------------------------------------------------- MIDI


def song_midi(song: Song, voicing: str = "voice-led") -> bytes:
    """The song as a standard MIDI file (format 1): a conductor track with markers and a piano track."""
    score = song_score(song, voicing)
    per_beat = round(MIDI_TICKS_PER_QUARTER * song.time.quarters_per_beat)
    denominator = {2: 1, 4: 2, 8: 3}[song.time.unit]
    quarter_bpm = song.tempo * song.time.quarters_per_beat
    conductor = [(0, 0, _meta(0x03, song.title.encode("utf-8"))),
                 (0, 1, _meta(0x58, bytes([song.time.beats, denominator, 24, 8]))),
                 (0, 3, _meta(0x51, round(60_000_000 / quarter_bpm).to_bytes(3, "big")))]
    if song.key is not None:
        conductor.append((0, 2, _meta(0x59, struct.pack(">bB", score.spelling.fifths, song.key[1] == "minor"))))
    piano = [(0, 0, _meta(0x03, b"Piano")), (0, 1, bytes([0xC0, 0]))]
    for index, (section, position, start, beats) in enumerate(chord_spans(song)):
        tick, end = start * per_beat, (start + beats) * per_beat
        if position == 0:
            conductor.append((tick, 4, _meta(0x06, song.sections[section].name.encode("utf-8"))))
        conductor.append((tick, 5, _meta(0x06, score.symbols[index].encode("utf-8"))))
        for pitch in score.voicings[index]:
            piano.append((tick, 3, bytes([0x90, pitch, VELOCITY])))
            piano.append((end, 2, bytes([0x80, pitch, 0])))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 2, MIDI_TICKS_PER_QUARTER)
    return header + _track(conductor) + _track(piano)


# --------------------------------------------------------------------------- audio and files


def song_wav(song: Song, sections: list[int] | None = None, voicing: str = "voice-led",
             backend: audio.Backend = "auto") -> bytes:
    """The song (or only ``sections``) as WAV: each chord as voiced in the song, held for its own beats."""
    score = song_score(song, voicing)
    seconds_per_beat = 60.0 / song.tempo
    frames, params = [], None
    for index, (section, _, _, beats) in enumerate(chord_spans(song)):
        if sections is not None and section not in sections:
            continue
        data = audio.render_voicings([score.voicings[index]], beats * seconds_per_beat, backend)
        with wave.open(io.BytesIO(data), "rb") as reader:
            params = reader.getparams()
            frames.append(reader.readframes(reader.getnframes()))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setparams(params or (1, 2, audio.SAMPLE_RATE, 0, "NONE", "not compressed"))
        writer.writeframes(b"".join(frames))
    return buffer.getvalue()


def song_files(song: Song, voicing: str = "voice-led") -> dict[str, bytes]:
    """Every download of a song by file extension: MIDI, MusicXML, ChordPro, text chart, JSON."""
    return {"mid": song_midi(song, voicing), "musicxml": song_musicxml(song, voicing),
            "chordpro": to_chordpro(song).encode("utf-8"), "txt": to_text(song).encode("utf-8"),
            "json": (json.dumps(song.to_dict(), indent=2) + "\n").encode("utf-8")}


def write_song_files(song: Song, out_dir: str | Path, stem: str = "song") -> dict[str, Path]:
    """Write :func:`song_files` into ``out_dir`` as ``<stem>.<extension>``; their paths by extension."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for extension, data in song_files(song).items():
        paths[extension] = out_dir / f"{stem}.{extension}"
        paths[extension].write_bytes(data)
    return paths
