"""The song table: whole songs, chord by chord, with sections, keys, metres and durations.

``data/songs.parquet`` holds one row per chord occurrence, in the order played: the song (id,
group, split, source, title, artist, genre, mood), its section (index, normalised label, raw mark,
the window ``section`` string), the key in force, the metre (beats per bar) and the chord with its
duration in beats (empty where the source gives none). Immediate repeats of a chord within a section
are merged into one longer chord (beats summed), never dropped. Every song can be read back in order
by ``song_id`` and ``position``.

The windows table (``progressions.csv.gz``) is derived from this table by :func:`windows_from_songs`:
segments joined by ``joins_next`` are one run, each run is cut into windows as before sections were
known, so today's songs give today's windows byte for byte.

Parquet because its columns are typed (beats stay floats with nulls, indices stay integers), it is
read fast by pandas (pyarrow) and it is small (dictionary-encoded, compressed columns).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.chords import ROOTS
from core.corpus.rows import Segment, Song
from core.corpus.sections import normalise_label
from core.errors import EnvironmentFault, InputError

#: the song table's file name, beside the windows table.
SONGS_FILE = "songs.parquet"
SONG_FIELDS: tuple[str, ...] = (
    "song_id", "song_group", "split", "source", "title", "artist", "genre", "genre_raw", "subgenre", "mood",
    "mood_evidence",
)
SECTION_FIELDS: tuple[str, ...] = (
    "section_index", "section_label", "section_raw", "section", "ends", "joins_next", "key_tonic", "scale_type",
    "metre",
)
SONG_COLUMNS: tuple[str, ...] = (*SONG_FIELDS, *SECTION_FIELDS, "position", "chord", "beats")


def merged_chords(segment: Segment) -> list[tuple[str, float | None]]:
    """The segment's chords with immediate repeats merged: ``(symbol, beats)``, beats summed (None if any unknown)."""
    merged: list[list] = []
    for chord, beats in zip(segment.chords, segment.chord_beats(), strict=True):
        symbol = chord.symbol
        if merged and merged[-1][0] == symbol:
            merged[-1][1] = None if merged[-1][1] is None or beats is None else merged[-1][1] + beats
        else:
            merged.append([symbol, beats])
    return [(symbol, beats) for symbol, beats in merged]


def song_rows(song: Song, group: str) -> list[dict[str, object]]:
    """One row per merged chord of ``song`` (``split`` left empty: it is assigned per group later)."""
    song_part = {
        "song_id": song.song_id, "song_group": group, "split": "", "source": song.source, "title": song.title,
        "artist": song.artist, "genre": song.genre, "genre_raw": song.genre_raw, "subgenre": song.subgenre,
        "mood": song.mood, "mood_evidence": song.mood_evidence,
    }
    rows: list[dict[str, object]] = []
    for index, segment in enumerate(song.segments):
        raw = segment.raw_label or segment.section
        section_part = {
            "section_index": index, "section_label": segment.label or normalise_label(raw), "section_raw": raw,
            "section": segment.section, "ends": int(segment.ends), "joins_next": int(segment.joins_next),
            "key_tonic": ROOTS[segment.key_tonic % 12], "scale_type": segment.scale_type, "metre": segment.metre,
        }
        for symbol, beats in merged_chords(segment):
            rows.append({**song_part, **section_part, "position": len(rows), "chord": symbol, "beats": beats})
    return rows


def songs_frame(songs: Iterable[Song], group_of) -> pd.DataFrame:
    """All songs' rows as one frame, in song order (``group_of(song)`` names each song's group)."""
    rows = [row for song in songs for row in song_rows(song, group_of(song))]
    frame = pd.DataFrame(rows, columns=list(SONG_COLUMNS))
    frame["metre"] = frame["metre"].astype("Int64")
    frame["beats"] = frame["beats"].astype("float64")
    return frame


Run = tuple[list[str], str, str, str, bool]  # (symbols, key_tonic, scale_type, section, ends)


def _runs_of_rows(rows: list[tuple]) -> list[Run]:
    """A song's window runs from its rows ``(section_index, chord, key, scale, section, ends, joins_next)``."""
    runs: list[Run] = []
    current_index, joining = None, False
    for index, chord, key, scale, section, ends, joins_next in rows:
        if index == current_index:
            runs[-1][0].append(chord)
            continue
        if joining:
            runs[-1] = (runs[-1][0] + [chord], runs[-1][1], runs[-1][2], runs[-1][3], bool(ends))
        else:
            runs.append(([chord], key, scale, section, bool(ends)))
        current_index, joining = index, bool(joins_next)
    return runs


def windows_from_songs(frame: pd.DataFrame, windows_of_runs) -> list[dict[str, object]]:
    """The windows of every song in ``frame``, in song order (``windows_of_runs(song_fields, runs)`` cuts one song).

    Segments joined by ``joins_next`` are one run (so a section boundary inside what used to be one
    segment does not change the windows); the frame's rows must be in song order and position order.
    """
    columns = ["section_index", "chord", "key_tonic", "scale_type", "section", "ends", "joins_next"]
    records = list(zip(*(frame[name].tolist() for name in columns), strict=True))
    song_ids = frame["song_id"].tolist()
    fields_of = frame.drop_duplicates("song_id").set_index("song_id").loc[:, list(SONG_FIELDS[1:])].to_dict("index")
    rows: list[dict[str, object]] = []
    start = 0
    for end in range(1, len(song_ids) + 1):
        if end < len(song_ids) and song_ids[end] == song_ids[start]:
            continue
        fields = {"song_id": song_ids[start], **fields_of[song_ids[start]]}
        rows.extend(windows_of_runs(fields, _runs_of_rows(records[start:end])))
        start = end
    return rows


def write_songs(frame: pd.DataFrame, path: Path) -> None:
    """Write the song table as parquet (zstd); equal tables give equal bytes. Written atomically."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.loc[:, list(SONG_COLUMNS)].reset_index(drop=True), preserve_index=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    try:
        pq.write_table(table, tmp, compression="zstd", compression_level=9)
    except BaseException:  # a full disk mid-write: no half-written file stays behind
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


@lru_cache(maxsize=4)
def load_songs(path: Path) -> pd.DataFrame:
    """The song table (cached per process); a damaged or foreign file is an :class:`EnvironmentFault`."""
    if not path.exists():
        raise InputError(f"song table not found: {path} (build it with 'python -m core data build')")
    try:
        frame = pd.read_parquet(path)
        missing = [column for column in SONG_COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"columns {', '.join(missing)} are missing")
    except (OSError, ValueError) as error:
        raise EnvironmentFault(
            f"the song table {path} cannot be read ({type(error).__name__}: {str(error).splitlines()[0]}); "
            "rebuild it with 'python -m core data build'"
        ) from error
    return frame


def shipped_songs() -> pd.DataFrame:
    """The song table beside the corpus table in use (``CHORDSMITH_CORPUS``'s folder, else ``data/``)."""
    from core import paths  # read at call time: tests and the studio point CORPUS_TABLE elsewhere

    return load_songs(paths.CORPUS_TABLE.parent / SONGS_FILE)
