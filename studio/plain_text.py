"""Supplied text shown as plain text: the one escaping every page applies to what a visitor or a link supplies.

Streamlit renders the text of ``st.markdown``, ``st.warning``, ``st.error``, ``st.info``, ``st.caption``,
``st.toast``, button labels and more as Markdown, with its own extensions: ``:red[…]`` colours,
``:material/…:`` icons, ``:smile:`` emoji, ``$…$`` maths, and GitHub's bare-link rule that turns
``https://…``, ``www.…`` and ``a@b.c`` into links. A value from a shared link or a text field that
reaches one of them unescaped can put a clickable outside link, an image fetched from an outside host
or red bold text into the page of whoever opens the link. :func:`plain` makes any text render as
exactly its characters: every Markdown punctuation mark is backslash-escaped, and an invisible word
joiner (U+2060) follows each ``:`` and ``@`` and breaks ``www`` so that no directive, icon, emoji or
bare link can form (those are matched after the escapes are read). HTML is escaped by the backslashes
too (Streamlit never renders raw HTML here). Measured in Chromium against Streamlit's renderer.
"""

from __future__ import annotations

import re

#: invisible, and no line may break at it: the text reads and wraps as before.
WORD_JOINER = "\u2060"
#: marks that make Markdown anywhere in a line: emphasis, code, links and images, HTML, strike, maths, tables, entities.
_INLINE_MARKS = re.compile(r"([\\`*_\[\]<>!~$|#&])")
#: marks that make Markdown at a line's start: list items, setext underlines, numbered items.
_LINE_START_MARKS = re.compile(r"^([ \t]*(?:\d+(?=[.)]))?)([-+=.)])", re.MULTILINE)
#: a colon or at sign with something after it: directives, icons, emoji, URL schemes, e-mail addresses.
_JOINED_MARKS = re.compile(r"([:@])(?=\S)")
_WWW = re.compile(r"(w)(?=ww)", re.IGNORECASE)


def plain(text: object) -> str:
    """``text`` (any value, as ``str()`` writes it) escaped so that Streamlit's Markdown shows exactly its characters.

    Use it on every supplied piece of text placed in a Markdown string (a warning, an error, a caption,
    a label); the page's own wording around it stays Markdown::

        st.warning(f"Unknown genre **{plain(value)}**.")
    """
    escaped = _INLINE_MARKS.sub(r"\\\1", str(text))
    escaped = _LINE_START_MARKS.sub(lambda found: found.group(1) + "\\" + found.group(2), escaped)
    escaped = _JOINED_MARKS.sub(lambda found: found.group(1) + WORD_JOINER, escaped)
    return _WWW.sub(lambda found: found.group(1) + WORD_JOINER, escaped)


def as_read(escaped: str) -> str:
    """What a reader sees of :func:`plain`'s output: the supplied characters again (for checks of shown messages)."""
    return re.sub(r"\\(.)", r"\1", escaped).replace(WORD_JOINER, "")
