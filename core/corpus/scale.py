"""Scale type (major/minor) for sources that give only a tonic (Billboard, RS200).

Rule: look at the chords rooted on the tonic within the stretch in that key. If minor-third
chords (``min``, ``min7``, ``min6``, ``minmaj7``, ``dim``...) outnumber major-third ones there,
the key is minor; otherwise (more major tonic chords, a tie, or no tonic chord at all) it is major.
Suspended and power-chord tonics count for neither.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.chords import MINOR_QUALITIES, Chord

_MAJOR_THIRD_QUALITIES = frozenset({"maj", "7", "maj7", "6", "9", "add9", "aug"})


def infer_scale_type(chords: Iterable[Chord], tonic: int) -> str:
    """``"minor"`` if minor chords on the tonic outnumber major ones, else ``"major"`` (see module doc)."""
    minor = major = 0
    for chord in chords:
        if chord.root != tonic % 12:
            continue
        if chord.quality in MINOR_QUALITIES:
            minor += 1
        elif chord.quality in _MAJOR_THIRD_QUALITIES:
            major += 1
    return "minor" if minor > major else "major"
