"""Browsing the shipped table: label counts as frames, text search, songs, one window's chords and key.

What the Dataset page shows beyond :mod:`core.corpus.stats`; kept here so the page stays a
layout of widgets and the numbers are tested.
"""

from __future__ import annotations

import pandas as pd

from core.chords import Chord, parse_symbol, pitch_class
from core.corpus.stats import counts_by
from core.errors import InputError

#: Columns the window table shows, in order.
WINDOW_COLUMNS: tuple[str, ...] = (
    "window_id", "title", "artist", "source", "genre", "mood", "key_tonic", "scale_type", "section", "n_chords", "chords",
)
#: Columns the song table shows, in order.
SONG_COLUMNS: tuple[str, ...] = (
    "song_id", "title", "artist", "source", "genre", "mood", "key_tonic", "scale_type", "split", "windows", "chords",
)
#: Columns the text search looks in.
SEARCH_COLUMNS: tuple[str, ...] = ("title", "artist", "chords")


def counts_frame(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Songs and windows per value of ``column`` (``source``, ``genre``, ``mood``, ``key``, ``scale_type``, ``split``).

    Columns: ``column``, ``songs``, ``windows``; largest first; empty labels read ``unspecified``.
    """
    counts = counts_by(frame, column)
    return pd.DataFrame(
        [(value, c["songs"], c["windows"]) for value, c in counts.items()], columns=[column, "songs", "windows"]
    )


def search_windows(frame: pd.DataFrame, text: str) -> pd.DataFrame:
    """Rows whose title, artist or chords contain every word of ``text`` (case-insensitive).

    A word matches anywhere in title or artist; in the chords it matches whole symbols only, so
    ``Am`` finds ``Am`` but not ``Am7``. An empty query keeps every row.
    """
    words = text.split()
    if not words:
        return frame
    mask = pd.Series(True, index=frame.index)
    names = (frame["title"] + " " + frame["artist"]).str.lower()
    padded_chords = " " + frame["chords"].str.lower() + " "
    for word in words:
        lowered = word.lower()
        mask &= names.str.contains(lowered, regex=False) | padded_chords.str.contains(f" {lowered} ", regex=False)
    return frame[mask]


def songs_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per song: its labels, window count and the chords of its first window."""
    if frame.empty:
        return pd.DataFrame(columns=list(SONG_COLUMNS))
    grouped = frame.groupby("song_id", sort=False)
    songs = grouped.agg(
        title=("title", "first"), artist=("artist", "first"), source=("source", "first"), genre=("genre", "first"),
        mood=("mood", "first"), key_tonic=("key_tonic", "first"), scale_type=("scale_type", "first"),
        split=("split", "first"), windows=("window_id", "size"), chords=("chords", "first"),
    ).reset_index()
    return songs.loc[:, list(SONG_COLUMNS)]


def window_row(frame: pd.DataFrame, window_id: str) -> pd.Series:
    """The row of one window; :class:`InputError` if the id is not in ``frame``."""
    rows = frame[frame["window_id"] == str(window_id)]
    if rows.empty:
        raise InputError(f"no window {window_id!r} in the table")
    return rows.iloc[0]


def window_chords(row: pd.Series | dict) -> list[Chord]:
    """The chords of one table row as :class:`Chord` objects."""
    return [parse_symbol(symbol) for symbol in str(row["chords"]).split()]


def window_key(row: pd.Series | dict) -> tuple[int, str] | None:
    """(tonic pitch class, ``major``/``minor``) of a row, ``None`` when the table leaves it open."""
    tonic, scale_type = str(row.get("key_tonic", "")), str(row.get("scale_type", ""))
    if not tonic or scale_type not in ("major", "minor"):
        return None
    return pitch_class(tonic), scale_type


def window_label(row: pd.Series | dict) -> str:
    """A one-line label for a picker: ``title — artist (section): C G Am F``."""
    artist = f" — {row['artist']}" if row.get("artist") else ""
    section = f" ({row['section']})" if row.get("section") else ""
    chords = str(row["chords"])
    chords = chords if len(chords) <= 60 else chords[:57] + "…"
    return f"{row['title'] or row['song_id']}{artist}{section}: {chords}"
