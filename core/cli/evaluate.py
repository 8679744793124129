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
        "bigram, trigram and key-relative trigram baselines fitted on the train split; overall and per genre.",
    )
    parser.add_argument("--model", help="run folder or .keras file (default: the active model)")
    parser.add_argument("--split", choices=("test", "validation", "train"), default="test")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--write", action="store_true", help="also write test_results.json into the model folder")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print a table (or the JSON payload)."""
    from core.paths import resolve_model_file

    model_file = resolve_model_file(args.model)
    import_tensorflow(args.verbose)

    from core.evaluation.evaluate import evaluate_model, results_table, shipped_table
    from core.training.run_folder import TEST_RESULTS_FILE, write_json_atomic

    frame = shipped_table()
    results = evaluate_model(model_file, frame, split=args.split)
    if args.write:
        write_json_atomic(model_file.parent / TEST_RESULTS_FILE, results)
    print(json.dumps(results, indent=2) if args.format == "json" else results_table(results))
    return 0
