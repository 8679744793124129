"""Hostile files for the hardening and fuzz tests (issue 25): zip bombs, huge MIDI and MusicXML, nested JSON.

Each builder writes a file that is small on disk but would cost minutes or gigabytes if read
naively: an ``.mxl`` or ``.keras`` archive whose member unpacks to hundreds of megabytes (made by
streaming spaces through deflate, a second or so), MIDI with tens of thousands of notes, MusicXML
with thousands of chord symbols, a JSON config nested 100,000 deep, random bytes.
"""

from __future__ import annotations

import os
import struct
import zipfile
from pathlib import Path

#: one mebibyte of spaces: valid JSON and XML whitespace, deflated ~1000:1.
_SPACES = b" " * (1 << 20)


def _varlen(number: int) -> bytes:
    out = [number & 0x7F]
    number >>= 7
    while number:
        out.append(0x80 | (number & 0x7F))
        number >>= 7
    return bytes(reversed(out))


def midi_bytes(chords: int) -> bytes:
    """A one-track MIDI file of ``chords`` triads (three notes each, a quarter note apart)."""
    events = bytearray()
    for index in range(chords):
        root = (60, 65, 67, 57)[index % 4]
        for note in (root, root + 4, root + 7):
            events += _varlen(0) + bytes([0x90, note, 80])
        for offset, note in enumerate((root, root + 4, root + 7)):
            events += _varlen(0 if offset else 480) + bytes([0x80, note, 0])
    events += b"\x00\xff\x2f\x00"
    return b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480) + b"MTrk" + struct.pack(">I", len(events)) + bytes(events)


def musicxml_bytes(symbols: int) -> bytes:
    """A MusicXML score of ``symbols`` measures, each a chord symbol over a whole note."""
    measures = "".join(
        f'<measure number="{i + 1}"><harmony><root><root-step>{"CFGA"[i % 4]}</root-step></root>'
        f'<kind>{("major", "minor")[i % 2]}</kind></harmony><note><pitch><step>C</step><octave>4</octave></pitch>'
        '<duration>4</duration><type>whole</type></note></measure>' for i in range(symbols))
    return ('<?xml version="1.0"?><score-partwise version="3.1"><part-list><score-part id="P1"><part-name>x'
            '</part-name></score-part></part-list><part id="P1"><measure number="0"><attributes><divisions>1'
            '</divisions><key><fifths>0</fifths></key></attributes></measure>' + measures
            + "</part></score-partwise>").encode()


def write_bomb_member(archive: zipfile.ZipFile, name: str, head: bytes, unpacked_mb: int) -> None:
    """Add member ``name``: ``head`` then ``unpacked_mb`` MiB of spaces, deflated as it is written (never in memory)."""
    with archive.open(name, "w", force_zip64=True) as member:  # the archive's own compression: deflate
        member.write(head)
        for _ in range(unpacked_mb):
            member.write(_SPACES)


def mxl_bomb(path: Path, unpacked_mb: int = 600) -> Path:
    """An ``.mxl`` whose score unpacks to ``unpacked_mb`` MiB (a few hundred KB on disk)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("META-INF/container.xml", '<?xml version="1.0"?><container><rootfiles><rootfile '
                         'full-path="score.xml"/></rootfiles></container>')
        write_bomb_member(archive, "score.xml", musicxml_bytes(4), unpacked_mb)
    return path


def keras_bomb(good_model: Path, path: Path, unpacked_mb: int = 600) -> Path:
    """A copy of a ``.keras`` file whose ``config.json`` is the real one followed by ``unpacked_mb`` MiB of spaces.

    Still valid JSON, so a reader without a bound would inflate and parse it all.
    """
    with zipfile.ZipFile(good_model) as original, \
            zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as copy:
        for item in original.infolist():
            if item.filename == "config.json":
                write_bomb_member(copy, "config.json", original.read(item), unpacked_mb)
            else:
                copy.writestr(item.filename, original.read(item))
    return path


def crowded_zip(path: Path, entries: int = 5_000) -> Path:
    """A zip archive of ``entries`` empty members."""
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(entries):
            archive.writestr(f"m{index}.xml", b"")
    return path


def nested_json(path: Path, depth: int = 100_000) -> Path:
    """JSON nested ``depth`` deep (a list of lists…)."""
    path.write_text("[" * depth + "]" * depth, encoding="utf-8")
    return path


def random_bytes(path: Path, size: int = 3_000, seed: int = 25) -> Path:
    """``size`` bytes of noise (seeded), starting with a byte that is not valid UTF-8."""
    import random

    path.write_bytes(b"\xff" + random.Random(seed).randbytes(size - 1))
    return path


def hostile_files(folder: Path, good_model: Path | None = None) -> dict[str, Path]:
    """Every hostile file by name, written under ``folder`` (``good_model``: a ``.keras`` to make the model bomb from)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "bomb.mxl": mxl_bomb(folder / "bomb.mxl", unpacked_mb=64),
        "crowded.mxl": crowded_zip(folder / "crowded.mxl"),
        "huge.mid": folder / "huge.mid",
        "many_harmony.musicxml": folder / "many_harmony.musicxml",
        "nested.json": nested_json(folder / "nested.json"),
        "noise.bin": random_bytes(folder / "noise.bin"),
    }
    files["huge.mid"].write_bytes(midi_bytes(20_000))
    files["many_harmony.musicxml"].write_bytes(musicxml_bytes(2_000))
    if good_model is not None:
        files["bomb.keras"] = keras_bomb(good_model, folder / "bomb.keras", unpacked_mb=64)
    assert all(os.path.getsize(path) < 2_000_000 for path in files.values())
    return files
