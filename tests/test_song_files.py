"""A song's MIDI and MusicXML read back by music21 (durations, markers, rehearsal marks intact); audio; every file."""

from __future__ import annotations

import io
import json
import wave

import music21
import pytest
from music21 import expressions, harmony, key, layout, meter

from core.chords import SlashChord, parse_symbol
from core.notation.song import chord_spans, song_files, song_midi, song_musicxml, song_wav, write_song_files
from core.song.form import TimeSignature
from core.song.model import Section, Song, song_from_dict


def _chords(text: str) -> tuple[SlashChord, ...]:
    return tuple(SlashChord(parse_symbol(s)) for s in text.split())


FOUR = TimeSignature(4, 4)


def _song(time: TimeSignature = FOUR) -> Song:
    beats = time.beats
    intro = Section("Intro", "intro", 2, _chords("C G"), (beats, beats))
    verse = Section("Verse", "verse", 3, _chords("Am F C G E7"), (1, beats - 1, 2 * beats - 2, 1, 1) if beats > 2
                    else (1, 1, 2, 1, 1))
    chorus = Section("Chorus", "chorus", 2, (SlashChord(parse_symbol("F"), 9), *_chords("G")), (beats, beats))
    return Song((intro, verse, chorus), time, 96, (0, "major"), "pop", title="Test song")


def _expected(song: Song) -> list[tuple[float, float]]:
    """(offset, length) in quarters of every chord."""
    quarters = song.time.quarters_per_beat
    return [(start * quarters, beats * quarters) for _, _, start, beats in chord_spans(song)]


@pytest.mark.parametrize("time", [TimeSignature(4, 4), TimeSignature(6, 8), TimeSignature(3, 4)])
def test_midi_round_trip_keeps_durations_markers_time_key_and_tempo(time: TimeSignature, tmp_path) -> None:
    song = _song(time)
    path = tmp_path / "song.mid"
    path.write_bytes(song_midi(song))
    score = music21.converter.parse(path).stripTies()  # music21 cuts notes at its bar lines: joined again
    onsets: dict[float, float] = {}
    for note in score.flatten().notes:
        onsets.setdefault(float(note.offset), float(note.quarterLength))
    assert sorted(onsets.items()) == _expected(song)
    assert score.flatten().getElementsByClass(meter.TimeSignature)[0].ratioString == time.text
    assert score.flatten().getElementsByClass(key.KeySignature)[0].sharps == 0
    midi = music21.midi.MidiFile()
    midi.open(str(path))
    midi.read()
    midi.close()
    markers = [event.data.decode() for event in midi.tracks[0].events if event.type == music21.midi.MetaEvents.MARKER]
    assert markers == ["Intro", "C", "G", "Verse", "Am", "F", "C", "G", "E7", "Chorus", "F/A", "G"]
    tempo = next(e for e in midi.tracks[0].events if e.type == music21.midi.MetaEvents.SET_TEMPO)
    assert int.from_bytes(tempo.data, "big") == round(60_000_000 / (96 * time.quarters_per_beat))


@pytest.mark.parametrize("time", [TimeSignature(4, 4), TimeSignature(6, 8)])
def test_musicxml_round_trip_keeps_symbols_durations_rehearsal_marks_and_systems(time: TimeSignature) -> None:
    song = _song(time)
    score = music21.converter.parseData(song_musicxml(song).decode("utf-8"), format="musicxml")
    upper = score.parts[0]
    symbols = list(upper.recurse().getElementsByClass(harmony.ChordSymbol))
    assert [s.figure for s in symbols] == ["C", "G", "Am", "F", "C", "G", "E7", "F/A", "G"]
    assert [float(s.getOffsetInHierarchy(upper)) for s in symbols] == [offset for offset, _ in _expected(song)]
    assert [m.content for m in upper.recurse().getElementsByClass(expressions.RehearsalMark)] == ["Intro", "Verse",
                                                                                                 "Chorus"]
    new_systems = [m.number for m in upper.getElementsByClass(music21.stream.Measure)
                   if any(s.isNew for s in m.getElementsByClass(layout.SystemLayout))]
    assert new_systems == [3, 6]  # the verse and the chorus open systems of their own
    assert upper.recurse().getElementsByClass(meter.TimeSignature)[0].ratioString == time.text
    assert float(upper.duration.quarterLength) == 7 * time.beats * time.quarters_per_beat
    lower_notes = list(score.parts[1].flatten().notes)
    held = {}
    for note in lower_notes:  # a chord held across a bar line is tied, so its sounding length is the sum
        if note.tie is not None and note.tie.type in ("continue", "stop"):
            held[max(held)] += float(note.quarterLength)
        else:
            held[float(note.offset)] = float(note.quarterLength)
    assert sorted(held.items()) == _expected(song)


def test_song_audio_lasts_its_beats_and_plays_one_section() -> None:
    song = _song()
    with wave.open(io.BytesIO(song_wav(song, backend="numpy")), "rb") as reader:
        assert reader.getnframes() / reader.getframerate() == pytest.approx(7 * 4 * 60 / 96, abs=0.01)
    with wave.open(io.BytesIO(song_wav(song, sections=[1], backend="numpy")), "rb") as reader:
        assert reader.getnframes() / reader.getframerate() == pytest.approx(3 * 4 * 60 / 96, abs=0.01)


def test_every_file_is_written_and_the_json_reads_back(tmp_path) -> None:
    song = _song()
    paths = write_song_files(song, tmp_path / "out")
    assert sorted(paths) == sorted(song_files(song)) == ["chordpro", "json", "mid", "musicxml", "txt"]
    assert song_from_dict(json.loads(paths["json"].read_text())) == song
    assert "{start_of_chorus: label=\"Chorus\"}" in paths["chordpro"].read_text()


def test_long_sections_wrap_every_four_bars_and_the_svg_keeps_the_systems() -> None:
    from core.notation.song import song_svg

    song = Song((Section("Verse", "verse", 10, _chords("C G"), (20, 20)), Section("Chorus", "chorus", 1, _chords("F"), (4,))),
                FOUR, 100, (0, "major"))
    score = music21.converter.parseData(song_musicxml(song).decode("utf-8"), format="musicxml")
    new_systems = [m.number for m in score.parts[0].getElementsByClass(music21.stream.Measure)
                   if any(s.isNew for s in m.getElementsByClass(layout.SystemLayout))]
    assert new_systems == [5, 9, 11]
    assert song_svg(song).count('class="system"') == 4
