"""Who may call the HTTP API: an optional API key, and cross-origin browser calls closed unless origins are named.

The key's hash lives where the studio's owner password does (:mod:`core.credentials`:
``.streamlit/secrets.toml`` or ``CHORDSMITH_API_KEY_HASH``); ``python -m core owner new-api-key``
makes one. A client sends it as ``Authorization: Bearer <key>`` (or ``X-API-Key: <key>``); without
it, or with another, the answer is 401 before any work is done. ``GET /health`` stays open, for
load balancers and probes.

Whether a key is needed follows the address the server listens on (:func:`key_required`): on
127.0.0.1 it is off by default (the machine's own user, as before); on any other address it is
required, and a server asked to listen there with no key set refuses to start, unless it is started
explicitly open (``serve --open``). Browsers on other sites get no CORS headers, so they cannot read
the API's answers, unless ``serve --cors-origin`` names their origin.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core import credentials
from core.config import LOCAL_ADDRESSES
from core.errors import InputError

#: paths answered without a key (probes); everything else needs it when a key is required.
OPEN_PATHS: frozenset[str] = frozenset({"/health"})
KEY_HINT = "run 'python -m core owner new-api-key' and send the key as 'Authorization: Bearer <key>'"


def key_required(host: str, open_api: bool, key_set: bool) -> bool:
    """Whether requests must carry the API key: when one is set, unless ``open_api``; and off the local machine.

    Raises :class:`InputError` for a server on a shared address with no key and not explicitly open.
    """
    if open_api:
        return False
    if key_set:
        return True
    if host in LOCAL_ADDRESSES:
        return False
    raise InputError(f"--host {host} lets other machines in, and no API key is set: {KEY_HINT}, "
                     "or pass --open to serve without one")


def _presented_key(request: Request) -> str:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-api-key", "").strip()


def require_api_key(app: FastAPI, key_hash: str) -> None:
    """Answer 401 to every request but :data:`OPEN_PATHS` that does not carry the key ``key_hash`` was made from."""

    @app.middleware("http")
    async def api_key_check(request: Request, call_next):
        if request.url.path in OPEN_PATHS or request.method == "OPTIONS":
            return await call_next(request)
        presented = _presented_key(request)
        if not presented or not credentials.matches(presented, key_hash):
            return JSONResponse(status_code=401, headers={"WWW-Authenticate": "Bearer"},
                                content={"detail": f"this API needs its key: {KEY_HINT}"})
        return await call_next(request)


def allow_origins(app: FastAPI, origins: Sequence[str]) -> None:
    """Let browser pages on ``origins`` (e.g. ``https://chords.example.org``) call the API; none: CORS stays closed."""
    if not origins:
        return
    from fastapi.middleware.cors import CORSMiddleware

    app.add_middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "X-API-Key", "Content-Type"])


def protected(app: FastAPI, host: str, open_api: bool = False, cors_origins: Sequence[str] = ()) -> FastAPI:
    """``app`` with the API key required where :func:`key_required` says, and CORS for ``cors_origins`` only."""
    key_hash = credentials.stored_hash(credentials.API_KEY_KEY)
    if key_required(host, open_api, key_hash is not None):
        require_api_key(app, key_hash)
    allow_origins(app, cors_origins)
    return app
