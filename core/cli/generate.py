"""``python -m core generate``: sample progressions from a trained model (fast NumPy decoder)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.errors import InputError


def register(subparsers) -> None:
    """Add the ``generate`` sub-command."""
    parser = subparsers.add_parser(
        "generate", help="generate chord progressions",
        description="Sample progressions under the given conditions. Open conditions stay 'unspecified'. "
        "--lock keeps chords at 1-based positions and resamples the others using the chords on both sides.",
    )
    add_condition_arguments(parser)
    parser.add_argument("--length", default="8", help="most chords per progression, 1..64 (default 8)")
    parser.add_argument("--temperature", default="1.0", help="(0, 5]; lower is safer (default 1.0)")
    parser.add_argument("--top-k", default="0", help="sample among the k most likely chords; 0 = off (default)")
    parser.add_argument("--top-p", default="1.0", help="nucleus sampling mass in (0, 1] (default 1.0 = off)")
    parser.add_argument("--seed-chords", default="", help="opening chords, e.g. 'C Am'")
    parser.add_argument("--num-samples", default="1", help="how many progressions, 1..1000 (default 1)")
    parser.add_argument("--random-seed", default=None, help="integer seed for reproducible samples")
    parser.add_argument("--in-key", action="store_true", help="only chords inside the key's scale (needs --key)")
    parser.add_argument("--lock", default="", help="fixed chords at 1-based positions, e.g. '1:C 4:G'")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--export", type=Path, help="folder for .mid/.musicxml/.svg/.wav of every sample")
    parser.set_defaults(handler=run)


def number(text: str | None, kind: type, name: str, accepted: str):
    """``text`` as ``kind`` (int/float), or an :class:`InputError` naming the value and the accepted range."""
    try:
        return kind(text)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be {accepted}, got {text!r}") from None


def run(args: argparse.Namespace) -> int:
    """Validate everything, load the model, generate, print (and export)."""
    from core.chords import parse_progression
    from core.generation.generate import MAX_LENGTH, MAX_SAMPLES, generate, load_generator, parse_locks, validate_request

    conditions = conditions_from_args(args)
    settings = {
        "length": number(args.length, int, "length", f"an integer in 1..{MAX_LENGTH}"),
        "temperature": number(args.temperature, float, "temperature", "a number in (0, 5]"),
        "top_k": number(args.top_k, int, "top-k", "an integer >= 0"),
        "top_p": number(args.top_p, float, "top-p", "a number in (0, 1]"),
        "num_samples": number(args.num_samples, int, "number of samples", f"an integer in 1..{MAX_SAMPLES}"),
        "random_seed": None if args.random_seed is None else number(args.random_seed, int, "random seed", "an integer"),
        "seed_chords": parse_progression(args.seed_chords) if args.seed_chords.strip() else [],
        "locks": parse_locks(args.lock),
        "in_key": args.in_key,
    }
    validate_request(conditions, **settings)  # before the (slow) model load
    samples = generate(load_generator(args.model), conditions, **settings)
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
    """Write every sample's MIDI, MusicXML, SVG and WAV with :func:`core.notation.export_progression`."""
    try:
        from core.notation import export_progression
    except ImportError as exc:
        raise InputError(f"export is not available: {exc}") from None
    from core.chords import pitch_class

    for index, sample in enumerate(samples, start=1):
        tonic_name, mode = sample.roman_key.split()
        paths = export_progression(sample.chords, out_dir, stem=f"sample_{index:02d}", title=" ".join(sample.symbols),
                                   key=(pitch_class(tonic_name), mode))
        print(f"sample {index}: " + ", ".join(str(p) for p in paths.values()), file=sys.stderr if quiet else sys.stdout)
