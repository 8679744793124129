"""Progression -> voiced music21 score -> MusicXML / MIDI / SVG (verovio); audio lives in :mod:`core.audio`.

A progression is voiced once (:func:`voice_progression`): the bass plays each root in octave 3 and
the upper voices move as little as possible from chord to chord, like a pianist's right hand.
The voicing becomes a piano score (:func:`build_score`): chord symbols and, given a key, Roman
numerals over the treble staff, the roots on a bass staff, one chord per bar by default. Music
stays music21 objects until the export functions turn it into bytes or text: MusicXML, MIDI,
SVG (verovio) and WAV (:mod:`core.audio`: FluidSynth, or a NumPy synth). :func:`export_progression`
writes all four.
"""

from __future__ import annotations

import copy
import itertools
import logging
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import verovio
from music21 import chord as m21chord
from music21 import clef, harmony, layout, metadata, meter, midi, note, pitch, stream, tempo
from music21 import key as m21key

from core import audio
from core.chords import ROOTS, Chord, roman_numeral
from core.errors import InputError

log = logging.getLogger(__name__)

DEFAULT_TEMPO = 100.0
DEFAULT_BEATS_PER_CHORD = 4
#: Upper voices live in this MIDI range (G3..C5), around middle C.
UPPER_LOW, UPPER_HIGH = 55, 72
#: Centre of the upper voices: the first chord starts near it and ties are broken towards it.
UPPER_CENTRE = 64
BASS_OCTAVE_C = 48  # C3
VELOCITY = 80

#: quality -> MusicXML chord kind (music21 ``ChordSymbol(kind=...)``); add9 has no kind of its own.
_KIND_OF_QUALITY = {
    "maj": "major", "min": "minor", "7": "dominant", "maj7": "major-seventh", "min7": "minor-seventh",
    "dim": "diminished", "dim7": "diminished-seventh", "hdim7": "half-diminished", "aug": "augmented",
    "sus2": "suspended-second", "sus4": "suspended-fourth", "6": "major-sixth", "min6": "minor-sixth",
    "9": "dominant-ninth", "minmaj7": "major-minor",
}


# --- voicing --------------------------------------------------------------------------------------


def upper_pitch_classes(chord: Chord) -> list[int]:
    """The pitch classes the upper voices play: all of the chord's, except a five-note chord drops its fifth."""
    intervals = sorted(chord.intervals)
    if len(intervals) > 4 and 7 in intervals:
        intervals.remove(7)
    return [(chord.root + i) % 12 for i in intervals]


def _candidate_voicings(pitch_classes: Sequence[int], above: int) -> list[tuple[int, ...]]:
    """Every voicing of the pitch classes within the upper range, above ``above``, spanning at most an octave."""
    options = [[m for m in range(max(UPPER_LOW, above + 1), UPPER_HIGH + 1) if m % 12 == pc] for pc in pitch_classes]
    voicings = set()
    for notes in itertools.product(*options):
        ordered = tuple(sorted(notes))
        if ordered[-1] - ordered[0] <= 12:
            voicings.add(ordered)
    return sorted(voicings)


def voice_distance(previous: Sequence[int], current: Sequence[int]) -> int:
    """Total semitones the voices move from ``previous`` to ``current`` (both sorted).

    Equal sizes pair voices in order. When sizes differ, one note of the smaller chord is
    doubled (splitting or merging two voices), choosing the doubling that moves least.
    """
    if len(previous) == len(current):
        return sum(abs(a - b) for a, b in zip(previous, current, strict=True))
    small, large = (previous, current) if len(previous) < len(current) else (current, previous)
    best = None
    for padded in itertools.combinations_with_replacement(small, len(large)):
        if set(padded) == set(small):
            cost = sum(abs(a - b) for a, b in zip(sorted(padded), large, strict=True))
            best = cost if best is None else min(best, cost)
    return best if best is not None else 0


def _centre_offset(voicing: Sequence[int]) -> float:
    return abs(sum(voicing) / len(voicing) - UPPER_CENTRE)


def _first_voicing(candidates: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Close position near middle C: the lowest note nearest C4, then the narrowest, then the lowest."""
    return min(candidates, key=lambda v: (abs(v[0] - 60), v[-1] - v[0], v))


def _next_voicing(previous: Sequence[int], candidates: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The candidate that moves least from ``previous``; ties go to the one nearest the centre, then the lowest."""
    return min(candidates, key=lambda v: (voice_distance(previous, v), _centre_offset(v), v))


def bass_pitch(chord: Chord) -> int:
    """The bass note: the chord's root in octave 3 (MIDI 48..59)."""
    return BASS_OCTAVE_C + chord.root


def voice_progression(chords: Sequence[Chord]) -> list[list[int]]:
    """Voice-led MIDI pitches for each chord: ``[bass, upper voices ascending...]``.

    The bass is the root in octave 3; the upper voices (3 or 4 notes, within G3..C5, above the
    bass, spanning at most an octave) start in close position near middle C and then take, for
    each chord, the inversion that moves the fewest total semitones. Deterministic.
    """
    voicings: list[list[int]] = []
    previous: tuple[int, ...] | None = None
    for chord in chords:
        bass = bass_pitch(chord)
        candidates = _candidate_voicings(upper_pitch_classes(chord), above=bass)
        upper = _first_voicing(candidates) if previous is None else _next_voicing(previous, candidates)
        voicings.append([bass, *upper])
        previous = upper
    return voicings


# --- score ----------------------------------------------------------------------------------------


def music21_root_name(pitch_class: int) -> str:
    """music21's name for one of the studio's root spellings (``Bb`` -> ``B-``)."""
    return ROOTS[pitch_class % 12].replace("b", "-")


def chord_symbol(chord: Chord) -> harmony.ChordSymbol:
    """A music21 chord symbol for ``chord``, displayed with the studio's own suffix (``m7b5``, ``mM7``)."""
    root = music21_root_name(chord.root)
    if chord.quality in _KIND_OF_QUALITY:
        symbol = harmony.ChordSymbol(root=root, kind=_KIND_OF_QUALITY[chord.quality])
    else:
        symbol = harmony.ChordSymbol(root + chord.symbol[len(ROOTS[chord.root]):])
    symbol.chordKindStr = chord.symbol[len(ROOTS[chord.root]):]
    return symbol


def _spelled(midi_number: int, names: dict[int, str]) -> pitch.Pitch:
    """A pitch at ``midi_number`` spelled with the chord's own note name for its pitch class."""
    spelled = pitch.Pitch(names.get(midi_number % 12, pitch.Pitch(midi=midi_number).name))
    spelled.octave = 4
    spelled.octave += (midi_number - spelled.midi) // 12
    return spelled


def _time_signature(beats_per_chord: int) -> meter.TimeSignature:
    """4/4 when chords fill or divide whole bars, else one chord per bar of ``beats_per_chord``/4."""
    if beats_per_chord % 4 == 0 or 4 % beats_per_chord == 0:
        return meter.TimeSignature("4/4")
    return meter.TimeSignature(f"{beats_per_chord}/4")


def validate_progression(chords: Sequence[Chord], beats_per_chord: int, bpm: float) -> None:
    """Raise :class:`InputError` for an empty progression, a fractional or silly beat count, or tempo."""
    if not chords:
        raise InputError("empty progression: nothing to notate")
    if int(beats_per_chord) != beats_per_chord or not 1 <= beats_per_chord <= 16:
        raise InputError(f"beats per chord must be a whole number from 1 to 16, not {beats_per_chord}")
    if not 20 <= bpm <= 300:
        raise InputError(f"tempo must be between 20 and 300 bpm, not {bpm}")


def _staff(name: str, staff_clef: clef.Clef, beats_per_chord: int, bpm: float | None) -> stream.PartStaff:
    staff = stream.PartStaff(id=name)
    staff.append(staff_clef)
    staff.append(_time_signature(beats_per_chord))
    if bpm is not None:
        staff.append(tempo.MetronomeMark(number=bpm))
    return staff


def _block_chord(pitches: Sequence[int], names: dict[int, str], beats: int) -> m21chord.Chord | note.Note:
    spelled = [_spelled(m, names) for m in pitches]
    element = note.Note(spelled[0]) if len(spelled) == 1 else m21chord.Chord(spelled)
    element.quarterLength = beats
    element.volume.velocity = VELOCITY
    return element


def build_score(
    chords: Sequence[Chord],
    title: str = "Progression",
    key: tuple[int, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    chord_symbols: bool = True,
) -> stream.Score:
    """A piano score of the voiced progression.

    Treble staff: the upper voices as block chords, chord symbols above (``harmony.ChordSymbol``)
    and, when ``key`` (tonic pitch class, ``"major"``/``"minor"``) is given, Roman numerals as
    lyrics and the key signature. Bass staff: the roots. Each chord lasts ``beats_per_chord``
    quarter notes (one chord per 4/4 bar by default). ``chord_symbols=False`` leaves the symbols
    out (what MIDI wants).
    """
    validate_progression(chords, beats_per_chord, bpm)
    treble = _staff("right-hand", clef.TrebleClef(), beats_per_chord, bpm)
    bass = _staff("left-hand", clef.BassClef(), beats_per_chord, None)
    if key is not None:
        for staff in (treble, bass):
            staff.insert(0, _key_signature(key))
    for chord, (root, *upper) in zip(chords, voice_progression(chords), strict=True):
        symbol = chord_symbol(chord)
        names = {p.pitchClass: p.name for p in symbol.pitches}
        block = _block_chord(upper, names, beats_per_chord)
        if key is not None:
            block.addLyric(roman_numeral(chord, key[0], key[1]))
        if chord_symbols:
            treble.append(symbol)
        treble.append(block)
        bass.append(_block_chord([root], names, beats_per_chord))
    score = stream.Score(id="progression")
    score.metadata = metadata.Metadata(title=title)
    for staff in (treble, bass):
        score.insert(0, _without_symbol_naturals(staff.makeNotation()))
    score.insert(0, _piano_brace(score))
    return score


def _without_symbol_naturals(staff: stream.PartStaff) -> stream.PartStaff:
    """Undo the courtesy naturals ``makeAccidentals`` puts on chord-symbol pitches (an ``A♮m`` after ``Dm7b5``)."""
    for symbol in staff.recurse().getElementsByClass(harmony.ChordSymbol):
        for symbol_pitch in symbol.pitches:
            if symbol_pitch.accidental is not None and symbol_pitch.accidental.name == "natural":
                symbol_pitch.accidental = None
    return staff


def _key_signature(tonic_and_scale: tuple[int, str]) -> m21key.Key:
    tonic, scale_type = tonic_and_scale
    if scale_type not in ("major", "minor"):
        raise InputError(f"unknown scale type {scale_type!r}; accepted: major, minor")
    name = music21_root_name(tonic)
    return m21key.Key(name.lower() if scale_type == "minor" else name, scale_type)


def _piano_brace(score: stream.Score) -> layout.StaffGroup:
    return layout.StaffGroup(list(score.parts), symbol="brace", barTogether=True)


# --- export ---------------------------------------------------------------------------------------


def to_musicxml(score: stream.Score) -> bytes:
    """The score as MusicXML (UTF-8 bytes)."""
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    return GeneralObjectExporter(score).parse()


def without_chord_symbols(score: stream.Score) -> stream.Score:
    """A copy of ``score`` with every ``harmony.ChordSymbol`` removed (MIDI export would sound them)."""
    stripped = copy.deepcopy(score)
    for symbol in list(stripped.recurse().getElementsByClass(harmony.ChordSymbol)):
        symbol.activeSite.remove(symbol)
    return stripped


def score_to_midi(score: stream.Score) -> bytes:
    """A standard MIDI file of ``score``, chord symbols stripped so nothing sounds twice."""
    midi_file = midi.translate.streamToMidiFile(without_chord_symbols(score))
    return midi_file.writestr()


def to_midi(
    chords: Sequence[Chord],
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
) -> bytes:
    """A standard MIDI file of the voiced progression (piano, one track per staff, tempo set)."""
    score = build_score(chords, bpm=bpm, beats_per_chord=beats_per_chord, chord_symbols=False)
    return score_to_midi(score)


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
}


def to_svg(score_or_musicxml: stream.Score | bytes | str, width: int = 2100, scale: int = 45) -> str:
    """The score engraved by verovio as SVG text (all pages; one page for any usual progression length).

    Accepts a music21 score or MusicXML (bytes or text). Safe to call from worker threads.
    """
    if isinstance(score_or_musicxml, stream.Score):
        musicxml = to_musicxml(score_or_musicxml).decode("utf-8")
    elif isinstance(score_or_musicxml, bytes):
        musicxml = score_or_musicxml.decode("utf-8")
    else:
        musicxml = score_or_musicxml
    toolkit = verovio_toolkit()
    toolkit.setOptions({**SVG_OPTIONS, "pageWidth": width, "scale": scale})
    if not toolkit.loadData(musicxml):
        raise RuntimeError(f"verovio could not read the MusicXML: {toolkit.getLog()}")
    return "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))


# --- audio ------------------------------------------------------------------------------------------


def progression_seconds(n_chords: int, bpm: float, beats_per_chord: float) -> float:
    """Length of a progression in seconds."""
    return n_chords * beats_per_chord * 60.0 / bpm


def synth_backend(backend: audio.Backend = "auto") -> Literal["fluidsynth", "numpy"]:
    """Which synthesiser :func:`to_wav` uses: ``fluidsynth`` (installed, with a GM soundfont) or ``numpy``."""
    return audio.synth_backend(backend)


def to_wav(
    chords: Sequence[Chord],
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
) -> bytes:
    """The voiced progression as 44.1 kHz 16-bit WAV bytes, exactly ``len(chords) * beats_per_chord`` beats long.

    ``backend``: ``"auto"`` (FluidSynth if installed, falling back to NumPy if it fails),
    ``"fluidsynth"`` (raise :class:`core.audio.AudioError` if unavailable or failing) or
    ``"numpy"``. FluidSynth gives stereo General MIDI piano, NumPy a mono additive synth.
    """
    validate_progression(chords, beats_per_chord, bpm)
    seconds = progression_seconds(len(chords), bpm, beats_per_chord)
    if synth_backend(backend) == "fluidsynth":
        try:
            return audio.render_midi_fluidsynth(to_midi(chords, bpm=bpm, beats_per_chord=beats_per_chord), seconds)
        except (audio.AudioError, OSError, subprocess.TimeoutExpired) as error:
            if backend == "fluidsynth":
                raise audio.AudioError(str(error)) from error
            log.warning("FluidSynth failed, using the NumPy synth instead: %s", error)
    samples = audio.synth_voicings(voice_progression(chords), seconds / len(chords))
    return audio.samples_to_wav(samples)


# --- everything at once ----------------------------------------------------------------------------


def export_progression(
    chords: Sequence[Chord],
    out_dir: str | Path,
    stem: str = "progression",
    title: str | None = None,
    key: tuple[int, str] | None = None,
    bpm: float = DEFAULT_TEMPO,
    beats_per_chord: int = DEFAULT_BEATS_PER_CHORD,
    backend: audio.Backend = "auto",
) -> dict[str, Path]:
    """Write ``<stem>.mid``, ``.musicxml``, ``.svg`` and ``.wav`` into ``out_dir``; return their paths by extension."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    score = build_score(chords, title or " ".join(c.symbol for c in chords), key=key, bpm=bpm,
                        beats_per_chord=beats_per_chord)
    contents: dict[str, bytes] = {
        "mid": score_to_midi(score),
        "musicxml": to_musicxml(score),
        "svg": to_svg(score).encode("utf-8"),
        "wav": to_wav(chords, bpm=bpm, beats_per_chord=beats_per_chord, backend=backend),
    }
    paths = {}
    for extension, data in contents.items():
        paths[extension] = out_dir / f"{stem}.{extension}"
        paths[extension].write_bytes(data)
    return paths
