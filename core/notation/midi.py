"""A :class:`~core.notation.score.Score` as a standard MIDI file, written byte by byte.

Tempo, time and key signature, a track name, each chord's symbol as a marker at its onset, every
note on once and off once.
"""

from __future__ import annotations

import struct

from core.notation.score import PIANO_TRACK_NAME, Score, beats_per_bar

VELOCITY = 80
MIDI_TICKS_PER_QUARTER = 480


def _variable_length(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def _meta(kind: int, data: bytes) -> bytes:
    return bytes([0xFF, kind]) + _variable_length(len(data)) + data


def _track(events: list[tuple[int, int, bytes]]) -> bytes:
    """An ``MTrk`` chunk from (tick, order, event bytes), sorted by tick then order, ended properly."""
    body, now = bytearray(), 0
    for tick, _, event in sorted(events, key=lambda e: (e[0], e[1])):
        body += _variable_length(tick - now) + event
        now = tick
    body += _variable_length(0) + _meta(0x2F, b"")
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def score_to_midi(score: Score) -> bytes:
    """A standard MIDI file (format 1): a conductor track and one piano track, every note sounding once.

    Conductor: the title as track name, time signature, key signature (when the score has a
    key), tempo, and each chord's spelled symbol as a marker at its onset. Piano: program 0 on
    channel 1, each chord's voicing held for its beats; at a shared tick note-offs come first.
    """
    ticks = score.beats_per_chord * MIDI_TICKS_PER_QUARTER
    conductor = [(0, 0, _meta(0x03, score.title.encode("utf-8"))),
                 (0, 1, _meta(0x58, bytes([beats_per_bar(score.beats_per_chord), 2, 24, 8]))),
                 (0, 3, _meta(0x51, round(60_000_000 / score.bpm).to_bytes(3, "big")))]
    if score.key is not None:
        mode = 1 if score.key[1] == "minor" else 0
        conductor.append((0, 2, _meta(0x59, struct.pack(">bB", score.spelling.fifths, mode))))
    conductor += [(i * ticks, 4, _meta(0x06, symbol.encode("utf-8"))) for i, symbol in enumerate(score.symbols)]
    piano = [(0, 0, _meta(0x03, PIANO_TRACK_NAME.encode())), (0, 1, bytes([0xC0, 0]))]
    for i, pitches in enumerate(score.voicings):
        for pitch in pitches:
            piano.append((i * ticks, 3, bytes([0x90, pitch, VELOCITY])))
            piano.append(((i + 1) * ticks, 2, bytes([0x80, pitch, 0])))
    header = b"MThd" + struct.pack(">IHHH", 6, 1, 2, MIDI_TICKS_PER_QUARTER)
    return header + _track(conductor) + _track(piano)
