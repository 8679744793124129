"""Billboard SALAMI parser on real excerpts (files 0003, 0022, 0510 and their csv rows)."""

import shutil
from pathlib import Path

import pytest

from core.chords import Chord, parse_symbol
from core.corpus import billboard
from core.corpus.rows import BuildReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def chords(text: str) -> list[Chord]:
    return [parse_symbol(symbol) for symbol in text.split()]


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, object], BuildReport]:
    report = BuildReport()
    songs = billboard.parse(FIXTURES / "billboard", report)
    return {song.song_id: song for song in songs}, report


def test_headers_genre_and_spotify_mood(parsed) -> None:
    songs, report = parsed
    assert sorted(songs) == ["billboard:0003", "billboard:0022", "billboard:0510"]
    song = songs["billboard:0003"]
    assert (song.title, song.artist) == ("I Don't mind", "James Brown")
    assert song.genre == "soul" and song.genre_raw.startswith("Funk / Soul;")
    assert (song.mood, song.mood_evidence) == ("sad", "spotify valence=0.38 energy=0.11")
    assert not report.skipped


def test_sections_and_chords(parsed) -> None:
    song = parsed[0]["billboard:0003"]
    assert [s.section for s in song.segments] == ["intro", "verse", "verse", "interlude", "verse", "interlude"]
    intro = song.segments[0]
    assert intro.chords == chords("Am Am C C Am Am C C Am Am C C")
    assert (intro.key_tonic, intro.scale_type, intro.ends) == (0, "major", True)
    assert song.segments[1].chords[-4:] == chords("G G C C")


def test_tonic_change_and_repeat_marks(parsed) -> None:
    song = parsed[0]["billboard:0022"]
    assert song.genre == "rock"  # "Pop Rock": rock wins over pop
    first_chorus = next(s for s in song.segments if s.section == "chorus")
    assert first_chorus.key_tonic == 7
    # "# tonic: A" before "C', verse": later segments are in A
    assert [s.key_tonic for s in song.segments[-3:]] == [9, 9, 9]
    assert song.segments[-3].chords[:4] == chords("A E G D")  # E:maj/3 -> E (bass dropped)
    outro = song.segments[-1]
    assert outro.section == "outro"
    assert outro.chords == chords("A A F#m F G") * 4 + chords("A")  # "| x4" then one more bar


def test_deezer_mood_preferred(parsed) -> None:
    song = parsed[0]["billboard:0510"]
    assert song.genre == "blues"
    assert (song.mood, song.mood_evidence) == ("tense", "deezer valence=-1.06 arousal=0.74")
    assert song.segments[0].chords == chords("D7 G7 D7 A7")
    assert song.segments[-1].chords[-1] == parse_symbol("D9")


def test_malformed_lines_are_skipped_and_reported(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "billboard", tmp_path / "billboard")
    target = tmp_path / "billboard" / "salami_chords" / "0510.txt"
    lines = target.read_text().splitlines()
    lines.insert(7, "no tab and no time here")
    lines.insert(8, "20.0\t| D:7 | Q:maj | G:7 |")
    target.write_text("\n".join(lines) + "\n")
    report = BuildReport()
    songs = {s.song_id: s for s in billboard.parse(tmp_path / "billboard", report)}
    skipped = report.skipped["billboard"]
    assert len(skipped) == 2
    assert skipped[0].endswith("0510.txt:8: expected '<time><TAB><content>'")
    assert "0510.txt:9:" in skipped[1] and "Q:maj" in skipped[1]
    intro = songs["billboard:0510"].segments[0]
    assert intro.chords == chords("D7 G7 D7 A7 D7 G7")  # the readable chords of the bad line stay


@pytest.mark.parametrize(
    ("tags", "genre"),
    [
        ("", "pop"),
        ("Rock;Pop;Rock", "rock"),
        ("Reggae", "pop"),
        ("Rhythm & Blues", "soul"),
        ("Country > Country-Pop", "country"),
        ("Disco;disco", "disco"),
        ("Latin dance", "latin"),
        ("Pop;Rock", "pop"),
    ],
)
def test_genre_from_tags(tags: str, genre: str) -> None:
    assert billboard.genre_from_tags(tags) == genre
