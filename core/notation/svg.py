"""A score engraved as SVG by verovio, from the score's MusicXML (:mod:`core.notation.musicxml`)."""

from __future__ import annotations

from pathlib import Path

import verovio

from core.notation.musicxml import to_musicxml
from core.notation.score import Score


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
}


def to_svg(score_or_musicxml: Score | bytes | str, width: int = 2100, scale: int = 45) -> str:
    """The score engraved by verovio as SVG text (all pages; one page for any usual progression length).

    Accepts a :class:`Score` (engraved with its title and tempo mark in the header, see
    :func:`to_musicxml`) or MusicXML (bytes or text). Safe to call from worker threads.
    """
    if isinstance(score_or_musicxml, Score):
        score_or_musicxml = to_musicxml(score_or_musicxml, for_engraving=True)
    musicxml = score_or_musicxml.decode("utf-8") if isinstance(score_or_musicxml, bytes) else score_or_musicxml
    toolkit = verovio_toolkit()
    toolkit.setOptions({**SVG_OPTIONS, "pageWidth": width, "scale": scale})
    if not toolkit.loadData(musicxml):
        raise RuntimeError(f"verovio could not read the MusicXML: {toolkit.getLog()}")
    return "\n".join(toolkit.renderToSVG(page) for page in range(1, toolkit.getPageCount() + 1))
