"""The corpus build (on the committed real excerpts) and the invariants of the shipped table."""

from pathlib import Path

import pytest

from core.chords import Chord
from core.conditions import GENRES, MOODS
from core.corpus.build import MAX_WINDOW_CHORDS, SOURCES, build_corpus, song_windows, source_name, window_lengths
from core.corpus.rows import Segment, Song
from core.corpus.table import COLUMNS, load_table
from core.paths import CORPUS_TABLE
from core.vocabulary import VOCAB

FIXTURES = Path(__file__).parent / "fixtures"


def test_window_lengths_are_near_equal_and_cover_everything() -> None:
    assert window_lengths(25) == [9, 8, 8]
    assert window_lengths(11) == [11]
    assert window_lengths(12) == [6, 6]
    assert window_lengths(0) == []
    for n in range(1, 200):
        lengths = window_lengths(n)
        assert sum(lengths) == n and max(lengths) <= MAX_WINDOW_CHORDS and max(lengths) - min(lengths) <= 1


def test_song_windows_collapse_repeats_dedupe_and_mark_ends() -> None:
    c, g, am, f = Chord(0, "maj"), Chord(7, "maj"), Chord(9, "min"), Chord(5, "maj")
    verse = Segment([c, c, g, am, f], key_tonic=0, scale_type="major", section="verse", ends=True)
    long_chorus = Segment([c, g] * 7, key_tonic=0, scale_type="major", section="chorus", ends=False)
    song = Song("billboard", "billboard:0001", "Test", segments=[verse, verse, long_chorus])
    rows = song_windows(song)
    assert [r["chords"] for r in rows[:1]] == ["C G Am F"]
    assert len(rows) == 1 + 2  # the repeated verse is kept once; 14 chords -> two windows of 7
    assert [r["ends"] for r in rows] == [1, 0, 0]
    assert rows[1]["n_chords"] == 7 and rows[1]["section"] == "chorus"


@pytest.mark.skipif(not all((FIXTURES / name).is_dir() for name in SOURCES), reason="source excerpts not all present")
def test_build_from_real_excerpts_is_deterministic(tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv.gz", tmp_path / "b.csv.gz"
    frame = build_corpus(FIXTURES, first, log=lambda _: None)
    build_corpus(FIXTURES, second, log=lambda _: None)
    assert first.read_bytes() == second.read_bytes()
    assert (tmp_path / "build_report.json").exists()
    assert set(frame["source"]) == set(map(source_name, SOURCES))


@pytest.fixture(scope="module")
def table():
    if not CORPUS_TABLE.exists():
        pytest.fail(f"{CORPUS_TABLE} missing: the shipped table must be committed")
    return load_table()


def test_shipped_table_has_every_source_and_label(table) -> None:
    assert tuple(table.columns) == COLUMNS
    assert set(table["source"]) == set(map(source_name, SOURCES))
    assert set(table["genre"]) - {""} <= set(GENRES) and len(set(table["genre"]) - {""}) >= 8
    assert set(table["mood"]) <= set(MOODS) | {""}
    assert set(table["scale_type"]) == {"major", "minor"}
    assert table["song_id"].nunique() > 2000 and len(table) > 20000


def test_shipped_windows_are_valid_vocabulary_sequences(table) -> None:
    for chords, n in zip(table["chords"], table["n_chords"], strict=True):
        symbols = chords.split()
        assert len(symbols) == n and 2 <= n <= MAX_WINDOW_CHORDS
        VOCAB.encode(symbols)  # raises on an unknown symbol
        assert all(a != b for a, b in zip(symbols, symbols[1:], strict=False)), chords


def test_splits_are_by_song_group_and_cover_every_genre(table) -> None:
    splits_per_group = table.groupby("song_group")["split"].nunique()
    assert (splits_per_group == 1).all(), "a song group appears in two splits"
    splits_per_song = table.groupby("song_id")["split"].nunique()
    assert (splits_per_song == 1).all()
    assert set(table["split"]) == {"train", "validation", "test"}
    for genre, rows in table.groupby("genre"):
        if rows["song_group"].nunique() >= 30:
            assert {"train", "validation", "test"} <= set(rows["split"]), genre
    share = table.drop_duplicates("song_group")["split"].value_counts(normalize=True)
    assert 0.07 < share["test"] < 0.13 and 0.07 < share["validation"] < 0.13
