"""Nottingham ABC parser on a real excerpt: jigs.abc tunes X:1 (A and D), X:2 (Abacus), X:112 (The Gobby O).

X:112 carries two real malformed chord symbols (``" "``, lines 44 and 47 of the fixture).
"""

from pathlib import Path

import pytest

from core.chords import Chord, ChordError, parse_symbol
from core.corpus import nottingham
from core.corpus.modes import scale_type_of_mode
from core.corpus.rows import BuildReport, Song

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "nottingham"


def chords(text: str) -> list[Chord]:
    return [parse_symbol(symbol) for symbol in text.split()]


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, Song], BuildReport]:
    report = BuildReport()
    songs = nottingham.parse(FIXTURES, report)
    return {song.song_id: song for song in songs}, report


def test_one_song_per_tune_with_folk_labels(parsed) -> None:
    songs, _ = parsed
    assert list(songs) == ["nottingham:jigs:1", "nottingham:jigs:2", "nottingham:jigs:112"]
    assert [s.title for s in songs.values()] == ["A and D", "Abacus", "The Gobby O"]
    for song in songs.values():
        assert (song.source, song.genre, song.subgenre, song.genre_raw) == ("nottingham", "folk", "jigs", "nottingham:jigs")
        assert (song.mood, song.artist) == ("", "")


def test_parts_and_inline_key_change(parsed) -> None:
    song = parsed[0]["nottingham:jigs:1"]
    first, second = song.segments
    # part A in A major, first and second endings kept in written order ([1 A :| [2 A ||)
    assert (first.section, first.key_tonic, first.scale_type, first.ends) == ("A", 9, "major", True)
    assert first.chords == chords("A A A Bm E7 A A D E7 A A")
    # K:D in the body: part B is in D major
    assert (second.section, second.key_tonic, second.scale_type, second.ends) == ("B", 2, "major", True)
    assert second.chords == chords("D D G Em A7 D D G A7 D D")


def test_part_ends_split_but_first_endings_do_not(parsed) -> None:
    song = parsed[0]["nottingham:jigs:2"]
    assert [len(s.chords) for s in song.segments] == [10, 10, 24]
    first, second, third = song.segments
    assert first.chords == chords("G Em Am D7 G G Em Am D7 G")  # closed by :||:
    assert second.chords == chords("D7 G A7 D7 G E7 Am D7 G G")  # [1 G :| [2 G || is one part
    assert third.chords[:4] == chords("Em Am B7 Em") and third.chords[-3:] == chords("D7 Em E7")
    assert all((s.key_tonic, s.scale_type, s.section, s.ends) == (7, "major", "", True) for s in song.segments)


def test_minor_key_and_malformed_chords_reported(parsed) -> None:
    songs, report = parsed
    song = songs["nottingham:jigs:112"]
    assert [(s.section, s.key_tonic, s.scale_type) for s in song.segments] == [("A", 9, "minor"), ("B", 9, "minor")]
    assert song.segments[0].chords == chords("Am Am G G Am Am Em C G Am")
    skipped = report.skipped["nottingham"]
    assert [entry.split(": ", 1)[0].rsplit(":", 1)[1] for entry in skipped] == ["44", "47"]
    assert all("unreadable ABC chord" in entry for entry in skipped)
    assert report.chords_read["nottingham"] == 87
    assert not report.mapped["nottingham"]


@pytest.mark.parametrize(("label", "expected", "mapped"), [
    ("Am", Chord(9, "min"), False), ("D7", Chord(2, "7"), False), ("Cd", Chord(0, "dim"), False),
    ("D#d", Chord(3, "dim"), False), ("Bbd", Chord(10, "dim"), False), ("Ca", Chord(0, "aug"), False),
    ("Fa7", Chord(5, "aug"), True), ("C/e", Chord(0, "maj"), False), ("D/f+", Chord(2, "maj"), False),
    ("Gm/bb", Chord(7, "min"), False), ("(E7)", Chord(4, "7"), False), ("D m", Chord(2, "min"), False),
    ("E7b9", Chord(4, "7"), True), ("C6", Chord(0, "6"), False), ("Bm7", Chord(11, "min7"), False),
])
def test_abc_chord_symbols(label: str, expected: Chord, mapped: bool) -> None:
    assert nottingham.parse_abc_chord(label) == (expected, mapped)


@pytest.mark.parametrize("label", [" ", "", "H", "Cxyz"])
def test_unreadable_abc_chords_raise(label: str) -> None:
    with pytest.raises(ChordError):
        nottingham.parse_abc_chord(label)


@pytest.mark.parametrize(("value", "expected"), [
    ("G", (7, "major")), ("Em", (4, "minor")), ("F#m", (6, "minor")), ("Bb", (10, "major")),
    ("Ador", (9, "minor")), ("D mix", (2, "major")), ("E phr", (4, "minor")), ("F Lydian", (5, "major")),
    ("Gmaj", (7, "major")), ("C ionian", (0, "major")), ("B loc", (11, "minor")),
])
def test_key_fields_and_modes(value: str, expected: tuple[int, str]) -> None:
    assert nottingham.parse_key_field(value) == expected


@pytest.mark.parametrize("value", ["none", "HP", "C xyz", "D mi"])
def test_unreadable_keys_raise(value: str) -> None:
    with pytest.raises(ChordError):
        nottingham.parse_key_field(value)


def test_mode_rule() -> None:
    assert [scale_type_of_mode(m) for m in ("", "m", "min", "dorian", "aeol", "phrygian")] == ["major"] + ["minor"] * 5
    assert [scale_type_of_mode(m) for m in ("maj", "Mixolydian", "lyd", "ion")] == ["major"] * 4


def test_subgenre_from_file_stem() -> None:
    stems = ["reelsa-c", "hpps", "slip", "waltzes", "xmas", "ashover", "morris", "playford", "jigs"]
    assert [nottingham.subgenre_of(s) for s in stems] == [
        "reels", "hornpipes", "slip jigs", "waltzes", "xmas", "ashover", "morris", "playford", "jigs",
    ]


def test_mid_part_inline_key_change_and_chordless_tune(tmp_path: Path) -> None:
    # Synthetic: an inline [K:Em] mid-part closes the running segment without an ending.
    (tmp_path / "reelsa-c.abc").write_text(
        'X: 7\nT:Made Up\nK:G\n"G"GAB "D"d2|[K:Em]"Em"e2 "B7"B2|"Em"E4|]\n\n'
        "X: 8\nT:No Chords\nK:D\nDEF|]\n"
    )
    report = BuildReport()
    (song,) = nottingham.parse(tmp_path, report)
    assert (song.song_id, song.subgenre) == ("nottingham:reelsa-c:7", "reels")
    assert [(s.key_tonic, s.scale_type, s.ends, s.chords) for s in song.segments] == [
        (7, "major", False, chords("G D")), (4, "minor", True, chords("Em B7 Em")),
    ]
    assert len(report.skipped["nottingham"]) == 1 and "X:8 skipped: no chords" in report.skipped["nottingham"][0]
