"""``python -m core serve``: the HTTP generation API (FastAPI on uvicorn)."""

from __future__ import annotations

import argparse
import errno
import socket

from core.cli.tensorflow_output import add_verbose_argument, quiet_tensorflow

#: most heavy slots one server may open (each heavy request keeps one core busy).
MAX_HEAVY_SLOTS = 256


def register(subparsers) -> None:
    """Add the ``serve`` sub-command."""
    parser = subparsers.add_parser(
        "serve", help="serve the generation API over HTTP",
        description="Run the Chordsmith HTTP API (POST /generate, POST /next, POST /score, GET /conditions, GET /health; "
        "OpenAPI schema at /openapi.json, interactive docs at /docs). The model is loaded once at startup.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1, loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--model", help="run folder or .keras file (default: the active model)")
    parser.add_argument("--log-level", default="info", choices=("critical", "error", "warning", "info", "debug"))
    parser.add_argument("--heavy-slots", type=int, help="heavy requests served at once (default: half the CPU cores, at "
                        "least 1); twice as many more may wait for a slot, beyond that 503 with Retry-After")
    parser.add_argument("--open", action="store_true", help="serve without an API key even on a shared --host (by "
                        "default a host other than 127.0.0.1 needs the key of 'python -m core owner new-api-key')")
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="let browser pages on ORIGIN (e.g. https://chords.example.org) call the API; repeatable; "
                        "none by default (CORS closed)")
    add_verbose_argument(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Take the port and load the model, each failing with one line before uvicorn starts; then serve until interrupted."""
    from core.errors import InputError
    from core.generation.loading import load_generator

    if not 0 < args.port < 65536:
        raise InputError(f"--port must be a whole number from 1 to 65535, got {args.port}")
    if args.heavy_slots is not None and not 0 < args.heavy_slots <= MAX_HEAVY_SLOTS:
        raise InputError(f"--heavy-slots must be a whole number from 1 to {MAX_HEAVY_SLOTS}, got {args.heavy_slots}")
    from core import credentials
    from core.serving.api_access import key_required

    key_required(args.host, args.open, credentials.stored_hash(credentials.API_KEY_KEY) is not None)  # before binding
    listening = listen_socket(args.host, args.port)
    try:
        with quiet_tensorflow(args.verbose):  # TensorFlow loads only for attention models or an old model's first load
            generator = load_generator(args.model)
    except BaseException:
        listening.close()
        raise

    import uvicorn

    from core.serving.api import create_app
    from core.serving.api_access import protected

    app = protected(create_app(generator=generator, heavy_slots=args.heavy_slots), args.host, args.open, args.cors_origin)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level)
    uvicorn.Server(config).run(sockets=[listening])
    return 0


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn to serve on (bound here, so a taken port is one error line).

    A host that does not resolve is an :class:`InputError`; a port in use or not permitted an
    :class:`EnvironmentFault`.
    """
    from core.errors import EnvironmentFault, InputError, os_error_message

    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as error:
        raise InputError(f"--host {host!r} is not an address or a name this machine resolves ({error})") from None
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(address)
    except OSError as error:
        listening.close()
        if error.errno == errno.EADDRINUSE:
            raise EnvironmentFault(f"port {port} on {host} is in use (another server?): choose another --port") from None
        raise EnvironmentFault(f"cannot listen on {host}:{port}: {os_error_message(error)}") from None
    listening.set_inheritable(True)
    return listening
