"""``POST /song``: sections with labels, chords and durations; the same seed the same song; refusals are 422."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

from core.config import MAX_SONG_SECTIONS  # noqa: E402
from core.serving.api import create_app  # noqa: E402
from tests.tiny_models import saved_tiny_model  # noqa: E402

FORM = "Intro Verse Chorus Verse Chorus Bridge Chorus Outro"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with TestClient(create_app(saved_tiny_model(tmp_path_factory.mktemp("song-api")))) as test_client:
        yield test_client


def test_song_has_sections_with_labels_chords_and_durations(client) -> None:
    body = {"form": FORM, "genre": "pop", "key": "G", "bars": "4,8,8,8,8,8,8,4", "time_signature": "6/8",
            "tempo": 90, "random_seed": 9, "temperature": 1.0}
    response = client.post("/song", json=body)
    assert response.status_code == 200, response.text
    song = response.json()
    assert song["key"] == "G major" and song["time_signature"] == "6/8" and song["tempo"] == 90
    assert [s["label"] for s in song["sections"]] == ["intro", "verse", "chorus", "verse", "chorus", "bridge",
                                                      "chorus", "outro"]
    for section in song["sections"]:
        assert len(section["chords"]) == len(section["durations"]) >= 1
        assert sum(section["durations"]) == 6 * section["bars"]
    assert song["sections"][1]["chords"] == song["sections"][3]["chords"]
    assert client.post("/song", json=body).json() == song


@pytest.mark.parametrize(("body", "message"), [
    ({"form": "Intro Chorsu"}, "unknown section name 'Chorsu'"),
    ({"form": " ".join(["A"] * (MAX_SONG_SECTIONS + 1))}, f"at most {MAX_SONG_SECTIONS}"),
    ({"form": "Verse Chorus", "bars": "8"}, "1 value(s) given for 2 section(s)"),
    ({"time_signature": "7/8"}, "7/8"),
    ({"tempo": 10}, "tempo"),
    ({"length": 8}, "length"),
    ({"in_key": True}, "in_key needs a key"),
])
def test_song_refusals_are_422_naming_the_problem(client, body: dict, message: str) -> None:
    response = client.post("/song", json=body)
    assert response.status_code == 422, response.text
    assert message in response.text
