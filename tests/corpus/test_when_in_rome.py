"""When in Rome RomanText parser on two real analyses, in their source folder layout.

* ``Early_Choral/Bach,_Johann_Sebastian/Chorales/219``: d minor / F major, phrase ends (``||``),
  a pivot chord and a variant measure (``m5var1``).
* ``OpenScore-LiederCorpus/Brahms,_Johannes/Marienlieder,_Op.22/6_Magdalena``: g -> Bb -> d -> g.
"""

import shutil
from pathlib import Path

import pytest

from core.chords import Chord, parse_symbol
from core.corpus import when_in_rome
from core.corpus.rows import BuildReport, Song

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "when-in-rome"
BACH = "when-in-rome:Early_Choral/Bach,_Johann_Sebastian/Chorales/219"
BRAHMS = "when-in-rome:OpenScore-LiederCorpus/Brahms,_Johannes/Marienlieder,_Op.22/6_Magdalena"
D, F, G, BB = 2, 5, 7, 10


def chords(text: str) -> list[Chord]:
    return [parse_symbol(symbol) for symbol in text.split()]


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, Song], BuildReport]:
    report = BuildReport()
    songs = when_in_rome.parse(FIXTURES, report, workers=1)
    return {song.song_id: song for song in songs}, report


def test_labels_from_the_folder_layout(parsed) -> None:
    songs, _ = parsed
    assert sorted(songs) == [BACH, BRAHMS]
    bach, brahms = songs[BACH], songs[BRAHMS]
    assert (bach.title, bach.artist, bach.subgenre, bach.genre_raw) == (
        "Chorales: 219", "Bach, Johann Sebastian", "Early_Choral", "when-in-rome:Early_Choral")
    assert (brahms.title, brahms.artist, brahms.subgenre, brahms.genre_raw) == (
        "Marienlieder, Op.22: 6 Magdalena", "Brahms, Johannes", "OpenScore-LiederCorpus", "when-in-rome:OpenScore-LiederCorpus")
    for song in songs.values():
        assert (song.source, song.genre, song.mood) == ("when-in-rome", "classical", "")


def test_bach_segments_split_at_key_changes_and_phrase_ends(parsed) -> None:
    song = parsed[0][BACH]
    got = [(s.key_tonic, s.scale_type, s.ends, s.chords) for s in song.segments]
    assert got == [
        (D, "minor", False, chords("Dm Dm Am Dm Dm Am Bb")),  # m1-m2; VI is the pivot, still in d
        (F, "major", True, chords("F Gm C7 F")),  # F: ... m3 I ||
        # m4-m6 (m5, not its variant m5var1), to the || after I in m6
        (F, "major", True, chords("F F Bb C C F F F C Dm Gm Gm7 C C7 F")),
        (F, "major", False, chords("F C C7 Dm")),  # m6 b4 to the pivot vi//d: i in m7
        (D, "minor", True, chords("Em7b5 A A7 Bb")),  # ii/o6/5 V V7, m8 VI ||
        (F, "major", False, chords("F C Dm Dm Dm C C F")),
        (D, "minor", True, chords("C#dim7 Dm Bb Em7b5 Em7b5 A A7 D")),  # Picardy I at the end
    ]


def test_brahms_key_areas(parsed) -> None:
    song = parsed[0][BRAHMS]
    got = [(s.key_tonic, s.scale_type, s.ends) for s in song.segments]
    assert got == [(G, "minor", False), (BB, "major", False), (D, "minor", False), (G, "minor", True)]
    first, second, third, last = (s.chords for s in song.segments)
    # viio/III in g is A diminished; iv6/4 is C minor
    assert first[:11] == chords("Gm F#dim Gm F#dim Gm Gm Adim Gm Cm Adim Bb")
    assert second == chords("Bbmaj7 Cm Eb F Am7b5 Bb Dm Eb")
    assert third == chords("Gm7 A A7")
    assert last == chords("D7 G7 Cm Gm Am7b5 Am7b5 D Gm")


def test_report_counts_every_chord(parsed) -> None:
    songs, report = parsed
    assert report.chords_read["when-in-rome"] == sum(len(s.chords) for song in songs.values() for s in song.segments) == 92
    assert not report.skipped["when-in-rome"]


def test_workers_give_the_same_result(parsed) -> None:
    report = BuildReport()
    songs = when_in_rome.parse(FIXTURES, report, workers=2)
    assert {song.song_id: song for song in songs} == parsed[0]
    assert report.chords_read == parsed[1].chords_read


def test_bad_files_are_reported_and_other_files_ignored(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "Early_Choral", tmp_path / "Early_Choral")
    bad = tmp_path / "Quartets" / "Haydn,_Franz_Joseph" / "Op20_No5" / "1" / "analysis.txt"
    bad.parent.mkdir(parents=True)
    bad.write_text("Composer: Nobody\nTime Signature: 4/4\nm1 Q: XYZ b2 ???\n")
    (bad.parent / "notes.txt").write_text("m1 C: I V I\n")
    report = BuildReport()
    songs = when_in_rome.parse(tmp_path, report, workers=1)
    assert [song.song_id for song in songs] == [BACH]
    skipped = report.skipped["when-in-rome"]
    assert skipped and all(entry.startswith(str(bad)) for entry in skipped)
    assert skipped[-1].endswith("no Roman numerals in the file")


def test_set_folder_underscore_is_left_out_of_the_title() -> None:
    labels = when_in_rome.song_labels(Path("Variations_and_Grounds/Mozart,_Wolfgang_Amadeus/_/K354/analysis.txt"))
    assert labels == {
        "song_id": "when-in-rome:Variations_and_Grounds/Mozart,_Wolfgang_Amadeus/_/K354",
        "title": "K354", "artist": "Mozart, Wolfgang Amadeus",
        "subgenre": "Variations_and_Grounds", "genre_raw": "when-in-rome:Variations_and_Grounds",
    }


def test_augmented_sixths_read_as_dominant_sevenths_on_flat_six(tmp_path: Path) -> None:
    # Synthetic RomanText: music21 roots these on F#, which would map them to a meaningless sus2.
    path = tmp_path / "Piano_Sonatas" / "Nobody,_A" / "_" / "1" / "analysis.txt"
    path.parent.mkdir(parents=True)
    path.write_text("Time Signature: 4/4\n\nm1 C: It6 b2 Ger65 b3 Fr43 b4 V\nm2 I\n")
    report = BuildReport()
    (song,) = when_in_rome.parse(tmp_path, report, workers=1)
    assert song.segments[0].chords == chords("Ab7 Ab7 Ab7 G C")
    assert report.mapped["when-in-rome"] == {"It6 -> 7": 1, "Ger65 -> 7": 1, "Fr43 -> 7": 1}
    assert when_in_rome.augmented_sixth_root([6, 8, 0, 3], default=6) == 8  # Ger7 with F# in the bass
