"""Figures about the song table: sections, durations, harmonic rhythm, key-relative transitions.

Used by ``python -m core data stats`` (merged into the corpus figures) and the Dataset page. The
targets of issue 20 are named here as the stats' field names: ``songs``, ``songs_with_sections``
(at least two section occurrences with a label other than ``other``), ``chords_with_duration_share``
and ``song_groups_in_two_splits``.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

import pandas as pd

from core.chords import ROOTS, ChordError, parse_symbol
from core.corpus.sections import OTHER
from core.numerals import roman_numeral

#: the most frequent transitions listed (absolute and in Roman numerals).
TOP_TRANSITIONS = 20
MIN_NAMED_SECTIONS = 2


def sections_of(songs: pd.DataFrame) -> pd.DataFrame:
    """One row per section occurrence: song, source, genre, label, chords and beats (sum; NaN when any unknown)."""
    frame = songs.assign(unknown=songs["beats"].isna())
    grouped = frame.groupby(["song_id", "section_index"], sort=False)
    sections = grouped.agg(source=("source", "first"), genre=("genre", "first"), label=("section_label", "first"),
                           chords=("chord", "size"), beats=("beats", "sum"), unknown=("unknown", "any"))
    sections.loc[sections["unknown"], "beats"] = float("nan")
    return sections.drop(columns="unknown").reset_index()


def songs_with_sections(sections: pd.DataFrame) -> pd.Series:
    """Per song: True when at least :data:`MIN_NAMED_SECTIONS` of its section occurrences carry a label other than ``other``."""
    named = sections.assign(named=sections["label"] != OTHER).groupby("song_id", sort=False)["named"].sum()
    return named >= MIN_NAMED_SECTIONS


def harmonic_rhythm(songs: pd.DataFrame, column: str) -> dict[str, dict[str, float]]:
    """Beats per chord by ``column`` (genre or section label): mean, median and chords with a duration."""
    timed = songs[songs["beats"].notna()]
    labels = timed[column].replace("", "unspecified")
    grouped = timed["beats"].groupby(labels)
    table = pd.DataFrame({"mean": grouped.mean(), "median": grouped.median(), "chords": grouped.size()})
    table = table.sort_values("chords", ascending=False)
    return {str(label): {"mean_beats": round(float(row["mean"]), 3), "median_beats": float(row["median"]),
                         "chords": int(row["chords"])} for label, row in table.iterrows()}


@lru_cache(maxsize=4096)
def _numeral(symbol: str, key_tonic: str, scale_type: str) -> str:
    """The Roman numeral of a chord symbol in a key, or ``?`` when the symbol cannot be read."""
    try:
        return roman_numeral(parse_symbol(symbol), ROOTS.index(key_tonic), scale_type)
    except (ChordError, ValueError):
        return "?"


def transitions(songs: pd.DataFrame, top: int = TOP_TRANSITIONS) -> dict[str, dict[str, int]]:
    """The most frequent chord-to-chord moves within sections, as absolute symbols and as Roman numerals in the key."""
    absolute: Counter[str] = Counter()
    relative: Counter[str] = Counter()
    columns = ["song_id", "section_index", "chord", "key_tonic", "scale_type"]
    previous = None
    for song_id, section, chord, key, scale in zip(*(songs[c].tolist() for c in columns), strict=True):
        if previous is not None and previous[0] == (song_id, section) and previous[2] == key:
            absolute[f"{previous[1]} -> {chord}"] += 1
            relative[f"{_numeral(previous[1], key, scale)} -> {_numeral(chord, key, scale)}"] += 1
        previous = ((song_id, section), chord, key)
    return {"absolute": dict(absolute.most_common(top)), "roman": dict(relative.most_common(top))}


def labels_by_source(songs: pd.DataFrame, sections: pd.DataFrame, with_sections: pd.Series) -> dict[str, dict[str, int]]:
    """Per source: songs, songs with section labels, and chords with a duration."""
    per_song = songs.drop_duplicates("song_id").set_index("song_id")["source"]
    result: dict[str, dict[str, int]] = {}
    for source, ids in per_song.groupby(per_song):
        rows = songs[songs["source"] == source]
        result[str(source)] = {
            "songs": int(len(ids)), "songs_with_sections": int(with_sections.reindex(ids.index).fillna(False).sum()),
            "chords": int(len(rows)), "chords_with_duration": int(rows["beats"].notna().sum()),
        }
    return result


def song_stats(songs: pd.DataFrame) -> dict[str, object]:
    """All song-table figures as one JSON-able dict (see the module docstring for the target fields)."""
    sections = sections_of(songs)
    with_sections = songs_with_sections(sections)
    label_counts = sections.groupby("label").agg(occurrences=("song_id", "size"), songs=("song_id", "nunique"))
    label_counts = label_counts.sort_values("occurrences", ascending=False)
    splits_per_group = songs.groupby("song_group")["split"].nunique()
    return {
        "songs": int(songs["song_id"].nunique()),
        "songs_with_sections": int(with_sections.sum()),
        "chords_with_duration_share": round(float(songs["beats"].notna().mean()), 4) if len(songs) else 0.0,
        "song_groups_in_two_splits": int((splits_per_group > 1).sum()),
        "song_chords": int(len(songs)),
        "section_occurrences": int(len(sections)),
        "section_labels": {str(label): {"occurrences": int(row.occurrences), "songs": int(row.songs)}
                           for label, row in label_counts.iterrows()},
        "sections_by_source": labels_by_source(songs, sections, with_sections),
        "harmonic_rhythm": {"by_genre": harmonic_rhythm(songs, "genre"),
                            "by_section": harmonic_rhythm(songs, "section_label")},
        "transitions": transitions(songs),
    }


def format_song_stats(stats: dict[str, object]) -> str:
    """The song-table figures as readable text (appended to the corpus figures by ``data stats``)."""
    lines = [
        f"\nsong table: {stats['songs']} songs, {stats['song_chords']} chords, {stats['section_occurrences']} sections; "
        f"{stats['songs_with_sections']} songs with sections; chords with a duration "
        f"{stats['chords_with_duration_share']:.1%}; song groups in two splits {stats['song_groups_in_two_splits']}",
        "\nsongs with section labels, by source:",
    ]
    for source, counts in stats["sections_by_source"].items():
        lines.append(f"  {source:18s} {counts['songs_with_sections']:6d} of {counts['songs']:6d} songs  "
                     f"{counts['chords_with_duration']:7d} of {counts['chords']:7d} chords timed")
    lines.append("\nsection labels: " + ", ".join(
        f"{label} {counts['occurrences']}" for label, counts in stats["section_labels"].items()))
    for grouping, rows in stats["harmonic_rhythm"].items():
        lines.append(f"\nbeats per chord {grouping.replace('_', ' ')}: " + ", ".join(
            f"{label} {row['mean_beats']:.2f}" for label, row in rows.items()))
    for kind, pairs in stats["transitions"].items():
        lines.append(f"\ntop transitions ({kind}): " + ", ".join(f"{pair} {count}" for pair, count in list(pairs.items())[:10]))
    return "\n".join(lines)
