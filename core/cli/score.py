"""``python -m core score``: how likely the model finds progressions, and which genre or mood they sound like."""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow


def register(subparsers) -> None:
    """Add the ``score`` sub-command."""
    parser = subparsers.add_parser(
        "score", help="score chord progressions with the model",
        description="Per-chord probabilities, surprise (bits), log-likelihood and perplexity under the given "
        "conditions. Without --chords, reads one progression per line from stdin.",
    )
    add_condition_arguments(parser)
    parser.add_argument("--chords", help="e.g. 'C G Am F' (default: one progression per stdin line)")
    parser.add_argument("--rank", choices=("genre", "mood"), help="also give the posterior over this condition")
    parser.add_argument("--ends", action="store_true", help="count the model's p(END) after the last chord")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Parse the progressions, score them in one batch, print."""
    from core.chords import parse_progression
    from core.errors import InputError

    conditions = conditions_from_args(args)
    lines = [args.chords] if args.chords is not None else [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise InputError("no progressions: give --chords 'C G Am F' or one progression per line on stdin")
    progressions = [parse_progression(line) for line in lines]

    from core.generation.ensemble import load_ensemble
    from core.generation.score import rank_condition, score_progressions

    with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
        generator = load_ensemble(args.model)
    results = score_progressions(generator, progressions, conditions, ends=args.ends)
    if args.rank:
        for result, chords in zip(results, progressions, strict=True):
            result["posterior"] = rank_condition(generator, chords, conditions, args.rank, ends=args.ends)
    if args.format == "json":
        print(json.dumps(results, indent=2))
    else:
        print("\n\n".join(format_result(r) for r in results))
    return 0


def format_result(result: dict) -> str:
    """Aligned chords, probabilities and surprise, then the totals (and the posterior, if ranked)."""
    widths = [max(len(c), 5) for c in result["chords"]]
    rows = [
        "  ".join(c.ljust(w) for c, w in zip(result["chords"], widths, strict=True)),
        "  ".join(f"{p:.3f}".ljust(w) for p, w in zip(result["probabilities"], widths, strict=True)) + "  p",
        "  ".join(f"{s:.1f}".ljust(w) for s, w in zip(result["surprise"], widths, strict=True)) + "  bits",
        f"log-likelihood {result['log_likelihood']:.3f} nats, perplexity {result['perplexity']:.2f}",
    ]
    if "posterior" in result:
        rows.append("posterior: " + ", ".join(f"{k} {v:.2f}" for k, v in result["posterior"].items()))
    return "\n".join(rows)
