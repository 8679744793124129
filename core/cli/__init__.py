"""The command line: one module per sub-command, each with ``register(subparsers)``.

Sub-command modules stay thin: parse arguments, call one ``core`` function, print. Heavy
imports (TensorFlow, music21) happen inside the handlers so ``--help`` and ``data stats`` are fast.
Bad input raises :class:`core.errors.InputError`; :func:`main` prints its message on one line
and returns 2. An :class:`core.errors.EnvironmentFault` or an ``OSError`` (a full disk, a
permission, a path blocked by a file) is one line as well, with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core.errors import EnvironmentFault, InputError, os_error_message

#: sub-command modules under core.cli, in the order --help lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "data", "summary", "train", "evaluate", "generate", "score", "export", "serve",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command registered."""
    parser = argparse.ArgumentParser(prog="python -m core", description="Chordsmith: conditional chord-progression studio")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"core.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except EnvironmentFault as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the disk or the file system, not the arguments: a full disk, a permission
        print(f"error: {os_error_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
