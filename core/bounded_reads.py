"""Reading files and zip archives with a bound: no file, link or archive can make a read take unbounded memory or time.

Two readers every surface shares:

* :func:`read_bounded` reads at most a limit of bytes from a path (a pointer file, a JSON file,
  an uploaded song): a file over the limit, a link to ``/dev/zero``, a folder in place of the
  file, or bytes that are not UTF-8 (:func:`read_bounded_text`) are refused in one line naming
  the file, never read to the end.
* :func:`archive_problem` / :func:`check_archive` look at a zip archive's directory only (an
  ``.mxl`` song, a ``.keras`` model, inference weights) and refuse it before anything is inflated
  when it declares more entries or more unpacked bytes than the limits allow. Python's ``zipfile``
  never unpacks a member past the size the directory declares (a member that lies about it fails
  its check), so bounding the declared sizes bounds what any later reader can inflate.
  :func:`read_member` reads one member of a checked archive.

The limits themselves live in :mod:`core.config` (``MAX_…``). Which error a refusal raises is
the caller's choice: :class:`core.errors.InputError` for a file the user gave (status 2, a 422),
:class:`core.errors.EnvironmentFault` for the studio's own files (status 1).
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from core.errors import InputError

#: the end-of-central-directory record of a zip archive, and how far from the end it may start (a 64 KiB comment).
_END_RECORD = b"PK\x05\x06"
_END_SEARCH = 22 + 65_535
#: bytes read at a time by :func:`read_bounded`.
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """What one zip archive may hold: ``entries`` at most, ``unpacked_bytes`` at most in all, and per-member bounds."""

    entries: int
    unpacked_bytes: int
    member_bytes: Mapping[str, int] = field(default_factory=dict)  # member name -> most bytes once unpacked


def read_bounded(path: str | Path, limit: int, what: str, fault: type[Exception] = InputError) -> bytes:
    """The bytes of ``path`` (at most ``limit``); ``fault`` naming ``what`` and the path when it cannot be read so.

    Reads ``limit + 1`` bytes at most, whatever the file claims (a link to ``/dev/zero``, a
    growing file): more than ``limit`` is refused. A folder in place of the file, a missing file
    or one without permission is refused too, in one line.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = _read_up_to(handle, limit + 1)
    except IsADirectoryError:
        raise fault(f"{what} {path} is a folder, not a file") from None
    except OSError as error:
        raise fault(f"{what} {path} cannot be read: {error.strerror or type(error).__name__}") from None
    if len(data) > limit:
        raise fault(f"{what} {path} holds more than {limit:,} bytes; at most {limit:,} are read")
    return data


def _read_up_to(handle: BinaryIO, most: int) -> bytes:
    """At most ``most`` bytes, read in chunks (``read(most)`` would reserve ``most`` bytes up front)."""
    chunks, size = [], 0
    while size < most:
        chunk = handle.read(min(_CHUNK, most - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_bounded_text(path: str | Path, limit: int, what: str, fault: type[Exception] = InputError) -> str:
    """:func:`read_bounded` decoded as UTF-8; bytes that are not UTF-8 (or a NUL) are refused naming the file."""
    data = read_bounded(path, limit, what, fault)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise fault(f"{what} {path} is not UTF-8 text (byte 0x{data[error.start]:02X} at position {error.start})") \
            from None
    if "\x00" in text:
        raise fault(f"{what} {path} holds binary data (a NUL byte), not text")
    return text


def archive_problem(source: str | Path | bytes, limits: ArchiveLimits) -> str | None:
    """Why the zip archive ``source`` (a path or its bytes) is over ``limits``; ``None`` when it is within them.

    Only the archive's directory is read: the entry count is checked from the end record before
    the directory is even parsed, then every member's declared unpacked size. Nothing is inflated.
    Not a zip archive at all is not this function's concern (``None``: the caller's reader says so).
    """
    try:
        with _opened(source) as handle:
            declared = _declared_entries(handle)
            if declared is not None and declared > limits.entries:
                return f"an archive of {declared:,} entries; at most {limits.entries:,} are read"
            handle.seek(0)
            with zipfile.ZipFile(handle) as archive:
                members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct.error):
        return None
    if len(members) > limits.entries:
        return f"an archive of {len(members):,} entries; at most {limits.entries:,} are read"
    for member in members:
        bound = limits.member_bytes.get(member.filename)
        if bound is not None and member.file_size > bound:
            return (f"its {member.filename} unpacks to {member.file_size:,} bytes; at most {bound:,} are read "
                    "(a zip bomb or not a real file)")
    total = sum(member.file_size for member in members)
    if total > limits.unpacked_bytes:
        return (f"it unpacks to {total:,} bytes; at most {limits.unpacked_bytes:,} are read "
                "(a zip bomb or not a real file)")
    return None


def check_archive(source: str | Path | bytes, limits: ArchiveLimits, what: str,
                  fault: type[Exception] = InputError) -> None:
    """Raise ``fault`` (``"{what}: …"``) when the zip archive ``source`` is over ``limits`` (:func:`archive_problem`)."""
    problem = archive_problem(source, limits)
    if problem is not None:
        raise fault(f"{what}: {problem}")


def read_member(archive: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """The unpacked bytes of member ``name`` (at most ``limit`` + 1 are inflated; :class:`ValueError` past it)."""
    with archive.open(name) as member:
        data = _read_up_to(member, limit + 1)
    if len(data) > limit:
        raise ValueError(f"{name} unpacks to more than {limit:,} bytes")
    return data


def _opened(source: str | Path | bytes) -> BinaryIO:
    return io.BytesIO(source) if isinstance(source, bytes | bytearray) else open(source, "rb")


def _declared_entries(handle: BinaryIO) -> int | None:
    """The entry count the archive's end record declares (65,535 for a Zip64 archive's marker); ``None``: no record."""
    handle.seek(0, io.SEEK_END)
    size = handle.tell()
    start = max(0, size - _END_SEARCH)
    handle.seek(start)
    tail = handle.read(size - start)
    at = tail.rfind(_END_RECORD)
    if at < 0 or at + 22 > len(tail):
        return None
    return struct.unpack("<H", tail[at + 10: at + 12])[0]
