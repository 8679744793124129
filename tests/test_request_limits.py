"""The API and the command line bounded (issue 25, items 4 and 6-8): one work limit, a body limit, a deadline, safe echoes.

* item 4: the issue's ``generate`` request (100 × 64 chords locked at the end, 4 passes, guidance 5)
  is refused at once with one line on the command line, by the same cost model and limit the API
  uses (:func:`core.generation.locks.request_work`, :data:`core.config.MAX_GENERATION_WORK`);
* item 6: a body over :data:`core.config.MAX_API_BODY_BYTES` is a 413 before it is parsed, and a
  refused input is echoed as a short excerpt, never whole;
* item 7: a request past its deadline is a 504 in JSON, at once;
* item 8: a lone surrogate in a field is a 422 with a safe message, never a 500, and the next
  request is answered.
"""

from __future__ import annotations

import json
import time
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from core.cli import main
from core.conditions import Conditions
from core.config import MAX_API_BODY_BYTES, MAX_ECHOED_CHARS, MAX_GENERATION_WORK, GenerationSettings
from core.errors import InputError
from core.generation.locks import check_request_work, request_work
from core.serving.api import create_app
from tests.tiny_models import saved_tiny_model

ISSUE_REQUEST = ["generate", "--num-samples", "100", "--length", "64", "--lock", "64:C", "--gibbs-passes", "4",
                 "--guidance", "5", "--genre", "jazz"]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_tiny_model(tmp_path_factory.mktemp("hardening-api-model"), seed=1)


@pytest.fixture(scope="module")
def client(model_dir):
    with TestClient(create_app(model_dir)) as test_client:
        yield test_client


# --------------------------------------------------------------------------- 4: one cost model, one limit


def test_the_issues_generate_request_is_refused_at_once_in_one_line(model_dir, capsys) -> None:
    assert main([*ISSUE_REQUEST, "--model", str(model_dir)]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: this request would cost about"), captured.err
    assert f"(limit {MAX_GENERATION_WORK:,})" in lines[0] and captured.out == ""


def test_the_api_refuses_the_same_request_by_the_same_cost(client) -> None:
    body = {"num_samples": 100, "length": 64, "locks": [{"position": 64, "chord": "C"}], "gibbs_passes": 4,
            "guidance": 5, "genre": "jazz"}
    settings = GenerationSettings(num_samples=100, length=64, gibbs_passes=4, guidance=5.0)
    work = request_work(settings, Conditions.parse(genre="jazz"), [63])
    answer = client.post("/generate", json=body)
    assert answer.status_code == 422 and f"{work:,} decoder steps" in answer.text, answer.text
    limits = client.get("/conditions").json()["limits"]
    assert limits["max_lock_work"] == MAX_GENERATION_WORK and limits["max_body_bytes"] == MAX_API_BODY_BYTES


def test_the_generate_pages_path_refuses_it_before_the_model_runs(monkeypatch) -> None:
    """The Generate page draws through core.generation.generate.generate: the same check, before any model is read."""
    import core.generation.generate as generation

    monkeypatch.setattr(generation, "as_generator", lambda model: pytest.fail("the model was loaded"))
    settings = GenerationSettings(num_samples=100, length=64, gibbs_passes=4, guidance=5.0)
    with pytest.raises(InputError, match=f"decoder steps \\(limit {MAX_GENERATION_WORK:,}\\)"):
        generation.generate(None, Conditions.parse(genre="jazz"), settings, locks={63: "C"})


def test_a_request_within_the_limit_passes_the_check() -> None:
    settings = GenerationSettings(num_samples=10, length=16)
    assert check_request_work(settings, Conditions(), [15]) == request_work(settings, Conditions(), [15])
    with pytest.raises(InputError, match="decoder steps"):
        check_request_work(GenerationSettings(num_samples=100, length=64, gibbs_passes=4), Conditions(), [63])


# --------------------------------------------------------------------------- 6: body size, short echoes


def test_a_body_over_the_limit_is_413_before_it_is_parsed(client, monkeypatch) -> None:
    import json as json_module

    parsed: list[int] = []
    real_loads = json_module.loads
    monkeypatch.setattr(json_module, "loads", lambda text, *a, **k: parsed.append(len(text)) or real_loads(text, *a, **k))
    body = b'{"key": "' + b"C" * (MAX_API_BODY_BYTES + 10) + b'"}'
    answer = client.post("/generate", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413, answer.text[:300]
    assert "over 1,000,000 bytes" in answer.json()["detail"][0]["msg"]
    assert not [size for size in parsed if size > MAX_API_BODY_BYTES]  # never parsed
    assert client.get("/health").status_code == 200


def test_a_refused_input_is_echoed_as_a_short_excerpt(client) -> None:
    answer = client.post("/generate", json={"key": "C" * (MAX_API_BODY_BYTES // 2)})
    assert answer.status_code == 422
    assert len(answer.content) < 2_000, f"{len(answer.content):,} bytes answered to a 500 KB field"
    assert "C" * MAX_ECHOED_CHARS in answer.text and "C" * (MAX_ECHOED_CHARS + 1) not in answer.text


# --------------------------------------------------------------------------- 7: a deadline per request


def test_a_request_past_its_deadline_is_a_504_at_once(model_dir, monkeypatch) -> None:
    import core.serving.api

    def slow(generator, request):
        time.sleep(3)
        raise AssertionError("answered after the deadline")

    monkeypatch.setattr(core.serving.api, "generated", slow)
    with TestClient(create_app(model_dir, request_seconds=0.5)) as slow_client:
        answer = slow_client.post("/generate", json={"length": 4})
        assert answer.status_code == 504, answer.text
        assert "longer than 0.5 s" in answer.json()["detail"][0]["msg"]
        assert slow_client.get("/health").status_code == 200


# --------------------------------------------------------------------------- 8: input that cannot be encoded


@pytest.mark.parametrize(("path", "body"), [
    ("/score", b'{"progressions": ["C G"], "key": "\\ud800"}'),
    ("/generate", b'{"key": "\\udfff", "length": 4}'),
    ("/next", b'{"chords": ["C"], "genre": "\\ud800\\ud800"}'),
    ("/score", b'{"progressions": ["C \\ud800 G"]}'),
    ("/generate", b'{"\\ud800": 1}'),
])
def test_a_lone_surrogate_is_a_422_and_the_next_request_works(client, path: str, body: bytes) -> None:
    answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422, answer.text[:300]
    assert json.loads(answer.content.decode("utf-8"))["detail"]  # sent, and readable: the character as its escape
    assert client.post("/score", json={"progressions": ["C G"]}).status_code == 200
