"""The Generate page's state in the session and in the address bar: restored on return, written back after each change.

The state (:class:`studio.progressions.PageState`) lives in ``st.session_state`` under the page's
own keys (``gen-…``), so it survives a visit to another page (Streamlit forgets the widgets of a
page that is not drawn, not these keys), and each state is also filed under the address it was
shown at, so the browser's Back button brings back the progressions that address showed. Every
run starts from the address:

- the address this page last wrote, widgets alive: the session's state, with the widgets' values;
- an address from outside (a first visit, a pasted link, Back, or the sidebar's bare ``/generate``):
  for a bare address the session's latest state (never what a bare first arrival showed), else the
  state filed under it, else the link read with fallbacks (:mod:`studio.generate_url`); the widgets
  are set from it.

The address is then written back, so the address bar always reproduces the page. On the first run
after arriving from another page it is written one run later (:func:`finish`): Streamlit's browser
side applies a new query string before it moves to the new page's path, so writing it at once put
the Generate page's seed on the previous page's history entry (Back landed on ``/dataset?seed=…``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import streamlit as st

from core.config import MAX_SEED
from core.errors import InputError
from core.generation.edits import moved
from core.spelling import Spelling
from studio.generate_url import Edited, PageLink
from studio.page_settings import PageSettings, new_seed, read_slash_chords, slash_text
from studio.progressions import (
    PageState,
    Progression,
    as_edited,
    fixed_chords,
    swapped,
)

PREFIX = "gen-"
#: request fields that have a widget.
WIDGET_FIELDS: tuple[str, ...] = ("genre", "mood", "key", "scale", "length", "temperature", "top_k", "top_p",
                                  "seed_chords", "samples", "seed", "in_key", "let_end", "guidance", "transpose", "tempo",
                                  "voicing", "analyze")
#: a setting whose widget every run draws: Streamlit forgets it only when another page was shown (the Analyze text
#: area lives in a tab drawn only while open, so its widget comes and goes).
ALWAYS_DRAWN = "genre"
STATE = PREFIX + "state"
_LATEST = PREFIX + "latest"
_BY_ADDRESS = PREFIX + "states"
_WRITTEN = PREFIX + "url"
_PENDING = PREFIX + "url-pending"
#: addresses remembered for Back (each with its state), oldest dropped first.
ADDRESSES_KEPT = 200


@dataclass(frozen=True)
class Model:
    """The model a run writes with: what the loaders take (folders joined by ``os.pathsep``), a cache version, its name."""

    folder: str
    version: float
    identity: str  # NAME@DIGEST, members joined by '+'


def widget_key(field: str) -> str:
    """The session-state key of a setting's widget."""
    return PREFIX + field


# --- where a run starts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    """How a run begins: the state, the messages about its address, and the link when one was just read."""

    state: PageState
    problems: list[str]
    link: PageLink | None  # set when the state was read from the address now (older links' locks/swaps to apply)
    arrived: bool  # the page's widgets were not alive: a first visit or a return from another page
    outside: bool  # the state came from the address (a link, Back, a return), not from this page's widgets


def start() -> Start:
    """The state this run starts from (see the module docstring); sets the widgets when it comes from outside."""
    params = st.query_params.to_dict()
    arrived = widget_key(ALWAYS_DRAWN) not in st.session_state
    if not arrived and params == st.session_state.get(_WRITTEN) and STATE in st.session_state:
        return Start(st.session_state[STATE], [], None, False, False)
    filed = st.session_state.setdefault(_BY_ADDRESS, {})
    address = _address(params)
    link = None
    if not params and STATE in st.session_state:  # the sidebar's bare /generate: the page as it was left, whatever
        state, problems = st.session_state[STATE], []  # the bare address showed on an earlier first arrival
    elif address in filed:
        state, problems = filed[address]
    else:
        link, problems = PageLink.from_query(params)
        state = PageState.from_link(link)
        _file(address, state, problems)
    _show_in_widgets(state)
    return Start(state, list(problems), link, arrived, True)


def report(problem: str) -> None:
    """File a message about the address this run started from (shown again when the address comes back, e.g. after
    the run that writes the address on arrival)."""
    filed = st.session_state.setdefault(_BY_ADDRESS, {})
    entry = filed.get(_address(st.query_params.to_dict()))
    if entry is not None and problem not in entry[1]:
        entry[1].append(problem)


def requested(state: PageState, problems: list[str]) -> PageSettings:
    """The settings the widgets hold now (seed chords typed as shown, moved back by the transposition they were typed under).

    A widget not drawn in the last run (the Analyze text area while its tab is closed) keeps the state's value.
    """
    values: dict[str, Any] = {f: st.session_state.setdefault(widget_key(f), getattr(state.request, f))
                              for f in WIDGET_FIELDS}
    typed = str(values.pop("seed_chords")).strip()
    seeds = typed
    try:
        seeds = slash_text([moved(c, -state.request.transpose) for c in read_slash_chords(typed)])
    except InputError:
        pass  # kept as typed: PageSettings.checked reports it and generates without
    request = replace(state.request, **values, seed_chords=seeds).checked(problems)
    if request.transpose != state.request.transpose and request.seed_chords:
        st.session_state[widget_key("seed_chords")] = shown_seeds(request)
    return request


def shown_seeds(request: PageSettings) -> str:
    """The seed chords as the page shows them: moved by the transposition, spelled in the shown key when there is one."""
    chords = [moved(c, request.transpose) for c in request.seeds]
    if request.key:
        conditions = request.conditions
        return " ".join(Spelling((conditions.tonic + request.transpose) % 12, conditions.mode or "major").symbols(chords))
    return slash_text(chords)


# --- changes ------------------------------------------------------------------------------------------


def commit(state: PageState, arrived: bool = False) -> None:
    """Make ``state`` the page's: kept in the session, filed under its address, written to the address bar.

    Right after arriving from another page the address is written on the next run (:func:`finish`).
    """
    st.session_state[STATE] = state
    latest()["state"] = state
    query = state.to_link().to_query()
    _file(_address(query), state, [])
    if arrived:  # what the arrival address shows now (an older link's locks applied, say), for the run that follows
        arrival = _address(st.query_params.to_dict())
        _file(arrival, state, st.session_state[_BY_ADDRESS].get(arrival, (None, []))[1])
    if arrived and st.query_params.to_dict() != query:
        st.session_state[_PENDING] = True
        return
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    st.session_state[_WRITTEN] = query


def finish() -> None:
    """At the end of the page: rerun once when the address could not be written on arrival (see the module docstring)."""
    if st.session_state.pop(_PENDING, False):
        st.rerun()


def current() -> PageState:
    """The page's state now (for callbacks and fragments)."""
    return st.session_state[STATE]


def latest() -> dict[str, PageState]:
    """A holder whose ``"state"`` is always the page's latest state: for what is made later, off the script's thread
    (a download's contents are made when it is clicked, maybe after another card's fragment changed the page)."""
    return st.session_state.setdefault(_LATEST, {})


def generate_new() -> None:
    """Button callback: a fresh random seed, so every progression is drawn again (padlocked chords stay).

    The address this click came with counts as the page's own: a click right after arriving can carry the arrival
    address (the browser had not yet shown the one the page wrote), and that must not win over the click.
    """
    st.session_state[widget_key("seed")] = new_seed()
    st.session_state[_WRITTEN] = st.query_params.to_dict()


def row_seed(seed: int, index: int) -> int:
    """The random seed of progression ``index`` when it is drawn on its own (deterministic given the page's seed)."""
    return (int(seed) * 1_000_003 + 7919 * (index + 1)) % (MAX_SEED + 1)


# --- redrawing ----------------------------------------------------------------------------------------


def settled(state: PageState, request: PageSettings, model: Model,
            progress: Callable[[float], None] | None = None) -> PageState:
    """``state`` under ``request``: unchanged progressions when only display settings moved; more or fewer when only
    their number did; every progression redrawn when a setting that shapes them changed, padlocked chords kept
    (progressions keeping the same chords are drawn in one batch; ``progress(fraction done)`` follows them)."""
    from studio import loaders

    old, new = state.request, request
    if old.generation() == new.generation():
        return replace(state, request=new)
    if replace(old, samples=new.samples).generation() == new.generation():
        kept = state.progressions[: new.samples]
        added = tuple(Progression() for _ in range(new.samples - len(kept)))
        return replace(state, request=new, progressions=kept + added)
    before = loaders.drawn(old, model.folder, model.version)
    groups: dict[tuple, list[tuple[int, frozenset[int]]]] = {}  # the chords kept -> (progression, its padlocks)
    for index, progression in enumerate(state.progressions[: new.samples]):
        if progression.locks:
            current = progression.current(before[index])
            locks = frozenset(p for p in current.locks if p < new.length)
            fixed = fixed_chords(new, replace(current, locks=locks))
            groups.setdefault(tuple(sorted(fixed.items())), []).append((index, locks))
    redrawn: dict[int, Edited] = {}
    for step, (fixed, members) in enumerate(groups.items()):
        inner = None if progress is None else (
            lambda done, total, step=step: progress((step + done / max(1, total)) / len(groups)))
        samples = loaders.drawn_with(new, dict(fixed), row_seed(new.seed, members[0][0]), model.folder, model.version,
                                     len(members), inner)
        redrawn.update((index, as_edited(sample, locks)) for (index, locks), sample in zip(members, samples, strict=True))
    return state.redrawn(new, before, [redrawn.get(i) for i in range(new.samples)])


def with_older_link(state: PageState, link: PageLink, model: Model) -> PageState:
    """A link written before progressions were edited one by one: its locks drew every progression, its swaps replaced chords."""
    from studio import loaders

    if not link.legacy_locks and not link.legacy_swaps:
        return state
    drawn = loaders.drawn(state.request, model.folder, model.version, link.legacy_locks)
    positions = frozenset(p for p, _ in link.legacy_locks)
    progressions = list(state.progressions)
    for index, sample in enumerate(drawn):
        if link.legacy_locks and progressions[index].edited is None:
            progressions[index] = Progression(as_edited(sample, frozenset(p for p in positions if p < len(sample.chords))))
    for index, position, chord in link.legacy_swaps:
        current = progressions[index].current(drawn[index])
        if position < len(current.chords):
            progressions[index] = Progression(swapped(current, position, chord))
    return replace(state, progressions=tuple(progressions))


# --- helpers ------------------------------------------------------------------------------------------


def _address(params: dict[str, str]) -> str:
    return json.dumps(sorted(params.items()))


def _file(address: str, state: PageState, problems: list[str]) -> None:
    filed: dict = st.session_state.setdefault(_BY_ADDRESS, {})
    filed.pop(address, None)
    filed[address] = (state, list(problems))
    while len(filed) > ADDRESSES_KEPT:
        filed.pop(next(iter(filed)))


def _show_in_widgets(state: PageState) -> None:
    for field in WIDGET_FIELDS:
        st.session_state[widget_key(field)] = getattr(state.request, field)
    st.session_state[widget_key("seed_chords")] = shown_seeds(state.request)

