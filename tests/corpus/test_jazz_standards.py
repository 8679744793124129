"""Jazz standards parser on four real tunes: endings, a bossa, a 12-bar blues and a tune without a key."""

import json
from pathlib import Path

import pytest

from core.chords import Chord
from core.corpus import jazz_standards
from core.corpus.rows import BuildReport

FIXTURE = Path(__file__).parent.parent / "fixtures" / "jazz-standards"


@pytest.fixture(scope="module")
def songs() -> dict:
    return {song.title: song for song in jazz_standards.parse(FIXTURE, BuildReport())}


def symbols(segment) -> str:
    return " ".join(chord.symbol for chord in segment.chords)


def test_endings_give_one_segment_each_and_alternates_dropped(songs: dict) -> None:
    song = songs["Alone Together"]
    assert song.artist == "Arthur Schwartz"
    assert [s.section for s in song.segments] == ["A", "A", "B", "A"]
    assert all((s.key_tonic, s.scale_type) == (2, "minor") for s in song.segments)  # Key "Dmin"
    first, second = song.segments[0], song.segments[1]
    assert symbols(first).startswith("Dm6 Em7b5 A7 Dm6 Em7b5 A7 Dm6 Am7b5 D7 Gm7 Gm7")
    assert symbols(first).endswith("Fmaj7 Em7b5 A7 Dmaj7 Dmaj7")  # "Dmaj7(Em7b5),(A7b9)": alternates dropped
    assert symbols(second).endswith("Fmaj7 Em7b5 A7 Dmaj7 Dmaj7")
    assert symbols(song.segments[2]) == "Am7b5 D7 Gm6 Gm6 Gm7b5 C7 Fmaj7 Em7b5 A7"
    assert song.genre == "jazz" and song.subgenre == song.genre_raw == "Medium Swing" and song.mood == ""


def test_bossa_is_latin_and_unlabelled_section(songs: dict) -> None:
    song = songs["Blue Bossa"]
    assert (song.genre, song.genre_raw) == ("latin", "Bossa Nova")
    (segment,) = song.segments
    assert (segment.section, segment.key_tonic, segment.scale_type) == ("", 0, "minor")
    assert symbols(segment) == "Cm7 Cm7 Fm7 Fm7 Dm7b5 G7 Cm7 Cm7 Ebm7 Ab7 C#maj7 C#maj7 Dm7b5 G7 Cm7 Dm7b5 G7"


def test_twelve_bar_form_is_blues(songs: dict) -> None:
    song = songs["Straight No Chaser"]
    assert song.genre == "blues" and song.genre_raw == "Medium Up Swing"
    assert (song.segments[0].key_tonic, song.segments[0].scale_type) == (10, "major")
    assert symbols(song.segments[0]) == "Bb7 Eb7 Bb7 Bb7 Eb7 Eb7 Bb7 Bb7 F7 F7 Bb7 F7"


def test_missing_key_is_estimated_and_empty_slots_skipped(songs: dict) -> None:
    song = songs["9.20 Special"]
    assert symbols(song.segments[0]) == "D9 Fm6 D9 Fm6 C C7 B7 Bb7 A7 D9 G7 Ab7 G7"  # "G7,Ab7,G7," trailing slot
    assert len({(s.key_tonic, s.scale_type) for s in song.segments}) == 1
    assert song.segments[0].scale_type in ("major", "minor")


@pytest.mark.parametrize(
    ("symbol", "chord", "mapped"),
    [("B07", Chord(11, "dim7"), False), ("F#0", Chord(6, "dim"), False), ("Cm/maj7", Chord(0, "minmaj7"), False),
     ("Am/maj7/G#", Chord(9, "minmaj7"), False), ("Dbmaj7#11", Chord(1, "maj7"), True), ("Gmb6", Chord(7, "min"), True),
     ("C7b9", Chord(0, "7"), True), ("C-7", Chord(0, "min7"), False), ("C^7", Chord(0, "maj7"), False),
     ("Ch7", Chord(0, "hdim7"), False), ("Co7", Chord(0, "dim7"), False), ("C7sus", Chord(0, "sus4"), True),
     ("Bb/D", Chord(10, "maj"), False)],
)
def test_symbols(symbol: str, chord: Chord, mapped: bool) -> None:
    assert jazz_standards.read_symbol(symbol) == (chord, mapped)


def test_repeat_bar_and_no_chord() -> None:
    report = BuildReport()
    bars = jazz_standards.read_bars("C7,F7|x|N.C.|W,G7|n", "t", report)
    assert [[c.symbol for c in bar] for bar in bars] == [["C7", "F7"], ["C7", "F7"], [], ["G7"], []]
    assert report.chords_read["jazz-standards"] == 5


def test_malformed_entries_skipped_and_reported(tmp_path: Path) -> None:
    tunes = json.loads((FIXTURE / "JazzStandards.json").read_text(encoding="utf-8"))
    tunes[2]["Sections"][0]["MainSegment"]["Chords"] = "Cm7|Qx9,Fm7|Fm7"
    tunes.append({"Title": "Broken", "Composer": "Nobody"})
    (tmp_path / "JazzStandards.json").write_text(json.dumps(tunes), encoding="utf-8")
    report = BuildReport()
    songs = {s.title: s for s in jazz_standards.parse(tmp_path, report)}
    assert "Broken" not in songs and len(songs) == 4
    assert symbols(songs["Blue Bossa"].segments[0]) == "Cm7 Fm7 Fm7"
    skipped = report.skipped["jazz-standards"]
    assert len(skipped) == 2
    assert "'Blue Bossa'" in skipped[0] and "'Qx9'" in skipped[0]
    assert "tune 5 'Broken'" in skipped[1] and "without Title or Sections" in skipped[1]
