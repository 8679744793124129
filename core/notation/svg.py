"""A score engraved as SVG by verovio, from the score's MusicXML (:mod:`core.notation.musicxml`).

A verovio toolkit costs about as much to make (its resources read from disk) as to engrave one
progression, so finished toolkits wait in a small pool for the next engraving: every Generate-new
click in the studio engraves each new progression, by whichever session's thread asks. A toolkit
serves one engraving at a time; the pool holds at most :data:`POOLED_TOOLKITS`, so it stays small
however many threads engraved at once.
"""

from __future__ import annotations

import queue
from pathlib import Path

import verovio

from core.notation.musicxml import to_musicxml
from core.notation.score import Score

#: idle toolkits kept for reuse; more engravings at once make their own and drop them after.
POOLED_TOOLKITS = 4
_IDLE: queue.LifoQueue[verovio.toolkit] = queue.LifoQueue(maxsize=POOLED_TOOLKITS)


def verovio_toolkit() -> verovio.toolkit:
    """A verovio toolkit with its resource path set explicitly (needed off the main thread, e.g. Streamlit)."""
    toolkit = verovio.toolkit(False)
    toolkit.setResourcePath(str(Path(verovio.__file__).resolve().parent / "data"))
    return toolkit


SVG_OPTIONS = {
    "pageWidth": 2100,
    "pageHeight": 60000,  # verovio's maximum: everything on one page, then trimmed to fit
    "adjustPageHeight": True,
    "scale": 45,
    "breaks": "auto",
    "header": "auto",
    "footer": "none",
    "pageMarginTop": 40,
    "pageMarginBottom": 40,
    "pageMarginLeft": 40,
    "pageMarginRight": 40,
    "minLastJustification": 0.0,  # every system fills the width: short chords keep their symbols apart
    "svgFormatRaw": True,  # no indentation: 15-35 % fewer bytes to send, drawn pixel for pixel the same (Chromium)
}


def to_svg(score_or_musicxml: Score | bytes | str, width: int = 2100, scale: int = 45) -> str:
    """The score engraved by verovio as SVG text (all pages; one page for any usual progression length).

    Accepts a :class:`Score` (engraved with its title and tempo mark in the header, see
    :func:`to_musicxml`) or MusicXML (bytes or text). Safe to call from worker threads (each engraving
    has a toolkit to itself, taken from the pool or made).
    """
    if isinstance(score_or_musicxml, Score):
        score_or_musicxml = to_musicxml(score_or_musicxml, for_engraving=True)
    musicxml = score_or_musicxml.decode("utf-8") if isinstance(score_or_musicxml, bytes) else score_or_musicxml
    try:
        toolkit = _IDLE.get_nowait()
    except queue.Empty:
        toolkit = verovio_toolkit()
    toolkit.setOptions({**SVG_OPTIONS, "pageWidth": width, "scale": scale})  # every option, every time: none leaks
    if not toolkit.loadData(musicxml):
        raise RuntimeError(f"verovio could not read the MusicXML: {toolkit.getLog()}")  # the toolkit is dropped
    svg = "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))
    try:
        _IDLE.put_nowait(toolkit)
    except queue.Full:
        pass
    return svg
