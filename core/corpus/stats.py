"""Figures about the shipped table: counts per label, chord frequencies, transitions.

Used by ``python -m core data stats`` and the Dataset page, so both show the same numbers.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from core.errors import EnvironmentFault
from core.paths import CORPUS_TABLE
from core.vocabulary import VOCAB

GROUPINGS: tuple[str, ...] = ("source", "genre", "mood", "key", "scale_type", "split")


def _with_labels(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        genre=frame["genre"].replace("", "unspecified"),
        mood=frame["mood"].replace("", "unspecified"),
        key=frame["key_tonic"] + " " + frame["scale_type"],
    )


def counts_by(frame: pd.DataFrame, column: str) -> dict[str, dict[str, int]]:
    """``{value: {"songs": n, "windows": n}}`` for one grouping column, largest first."""
    labelled = _with_labels(frame)
    grouped = labelled.groupby(column).agg(songs=("song_id", "nunique"), windows=("window_id", "size"))
    grouped = grouped.sort_values(["windows", "songs"], ascending=False)
    return {str(value): {"songs": int(row.songs), "windows": int(row.windows)} for value, row in grouped.iterrows()}


def load_build_report(data_dir: Path = CORPUS_TABLE.parent) -> dict:
    """The build report the build wrote beside the table (skipped lines, mapped qualities), or {} when there is none.

    A damaged report (not JSON, not the build's shape) is an :class:`EnvironmentFault` naming it.
    """
    path = data_dir / "build_report.json"
    if not path.exists():
        return {}
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        sources = report["sources"]
        for info in sources.values():
            _ = info["chords_read"], info["mapped_total"], info["mapped"], info["skipped"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise EnvironmentFault(
            f"the build report {path} cannot be read ({type(error).__name__}: {error}); "
            "rebuild it with 'python -m core data build'"
        ) from error
    return report


def _pairs(mapped: list | dict) -> list[tuple[str, int]]:
    """Mapped-quality counts as (label, count) pairs, largest first (older reports stored a dict)."""
    items = mapped.items() if isinstance(mapped, dict) else ((label, count) for label, count in mapped)
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))


def corpus_stats(frame: pd.DataFrame, build_report: dict | None = None) -> dict[str, object]:
    """All headline figures of the corpus as one JSON-able dict."""
    used = Counter(symbol for chords in frame["chords"] for symbol in chords.split())
    stats: dict[str, object] = {
        "songs": int(frame["song_id"].nunique()),
        "song_groups": int(frame["song_group"].nunique()),
        "windows": int(len(frame)),
        "chords": int(frame["n_chords"].sum()),
        "vocabulary_size": len(VOCAB),
        "chords_used": len(used),
    }
    for column in GROUPINGS:
        stats[f"by_{column}"] = counts_by(frame, column)
    report = build_report if build_report is not None else load_build_report()
    sources = report.get("sources", {})
    stats["out_of_vocabulary"] = {
        name: {"chords_read": info["chords_read"], "mapped_to_nearer_quality": info["mapped_total"],
               "top_mappings": dict(_pairs(info["mapped"])[:5])}
        for name, info in sources.items()
    }
    stats["skipped_lines"] = {name: info["skipped"] for name, info in sources.items()}
    return stats


def filter_frame(frame: pd.DataFrame, genre: str | None = None, mood: str | None = None,
                 scale_type: str | None = None, split: str | None = None) -> pd.DataFrame:
    """Rows matching the given labels (``None`` or ``"all"`` keeps everything; ``unspecified`` matches empty)."""
    mask = pd.Series(True, index=frame.index)
    for column, value in (("genre", genre), ("mood", mood), ("scale_type", scale_type), ("split", split)):
        if value in (None, "all"):
            continue
        wanted = "" if value == "unspecified" else value
        mask &= frame[column] == wanted
    return frame[mask]


def chord_frequencies(frame: pd.DataFrame, top: int = 30) -> pd.Series:
    """The ``top`` most frequent chord symbols and their counts."""
    counts = Counter(symbol for chords in frame["chords"] for symbol in chords.split())
    return pd.Series(dict(counts.most_common(top)), name="count")


def transition_matrix(frame: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """Row-normalised chord-to-chord transition probabilities among the ``top`` most frequent chords."""
    symbols = list(chord_frequencies(frame, top).index)
    index = {s: i for i, s in enumerate(symbols)}
    values = np.zeros((len(symbols), len(symbols)))  # a fresh array: pandas 3 hands out read-only views
    for chords in frame["chords"]:
        seq = chords.split()
        for a, b in zip(seq, seq[1:], strict=False):
            if a in index and b in index:
                values[index[a], index[b]] += 1
    totals = values.sum(axis=1, keepdims=True)
    totals[totals == 0] = 1
    return pd.DataFrame(values / totals, index=symbols, columns=symbols)


def length_distribution(frame: pd.DataFrame) -> pd.Series:
    """Number of windows per window length (in chords)."""
    return frame["n_chords"].value_counts().sort_index()


def format_stats(stats: dict[str, object]) -> str:
    """The stats as a readable text report."""
    lines = [
        f"songs {stats['songs']}  (song groups {stats['song_groups']})  windows {stats['windows']}  "
        f"chords {stats['chords']}",
        f"vocabulary size {stats['vocabulary_size']} tokens (3 special + 12 roots x 16 qualities); "
        f"{stats['chords_used']} chord symbols occur",
    ]
    for column in GROUPINGS:
        lines.append(f"\nby {column}:")
        for value, counts in stats[f"by_{column}"].items():
            lines.append(f"  {value:22s} {counts['songs']:6d} songs {counts['windows']:7d} windows")
    lines.append("\nout-of-vocabulary chords mapped to a nearer quality:")
    for name, info in stats["out_of_vocabulary"].items():
        top = ", ".join(f"{k} ({v})" for k, v in info["top_mappings"].items())
        lines.append(f"  {name:18s} {info['mapped_to_nearer_quality']:6d} of {info['chords_read']:7d}  e.g. {top}")
    lines.append("\nmalformed lines skipped at build: "
                 + ", ".join(f"{k} {v}" for k, v in stats["skipped_lines"].items()))
    return "\n".join(lines)
