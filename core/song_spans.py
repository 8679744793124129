"""Song spans: a song-context model's training examples, cut from the song table (``data/songs.parquet``).

Why: a window knows one phrase; a span runs over consecutive sections, so the model writes a chorus
knowing the verse before it and can repeat a chorus that returns. Each section start of a song opens one
span: the chords from there on, over the following sections, up to ``sequence_length - 1`` chords, framed
as a window is (:func:`core.dataset.encode_window`: ``START`` first, ``END`` after the song's last chord
when the span reaches it). Per position the span also carries the section label of the chord to be
predicted (``END`` takes the last chord's), and the duration class of the chord fed there (0 at ``START``
and where the source gives no beats); per span the song's genre, mood, the key and metre of its first
section. Splits are the song table's ``split`` column: the same songs as the windows'.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from core.dataset import EncodedWindows, condition_ids, encode_window
from core.errors import InputError
from core.song_context import duration_ids, metre_id, section_id
from core.vocabulary import PAD_ID, VOCAB

#: the song-table columns a span reads.
SPAN_COLUMNS: tuple[str, ...] = ("song_id", "position", "section_index", "section_label", "genre", "mood",
                                 "key_tonic", "scale_type", "metre", "chord", "beats")


def song_arrays(songs: pd.DataFrame) -> pd.DataFrame:
    """The rows in playing order with the ids a span needs (``chord_id``, ``section_id``, ``duration_id``)."""
    missing = sorted(set(SPAN_COLUMNS) - set(songs.columns))
    if missing:
        raise InputError(f"not a song table: no {', '.join(missing)} column(s)")
    rows = songs.sort_values(["song_id", "position"], kind="stable").reset_index(drop=True)
    symbols = rows["chord"].astype(str)
    ids = {symbol: VOCAB.id_of_symbol(symbol) for symbol in symbols.unique()}
    return rows.assign(chord_id=symbols.map(ids).to_numpy(dtype=np.int32),
                       section_id=rows["section_label"].map(section_id).to_numpy(dtype=np.int32),
                       duration_id=duration_ids(rows["beats"].to_numpy(dtype=np.float64, na_value=np.nan)))


def span_starts(rows: pd.DataFrame) -> np.ndarray:
    """Row indices (of :func:`song_arrays` rows) where a section starts (a new song or a new section index)."""
    song = rows["song_id"].to_numpy()
    section = rows["section_index"].to_numpy()
    first = np.r_[True, (song[1:] != song[:-1]) | (section[1:] != section[:-1])]
    return np.flatnonzero(first)


def song_ends(rows: pd.DataFrame) -> np.ndarray:
    """For every row (of :func:`song_arrays` rows), the index one past its song's last row."""
    song = rows["song_id"].to_numpy()
    if len(song) == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.r_[np.flatnonzero(song[1:] != song[:-1]) + 1, len(song)]
    return np.repeat(ends, np.diff(np.r_[0, ends]))


def encode_spans(songs: pd.DataFrame, sequence_length: int = 32) -> EncodedWindows:
    """Every span of a song table (one per section start; module docstring) as padded id arrays."""
    rows = song_arrays(songs)
    return encode_starts(rows, span_starts(rows), sequence_length)


def encode_starts(rows: pd.DataFrame, starts: np.ndarray, sequence_length: int) -> EncodedWindows:
    """The spans opening at the given rows of :func:`song_arrays` rows (each up to ``sequence_length - 1`` chords of
    its song, ``END`` when it reaches the song's end), as padded id arrays."""
    if sequence_length < 2:
        raise InputError(f"sequence length must be at least 2, got {sequence_length}")
    end_of_row = song_ends(rows)
    chords, labels, durations = (rows[c].to_numpy() for c in ("chord_id", "section_id", "duration_id"))
    n, length = len(starts), sequence_length
    out = {name: np.full((n, length), PAD_ID, dtype=np.int32) for name in ("input", "target", "section", "duration")}
    conditions = np.zeros((n, 5), dtype=np.int32)
    columns = rows[["genre", "mood", "key_tonic", "scale_type"]]
    metres = rows["metre"].to_numpy(dtype=np.float64, na_value=np.nan)
    for i, start in enumerate(np.asarray(starts, dtype=np.int64)):
        stop = min(int(end_of_row[start]), int(start) + length - 1)
        chord_input, target = encode_window(chords[start:stop].tolist(), stop == end_of_row[start], length)
        out["input"][i, : len(chord_input)] = chord_input
        out["target"][i, : len(target)] = target
        span_labels = labels[start:stop]
        out["section"][i, : len(target)] = np.r_[span_labels, span_labels[-1:]][: len(target)]
        out["duration"][i, 1 : len(chord_input)] = durations[start:stop]
        ids = condition_ids(columns.iloc[int(start)])
        conditions[i] = (ids["genre"], ids["mood"], ids["key"], ids["scale_type"], metre_id(metres[start]))
    return EncodedWindows(out["input"], out["target"], *conditions[:, :4].T, sections=out["section"],
                          metre=conditions[:, 4], durations=out["duration"])


def song_split(songs: pd.DataFrame, split: str) -> pd.DataFrame:
    """The rows of one split's songs (the song table's ``split`` column), index reset."""
    from core.dataset import split_frame

    return split_frame(songs, split)
