"""Who may do what in the studio: its owner, and visitors who reached it by a shared link.

Visitors get the Generate page (everything on it), the Dataset page and the Evaluation results, read
only. Training, fine-tuning, uploads, the model in use, run management, the conditioning checks and
anything that writes to disk or starts long work belong to the owner, and are refused here, on the
server: the pages call :func:`owner_page` before drawing an owner's page (and inside its fragments,
which rerun on their own) and :func:`require_owner` before each owner action, so a visitor's
browser sending the widget values or the rerun an owner's would send changes nothing.

Who is the owner depends on how the studio runs (:func:`sharing_mode`): bound to 127.0.0.1 with no
owner password, the one local user is (as before roles existed); with a password
(``python -m core owner set-password``, :mod:`core.credentials`), whoever signs in with it is, until
idle for :data:`core.config.OWNER_IDLE_MINUTES`; bound to any other address without one, nobody
is, and the studio says how to set one. Wrong passwords are limited per browser address and in all
(:class:`SignInAttempts`).
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from core import credentials
from core.config import (
    LOCAL_ADDRESSES,
    OWNER_IDLE_MINUTES,
    SIGN_IN_ATTEMPTS,
    SIGN_IN_ATTEMPTS_ALL,
    SIGN_IN_WINDOW_S,
)
from core.errors import InputError

OWNER, VISITOR = "owner", "visitor"
#: how the studio runs: its local user is the owner / an owner signs in / visitors only.
LOCAL_OWNER, SIGNED_IN_OWNER, VISITORS_ONLY = "local owner", "password", "visitors only"
SET_PASSWORD_HINT = "run `python -m core owner set-password` on the server and restart the studio"
_SESSION_KEY = "access-sign-in"
Result = TypeVar("Result")


class OwnerOnly(InputError):
    """An owner's action asked for by a visitor: refused, with what to do (sign in) in the message."""


@dataclass
class SignIn:
    """One session's sign-in: when the owner last did something (``None``: signed out). Kept in the session."""

    seen: float | None = None

    def active(self, now: float) -> bool:
        """Signed in and not idle longer than :func:`idle_seconds`; being asked counts as activity."""
        if self.seen is None or now - self.seen > idle_seconds():
            self.seen = None
            return False
        self.seen = now
        return True


class SignInAttempts:
    """Wrong passwords in the last :data:`SIGN_IN_WINDOW_S` seconds, per browser address and in all (thread-safe)."""

    def __init__(self, per_address: int = SIGN_IN_ATTEMPTS, in_all: int = SIGN_IN_ATTEMPTS_ALL,
                 window_s: float = SIGN_IN_WINDOW_S) -> None:
        self.per_address, self.in_all, self.window_s = per_address, in_all, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, address: str, now: float) -> float:
        """Seconds until ``address`` may try again (0: now)."""
        with self._lock:
            for failures in self._failures.values():
                while failures and now - failures[0] > self.window_s:
                    failures.popleft()
            mine = self._failures.get(address, deque())
            every = sorted(t for failures in self._failures.values() for t in failures)
            waits = [0.0]
            if len(mine) >= self.per_address:
                waits.append(mine[0] + self.window_s - now)
            if len(every) >= self.in_all:
                waits.append(every[-self.in_all] + self.window_s - now)
            return max(waits)

    def failed(self, address: str, now: float) -> None:
        """Count one wrong password from ``address``."""
        with self._lock:
            self._failures.setdefault(address, deque()).append(now)


ATTEMPTS = SignInAttempts()


def idle_seconds() -> float:
    """How long a signed-in owner may be idle: CHORDSMITH_OWNER_IDLE_MINUTES, else :data:`OWNER_IDLE_MINUTES`."""
    try:
        minutes = float(os.environ.get("CHORDSMITH_OWNER_IDLE_MINUTES", OWNER_IDLE_MINUTES))
    except ValueError:
        minutes = OWNER_IDLE_MINUTES
    return max(0.0, minutes) * 60


def bound_locally() -> bool:
    """Whether the studio listens only on this machine (``server.address`` one of :data:`LOCAL_ADDRESSES`)."""
    return (st.get_option("server.address") or "") in LOCAL_ADDRESSES


def sharing_mode() -> str:
    """:data:`SIGNED_IN_OWNER` with an owner password, else :data:`LOCAL_OWNER` on 127.0.0.1, else :data:`VISITORS_ONLY`."""
    if credentials.owner_password_set():
        return SIGNED_IN_OWNER
    return LOCAL_OWNER if bound_locally() else VISITORS_ONLY


def _sign_in() -> SignIn:
    return st.session_state.setdefault(_SESSION_KEY, SignIn())


def role() -> str:
    """:data:`OWNER` or :data:`VISITOR`, for this session now."""
    mode = sharing_mode()
    if mode == LOCAL_OWNER:
        return OWNER
    return OWNER if mode == SIGNED_IN_OWNER and _sign_in().active(time.time()) else VISITOR


def is_owner() -> bool:
    """Whether this session may do what only the owner may."""
    return role() == OWNER


def refusal(action: str) -> str:
    """The message refusing ``action`` (e.g. "Starting a training") to a visitor, with what would allow it."""
    if sharing_mode() == VISITORS_ONLY:
        return f"{action} is for the studio's owner, and this studio has no owner password: {SET_PASSWORD_HINT}."
    return f"{action} is for the studio's owner: sign in with the owner password (in the sidebar) first."


def require_owner(action: str) -> None:
    """Raise :class:`OwnerOnly` unless this session is the owner's (call it before every owner action)."""
    if not is_owner():
        raise OwnerOnly(refusal(action))


def owner_guarded(action: str, work: Callable[[], Result]) -> Callable[[], Result]:
    """``work`` refused unless this session is still the owner's when it runs (for deferred downloads).

    A deferred download runs outside the page's run, where the session is not at hand: the check
    holds on to this session's sign-in record instead.
    """
    local = sharing_mode() == LOCAL_OWNER
    record = None if local else _sign_in()

    def checked() -> Result:
        if record is not None and not record.active(time.time()):
            raise OwnerOnly(refusal(action))
        return work()

    return checked


def owner_page(what: str) -> None:
    """Stop the page (or fragment) here for a visitor, with why and, where possible, the sign-in form."""
    if is_owner():
        return
    st.info(refusal(what), icon=":material/lock:")
    if sharing_mode() == SIGNED_IN_OWNER:
        sign_in_form(key="access-page")
    st.stop()


def try_sign_in(password: str, address: str, now: float | None = None) -> str | None:
    """Sign this session in with ``password``; ``None`` on success, else why not (wrong, too many tries, no password)."""
    now = time.time() if now is None else now
    stored = credentials.stored_hash(credentials.OWNER_KEY)
    if stored is None:
        return f"No owner password is set: {SET_PASSWORD_HINT}."
    wait = ATTEMPTS.wait_s(address, now)
    if wait > 0:
        return f"Too many wrong passwords: try again in {wait:.0f} s."
    if not credentials.matches(password, stored):
        ATTEMPTS.failed(address, now)
        return "Wrong password."
    _sign_in().seen = now
    return None


def sign_out() -> None:
    """End this session's sign-in."""
    _sign_in().seen = None


def sign_in_form(key: str = "access") -> None:
    """A password field and a Sign in button; a wrong password, or too many, says so."""
    with st.form(f"{key}-form", clear_on_submit=True, border=False):
        password = st.text_input("Owner password", type="password", key=f"{key}-password")
        submitted = st.form_submit_button("Sign in", icon=":material/login:")
    if submitted:
        address = st.context.ip_address  # behind a proxy, the proxy's: then the limit in all does the work
        problem = try_sign_in(password or "", address if isinstance(address, str) else "unknown")
        if problem:
            st.error(problem, icon=":material/error:")
        else:
            st.rerun()


def sidebar_panel() -> None:
    """The sidebar's line on who you are here, with Sign in / Sign out (call inside ``st.sidebar``)."""
    mode = sharing_mode()
    if mode == LOCAL_OWNER:
        return  # as before roles: one local user, nothing to say
    st.divider()
    if mode == VISITORS_ONLY:
        st.caption(f":material/visibility: Visitor view. To manage this studio, {SET_PASSWORD_HINT}.")
    elif is_owner():
        st.caption(":material/verified_user: Signed in as the owner.")
        st.button("Sign out", key="access-sign-out", on_click=sign_out, icon=":material/logout:")
    else:
        st.caption(":material/visibility: Visitor view: Generate, Dataset and Evaluation results.")
        with st.expander("Owner sign-in", icon=":material/login:"):
            sign_in_form()
