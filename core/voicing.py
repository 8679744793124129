"""Voicing a progression for piano: which MIDI notes each chord plays, bass first.

The bass plays the chord's bass (its root, or the slash bass of an inversion ``C/E`` or of a typed
``C/Bb``) in octave 3. The upper voices, around middle C, follow one of two styles:

- ``voice-led`` (the default): the first chord in close position near middle C, then for each
  chord the arrangement of its tones that moves the fewest total semitones from the previous one,
  like a pianist's right hand;
- ``root``: every chord in close root position, stacked in thirds from its root near middle C
  (the bass drops an octave when it would not sit below).

Five-note chords drop their fifth from the upper voices. Deterministic: the same chords always
get the same notes, so what is heard, shown and exported agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Literal

from core.chords import Chord, SlashChord, as_slash, chord_tones
from core.errors import InputError

VoicingStyle = Literal["voice-led", "root"]
VOICING_STYLES: tuple[str, ...] = ("voice-led", "root")
#: Upper voices live in this MIDI range (G3..C5), around middle C.
UPPER_LOW, UPPER_HIGH = 55, 72
#: Centre of the upper voices: the first chord starts near it and ties are broken towards it.
UPPER_CENTRE = 64
BASS_OCTAVE_C = 48  # C3


def upper_pitch_classes(chord: Chord) -> list[int]:
    """The pitch classes the upper voices play: all of the chord's, except a five-note chord drops its fifth."""
    intervals = sorted(chord.intervals)
    if len(intervals) > 4 and 7 in intervals:
        intervals.remove(7)
    return [(chord.root + i) % 12 for i in intervals]


def candidate_voicings(pitch_classes: Sequence[int], above: int) -> list[tuple[int, ...]]:
    """Every voicing of the pitch classes within the upper range, above ``above``, spanning at most an octave."""
    options = [[m for m in range(max(UPPER_LOW, above + 1), UPPER_HIGH + 1) if m % 12 == pc] for pc in pitch_classes]
    voicings = set()
    for notes in itertools.product(*options):
        ordered = tuple(sorted(notes))
        if ordered[-1] - ordered[0] <= 12:
            voicings.add(ordered)
    return sorted(voicings)


def voice_distance(previous: Sequence[int], current: Sequence[int]) -> int:
    """Total semitones the voices move from ``previous`` to ``current`` (both sorted).

    Equal sizes pair voices in order. When sizes differ, one note of the smaller chord is
    doubled (splitting or merging two voices), choosing the doubling that moves least.
    """
    if len(previous) == len(current):
        return sum(abs(a - b) for a, b in zip(previous, current, strict=True))
    small, large = (previous, current) if len(previous) < len(current) else (current, previous)
    best = None
    for padded in itertools.combinations_with_replacement(small, len(large)):
        if set(padded) == set(small):
            cost = sum(abs(a - b) for a, b in zip(sorted(padded), large, strict=True))
            best = cost if best is None else min(best, cost)
    return best if best is not None else 0


def _centre_offset(voicing: Sequence[int]) -> float:
    return abs(sum(voicing) / len(voicing) - UPPER_CENTRE)


def _first_voicing(candidates: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Close position near middle C: the lowest note nearest C4, then the narrowest, then the lowest."""
    return min(candidates, key=lambda v: (abs(v[0] - 60), v[-1] - v[0], v))


def _next_voicing(previous: Sequence[int], candidates: list[tuple[int, ...]]) -> tuple[int, ...]:
    """The candidate that moves least from ``previous``; ties go to the one nearest the centre, then the lowest."""
    return min(candidates, key=lambda v: (voice_distance(previous, v), _centre_offset(v), v))


def bass_pitch(chord: Chord | SlashChord) -> int:
    """The bass note: the chord's bass (slash bass, else root) in octave 3 (MIDI 48..59)."""
    slash = as_slash(chord)
    return BASS_OCTAVE_C + (slash.chord.root if slash.bass is None else slash.bass)


def root_position(chord: Chord) -> tuple[int, ...]:
    """The upper voices in close root position: the root in G3..F#4, each further tone the next one up, in thirds."""
    tones = [pc for pc in chord_tones(chord) if pc in upper_pitch_classes(chord)]
    pitches = [UPPER_LOW + (tones[0] - UPPER_LOW) % 12]
    for pc in tones[1:]:
        pitches.append(pitches[-1] + (pc - pitches[-1]) % 12)
    return tuple(pitches)


def voice_progression(chords: Sequence[Chord | SlashChord], style: VoicingStyle = "voice-led") -> list[list[int]]:
    """MIDI pitches for each chord: ``[bass, upper voices ascending...]`` in the given style (module docstring).

    ``voice-led``: the upper voices (3 or 4 notes, within G3..C5, above the bass, spanning at
    most an octave) start in close position near middle C and then take, for each chord, the
    arrangement that moves the fewest total semitones. ``root``: close root position each time.
    """
    if style not in VOICING_STYLES:
        raise InputError(f"unknown voicing {style!r}; accepted: {', '.join(VOICING_STYLES)}")
    voicings: list[list[int]] = []
    previous: tuple[int, ...] | None = None
    for item in chords:
        chord, bass = as_slash(item).chord, bass_pitch(item)
        if style == "root":
            upper = root_position(chord)
            bass -= 12 if bass >= upper[0] else 0
        else:
            candidates = candidate_voicings(upper_pitch_classes(chord), above=bass)
            upper = _first_voicing(candidates) if previous is None else _next_voicing(previous, candidates)
        voicings.append([bass, *upper])
        previous = upper
    return voicings
