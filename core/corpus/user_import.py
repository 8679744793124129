"""Importing a user's own songs: read the files, check the limits, hold songs out, write a table under output/imports/.

``python -m core data import FILE…`` and the Training page's upload both call
:func:`import_songs` (the readers are :mod:`core.corpus.user_songs`), then :func:`write_import`,
which writes ``output/imports/<name>/`` (never ``data/``)::

    progressions.csv.gz   the songs as a table in the corpus layout (source ``user``), with splits
    import.json           what was read: per file its songs, chords, problems and notes; songs per split

Held-out songs: every song is a song group of its own; :func:`split_songs` orders them by a hash
of their content (title and chords), so the same songs always get the same split whatever the
file order: :data:`HELD_OUT` shares (at least one song each) go to test and validation, the rest
to train. Fine-tuning the default on them (:func:`fine_tune_config`) trains on the train songs,
stops early on the validation songs, and reports the perplexity of the test songs before (the
default) and after (the fine-tuned model): ``base_lstm`` and ``lstm`` in its ``test_results.json``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from core import paths
from core.chords import collapse_repeats
from core.config import RUN_NAME_PATTERN, TrainConfig
from core.corpus.rows import Song
from core.corpus.user_songs import FileReading, read_file
from core.errors import InputError

#: most files one import reads.
MAX_FILES = 50
#: most bytes one import reads, all files together.
MAX_TOTAL_BYTES = 20_000_000
#: most songs one import keeps.
MAX_SONGS = 2000
#: fewest songs: one each for train, validation and test.
MIN_SONGS = 3
#: shares of the songs held out (each at least one song).
HELD_OUT: dict[str, float] = {"test": 0.2, "validation": 0.1}
#: the folder under the output folder holding every import.
IMPORTS_FOLDER = "imports"
TABLE_FILE = "progressions.csv.gz"
REPORT_FILE = "import.json"
#: how the studio fine-tunes the default on imported songs (a small data set: a lower learning rate, a time budget).
FINE_TUNE_RECIPE: dict[str, Any] = {"epochs": 40, "lr": 3e-4, "batch_size": 16, "max_minutes": 5.0}


@dataclass
class ImportResult:
    """An import: what each file gave, the labels given to every song, and the table with its splits."""

    files: list[FileReading]
    genre: str
    mood: str
    table: pd.DataFrame
    repeats_kept_once: int

    @property
    def songs(self) -> list[Song]:
        """Every song read, file by file."""
        return [song for reading in self.files for song in reading.songs]

    def summary(self) -> dict[str, Any]:
        """What was read, as JSON-able data (``import.json``; ``data import --format json``)."""
        by_split = self.table.groupby("split")
        return {
            "files": [{
                "file": r.file, "format": r.format, "songs": len(r.songs), "chords": r.chords,
                "keys_guessed": r.guessed_keys, "slash_basses_dropped": r.slash_basses,
                "not_read": [str(p) for p in r.problems], "notes": [str(p) for p in r.notes],
            } for r in self.files],
            "genre": self.genre, "mood": self.mood,
            "songs": {split: int(by_split.get_group(split)["song_id"].nunique()) if split in by_split.groups else 0
                      for split in ("train", "validation", "test")},
            "windows": {split: int((self.table["split"] == split).sum()) for split in ("train", "validation", "test")},
            "held_out_songs": sorted(self.table.loc[self.table["split"] != "train", "title"].unique().tolist()),
            **{f"{split}_songs": sorted(self.table.loc[self.table["split"] == split, "title"].unique().tolist())
               for split in ("validation", "test")},  # the held-out songs by use: stopping early, before/after
            "repeats_kept_once": self.repeats_kept_once,
        }


class ImportRefused(InputError):
    """An upload refused once its files were read (too few or too many songs, no chords): the message, and
    :attr:`readings`, what each file gave, so the studio can show its per-file table beside the refusal."""

    def __init__(self, message: str, readings: Sequence[FileReading]) -> None:
        super().__init__(message)
        self.readings = list(readings)


def imports_dir() -> Path:
    """The folder holding every import (``<output>/imports``)."""
    return paths.OUTPUT_DIR / IMPORTS_FOLDER


def read_import_file(path: Path) -> bytes:
    """The bytes of one file named for import, read with the per-file bound (a link to ``/dev/zero`` is refused)."""
    from core.bounded_reads import read_bounded
    from core.corpus.user_songs import MAX_FILE_BYTES

    return read_bounded(path, MAX_FILE_BYTES, "the file")


def check_limits(files: Sequence[tuple[str, int]]) -> None:
    """:class:`InputError` when ``(name, size)`` pairs are too many, too large together, none, or named twice."""
    if not files:
        raise InputError("no files given: give chord charts (.txt), ChordPro (.cho), MusicXML or MIDI files")
    if len(files) > MAX_FILES:
        raise InputError(f"{len(files)} files; at most {MAX_FILES} per import")
    total = sum(size for _, size in files)
    if total > MAX_TOTAL_BYTES:
        raise InputError(f"{total:,} bytes in all; at most {MAX_TOTAL_BYTES:,} per import")
    names = [name for name, _ in files]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise InputError(f"{', '.join(twice)} given twice")


def split_songs(songs: Sequence[Song]) -> dict[str, str]:
    """``{song_id: split}``: the held-out shares by a content hash (module docstring); needs :data:`MIN_SONGS` songs."""
    if len(songs) < MIN_SONGS:
        raise InputError(f"{len(songs)} song(s) read; at least {MIN_SONGS} are needed, to hold one out for validation "
                         "and one for the test (in a plain-text chart every line is a song unless 'title:' lines group "
                         "them; in ChordPro each {title: …} or {new_song} starts a song)")

    def content(song: Song) -> str:
        chords = " / ".join(" ".join(c.symbol for c in segment.chords) for segment in song.segments)
        return hashlib.sha256(f"{song.title}|{chords}".encode()).hexdigest()

    ordered = sorted(songs, key=lambda song: (content(song), song.song_id))
    n_test = max(1, round(len(songs) * HELD_OUT["test"]))
    n_validation = max(1, round(len(songs) * HELD_OUT["validation"]))
    return {song.song_id: "test" if i < n_test else "validation" if i < n_test + n_validation else "train"
            for i, song in enumerate(ordered)}


def songs_table(songs: Sequence[Song], genre: str = "", mood: str = "") -> tuple[pd.DataFrame, int]:
    """The songs as a corpus-layout table with splits, and how many repeated windows within a song were kept once."""
    from core.corpus.build import song_windows, window_lengths
    from core.corpus.table import COLUMNS

    splits = split_songs(songs)
    rows, expected = [], 0
    for song in songs:
        song.genre, song.mood = genre, mood
        expected += sum(len(window_lengths(len(collapse_repeats(s.chords)))) for s in song.segments)
        for row in song_windows(song):
            rows.append({**row, "song_group": song.song_id, "split": splits[song.song_id],
                         "genre_raw": genre, "mood_evidence": "given on import" if mood else ""})
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.astype({"n_chords": int, "ends": int}), expected - len(frame)


def import_songs(files: Sequence[tuple[str, bytes]], genre: str | None = None, mood: str | None = None,
                 before_file: Callable[[int, str], None] | None = None) -> ImportResult:
    """Read ``(name, bytes)`` files into an :class:`ImportResult` (nothing written); :class:`InputError` for bad input.

    ``genre`` and ``mood`` label every song (default: unspecified). Bad input: too many or too
    large files, a file that cannot be read at all (:mod:`core.corpus.user_songs`, which bounds
    the work of each), no chords, fewer than :data:`MIN_SONGS` or more than :data:`MAX_SONGS` songs.
    ``before_file(index, name)`` is called before each file is read: the studio updates its
    progress there, which is also where Streamlit stops a run whose visitor has left (whatever
    it raises ends the import, so no file after it is read).
    """
    from core.conditions import Conditions

    check_limits([(name, len(data)) for name, data in files])
    labels = Conditions.parse(genre=genre, mood=mood)
    readings = []
    for index, (name, data) in enumerate(files):
        if before_file is not None:
            before_file(index, name)
        readings.append(read_file(name, data))
    try:
        return _songs_of(readings, labels)
    except InputError as refused:
        raise ImportRefused(str(refused), readings) from None


def _songs_of(readings: list[FileReading], labels: Any) -> ImportResult:
    """The :class:`ImportResult` of files read (``labels``: the checked genre and mood); :class:`InputError` if refused."""
    from core.conditions import UNSPECIFIED

    songs = [song for reading in readings for song in reading.songs]
    if not songs:
        problems = [str(p) for reading in readings for p in reading.problems][:3]
        raise InputError("no progressions read" + (f": {'; '.join(problems)}" if problems else ""))
    if len(songs) > MAX_SONGS:
        raise InputError(f"{len(songs)} songs read; at most {MAX_SONGS} per import")
    genre_label = "" if labels.genre == UNSPECIFIED else labels.genre
    mood_label = "" if labels.mood == UNSPECIFIED else labels.mood
    table, repeats = songs_table(songs, genre_label, mood_label)
    return ImportResult(readings, genre_label, mood_label, table, repeats)


def new_import_name(now: float | None = None) -> str:
    """``import-YYYYmmdd-HHMMSS`` (suffixed when taken)."""
    return paths.stamped_name("import", imports_dir(), now)


def write_import(result: ImportResult, name: str | None = None) -> Path:
    """Write the table and ``import.json`` to ``output/imports/<name>/`` (a new folder); returns the table's path."""
    from core.corpus.table import write_table
    from core.run_files import write_json_atomic

    name = name or new_import_name()
    if not RUN_NAME_PATTERN.match(name):
        raise InputError(f"import name {name!r} is not usable: letters, digits, '.', '_' or '-' (at most 64)")
    folder = imports_dir() / name
    if folder.exists():
        raise InputError(f"an import named {name!r} already exists in {imports_dir()}; choose another name")
    paths.writable_dir(folder, "the imports folder", create=True)
    write_table(result.table, folder / TABLE_FILE)
    write_json_atomic(folder / REPORT_FILE, {"name": name, **result.summary()})
    return folder / TABLE_FILE


def fine_tune_config(table: Path, run_name: str | None = None, **overrides: Any) -> TrainConfig:
    """The checked TrainConfig that fine-tunes the shipped default on an imported table (:data:`FINE_TUNE_RECIPE`)."""
    values = {**FINE_TUNE_RECIPE, "init_from": str(paths.DEFAULT_MODEL_DIR), "corpus_table": str(Path(table).resolve()),
              "run_name": run_name, **overrides}
    return TrainConfig.from_values(values)


def summary_text(summary: dict[str, Any], table: Path | None = None) -> str:
    """The import summary as the command line prints it: per file what was read, what was not, the splits."""
    lines = []
    for entry in summary["files"]:
        extra = "".join(f", {entry[k]} {label}" for k, label in (("keys_guessed", "keys guessed from the chords"),
                                                                   ("slash_basses_dropped", "slash basses dropped"))
                        if entry[k])
        lines.append(f"{entry['file']} ({entry['format']}): {_count(entry['songs'], 'song')}, "
                     f"{_count(entry['chords'], 'chord')}{extra}")
        lines += [f"  not read: {problem}" for problem in entry["not_read"]]
        lines += [f"  note: {note}" for note in entry["notes"]]
    songs, windows = summary["songs"], summary["windows"]
    lines.append(f"songs: {songs['train']} train, {songs['validation']} validation, {songs['test']} test "
                 f"({windows['train']} / {windows['validation']} / {windows['test']} windows)")
    lines.append(f"held out: to stop early on {', '.join(summary['validation_songs']) or 'none'}; "
                 f"to compare before and after {', '.join(summary['test_songs']) or 'none'}")
    if summary["repeats_kept_once"]:
        lines.append(f"{summary['repeats_kept_once']} progressions repeated within a song were kept once")
    if table is not None:
        lines.append(f"table: {table}")
        recipe = " ".join(f"--{key.replace('_', '-')} {value}" for key, value in FINE_TUNE_RECIPE.items())
        lines.append(f"fine-tune the default on it: python -m core train --init-from models/default --table {table} {recipe}")
    return "\n".join(lines)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
