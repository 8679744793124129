"""The song table (issue 20): merged repeats with summed beats, windows derived from it, sections, stats."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest

from core.chords import Chord
from core.corpus.build import SOURCES, TODAY_SOURCES, build_corpus, song_group, song_windows, windows_of_runs
from core.corpus.rows import Segment, Song
from core.corpus.sections import normalise_label
from core.corpus.song_stats import song_stats
from core.corpus.songs import SONG_COLUMNS, SONGS_FILE, load_songs, merged_chords, songs_frame, windows_from_songs
from core.corpus.table import load_table, write_table
from core.paths import CORPUS_TABLE

FIXTURES = Path(__file__).parent / "fixtures"
C, G, AM, F = Chord(0, "maj"), Chord(7, "maj"), Chord(9, "min"), Chord(5, "maj")
#: sha256 of data/progressions.csv.gz as shipped before the song table (commit 4b85e42): today's sources' windows.
WINDOWS_BEFORE_SONGS_SHA256 = "b750af0ca8bf2a3030a299a7963185744a6e04cfcd6bdcea9256640d8bbc5d18"


def _song(segments: list[Segment], song_id: str = "billboard:0001", title: str = "Test") -> Song:
    return Song("billboard", song_id, title, genre="pop", segments=segments)


def test_repeats_are_merged_with_their_beats_summed_never_dropped() -> None:
    segment = Segment([C, C, G, G, G, C], 0, "major", beats=[2.0, 2.0, 1.0, 1.0, 2.0, 4.0])
    assert merged_chords(segment) == [("C", 4.0), ("G", 4.0), ("C", 4.0)]
    unknown = Segment([C, C, G], 0, "major", beats=[2.0, None, 1.0])
    assert merged_chords(unknown) == [("C", None), ("G", 1.0)]
    assert merged_chords(Segment([C, G], 0, "major")) == [("C", None), ("G", None)]  # no beats known


def test_song_rows_keep_sections_labels_metre_and_order() -> None:
    verse = Segment([C, G, AM, F], 0, "major", section="verse", metre=4, beats=[4.0, 4.0, 2.0, 2.0])
    chorus = Segment([F, F, C], 7, "major", section="B", raw_label="B'", beats=[2.0, 2.0, 4.0])
    frame = songs_frame([_song([verse, chorus])], song_group)
    assert tuple(frame.columns) == SONG_COLUMNS
    assert list(frame["position"]) == list(range(6))
    assert list(frame["chord"]) == ["C", "G", "Am", "F", "F", "C"]
    assert list(frame["beats"]) == [4.0, 4.0, 2.0, 2.0, 4.0, 4.0]
    assert list(frame["section_label"]) == ["verse"] * 4 + ["B"] * 2
    assert list(frame["section_raw"])[-1] == "B'" and list(frame["key_tonic"])[-1] == "G"
    assert frame["metre"].iloc[0] == 4 and pd.isna(frame["metre"].iloc[-1])


def test_windows_from_the_song_table_equal_the_windows_of_the_songs() -> None:
    long = [C, G, AM, F] * 4
    songs = [
        _song([Segment([C, C, G, AM, F], 0, "major", "verse"), Segment([C, C, G, AM, F], 0, "major", "verse"),
               Segment(long, 0, "major", "chorus", ends=False), Segment([G, C], 0, "major", "")]),
        # phrase pieces joined: a repeat across the join collapses in the window, not in the table
        _song([Segment([C, G], 2, "minor", "", ends=False, label="verse", joins_next=True),
               Segment([G, AM, F], 2, "minor", "", ends=True, label="chorus")], "pop909:001", "Other"),
    ]
    frame = songs_frame(songs, song_group)
    derived = windows_from_songs(frame, windows_of_runs)
    assert derived == [row for song in songs for row in song_windows(song)]
    assert [row["chords"] for row in derived if row["song_id"] == "pop909:001"] == ["C G Am F"]
    assert len(frame[frame["song_id"] == "pop909:001"]) == 5  # G twice: one per section


def test_section_labels_are_normalised_never_guessed() -> None:
    assert [normalise_label(raw) for raw in ("Verse 2", "prechorus", "A'", "Z", "solo", "link", "")] == [
        "verse", "pre-chorus", "A", "other", "instrumental", "other", "other"]


def test_song_stats_count_sections_durations_and_split_groups() -> None:
    named = [Segment([C, G], 0, "major", "verse", beats=[4.0, 4.0]), Segment([F, C], 0, "major", "chorus", beats=[2.0, None])]
    songs = [_song(named), _song([Segment([C, G], 0, "major", "")], "pop909:002", "Plain")]
    frame = songs_frame(songs, song_group)
    frame["split"] = ["train"] * 4 + ["test"] * 2
    stats = song_stats(frame)
    assert (stats["songs"], stats["songs_with_sections"], stats["song_groups_in_two_splits"]) == (2, 1, 0)
    assert stats["chords_with_duration_share"] == pytest.approx(3 / 6, abs=1e-4)
    assert stats["section_labels"]["verse"] == {"occurrences": 1, "songs": 1}
    assert stats["harmonic_rhythm"]["by_section"]["verse"]["mean_beats"] == 4.0
    assert stats["transitions"]["roman"]["I -> V"] == 2 and stats["transitions"]["absolute"]["C -> G"] == 2
    frame.loc[frame["song_id"] == "pop909:002", "song_group"] = frame["song_group"].iloc[0]
    assert song_stats(frame)["song_groups_in_two_splits"] == 1


@pytest.mark.skipif(not all((FIXTURES / name).is_dir() for name in SOURCES), reason="source excerpts not all present")
def test_build_writes_a_deterministic_song_table_the_windows_come_from(tmp_path: Path) -> None:
    first, second = tmp_path / "a" / "progressions.csv.gz", tmp_path / "b" / "progressions.csv.gz"
    windows = build_corpus(FIXTURES, first, log=lambda _: None)
    build_corpus(FIXTURES, second, log=lambda _: None)
    assert (first.parent / SONGS_FILE).read_bytes() == (second.parent / SONGS_FILE).read_bytes()
    songs = load_songs(first.parent / SONGS_FILE)
    assert set(songs["song_id"]) >= set(windows["song_id"])
    assert songs.groupby("song_group")["split"].nunique().max() == 1
    pop = songs[songs["source"] == "pop909"]
    assert {"intro", "verse", "chorus"} <= set(pop["section_label"])
    assert songs["beats"].notna().mean() > 0.9


@pytest.fixture(scope="module")
def shipped_songs() -> pd.DataFrame:
    path = CORPUS_TABLE.parent / SONGS_FILE
    if not path.exists():
        pytest.fail(f"{path} missing: the song table must be committed beside the windows")
    return load_songs(path)


def test_shipped_windows_of_todays_sources_are_byte_identical_to_before(tmp_path: Path) -> None:
    table = load_table(CORPUS_TABLE)
    today = table[table["source"].isin(list(TODAY_SOURCES))]
    write_table(today, tmp_path / "today.csv.gz")
    assert hashlib.sha256((tmp_path / "today.csv.gz").read_bytes()).hexdigest() == WINDOWS_BEFORE_SONGS_SHA256


def test_shipped_windows_are_derived_from_the_shipped_song_table(shipped_songs: pd.DataFrame) -> None:
    derived = pd.DataFrame(windows_from_songs(shipped_songs, windows_of_runs))
    groups = dict(zip(shipped_songs["song_id"], shipped_songs["song_group"], strict=False))
    splits = dict(zip(shipped_songs["song_id"], shipped_songs["split"], strict=False))
    derived["song_group"], derived["split"] = derived["song_id"].map(groups), derived["song_id"].map(splits)
    shipped = load_table(CORPUS_TABLE)
    derived = derived.sort_values("window_id", kind="stable").reset_index(drop=True)
    for column in ("window_id", "chords", "split", "song_group", "ends", "section", "key_tonic"):
        assert list(derived[column].astype(str)) == list(shipped[column].astype(str)), column


def test_shipped_song_table_meets_the_targets(shipped_songs: pd.DataFrame) -> None:
    stats = song_stats(shipped_songs)
    assert stats["songs"] >= 7000
    assert stats["song_groups_in_two_splits"] == 0
    assert stats["chords_with_duration_share"] >= 0.9
    assert stats["songs_with_sections"] >= 3000


def test_new_sources_never_move_todays_groups_and_share_their_split() -> None:
    from core.corpus.build import songs_to_tables

    today = [_song([Segment([C, G, AM, F], 0, "major", "verse")], f"billboard:{n:04d}", f"Song {n}") for n in range(40)]
    before_table, before = songs_to_tables(today)
    ireal_twin = Song("ireal", "ireal:1", "Song 7", "Someone", genre="jazz", segments=[Segment([F, G, C], 0, "major", "A")])
    fresh = [Song("openewld", f"openewld:{n}", f"New {n}", genre="pop", segments=[Segment([C, F, G], 0, "major")])
             for n in range(20)]
    table, after = songs_to_tables(today + [ireal_twin, *fresh])
    old = after[after["source"] == "billboard"].reset_index(drop=True)
    assert old.equals(before)  # today's windows and splits, window for window
    split_of = dict(zip(table["song_group"], table["split"], strict=False))
    assert table[table["song_id"] == "ireal:1"]["split"].iloc[0] == split_of["song 7"]
    assert table.groupby("song_group")["split"].nunique().max() == 1
    assert set(table[table["source"] == "openewld"]["split"]) >= {"train"}
