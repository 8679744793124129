"""The HTTP API shared: the API key (off on 127.0.0.1, required elsewhere unless opened), CORS closed, /score's cost.

The app serves a tiny random-weight model; secrets live in a private file (``CHORDSMITH_SECRETS``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" (httpx works)
    from fastapi.testclient import TestClient

from core import credentials
from core.cli import main
from core.errors import InputError
from core.serving.admission import HEAVY_WORK
from core.serving.api import create_app
from core.serving.api_access import key_required, protected
from core.serving.schemas import MAX_LOCK_WORK, MAX_PROGRESSIONS, ScoreRequest
from tests.secrets_support import private_secrets
from tests.tiny_models import saved_tiny_model

pytestmark = pytest.mark.slow
LONGEST = " ".join(["C", "G"] * 32)  # 64 chords


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_tiny_model(tmp_path_factory.mktemp("api-access-model"), seed=1, end_bias=1.0)


@pytest.fixture
def secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return private_secrets(tmp_path, monkeypatch)


def test_the_key_is_off_locally_required_elsewhere_and_opened_only_on_purpose() -> None:
    assert key_required("127.0.0.1", open_api=False, key_set=False) is False
    assert key_required("127.0.0.1", open_api=False, key_set=True) is True
    assert key_required("0.0.0.0", open_api=False, key_set=True) is True
    assert key_required("0.0.0.0", open_api=True, key_set=True) is False
    with pytest.raises(InputError, match="new-api-key"):
        key_required("0.0.0.0", open_api=False, key_set=False)


def test_serve_on_a_shared_address_without_a_key_refuses_to_start(secrets: Path, capsys) -> None:
    assert main(["serve", "--host", "0.0.0.0", "--port", "1"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: --host 0.0.0.0 lets other machines in") and "--open" in error


def test_requests_without_the_key_are_401_and_health_stays_open(model_dir, secrets: Path) -> None:
    key = credentials.new_api_key()
    credentials.store_hash(credentials.API_KEY_KEY, credentials.key_hashed(key))
    body = {"num_samples": 1, "length": 4}
    with TestClient(protected(create_app(model_dir), "0.0.0.0")) as client:
        assert client.get("/health").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-API-Key": key + "x"}):
            refused = client.post("/generate", json=body, headers=headers)
            assert refused.status_code == 401 and "new-api-key" in refused.json()["detail"]
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/conditions").status_code == 401
        assert client.post("/generate", json=body, headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert client.post("/generate", json=body, headers={"X-API-Key": key}).status_code == 200


def test_cors_is_closed_unless_an_origin_is_named(model_dir, secrets: Path) -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    with TestClient(protected(create_app(model_dir), "127.0.0.1")) as client:
        answer = client.options("/generate", headers=preflight)
        assert "access-control-allow-origin" not in answer.headers
        assert "access-control-allow-origin" not in client.get("/health", headers=preflight).headers
    named = protected(create_app(model_dir), "127.0.0.1", cors_origins=["https://chords.example.org"])
    with TestClient(named) as client:
        allowed = client.options("/generate", headers={**preflight, "Origin": "https://chords.example.org"})
        assert allowed.headers["access-control-allow-origin"] == "https://chords.example.org"
        assert "access-control-allow-origin" not in client.options("/generate", headers=preflight).headers


def test_a_big_score_is_heavy_and_waits_for_admission(model_dir) -> None:
    big = ScoreRequest(progressions=[LONGEST] * MAX_PROGRESSIONS)
    assert big.work() > HEAVY_WORK  # 100 x 64 chords: seconds of a core, not light work
    assert ScoreRequest(progressions=[LONGEST] * MAX_PROGRESSIONS, rank="genre").work() <= MAX_LOCK_WORK
    assert ScoreRequest(progressions=["C G Am F"]).work() <= HEAVY_WORK
    app = create_app(model_dir, heavy_slots=1, heavy_queue=0)
    with TestClient(app) as client:
        with app.state.heavy_slots.taken(HEAVY_WORK + 1):  # the one slot is busy
            refused = client.post("/score", json={"progressions": [LONGEST] * MAX_PROGRESSIONS})
            assert refused.status_code == 503 and "retry-after" in refused.headers
            assert client.post("/score", json={"progressions": ["C G Am F"]}).status_code == 200
