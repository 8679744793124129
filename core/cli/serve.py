"""``python -m core serve``: the HTTP generation API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse


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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check the model path, then serve until interrupted."""
    from core.errors import InputError
    from core.paths import resolve_model_dir

    if not 0 < args.port < 65536:
        raise InputError(f"port must be in 1..65535, got {args.port}")
    resolve_model_dir(args.model)  # a missing model is a one-line error, not a failed startup

    import uvicorn

    from core.serving.api import create_app

    uvicorn.run(create_app(args.model), host=args.host, port=args.port, log_level=args.log_level)
    return 0
