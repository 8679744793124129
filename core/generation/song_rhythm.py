"""Harmonic rhythm: how long chords last in each genre, read from the corpus, and durations proposed from it.

Today's model draws chords, not durations (the model issue will add them), so a song's durations
come from the corpus: for each genre, how often a chord lasts a quarter of a bar, half a bar, a
bar, two bars … (:data:`BAR_FRACTIONS`), counted over every chord of the song table whose source
gives its beats and metre (all eight timed sources: POP909, Billboard, When in Rome, iReal, the jazz
standards, RS200, Nottingham, OpenEWLD; immediate repeats are already merged there, as the model's
chords are). The table is read from the snapshot
``data/harmonic_rhythm.json``, :func:`rhythm_table` of ``data/songs.parquet`` written by
:func:`write_snapshot` (a test keeps the two equal), so a song does not wait seconds for the song
table to load; without the snapshot the song table beside the corpus table is counted, and without
either a chord lasts a bar. A genre with fewer than :data:`MIN_CHORDS` timed chords takes every genre's
counts together.

:func:`propose_durations` fills a section bar by bar: each chord's length is drawn from the genre's
fractions that give a whole number of beats in the time signature and do not cross a bar line
(a chord starting on a bar line may hold whole bars), so every bar is full.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.config import MAX_SECTION_CHORDS
from core.errors import EnvironmentFault
from core.song.form import TimeSignature

#: chord lengths counted, as fractions of a bar (a length between two is counted as the nearer).
BAR_FRACTIONS: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
#: fewest timed chords a genre needs for its own row (else every genre's counts together).
MIN_CHORDS = 200
#: the snapshot's file name beside the corpus table, and the song table's.
SNAPSHOT_FILE = "harmonic_rhythm.json"
SONGS_FILE = "songs.parquet"
ALL_GENRES = "all"


def rhythm_table(frame) -> dict[str, dict[str, int]]:
    """``{genre: {fraction: chords}}`` (and ``"all"``) from a song table with ``genre``, ``beats`` and ``metre``."""
    timed = frame.loc[frame["beats"].notna() & frame["metre"].notna() & (frame["metre"] > 0), ["genre", "beats", "metre"]]
    bars = timed["beats"].to_numpy(dtype=float) / timed["metre"].to_numpy(dtype=float)
    fractions = np.asarray(BAR_FRACTIONS)
    nearest = np.abs(np.log(bars[:, None]) - np.log(fractions[None, :])).argmin(axis=1)
    genres = timed["genre"].fillna("").astype(str).replace("", "unspecified").to_numpy()
    table: dict[str, dict[str, int]] = {}
    for genre in sorted({*genres.tolist(), ALL_GENRES}):
        chosen = nearest if genre == ALL_GENRES else nearest[genres == genre]
        counts = np.bincount(chosen, minlength=len(BAR_FRACTIONS))
        table[genre] = {str(f): int(c) for f, c in zip(BAR_FRACTIONS, counts, strict=True)}
    return table


def write_snapshot(frame, path: Path, source: str) -> None:
    """Write :func:`rhythm_table` of ``frame`` as the JSON snapshot, saying where it was counted from."""
    payload = {"source": source, "fractions_of_a_bar": list(BAR_FRACTIONS), "chords": rhythm_table(frame)}
    path.write_text(json.dumps(payload, indent=1, sort_keys=True) + "\n", encoding="utf-8")


@lru_cache(maxsize=4)
def _table_from(data_dir: Path) -> tuple[str, dict[str, dict[str, int]]]:
    snapshot = data_dir / SNAPSHOT_FILE
    if snapshot.exists():
        try:
            payload = json.loads(snapshot.read_text(encoding="utf-8"))
            return f"{snapshot.name} ({payload['source']})", {g: dict(r) for g, r in payload["chords"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise EnvironmentFault(f"the harmonic-rhythm table {snapshot} cannot be read ({error})") from None
    songs = data_dir / SONGS_FILE
    if songs.exists():
        from core.corpus.songs import load_songs

        return f"{songs.name} (the song table)", rhythm_table(load_songs(songs))
    return "none (one chord a bar)", {}


def corpus_rhythm() -> tuple[str, dict[str, dict[str, int]]]:
    """Where the table comes from (in words) and the table, for the corpus in use (``CHORDSMITH_CORPUS``'s folder)."""
    from core import paths  # read at call time: tests and the studio point CORPUS_TABLE elsewhere

    return _table_from(paths.CORPUS_TABLE.parent)


def genre_rhythm(genre: str, table: Mapping[str, Mapping[str, int]] | None = None) -> dict[float, float]:
    """The share of chords lasting each bar fraction in ``genre`` (every genre's when it has too few; a bar if none)."""
    table = corpus_rhythm()[1] if table is None else table
    row = table.get(genre) or {}
    if sum(row.values()) < MIN_CHORDS:
        row = table.get(ALL_GENRES) or {}
    total = sum(row.values())
    if total == 0:
        return {1.0: 1.0}
    return {float(fraction): count / total for fraction, count in row.items() if count}


def propose_durations(bars: int, time: TimeSignature, rhythm: Mapping[float, float],
                      rng: np.random.Generator) -> tuple[int, ...]:
    """Whole-beat durations filling ``bars`` bars of ``time``, each drawn from ``rhythm`` where it fits (module doc).

    At most :data:`core.config.MAX_SECTION_CHORDS` chords: near that limit a chord holds to its bar's end.
    """
    per_bar, total = time.beats, bars * time.beats
    lengths = [(round(f * per_bar), p) for f, p in rhythm.items() if float(f * per_bar).is_integer() and f * per_bar >= 1]
    durations: list[int] = []
    beat = 0
    while beat < total:
        in_bar = beat % per_bar
        left_in_bar = per_bar - in_bar
        bars_left = -(-(total - beat) // per_bar)
        fits = [(n, p) for n, p in lengths
                if (n <= left_in_bar if in_bar else (n <= per_bar or (n % per_bar == 0 and n <= total - beat)))]
        if not fits or MAX_SECTION_CHORDS - len(durations) <= bars_left:
            chosen = left_in_bar
        else:
            weights = np.array([p for _, p in fits], dtype=float)
            chosen = fits[int(rng.choice(len(fits), p=weights / weights.sum()))][0]
        durations.append(int(chosen))
        beat += int(chosen)
    return tuple(durations)
