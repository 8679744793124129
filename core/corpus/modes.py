"""Church modes and key-mode words mapped to the two scale types the model knows (major, minor).

Documented rule: a mode with a minor third above its tonic (dorian, phrygian, aeolian, locrian,
minor) is ``minor``; one with a major third (ionian, lydian, mixolydian, major) is ``major``.
The tonic stays as written (D dorian is "D minor", not "C major").
"""

from __future__ import annotations

from core.chords import ChordError

_MINOR_MODES = ("minor", "aeolian", "dorian", "phrygian", "locrian")
_MAJOR_MODES = ("major", "ionian", "mixolydian", "lydian")


def scale_type_of_mode(word: str) -> str:
    """``major`` or ``minor`` for a mode word as sources write it: ``""``, ``m``, ``min``, ``dor``, ``Mixolydian``…

    An empty word is major (ABC ``K:G``). Mode names may be abbreviated to three or more
    letters (``mix``, ``dor``, ``aeol``). Raises :class:`ChordError` for anything else.
    """
    lowered = word.strip().lower()
    if lowered == "":
        return "major"
    if lowered == "m":
        return "minor"
    if len(lowered) >= 3:
        if any(mode.startswith(lowered) for mode in _MINOR_MODES):
            return "minor"
        if any(mode.startswith(lowered) for mode in _MAJOR_MODES):
            return "major"
    raise ChordError(f"unknown mode {word!r}")
