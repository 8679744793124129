"""``python -m core score``: how likely the model finds progressions, and which genre or mood they sound like."""

from __future__ import annotations

import argparse
import json
import sys

from core.cli.line_input import MAX_LINE_BYTES
from core.cli.model_arguments import add_condition_arguments, conditions_from_args
from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow
from core.config import MAX_CHORDS


def register(subparsers) -> None:
    """Add the ``score`` sub-command."""
    parser = subparsers.add_parser(
        "score", help="score chord progressions with the model",
        description="Per-chord probabilities, surprise (bits), log-likelihood and perplexity under the given "
        "conditions. Without --chords, reads one progression per line from stdin (in batches, each line at most "
        f"{MAX_LINE_BYTES} bytes and {MAX_CHORDS} chords; results are printed batch by batch).",
    )
    add_condition_arguments(parser)
    parser.add_argument("--chords", help="e.g. 'C G Am F' (default: one progression per stdin line)")
    parser.add_argument("--rank", choices=("genre", "mood"), help="also give the posterior over this condition")
    parser.add_argument("--ends", action="store_true", help="count the model's p(END) after the last chord")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the model, then score the progressions batch by batch, printing each batch's results as it goes.

    Stdin is read in batches of :data:`core.cli.line_input.BATCH_LINES` lines, each at most
    :data:`core.cli.line_input.MAX_LINE_BYTES` long, so memory stays flat in the input's size. A bad
    line stops the command with one error naming it (the results before it are already printed).
    """
    from core.cli.line_input import batches, numbered_lines

    conditions = conditions_from_args(args)
    if args.chords is not None:
        lines = iter([(0, args.chords)])
        _progression(0, args.chords, notes=False)  # a bad --chords is refused before the model loads
    else:
        lines = numbered_lines()

    from core.generation.ensemble import load_ensemble

    with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
        generator = load_ensemble(args.model)
    printed = 0
    for batch in batches(lines):
        for result in _score_batch(generator, [_progression(n, text) for n, text in batch], conditions, args):
            _print_result(result, args.format, first=printed == 0)
            printed += 1
    if not printed:
        from core.errors import InputError

        raise InputError("no progressions: give --chords 'C G Am F' or one progression per line on stdin")
    if args.format == "json":
        print("\n]")
    return 0


def _progression(number: int, text: str, notes: bool = True) -> list:
    """The chords of one line (``number`` 0: the --chords flag), at most :data:`core.config.MAX_CHORDS`; errors name the line.

    Symbols are read as everywhere (:func:`core.generation.analysis.read_scored`): ``G7sus4`` is read
    as ``Gsus4``, and with ``notes`` a ``note:`` line on stderr says so.
    """
    from core.errors import InputError
    from core.generation.analysis import read_scored
    from core.generation.chord_input import reading_notes

    where = f"line {number}: " if number else "--chords: "
    try:
        parsed = read_scored(text)
    except InputError as error:
        raise InputError(f"{where}{error}") from None
    for note in reading_notes(parsed) if notes else []:
        print(f"note: {where}{note}", file=sys.stderr)
    return [p.chord for p in parsed]


def _score_batch(generator, progressions: list, conditions, args: argparse.Namespace) -> list[dict]:
    from core.generation.calibration import clear_fit
    from core.generation.score import rank_condition, score_progressions

    results = score_progressions(generator, progressions, conditions, ends=args.ends)
    if args.rank:
        for result, chords in zip(results, progressions, strict=True):
            result["posterior"] = rank_condition(generator, chords, conditions, args.rank, ends=args.ends)
            result["best_fit"] = clear_fit(result["posterior"])
    return results


def _print_result(result: dict, form: str, first: bool) -> None:
    """One result: text blocks apart by a blank line; JSON as the items of one array, opened by the first."""
    if form == "json":
        item = json.dumps(result, indent=2).replace("\n", "\n  ")
        print(("[\n  " if first else ",\n  ") + item, end="")
    else:
        print(("" if first else "\n") + format_result(result))


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
        rows.append(f"best fit: {result['best_fit']}" if result.get("best_fit") else
                    "no clear fit (the top value is not twice as likely as the next)")
    return "\n".join(rows)
