"""Build the shipped progression table from the raw sources: parse, window, group, split, write.

``python -m core data build --sources ../shared/data`` runs :func:`build_corpus`. The steps:

1. every source parser turns its files into :class:`~core.corpus.rows.Song` objects;
2. each segment's immediate repeats are collapsed and the segment is cut into near-equal,
   non-overlapping windows of at most :data:`MAX_WINDOW_CHORDS` chords (a window shorter than
   :data:`MIN_WINDOW_CHORDS` is dropped); identical windows within one song are kept once;
3. songs are grouped by normalised title (so one song from two sources, two analysts or two
   transcriptions is one group), and groups are split train/validation/test, stratified by
   genre, with a fixed seed;
4. the table is written as gzip CSV with a fixed header time (byte-identical across builds),
   beside ``build_report.json`` (every skipped line and file, mapped qualities, per source); the
   console shows the first few skipped lines per source and says where the full list is.
"""

from __future__ import annotations

import importlib
import json
import math
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from core.chords import ROOTS
from core.corpus.rows import BuildReport, Song
from core.corpus.songs import SONGS_FILE, songs_frame, windows_from_songs, write_songs
from core.corpus.table import COLUMNS, write_table
from core.errors import InputError
from core.paths import CORPUS_TABLE

#: the sources the table was built from before whole songs came (their groups keep their splits).
TODAY_SOURCES: tuple[str, ...] = (
    "billboard", "pop909", "rs200", "jazz-standards", "nottingham", "when-in-rome", "free-midi-chords",
)
#: source folder under the sources root -> parser module under core.corpus (``module:function``, default ``parse``)
SOURCES: dict[str, str] = {
    "billboard": "billboard",
    "pop909": "pop909",
    "rs200": "rs200",
    "jazz-standards": "jazz_standards",
    "nottingham": "nottingham",
    "when-in-rome": "when_in_rome",
    "free-midi-chords": "free_midi_chords",
    "openewld": "openewld",
    "ireal-playlists": "ireal_sections",
}
#: the ``source`` a folder's songs carry, where it is not the folder's name.
SOURCE_NAMES: dict[str, str] = {"ireal-playlists": "ireal"}
#: the build report's file name, written beside the table.
REPORT_FILE = "build_report.json"
#: skipped lines the console shows per source; the report holds them all.
CONSOLE_SKIP_EXAMPLES = 3
#: sources whose mapped labels are chord symbols with a root (``A:sus4(b7)``); the others' are Roman numerals.
ROOTED_LABEL_SOURCES = frozenset({"billboard", "pop909", "jazz-standards", "nottingham", "openewld", "ireal"})
MAX_WINDOW_CHORDS = 11  # the default model sees <start> + 11 chords = sequence length 12
MIN_WINDOW_CHORDS = 2
SPLIT_SEED = 20261125
_ROOT_PREFIX = re.compile(r"^[A-G][#b]*(?=[:\w#+^\-(]|$)")
SPLIT_SHARES = {"test": 0.10, "validation": 0.10}


def window_lengths(n_chords: int, max_len: int = MAX_WINDOW_CHORDS) -> list[int]:
    """Lengths of near-equal consecutive windows covering ``n_chords`` (e.g. 25 -> [9, 8, 8])."""
    if n_chords <= 0:
        return []
    pieces = math.ceil(n_chords / max_len)
    base, extra = divmod(n_chords, pieces)
    return [base + 1 if i < extra else base for i in range(pieces)]


def song_group(song: Song) -> str:
    """The identity used for splitting: one song is one group, whichever source or analyst.

    Pop and rock songs, jazz standards and folk tunes are grouped by normalised title, which
    also merges the odd pair of different songs with one title (harmless: stricter splits).
    Classical pieces add the composer (titles like 'Sonata No. 1' recur), and the
    free-midi-chords progressions are each their own group.
    """
    from core.corpus.mood import normalise_title

    if song.source == "free-midi-chords":
        return song.song_id
    title = normalise_title(song.title) or song.song_id
    if song.source == "when-in-rome":
        return f"{normalise_title(song.artist)}|{title}"
    return title


def song_windows(song: Song) -> list[dict[str, object]]:
    """The table rows of one song: its segments cut into windows, duplicates within the song dropped."""
    runs: list[tuple[list[str], str, str, str, bool]] = []
    joining = False
    for segment in song.segments:
        symbols = [chord.symbol for chord in segment.chords]
        if joining and runs:
            runs[-1] = (runs[-1][0] + symbols, runs[-1][1], runs[-1][2], runs[-1][3], segment.ends)
        else:
            runs.append((symbols, ROOTS[segment.key_tonic % 12], segment.scale_type, segment.section, segment.ends))
        joining = segment.joins_next
    fields = {
        "song_id": song.song_id, "source": song.source, "title": song.title, "artist": song.artist,
        "genre": song.genre, "genre_raw": song.genre_raw, "subgenre": song.subgenre, "mood": song.mood,
        "mood_evidence": song.mood_evidence,
    }
    return windows_of_runs(fields, runs)


def windows_of_runs(fields: dict[str, object], runs: list[tuple[list[str], str, str, str, bool]]) -> list[dict[str, object]]:
    """Cut one song's runs ``(symbols, key_tonic, scale_type, section, ends)`` into window rows.

    Immediate repeats are collapsed, each run is cut into near-equal windows of at most
    :data:`MAX_WINDOW_CHORDS`, windows under :data:`MIN_WINDOW_CHORDS` are dropped and a window
    repeated verbatim in the song (same key) is kept once.
    """
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, str, str]] = set()
    for symbols, key_tonic, scale_type, section, ends in runs:
        chords = [s for i, s in enumerate(symbols) if i == 0 or symbols[i - 1] != s]
        start = 0
        lengths = window_lengths(len(chords))
        for piece, length in enumerate(lengths):
            window = chords[start:start + length]
            start += length
            if len(window) < MIN_WINDOW_CHORDS:
                continue
            text = " ".join(window)
            if (text, key_tonic, scale_type) in seen:
                continue
            seen.add((text, key_tonic, scale_type))
            rows.append({
                "window_id": f"{fields['song_id']}#{len(rows):03d}", "song_id": fields["song_id"],
                "source": fields["source"], "title": fields["title"], "artist": fields["artist"], "section": section,
                "genre": fields["genre"], "genre_raw": fields["genre_raw"], "subgenre": fields["subgenre"],
                "mood": fields["mood"], "mood_evidence": fields["mood_evidence"], "key_tonic": key_tonic,
                "scale_type": scale_type, "chords": text, "n_chords": len(window),
                "ends": int(ends and piece == len(lengths) - 1),
            })
    return rows


def assign_splits(frame: pd.DataFrame, seed: int = SPLIT_SEED) -> pd.Series:
    """Split label per row, by song group, stratified by each group's majority genre."""
    return frame["song_group"].map(split_of_groups(frame, seed))


def split_of_groups(frame: pd.DataFrame, seed: int = SPLIT_SEED) -> dict[str, str]:
    """``{song group: split}`` for the groups in ``frame``, stratified by each group's majority genre (by rows)."""
    group_genre = (
        frame.assign(genre_or_open=frame["genre"].replace("", "unspecified"))
        .groupby("song_group")["genre_or_open"]
        .agg(lambda s: Counter(s).most_common(1)[0][0])
    )
    split_of_group: dict[str, str] = {}
    rng = random.Random(seed)
    for genre in sorted(group_genre.unique()):
        groups = sorted(group_genre.index[group_genre == genre])
        rng.shuffle(groups)
        n_test = round(len(groups) * SPLIT_SHARES["test"])
        n_val = round(len(groups) * SPLIT_SHARES["validation"])
        for i, group in enumerate(groups):
            split_of_group[group] = "test" if i < n_test else "validation" if i < n_test + n_val else "train"
    return split_of_group


def settled_splits(songs: pd.DataFrame, windows: pd.DataFrame) -> dict[str, str]:
    """``{song group: split}`` for every group: today's sources' groups split as before, new groups after.

    Groups with windows from :data:`TODAY_SOURCES` are split exactly as the table was split before the
    new sources came (by their windows), so a song group that already had a split keeps it; every other
    group (only in a new source, or with no window) is split afterwards by its songs, with its own seed.
    """
    split_of_group = split_of_groups(windows[windows["source"].isin(list(TODAY_SOURCES))])
    rest = songs.drop_duplicates("song_id")
    rest = rest[~rest["song_group"].isin(list(split_of_group))]
    if len(rest):
        split_of_group.update(split_of_groups(rest, SPLIT_SEED + 1))
    return split_of_group


def parse_sources(sources_root: Path, report: BuildReport, log: Callable[[str], None] = print) -> list[Song]:
    """Run every source parser; a missing source folder is an error (found before any parsing), never a silent gap.

    A source that gives no songs is an error that quotes what its parser skipped (a truncated JSON
    file's error position, say), not only that nothing came out.
    """
    needed = f"a folder holding {', '.join(SOURCES)}"
    if not sources_root.is_dir():
        raise InputError(f"{sources_root} is not a folder of sources (give {needed})")
    missing = [str(sources_root / folder) for folder in SOURCES if not (sources_root / folder).is_dir()]
    if missing:
        raise InputError(f"source folder missing: {', '.join(missing)} (give {needed})")
    songs: list[Song] = []
    for folder, parser_name in SOURCES.items():
        source_dir = sources_root / folder
        module_name, _, function_name = parser_name.partition(":")
        module = importlib.import_module(f"core.corpus.{module_name}")
        parsed = getattr(module, function_name or "parse")(source_dir, report)
        name = source_name(folder)
        if not parsed:
            raise InputError(f"source {folder} gave no songs{_first_skip(report.skipped[name])}; check {source_dir}")
        log(f"{folder:18s} {len(parsed):6d} songs  {report.chords_read[name]:8d} chords  "
            f"{len(report.skipped[name]):5d} skipped  {sum(report.mapped[name].values()):6d} mapped")
        songs.extend(parsed)
    return songs


def _first_skip(skipped: list[str]) -> str:
    """``": <first skipped line> (and N more skipped)"``, or ``""`` when nothing was skipped."""
    if not skipped:
        return ""
    more = f" (and {len(skipped) - 1} more skipped)" if len(skipped) > 1 else ""
    return f": {skipped[0]}{more}"


def songs_to_frame(songs: list[Song]) -> pd.DataFrame:
    """All windows of all songs as one frame with groups and splits, sorted deterministically."""
    return songs_to_tables(songs)[1]


def songs_to_tables(songs: list[Song]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The song table and the windows derived from it, both with groups and splits (see :func:`settled_splits`)."""
    table = songs_frame(songs, song_group)
    windows = pd.DataFrame(windows_from_songs(table, windows_of_runs), columns=[c for c in COLUMNS if c != "split"])
    windows["song_group"] = windows["song_id"].map(dict(zip(table["song_id"], table["song_group"], strict=True)))
    split_of_group = settled_splits(table, windows)
    table["split"] = table["song_group"].map(split_of_group)
    windows["split"] = windows["song_group"].map(split_of_group)
    windows = windows.sort_values("window_id", kind="stable").reset_index(drop=True).loc[:, list(COLUMNS)]
    return table, windows


def source_name(folder: str) -> str:
    """The ``source`` label of a source folder's songs (``ireal-playlists`` -> ``ireal``)."""
    return SOURCE_NAMES.get(folder, folder)


def report_dict(report: BuildReport, songs: list[Song], added: dict[str, dict[str, int]] | None = None) -> dict[str, object]:
    """The build report as plain JSON-able data (sorted, so builds compare byte for byte).

    Per source (by its ``source`` label): songs, chords read, every skipped line, mapped qualities,
    corrections noted, and for the new sources what they ``added`` after de-duplication by song group.
    """
    per_source: dict[str, dict[str, object]] = {}
    songs_per_source = Counter(s.source for s in songs)
    for folder in map(source_name, SOURCES):
        mapped: Counter[str] = Counter()
        has_root = folder in ROOTED_LABEL_SOURCES  # "A:sus4(b7) -> sus4" counts as ":sus4(b7) -> sus4"; "Ger65" stays
        for label, count in report.mapped[folder].items():
            mapped[_ROOT_PREFIX.sub("", label) if has_root else label] += count
        per_source[folder] = {
            "songs": songs_per_source[folder],
            "chords_read": report.chords_read[folder],
            "skipped": len(report.skipped[folder]),
            "skipped_lines": report.skipped[folder],
            "mapped_total": sum(mapped.values()),
            "mapped": [[label, count] for label, count in sorted(mapped.items(), key=lambda kv: (-kv[1], kv[0]))[:40]],
            "notes": report.notes[folder],
        }
        if added and folder in added:
            per_source[folder]["added_after_dedup"] = added[folder]
    return {"sources": per_source}


def added_by_new_sources(table: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per source not in :data:`TODAY_SOURCES`: its songs, and those (and their groups) no earlier source holds."""
    songs = table.drop_duplicates("song_id")
    earlier: set[str] = set(songs.loc[songs["source"].isin(list(TODAY_SOURCES)), "song_group"])
    added: dict[str, dict[str, int]] = {}
    for folder in SOURCES:
        name = source_name(folder)
        if name in TODAY_SOURCES:
            continue
        own = songs[songs["source"] == name]
        new = own[~own["song_group"].isin(list(earlier))]
        added[name] = {"songs": int(len(own)), "songs_added": int(len(new)), "groups_added": int(new["song_group"].nunique())}
        earlier |= set(own["song_group"])
    return added


def log_skipped(report: BuildReport, report_path: Path, log: Callable[[str], None] = print) -> None:
    """The first :data:`CONSOLE_SKIP_EXAMPLES` skipped lines per source, and where the full list is."""
    total = sum(len(report.skipped[folder]) for folder in map(source_name, SOURCES))
    for folder in map(source_name, SOURCES):
        skipped = report.skipped[folder]
        for line in skipped[:CONSOLE_SKIP_EXAMPLES]:
            log(f"  skipped in {folder}: {line}")
        if len(skipped) > CONSOLE_SKIP_EXAMPLES:
            log(f"  ... and {len(skipped) - CONSOLE_SKIP_EXAMPLES} more skipped in {folder}")
    if total:
        log(f"all {total} skipped lines and files: {report_path} (\"skipped_lines\" of each source)")


def build_corpus(sources_root: Path, out_path: Path = CORPUS_TABLE, log: Callable[[str], None] = print) -> pd.DataFrame:
    """Parse every source under ``sources_root`` and write the table and its build report."""
    report = BuildReport()
    songs = parse_sources(Path(sources_root), report, log)
    table, frame = songs_to_tables(songs)
    write_table(frame, out_path)
    write_songs(table, out_path.parent / SONGS_FILE)
    report_path = out_path.parent / REPORT_FILE
    tmp = report_path.with_suffix(".tmp")
    try:
        text = json.dumps(report_dict(report, songs, added_by_new_sources(table)), indent=1, sort_keys=True)
        tmp.write_text(text + "\n", encoding="utf-8")
    except BaseException:  # a full disk mid-write: no half-written report stays behind
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(report_path)
    log_skipped(report, report_path, log)
    by_split = defaultdict(int, frame["split"].value_counts().to_dict())
    log(f"wrote {out_path}: {len(frame)} windows from {frame['song_id'].nunique()} songs "
        f"({frame['song_group'].nunique()} groups; train {by_split['train']}, "
        f"validation {by_split['validation']}, test {by_split['test']} windows)")
    log(f"wrote {out_path.parent / SONGS_FILE}: {len(table)} chords of {table['song_id'].nunique()} songs")
    return frame
