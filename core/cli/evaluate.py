"""``python -m core evaluate``: the model against n-gram baselines on held-out songs."""

from __future__ import annotations

import argparse
import json

from core.cli.tensorflow_output import add_verbose_argument, import_tensorflow


def register(subparsers) -> None:
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="evaluate a model against n-gram baselines",
        description="Top-1/top-5 accuracy, cross-entropy and perplexity per chord token on one split of the "
        "shipped table, for the model (conditioned and with every condition unspecified) and for unigram, "
        "bigram, trigram and key-relative trigram baselines fitted on the train split; overall and per genre. "
        "A run trained on a subset or on imported songs is evaluated on that data's test songs; a fine-tuned run "
        "shows the model it started from beside it (base_lstm).",
    )
    parser.add_argument("--model", help="run name, run folder or .keras file (default: the active model)")
    parser.add_argument("--split", choices=("test", "validation", "train"), default="test")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--write", action="store_true",
                        help="also write test_results.json and calibration.json (the genre/mood ranking's calibration, "
                        "fitted on the validation songs) into the model folder")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table (or the JSON payload)."""
    from core.paths import resolve_model_file
    from core.training.transfer import find_model_file

    model_file = resolve_model_file(None) if args.model is None else find_model_file(args.model)
    import_tensorflow(args.verbose)

    from core.evaluation.evaluate import evaluate_model_file, results_table
    from core.run_files import TEST_RESULTS_FILE, write_json_atomic

    results = evaluate_model_file(model_file, split=args.split)
    if args.write:
        from core.evaluation.calibrate import write_calibration

        write_json_atomic(model_file.parent / TEST_RESULTS_FILE, results)
        write_calibration(model_file)  # the genre/mood ranking's calibration, fitted on the validation songs
    print(json.dumps(results, indent=2) if args.format == "json" else results_table(results))
    return 0
