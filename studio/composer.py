"""The composer: build a progression chord by chord, choosing among the model's ranked "what comes next" and "what fits here".

Under the page's conditions (genre, mood, key, in-key switch) the model ranks the chords that could
follow the progression so far, p(chord | chords before), and the chords that could go between two
of its chords, p(chord | both neighbours). Each one is heard (▶, voiced as it would sound in the
progression) before it is added (+). The composed chords live in the page's state and address
(``compose=``), in the generated key like everything else, shown moved by the transposition.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from core.chords import Chord, SlashChord
from core.errors import EnvironmentFault, InputError
from core.generation.edits import moved
from studio import generate_state, loaders
from studio.generate_state import Model
from studio.page_settings import SlashChords, read_slash_chords, slash_text
from studio.plain_text import plain
from studio.progression_view import ask_audition, audition, forget_audition, percent
from studio.progressions import appended

#: chords offered for what comes next and for what fits in a gap, and how many stand in a row.
OFFERED = 8
PER_ROW = 4
_SCOPE = "compose"
_GAP = "gen-compose-gap"
TYPED = "gen-compose-text"  # the text field's key
_PROBLEM = "gen-compose-problem"


@st.fragment
def composer(model: Model) -> None:
    """The composer panel (a fragment: its clicks redraw only it)."""
    state = generate_state.current()
    request = state.request
    chords = state.compose
    shown = [moved(c, request.transpose) for c in chords]
    spelling = _spelling(shown)
    st.caption("Build a progression chord by chord. The model ranks what could come next under the conditions "
               "above (genre, mood, key; *In key only* respected): ▶ hears a chord as it would sound after yours, "
               "**+** adds it. Between two chords, *What fits here* ranks chords by both neighbours.")
    st.session_state.setdefault(TYPED, " ".join(spelling.symbols(shown)) if spelling else "")
    st.text_input("Your progression", key=TYPED, on_change=_typed,
                  placeholder="start empty, or type chords, e.g. C G Am (Enter to apply)")
    if st.session_state.get(_PROBLEM):
        st.warning(plain(st.session_state[_PROBLEM]), icon=":material/warning:")
    try:
        if chords:
            _current(shown, spelling, request.tempo, request.voicing)
        _next(chords, shown, model)
        if len(chords) >= 2:
            _fits(chords, shown, model)
    except (InputError, EnvironmentFault) as error:
        st.error(plain(error), icon=":material/error:")
    audition(_SCOPE)
    if chords:
        _actions(chords, shown, model)


def _spelling(shown: list[SlashChord]):
    from core.spelling import Spelling

    state = generate_state.current()
    request = state.request
    if not shown:
        return None
    if not request.key:
        return Spelling.for_chords(shown)
    named = request.conditions.key.split()[0] if request.transpose % 12 == 0 else None  # the key as the user named it
    return Spelling((request.conditions.tonic + request.transpose) % 12, request.conditions.mode or "major", named)


def _current(shown: list[SlashChord], spelling, bpm: int, voicing: str) -> None:
    text = slash_text(shown)
    with st.container(horizontal=True, gap="small", key="gen-compose-chords"):
        for position, chord in enumerate(shown):
            symbol = spelling.symbol(chord)
            st.button(f"**{plain(symbol)}**", key=f"gen-compose-play-{position}", on_click=ask_audition,
                      args=(_SCOPE, text, position, f"{symbol} (chord {position + 1})", bpm, voicing),
                      help="Hear it, voiced as in your progression")


def _next(chords: SlashChords, shown: list[SlashChord], model: Model) -> None:
    request = generate_state.current().request
    ranked = loaders.ranked(request.conditions, request.in_key, request.guidance, tuple(c.chord for c in chords), (),
                            False, model.folder, model.version)[:OFFERED]
    st.markdown("**What comes next?** — p(chord | chords before)" if chords else
                "**How could it start?** — p(first chord)")
    _offers(ranked, chords, shown, len(chords), "next", model)


def _fits(chords: SlashChords, shown: list[SlashChord], model: Model) -> None:
    request = generate_state.current().request
    spelling = _spelling(shown)
    gaps = list(range(1, len(chords)))
    gap = st.session_state.get(_GAP)
    if gap not in gaps:
        st.session_state[_GAP] = gaps[-1]
    gap = st.segmented_control("What fits here? Between", gaps, key=_GAP, required=True,
                               format_func=lambda g: f"{spelling.symbol(shown[g - 1])} – {spelling.symbol(shown[g])}")
    model_chords = tuple(c.chord for c in chords)
    ranked = loaders.ranked(request.conditions, request.in_key, request.guidance, model_chords[:gap], model_chords[gap:],
                            False, model.folder, model.version)[:OFFERED]
    st.caption("p(chord | both neighbours): how well each fits between the chords before and after the gap.")
    _offers(ranked, chords, shown, gap, "fit", model)


def _offers(ranked: list[tuple[Chord, float]], chords: SlashChords, shown: list[SlashChord], position: int, kind: str,
            model: Model) -> None:
    """One small card per ranked chord: ▶ to hear it in place, + to put it there."""
    request = generate_state.current().request
    columns = [column for _ in range(0, OFFERED, PER_ROW) for column in st.columns(PER_ROW)]
    for column, (chord, probability) in zip(columns, ranked, strict=False):
        placed = moved(SlashChord(chord), request.transpose)
        trial = appended(tuple(shown), placed, position)
        symbol = _spelling(list(trial)).symbol(placed)
        with column.container(border=True, key=f"gen-compose-{kind}-{chord.symbol}", horizontal=True,
                              vertical_alignment="center"):
            st.button(f"▶ **{symbol}** · {percent(probability)}", key=f"gen-compose-hear-{kind}-{chord.symbol}",
                      type="tertiary", on_click=ask_audition, help="Hear it in place",
                      args=(_SCOPE, slash_text(trial), position, f"{symbol} (chord {position + 1})", request.tempo,
                            request.voicing))
            st.button("Add" if kind == "next" else "Insert", key=f"gen-compose-add-{kind}-{chord.symbol}",
                      icon=":material/add:", on_click=_set_compose, args=(appended(chords, chord, position),))


def _actions(chords: SlashChords, shown: list[SlashChord], model: Model) -> None:
    state = generate_state.current()
    request = state.request
    favourite = chords in state.favourites
    with st.container(horizontal=True, gap="small"):
        st.button("Remove the last chord", key="gen-compose-pop", icon=":material/backspace:",
                  on_click=_set_compose, args=(chords[:-1],))
        st.button("Clear", key="gen-compose-clear", icon=":material/delete:", on_click=_set_compose, args=((),))
        st.button("Play", key="gen-compose-play-all", icon=":material/play_arrow:", type="primary",
                  on_click=ask_audition, args=(_SCOPE, slash_text(shown), None, "Your progression", request.tempo,
                                               request.voicing))
        st.button("Starred" if favourite else "Star", key="gen-compose-star", icon=":material/star:",
                  type="primary" if favourite else "secondary", on_click=_star, args=(chords,),
                  help="Keep it among the favourites")
    text = slash_text(shown)
    spelling = _spelling(shown)
    key = spelling.named_key if request.key else None
    st.image(loaders.notation_svg(text, key, "Composed", request.tempo, request.voicing), width="stretch")
    st.download_button("MIDI", loaders.progression_midi(text, spelling.named_key, "Composed", request.tempo, request.voicing),
                       "chordsmith-composed.mid", "audio/midi", icon=":material/download:", key="gen-compose-midi",
                       on_click="ignore")


def _typed() -> None:
    """The text field changed: read the chords typed (as shown) back into the generated key."""
    state = generate_state.current()
    text = st.session_state.get(TYPED, "")
    try:
        chords = read_slash_chords(text)
    except InputError as error:
        st.session_state[_PROBLEM] = f"{error}; your progression is unchanged."
        return
    st.session_state.pop(_PROBLEM, None)
    generate_state.commit(replace(state, compose=tuple(moved(c, -state.request.transpose) for c in chords)))


def _set_compose(chords: SlashChords) -> None:
    state = generate_state.current()
    generate_state.commit(replace(state, compose=tuple(chords)))
    st.session_state.pop(TYPED, None)  # the text field shows the new chords
    forget_audition(_SCOPE)


def _star(chords: SlashChords) -> None:
    generate_state.commit(generate_state.current().toggled_favourite(tuple(chords)))
