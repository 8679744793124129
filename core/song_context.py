"""What a song-context model knows besides chords and conditions: section labels, metres, chord durations as classes.

A song-context model (``ModelConfig.context == "song"``) reads, at every position, the label of the section
the chord to be predicted belongs to, reads the song's metre (beats per bar) as a condition, and predicts
each chord's duration as one of a few beat counts. The three id lists live here, once, so the dataset,
the model, the NumPy decoder, generation and evaluation agree on them; id 0 is always "unknown" (a
window without a section, a source without beats, a dropped condition).

The section labels are the song table's normalised ones (:func:`normalise_label`: the words songwriters
use, a rehearsal letter, or ``other``); the normalisation itself lives here too (``core.corpus.sections``
re-exports it), so a window's raw ``section`` mark is read into the same ids as the song table's labels.
"""

from __future__ import annotations

import re

import numpy as np

#: how a model sees the corpus: 12-chord windows of the windows table, or spans of whole songs over sections.
CONTEXTS: tuple[str, ...] = ("window", "song")
WINDOW, SONG = CONTEXTS

#: the named labels, in the order a song usually plays them.
LABELS: tuple[str, ...] = ("intro", "verse", "pre-chorus", "chorus", "bridge", "instrumental", "outro")
#: where nothing is known.
OTHER = "other"
#: raw words (lower case, spaces and hyphens removed) -> label. Words not listed stay ``other``.
WORDS: dict[str, str] = {
    "intro": "intro", "introduction": "intro", "prelude": "intro", "head": "intro",
    "verse": "verse", "vr": "verse", "vs": "verse",
    "prechorus": "pre-chorus", "pc": "pre-chorus", "prechrous": "pre-chorus", "build": "pre-chorus",
    "chorus": "chorus", "ch": "chorus", "refrain": "chorus", "rf": "chorus",
    "bridge": "bridge", "br": "bridge", "middle8": "bridge", "middleeight": "bridge",
    "instrumental": "instrumental", "inst": "instrumental", "solo": "instrumental", "so": "instrumental",
    "interlude": "instrumental", "break": "instrumental", "instrumentalbreak": "instrumental",
    "outro": "outro", "ou": "outro", "coda": "outro", "co": "outro", "fadeout": "outro", "ending": "outro",
    "tag": "outro", "tg": "outro",
}
_LETTER = re.compile(r"^([A-Z])['\d*]*$")
_WORD_TAIL = re.compile(r"[\d'*]+$")

UNKNOWN = "unknown"
#: a song-context model's section ids: 0 unknown, the named labels, ``other``, rehearsal letters A-Y (Z is ``other``).
SECTION_LABELS: tuple[str, ...] = (UNKNOWN, *LABELS, OTHER, *(chr(c) for c in range(ord("A"), ord("Z"))))
_SECTION_ID = {label: index for index, label in enumerate(SECTION_LABELS)}

#: metre classes (beats per bar) a song-context model is conditioned on; id 0 is unknown (or any other metre).
METRES: tuple[int, ...] = (2, 3, 4, 5, 6, 7, 9, 12)
#: a chord's duration classes in beats (id ``i + 1`` is ``DURATION_BEATS[i]``; id 0 unknown: never a target).
DURATION_BEATS: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 12, 16)


def normalise_label(raw: str) -> str:
    """The normalised label of a raw section mark (``Verse 2`` -> ``verse``, ``A'`` -> ``A``, ``Z`` -> ``other``).

    Billboard's ``Z`` (unlabelled stretches) and empty marks are ``other``; so is any word not in :data:`WORDS`.
    """
    text = raw.strip()
    if not text:
        return OTHER
    letter = _LETTER.match(text)
    if letter:
        return OTHER if letter.group(1) == "Z" else letter.group(1)
    word = _WORD_TAIL.sub("", text.lower()).replace(" ", "").replace("-", "").replace("_", "")
    return WORDS.get(word, OTHER)


def section_id(label: object) -> int:
    """The id of a section label (a normalised label, or a raw mark read by :func:`normalise_label`); 0 if none."""
    if label is None or (isinstance(label, float) and np.isnan(label)):
        return 0
    text = str(label).strip()
    if not text or text.lower() == UNKNOWN:
        return 0
    if text in _SECTION_ID:
        return _SECTION_ID[text]
    lowered = text.lower()
    return _SECTION_ID.get(lowered, _SECTION_ID[normalise_label(text)])


def metre_id(beats_per_bar: object) -> int:
    """The metre class of a number of beats per bar (0 when unknown or not one of :data:`METRES`)."""
    try:
        value = float(beats_per_bar)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0
    if not np.isfinite(value) or not value.is_integer() or int(value) not in METRES:
        return 0
    return METRES.index(int(value)) + 1


def duration_ids(beats: np.ndarray) -> np.ndarray:
    """Each duration (beats, float; NaN or <= 0 unknown) as its nearest class in log scale, 1.. (0 where unknown)."""
    beats = np.asarray(beats, dtype=np.float64)
    known = np.isfinite(beats) & (beats > 0)
    safe = np.where(known, beats, 1.0)
    classes = np.log(np.asarray(DURATION_BEATS, dtype=np.float64))
    nearest = np.abs(np.log(safe)[..., None] - classes).argmin(axis=-1) + 1
    return np.where(known, nearest, 0).astype(np.int32)


def beats_of_duration_ids(ids: np.ndarray) -> np.ndarray:
    """Beats of duration class ids (0, unknown, gives 0)."""
    table = np.asarray((0, *DURATION_BEATS), dtype=np.int64)
    return table[np.asarray(ids, dtype=np.int64)]
