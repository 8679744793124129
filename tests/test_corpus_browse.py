"""core.corpus.browse: what the Dataset page lists and searches."""

from __future__ import annotations

import pytest
from sample_corpus import sample_frame

from core.chords import parse_symbol
from core.corpus import browse
from core.errors import InputError


def test_counts_frame_has_songs_and_windows_per_label() -> None:
    counts = browse.counts_frame(sample_frame(), "source")
    assert list(counts.columns) == ["source", "songs", "windows"]
    assert counts.set_index("source").loc["pop909"].tolist() == [2, 5]
    moods = browse.counts_frame(sample_frame(), "mood").set_index("mood")
    assert moods.loc["unspecified", "songs"] == 1  # the empty mood label


def test_search_matches_title_artist_and_whole_chord_symbols() -> None:
    frame = sample_frame()
    assert set(browse.search_windows(frame, "sunny")["song_id"]) == {"s1"}
    assert set(browse.search_windows(frame, "MOZART")["song_id"]) == {"s4"}
    assert set(browse.search_windows(frame, "B7")["window_id"]) == {"s5-w1"}  # not Bbmaj7
    assert set(browse.search_windows(frame, "am f")["window_id"]) == {"s1-w0", "s1-w2", "s2-w0"}
    assert len(browse.search_windows(frame, "  ")) == len(frame)
    assert browse.search_windows(frame, "nothing-like-this").empty


def test_songs_table_has_one_row_per_song() -> None:
    songs = browse.songs_table(sample_frame())
    assert list(songs.columns) == list(browse.SONG_COLUMNS)
    assert len(songs) == 5
    assert songs.set_index("song_id").loc["s1", "windows"] == 3
    assert browse.window_key(songs.set_index("song_id").loc["s2"]) == (9, "minor")
    assert browse.songs_table(sample_frame().iloc[0:0]).empty


def test_window_chords_key_and_label() -> None:
    row = browse.window_row(sample_frame(), "s3-w1")
    assert browse.window_chords(row) == [parse_symbol(s) for s in ("Ebmaj7", "Am7b5", "D7", "Gm7")]
    assert browse.window_key(row) == (10, "major")
    assert browse.window_key({"key_tonic": "", "scale_type": ""}) is None
    assert browse.window_label(row).startswith("Blue Hour — Miles Ahead (part 2): Ebmaj7")
    with pytest.raises(InputError, match="no window 'x'"):
        browse.window_row(sample_frame(), "x")


def test_transition_matrix_rows_are_probabilities() -> None:
    from core.corpus.stats import transition_matrix

    matrix = transition_matrix(sample_frame(), top=5)
    assert matrix.shape == (5, 5)
    sums = matrix.sum(axis=1)
    assert all(abs(total - 1.0) < 1e-9 or total == 0 for total in sums)
