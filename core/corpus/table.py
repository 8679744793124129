"""The shipped progression table: its columns, a deterministic writer and the cached reader.

One row per progression window. ``chords`` holds canonical symbols (``Am7``) separated by
spaces, immediate repeats collapsed; ``ends`` is 1 when the window closes its section or song
(the model learns END there). ``split`` is the song-level train/validation/test split.
"""

from __future__ import annotations

import gzip
import io
from functools import lru_cache
from pathlib import Path

import pandas as pd

from core.paths import CORPUS_TABLE

COLUMNS: tuple[str, ...] = (
    "window_id", "song_id", "song_group", "split", "source", "title", "artist", "section",
    "genre", "genre_raw", "subgenre", "mood", "mood_evidence", "key_tonic", "scale_type",
    "chords", "n_chords", "ends",
)
SPLITS: tuple[str, ...] = ("train", "validation", "test")


def write_table(frame: pd.DataFrame, path: Path = CORPUS_TABLE) -> None:
    """Write the table as gzip CSV with a fixed header time, so equal tables give equal bytes."""
    text = frame.loc[:, list(COLUMNS)].to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)


@lru_cache(maxsize=4)
def load_table(path: Path = CORPUS_TABLE) -> pd.DataFrame:
    """The progression table (cached per process). Empty strings stay empty strings."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, compression="gzip")
    frame["n_chords"] = frame["n_chords"].astype(int)
    frame["ends"] = frame["ends"].astype(int)
    return frame
