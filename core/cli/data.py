"""``python -m core data build|stats|batch|import``: build the corpus, print its figures, show a batch, import your songs."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.path_arguments import input_path, output_path
from core.cli.setting_flags import setting_type
from core.cli.tensorflow_output import add_verbose_argument, import_tensorflow
from core.config import TrainConfig
from core.errors import InputError
from core.paths import CORPUS_TABLE


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its sub-commands."""
    parser = subparsers.add_parser("data", help="build the corpus, print its statistics, show a training batch")
    actions = parser.add_subparsers(dest="data_command", required=True, metavar="ACTION")

    build = actions.add_parser("build", help="build data/progressions.csv.gz from the raw sources")
    build.add_argument("--sources", type=input_path, default=Path("../shared/data"), help="folder of raw source corpora")
    build.add_argument("--out", type=output_path, default=CORPUS_TABLE, help="table to write")
    build.set_defaults(handler=_build)

    stats = actions.add_parser("stats", help="songs and windows per source, genre, mood, key, scale type")
    stats.add_argument("--format", choices=("text", "json"), default="text")
    stats.set_defaults(handler=_stats)

    batch = actions.add_parser("batch", help="print one training batch's shapes and a decoded sample")
    batch.add_argument("--split", choices=("train", "validation", "test"), default="train")
    settings = TrainConfig.settings()  # the training's limits: a batch shown is a batch that could be trained on
    batch.add_argument("--batch-size", type=setting_type(settings["batch_size"]), default=4, metavar="BATCH_SIZE",
                       help=f"windows in the batch ({settings['batch_size'].accepted()}; default 4)")
    batch.add_argument("--no-augment", action="store_true", help="switch off random transposition")
    batch.add_argument("--seed", type=setting_type(settings["seed"]), default=0, metavar="SEED",
                       help=f"random seed ({settings['seed'].accepted()}; default 0)")
    add_verbose_argument(batch)
    batch.set_defaults(handler=_batch)

    songs = actions.add_parser(
        "import", help="read your own songs (chord charts, ChordPro, MusicXML, MIDI) into a table to fine-tune on",
        description="Read plain-text chord charts (one progression per line, optional 'key:' and 'title:' lines), "
        "ChordPro ([C] inline chords, {key: G}, {title: ...}), MusicXML chord symbols and MIDI (chords from "
        "simultaneous notes); print what was read and what was not (file and line); hold songs out for validation and "
        "test; write output/imports/<name>/progressions.csv.gz and import.json.",
    )
    songs.add_argument("files", nargs="+", type=input_path, metavar="FILE", help="files to read")
    songs.add_argument("--name", help="import folder name (default import-YYYYmmdd-HHMMSS)")
    songs.add_argument("--genre", help="genre label of every song (default: unspecified)")
    songs.add_argument("--mood", help="mood label of every song (default: unspecified)")
    songs.add_argument("--format", choices=("text", "json"), default="text", help="how to print what was read")
    songs.set_defaults(handler=_import)


def _build(args: argparse.Namespace) -> int:
    from core.corpus.build import REPORT_FILE, build_corpus
    from core.paths import writable_file

    from_flag = args.out != CORPUS_TABLE  # the default comes from CHORDSMITH_CORPUS or the repository
    for target in (args.out, args.out.parent / REPORT_FILE):  # checked now, not after minutes of parsing
        writable_file(target, "--out" if from_flag else "the corpus table", from_flag=from_flag)
    build_corpus(args.sources, args.out)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from core.corpus.song_stats import format_song_stats, song_stats
    from core.corpus.songs import SONGS_FILE, load_songs
    from core.corpus.stats import corpus_stats, format_stats
    from core.corpus.table import load_table

    if not CORPUS_TABLE.exists():
        raise InputError(f"{CORPUS_TABLE} is missing: run 'python -m core data build --sources ../shared/data'")
    stats = corpus_stats(load_table())
    songs_path = CORPUS_TABLE.parent / SONGS_FILE
    if songs_path.exists():  # the song table beside the windows (issue 20): its figures join the corpus's
        songs = song_stats(load_songs(songs_path))
        stats.update({"songs_with_windows": stats["songs"], **songs})
    text = format_stats(stats) + (format_song_stats(stats) if songs_path.exists() else "")
    print(json.dumps(stats, indent=1) if args.format == "json" else text)
    return 0


def _batch(args: argparse.Namespace) -> int:
    import_tensorflow(args.verbose)

    from core.dataset import describe_batch

    print(describe_batch(split=args.split, batch_size=args.batch_size, augment=not args.no_augment, seed=args.seed))
    return 0


def _import(args: argparse.Namespace) -> int:
    from core.corpus.user_import import check_limits, import_songs, read_import_file, summary_text, write_import

    missing = [str(path) for path in args.files if not path.is_file()]
    if missing:
        raise InputError(f"no such file: {', '.join(missing)}")
    check_limits([(str(path), path.stat().st_size) for path in args.files])  # before reading any of them
    files = [(str(path), read_import_file(path)) for path in args.files]  # bounded: a link to /dev/zero is refused
    result = import_songs(files, genre=args.genre, mood=args.mood)
    table = write_import(result, args.name)
    summary = {**result.summary(), "table": str(table)}
    print(json.dumps(summary, indent=1) if args.format == "json" else summary_text(summary, table))
    return 0
