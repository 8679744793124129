"""Reading standard input line by line in bounded batches, so a command's memory stays flat whatever it is fed.

``score`` reads one progression per line from stdin. Reading it whole (``sys.stdin.read()``) and
scoring it in one batch made memory grow with the input (gigabytes for a megabyte), and one
endless line was read entirely before anything was said. Here each line is read with a cap on its
length (a longer one is refused by its line number, after reading at most the cap), decoded as
UTF-8 (a line that is not is refused by number too), blank lines are skipped, and the lines come
in batches of at most ``batch_size``: the caller handles a batch and lets it go before the next.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import IO

from core.errors import InputError

#: longest line read from stdin, in bytes (UTF-8): far beyond any progression the model scores.
MAX_LINE_BYTES = 4096
#: lines handled at once.
BATCH_LINES = 256


def numbered_lines(stream: IO | None = None, max_bytes: int = MAX_LINE_BYTES) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` for every non-blank line of ``stream`` (default stdin), 1-based, stripped.

    Raises :class:`InputError` naming the line for a line longer than ``max_bytes`` or not UTF-8.
    """
    stream = sys.stdin if stream is None else stream
    binary = getattr(stream, "buffer", stream)  # a text stream's bytes; an in-memory text stream as is
    number = 0
    while True:
        raw = binary.readline(max_bytes + 2)  # the cap, and room for "\r\n"
        if not raw:
            return
        number += 1
        raw = raw.encode("utf-8") if isinstance(raw, str) else raw
        body = raw.rstrip(b"\r\n")
        if len(body) > max_bytes:
            raise InputError(f"line {number} of the input is longer than {max_bytes} bytes; "
                             "give one progression per line")
        text = _decoded(body, number).strip()
        if text:
            yield number, text


def batches(lines: Iterator[tuple[int, str]], size: int = BATCH_LINES) -> Iterator[list[tuple[int, str]]]:
    """``lines`` in lists of at most ``size`` (the last one shorter)."""
    batch: list[tuple[int, str]] = []
    for line in lines:
        batch.append(line)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _decoded(raw: bytes, number: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"line {number} of the input is not UTF-8 text") from None
