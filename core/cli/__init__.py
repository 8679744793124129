"""The command line: one module per sub-command, each with ``register(subparsers)``.

Sub-command modules stay thin: parse arguments, call one ``core`` function, print. Heavy
imports (TensorFlow, music21) happen inside the handlers so ``--help`` and ``data stats`` are fast.
Bad input raises :class:`core.errors.InputError`; :func:`main` prints its message on one line
and returns 2. Flags argparse refuses (an unknown flag, a value outside a setting's limits) are
one ``error:`` line and status 2 too. An :class:`core.errors.EnvironmentFault` or an ``OSError``
(a full disk, a permission, a path blocked by a file) is one line as well, with status 1, and so is
a model file that cannot be used (:class:`core.errors.ModelFault`). Anything else (memory exhausted,
a bug) is still one line, status 1, saying how to see the traceback (:data:`TRACEBACK_VARIABLE`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import unicodedata

from core.errors import EnvironmentFault, InputError, os_error_message

#: set (to anything) to let an unforeseen exception through with its traceback instead of one line.
TRACEBACK_VARIABLE = "CHORDSMITH_TRACEBACK"
#: sub-command modules under core.cli, in the order --help lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "data", "summary", "train", "evaluate", "generate", "next", "score", "song", "export", "serve", "owner",
)


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse whose refusals are one ``error: …`` line (no usage dump) and exit status 2; sub-parsers inherit it."""

    def error(self, message: str):
        self.exit(2, f"error: {one_line(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every available sub-command registered."""
    parser = OneLineErrorParser(prog="python -m core", description="Chordsmith: conditional chord-progression studio")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"core.cli.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help (0) or a refused flag (2, its error line already printed)
        return int(exit_.code or 0)
    try:
        return int(args.handler(args) or 0)
    except InputError as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except EnvironmentFault as exc:
        print(f"error: {one_line(str(exc))}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader of our output left (``… | head``): stop quietly, as other tools do
        _discard_stdout()
        return 1
    except OSError as exc:  # the disk or the file system, not the arguments: a full disk, a permission
        print(f"error: {one_line(os_error_message(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line and status 1, never a traceback
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        print(f"error: {one_line(unforeseen_message(exc))}", file=sys.stderr)
        return 1


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's last flush does not fail again on the closed pipe."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # an in-memory stdout (tests): nothing to redirect
        pass


def one_line(message: str) -> str:
    """``message`` with its line breaks and control characters (typed into a value) written as escapes."""
    return "".join(repr(c)[1:-1] if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in message)


def unforeseen_message(exc: BaseException) -> str:
    """One line for a failure no handler foresaw: memory exhausted, or a bug (how to see its traceback)."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":  # TensorFlow's, not imported here
        return "the machine ran out of memory; ask for less (a smaller model, batch or input)"
    text = " ".join(str(exc).split())[:300] or "no message"
    return (f"unexpected {type(exc).__name__}: {text} (a bug in Chordsmith; "
            f"rerun with {TRACEBACK_VARIABLE}=1 to see where, and report it)")
