"""The favourites panel: the progressions the user starred, kept whatever is generated next, with a link of their own.

A favourite is a snapshot of a progression's chords (generated key, slash basses kept), taken when
its star was clicked; it stays when the progressions are generated anew, and is removed with its
own star. The favourites' link (:meth:`studio.generate_url.PageLink.favourites_query`) carries them,
the settings that show and play them, and the model that made them.
"""

from __future__ import annotations

import streamlit as st

from core.generation.edits import moved
from studio import generate_state, loaders
from studio.generate_state import Model
from studio.page_settings import SlashChords, slash_text
from studio.plain_text import plain
from studio.progression_view import ask_audition, audition

_SCOPE = "favourites"


@st.fragment
def favourites_panel(model: Model, base_url: str) -> None:
    """Every favourite: its chords spelled in key, its numerals, hear it, download it, remove it; and the link."""
    state = generate_state.current()
    request = state.request
    if not state.favourites:
        st.info("Star a progression (or a composed one) to keep it here: favourites stay when you generate anew, "
                "and have a link of their own.", icon=":material/star:")
        return
    link = state.to_link()
    st.markdown("**Link to these favourites** (with the model that made them):")
    st.code(link.link(base_url, link.favourites_query()), language=None, wrap_lines=True)
    audition(_SCOPE)
    for number, chords in enumerate(state.favourites):
        shown = [moved(c, request.transpose) for c in chords]
        text = slash_text(shown)
        key = _key(request, shown)
        score = loaders.score(text, key, f"Favourite {number + 1}", request.tempo, request.voicing)
        with st.container(border=True, key=f"gen-fav-{number}"):
            words, actions = st.columns([4, 2], vertical_alignment="center")
            words.markdown(f"**{plain(' '.join(score.symbols))}**  \n"
                           f"{plain(' '.join(score.romans))} · {plain(score.spelling.name)}")
            with actions.container(horizontal=True, gap="small", horizontal_alignment="right"):
                st.button("Play", key=f"gen-fav-play-{number}", icon=":material/play_arrow:", on_click=_play,
                          args=(text, number, request.tempo, request.voicing))
                st.download_button("MIDI", loaders.progression_midi(text, key, f"Favourite {number + 1}",
                                                                    request.tempo, request.voicing),
                                   f"chordsmith-favourite-{number + 1}.mid", "audio/midi", icon=":material/download:",
                                   key=f"gen-fav-midi-{number}", on_click="ignore")
                st.button("Remove", key=f"gen-fav-remove-{number}", icon=":material/star:", on_click=_remove,
                          args=(chords,), help="Take it out of the favourites")


def _key(request, shown) -> tuple[int, str]:
    """The requested key (moved by the transposition), else the key the chords suggest."""
    from core.spelling import guess_key

    if request.key:
        conditions = request.conditions
        return (conditions.tonic + request.transpose) % 12, conditions.mode or "major"
    return guess_key(shown, request.scale or None)


def _play(text: str, number: int, bpm: int, voicing: str) -> None:
    ask_audition(_SCOPE, text, None, f"Favourite {number + 1}", bpm, voicing)


def _remove(chords: SlashChords) -> None:
    generate_state.commit(generate_state.current().toggled_favourite(chords))
