"""The Generate page's state: its URL is the truth, widgets mirror it, buttons rewrite it.

Every run starts from ``st.query_params``. When the URL changed outside the page (a first visit,
a pasted link, the browser's back button) it is read with fallbacks and the widgets are set
from it; otherwise the widgets' values are read back into a request. Either way the request
(with a random seed picked if the URL had none) is written back to the URL, so the address bar
is always a link that reproduces the page.
"""

from __future__ import annotations

import hashlib
from typing import Any

import streamlit as st

from studio.generate_url import GENERATION_FIELDS, GenerateRequest

PREFIX = "gen-"
#: request fields that have a widget (locks and swaps are set by buttons, from the URL).
WIDGET_FIELDS: tuple[str, ...] = ("genre", "mood", "key", "scale", "length", "temperature", "top_k", "top_p",
                                  "seed_chords", "samples", "seed", "transpose", "in_key", "tempo", "analyze")
_URL_MEMORY = PREFIX + "url"
ALTERNATIVES_FOR = PREFIX + "alternatives-for"


def widget_key(field: str) -> str:
    """The session-state key of a setting's widget."""
    return PREFIX + field


def current_request() -> tuple[GenerateRequest, list[str]]:
    """The request this run shows and one message per setting that was replaced or dropped."""
    params = st.query_params.to_dict()
    from_outside = params != st.session_state.get(_URL_MEMORY) or any(
        widget_key(f) not in st.session_state for f in WIDGET_FIELDS)
    problems: list[str] = []
    if from_outside:
        request, problems = GenerateRequest.from_query(params)
        _show_in_widgets(request)
    else:
        previous, _ = GenerateRequest.from_query(params)
        request = previous.updated(**{f: st.session_state[widget_key(f)] for f in WIDGET_FIELDS}).checked(problems)
    _publish(request)
    return request, problems


def apply(request: GenerateRequest) -> None:
    """Make ``request`` the page's state (for button callbacks: widgets and URL both follow)."""
    _show_in_widgets(request)
    _publish(request)
    st.session_state.pop(ALTERNATIVES_FOR, None)


def samples_digest(request: GenerateRequest) -> str:
    """A short name for the samples a request produces (keys of per-chord widgets, reset when samples change)."""
    text = repr([getattr(request, f) for f in (*GENERATION_FIELDS, "swaps")])
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def lock_key(request: GenerateRequest, sample_index: int, position: int) -> str:
    """The session-state key of one chord's padlock."""
    return f"{PREFIX}lock-{samples_digest(request)}-{sample_index}-{position}"


def _show_in_widgets(request: GenerateRequest) -> None:
    values: dict[str, Any] = {f: getattr(request, f) for f in WIDGET_FIELDS}
    for field, value in values.items():
        st.session_state[widget_key(field)] = value


def _publish(request: GenerateRequest) -> None:
    query = request.to_query()
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    st.session_state[_URL_MEMORY] = query
