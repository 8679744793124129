"""``python -m core export``: write a trained model as a TensorFlow SavedModel, TFLite or ONNX artifact."""

from __future__ import annotations

import argparse

from core.cli.path_arguments import output_path
from core.cli.tensorflow_output import add_verbose_argument, import_tensorflow, quiet_tensorflow


def register(subparsers) -> None:
    """Add the ``export`` sub-command."""
    parser = subparsers.add_parser(
        "export", help="export a model as SavedModel, TFLite or ONNX",
        description="Write the model as a serving artifact into --out (saved_model/, model.tflite or model.onnx, plus "
        "export.json describing the inputs, the output and the vocabulary). The artifact is loaded back in its own "
        "runtime and checked against Keras on a probe batch. Inputs are fed by name.",
    )
    parser.add_argument("--model", help="run folder or .keras file (default: the active model)")
    parser.add_argument("--format", dest="fmt", choices=("savedmodel", "tflite", "onnx"), required=True)
    parser.add_argument("--out", type=output_path, required=True, help="output folder (created if missing)")
    parser.add_argument("--no-verify", action="store_true", help="skip the load-back parity check")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Export and print the artifact's path, size and parity error."""
    from core.paths import resolve_model_file, writable_dir

    model_file = resolve_model_file(args.model)
    writable_dir(args.out, "--out", from_flag=True)  # before TensorFlow loads and the conversion runs
    import_tensorflow(args.verbose)

    from core.model import load_model
    from core.serving.export import export_model

    with quiet_tensorflow(args.verbose):  # the converters log from C++ too ("NodeDef mentions attribute Truncate")
        result = export_model(load_model(model_file, compile=False), args.fmt, args.out, verify=not args.no_verify)
    error = "not checked" if result.max_abs_error is None else f"max |exported - keras| {result.max_abs_error:.2e}"
    print(f"{result.format}: {result.path} ({result.size_bytes / 1e6:.2f} MB, {result.seconds:.1f}s; {error})")
    return 0
