"""Hostile request bodies against a live API server (issue 25, items 6-8): never a 500, never a dropped connection.

A corpus of bodies no schema generator draws: over the body-size limit (with and without a
``Content-Length``), lone surrogates and other text that cannot be encoded (as JSON escapes and as
raw bytes), bytes that are not UTF-8, JSON nested 100,000 deep, a 10 MB chord symbol inside the
limit's cousin, huge numbers. Each goes to every POST endpoint of a uvicorn server on a loopback
port, over one keep-alive connection: every answer is a 413 or a 422 in JSON, short (never the
whole input echoed), and the next request on the same connection is answered as usual.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time

import pytest

from core.config import MAX_API_BODY_BYTES, MAX_ECHOED_CHARS
from core.serving.api import create_app
from tests.tiny_models import saved_tiny_model

ENDPOINTS = ("/generate", "/score", "/next")
OVER = MAX_API_BODY_BYTES + 1


def _body(endpoint: str, **fields) -> bytes:
    base = {"/generate": {"length": 4}, "/score": {"progressions": ["C G"]}, "/next": {"chords": ["C"]}}[endpoint]
    return json.dumps({**base, **fields}).encode()


#: name -> (body bytes for an endpoint, the statuses accepted); each is a refusal, never a 200 or a 5xx.
CORPUS = {
    "oversized JSON": (lambda e: _body(e, key="C" + " " * OVER), {413}),
    "oversized garbage": (lambda e: b"\xff" * OVER, {413}),
    "lone surrogate escaped": (lambda e: _body(e).replace(b"{", b'{"key": "\\ud800", ', 1), {422}),
    "lone surrogate in a list": (lambda e: _body(e).replace(b"{", b'{"extra": ["\\udfff\\ud800"], ', 1), {422}),
    "raw surrogate bytes": (lambda e: _body(e).replace(b"{", b'{"key": "\xed\xa0\x80", ', 1), {422}),
    "not UTF-8": (lambda e: b'{"key": "\xff\xfe"}', {422}),
    "nested 100,000 deep": (lambda e: b"[" * 100_000 + b"]" * 100_000, {422}),
    "near the limit, all one symbol": (lambda e: _body(e, key="x" * (MAX_API_BODY_BYTES - 100)), {422}),
    "a huge number": (lambda e: _body(e, length=int("9" * 4000)), {422}),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """uvicorn serving a tiny model in a thread on a loopback port; yields the port."""
    import uvicorn

    model = saved_tiny_model(tmp_path_factory.mktemp("fuzz-api-model"), seed=1)
    port = _free_port()
    running = uvicorn.Server(uvicorn.Config(create_app(model), host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not running.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield port
    running.should_exit = True
    thread.join(timeout=10)


def _post(connection: http.client.HTTPConnection, path: str, body: bytes, chunked: bool = False) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/json"}
    if len(body) > MAX_API_BODY_BYTES and not chunked:  # the headers alone: the answer must come before the body
        connection.putrequest("POST", path)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders()
        answer = connection.getresponse()
        return answer.status, answer.read()
    if chunked:
        connection.request("POST", path, body=iter([body[i:i + 65536] for i in range(0, len(body), 65536)]),
                           headers={**headers, "Transfer-Encoding": "chunked"}, encode_chunked=True)
    else:
        connection.request("POST", path, body=body, headers=headers)
    answer = connection.getresponse()
    return answer.status, answer.read()


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("name", list(CORPUS))
def test_hostile_bodies_are_refused_and_the_connection_lives(server: int, endpoint: str, name: str) -> None:
    make, accepted = CORPUS[name]
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=120)
    try:
        status, content = _post(connection, endpoint, make(endpoint))
        assert status in accepted, (status, content[:300])
        detail = json.loads(content)["detail"]
        assert len(content) < 4 * MAX_ECHOED_CHARS + 2000, f"{len(content)} bytes answered"  # an excerpt, never it all
        assert detail
        if status == 413:
            connection.close()  # the server may close after refusing a body it did not read
            connection = http.client.HTTPConnection("127.0.0.1", server, timeout=120)
        status, content = _post(connection, endpoint, _body(endpoint))  # the same connection when it was kept
        assert status == 200, content[:300]
    finally:
        connection.close()


def test_an_oversized_chunked_body_is_refused_without_a_length(server: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=120)
    try:
        try:
            status, content = _post(connection, "/generate", b" " * (3 * MAX_API_BODY_BYTES) + b"{}", chunked=True)
        except (BrokenPipeError, ConnectionResetError):
            return  # refused mid-upload: the server stopped reading, as it should
        assert status == 413, content[:300]
    finally:
        connection.close()
