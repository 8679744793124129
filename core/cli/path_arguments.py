"""Argument types for paths given on the command line: an empty path is refused, not read as the current folder.

``Path("")`` is ``.``, so ``--out ''`` (an unset shell variable, say) would write into whatever folder
the command runs in. :func:`output_path` and :func:`input_path` refuse it as argparse refuses any bad
value: one ``error:`` line and status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _usable_path(text: str, empty: str) -> Path:
    """``text`` as a path, unless it is empty or blank (``empty`` says what to give instead) or holds a NUL."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"an empty path; {empty}")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot hold a NUL character")
    return Path(text)


def output_path(text: str) -> Path:
    """A path to write to (``--out``, ``--export``); an empty or blank one is refused."""
    return _usable_path(text, "give a folder or file to write (use . for this folder)")


def input_path(text: str) -> Path:
    """A path to read from (``--config``, ``FILE``); an empty or blank one is refused."""
    return _usable_path(text, "give a file to read")
