"""``python -m core next``: the composer's "what comes next?" — the model's ranked next chords, or what fits in a gap."""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.cli.setting_flags import add_setting_flags, given_settings
from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow
from core.config import ComposerSettings, GenerationSettings


def register(subparsers) -> None:
    """Add the ``next`` sub-command."""
    parser = subparsers.add_parser(
        "next", help="rank the chords that may come next",
        description="The model's most probable next chords after --chords under the given conditions, most "
        "probable first; with --followed-by, the chords that fit between --chords and the chords after the gap "
        "(both neighbours count). Probabilities are renormalised over the chords that may go there (never the "
        "chord right before or after; only the key's with --in-key).",
    )
    add_condition_arguments(parser)
    parser.add_argument("--chords", default="", help="the progression so far, e.g. 'C G Am' (default: none, the opening chord)")
    parser.add_argument("--followed-by", default="", help="the chords after the gap, e.g. 'F C': rank what fits between")
    parser.add_argument("--ends", action="store_true",
                        help="the progression ends after the --followed-by chords (without them: right after the chord "
                        "asked for, 'what ends it?')")
    add_setting_flags(parser, GenerationSettings, names=("in_key", "guidance"))
    add_setting_flags(parser, ComposerSettings)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the input, load the model, rank, print (notes on how symbols were read go to stderr)."""
    from core.generation.chord_input import read_chords
    from core.generation.composer import next_chords
    from core.generation.ensemble import load_ensemble

    conditions = conditions_from_args(args)
    settings = {"guidance": GenerationSettings().guidance, **given_settings(args, GenerationSettings),
                **given_settings(args, ComposerSettings)}
    read_chords(args.chords), read_chords(args.followed_by)  # a bad symbol is refused before the model loads
    with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
        generator = load_ensemble(args.model)
    ranking = next_chords(generator, args.chords, conditions, followed_by=args.followed_by, ends=args.ends, **settings)
    for note in ranking.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.format == "json":
        print(json.dumps(ranking.to_list(), indent=2))
    else:
        print(format_ranking(ranking))
    return 0


def format_ranking(ranking) -> str:
    """One line per chord (rank, symbol, probability, a bar), then the key the symbols are spelled in."""
    width = max([len(r.symbol) for r in ranking.chords] + [5])
    lines = [f"{i:>2}. {r.symbol.ljust(width)}  {r.probability:6.1%}  {'█' * round(r.probability * 40)}"
             for i, r in enumerate(ranking.chords, start=1)]
    return "\n".join([*lines, f"(spelled in {ranking.key})"])
