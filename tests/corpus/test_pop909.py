"""POP909 parser on a real excerpt: songs 001 (first 30 chord rows) and 623 (rows 84-125)."""

import shutil
from pathlib import Path

from core.corpus import pop909
from core.corpus.rows import BuildReport, Segment

FIXTURE = Path(__file__).parent.parent / "fixtures" / "pop909"


def symbols(segment) -> str:
    return " ".join(chord.symbol for chord in segment.chords)


def runs(song) -> list[Segment]:
    """The song's segments with phrase pieces (``joins_next``) joined back: what the windows are cut from."""
    joined: list[Segment] = []
    joining = False
    for segment in song.segments:
        if joining:
            last = joined[-1]
            joined[-1] = Segment(last.chords + segment.chords, last.key_tonic, last.scale_type, last.section, segment.ends)
        else:
            joined.append(Segment(list(segment.chords), segment.key_tonic, segment.scale_type, segment.section, segment.ends))
        joining = segment.joins_next
    return joined


def test_songs_titles_and_labels() -> None:
    report = BuildReport()
    songs = pop909.parse(FIXTURE, report)
    assert [s.song_id for s in songs] == ["pop909:001", "pop909:623"]
    assert (songs[0].title, songs[0].artist) == ("123我爱你", "新乐尘符")
    assert (songs[1].title, songs[1].artist) == ("父亲写的散文诗", "李健")
    assert all(s.genre == "pop" and s.genre_raw == "pop909 (Chinese pop)" and s.mood == "" for s in songs)
    assert not report.skipped["pop909"]


def test_leading_rest_dropped_and_key_from_key_file() -> None:
    song = pop909.parse(FIXTURE, BuildReport())[0]
    assert len(runs(song)) == 1
    segment = runs(song)[0]
    assert (segment.key_tonic, segment.scale_type, segment.ends) == (6, "major", True)  # Gb:maj
    assert symbols(segment).startswith("B C# Bbm Ebm B C# F# B F#maj7 C# Bbm Bbsus4 Ebm")
    assert len(segment.chords) == 26


def test_long_rest_and_key_change_split_segments() -> None:
    song = pop909.parse(FIXTURE, BuildReport())[1]
    got = [(s.key_tonic, s.scale_type, s.ends, symbols(s)) for s in runs(song)]
    assert got == [
        (0, "major", True, "G C C F F G G G"),  # then 20 beats of N: a phrase boundary
        (0, "major", False, "G C A D"),  # D:maj starts at 230.68 s, before the key change at 231.06 s
        (2, "major", True, "D Bm7 Bm7 F#m7 Em G D A Bm C#m"),  # D major from 231.06 s
    ]


def test_chords_counted_and_inversions_mapped() -> None:
    report = BuildReport()
    pop909.parse(FIXTURE, report)
    assert report.chords_read["pop909"] == 26 + 22
    assert report.mapped["pop909"] == {}  # every label here is an exact quality (slash bass dropped)


def test_malformed_lines_skipped_and_missing_index_reported(tmp_path: Path) -> None:
    folder = tmp_path / "pop909" / "001"
    shutil.copytree(FIXTURE / "001", folder)
    with (folder / "chord_midi.txt").open("a", encoding="utf-8") as handle:
        handle.write("40.0\t41.0\tQ:maj\n41.0\tnot-a-row\n")
    with (folder / "key_audio.txt").open("a", encoding="utf-8") as handle:
        handle.write("191.9\t200.0\tH:dorian\n")
    report = BuildReport()
    songs = pop909.parse(tmp_path / "pop909", report)
    assert len(songs) == 1 and len(songs[0].segments[0].chords) == 26
    assert songs[0].title == "001"
    skipped = report.skipped["pop909"]
    assert any("index.xlsx missing" in s for s in skipped)
    assert any(s.startswith(f"{folder / 'chord_midi.txt'}:31:") and "Q:maj" in s for s in skipped)
    assert any(s.startswith(f"{folder / 'chord_midi.txt'}:32:") for s in skipped)
    assert any(s.startswith(f"{folder / 'key_audio.txt'}:2:") for s in skipped)


def test_phrases_label_sections_and_tempo_gives_beats() -> None:
    song = pop909.parse(FIXTURE, BuildReport())[0]  # 001: i4A4B8..., 90 BPM, chords of two beats then one
    labels = [(segment.label, segment.raw_label) for segment in song.segments]
    assert labels[:3] == [("intro", "i4"), ("verse", "A4"), ("chorus", "B8")]
    assert [segment.joins_next for segment in song.segments] == [True] * (len(song.segments) - 1) + [False]
    assert song.segments[0].beats[:4] == [2.0, 2.0, 2.0, 2.0]
    assert sum(song.segments[0].beats) == 16  # the intro's four bars of 4/4
    assert all(segment.metre == 4 for segment in song.segments)


def test_phrase_letters_map_to_labels_without_guessing() -> None:
    from core.corpus.pop909_structure import phrase_label, read_phrases

    assert [phrase_label(c) for c in "ABCXiobx"] == [
        "verse", "chorus", "C", "other", "intro", "outro", "instrumental", "instrumental"]
    assert read_phrases("i4A4B8o3") == [("intro", "i4", 0), ("verse", "A4", 4), ("chorus", "B8", 8), ("outro", "o3", 16)]
