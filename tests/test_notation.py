"""Score, MusicXML, MIDI, SVG and WAV export of progressions (core.notation, core.audio).

Exports are read back with music21 and compared with what the page shows: the score's spelled
symbols (core.spelling), its basses and its voicing (core.voicing).
"""

from __future__ import annotations

import io
import queue
import re
import threading
import wave

import numpy as np
import pytest
from music21 import chord as m21chord
from music21 import converter, harmony, midi

from core import audio
from core.chords import SlashChord, parse_progression, parse_symbol, read_progression
from core.errors import InputError
from core.notation.export import export_progression
from core.notation.midi import MIDI_TICKS_PER_QUARTER, score_to_midi
from core.notation.musicxml import to_musicxml
from core.notation.score import build_score
from core.notation.svg import to_svg
from core.notation.wav import chord_wav, synth_backend, to_wav
from core.voicing import voice_progression

POP = parse_progression("C Am F G")
EIGHT = parse_progression("C Am7 Fmaj7 G7 Em Bbmaj7 Dm7b5 C9")
A_MAJOR = [p.slash for p in read_progression("A D/F# Abm7b5 E7/G# F#m C#m/G# Bm7 E7sus4 Cadd9 Dbmaj7/C")]


def midi_events(midi_bytes: bytes) -> dict[str, list]:
    """Events of a MIDI file read by music21: note-ons/offs as (tick, pitch), and meta events as (tick, data)."""
    midi_file = midi.MidiFile()
    midi_file.readstr(midi_bytes)
    found: dict[str, list] = {"on": [], "off": [], "marker": [], "name": [], "key": [], "tempo": [], "time": []}
    meta = {midi.MetaEvents.MARKER: "marker", midi.MetaEvents.SEQUENCE_TRACK_NAME: "name",
            midi.MetaEvents.KEY_SIGNATURE: "key", midi.MetaEvents.SET_TEMPO: "tempo", midi.MetaEvents.TIME_SIGNATURE: "time"}
    for track in midi_file.tracks:
        now = 0
        for event in track.events:
            if isinstance(event, midi.DeltaTime):
                now += event.time
            elif event.type == midi.ChannelVoiceMessages.NOTE_ON and event.velocity > 0:
                found["on"].append((now, event.pitch))
            elif event.type in (midi.ChannelVoiceMessages.NOTE_OFF, midi.ChannelVoiceMessages.NOTE_ON):
                found["off"].append((now, event.pitch))
            elif event.type in meta:
                found[meta[event.type]].append((now, event.data))
    return found


def harmonies(musicxml: bytes) -> list[harmony.ChordSymbol]:
    return list(converter.parse(musicxml, format="musicxml").recurse().getElementsByClass(harmony.ChordSymbol))


def written_symbol(symbol: harmony.ChordSymbol) -> str:
    """A read-back chord symbol as the page writes it: root, the studio's suffix, slash bass (ASCII accidentals)."""
    root = symbol.root().name.replace("-", "b")
    bass = symbol.bass().name.replace("-", "b") if symbol.bass().name != symbol.root().name else ""
    return root + symbol.chordKindStr + (f"/{bass}" if bass else "")


def wav_seconds(wav_bytes: bytes) -> float:
    assert wav_bytes[:4] == b"RIFF" and wav_bytes[8:12] == b"WAVE"
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        assert reader.getsampwidth() == 2 and reader.getframerate() == 44100
        assert reader.getnframes() > 0
        return reader.getnframes() / reader.getframerate()


# --- the score --------------------------------------------------------------------------------------


def test_score_spells_in_key_and_keeps_basses():
    score = build_score(A_MAJOR, key=(9, "major"))
    assert score.symbols == ["A", "D/F#", "G#m7b5", "E7/G#", "F#m", "C#m/G#", "Bm7", "Esus4", "Cadd9", "C#maj7/B#"]
    assert score.romans[:4] == ["I", "IV6", "viiø7", "V65"]
    assert [v[0] % 12 for v in score.voicings] == [9, 6, 8, 8, 6, 8, 11, 4, 0, 0]
    assert [n.name for n in score.spelled_notes(2)] == ["G#", "D", "F#", "G#", "B"]
    assert build_score(A_MAJOR).spelling.name == "A major"  # no key given: the guessed one spells


def test_a_line_in_b_major_reads_on_one_side():
    score = build_score(parse_progression("F#maj7 E Abm7 B C#6 Ebm"), key=(8, "minor"))
    assert score.symbols == ["F#maj7", "E", "G#m7", "B", "C#6", "D#m"]
    assert b"<alter>-" not in to_musicxml(score)  # nothing flat in G# minor here


def test_bad_input_is_an_input_error():
    with pytest.raises(InputError):
        build_score([])
    with pytest.raises(InputError):
        score_to_midi(build_score(POP, bpm=0))
    with pytest.raises(InputError):
        build_score(POP, key=(0, "dorian"))
    with pytest.raises(InputError):
        build_score(POP, beats_per_chord=2.5)
    with pytest.raises(InputError):
        build_score(POP, voicing="spread")
    with pytest.raises(InputError):
        chord_wav(build_score(POP), 4)


# --- MusicXML ---------------------------------------------------------------------------------------


def test_musicxml_reparses_with_chords_symbols_numerals_and_title():
    score = build_score(EIGHT, "Eight bars", key=(0, "major"), bpm=132)
    musicxml = to_musicxml(score)
    parsed = converter.parse(musicxml, format="musicxml")
    assert parsed.metadata.bestTitle == "Eight bars"
    treble = parsed.parts[0]
    blocks = [c for c in treble.recurse().getElementsByClass(m21chord.Chord) if not isinstance(c, harmony.ChordSymbol)]
    assert len(blocks) == len(EIGHT) and len(treble.getElementsByClass("Measure")) == len(EIGHT)
    assert [written_symbol(s) for s in harmonies(musicxml)] == score.symbols
    assert [b.lyric for b in blocks] == score.romans == ["I", "vi7", "IVmaj7", "V7", "iii", "bVIImaj7", "iiø7", "I9"]
    assert parsed.recurse().getElementsByClass("KeySignature")[0].sharps == 0
    assert parsed.recurse().getElementsByClass("MetronomeMark")[0].number == 132
    assert str(parsed.recurse().getElementsByClass("TimeSignature")[0].ratioString) == "4/4"


def test_musicxml_holds_what_the_page_shows_symbols_basses_and_pitches():
    score = build_score(A_MAJOR, "A major", key=(9, "major"))
    musicxml = to_musicxml(score)
    symbols = harmonies(musicxml)
    assert [written_symbol(s) for s in symbols] == score.symbols
    assert [s.bass().pitchClass for s in symbols] == [v[0] % 12 for v in score.voicings]
    parsed = converter.parse(musicxml, format="musicxml")
    assert parsed.recurse().getElementsByClass("KeySignature")[0].sharps == 3
    treble, bass = parsed.parts[0].flatten(), parsed.parts[1].flatten()
    uppers = [c for c in treble.getElementsByClass(m21chord.Chord) if not isinstance(c, harmony.ChordSymbol)]
    basses = list(bass.notes)
    for index, (upper, low) in enumerate(zip(uppers, basses, strict=True)):
        written = [p.name.replace("-", "b") for p in (low.pitch, *upper.pitches)]
        assert [p.midi for p in (low.pitch, *upper.pitches)] == list(score.voicings[index])
        assert written == [n.name for n in score.spelled_notes(index)]
    assert not re.search(rb"<alter>-?2</alter>", musicxml)  # never a double sharp or flat on the staff


def test_accidentals_are_written_where_the_bar_needs_them():
    score = build_score(parse_progression("E7 G Am E7"), key=(9, "minor"), beats_per_chord=2)
    bars = re.findall(rb"<measure.*?</measure>", to_musicxml(score), flags=re.S)
    notes = [[re.search(rb"<step>(\w)</step>.*?(?:<accidental>(\w+)</accidental>|$)", note).groups()
              for note in bar.split(b"<note>")[1:]] for bar in bars]
    shown = [[(step, accidental) for step, accidental in bar if accidental] for bar in notes]
    assert shown == [[(b"G", b"sharp"), (b"G", b"natural")], [(b"G", b"sharp")]]  # the G# of E7, cancelled in its bar
    assert b"<accidental>" not in to_musicxml(build_score(parse_progression("B E F#m"), key=(4, "major")))


def test_chord_symbols_get_no_courtesy_naturals_and_flats_stay_flats():
    musicxml = to_musicxml(build_score(parse_progression("Dm7b5 E7 Am Am"), key=(9, "minor"),
                                                          beats_per_chord=2))
    assert b"<root-alter>0</root-alter>" not in musicxml
    score = build_score(parse_progression("Bb Ebmaj7"))
    names = {n.name for i in range(2) for n in score.spelled_notes(i)}
    assert names <= {"Bb", "D", "F", "Eb", "G"}


@pytest.mark.parametrize(("beats_per_chord", "bars", "time"), [(4, 4, "4/4"), (2, 2, "4/4"), (1, 1, "4/4"), (8, 8, "4/4"),
                                                               (3, 4, "3/4"), (5, 4, "5/4")])
def test_bar_lengths_ties_and_padding(beats_per_chord, bars, time):
    score = build_score(POP, beats_per_chord=beats_per_chord)
    parsed = converter.parse(to_musicxml(score), format="musicxml")
    treble = parsed.parts[0]
    assert len(treble.getElementsByClass("Measure")) == bars
    assert treble.recurse().getElementsByClass("TimeSignature")[0].ratioString == time
    chords = [c for c in treble.flatten().getElementsByClass(m21chord.Chord) if not isinstance(c, harmony.ChordSymbol)]
    held = [c for c in chords if c.tie is None or c.tie.type == "start"]
    assert len(held) == len(POP) and sum(c.quarterLength for c in chords) == len(POP) * beats_per_chord


def test_add9_keeps_its_degree_in_the_export_but_not_twice_on_the_page():
    score = build_score(parse_progression("Cadd9 G"))
    assert b"<degree-type>add</degree-type>" in to_musicxml(score)
    assert b"<degree" not in to_musicxml(score, for_engraving=True)
    assert {p.name for p in harmonies(to_musicxml(score))[0].pitches} == {"C", "D", "E", "G"}


# --- MIDI -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("beats_per_chord", [4, 8, 2])
def test_midi_has_one_note_on_per_voice_and_matching_note_offs(beats_per_chord):
    voicings = voice_progression(EIGHT)
    events = midi_events(score_to_midi(build_score(EIGHT, bpm=120, beats_per_chord=beats_per_chord)))
    ticks = beats_per_chord * MIDI_TICKS_PER_QUARTER
    assert sorted(events["on"]) == sorted((i * ticks, p) for i, v in enumerate(voicings) for p in v)
    assert sorted(events["off"]) == sorted(((i + 1) * ticks, p) for i, v in enumerate(voicings) for p in v)
    assert len(set(events["on"])) == len(events["on"])  # nothing doubled


def test_midi_names_key_tempo_and_every_chord_at_its_onset():
    score = build_score(A_MAJOR, "Songwriter", key=(9, "major"), bpm=132)
    events = midi_events(score_to_midi(score))
    ticks = 4 * MIDI_TICKS_PER_QUARTER
    assert [(t, d.decode()) for t, d in events["marker"]] == [(i * ticks, s) for i, s in enumerate(score.symbols)]
    assert [d for _, d in events["name"]] == [b"Songwriter", b"Piano"]
    assert events["key"] == [(0, bytes([3, 0]))]  # three sharps, major
    assert events["tempo"] == [(0, round(60_000_000 / 132).to_bytes(3, "big"))]
    assert events["time"][0][1][:2] == bytes([4, 2])
    minor = midi_events(score_to_midi(build_score(parse_progression("Ebm Cb Bb7"), key=(3, "minor"))))
    assert minor["key"] == [(0, bytes([256 - 6, 1]))]  # six flats, minor
    assert midi_events(score_to_midi(build_score(POP)))["key"] == []  # no key given, none claimed


def test_midi_reads_back_with_music21_as_the_voicing():
    score = build_score(A_MAJOR, key=(9, "major"), bpm=90)
    parsed = converter.parse(score_to_midi(score), format="midi")
    by_onset: dict[float, list[int]] = {}
    for element in parsed.flatten().notes:
        by_onset.setdefault(float(element.offset), []).extend(p.midi for p in element.pitches)
    assert [sorted(by_onset[4.0 * i]) for i in range(len(A_MAJOR))] == [sorted(v) for v in score.voicings]
    assert parsed.flatten().getElementsByClass("KeySignature")[0].sharps == 3
    assert parsed.flatten().getElementsByClass("MetronomeMark")[0].number == 90


# --- SVG --------------------------------------------------------------------------------------------


def test_svg_renders_the_score_and_musicxml():
    score = build_score(EIGHT, "SVG test")
    svg = to_svg(score)
    assert svg.lstrip().startswith("<svg") and "</svg>" in svg and len(svg) > 10_000
    assert to_svg(to_musicxml(score)).count("<svg") >= 1


def test_svg_tempo_follows_the_request_in_the_header_away_from_chord_symbols():
    score = build_score(parse_progression("F#maj7 E G#m7 B"), "Progression 1", key=(3, "major"), bpm=132)
    svg = to_svg(score)
    head = svg[svg.index('class="pgHead"'):]
    assert "= 132" in head and "Progression 1" in head
    in_staves = re.findall(r'class="tempo">(.*?)</g>', svg, flags=re.S)
    assert not any(re.search(r"<tspan", t) for t in in_staves)  # no mark over the staff, where verovio lets it hit symbols
    assert "= 100" not in svg


def test_svg_shows_spelled_slash_chords():
    svg = to_svg(build_score(A_MAJOR, key=(9, "major")))
    harm = re.findall(r'class="harm".*?</g>', svg, flags=re.S)
    smufl = {"\uea66": "#", "\uea64": "b"}  # verovio writes chord-symbol accidentals as SMuFL glyphs
    texts = ["".join(smufl.get(t, t) for t in re.findall(r">([^<>]+)</tspan>", h)) for h in harm]
    assert [t.replace(" ", "") for t in texts] == build_score(A_MAJOR, key=(9, "major")).symbols


def test_svg_renders_from_a_worker_thread():
    score = build_score(POP, "Threaded")
    results: list[str] = []
    errors: list[BaseException] = []

    def render() -> None:
        try:
            results.append(to_svg(score))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=render) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not errors and len(results) == 2
    assert all("<svg" in svg and "</svg>" in svg for svg in results)


def test_a_pooled_toolkit_engraves_exactly_as_a_new_one(monkeypatch: pytest.MonkeyPatch):
    """Toolkits are reused (core.notation.svg's pool): the last engraving's options or score never leak into the next."""
    from core.notation import svg as svg_module

    monkeypatch.setitem(svg_module.SVG_OPTIONS, "xmlIdSeed", 1)  # verovio's ids are random otherwise
    monkeypatch.setattr(svg_module, "_IDLE", queue.LifoQueue(maxsize=svg_module.POOLED_TOOLKITS))  # seeded ones go after
    long_one, short_one = build_score(POP * 5, "Long", bpm=100.0), build_score(A_MAJOR, "Short", key=(9, "major"), bpm=80.0)

    def fresh(score, width: int = 2100, scale: int = 45) -> str:
        toolkit = svg_module.verovio_toolkit()
        toolkit.setOptions({**svg_module.SVG_OPTIONS, "pageWidth": width, "scale": scale})
        assert toolkit.loadData(to_musicxml(score, for_engraving=True).decode("utf-8"))
        return "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))

    for score, options in ((long_one, {}), (short_one, {"width": 1200, "scale": 30}), (long_one, {}), (short_one, {})):
        assert to_svg(score, **options) == fresh(score, **options)
    assert 1 <= svg_module._IDLE.qsize() <= svg_module.POOLED_TOOLKITS


# --- WAV --------------------------------------------------------------------------------------------


def test_numpy_wav_has_the_expected_length():
    wav_bytes = to_wav(POP, bpm=120, backend="numpy")
    assert wav_seconds(wav_bytes) == pytest.approx(4 * 4 * 60 / 120, rel=0.05)
    assert synth_backend("numpy") == "numpy"


def test_one_chord_is_heard_as_voiced_in_the_progression():
    score = build_score(POP, bpm=120)
    alone = score.only(2)
    assert alone.voicings == (score.voicings[2],) and alone.symbols == ["F"]
    assert wav_seconds(chord_wav(score, 2, backend="numpy")) == pytest.approx(2.0, rel=0.05)


@pytest.mark.skipif(
    audio.fluidsynth_library() is None or audio.find_soundfont() is None,
    reason="FluidSynth rendering needs libfluidsynth and a General MIDI .sf2 soundfont (apt: fluidsynth)",
)
def test_fluidsynth_wav_sounds_every_chord_for_its_length():
    assert synth_backend() == "fluidsynth"
    wav_bytes = to_wav(POP, bpm=120, backend="fluidsynth")
    assert wav_seconds(wav_bytes) == pytest.approx(4 * 4 * 60 / 120, rel=0.001)
    with wave.open(io.BytesIO(wav_bytes)) as reader:
        assert reader.getnchannels() == 2
        frames = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2").reshape(-1, 2).astype(float)
    chords = np.array_split(frames, len(POP))
    assert all(np.sqrt((chord[: len(chord) // 2] ** 2).mean()) > 300 for chord in chords)  # each chord sounds
    assert np.abs(frames[-20:]).max() < 50  # faded out, no click
    again = to_wav(POP, bpm=120, backend="fluidsynth")  # the in-process synth is reused
    assert len(again) == len(wav_bytes)


def test_numpy_synth_wavetable_matches_the_harmonic_sum():
    seconds, pitches = 0.05, [60, 64, 67]
    t = np.arange(int(round(seconds * audio.SAMPLE_RATE))) / audio.SAMPLE_RATE
    freqs = audio.midi_frequency(np.asarray(pitches))[:, None]
    exact = sum(a * np.sin(2 * np.pi * k * freqs * t).sum(axis=0) for k, a in enumerate(audio.HARMONICS, start=1))
    exact = 0.8 * exact / (len(pitches) * sum(audio.HARMONICS)) * audio.adsr_envelope(len(t))
    assert np.abs(audio.synth_chord(pitches, seconds) - exact).max() < 0.01


def test_forcing_a_missing_fluidsynth_is_an_audio_error(monkeypatch):
    monkeypatch.setattr(audio, "fluidsynth_library", lambda: None)
    assert synth_backend() == "numpy"
    with pytest.raises(audio.AudioError):
        to_wav(POP, backend="fluidsynth")
    assert wav_seconds(to_wav(POP, bpm=120)) == pytest.approx(8.0, rel=0.05)


# --- everything -------------------------------------------------------------------------------------


def test_export_progression_writes_all_four_files(tmp_path):
    chords = [parse_symbol("C"), SlashChord(parse_symbol("G"), 11), parse_symbol("Am")]
    paths = export_progression(chords, tmp_path / "out", "pop", key=(0, "major"), backend="numpy")
    assert set(paths) == {"mid", "musicxml", "svg", "wav"}
    assert all(path.is_file() and path.stat().st_size > 0 and path.stem == "pop" for path in paths.values())
    assert paths["mid"].read_bytes()[:4] == b"MThd"
    assert "<svg" in paths["svg"].read_text(encoding="utf-8")
    assert converter.parse(paths["musicxml"]).metadata.bestTitle == "C G/B Am"
