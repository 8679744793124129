"""``python -m core generate``: sample progressions from a trained model (fast NumPy decoder)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.cli.path_arguments import output_path
from core.cli.setting_flags import add_setting_flags, given_settings
from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow
from core.config import GenerationSettings
from core.errors import InputError


def register(subparsers) -> None:
    """Add the ``generate`` sub-command."""
    parser = subparsers.add_parser(
        "generate", help="generate chord progressions",
        description="Sample progressions under the given conditions. Open conditions stay 'unspecified'. "
        "--lock keeps chords at 1-based positions and resamples the others using the chords on both sides.",
    )
    add_condition_arguments(parser)
    add_setting_flags(parser, GenerationSettings)
    parser.add_argument("--seed-chords", default="", help="opening chords, e.g. 'C Am' (slash basses kept: 'C/E Am'; "
                        "symbols outside the vocabulary, such as G7sus4, are read as the nearest chord, with a note)")
    parser.add_argument("--lock", default="", help="fixed chords at 1-based positions, e.g. '1:C 4:G'")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--export", type=output_path, help="folder for .mid/.musicxml/.svg/.wav of every sample")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Validate everything, load the model, generate, print (and export); notes on how symbols were read go to stderr."""
    from core.generation.chord_input import parse_locks, read_chords
    from core.generation.ensemble import load_ensemble
    from core.generation.generate import generate, validate_request

    conditions = conditions_from_args(args)
    settings = GenerationSettings(**given_settings(args, GenerationSettings))  # each flag already checked by argparse
    seed_chords, locks = read_chords(args.seed_chords), parse_locks(args.lock)
    validate_request(conditions, settings, seed_chords, locks)  # before the model load
    if args.export is not None:
        from core.paths import writable_dir

        writable_dir(args.export, "--export", from_flag=True)
    with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
        generator = load_ensemble(args.model)
    samples = generate(generator, conditions, settings, seed_chords=seed_chords, locks=locks)
    for note in samples[0].notes if samples else []:
        print(f"note: {note}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps([s.to_dict() for s in samples], indent=2))
    else:
        for index, sample in enumerate(samples, start=1):
            print(format_sample(index, sample))
    if args.export is not None:
        export_samples(samples, args.export, quiet=args.format == "json")
    return 0


def format_sample(index: int, sample) -> str:
    """Three aligned lines: symbols, Roman numerals (and their key), model probabilities."""
    widths = [max(len(c), len(r), 4) for c, r in zip(sample.symbols, sample.roman, strict=True)]
    chords = "  ".join(c.ljust(w) for c, w in zip(sample.symbols, widths, strict=True))
    roman = "  ".join(r.ljust(w) for r, w in zip(sample.roman, widths, strict=True))
    probabilities = "  ".join(f"{p:.2f}".ljust(w) for p, w in zip(sample.probabilities, widths, strict=True))
    end = "  [end]" if sample.ended else ""
    pad = " " * (len(str(index)) + 2)
    return f"{index}. {chords}{end}\n{pad}{roman}  ({sample.roman_key})\n{pad}{probabilities}  (p)"


def export_samples(samples, out_dir: Path, quiet: bool = False) -> None:
    """Write every sample's MIDI, MusicXML, SVG and WAV with :func:`core.notation.export.export_progression`."""
    try:
        from core.notation.export import export_progression
    except ImportError as exc:
        raise InputError(f"export is not available: {exc}") from None
    from core.chords import pitch_class

    for index, sample in enumerate(samples, start=1):
        tonic_name, mode = sample.roman_key.split()
        paths = export_progression(sample.slash_chords, out_dir, stem=f"sample_{index:02d}", title=" ".join(sample.symbols),
                                   key=(pitch_class(tonic_name), mode, tonic_name))  # spelled as named
        print(f"sample {index}: " + ", ".join(str(p) for p in paths.values()), file=sys.stderr if quiet else sys.stdout)
