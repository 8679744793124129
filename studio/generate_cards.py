"""The Generate page's progressions: one card per progression, each a fragment, so a click in one redraws only that one.

A card holds the progression's heading and actions (play, favourite, undo, regenerate, release locks),
its chords as one row of pills (a click plays one as voiced there and opens its panel: lock it, hear
and use an alternative, choose its bass), the notation and the downloads. Every
action is a callback that changes only its own progression in the page's state
(:mod:`studio.progressions`) and writes the address (:func:`studio.generate_state.commit`).
"""

from __future__ import annotations

import json
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from core.chords import Chord, SlashChord, chord_tones
from core.errors import EnvironmentFault, InputError
from core.generation.edits import moved
from studio import generate_state, loaders, visitor_budget
from studio.generate_state import Model
from studio.page import input_errors
from studio.page_settings import new_seed, slash_text
from studio.plain_text import plain
from studio.progression_view import (
    REDRAW_ALL,
    ShownProgression,
    ask_audition,
    audition,
    forget_audition,
    model_sample,
    percent,
    redraw_all_if_asked,
    shown,
)
from studio.progressions import Progression, as_edited, fixed_chords, inverted, swapped, with_lock

#: chord cards per row.
CHORDS_PER_ROW = 8
#: progressions shown as cards; the others are listed in a table and opened one at a time, so the page shows every
#: progression the samples limit allows (core.config) and stays quick.
FULL_CARDS = 8
#: alternatives offered for one chord.
ALTERNATIVES = 6
#: progressions up to this many chords show their notation at once; longer ones on request.
NOTATION_UP_TO = 16
_OPEN = "gen-chord-open"  # (progression, position) whose chord panel is open
_PROBLEM = "gen-problem-"  # + progression: what an edit of it could not do
_INVERSION_NAMES = ("root position", "1st inversion", "2nd inversion", "3rd inversion")
LEGEND = ("Click a chord to hear it as it sounds in its progression and to lock it, swap it or choose its bass. "
          "Each chord shows its Roman numeral and the model's p(chord | chords before it); its alternatives are "
          "ranked by p(chord | both neighbours). A :material/lock: locked chord stays when its progression is "
          "regenerated.")


@st.fragment
def progression_card(index: int, model: Model, share: DeltaGenerator, base_url: str) -> None:
    """Progression ``index`` in full; refreshes the share link (``share``, a slot outside the fragment) as it changes."""
    redraw_all_if_asked()  # one chord panel and one player on the page, whichever card they moved to
    state = generate_state.current()
    if index >= len(state.progressions):
        return
    with input_errors():
        view = shown(state, index, model)
        with st.container(border=True, key=f"gen-progression-{index}"):
            _heading(view, state.progressions[index], model)
            if problem := st.session_state.pop(f"{_PROBLEM}{index}", None):
                st.error(plain(problem), icon=":material/error:")
            _chord_row(view, model)
            opened = st.session_state.get(_OPEN)
            if opened and opened[0] == index and opened[1] < len(view.edited.chords):
                _chord_panel(view, opened[1], model)
            audition(f"p{index}")  # its sound is rendered on Play, not for every progression drawn (loaders.AudioStore)
            listen_and_download(view, model, base_url)
    share.code(generate_state.current().to_link().link(base_url), language=None, wrap_lines=True)


def _heading(view: ShownProgression, progression: Progression, model: Model) -> None:
    state = generate_state.current()
    index, sample = view.index, view.sample
    favourite = view.edited.chords in state.favourites
    st.subheader(f"{view.title}: {' '.join(view.score.symbols)}")
    about, actions = st.columns([1, 1], vertical_alignment="center")
    ending = "the model ended it" if sample.ended else "cut at the length"
    transposed = f" · transposed {state.request.transpose:+d}" if state.request.transpose else ""
    locked = f" · {len(view.edited.locks)} locked" if view.edited.locks else ""
    about.caption(f"Key {plain(sample.roman_key)} (numerals, spelling, key signature) · {len(sample.chords)} chords, {ending}"
                  f"{transposed}{locked}")
    with actions.container(horizontal=True, horizontal_alignment="right", gap="small"):
        st.button("Play", key=f"gen-play-all-{index}", icon=":material/play_arrow:", type="primary",
                  on_click=ask_audition, args=(f"p{index}", view.text, None, view.title, state.request.tempo,
                                               state.request.voicing),
                  help="Hear the whole progression, voiced and at the tempo shown")
        st.button("Starred" if favourite else "Star", key=f"gen-star-{index}", icon=":material/star:",
                  type="primary" if favourite else "secondary", on_click=_star, args=(index, model),
                  help="Keep it among the favourites (their own panel and link); click again to remove it.")
        st.button("Undo", key=f"gen-undo-{index}", icon=":material/undo:", disabled=not progression.history,
                  on_click=_undo, args=(index,), help="Back to this progression's previous version.")
        st.button("Regenerate", key=f"gen-regen-{index}", icon=":material/autorenew:", on_click=_regenerate,
                  args=(index, model), help="Draw this progression again; locked and seed chords stay, the "
                  "other progressions are not touched.")
        if view.edited.locks:
            st.button("Release locks", key=f"gen-release-{index}", icon=":material/lock_open:", on_click=_release,
                      args=(index, model), help="Unlock every chord of this progression (its chords stay).")


def _chord_row(view: ShownProgression, model: Model) -> None:
    """The chords as one row of pills: symbol, numeral, p(chord | chords before); a click plays one and opens its panel."""
    state = generate_state.current()
    seeds = state.request.seeds
    symbols, romans, probabilities = view.score.symbols, view.score.romans, view.sample.probabilities
    chords = view.edited.chords

    def shown(position: int) -> str:
        mark = ":material/lock: " if position in view.edited.locks else ""
        is_seed = position < len(seeds) and position not in view.edited.locks and chords[position] == seeds[position]
        return f"{mark}**{symbols[position]}** {romans[position]} · {percent(probabilities[position])}" + (
            " · seed" if is_seed else "")

    overridden = [p for p in sorted(view.edited.locks) if p < min(len(seeds), len(chords)) and chords[p] != seeds[p]]
    if overridden:  # a padlock wins over a seed chord at its place: said, so the seeds do not seem ignored
        st.caption(":material/lock: " + "; ".join(
            f"chord {p + 1} stays {plain(symbols[p])} (locked) instead of seed chord "
            f"{plain(view.symbol_of(seeds[p], state.request.transpose))}" for p in overridden)
            + ": a lock wins over a seed; unlock it to open with the seed.")

    key = f"gen-chords-{view.index}"
    opened = st.session_state.get(_OPEN)
    st.session_state[key] = opened[1] if opened and opened[0] == view.index and opened[1] < len(symbols) else None
    st.pills(f"Chords of {view.title.lower()}", list(range(len(symbols))), format_func=shown, key=key,
             label_visibility="collapsed", on_change=_select, args=(view.index, key, model))


def _chord_panel(view: ShownProgression, position: int, model: Model) -> None:
    """The chords that could stand at ``position`` given both neighbours (hear, then use one), and its inversions."""
    state = generate_state.current()
    request = state.request
    current = view.edited.chords[position]
    chords = view.model_chords
    every = loaders.ranked(request.conditions, request.in_key, request.guidance, chords[:position], chords[position + 1:],
                           view.edited.ended, model.folder, model.version)
    ranked = every[:ALTERNATIVES]
    if all(chord != current.chord for chord, _ in ranked):
        ranked += [(chord, p) for chord, p in every if chord == current.chord]
    locked = position in view.edited.locks
    symbol = view.score.symbols[position]
    with st.container(border=True, key=f"gen-panel-{view.index}"):
        head, actions = st.columns([3, 2], vertical_alignment="center")
        head.markdown(f"**Chord {position + 1}: {plain(symbol)}** ({plain(view.score.romans[position])}) · "
                      f"p(chord | chords before) {percent(view.sample.probabilities[position])}")
        with actions.container(horizontal=True, horizontal_alignment="right", gap="small"):
            st.button("Hear", key=f"gen-hear-{view.index}", icon=":material/volume_up:", on_click=ask_audition,
                      args=(f"p{view.index}", view.text, position, f"{symbol} (chord {position + 1})", request.tempo,
                            request.voicing))
            st.button("Unlock" if locked else "Lock", key=f"gen-lock-{view.index}", type="primary" if locked else "secondary",
                      icon=":material/lock_open:" if locked else ":material/lock:", on_click=_toggle_lock,
                      args=(view.index, position, model),
                      help="A locked chord stays when its progression is regenerated")
            st.button("Close", key=f"gen-alt-close-{view.index}", icon=":material/close:", on_click=_close_panel)
        st.caption("Alternatives, ranked by p(chord | both neighbours): how well each fits between the chords before "
                   "and after it. ▶ hears one in place; *Use* swaps it in.")
        for column, (chord, probability) in zip(st.columns(len(ranked)), ranked, strict=True):
            _alternative(column, view, position, chord, probability, chord == current.chord, model)
        _inversions(view, position, model)


def _alternative(column: DeltaGenerator, view: ShownProgression, position: int, chord: Chord, probability: float,
                 is_current: bool, model: Model) -> None:
    request = generate_state.current().request
    symbol = view.symbol_of(chord, request.transpose)
    in_place = list(view.sample.slash_chords)
    in_place[position] = moved(SlashChord(chord), request.transpose)
    with column.container(border=True, key=f"gen-option-{view.index}-{position}-{chord.symbol}"):
        st.button(f"▶ **{symbol}** · {percent(probability)}", key=f"gen-hear-alt-{view.index}-{position}-{chord.symbol}",
                  type="tertiary", on_click=ask_audition, help="Hear it in place",
                  args=(f"p{view.index}", slash_text(in_place), position, f"{symbol} in place of chord {position + 1}",
                        request.tempo, request.voicing))
        if is_current:
            st.caption("current chord")
        else:
            st.button("Use", key=f"gen-swap-{view.index}-{position}-{chord.symbol}", icon=":material/check:",
                      on_click=_swap, args=(view.index, position, chord, model), width="stretch")


def _inversions(view: ShownProgression, position: int, model: Model) -> None:
    current = view.edited.chords[position]
    tones = chord_tones(current.chord)
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("Bass:")
        for inversion in range(len(tones)):
            slash = SlashChord.inverted(current.chord, inversion)
            label = f"{view.symbol_of(slash, generate_state.current().request.transpose)} ({_INVERSION_NAMES[inversion]})"
            st.button(label, key=f"gen-inv-{view.index}-{position}-{inversion}",
                      type="primary" if current.inversion == inversion else "secondary",
                      on_click=_invert, args=(view.index, position, inversion, model))


def listen_and_download(view: ShownProgression, model: Model, base_url: str) -> None:
    """Notation and the MIDI / MusicXML / JSON downloads of one progression (all from its score)."""
    state = generate_state.current()
    request = state.request
    key = view.score.key
    long = len(view.score.chords) > NOTATION_UP_TO
    if not long or st.toggle("Show the notation", key=f"gen-notation-{view.index}",
                             help=f"Progressions of more than {NOTATION_UP_TO} chords show their staff on request, so a "
                                  "page of long ones stays quick to draw and to scan."):
        st.image(loaders.notation_svg(view.text, key, view.title, request.tempo, request.voicing), width="stretch")
    midi, musicxml, as_json = st.columns(3)
    stem = f"chordsmith-{request.seed}-{view.index + 1}"
    # made on the click, not on every redraw: each visitor's Generate new would otherwise build both files for
    # every progression shown (a third of the script's time for a Generate-new click, profiled under AppTest)
    midi.download_button("MIDI", lambda: loaders.progression_midi(view.text, key, view.title, request.tempo,
                                                                  request.voicing),
                         f"{stem}.mid", "audio/midi", icon=":material/download:", key=f"gen-midi-{view.index}",
                         width="stretch", on_click="ignore")
    musicxml.download_button("MusicXML", lambda: loaders.progression_musicxml(view.text, key, view.title, request.tempo,
                                                                              request.voicing),
                             f"{stem}.musicxml", "application/vnd.recordare.musicxml+xml", icon=":material/download:",
                             key=f"gen-xml-{view.index}", width="stretch", on_click="ignore")
    payload = {**view.sample.to_dict(), "chords": view.score.symbols, "roman": view.score.romans,
               "transpose": request.transpose, "tempo": request.tempo, "voicing": request.voicing,
               "model": model.identity}
    latest = generate_state.latest()
    latest.setdefault("state", state)

    def json_text() -> str:  # made on the click: the page's link then, with every progression's edits
        return json.dumps({**payload, "link": latest["state"].to_link().link(base_url)}, indent=2)

    as_json.download_button("JSON", json_text, f"{stem}.json", "application/json",
                            icon=":material/download:", key=f"gen-json-{view.index}", width="stretch",
                            on_click="ignore")


def more_progressions(model: Model) -> int | None:
    """The progressions after the first :data:`FULL_CARDS`: all of them in a table; returns the one opened in full."""
    from core.generation.edits import transposed

    state = generate_state.current()
    rest = range(FULL_CARDS, len(state.progressions))
    samples = [transposed(model_sample(state, i, model), state.request.transpose) for i in rest]
    st.subheader(f"Progressions {FULL_CARDS + 1} to {len(state.progressions)}")
    st.dataframe({"#": [i + 1 for i in rest], "chords": [" ".join(s.symbols) for s in samples],
                  "roman numerals": [" ".join(s.roman) for s in samples], "key": [s.roman_key for s in samples]},
                 hide_index=True, width="stretch")
    return st.selectbox("Open one in full", rest, format_func=lambda i: f"Progression {i + 1}", key="gen-open-more")


# --- actions (callbacks: they change one progression and write the address) ---------------------------------


def _change(index: int, model: Model, edit, history: bool = True) -> None:
    """Replace progression ``index`` by ``edit(its current version)``; the old version goes to its history.

    An edit the model cannot make (a damaged model file, say) leaves the progression as it was, with a message.
    """
    state = generate_state.current()
    progression = state.progressions[index]
    try:
        made = model_sample(state, index, model)
        new = edit(progression.current(made))
    except (InputError, EnvironmentFault) as error:
        st.session_state[f"{_PROBLEM}{index}"] = str(error)
        return
    changed = progression.changed(new, made) if history else Progression(new, progression.history)
    generate_state.commit(state.with_progression(index, changed))
    if history:
        forget_audition(f"p{index}")


def _toggle_lock(index: int, position: int, model: Model) -> None:
    _change(index, model, lambda e: with_lock(e, position, position not in e.locks), history=False)


def _release(index: int, model: Model) -> None:
    _change(index, model, lambda e: replace(e, locks=frozenset()), history=False)


def _swap(index: int, position: int, chord: Chord, model: Model) -> None:
    _change(index, model, lambda e: swapped(e, position, chord))


def _invert(index: int, position: int, inversion: int, model: Model) -> None:
    _change(index, model, lambda e: inverted(e, position, inversion))


def _regenerate(index: int, model: Model) -> None:
    request = generate_state.current().request

    def redrawn(current):
        locks = frozenset(p for p in current.locks if p < request.length)
        fixed = fixed_chords(request, current)
        settings = request.settings()
        visitor_budget.charge(visitor_budget.drawing_work(settings.length, [set(fixed)], settings.gibbs_passes,
                                                          settings.guidance, request.conditions),
                              "Regenerating this progression")
        sample = loaders.drawn_with(request, fixed, new_seed(), model.folder, model.version)[0]
        return as_edited(sample, locks)

    _change(index, model, redrawn)
    _close_panel()


def _undo(index: int) -> None:
    state = generate_state.current()
    generate_state.commit(state.with_progression(index, state.progressions[index].undone()))
    forget_audition(f"p{index}")
    _close_panel()


def _star(index: int, model: Model) -> None:
    state = generate_state.current()
    current = state.progressions[index].current(model_sample(state, index, model))
    generate_state.commit(state.toggled_favourite(current.chords))


def _select(index: int, key: str, model: Model) -> None:
    """A chord pill was clicked: play that chord (voiced as in its progression) and open its panel; clicked again: close."""
    position = st.session_state.get(key)
    if position is None:
        _close_panel()
        return
    if st.session_state.get(_OPEN, (index,))[0] != index:
        st.session_state[REDRAW_ALL] = True  # the panel moves to another card
    st.session_state[_OPEN] = (index, position)
    state = generate_state.current()
    view = shown(state, index, model)
    request = state.request
    symbol = view.score.symbols[position]
    ask_audition(f"p{index}", view.text, position, f"{symbol} (chord {position + 1})", request.tempo, request.voicing)


def _close_panel() -> None:
    st.session_state.pop(_OPEN, None)
