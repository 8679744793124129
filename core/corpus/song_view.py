"""One song of the song table laid out for reading: its sections in order, each chord sized by its beats.

The Dataset page draws :func:`song_strip` as a strip (a row of boxes per song, one box per chord,
as wide as its beats) and plays a section through the notation and audio helpers with the chords
:func:`section_progression` gives.
"""

from __future__ import annotations

import pandas as pd

from core.chords import ROOTS

#: width given to a chord whose duration the source does not say (drawn hatched by the page).
UNKNOWN_BEATS = 1.0


def song_choices(songs: pd.DataFrame, query: str = "", limit: int = 500) -> pd.DataFrame:
    """One row per song (id, title, artist, source, genre, sections, chords) whose title, artist or id holds ``query``."""
    first = songs.drop_duplicates("song_id").set_index("song_id")
    counts = songs.groupby("song_id", sort=False).agg(sections=("section_index", "nunique"), chords=("chord", "size"))
    table = first.loc[:, ["title", "artist", "source", "genre"]].join(counts).reset_index()
    text = query.strip().lower()
    if text:
        haystack = (table["title"] + " " + table["artist"] + " " + table["song_id"]).str.lower()
        table = table[haystack.str.contains(text, regex=False)]
    return table.head(limit).reset_index(drop=True)


def song_strip(songs: pd.DataFrame, song_id: str) -> pd.DataFrame:
    """The song's chords in order: section (index, label, raw mark), chord, beats, start beat and drawn width.

    A chord of unknown length is drawn :data:`UNKNOWN_BEATS` wide and marked ``timed = False``.
    """
    rows = songs[songs["song_id"] == song_id].sort_values("position")
    strip = rows.loc[:, ["section_index", "section_label", "section_raw", "chord", "beats", "key_tonic", "scale_type"]]
    strip = strip.reset_index(drop=True)
    strip["timed"] = strip["beats"].notna()
    strip["width"] = strip["beats"].fillna(UNKNOWN_BEATS)
    strip["start"] = strip["width"].cumsum() - strip["width"]
    return strip


def section_names(strip: pd.DataFrame) -> list[tuple[int, str]]:
    """``(section index, "3. chorus (Ch)")`` for each section occurrence of a strip, in order."""
    names = []
    for index, rows in strip.groupby("section_index", sort=True):
        label, raw = rows["section_label"].iloc[0], rows["section_raw"].iloc[0]
        names.append((int(index), f"{index + 1}. {label}" + (f" ({raw})" if raw and raw != label else "")))
    return names


def section_progression(strip: pd.DataFrame, section_index: int, most: int = 16) -> tuple[str, tuple[int, str] | None]:
    """The first ``most`` chords of one section as space-separated symbols, and its key (tonic pitch class, scale)."""
    rows = strip[strip["section_index"] == section_index]
    if rows.empty:
        return "", None
    tonic, scale = rows["key_tonic"].iloc[0], rows["scale_type"].iloc[0]
    key = (ROOTS.index(tonic), scale) if tonic in ROOTS and scale in ("major", "minor") else None
    return " ".join(rows["chord"].head(most)), key
