"""Durations (beats per chord) and section labels from each source's own notation (issue 20)."""

from __future__ import annotations

from pathlib import Path

from core.corpus import billboard, jazz_standards, nottingham, rs200
from core.corpus.rows import BuildReport


def _beats(segments) -> list[tuple[str, float | None]]:
    return [(chord.symbol, beats) for segment in segments for chord, beats in zip(segment.chords, segment.beats, strict=True)]


def test_billboard_bar_tokens_share_the_metre_and_dots_lengthen(tmp_path: Path) -> None:
    path = tmp_path / "0001.txt"
    path.write_text("# title: T\n# artist: A\n# metre: 4/4\n# tonic: C\n\n0.0\tsilence\n"
                    "1.0\tA, verse, | C:maj . G:maj . | F:maj | (3/4) C:maj |\n"
                    "5.0\tB, chorus, | A:min N F:maj G:maj |\n9.0\tend\n", encoding="utf-8")
    _, segments = billboard.parse_file(path, BuildReport())
    assert _beats(segments) == [("C", 2.0), ("G", 2.0), ("F", 4.0), ("C", 3.0), ("Am", 1.0), ("F", 1.0), ("G", 1.0)]
    assert [(segment.section, segment.metre) for segment in segments] == [("verse", 4), ("chorus", 4)]


def test_rs200_bars_share_their_metre_and_keep_the_macro_as_raw_label(tmp_path: Path) -> None:
    path = tmp_path / "song_dt.har"
    path.write_text("Vr: I . IV . | V |\nCh: [3/4] vi | IV R |\nS: [C] $Vr $Ch\n", encoding="utf-8")
    segments = rs200.parse_file(path, BuildReport())
    assert _beats(segments) == [("C", 1.0), ("C", 1.0), ("F", 1.0), ("F", 1.0), ("G", 4.0), ("Am", 3.0), ("F", 1.5)]
    assert [(segment.section, segment.raw_label) for segment in segments] == [("verse", "Vr"), ("chorus", "Ch")]


def test_jazz_slots_share_the_bar_and_empty_slots_or_bars_lengthen_the_chord_before() -> None:
    bars = jazz_standards.read_timed_bars("C7,F7|x| |G7,,,", "t", BuildReport(), 4)
    assert [[(chord.symbol, beats) for chord, beats in bar] for bar in bars] == [
        [("C7", 2.0), ("F7", 2.0)], [("C7", 2.0), ("F7", 6.0)], [], [("G7", 4.0)]]
    assert jazz_standards.read_timed_bars("C7", "t", BuildReport(), None) == [[(jazz_standards.read_symbol("C7")[0], None)]]


def test_nottingham_chords_last_until_the_next_by_note_lengths(tmp_path: Path) -> None:
    assert nottingham.tune_timing("6/8", "1/8") == (6, 1.0)
    assert nottingham.tune_timing("C", "") == (4, 0.5)  # no L: in 4/4 -> eighths, half a beat each
    assert nottingham.tune_timing("free", "1/8") == (None, None)
    path = tmp_path / "tunes.abc"
    path.write_text('X:1\nT:Test\nM:4/4\nL:1/4\nK:G\nP:A\n"G"GABc|"D"d2"G"G>A|]\nP:B\n"C"(3cBAG2|]\n', encoding="utf-8")
    song = nottingham.parse_file(path, BuildReport())[0]
    assert _beats(song.segments) == [("G", 4.0), ("D", 2.0), ("G", 2.0), ("C", 4.0)]
    assert [segment.section for segment in song.segments] == ["A", "B"]
