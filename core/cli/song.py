"""``python -m core song``: a whole song (sections, chords, durations) from a form, printed as a chart or JSON.

The form, bars, time signature and tempo are :class:`core.config.SongSettings` (their limits are the
page's and the API's); the sampling flags are :class:`core.config.GenerationSettings`' (a song sets
its own length and number). ``--preset`` starts from a ready form (its flags given beside it win).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.cli.path_arguments import output_path
from core.cli.setting_flags import add_setting_flags, given_settings
from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow
from core.config import GenerationSettings, SongSettings
from core.song.form import PRESETS, read_form

#: the sampling settings a song leaves to the user (it sets its own length, number and ending).
SONG_SAMPLING = tuple(name for name in GenerationSettings.settings() if name not in ("length", "num_samples",
                                                                                    "let_model_end"))
FORMATS = ("text", "chordpro", "json")


def register(subparsers) -> None:
    """Add the ``song`` sub-command."""
    parser = subparsers.add_parser(
        "song", help="write a whole song: sections, chords and their durations",
        description="Draw a song section by section under the genre, mood and key: each section after the chords "
        "before it, a returning section (the second Chorus) the first one's chords again (Chorus' asks for a "
        "variation), durations from the corpus's harmonic rhythm for the genre. Presets: "
        + ", ".join(f"{name} ({preset.title})" for name, preset in PRESETS.items()) + ".",
    )
    add_condition_arguments(parser)
    parser.add_argument("--preset", choices=tuple(PRESETS), help="start from a ready form (flags given beside it win)")
    add_setting_flags(parser, SongSettings)
    add_setting_flags(parser, GenerationSettings, SONG_SAMPLING)
    parser.add_argument("--format", choices=FORMATS, default="text", help="how to print the song (default: text)")
    parser.add_argument("--export", type=output_path, help="folder for song.mid, .musicxml, .chordpro, .txt and .json")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def song_settings_from_args(args: argparse.Namespace) -> SongSettings:
    """The song settings the flags give, over the preset's (when one is named) or the defaults; checked."""
    given = given_settings(args, SongSettings)
    if args.preset:
        preset = PRESETS[args.preset]
        base = {"form": preset.form, "bars": preset.bars, "time_signature": preset.time_signature,
                "tempo": preset.tempo}
        if "form" in given and "bars" not in given:
            base.pop("bars")  # a form of one's own takes its sections' usual bars
        given = {**base, **given}
    return SongSettings(**given)


def run(args: argparse.Namespace) -> int:
    """Check the form and flags, load the model, draw the song, print it (and export it)."""
    from core.generation.ensemble import load_ensemble
    from core.generation.song import generate_song

    if args.preset and not args.genre:
        args.genre = PRESETS[args.preset].genre
    conditions = conditions_from_args(args)
    song_settings = song_settings_from_args(args)
    read_form(song_settings)  # a form refused before the model loads
    settings = GenerationSettings(**given_settings(args, GenerationSettings))
    if args.export is not None:
        from core.paths import writable_dir

        writable_dir(args.export, "--export", from_flag=True)
    with quiet_tensorflow(args.verbose):
        generator = load_ensemble(args.model)
    song = generate_song(generator, song_settings, conditions, settings)
    print(song_output(song, args.format))
    if args.export is not None:
        export_song_files(song, args.export)
    return 0


def song_output(song, output_format: str) -> str:
    """The song as the chosen format prints it."""
    from core.song.chart import to_chordpro, to_text

    if output_format == "json":
        return json.dumps(song.to_dict(), indent=2)
    return to_chordpro(song) if output_format == "chordpro" else to_text(song)


def export_song_files(song, out_dir: Path) -> None:
    """Write the song's files into ``out_dir`` and name them on stderr."""
    import sys

    from core.notation.song import write_song_files

    paths = write_song_files(song, out_dir)
    print("song: " + ", ".join(str(p) for p in paths.values()), file=sys.stderr)
