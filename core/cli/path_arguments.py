"""Argument types for paths given on the command line: an empty path is refused, not read as the current folder.

``Path("")`` is ``.``, so ``--out ''`` (an unset shell variable, say) would write into whatever folder
the command runs in. :func:`output_path` and :func:`input_path` refuse it as argparse refuses any bad
value: one ``error:`` line and status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def output_path(text: str) -> Path:
    """A path to write to (``--out``, ``--export``); an empty or blank one is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a folder or file to write (use . for this folder)")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot hold a NUL character")
    return Path(text)


def input_path(text: str) -> Path:
    """A path to read from (``--config``, ``FILE``); an empty or blank one is refused."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path; give a file to read")
    if "\x00" in text:
        raise argparse.ArgumentTypeError("a path cannot hold a NUL character")
    return Path(text)
