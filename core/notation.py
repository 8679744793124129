"""Progression -> piano score -> MusicXML, MIDI, SVG (verovio) and WAV; spelled in key, written directly.

:func:`build_score` decides everything once: each chord's bass and voicing (:mod:`core.voicing`:
voice-led or root position; a slash chord keeps its bass), its spelling in the key
(:mod:`core.spelling`: the requested key, else the guessed one) and its Roman numeral. The
exporters then only write that :class:`Score` down, so the symbols, notes and basses on the page,
in the MusicXML, in the MIDI and in the audio are the same:

- MusicXML (:func:`to_musicxml`, written as text, no music21): a grand staff, chord symbols as
  ``<harmony>`` (root, kind, bass), Roman numerals as lyrics, the key signature, the tempo;
- SVG (:func:`to_svg`): verovio engraves that MusicXML;
- MIDI (:func:`score_to_midi`, written byte by byte): tempo, time and key signature, a track
  name, each chord's symbol as a marker at its onset, every note on once and off once;
- WAV (:func:`score_to_wav`, :mod:`core.audio`): FluidSynth (in process) or a NumPy synth plays the voicing.

Writing the formats directly keeps a progression's notation, MIDI and MusicXML to a few
milliseconds (a music21 round trip costs tens); tests read the files back with music21.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

import verovio

from core import audio
from core.chords import QUALITIES, Chord, SlashChord, as_slash
from core.errors import InputError
from core.spelling import Note, Spelling
from core.voicing import VoicingStyle, voice_progression

DEFAULT_TEMPO = 100.0
DEFAULT_BEATS_PER_CHORD = 4
VELOCITY = 80
MIDI_TICKS_PER_QUARTER = 480
PIANO_TRACK_NAME = "Piano"

#: quality -> MusicXML ``<kind>`` value; the studio's suffix (``m7b5``, ``mM7``) goes in its ``text``.
_KIND_OF_QUALITY = {
    "maj": "major", "min": "minor", "7": "dominant", "maj7": "major-seventh", "min7": "minor-seventh",
    "dim": "diminished", "dim7": "diminished-seventh", "hdim7": "half-diminished", "aug": "augmented",
    "sus2": "suspended-second", "sus4": "suspended-fourth", "6": "major-sixth", "min6": "minor-sixth",
    "9": "dominant-ninth", "add9": "major", "minmaj7": "major-minor",
}
#: note values a held chord is written in, longest first: quarters -> (type, dotted).
_NOTE_VALUES = ((6, "whole", True), (4, "whole", False), (3, "half", True), (2, "half", False), (1, "quarter", False))
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_NAMES = {-1: "flat", 0: "natural", 1: "sharp"}


# --- the score ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Score:
    """A voiced, spelled progression ready to write down: what the page shows, plays and exports.

    ``key`` (tonic, mode) is the key signature and the Roman numerals' key, ``None`` for neither;
    ``spelling`` is that key's, or the guessed key's when ``key`` is ``None``. ``voicings`` hold
    each chord's MIDI pitches, bass first.
    """

    chords: tuple[SlashChord, ...]
    voicings: tuple[tuple[int, ...], ...]
    spelling: Spelling
    key: tuple[int, str] | None
    title: str
    bpm: float
    beats_per_chord: int

    @property
    def symbols(self) -> list[str]:
        """Each chord's symbol spelled in key, slash bass included (``G#m7b5``, ``C/E``)."""
        return self.spelling.symbols(self.chords)

    @property
    def romans(self) -> list[str]:
        """Each chord's Roman numeral in :attr:`key` with inversion figures (empty without a key)."""
        return [self.spelling.roman(c) for c in self.chords] if self.key is not None else []

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return progression_seconds(len(self.chords), self.bpm, self.beats_per_chord)

    def spelled_notes(self, index: int) -> list[Note]:
        """Names of chord ``index``'s pitches (bass first), as the chord spells its tones."""
        slash = self.chords[index]
        names = self.spelling.chord_notes(slash.chord)
        bass = self.spelling.bass(slash)
        return [bass if i == 0 and bass is not None else names.get(m % 12) or self.spelling.note(m)
                for i, m in enumerate(self.voicings[index])]

    def only(self, index: int) -> Score:
        """The score of chord ``index`` alone, voiced as in the progression (to audition one chord)."""
        return dataclasses.replace(self, chords=self.chords[index:index + 1], voicings=self.voicings[index:index + 1])


def validate_progression(chords: Sequence[Chord | SlashChord], beats_per_chord: int, bpm: float) -> None:
    """Raise :class:`InputError` for an empty progression, a fractional or silly beat count, or tempo."""
    if not chords:
        raise InputError("empty progression: nothing to notate")
    if int(beats_per_chord) != beats_per_chord or not 1 <= beats_per_chord <= 16:
        raise InputError(f"beats per chord must be a whole number from 1 to 16, not {beats_per_chord}")
    if not 20 <= bpm <= 300:
        raise InputError(f"tempo must be between 20 and 300 bpm, not {bpm}")


def build_score(
    chords: Sequence[Chord | SlashChord],
    title: str = "Progression",
    key: tuple[int, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    voicing: VoicingStyle = "voice-led",
) -> Score:
    """The voiced, spelled score of a progression (:class:`Score`).

    ``chords`` may be plain chords or :class:`SlashChord` (an inversion or a typed bass, kept).
    ``key`` (tonic pitch class, ``"major"``/``"minor"``) adds a key signature and Roman numerals;
    spelling follows it, or the key :func:`core.spelling.guess_key` reads when it is ``None``.
    Each chord lasts ``beats_per_chord`` quarter notes (one chord per 4/4 bar by default).
    """
    validate_progression(chords, beats_per_chord, bpm)
    slashes = tuple(as_slash(c) for c in chords)
    if key is not None:
        key = (key[0] % 12, key[1])
    return Score(
        chords=slashes,
        voicings=tuple(tuple(v) for v in voice_progression(slashes, voicing)),
        spelling=Spelling.for_chords(slashes, key),
        key=key,
        title=title,
        bpm=float(bpm),
        beats_per_chord=int(beats_per_chord),
    )


def progression_seconds(n_chords: int, bpm: float, beats_per_chord: float) -> float:
    """Length of a progression in seconds."""
    return n_chords * beats_per_chord * 60.0 / bpm


def beats_per_bar(beats_per_chord: int) -> int:
    """4 (4/4) when chords fill or divide whole bars, else one chord per bar of ``beats_per_chord``/4."""
    return 4 if beats_per_chord % 4 == 0 or 4 % beats_per_chord == 0 else beats_per_chord


# --- MusicXML -------------------------------------------------------------------------------------


def _note_values(quarters: int) -> list[tuple[int, str, bool]]:
    """A held length split into written note values, longest first (5 quarters: whole tied to quarter)."""
    values = []
    while quarters:
        value = next(v for v in _NOTE_VALUES if v[0] <= quarters)
        values.append(value)
        quarters -= value[0]
    return values


def _octave(midi_number: int, note: Note) -> int:
    """The written octave of ``note`` sounding at ``midi_number`` (B#3 sounds as C4 = 60)."""
    return (midi_number - note.alter - _LETTER_PC[note.letter]) // 12 - 1


def _pitch_xml(midi_number: int, note: Note) -> str:
    alter = f"<alter>{note.alter}</alter>" if note.alter else ""
    return f"<pitch><step>{note.letter}</step>{alter}<octave>{_octave(midi_number, note)}</octave></pitch>"


def _harmony_xml(score: Score, index: int, for_engraving: bool) -> str:
    """One ``<harmony>``: spelled root, kind (with the studio's suffix as its text) and slash bass.

    ``add9`` is a major kind with an added ninth degree; verovio would print the degree after the
    text (``Cadd9(add9)``), so the engraved copy leaves the degree out.
    """
    slash = score.chords[index]
    root, bass = score.spelling.root(slash), score.spelling.bass(slash)
    root_alter = f"<root-alter>{root.alter}</root-alter>" if root.alter else ""
    quality = slash.chord.quality
    parts = [f"<root><root-step>{root.letter}</root-step>{root_alter}</root>",
             f'<kind text="{escape(QUALITIES[quality][1])}">{_KIND_OF_QUALITY[quality]}</kind>']
    if bass is not None:
        bass_alter = f"<bass-alter>{bass.alter}</bass-alter>" if bass.alter else ""
        parts.append(f"<bass><bass-step>{bass.letter}</bass-step>{bass_alter}</bass>")
    if quality == "add9" and not for_engraving:
        parts.append("<degree><degree-value>9</degree-value><degree-alter>0</degree-alter>"
                     "<degree-type>add</degree-type></degree>")
    return f"<harmony>{''.join(parts)}<staff>1</staff></harmony>"


def _shown_accidentals(pitches: Sequence[tuple[int, Note]], in_force: dict[tuple[str, int], int],
                       key_alters: dict[str, int]) -> list[str | None]:
    """The accidental each note shows: one where its alteration differs from what its bar has in force.

    In force: the key signature, overridden for a letter in an octave by an earlier note of the
    bar (``in_force``, updated here), as engravers do; a natural cancels either.
    """
    shown = []
    for midi_number, note in pitches:
        place = (note.letter, _octave(midi_number, note))
        current = in_force.get(place, key_alters.get(note.letter, 0))
        shown.append(None if note.alter == current else _ACCIDENTAL_NAMES[note.alter])
        in_force[place] = note.alter
    return shown


def _chord_notes_xml(pitches: Sequence[tuple[int, Note]], quarters: int, staff: int, tie_in: bool, tie_out: bool,
                     lyric: str | None, accidentals: Sequence[str | None]) -> str:
    """A held chord (or bass note) of ``quarters`` in written values, tied within and across bars as asked.

    ``accidentals`` are shown on the chord's first written value (tied continuations show none).
    """
    values = _note_values(quarters)
    out = []
    for n, (length, kind, dotted) in enumerate(values):
        starts, stops = tie_out or n < len(values) - 1, tie_in or n > 0
        ties = ('<tie type="stop"/>' if stops else "") + ('<tie type="start"/>' if starts else "")
        tied = ('<tied type="stop"/>' if stops else "") + ('<tied type="start"/>' if starts else "")
        for voice_index, (midi_number, note) in enumerate(pitches):
            text = lyric if n == 0 and voice_index == 0 and lyric else None
            out.append(
                "<note>" + ("<chord/>" if voice_index else "") + _pitch_xml(midi_number, note)
                + f"<duration>{length}</duration>{ties}<voice>{staff}</voice><type>{kind}</type>"
                + ("<dot/>" if dotted else "")
                + (f"<accidental>{accidentals[voice_index]}</accidental>" if n == 0 and accidentals[voice_index] else "")
                + f"<staff>{staff}</staff>" + (f"<notations>{tied}</notations>" if tied else "")
                + (f'<lyric number="1"><syllabic>single</syllabic><text>{escape(text)}</text></lyric>' if text else "")
                + "</note>"
            )
    return "".join(out)


def _rest_xml(quarters: int, staff: int) -> str:
    return "".join(f"<note><rest/><duration>{length}</duration><voice>{staff}</voice><type>{kind}</type>"
                   + ("<dot/>" if dotted else "") + f"<staff>{staff}</staff></note>"
                   for length, kind, dotted in _note_values(quarters))


def _first_measure_head(score: Score, for_engraving: bool) -> str:
    """Attributes (divisions, key, time, two staves and clefs) and the tempo of bar 1 (a mark, or only its sound)."""
    key = ""
    if score.key is not None:
        key = f"<key><fifths>{score.spelling.fifths}</fifths><mode>{score.key[1]}</mode></key>"
    bar = beats_per_bar(score.beats_per_chord)
    attributes = (f"<attributes><divisions>1</divisions>{key}<time><beats>{bar}</beats><beat-type>4</beat-type></time>"
                  "<staves>2</staves><clef number=\"1\"><sign>G</sign><line>2</line></clef>"
                  "<clef number=\"2\"><sign>F</sign><line>4</line></clef></attributes>")
    bpm = f"{score.bpm:g}"
    if for_engraving:
        return attributes + f'<sound tempo="{bpm}"/>'
    return attributes + ('<direction placement="above"><direction-type><metronome parentheses="no">'
                         f"<beat-unit>quarter</beat-unit><per-minute>{bpm}</per-minute></metronome></direction-type>"
                         f'<staff>1</staff><sound tempo="{bpm}"/></direction>')


def _header_credits(score: Score) -> str:
    """The title, and below it on the left the tempo mark, as page credits (the engraved header)."""
    return ('<credit page="1"><credit-type>title</credit-type><credit-words justify="center" halign="center" valign="top">'
            f"{escape(score.title)}</credit-words></credit>"
            '<credit page="1"><credit-words justify="left" halign="left" valign="bottom" font-weight="bold">'
            f"\u2669 = {score.bpm:g}</credit-words></credit>")


def _staff_xml(score: Score, staff: int, start: int, bar: int, for_engraving: bool) -> str:
    """One staff's content of the bar starting at beat ``start``: chord symbols, held notes, a closing rest."""
    per_chord, total = score.beats_per_chord, len(score.chords) * score.beats_per_chord
    romans = score.romans
    key_alters = {note.letter: note.alter for note in score.spelling.scale} if score.key is not None else {}
    in_force: dict[tuple[str, int], int] = {}
    out, beat = [], start
    while beat < min(start + bar, total):
        index, into = divmod(beat, per_chord)
        length = min(per_chord - into, start + bar - beat)
        spelled = list(zip(score.voicings[index], score.spelled_notes(index), strict=True))
        pitches = spelled[1:] if staff == 1 else spelled[:1]
        lyric = romans[index] if staff == 1 and romans and into == 0 else None
        if staff == 1 and into == 0:
            out.append(_harmony_xml(score, index, for_engraving))
        shown = [None] * len(pitches) if into > 0 else _shown_accidentals(pitches, in_force, key_alters)
        out.append(_chord_notes_xml(pitches, length, staff, into > 0, into + length < per_chord, lyric, shown))
        beat += length
    if beat < start + bar:
        out.append(_rest_xml(start + bar - beat, staff))
    return "".join(out)


def to_musicxml(score: Score, for_engraving: bool = False) -> bytes:
    """The score as MusicXML 4.0 (UTF-8): one piano part on a grand staff, symbols, numerals, key and tempo.

    The tempo is a metronome mark over bar 1. ``for_engraving=True`` (what :func:`to_svg` hands
    verovio) writes the title and the tempo as header credits instead, so the tempo mark sits
    above the system on its own line and never collides with a chord symbol (verovio does not
    keep the two apart), and leaves out what verovio would print twice (an ``add9``'s degree).
    """
    bar = beats_per_bar(score.beats_per_chord)
    total = len(score.chords) * score.beats_per_chord
    measures = []
    for number, start in enumerate(range(0, total, bar), start=1):
        head = _first_measure_head(score, for_engraving) if number == 1 else ""
        final = start + bar >= total
        barline = '<barline location="right"><bar-style>light-heavy</bar-style></barline>' if final else ""
        staves = _staff_xml(score, 1, start, bar, for_engraving), _staff_xml(score, 2, start, bar, for_engraving)
        measures.append(f'<measure number="{number}">{head}{staves[0]}'
                        f"<backup><duration>{bar}</duration></backup>{staves[1]}{barline}</measure>")
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n'
            f'<score-partwise version="4.0"><work><work-title>{escape(score.title)}</work-title></work>'
            "<identification><encoding><software>Chordsmith</software></encoding></identification>"
            + (_header_credits(score) if for_engraving else "")
            + f'<part-list><score-part id="P1"><part-name print-object="no">{PIANO_TRACK_NAME}</part-name></score-part>'
            f'</part-list><part id="P1">{"".join(measures)}</part></score-partwise>\n')
    return text.encode("utf-8")


# --- MIDI -----------------------------------------------------------------------------------------


def _variable_length(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def _meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + _variable_length(len(data)) + data


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """An ``MTrk`` chunk from (tick, order, event bytes), sorted by tick then order, ended properly."""
    body, now = bytearray(), 0
    for tick, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        body += _variable_length(tick - now) + event
        now = tick
    body += _variable_length(0) + _meta(0x2F, b"")
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def score_to_midi(score: Score) -> bytes:
    """A standard MIDI file (format 1): a conductor track and one piano track, every note sounding once.

    Conductor: the title as track name, time signature, key signature (when the score has a
    key), tempo, and each chord's spelled symbol as a marker at its onset. Piano: program 0 on
    channel 1, each chord's voicing held for its beats; at a shared tick note-offs come first.
    """
    ticks = score.beats_per_chord * MIDI_TICKS_PER_QUARTER
    conductor = [(0, 0, _meta(0x03, score.title.encode("utf-8"))),
                 (0, 1, _meta(0x58, bytes([beats_per_bar(score.beats_per_chord), 2, 24, 8]))),
                 (0, 3, _meta(0x51, round(60_000_000 / score.bpm).to_bytes(3, "big")))]
    if score.key is not None:
        mode = 1 if score.key[1] == "minor" else 0
        conductor.append((0, 2, _meta(0x59, struct.pack(">bB", score.spelling.fifths, mode))))
    conductor += [(i * ticks, 4, _meta(0x06, symbol.encode("utf-8"))) for i, symbol in enumerate(score.symbols)]
    piano = [(0, 0, _meta(0x03, PIANO_TRACK_NAME.encode())), (0, 1, bytes([0xC0, 0]))]
    for i, pitches in enumerate(score.voicings):
        for pitch in pitches:
            piano.append((i * ticks, 3, bytes([0x90, pitch, VELOCITY])))
            piano.append(((i + 1) * ticks, 2, bytes([0x80, pitch, 0])))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 2, MIDI_TICKS_PER_QUARTER)
    return header + _track(conductor) + _track(piano)


def to_midi(
    chords: Sequence[Chord | SlashChord],
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    key: tuple[int, str] | None = None,
    voicing: VoicingStyle = "voice-led",
    title: str = "Progression",
) -> bytes:
    """A standard MIDI file of the voiced progression (:func:`score_to_midi` of :func:`build_score`)."""
    return score_to_midi(build_score(chords, title, key=key, bpm=bpm, beats_per_chord=beats_per_chord, voicing=voicing))


# --- SVG ------------------------------------------------------------------------------------------


def verovio_toolkit() -> verovio.toolkit:
    """A verovio toolkit with its resource path set explicitly (needed off the main thread, e.g. Streamlit)."""
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).resolve().parent / "data"))
    return toolkit


SVG_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 60000,  # verovio's maximum: everything on one page, then trimmed to fit
    "adjustPageHeight": True,
    "scale": 45,
    "breaks": "auto",
    "header": "auto",
    "footer": "none",
    "pageMarginTop": 40,
    "pageMarginBottom": 40,
    "pageMarginLeft": 40,
    "pageMarginRight": 40,
    "minLastJustification": 0.0,  # every system fills the width: short chords keep their symbols apart
}


def to_svg(score_or_musicxml: Score | bytes | str, width: int = 2100, scale: int = 45) -> str:
    """The score engraved by verovio as SVG text (all pages; one page for any usual progression length).

    Accepts a :class:`Score` (engraved with its title and tempo mark in the header, see
    :func:`to_musicxml`) or MusicXML (bytes or text). Safe to call from worker threads.
    """
    if isinstance(score_or_musicxml, Score):
        score_or_musicxml = to_musicxml(score_or_musicxml, for_engraving=True)
    musicxml = score_or_musicxml.decode("utf-8") if isinstance(score_or_musicxml, bytes) else score_or_musicxml
    toolkit = verovio_toolkit()
    toolkit.setOptions({**SVG_OPTIONS, "pageWidth": width, "scale": scale})
    if not toolkit.loadData(musicxml):
        raise RuntimeError(f"verovio could not read the MusicXML: {toolkit.getLog()}")
    return "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))


# --- audio ------------------------------------------------------------------------------------------


def synth_backend(backend: audio.Backend = "auto") -> Literal["fluidsynth", "numpy"]:
    """Which synthesiser :func:`score_to_wav` uses: ``fluidsynth`` (installed, with a GM soundfont) or ``numpy``."""
    return audio.synth_backend(backend)


def score_to_wav(score: Score, backend: audio.Backend = "auto") -> bytes:
    """The score's voicing as 44.1 kHz 16-bit WAV bytes, exactly ``len(chords) * beats_per_chord`` beats long.

    ``backend``: ``"auto"`` (FluidSynth if installed, falling back to NumPy if it fails),
    ``"fluidsynth"`` (raise :class:`core.audio.AudioError` if unavailable or failing) or
    ``"numpy"``. FluidSynth gives stereo General MIDI piano, NumPy a mono additive synth.
    """
    return audio.render_voicings(score.voicings, score.seconds / len(score.chords), backend)


def to_wav(
    chords: Sequence[Chord | SlashChord],
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
    voicing: VoicingStyle = "voice-led",
) -> bytes:
    """The voiced progression as WAV bytes (:func:`score_to_wav` of :func:`build_score`)."""
    return score_to_wav(build_score(chords, bpm=bpm, beats_per_chord=beats_per_chord, voicing=voicing), backend)


def chord_wav(score: Score, index: int, backend: audio.Backend = "auto") -> bytes:
    """Chord ``index`` alone as WAV, voiced as it sounds in the progression (to hear it before choosing)."""
    if not 0 <= index < len(score.chords):
        raise InputError(f"chord {index + 1} is outside the progression (1..{len(score.chords)})")
    return score_to_wav(score.only(index), backend)


# --- everything at once ----------------------------------------------------------------------------


def export_progression(
    chords: Sequence[Chord | SlashChord],
    out_dir: str | Path,
    stem: str = "progression",
    title: str | None = None,
    key: tuple[int, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
    voicing: VoicingStyle = "voice-led",
) -> dict[str, Path]:
    """Write ``<stem>.mid``, ``.musicxml``, ``.svg`` and ``.wav`` into ``out_dir``; return their paths by extension.

    The title defaults to the spelled symbols.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    score = build_score(chords, "", key=key, bpm=bpm, beats_per_chord=beats_per_chord, voicing=voicing)
    score = dataclasses.replace(score, title=title or " ".join(score.symbols))
    musicxml = to_musicxml(score)
    contents: dict[str, bytes] = {
        "mid": score_to_midi(score),
        "musicxml": musicxml,
        "svg": to_svg(score).encode("utf-8"),
        "wav": score_to_wav(score, backend),
    }
    paths = {}
    for extension, data in contents.items():
        paths[extension] = out_dir / f"{stem}.{extension}"
        paths[extension].write_bytes(data)
    return paths

