"""RS200 .har parser on real excerpts (1999 by both analysts, A Day in the Life _dt)."""

import shutil
from pathlib import Path

import pytest

from core.chords import Chord, parse_symbol
from core.corpus import rs200
from core.corpus.rows import BuildReport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def chords(text: str) -> list[Chord]:
    return [parse_symbol(symbol) for symbol in text.split()]


@pytest.fixture(scope="module")
def songs() -> dict[str, object]:
    report = BuildReport()
    parsed = rs200.parse(FIXTURES / "rs200", report)
    assert not report.skipped
    return {song.song_id: song for song in parsed}


def test_one_song_per_analyst_with_title_and_genre(songs) -> None:
    assert sorted(songs) == ["rs200:1999_dt", "rs200:1999_tdc", "rs200:a_day_in_the_life_dt"]
    song = songs["rs200:a_day_in_the_life_dt"]
    assert (song.title, song.artist, song.genre, song.genre_raw) == ("A Day In The Life", "", "rock", "rolling-stone-500 (rs200)")
    assert (song.mood, song.mood_evidence) == ("", "")


def test_macro_expansion(songs) -> None:
    # In: R |*7 $C*4 $A*4 with C: V7 | |  and A: I | |, in [F]
    intro = songs["rs200:1999_tdc"].segments[0]
    assert intro.section == "intro"
    assert intro.chords == chords("C7 C7 C7 C7 F F F F")
    # S: ... $Vr*2 ...  with Vr: $A*8 $B*2 and B: IV | vi7 | $A  (a repeated section stays one segment)
    verse = songs["rs200:1999_tdc"].segments[1]
    assert verse.section == "verse"
    assert verse.chords == (chords("F") * 8 + chords("Bb Dm7 F") * 2) * 2
    assert (verse.key_tonic, verse.scale_type) == (5, "major")


def test_dot_repeats_previous_chord_and_bar_repeat(songs) -> None:
    # InP: I64 V11 | ...  ; BP: I bVII | I bVII | I bVII | I bVII I . |
    intro = songs["rs200:1999_dt"].segments[0]
    assert intro.chords[:2] == chords("F Csus4")
    assert intro.chords[16:26] == chords("F Eb F Eb F Eb F Eb F F")


def test_key_changes_split_segments_and_are_scoped_to_their_macro(songs) -> None:
    segments = songs["rs200:a_day_in_the_life_dt"].segments
    assert [s.section for s in segments[:3]] == ["intro", "verse", "verse"]
    assert segments[1].chords[:4] == chords("G Bm Em C")
    bridge = segments[7]
    assert (bridge.section, bridge.key_tonic) == ("bridge", 4)  # Br1: [E] V |*23 I | ...
    assert bridge.chords[:24] == chords("B") * 23 + chords("E")
    after = segments[8]
    assert (after.section, after.key_tonic) == ("verse", 7)  # back in [G] after the macro ends
    assert after.chords[:4] == chords("G Bm Em C")


@pytest.mark.parametrize(
    ("label", "tonic", "symbol"),
    [
        ("I", 0, "C"), ("bVII", 0, "Bb"), ("iv", 0, "Fm"), ("I64", 5, "F"), ("V7", 0, "G7"), ("I7", 0, "Cmaj7"),
        ("IVd7", 0, "F7"), ("V/vi", 0, "E"), ("V7/V", 10, "C7"), ("viix42/V", 0, "F#dim7"), ("iih7", 0, "Dm7b5"),
        ("vi7", 0, "Am7"), ("Vs4", 0, "Gsus4"), ("bVI", 4, "C"),
    ],
)
def test_rs200_numerals(label: str, tonic: int, symbol: str) -> None:
    assert rs200.rs200_chord(label, tonic)[0] == parse_symbol(symbol)


def test_unreadable_tokens_are_skipped_with_file_and_line(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "rs200", tmp_path / "rs200")
    target = tmp_path / "rs200" / "rs200_harmony" / "1999_tdc.har"
    broken = "Bad: I | Zq7 | IV | $Missing\nthis line is not a definition\nS: [F] $Bad $In"
    text = target.read_text().replace("S: [F] $In", broken)
    target.write_text(text)
    report = BuildReport()
    song = {s.song_id: s for s in rs200.parse(tmp_path / "rs200", report)}["rs200:1999_tdc"]
    skipped = report.skipped["rs200"]
    assert len(skipped) == 3
    assert any("1999_tdc.har:12:" in s and "not a 'Name: ...' definition" in s for s in skipped)
    assert any("1999_tdc.har:11:" in s and "Zq7" in s for s in skipped)
    assert any("1999_tdc.har:11:" in s and "undefined macro $Missing" in s for s in skipped)
    assert song.segments[0].chords == chords("F Bb")  # the readable chords of the bad macro stay
    assert song.segments[1].chords == chords("C7 C7 C7 C7 F F F F")
