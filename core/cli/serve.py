"""``python -m core serve``: the HTTP generation API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse

from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow


def register(subparsers) -> None:
    """Add the ``serve`` sub-command."""
    parser = subparsers.add_parser(
        "serve", help="serve the generation API over HTTP",
        description="Run the Chordsmith HTTP API (POST /generate, POST /score, GET /conditions, GET /health; "
        "OpenAPI schema at /openapi.json, interactive docs at /docs). The model is loaded once at startup.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--model", help="run folder or .keras file (default: the active model)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Load the model (a missing or unreadable one is a one-line error, not a failed startup), then serve until interrupted."""
    from core.errors import InputError
    from core.generation.loading import load_generator

    if not 0 < args.port < 65536:
        raise InputError(f"port must be in 1..65535, got {args.port}")
    with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
        generator = load_generator(args.model)

    import uvicorn

    from core.serving.api import create_app

    uvicorn.run(create_app(generator=generator), host=args.host, port=args.port, log_level=args.log_level)
    return 0
