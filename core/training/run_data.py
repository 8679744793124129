"""The rows a run trains and is evaluated on: the shipped table or a chosen one, narrowed to a subset.

A run's :class:`~core.config.TrainConfig` says which table (``corpus_table``: default the shipped
corpus, or a table written by ``python -m core data import``) and which subset of it (``genre``,
``source``, ``mood``). The table's song-level ``split`` column is kept as it is, so a subset's
train, validation and test rows are the subset's own songs of each split. Training
(:mod:`core.training.train`) and evaluation (:mod:`core.evaluation.evaluate`) both read a run's
rows through :func:`run_frame`, so a fine-tuned run is evaluated on the test songs of exactly the
data it was tuned on.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from core.bounded_reads import read_bounded_text
from core.config import MAX_SMALL_JSON_BYTES, TrainConfig
from core.errors import EnvironmentFault, InputError
from core.run_files import CONFIG_FILE

#: the table columns the subset filters read, by setting name.
SUBSET_COLUMNS: dict[str, str] = {"genre": "genre", "source": "source", "mood": "mood"}


def load_run_config(run_dir: Path) -> TrainConfig:
    """The TrainConfig a run folder was trained with (from its ``config.json``); :class:`InputError` if it has none."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.exists():
        raise InputError(f"no config.json in {run_dir}")
    text = read_bounded_text(path, MAX_SMALL_JSON_BYTES, "the run's config")  # too large, not UTF-8: one line
    try:
        values = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InputError(f"the run's config {path} is not JSON ({type(error).__name__})") from None
    if not isinstance(values, dict):
        raise InputError(f"the run's config {path} is not a JSON object of settings")
    return TrainConfig.from_dict(values)


def run_table(config: TrainConfig) -> pd.DataFrame:
    """The whole table a run draws from: ``config.corpus_table``, else the shipped corpus.

    A chosen table that is missing or unreadable is an :class:`InputError` naming it (the shipped
    one keeps :func:`core.corpus.table.load_table`'s :class:`EnvironmentFault`).
    """
    from core.corpus.table import load_table
    from core.paths import CORPUS_TABLE

    if config.corpus_table is None:
        return load_table(CORPUS_TABLE)
    path = Path(config.corpus_table).expanduser()
    if not path.is_file():
        raise InputError(f"table {path} not found (give a .csv.gz written by 'python -m core data import' or 'data build')")
    try:
        return load_table(path.resolve())
    except EnvironmentFault as fault:
        raise InputError(str(fault).split(";")[0]) from None


def select_subset(frame: pd.DataFrame, subset: dict[str, str]) -> pd.DataFrame:
    """The rows whose genre/source/mood match every filter in ``subset`` (case-insensitive), index reset.

    An empty result is an :class:`InputError` listing the values the table does hold.
    """
    if not subset:
        return frame
    keep = pd.Series(True, index=frame.index)
    for name, value in subset.items():
        keep &= frame[SUBSET_COLUMNS[name]].astype(str).str.strip().str.lower() == value.lower()
    if not keep.any():
        held = "; ".join(f"{name}s there: {', '.join(_values(frame, name)) or 'none'}" for name in subset)
        wanted = ", ".join(f"{name} {value!r}" for name, value in subset.items())
        raise InputError(f"no songs with {wanted} in the table ({held})")
    return frame.loc[keep].reset_index(drop=True)


def _values(frame: pd.DataFrame, name: str) -> list[str]:
    column = frame[SUBSET_COLUMNS[name]].astype(str).str.strip().str.lower()
    return sorted(v for v in column.unique() if v)


def run_frame(config: TrainConfig, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows a run uses, every split: ``frame`` (default :func:`run_table`) narrowed to the config's subset."""
    return select_subset(run_table(config) if frame is None else frame, config.subset())


def describe_data(config: TrainConfig) -> dict[str, object]:
    """What a run's ``config.json`` records about its data: the table (``shipped`` or its path) and the subset."""
    table = "shipped" if config.corpus_table is None else str(Path(config.corpus_table).expanduser().resolve())
    return {"table": table, "subset": config.subset()}


def run_songs(config: TrainConfig, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The song-table rows a song-context run uses, every split: ``frame`` (default the shipped song table) narrowed
    to the config's subset. A song-context run trains on the shipped song table, not a windows table."""
    if config.corpus_table is not None and frame is None:
        raise InputError("the song context trains on the song table (data/songs.parquet); drop --table")
    if frame is None:
        from core.corpus.songs import shipped_songs

        frame = shipped_songs()
    return select_subset(frame, config.subset())
