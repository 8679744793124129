"""Section labels normalised across sources: the words songwriters use, or a rehearsal letter, or ``other``.

Every source names its sections its own way (Billboard ``pre-chorus``/``prechorus``, RS200 macros
``Vr``/``Ch``, jazz charts ``A``/``B``, POP909 phrase letters, folk tune parts). The song table keeps
the raw mark and one normalised label from :data:`LABELS`, a letter ``A``-``Z`` where the source
marks sections only by rehearsal letter (the letter still says which sections are the same), or
``other`` where the source says nothing we can name. A label is never guessed from the chords.
"""

from __future__ import annotations

import re

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


def is_named(label: str) -> bool:
    """True for a label that says something: a named section or a rehearsal letter (not ``other``)."""
    return label != OTHER and bool(label)
