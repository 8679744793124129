"""Section labels normalised across sources: the words songwriters use, or a rehearsal letter, or ``other``.

Every source names its sections its own way (Billboard ``pre-chorus``/``prechorus``, RS200 macros
``Vr``/``Ch``, jazz charts ``A``/``B``, POP909 phrase letters, folk tune parts). The song table keeps
the raw mark and one normalised label from :data:`LABELS`, a letter ``A``-``Z`` where the source
marks sections only by rehearsal letter (the letter still says which sections are the same), or
``other`` where the source says nothing we can name. A label is never guessed from the chords.
The labels and their normalisation live in :mod:`core.song_context` (a model reads them as ids); they are
re-exported here, where the corpus reads them.
"""

from __future__ import annotations

from core.song_context import LABELS, OTHER, WORDS, normalise_label

__all__ = ["LABELS", "OTHER", "WORDS", "is_named", "normalise_label"]


def is_named(label: str) -> bool:
    """True for a label that says something: a named section or a rehearsal letter (not ``other``)."""
    return label != OTHER and bool(label)
