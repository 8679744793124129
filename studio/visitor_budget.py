"""Each visitor's share of the machine: a budget of decoder work for the Generate page's heaviest requests.

A visitor may ask for many long progressions with locked chords, regenerate them again and again, or
paste a long progression into Analyze; each of those keeps a core busy for a while. The cost of a
request is counted in decoder row-steps, the unit the HTTP API admits by
(:func:`core.generation.locks.lock_work`, doubled when guidance runs a second chain:
:func:`core.generation.locks.guidance_factor`, the cost model every surface refuses by), and charged to the
visitor's session: the budget holds at most :data:`core.config.VISITOR_WORK_BUDGET` and refills at
:data:`core.config.VISITOR_WORK_PER_S`.
A request over what is left is refused at once with a message saying what it costs and when it
would fit (:class:`OverBudget`), never queued behind a spinner. Ordinary clicks cost a few thousand
row-steps and never meet the limit; the owner has no budget (it is their machine).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import streamlit as st

from core.config import MAX_ANALYZE_CHARACTERS, VISITOR_WORK_BUDGET, VISITOR_WORK_PER_S
from core.errors import InputError
from core.generation.analysis import check_scored_length, symbols_typed
from studio import access

_SESSION_KEY = "visitor-work-budget"


class OverBudget(InputError):
    """A visitor's request costing more than their budget holds now; the message says what to do."""


@dataclass
class WorkBudget:
    """Row-steps a session may still spend, refilled with time (a token bucket)."""

    left: float = VISITOR_WORK_BUDGET
    at: float = 0.0

    def refilled(self, now: float) -> float:
        """What is left at ``now``, the refill since the last charge added (at most the whole budget)."""
        self.left = min(VISITOR_WORK_BUDGET, self.left + max(0.0, now - self.at) * VISITOR_WORK_PER_S) if self.at else self.left
        self.at = now
        return self.left

    def charge(self, work: int, what: str, now: float) -> None:
        """Spend ``work`` row-steps on ``what``, or raise :class:`OverBudget` (spending nothing)."""
        left = self.refilled(now)
        if work > VISITOR_WORK_BUDGET:
            raise OverBudget(f"{what} would cost about {work:,} decoder steps, more than a visitor may ask for at once "
                             f"({VISITOR_WORK_BUDGET:,}): ask for fewer or shorter progressions, or fewer locked chords.")
        if work > left:
            wait = (work - left) / VISITOR_WORK_PER_S
            raise OverBudget(f"{what} would cost about {work:,} decoder steps and your share of this studio has "
                             f"{int(left):,} left: try again in {wait:.0f} s, or ask for less (fewer or shorter "
                             "progressions, fewer locked chords).")
        self.left = left - work


def charge(work: int, what: str) -> None:
    """Charge ``work`` row-steps for ``what`` to this visitor's session; the owner is never charged."""
    if access.is_owner():
        return
    budget = st.session_state.setdefault(_SESSION_KEY, WorkBudget())
    budget.charge(work, what, time.time())


def charge_once(purpose: str, asked: object, work: int, what: str) -> None:
    """:func:`charge` for ``asked`` (e.g. the text to analyze) unless it was the last thing charged for ``purpose``.

    A page redraws its panels on every rerun, from a cache when nothing changed: only a new request is charged.
    """
    charged = st.session_state.setdefault(f"{_SESSION_KEY}-last", {})
    if charged.get(purpose) == asked:
        return
    charge(work, what)
    charged[purpose] = asked


def redraw_work(state, request) -> int:
    """Row-steps for drawing every progression of ``state`` anew under ``request`` (a :class:`PageSettings`).

    Each keeps its seed chords and its locked chords (an upper bound: progressions keeping the same
    chords are drawn together).
    """
    seeds = set(range(len(request.seeds)))
    settings = request.settings()
    progressions = list(state.progressions[: request.samples])
    locks = [seeds | set(p.locks) for p in progressions] + [seeds] * (request.samples - len(progressions))
    return drawing_work(settings.length, locks, settings.gibbs_passes, settings.guidance, request.conditions)


def drawing_work(length: int, fixed_positions: Iterable[Iterable[int]], passes: int, guidance: float,
                 conditions) -> int:
    """Row-steps for drawing one progression per entry of ``fixed_positions`` (its seed and locked positions)."""
    from core.generation.locks import guidance_factor, lock_work

    steps = sum(lock_work(length, 1, set(fixed), passes) for fixed in fixed_positions)
    return steps * guidance_factor(guidance, conditions)


def analysis_work(text: str) -> int:
    """Row-steps for Analyze: every chord scored once, then once more per genre and per mood it is fitted to."""
    from core.conditions import GENRES, MOODS

    if len(text) > MAX_ANALYZE_CHARACTERS:
        check_scored_length(symbols_typed(text))  # too many chords: said in chords, what the page limits
        raise InputError(f"the progression to analyze has {len(text):,} characters; at most {MAX_ANALYZE_CHARACTERS:,} "
                         "are read (a progression holds at most a few dozen chords)")
    chords = len(text.replace(",", " ").replace("|", " ").split())
    return (chords + 1) * (1 + len(GENRES) + len(MOODS))
