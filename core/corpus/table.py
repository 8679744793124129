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

from core.errors import EnvironmentFault, InputError, os_error_message
from core.paths import CORPUS_TABLE

COLUMNS: tuple[str, ...] = (
    "window_id", "song_id", "song_group", "split", "source", "title", "artist", "section",
    "genre", "genre_raw", "subgenre", "mood", "mood_evidence", "key_tonic", "scale_type",
    "chords", "n_chords", "ends",
)
SPLITS: tuple[str, ...] = ("train", "validation", "test")
#: the seven sources of the table before the song table joined iReal Pro and OpenEWLD (issue #20): every model figure
#: before model 2 was measured on their songs (555 test, 565 validation), so comparisons with them use these alone.
ORIGINAL_SOURCES: tuple[str, ...] = ("billboard", "free-midi-chords", "jazz-standards", "nottingham", "pop909", "rs200",
                                     "when-in-rome")


def original_songs(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the seven :data:`ORIGINAL_SOURCES` (every split), index reset: the songs earlier figures are on."""
    return frame.loc[frame["source"].isin(ORIGINAL_SOURCES)].reset_index(drop=True)


def write_table(frame: pd.DataFrame, path: Path = CORPUS_TABLE) -> None:
    """Write the table as gzip CSV with a fixed header time, so equal tables give equal bytes."""
    text = frame.loc[:, list(COLUMNS)].to_csv(index=False, lineterminator="\n")
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_bytes(buffer.getvalue())
    except BaseException:  # a full disk mid-write: no half-written file stays behind, ``path`` is untouched
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)


@lru_cache(maxsize=4)
def load_table(path: Path = CORPUS_TABLE) -> pd.DataFrame:
    """The progression table (cached per process). Empty strings stay empty strings.

    A missing, damaged or foreign file (not gzip, truncated, other columns) is an
    :class:`EnvironmentFault` naming it and the way to a good copy, never a parser's traceback.
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, compression="gzip")
        missing = [column for column in COLUMNS if column not in frame.columns]
        if missing:
            raise ValueError(f"columns {', '.join(missing)} are missing")
        frame["n_chords"] = frame["n_chords"].astype(int)
        frame["ends"] = frame["ends"].astype(int)
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as error:
        reason = os_error_message(error) if isinstance(error, OSError) else f"{type(error).__name__}: {error}"
        raise EnvironmentFault(
            f"the corpus table {path} cannot be read ({reason.splitlines()[0]}); "
            "rebuild it with 'python -m core data build' or point CHORDSMITH_CORPUS at a good copy"
        ) from error
    return frame


def shipped_table() -> pd.DataFrame:
    """The corpus table in use (``CHORDSMITH_CORPUS``, else the shipped one); an :class:`InputError` says how to build it."""
    from core import paths  # read at call time: tests and the studio point CORPUS_TABLE elsewhere

    if not paths.CORPUS_TABLE.exists():
        raise InputError(f"corpus table not found: {paths.CORPUS_TABLE} (build it with 'python -m core data build')")
    return load_table(paths.CORPUS_TABLE)
