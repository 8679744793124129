"""iReal Pro playlists parser on real charts (tests/fixtures/ireal-playlists: excerpts of the five playlists).

The fixture files are the source's own files cut down to a few charts each (re-encoded, same text):
ABC is in Pop 400 and Brendan's Rep (one chart after de-duplication), Brendan's Rep also holds a chart
without chords and one without a music string (both reported by title).
"""

import string
import urllib.parse
from dataclasses import replace
from pathlib import Path

import pytest

from core.chords import Chord
from core.corpus import ireal
from core.corpus.rows import BuildReport
from core.errors import InputError

FIXTURE = Path(__file__).parent / "fixtures" / "ireal-playlists"


@pytest.fixture(scope="module")
def read() -> tuple[dict[str, ireal.IrealChart], BuildReport]:
    report = BuildReport()
    return {chart.title: chart for chart in ireal.ireal_charts(FIXTURE, report)}, report


@pytest.fixture(scope="module")
def charts(read) -> dict[str, ireal.IrealChart]:
    return read[0]


def bars_text(section: ireal.IrealSection) -> list[str]:
    """Each bar as ``"Am7:2 D7:2"`` (beats shown when not the whole 4/4 bar), ``N.C.`` for no chord."""
    def chord_text(timed: ireal.TimedChord) -> str:
        name = timed.chord.symbol if timed.chord else "N.C."
        return name if timed.beats == 4 else f"{name}:{timed.beats:g}"
    return [" ".join(chord_text(timed) for timed in bar.chords) for bar in section.bars]


def write_playlist(folder: Path, *songs: str, name: str = "pop400.txt") -> Path:
    """A playlist file of readable songs ``title=composer==style=key==music`` (music under 52 characters)."""
    folder.mkdir(exist_ok=True)
    text = "===".join([*songs, "Test list"])
    (folder / name).write_text("irealb://" + urllib.parse.quote(text, safe="=/,"), encoding="utf-8")
    return folder


def song(title: str, music: str, key: str = "C", style: str = "Pop") -> str:
    assert len(music) <= 51, "longer music strings would be scrambled"
    return f"{title}=Doe Jane=={style}={key}=={ireal.MUSIC_MARKER}{music}=Pop-Rock=120=1"


# --- unscrambling ---------------------------------------------------------------------------------------


def test_unscramble_a_real_chart() -> None:
    raw_playlist = urllib.parse.unquote((FIXTURE / "country.txt").read_text(encoding="utf-8"))
    music = raw_playlist.split("Blue Moon of Kentucky=")[1].split("===")[0].split("=")[5]
    readable = ireal.unscramble(music.split(ireal.MUSIC_MARKER)[1])
    assert readable == (
        "[*iT44C   |C7   |F7   | x  |C   |G7   |C   | x  ]{*AC   |C7   |F7   | x  |N1C   | x  |G7   | x  }"
        "|N2C   |G7   |C   |C7   ][*BF   |F7   |C   |C7   |F   |F7   |C   |G7   ][*AC   |C7   |F7   | x  "
        "||C   |G7   |C   | x  Z "
    )


def test_unscramble_swaps_mirror_positions_in_50_character_blocks() -> None:
    text = (string.ascii_lowercase * 5)[:130]  # two blocks of 50, then 30 left alone
    out = ireal.unscramble(text)
    for block in (0, 50):
        for i in [*range(5), *range(10, 24)]:
            assert out[block + i] == text[block + 49 - i] and out[block + 49 - i] == text[block + i]
        for i in [*range(5, 10), *range(24, 26), *range(40, 45)]:
            assert out[block + i] == text[block + i]
    assert out[100:] == text[100:]
    assert ireal.unscramble("a" * 51) == "a" * 51  # 50 or 51 characters left are not scrambled
    assert ireal.unscramble("C7XyQKcl LZ") == "C7   | x  |"


# --- repeats, endings, repeat signs, time signatures, sections ---------------------------------------------


def test_first_and_second_endings_and_sections(charts) -> None:
    chart = charts["Blue Moon of Kentucky"]
    assert [(s.label, s.raw_label) for s in chart.sections] == [
        ("intro", "*i"), ("A", "*A"), ("A", "*A"), ("B", "*B"), ("A", "*A")]
    first, second = chart.sections[1], chart.sections[2]
    assert bars_text(first) == ["C", "C7", "F7", "F7", "C", "C", "G7", "G7"]  # N1: "C | x | G7 | x }"
    assert bars_text(second) == ["C", "C7", "F7", "F7", "C", "G7", "C", "C7"]  # N2 after the repeat
    assert all(bar.time_signature == "4/4" and bar.beats == 4 for s in chart.sections for bar in s.bars)


def test_n0_endings_long_second_ending_and_the_ending_to_end(charts) -> None:
    (section,) = charts["'S Wonderful"].sections  # no section marks: one section, "other"
    assert (section.label, section.raw_label) == ("other", "")
    bars = bars_text(section)
    assert bars[:8] == ["Eb", "Eb", "Edim", "Edim", "Fm7", "Bb7", "Eb", "Eb"]  # N1 "x }"
    assert bars[8:15] == bars[:7]  # the repeat, then N2
    assert bars[15:20] == ["Am7:2 D7:2", "G", "Am7:2 D7:2", "G", "Am7:2 D7:2"]  # "r" repeats the two bars before
    assert bars[-6:] == ["Gm7", "C7", "Fm7", "Bb7", "Eb", "Eb"]  # the N0 "To end" ending, not "For repeats"
    assert len(bars) == 36


def test_x_r_no_chord_and_time_signature_changes(charts) -> None:
    chart = charts["ABC"]
    a_section, b_section = chart.sections[0], chart.sections[1]
    assert bars_text(a_section) == ["Ab:2 C#:2"] * 8  # "x" and "r" (with the empty bar after it) repeat bars
    assert bars_text(b_section)[7:] == ["Ab:2 C#:1", "Ab", "Ab", "Ab", "Ab"]  # N1 "lAb | x Q |   r|    }"
    three_four = b_section.bars[7]
    assert (three_four.time_signature, three_four.beats) == ("3/4", 3)  # "T34Ab  sDb," is 2 + 1 beats
    last_b = bars_text(chart.sections[3])
    assert last_b[8:18] == ["Ab:2 C#:2", "Ab:2 C#:2", "Ab:2 C#:2", "Ab:2 C#:1", *["N.C."] * 6]  # "n | x | r| | r|"
    assert ("segno", "coda", "D.S. al Coda") == chart.jumps[:3]  # read, not followed


def test_two_four_bar_and_vamp_count(charts) -> None:
    sections = charts["Across the Universe"].sections
    assert [s.label for s in sections] == ["intro", "A", "A", "B", "A", "A", "B", "A", "A", "B"]
    assert bars_text(sections[2]) == ["D:2 Bm:2", "F#m", "Em:2", "Gm"]  # "T24N2E- |T44G-"
    assert [bar.time_signature for bar in sections[2].bars] == ["4/4", "4/4", "2/4", "4/4"]
    assert bars_text(sections[-1])[-9:] == ["D"] * 9  # "{D <8x> }" after "... G | D }"


def test_repeat_counts_from_comments(charts) -> None:
    sections = charts["(I've Had) The Time Of My Life"].sections
    assert [s.label for s in sections[:8]] == ["A", "A", "A", "B", "B", "B", "B", "C"]  # "<3x> }", "<4x> }"
    assert bars_text(sections[0]) == ["E", "C#m7", "D", "D"]


def test_compound_metres(charts) -> None:
    first = charts["Back Door Man"].sections[0]
    assert [bar.time_signature for bar in first.bars][3:6] == ["12/8", "6/8", "12/8"]  # "||T68E7 |T12 x"
    assert [bar.beats for bar in first.bars][3:6] == [12, 6, 12]
    assert [timed.beats for bar in first.bars for timed in bar.chords][3:6] == [12, 6, 12]


def test_section_named_by_a_comment_and_custom_qualities(charts) -> None:
    taint = charts["'Tain't No Sin To Take Off Your Skin"]
    assert [(s.label, s.raw_label) for s in taint.sections][:3] == [
        ("verse", "<Verse>"), ("verse", "<Verse>"), ("A", "*A")]  # "<*74Chorus>" beside "*A": the mark wins
    alone = charts["Alone"]
    assert bars_text(alone.sections[0])[:2] == ["Am:2 F:2", "G:2 G:2"]  # "A*m* F |G G/F": custom quality read
    assert bars_text(alone.sections[3])[3] == "F:2 C:2"  # "F* * C": an empty custom quality


def test_second_ending_that_repeats_and_a_section_without_chords(tmp_path: Path) -> None:
    folder = write_playlist(tmp_path / "lists", song("Nested", "{*AC   |N1D   }{N2E   |F   }*B    |    Z"))
    (chart,) = ireal.ireal_charts(folder, BuildReport())
    first, second = chart.sections  # *B only holds F: no chord written in it, so it is left out
    assert (first.label, second.label) == ("A", "A")
    assert (bars_text(first), bars_text(second)) == (["C", "D"], ["C", "E", "F", "E", "F"])


def test_layout_gaps_are_not_bars_but_an_empty_bar_holds_its_chord(tmp_path: Path) -> None:
    folder = write_playlist(tmp_path / "lists", song("Gaps", "[C   ]|        {D   |N1E   }    |    |N2F   Z"),
                            song("Held", "[C   |    |G   |    Z"))
    charts = {chart.title: chart for chart in ireal.ireal_charts(folder, BuildReport())}
    assert bars_text(charts["Gaps"].sections[0]) == ["C", "D", "E", "D", "F"]
    assert bars_text(charts["Held"].sections[0]) == ["C", "C", "G", "G"]


# --- durations ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cells", "beats", "expected"),
    [([4], 4, [4]), ([2, 2], 4, [2, 2]), ([1, 1], 4, [2, 2]), ([2, 1], 4, [2, 2]), ([3, 1], 4, [3, 1]),
     ([2, 1, 1], 4, [2, 1, 1]), ([1, 1, 1], 4, [2, 1, 1]), ([1], 3, [3]), ([2, 2], 3, [2, 1]), ([3, 1], 3, [2, 1]),
     ([2, 2], 6, [3, 3]), ([2, 2], 2, [1, 1]), ([1] * 5, 4, [0.8] * 5), ([2, 6], 12, [3, 9]), ([], 4, [])],
)
def test_bar_beats(cells: list[int], beats: int, expected: list[float]) -> None:
    assert ireal.bar_beats(cells, beats) == expected


def test_chord_durations_add_up_to_each_bar(charts) -> None:
    for chart in charts.values():
        for section in chart.sections:
            for bar in section.bars:
                if bar.chords:
                    assert sum(timed.beats for timed in bar.chords) == pytest.approx(bar.beats), (chart.title, bar)


def test_cells_decide_durations(tmp_path: Path) -> None:
    folder = write_playlist(tmp_path / "lists", song("Cells", "[C7 F7 |C7   |C7,F7,|C  F7|W/E  G |p F   |    Z"))
    (chart,) = ireal.ireal_charts(folder, BuildReport())
    assert bars_text(chart.sections[0]) == ["C7:2 F7:2", "C7", "C7:2 F7:2", "C:3 F7:1", "F7:2 G:2", "G:1 F:3", "F"]


# --- metadata, keys, genres, de-duplication, reporting ---------------------------------------------------------


def test_metadata_key_and_genre(charts) -> None:
    blues = charts["All Your Love"]
    assert (blues.composer, blues.style, blues.genre, blues.key, blues.key_tonic, blues.scale_type) == (
        "Otis Rush", "Slow Blues", "blues", "E-", 4, "minor")
    sue = charts["A Boy Named Sue"]  # "Boy Named Sue, A" by "Cash Johnny"
    assert (sue.composer, sue.genre, sue.key_tonic, sue.scale_type) == ("Johnny Cash", "country", 10, "major")
    assert charts["Alone"].genre == "rock" and charts["ABC"].genre == "soul" and charts["'S Wonderful"].genre == "jazz"
    assert charts["(I've Had) The Time Of My Life"].genre == "pop"  # "110BPM Pop Ballad GAT-VOX"
    assert (blues.tempo, charts["ABC"].tempo, charts["'Tain't No Sin To Take Off Your Skin"].tempo) == (80, 93, None)


@pytest.mark.parametrize(
    ("style", "playlist_genre", "genre"),
    [("Rock Pop", "pop", "rock"), ("Country Rock", "pop", "country"), ("R'n'B", "pop", "soul"),
     ("Bossa Nova", "jazz", "latin"), ("Ballad", "jazz", "jazz"), ("Ballad", "pop", "pop"),
     ("120BPM Disco ALL", "pop", "disco"), ("Medium Shuffle", "blues", "blues"), ("Waltz", "country", "country")],
)
def test_genre_of_style(style: str, playlist_genre: str, genre: str) -> None:
    assert ireal.genre_of_style(style, playlist_genre) == genre


def test_duplicates_across_playlists_are_one_chart_and_problems_are_reported(read) -> None:
    charts, report = read
    assert len(charts) == 10
    assert charts["ABC"].playlists == ("Pop 400", "Brendan's Rep") and charts["ABC"].song_id == "ireal:pop400:0001"
    skipped = report.skipped["ireal"]
    assert any(line.endswith("brendan.html: (Everything I Do) I Do It For You: no chords") for line in skipped)
    assert any("brendan.html: Cry Me A River: no music string" in line for line in skipped)
    assert len(skipped) == 2
    assert report.chords_read["ireal"] > 300
    assert report.mapped["ireal"]["B7sus -> sus4"] >= 1  # "B7sus" mapped to the nearest quality


def test_deduplicate_by_title_and_a_shared_composer_word(charts) -> None:
    base = charts["Blue Moon of Kentucky"]
    same = replace(base, composer="Monroe, Bill (1946)", playlists=("Other",), song_id="other:1")
    different = replace(base, composer="Elvis Presley", playlists=("Other",), song_id="other:2")
    cover = replace(base, title="Blue Moon Of Kentucky!", composer="Patsy Cline (Bill Monroe)", playlists=("More",),
                    song_id="other:3")
    kept = ireal.deduplicate([base, same, different, cover])
    assert [chart.song_id for chart in kept] == [base.song_id, "other:2"]
    assert kept[0].playlists == ("Country 50", "Other", "More") and kept[1].playlists == ("Other",)


def test_songs_keep_sections_and_repeats() -> None:
    report = BuildReport()
    songs = {song.title: song for song in ireal.ireal_songs(FIXTURE, report)}
    kentucky = songs["Blue Moon of Kentucky"]
    assert (kentucky.source, kentucky.song_id, kentucky.artist, kentucky.genre, kentucky.genre_raw) == (
        "ireal", "ireal:country:0001", "Bill Monroe", "country", "Country")
    assert [segment.section for segment in kentucky.segments] == ["intro", "A", "A", "B", "A"]
    assert [chord.symbol for chord in kentucky.segments[1].chords] == ["C", "C7", "F7", "F7", "C", "C", "G7", "G7"]
    assert all((segment.key_tonic, segment.scale_type) == (0, "major") for segment in kentucky.segments)
    abc = songs["ABC"]
    assert Chord(8, "maj") in abc.segments[0].chords and None not in abc.segments[3].chords  # N.C. left out


def test_malformed_charts_are_reported_by_title(tmp_path: Path) -> None:
    folder = write_playlist(
        tmp_path / "lists",
        song("Fine", "[C   |G7   Z"),
        song("Odd Chord", "[C   |C@9 G7  |F   Z"),
        song("Starts With X", "[ x  |G   Z"),
        song("Bad Key", "[A-   |E7   Z", key="Q"),
        "Too Short=Doe Jane==Pop",
        song("Empty", "[    |    Z"),
    )
    report = BuildReport()
    charts = {chart.title: chart for chart in ireal.ireal_charts(folder, report)}
    assert set(charts) == {"Fine", "Odd Chord", "Starts With X", "Bad Key"}
    skipped = "\n".join(report.skipped["ireal"])
    assert "Odd Chord: unreadable characters '@9' skipped" in skipped
    assert bars_text(charts["Odd Chord"].sections[0]) == ["C", "C:2 G7:2", "F"]
    assert "Starts With X: repeat sign 'x' in the first bar" in skipped
    assert "Bad Key: unreadable key 'Q': key estimated from the chords" in skipped
    assert (charts["Bad Key"].key_tonic, charts["Bad Key"].scale_type) == (9, "minor")
    assert "Too Short: no music string" in skipped and "Empty: no chords" in skipped
    assert len(report.skipped["ireal"]) == 5


def test_unreadable_chord_symbol_is_reported(tmp_path: Path) -> None:
    folder = write_playlist(tmp_path / "lists", song("Strange", "[C   |Cb#bb   |G   Z"))
    report = BuildReport()
    (chart,) = ireal.ireal_charts(folder, report)
    assert any("Strange: unreadable chord 'Cb#bb'" in line for line in report.skipped["ireal"])
    assert bars_text(chart.sections[0]) == ["C", "C", "G"]  # its cells go to the chord before


def test_a_missing_or_empty_folder_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is not a folder"):
        ireal.ireal_charts(tmp_path / "nowhere", BuildReport())
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="holds no playlist file"):
        ireal.ireal_charts(tmp_path / "empty", BuildReport())
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("no playlist here", encoding="utf-8")
    report = BuildReport()
    with pytest.raises(InputError, match="no readable iReal Pro chart"):
        ireal.ireal_charts(tmp_path / "junk", report)
    assert report.skipped["ireal"] == [f"{tmp_path / 'junk' / 'notes.txt'}: no irealb:// playlist link in the file"]
