"""Voicing, score, MusicXML, MIDI, SVG and WAV export of progressions (core.notation, core.audio)."""

from __future__ import annotations

import io
import threading
import wave

import pytest
from music21 import chord as m21chord
from music21 import converter, harmony, midi

from core import audio, notation
from core.chords import QUALITY_NAMES, Chord, parse_progression
from core.errors import InputError

POP = parse_progression("C Am F G")
EIGHT = parse_progression("C Am7 Fmaj7 G7 Em Bbmaj7 Dm7b5 C9")
EVERY_QUALITY = [Chord((i * 7) % 12, quality) for i, quality in enumerate(QUALITY_NAMES)]


def note_events(midi_bytes: bytes) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(note-ons, note-offs) as (channel, pitch); a note-on with velocity 0 counts as a note-off."""
    midi_file = midi.MidiFile()
    midi_file.readstr(midi_bytes)
    ons, offs = [], []
    for track in midi_file.tracks:
        for event in track.events:
            if event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity > 0:
                ons.append((event.channel, event.pitch))
            elif event.type in (midi.ChannelVoiceMessages.NOTE_OFF, midi.ChannelVoiceMessages.NOTE_ON):
                offs.append((event.channel, event.pitch))
    return ons, offs


def wav_seconds(wav_bytes: bytes) -> float:
    assert wav_bytes[:4] == b"RIFF" and wav_bytes[8:12] == b"WAVE"
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        assert reader.getsampwidth() == 2 and reader.getframerate() == 44100
        assert reader.getnframes() > 0
        return reader.getnframes() / reader.getframerate()


# --- voicing --------------------------------------------------------------------------------------


def test_voicing_keeps_common_tones_and_roots_in_octave_3():
    voicings = notation.voice_progression(POP)
    assert [v[0] for v in voicings] == [48, 57, 53, 55]  # C3 A3 F3 G3
    uppers = [v[1:] for v in voicings]
    assert uppers[0] == [60, 64, 67]  # close position at middle C
    assert {60, 64} <= set(uppers[1])  # C -> Am keeps C4 and E4
    assert {60, 69} <= set(uppers[2])  # Am -> F keeps C4 and A4
    for before, after in zip(uppers, uppers[1:], strict=False):
        assert notation.voice_distance(before, after) <= 6


def test_voicing_moves_least_among_all_candidates():
    voicings = notation.voice_progression(EIGHT)
    for chord, before, after in zip(EIGHT[1:], voicings, voicings[1:], strict=False):
        candidates = notation._candidate_voicings(notation.upper_pitch_classes(chord), above=after[0])
        best = min(notation.voice_distance(before[1:], c) for c in candidates)
        assert notation.voice_distance(before[1:], after[1:]) == best


@pytest.mark.parametrize("chord", EVERY_QUALITY, ids=lambda c: c.symbol)
def test_voicing_is_playable_for_every_quality(chord):
    (bass, *upper), = notation.voice_progression([chord])
    assert 48 <= bass <= 59 and bass % 12 == chord.root
    assert 3 <= len(upper) <= 4 and upper == sorted(upper)
    assert notation.UPPER_LOW <= upper[0] and upper[-1] <= notation.UPPER_HIGH and upper[0] > bass
    assert upper[-1] - upper[0] <= 12
    assert {p % 12 for p in upper} == set(notation.upper_pitch_classes(chord))


def test_voicing_is_deterministic():
    assert notation.voice_progression(EIGHT) == notation.voice_progression(list(EIGHT))


# --- score and MusicXML ---------------------------------------------------------------------------


def test_musicxml_reparses_with_chords_symbols_and_title():
    score = notation.build_score(EIGHT, "Eight bars", key=(0, "major"))
    parsed = converter.parse(notation.to_musicxml(score), format="musicxml")
    assert parsed.metadata.bestTitle == "Eight bars"
    treble = parsed.parts[0]
    symbols = list(treble.recurse().getElementsByClass(harmony.ChordSymbol))
    blocks = [c for c in treble.recurse().getElementsByClass(m21chord.Chord) if not isinstance(c, harmony.ChordSymbol)]
    assert len(blocks) == len(EIGHT)
    assert [s.root().pitchClass for s in symbols] == [c.root for c in EIGHT]
    assert [s.chordKindStr for s in symbols] == ["", "m7", "maj7", "7", "m", "maj7", "m7b5", "9"]
    assert len(treble.getElementsByClass("Measure")) == len(EIGHT)  # one chord per 4/4 bar
    assert [b.lyric for b in blocks][:4] == ["I", "vi7", "IVmaj7", "V7"]
    assert treble.recurse().getElementsByClass("TrebleClef")
    assert str(parsed.recurse().getElementsByClass("TimeSignature")[0].ratioString) == "4/4"


def test_score_spells_flats_as_the_chord_does():
    score = notation.build_score(parse_progression("Bb Ebmaj7"))
    names = {p.name for c in score.parts[0].recurse().getElementsByClass(m21chord.Chord) for p in c.pitches}
    assert names <= {"B-", "D", "F", "E-", "G"}


def test_chord_symbols_get_no_courtesy_naturals():
    score = notation.build_score(parse_progression("Dm7b5 E7 Am Am"), key=(9, "minor"), beats_per_chord=2)
    assert b"<root-alter>0</root-alter>" not in notation.to_musicxml(score)


def test_two_chords_per_bar_and_odd_bar_lengths():
    halves = notation.build_score(POP, beats_per_chord=2)
    assert len(halves.parts[0].getElementsByClass("Measure")) == 2
    waltz = notation.build_score(POP, beats_per_chord=3)
    assert waltz.parts[0].recurse().getElementsByClass("TimeSignature")[0].ratioString == "3/4"


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError):
        notation.build_score([])
    with pytest.raises(InputError):
        notation.to_midi(POP, bpm=0)
    with pytest.raises(InputError):
        notation.build_score(POP, key=(0, "dorian"))


# --- MIDI -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("beats_per_chord", [4, 8, 2])
def test_midi_has_one_note_on_per_voice_and_matching_note_offs(beats_per_chord):
    expected = sum(len(v) for v in notation.voice_progression(EIGHT))
    ons, offs = note_events(notation.to_midi(EIGHT, bpm=120, beats_per_chord=beats_per_chord))
    assert len(ons) == expected
    assert sorted(ons) == sorted(offs)


def test_midi_from_a_score_with_chord_symbols_does_not_sound_them():
    score = notation.build_score(POP, "with symbols")
    ons, offs = note_events(notation.score_to_midi(score))
    assert len(ons) == sum(len(v) for v in notation.voice_progression(POP)) == 16
    assert sorted(ons) == sorted(offs)
    assert score.parts[0].recurse().getElementsByClass(harmony.ChordSymbol)  # the score itself keeps them


# --- SVG ------------------------------------------------------------------------------------------


def test_svg_renders_the_score_and_musicxml():
    score = notation.build_score(EIGHT, "SVG test")
    svg = notation.to_svg(score)
    assert svg.lstrip().startswith("<svg") and "</svg>" in svg and len(svg) > 10_000
    assert notation.to_svg(notation.to_musicxml(score)).count("<svg") >= 1


def test_svg_renders_from_a_worker_thread():
    score = notation.build_score(POP, "Threaded")
    results: list[str] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(notation.to_svg(score))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=render) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors and len(results) == 2
    assert all("<svg" in svg and "</svg>" in svg for svg in results)


# --- WAV ------------------------------------------------------------------------------------------


def test_numpy_wav_has_the_expected_length():
    wav_bytes = notation.to_wav(POP, bpm=120, backend="numpy")
    assert wav_seconds(wav_bytes) == pytest.approx(4 * 4 * 60 / 120, rel=0.05)
    assert notation.synth_backend("numpy") == "numpy"


@pytest.mark.skipif(
    audio.fluidsynth_binary() is None or audio.find_soundfont() is None,
    reason="FluidSynth rendering needs the `fluidsynth` program and a General MIDI .sf2 soundfont (apt: fluidsynth)",
)
def test_fluidsynth_wav_has_the_expected_length():
    assert notation.synth_backend() == "fluidsynth"
    wav_bytes = notation.to_wav(POP, bpm=120, backend="fluidsynth")
    assert wav_seconds(wav_bytes) == pytest.approx(4 * 4 * 60 / 120, rel=0.05)


def test_forcing_a_missing_fluidsynth_is_an_audio_error(monkeypatch):
    monkeypatch.setattr(audio, "fluidsynth_binary", lambda: None)
    assert notation.synth_backend() == "numpy"
    with pytest.raises(audio.AudioError):
        notation.to_wav(POP, backend="fluidsynth")
    assert wav_seconds(notation.to_wav(POP, bpm=120)) == pytest.approx(8.0, rel=0.05)


# --- everything -----------------------------------------------------------------------------------


def test_export_progression_writes_all_four_files(tmp_path):
    paths = notation.export_progression(POP, tmp_path / "out", "pop", key=(0, "major"), backend="numpy")
    assert set(paths) == {"mid", "musicxml", "svg", "wav"}
    assert all(path.is_file() and path.stat().st_size > 0 and path.stem == "pop" for path in paths.values())
    assert paths["mid"].read_bytes()[:4] == b"MThd"
    assert "<svg" in paths["svg"].read_text(encoding="utf-8")
