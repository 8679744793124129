"""What one HTTP request may cost the API server: its body's size, its time, and what a refusal echoes back.

Two ASGI middlewares, installed by :func:`bound_requests` (from :func:`core.serving.api.create_app`), with
their limits from :mod:`core.config`:

* :class:`BodyLimit` answers **413** before a body over :data:`core.config.MAX_API_BODY_BYTES` is
  read: at once from its ``Content-Length``, or as soon as a chunked body passes the limit, so a
  31 MB body is never buffered, parsed or validated (and never holds the event loop);
* :class:`Deadline` answers **504** when a request takes longer than
  :data:`core.config.API_REQUEST_SECONDS` (a heavy one waiting in line included), so no client
  waits minutes; the work itself is bounded by :data:`core.config.MAX_GENERATION_WORK`.

:func:`safe_text` is how a refused input is echoed in a 422: at most
:data:`core.config.MAX_ECHOED_CHARS` characters of it, and any character that cannot be encoded
(a lone surrogate such as ``"\\ud800"``) written as its escape, so an answer can always be sent and
the connection stays usable.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from core.config import API_REQUEST_SECONDS, MAX_API_BODY_BYTES, MAX_ECHOED_CHARS

Scope = dict[str, Any]


def safe_text(text: str, limit: int = MAX_ECHOED_CHARS) -> str:
    """``text`` as an answer may carry it: unencodable characters escaped, at most ``limit`` characters (then ``…``)."""
    cut = text if len(text) <= limit else text[:limit]
    escaped = cut.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped + ("…" if len(text) > limit else "")


def safe_value(value: Any, limit: int = MAX_ECHOED_CHARS) -> Any:
    """An echoed input made safe to send: text through :func:`safe_text`; a large list, dict or number as a short excerpt.

    Small lists and dicts keep their shape (their items made safe); anything whose text is longer than
    ``limit`` becomes an excerpt of that text.
    """
    if isinstance(value, str):
        return safe_text(value, limit)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        shown = repr(value) if isinstance(value, float) else None
        if shown is None:
            digits = len(str(abs(value))) if abs(value) < 10**4000 else 4000
            return value if digits <= 30 else f"a whole number of {digits:,} digits"
        return value if shown not in ("nan", "inf", "-inf") else shown
    if isinstance(value, dict | list | tuple):
        try:
            text = json.dumps(value, default=str)
        except (ValueError, TypeError, RecursionError):
            text = None
        if text is not None and len(text) <= limit:
            if isinstance(value, dict):
                return {safe_text(str(key), limit): safe_value(item, limit) for key, item in value.items()}
            return [safe_value(item, limit) for item in value]
        return safe_text(text if text is not None else repr(value), limit)
    return safe_text(str(value), limit)


async def _answer(send, status: int, message: str, kind: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """A JSON error in FastAPI's validation-error shape (``detail``: a list of ``loc``/``msg``/``type``)."""
    body = json.dumps({"detail": [{"loc": ["body"], "msg": message, "type": kind}]}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close"), *headers]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is answered 413 before it is read or parsed."""

    def __init__(self, app, limit: int = MAX_API_BODY_BYTES) -> None:
        self.app, self.limit = app, limit

    def _refusal(self) -> str:
        return f"the request body is over {self.limit:,} bytes, the API's limit for one request"

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _answer(send, 413, self._refusal(), "body_too_large")
            return
        received = 0
        started = refused = False

        async def counted_receive():
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:  # a chunked body past the limit: answered now, the app told the client left
                    refused = True
                    if not started:
                        await _answer(send, 413, self._refusal(), "body_too_large")
                    return {"type": "http.disconnect"}
            return message

        async def watched_send(message) -> None:
            nonlocal started
            if refused:
                return  # answered 413 already
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted_receive, watched_send)


class Deadline:
    """ASGI middleware: a request still unanswered after ``seconds`` is answered 504 at once.

    The work it started is left to finish in its thread (Python cannot stop a thread; the work is
    bounded by the generation work limit) and whatever it answers later is dropped.
    """

    def __init__(self, app, seconds: float = API_REQUEST_SECONDS) -> None:
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = timed_out = False

        async def watched_send(message) -> None:
            nonlocal started
            if timed_out:
                return  # the client was answered 504 already
            started = started or message["type"] == "http.response.start"
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, watched_send))
        done, _ = await asyncio.wait({task}, timeout=self.seconds)
        if task in done:
            task.result()  # its exception, if any, goes on to the server as before
            return
        timed_out = True
        task.add_done_callback(lambda finished: finished.cancelled() or finished.exception())
        task.cancel()
        if not started:
            await _answer(send, 504, f"the request took longer than {self.seconds:g} s, the API's limit for one "
                                     "request; ask for less (fewer samples or passes, a shorter length) or retry "
                                     "when the server is less busy", "timeout")


def bound_requests(app, request_seconds: float | None = None) -> None:
    """Install both limits on a FastAPI ``app``: the body limit outermost (a body over it is refused before anything
    reads it), then the deadline (``request_seconds``, default :data:`core.config.API_REQUEST_SECONDS`)."""
    app.add_middleware(Deadline, seconds=API_REQUEST_SECONDS if request_seconds is None else request_seconds)
    app.add_middleware(BodyLimit, limit=MAX_API_BODY_BYTES)  # added last: the outermost


def stated_limits() -> dict[str, float]:
    """The request limits ``GET /conditions`` states: ``max_body_bytes`` and ``request_seconds`` (from core.config)."""
    return {"max_body_bytes": MAX_API_BODY_BYTES, "request_seconds": API_REQUEST_SECONDS}
