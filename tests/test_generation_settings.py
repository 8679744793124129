"""One GenerationSettings per request: each surface checks a setting once, with one message, and hands the object inward.

The command line, the API and the Generate page's address each build one
:class:`core.config.GenerationSettings`; :func:`core.generation.generate.generate` hands it to the
step rule as it is, and its defaults are the library's defaults too.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from core.cli import main
from core.conditions import Conditions
from core.config import DEFAULT_GUIDANCE, DEFAULT_TEMPERATURE, DEFAULT_TOP_P, GenerationSettings
from core.errors import InputError
from core.generation import generate as generate_module
from core.generation.generate import generate
from core.generation.loading import load_generator
from core.serving.api import create_app
from studio.generate_url import PageLink
from studio.page_settings import PageSettings
from tests.tiny_models import saved_tiny_model

#: the part of the refusal every surface gives for temperature 0.01 (the value is quoted as each surface read it).
TEMPERATURE_REFUSAL = "temperature must be a number from 0.05 to 5, got "


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> str:
    return str(saved_tiny_model(tmp_path_factory.mktemp("settings-model")))


@pytest.fixture
def rules(monkeypatch) -> list[GenerationSettings]:
    """Every settings object that reaches the step rule, in order."""
    reached: list[GenerationSettings] = []
    original = generate_module.step_rule

    def spy(conditions, settings, typed):
        reached.append(settings)
        return original(conditions, settings, typed)

    monkeypatch.setattr(generate_module, "step_rule", spy)
    return reached


def test_the_library_defaults_are_the_surfaces_defaults(model_dir, rules, capsys) -> None:
    generate(load_generator(model_dir), Conditions.parse(genre="pop"))
    assert main(["generate", "--model", model_dir, "--genre", "pop", "--format", "json"]) == 0
    capsys.readouterr()
    with TestClient(create_app(model_dir)) as client:
        assert client.post("/generate", json={"genre": "pop"}).status_code == 200
    library, cli, api = rules
    assert library == cli == api == GenerationSettings()
    assert (library.temperature, library.top_p, library.guidance) == (DEFAULT_TEMPERATURE, DEFAULT_TOP_P,
                                                                      DEFAULT_GUIDANCE)
    page = PageSettings().settings()  # the page shows three progressions and always writes a seed
    assert replace(page, num_samples=1, random_seed=None) == library


def test_an_invalid_value_is_refused_at_each_surface_with_the_same_message(model_dir, capsys) -> None:
    with pytest.raises(InputError, match=TEMPERATURE_REFUSAL):
        GenerationSettings(temperature=0.01)
    assert main(["generate", "--model", model_dir, "--temperature", "0.01"]) == 2
    assert TEMPERATURE_REFUSAL + "'0.01'" in capsys.readouterr().err
    with TestClient(create_app(model_dir)) as client:
        response = client.post("/generate", json={"temperature": 0.01})
    assert response.status_code == 422
    assert TEMPERATURE_REFUSAL + "0.01" in response.json()["detail"][0]["msg"]
    link, problems = PageLink.from_query({"temperature": "0.01", "seed": "1"})
    assert link.request.temperature == DEFAULT_TEMPERATURE
    assert any(TEMPERATURE_REFUSAL + "'0.01'" in problem for problem in problems), problems


def test_the_validated_object_reaches_the_step_rule_unchanged(model_dir, rules, capsys) -> None:
    settings = GenerationSettings(length=5, num_samples=2, temperature=0.7, top_k=4, top_p=0.8, random_seed=3,
                                  guidance=2.0)
    generate(load_generator(model_dir), Conditions.parse(genre="jazz"), settings)
    assert rules[-1] is settings
    args = ["generate", "--model", model_dir, "--length", "5", "--num-samples", "2", "--temperature", "0.7",
            "--top-k", "4", "--top-p", "0.8", "--random-seed", "3", "--guidance", "2", "--format", "json"]
    assert main(args) == 0
    capsys.readouterr()
    with TestClient(create_app(model_dir)) as client:
        body = {"length": 5, "num_samples": 2, "temperature": 0.7, "top_k": 4, "top_p": 0.8, "random_seed": 3,
                "guidance": 2}
        assert client.post("/generate", json=body).status_code == 200
    link, _ = PageLink.from_query({"length": "5", "samples": "2", "temperature": "0.7", "top_k": "4", "top_p": "0.8",
                                   "seed": "3", "guidance": "2"})
    assert rules[1:] == [settings, settings] and link.request.settings() == settings


def test_a_settings_object_is_checked_when_built_and_cannot_change_after() -> None:
    settings = GenerationSettings(length="6", temperature="0.5")  # text, as a surface reads it, is converted once
    assert (settings.length, settings.temperature) == (6, 0.5)
    with pytest.raises(AttributeError):
        settings.temperature = 9.0  # type: ignore[misc]
    with pytest.raises(InputError, match="top-p must be a number from 0.01 to 1"):
        replace(settings, top_p=2.0)
