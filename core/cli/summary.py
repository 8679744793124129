"""``python -m core summary``: build the model from flags, print its summary and write an architecture diagram."""

from __future__ import annotations

import argparse
from pathlib import Path

from core.cli.model_arguments import add_model_arguments, model_config_from_args
from core.cli.tensorflow_output import add_verbose_argument, import_tensorflow


def register(subparsers) -> None:
    """Add the ``summary`` sub-command."""
    parser = subparsers.add_parser(
        "summary", help="print the model summary and parameter count; write an architecture diagram",
        description="Build the model (the guide's architecture unless flags change it), print model.summary() "
        "and the parameter count, and write an SVG + text diagram (no pydot/Graphviz needed).",
    )
    add_model_arguments(parser)
    parser.add_argument("--diagram", type=Path, help="SVG path (default output/model_architecture.svg; a .txt beside it)")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the summary and write the diagram."""
    config = model_config_from_args(args)
    from core.errors import InputError
    from core.paths import OUTPUT_DIR, writable_file

    diagram = args.diagram or OUTPUT_DIR / "model_architecture.svg"
    what = "--diagram" if args.diagram else "the diagram (in CHORDSMITH_OUTPUT)"
    writable_file(diagram, what, from_flag=args.diagram is not None)  # checked before TensorFlow and the model are built
    if diagram.name in ("", ".", ".."):
        raise InputError(f"--diagram {str(diagram)!r} names no file: give a path such as output/model.svg")
    writable_file(diagram.with_suffix(".txt"), what, from_flag=args.diagram is not None)
    import_tensorflow(args.verbose)

    from core.model import build_model
    from core.model_diagram import write_diagram

    model = build_model(config)
    model.summary(line_length=110)
    print(f"Parameters: {model.count_params():,}")
    written = write_diagram(model, diagram)
    print("Diagram: " + ", ".join(str(p) for p in written))
    return 0
