"""One progression as the page shows it: transposed, spelled in its key (slash basses kept), scored, and heard.

:func:`shown` turns a progression of the page's state into a :class:`ShownProgression`: the sample
as displayed (chords moved by the transposition, numerals unchanged), the chords the model sees
(generated key), and the :class:`core.notation.score.Score` every symbol, numeral, staff, sound and
download of it comes from, so they all agree. :func:`audition` plays one chord on a click.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from core.chords import Chord, SlashChord
from core.generation.edits import moved, transposed
from core.generation.sample import Sample
from core.notation.score import Score
from core.spelling import Spelling
from studio import loaders
from studio.generate_state import Model
from studio.generate_url import Edited
from studio.page_settings import slash_text
from studio.plain_text import plain
from studio.progressions import PageState

_AUDITION = "gen-audition"


@dataclass(frozen=True)
class ShownProgression:
    """A progression of the page, ready to draw."""

    index: int
    sample: Sample  # as shown: transposed chords and basses, the numerals' key moved with them
    edited: Edited  # as the model made it (generated key), padlocks included
    text: str  # the shown chords as symbols (slash basses kept): the key of every notation and audio cache
    score: Score  # voiced and spelled in the shown key, at the page's tempo and voicing

    @property
    def model_chords(self) -> tuple[Chord, ...]:
        """The chords in the generated key (what the model scores)."""
        return tuple(c.chord for c in self.edited.chords)

    @property
    def title(self) -> str:
        """``Progression N``."""
        return f"Progression {self.index + 1}"

    @property
    def spelling(self) -> Spelling:
        """The spelling of the shown key."""
        return self.score.spelling

    def symbol_of(self, chord: Chord | SlashChord, transpose: int) -> str:
        """A model chord (generated key) as this progression shows it: moved and spelled in its key."""
        item = chord if isinstance(chord, SlashChord) else SlashChord(chord)
        return self.spelling.symbol(moved(item, transpose))


def sample_key(sample: Sample) -> tuple[int, str, str]:
    """(tonic pitch class, mode, tonic name) of the key a sample's numerals are in: its notation's key signature
    and spelling (``Gb major`` is written in flats, ``F# major`` in sharps)."""
    return Spelling.from_name(sample.roman_key).named_key


def model_sample(state: PageState, index: int, model: Model) -> Sample:
    """Progression ``index`` as the model made it (generated key): the batch's sample, or its edited version scored."""
    progression = state.progressions[index]
    if progression.edited is None:
        return loaders.drawn(state.request, model.folder, model.version)[index]
    return loaders.scored(state.request.conditions, progression.edited, model.folder, model.version)


def shown(state: PageState, index: int, model: Model) -> ShownProgression:
    """Progression ``index`` of ``state`` ready to draw."""
    request = state.request
    made = model_sample(state, index, model)
    edited = state.progressions[index].current(made)
    sample = transposed(made, request.transpose)
    text = slash_text(sample.slash_chords)
    title = f"Progression {index + 1}"
    score = loaders.score(text, sample_key(sample), title, request.tempo, request.voicing)
    return ShownProgression(index, sample, edited, text, score)


def percent(probability: float) -> str:
    """A probability as a percentage, with a decimal below 10% (so small ones do not all read 0%)."""
    return f"{probability:.0%}" if probability >= 0.1 else f"{probability:.1%}"


# --- hearing one chord -----------------------------------------------------------------------------------


#: set when a click moves the one player (or the one chord panel) to another progression's card: each card is a
#: fragment that redraws alone, so the card it left would keep its own until the whole page is drawn again.
REDRAW_ALL = "gen-redraw-all"


def redraw_all_if_asked() -> None:
    """In a card's fragment: draw the whole page again when a click moved the player or panel to another card."""
    if st.session_state.pop(REDRAW_ALL, False):
        st.rerun(scope="app")


def ask_audition(scope: str, chords: str, index: int | None, label: str, bpm: float, voicing: str) -> None:
    """Button callback: play chord ``index`` of ``chords`` (voiced as in that progression; ``None``: all of it) in ``scope``."""
    before = st.session_state.get(_AUDITION, {})
    nonce = before.get("nonce", 0) + 1
    if before.get("scope") != scope:
        st.session_state[REDRAW_ALL] = True  # the player moves to another card: the one it leaves must drop it too
    st.session_state[_AUDITION] = {"scope": scope, "chords": chords, "index": index, "label": label, "bpm": bpm,
                                   "voicing": voicing, "nonce": nonce}


def forget_audition(scope: str | None = None) -> None:
    """Drop the player of panel ``scope`` (its progression changed: the chord it plays may be gone); ``None``: any."""
    if scope is None or st.session_state.get(_AUDITION, {}).get("scope") == scope:
        st.session_state.pop(_AUDITION, None)


def audition(scope: str) -> None:
    """The player of the chord last asked for in panel ``scope``; it starts on its own (a new element per click)."""
    asked = st.session_state.get(_AUDITION)
    if not asked or asked["scope"] != scope:
        return
    if asked["index"] is None:
        data = loaders.progression_wav(asked["chords"], asked["bpm"], asked["voicing"])
    else:
        data = loaders.chord_audition(asked["chords"], asked["index"], asked["bpm"], asked["voicing"])
    with st.container(key=f"gen-hear-{scope}-{asked['nonce']}", horizontal=True, vertical_alignment="center"):
        st.caption(f":material/volume_up: **{plain(asked['label'])}**")
        st.audio(data, format="audio/wav", autoplay=True, width=320)
