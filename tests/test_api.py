"""The HTTP API: happy paths, every validation refusal as a 422, and a schemathesis run against a live server.

The app serves a tiny random-weight model. The property-based run starts uvicorn in a thread on
a free loopback port and sends schema-generated requests (valid and invalid) to every endpoint;
no response may be a server error, and responses must match the documented schemas.
"""

from __future__ import annotations

import json
import math
import socket
import threading
import time
import warnings

import pytest
from starlette.exceptions import HTTPException as StarletteHTTPException

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" (httpx works)
    from fastapi.testclient import TestClient

import schemathesis
from hypothesis import HealthCheck, settings

from core.chords import parse_symbol
from core.cli import main
from core.conditions import GENRES, KEYS, MOODS
from core.config import MAX_CHORDS
from core.numerals import in_scale
from core.serving.admission import HEAVY_WORK, RETRY_AFTER_S, HeavySlots
from core.serving.api import create_app
from core.serving.schemas import MAX_LOCK_WORK, MAX_PROGRESSIONS, GenerateRequest, NextRequest, ScoreRequest
from tests.tiny_models import saved_tiny_model

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_tiny_model(tmp_path_factory.mktemp("api-model"), seed=1, end_bias=1.0)


@pytest.fixture(scope="module")
def client(model_dir):
    with TestClient(create_app(model_dir)) as test_client:
        yield test_client


# --- happy paths -----------------------------------------------------------------------------------


def test_health_and_conditions(client, model_dir):
    from core.generation.identity import model_identity

    health = client.get("/health").json()
    identity = model_identity(model_dir)
    assert health["status"] == "ok" and health["model"] == identity.name and health["version"] == identity.digest
    assert str(model_dir.parent) not in str(health) and "/" not in str(health)  # no filesystem path
    listed = client.get("/conditions").json()
    assert listed["genres"] == list(GENRES) and listed["moods"] == list(MOODS) and listed["keys"] == list(KEYS)
    assert "Am7" in listed["vocabulary"] and listed["limits"]["max_samples"] == 100


def test_generate_is_reproducible_and_honours_seeds_and_locks(client):
    body = {"genre": "jazz", "key": "Bb", "length": 6, "num_samples": 3, "random_seed": 4, "seed_chords": ["Bbmaj7"],
            "locks": [{"position": 4, "chord": "F7"}], "temperature": 0.8, "top_k": 20, "top_p": 0.95}
    first = client.post("/generate", json=body)
    assert first.status_code == 200, first.text
    samples = first.json()["samples"]
    assert len(samples) == 3 and client.post("/generate", json=body).json()["samples"] == samples
    for sample in samples:
        assert sample["chords"][0] == "Bbmaj7" and sample["chords"][3] == "F7" and sample["locked"] == [1, 4]
        assert sample["conditions"] == {"genre": "jazz", "mood": "unspecified", "key": "Bb major", "scale_type": "major"}
        assert len(sample["probabilities"]) == len(sample["chords"]) == len(sample["roman"])


def test_generate_defaults_and_in_key(client):
    assert len(client.post("/generate", json={}).json()["samples"]) == 1
    response = client.post("/generate", json={"key": "C", "in_key": True, "num_samples": 5, "random_seed": 0})
    assert response.status_code == 200
    chords = [parse_symbol(c) for s in response.json()["samples"] for c in s["chords"]]
    assert chords and all(in_scale(c, 0, "major") for c in chords)


def test_score_with_rank(client):
    response = client.post("/score", json={"progressions": ["C G Am F", "Am | Dm, E7 Am"], "ends": True, "rank": "genre"})
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert results[1]["chords"] == ["Am", "Dm", "E7", "Am"]
    for result in results:
        assert 0 < result["end_probability"] < 1 and result["perplexity"] > 1
        assert set(result["posterior"]) == set(GENRES) - {"unspecified"}
        assert abs(sum(result["posterior"].values()) - 1) < 1e-9


def test_openapi_schema_documents_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/generate", "/next", "/score", "/song", "/conditions", "/health"}
    request = schema["components"]["schemas"]["GenerateRequest"]["properties"]
    assert request["num_samples"]["maximum"] == 100 and request["length"]["maximum"] == 64


# --- refusals ----------------------------------------------------------------------------------------

BAD_GENERATE = [
    ({"genre": "polka"}, "genre"),
    ({"mood": "angry"}, "mood"),
    ({"key": "H minor"}, "unknown key"),
    ({"key": "Am", "scale_type": "major"}, "is minor but scale type is major"),
    ({"scale_type": "dorian"}, "scale_type"),
    ({"length": 0}, "length"),
    ({"length": 65}, "length"),
    ({"length": "eight"}, "length"),
    ({"num_samples": 0}, "num_samples"),
    ({"num_samples": 101}, "num_samples"),
    ({"temperature": 0}, "temperature"),
    ({"temperature": 5.5}, "temperature"),
    ({"top_k": -1}, "top_k"),
    ({"top_p": 0}, "top_p"),
    ({"top_p": 1.5}, "top_p"),
    ({"random_seed": -1}, "random_seed"),
    ({"gibbs_passes": 9}, "gibbs_passes"),
    ({"seed_chords": ["C", "H7"]}, "unknown chord symbol"),
    ({"seed_chords": ["C"] * 9, "length": 8}, "do not fit"),
    ({"locks": [{"position": 0, "chord": "C"}]}, "position"),
    ({"locks": [{"position": 3, "chord": "Xyz"}]}, "unknown chord symbol"),
    ({"locks": [{"position": 9, "chord": "C"}], "length": 8}, "outside the progression"),
    ({"locks": [{"position": 2, "chord": "C"}, {"position": 2, "chord": "G"}]}, "same position"),
    ({"seed_chords": ["C"], "locks": [{"position": 1, "chord": "G"}]}, "contradicts seed chord"),
    ({"in_key": True}, "needs a key"),
    ({"num_samples": 100, "length": 64, "locks": [{"position": 64, "chord": "C"}]}, f"{MAX_LOCK_WORK:,}"),
    ({"colour": "blue"}, "colour"),
]


@pytest.mark.parametrize(("body", "reason"), BAD_GENERATE)
def test_generate_refusals_are_422_with_the_reason(client, body, reason):
    response = client.post("/generate", json=body)
    assert response.status_code == 422, response.text
    assert reason in response.text


BAD_SCORE = [
    ({}, "progressions"),
    ({"progressions": []}, "progressions"),
    ({"progressions": ["C G", "  "]}, "empty progression"),
    ({"progressions": ["C Q7"]}, "unknown chord symbol"),
    ({"progressions": [" ".join(["C"] * 65)]}, "at most 64 chords"),
    ({"progressions": ["C"] * 101}, "progressions"),
    ({"progressions": ["C G"], "rank": "key"}, "rank"),
    ({"progressions": ["C G"], "genre": "metal"}, "genre"),
    ({"progressions": "C G"}, "progressions"),
]


def test_a_body_that_is_not_json_is_422(client):
    for content in (b"{not json", b"\xff\xfe\x00garbage"):
        response = client.post("/generate", content=content, headers={"content-type": "application/json"})
        assert response.status_code == 422, response.text


@pytest.mark.parametrize(("body", "reason"), BAD_SCORE)
def test_score_refusals_are_422_with_the_reason(client, body, reason):
    response = client.post("/score", json=body)
    assert response.status_code == 422, response.text
    assert reason in response.text


def test_input_error_from_core_is_422(client, monkeypatch):
    import core.generation.score
    from core.errors import InputError

    def refuse(*args, **kwargs):
        raise InputError("raised inside core")

    monkeypatch.setattr(core.generation.score, "score_progressions", refuse)
    response = client.post("/score", json={"progressions": ["C G"]})
    assert response.status_code == 422 and response.json()["detail"][0]["msg"] == "raised inside core"


def test_serve_refuses_a_missing_model(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "missing"), "--port", "8"]) == 2
    assert "no model.keras" in capsys.readouterr().err


# --- bounded work ------------------------------------------------------------------------------------


def test_the_cost_budget_names_the_request_and_counts_guidance(client):
    locked = {"num_samples": 5, "length": 64, "locks": [{"position": 64, "chord": "C"}], "guidance": 0}
    guided = {**locked, "genre": "jazz", "guidance": 1.0}
    assert GenerateRequest(**guided).work() == 2 * GenerateRequest(**locked).work() <= MAX_LOCK_WORK
    assert GenerateRequest(**{**locked, "genre": "jazz"}).work() == GenerateRequest(**locked).work()  # weight 0: one chain
    response = client.post("/generate", json={**guided, "num_samples": 30})
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert "30 samples x 64 chords, locks up to position 64" in message and f"limit {MAX_LOCK_WORK:,}" in message


def test_score_and_next_stay_within_the_budget_at_their_limits():
    longest = " ".join(["C", "G"] * (MAX_CHORDS // 2))
    score = ScoreRequest(progressions=[longest] * MAX_PROGRESSIONS, rank="genre")
    gap = NextRequest(chords=["C"] * (MAX_CHORDS // 2), followed_by=["G"] * (MAX_CHORDS // 2 - 1), genre="pop",
                      guidance=1.0)
    assert HEAVY_WORK < score.work() <= MAX_LOCK_WORK and gap.work() <= MAX_LOCK_WORK
    assert ScoreRequest(progressions=["C G Am F"]).work() <= HEAVY_WORK


def test_heavy_requests_beyond_the_free_slots_get_503_and_light_ones_still_run(model_dir):
    heavy = {"num_samples": 20, "length": 32, "locks": [{"position": 32, "chord": "C"}]}
    assert GenerateRequest(**heavy).work() > HEAVY_WORK
    app = create_app(model_dir, heavy_slots=1, heavy_queue=0)
    with TestClient(app) as test_client:
        health = test_client.get("/health").json()
        assert health["heavy_slots"] == 1 and health["heavy_queue"] == 0
        with app.state.heavy_slots.taken(HEAVY_WORK + 1):  # the one slot is busy
            refused = test_client.post("/generate", json=heavy)
            assert refused.status_code == 503 and refused.headers["retry-after"] == str(RETRY_AFTER_S)
            assert "busy" in refused.json()["detail"]
            assert test_client.post("/generate", json={"num_samples": 2, "length": 8}).status_code == 200
            assert test_client.post("/score", json={"progressions": ["C G Am F"]}).status_code == 200
        assert test_client.post("/generate", json=heavy).status_code == 200  # the slot is free again


def test_a_heavy_request_waits_in_line_for_a_slot_and_one_more_is_refused():
    slots = HeavySlots(1, queue=1)
    order: list[str] = []
    with slots.taken(HEAVY_WORK + 1):  # the one slot is busy
        waiter = threading.Thread(target=lambda: _run_in(slots, order, "queued"))
        waiter.start()
        deadline = time.monotonic() + 30
        while slots.waiting < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert slots.waiting == 1
        with pytest.raises(StarletteHTTPException) as refused:  # the queue (one place) is full
            with slots.taken(HEAVY_WORK + 1):
                pass
        assert refused.value.status_code == 503 and refused.value.headers["Retry-After"] == str(RETRY_AFTER_S)
        with slots.taken(HEAVY_WORK):  # light work never waits
            order.append("light")
        order.append("first done")
    waiter.join(timeout=30)
    assert order == ["light", "first done", "queued"] and slots.waiting == 0


def _run_in(slots, order: list[str], label: str) -> None:
    with slots.taken(HEAVY_WORK + 1):
        order.append(label)


def test_non_finite_numbers_in_any_field_are_422_in_json(client):
    for field in ("length", "num_samples", "temperature", "top_k", "top_p", "random_seed", "gibbs_passes", "guidance"):
        for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
            response = client.post("/generate", content=f'{{"{field}": {literal}}}',
                                   headers={"content-type": "application/json"})
            assert response.status_code == 422, (field, literal, response.text)
            json.loads(response.text, parse_constant=_refuse_constant)  # strict JSON back
    response = client.post("/generate", content='{"locks": [{"position": NaN, "chord": "C"}]}',
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    response = client.post("/next", content='{"top": Infinity}', headers={"content-type": "application/json"})
    assert response.status_code == 422


def _refuse_constant(name: str):
    raise AssertionError(f"the response carries {name}, which is not JSON")


# --- property-based run against the live server ----------------------------------------------------


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(model_dir):
    """uvicorn serving the app in a thread on a free loopback port; yields its base URL."""
    import uvicorn

    port = _free_loopback_port()
    server = uvicorn.Server(uvicorn.Config(create_app(model_dir), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def api_schema(live_server):
    return schemathesis.openapi.from_url(f"{live_server}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_live_server_never_fails(case):
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, response_schema_conformance], timeout=60)


def _non_finite(value, counter: list[int]):
    """``value`` with every number (not booleans) replaced by NaN, +inf or -inf in turn; ``counter[0]`` counts them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        counter[0] += 1
        return (math.nan, math.inf, -math.inf)[counter[0] % 3]
    if isinstance(value, dict):
        return {key: _non_finite(item, counter) for key, item in value.items()}
    if isinstance(value, list):
        return [_non_finite(item, counter) for item in value]
    return value


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_live_server_refuses_non_finite_numbers_with_json(case):
    """The generated bodies with each number made NaN or infinite: 422 (never 500), and the reply is strict JSON."""
    counter = [0]
    extra = {}
    if isinstance(case.body, dict | list):  # sent as written (NaN, Infinity); the client library itself refuses them
        extra = {"data": json.dumps(_non_finite(case.body, counter)), "headers": {"content-type": "application/json"}}
    response = case.call(timeout=60, **extra)
    assert response.status_code < 500, response.text
    if counter[0] and case.method.upper() == case.operation.method.upper():  # (not a wrong-method probe: 405)
        assert response.status_code == 422, (case.body, response.text)
    json.loads(response.text, parse_constant=_refuse_constant)
