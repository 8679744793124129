"""Every generation and training setting: the CLI, the API and the pages accept and refuse the same values.

For each setting of :mod:`core.config` the cases are built from its declared limits: each bound
itself and the nearest value beyond it (the next float, or the next whole number), NaN, both
infinities, text where a number belongs, a fraction where a whole number belongs, an unknown
choice, run names that would escape their folder. Every case is put to every surface that
offers the setting, and each must give the verdict the limits imply:

* generation: ``python -m core generate`` (the real parser), ``POST /generate`` (FastAPI
  TestClient on a tiny model: 200 or 422) and the Generate page's URL reading;
* training: ``python -m core train`` with the setting's flag and through ``--config FILE`` (the
  real parser and the config it builds, as ``core.cli.main`` does before training), and the
  Training form's validation (:meth:`TrainConfig.from_values`).

Nothing trains; the API's accepted requests sample from a tiny random-weight model.
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" (httpx works)
    from fastapi.testclient import TestClient

from core.cli import build_parser, main
from core.cli.setting_flags import given_settings
from core.cli.train import config_from_args
from core.config import GenerationSettings, ModelConfig, Setting, TrainConfig
from core.errors import InputError
from core.run_files import CONFIG_FILE
from core.serving.api import create_app
from studio.generate_url import read_settings
from studio.page_settings import URL_SETTINGS
from tests.tiny_models import saved_tiny_model

#: what every generation case is sent with: in_key needs a key (on every surface alike).
GENERATION_BASE = {"key": "C"}
#: what a training setting's cases are sent with, where another setting must be set for it to apply.
TRAINING_PREREQUISITES: dict[str, dict[str, Any]] = {"cpu_replicas": {"strategy": "mirrored"},
                                                     "freeze_embeddings": {"init_from": "base-run"}}


def next_float(value: float, direction: float) -> float:
    return math.nextafter(float(value), direction)


def boundary_cases(spec: Setting) -> Iterator[tuple[Any, bool]]:
    """(value, accepted?) pairs for one setting, from its declared kind and limits."""
    if spec.kind is bool:
        yield from ((True, True), (False, True), ("maybe", False), (2, False))
        return
    if spec.choices:
        yield from ((choice, True) for choice in spec.choices)
        yield from (("no-such-" + spec.name, False), (3, False))
        return
    if spec.kind is str:  # free text, or a name with a pattern (a run name must never leave its folder)
        yield from (("a", True), ("a" * 64, True))
        if spec.pattern is not None:
            yield from (("a" * 65, False), ("..", False), (".", False), ("a/b", False), ("a\\b", False), ("a:b", False),
                        ("a b", False), ("-a", False))
        return
    whole = spec.kind is int
    if spec.low is not None:
        inside, outside = spec.low, (spec.low - 1 if whole else next_float(spec.low, -math.inf))
        if spec.low_open:
            inside, outside = (spec.low + 1 if whole else next_float(spec.low, math.inf)), spec.low
        yield spec.kind(inside), True
        if spec.zero_is_none:  # 0 means "none": accepted; below it is refused
            yield spec.kind(0), True
            outside = -1 if whole else next_float(0.0, -math.inf)
        yield spec.kind(outside), False
    if spec.high is not None:
        inside, outside = spec.high, (spec.high + 1 if whole else next_float(spec.high, math.inf))
        if spec.high_open:
            inside, outside = (spec.high - 1 if whole else next_float(spec.high, -math.inf)), spec.high
        yield spec.kind(inside), True
        yield spec.kind(outside), False
    yield from ((math.nan, False), (math.inf, False), (-math.inf, False), ("abc", False))
    if whole:
        yield (spec.low if spec.low is not None else 0) + 0.5, False


def as_text(value: Any) -> str:
    """A value as typed on the command line or in a URL."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def cases(config: type, names=None) -> list:
    return [pytest.param(name, value, accepted, id=f"{name}={as_text(value)[:20]}")
            for name, spec in config.settings().items() if names is None or name in names
            for value, accepted in boundary_cases(spec)]


def parse(argv: list[str], capsys: pytest.CaptureFixture) -> argparse.Namespace | None:
    """The real parser's namespace, or ``None`` when it refuses (status 2, one ``error:`` line)."""
    try:
        return build_parser().parse_args(argv)
    except SystemExit as exit_:
        err = capsys.readouterr().err.strip()
        assert exit_.code == 2 and len(err.splitlines()) == 1 and err.startswith("error: "), err
        return None


# --------------------------------------------------------------------------- generation


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    with TestClient(create_app(saved_tiny_model(tmp_path_factory.mktemp("boundary-model")))) as test_client:
        yield test_client


def cli_generate_accepts(name: str, value: Any, capsys) -> bool:
    spec = GenerationSettings.settings()[name]
    if spec.kind is bool:  # a switch: present sets it, it takes no value
        args = parse(["generate", spec.cli_flags[0], f"--key={GENERATION_BASE['key']}"], capsys)
        assert args is not None and given_settings(args, GenerationSettings) == {name: not spec.default}
        return isinstance(value, bool)  # true/false are what the switch expresses; other values cannot be typed
    args = parse(["generate", f"{spec.cli_flags[0]}={as_text(value)}"], capsys)
    if args is None:
        return False
    GenerationSettings(**given_settings(args, GenerationSettings)).validate()
    return True


def api_accepts(name: str, value: Any, client: TestClient) -> bool:
    body = json.dumps({**GENERATION_BASE, name: value})  # NaN and infinities as JavaScript writes them
    response = client.post("/generate", content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 422), response.text  # never a 500, whatever the value
    if response.status_code == 422:
        assert name in response.text, response.text  # the refusal names the setting
    return response.status_code == 200


def page_accepts(name: str, value: Any) -> bool | None:
    """The Generate page's reading of the value from its URL; ``None`` when the page has no such setting."""
    query_name = next((q for q, setting in URL_SETTINGS.items() if setting == name), None)
    if query_name is None:
        return None
    request, problems = read_settings({**GENERATION_BASE, query_name: as_text(value)}, default_seed=1)
    refused = [p for p in problems if p.startswith(f"{query_name}=")]
    if refused:
        without = read_settings(GENERATION_BASE, default_seed=1)[0]
        assert getattr(request, query_name) == getattr(without, query_name)  # fell back to what an absent value gives
        return False
    assert getattr(request, query_name) == GenerationSettings.settings()[name].check(value)
    return True


@pytest.mark.parametrize(("name", "value", "accepted"), cases(GenerationSettings))
def test_generation_surfaces_agree_at_every_boundary(name, value, accepted, client, capsys) -> None:
    verdicts = {"cli": cli_generate_accepts(name, value, capsys), "api": api_accepts(name, value, client),
                "page": page_accepts(name, value)}
    assert {surface: v for surface, v in verdicts.items() if v is not None} == dict.fromkeys(
        (s for s, v in verdicts.items() if v is not None), accepted)


def test_a_refused_generation_value_is_status_2_from_main(capsys) -> None:
    assert main(["generate", "--temperature", "0.01"]) == 2  # refused before any model is loaded
    assert capsys.readouterr().err.strip() == ("error: argument --temperature: temperature must be a number from 0.05 "
                                               "to 5, got '0.01'")


# --------------------------------------------------------------------------- training


def training_config(name: str, value: Any) -> dict[str, Any]:
    return {**TRAINING_PREREQUISITES.get(name, {}), name: value}


def cli_flag_accepts(name: str, value: Any, capsys) -> bool | None:
    """``python -m core train FLAG VALUE`` as main runs it up to training; ``None`` for a setting without a flag."""
    config = TrainConfig if name in TrainConfig.settings() else ModelConfig
    spec = config.settings()[name]
    if not spec.cli_flags:
        return None
    base = [f"{TrainConfig.settings()[other].cli_flags[0]}={as_text(given)}"
            for other, given in TRAINING_PREREQUISITES.get(name, {}).items()]
    if spec.kind is bool:  # a switch: it sets the opposite of the default and takes no value
        args = parse(["train", *base, spec.cli_flags[0]], capsys)
        assert args is not None and getattr(config_from_args(args) if config is TrainConfig else
                                            config_from_args(args).model, name) is (not spec.default)
        return isinstance(value, bool)
    args = parse(["train", *base, f"{spec.cli_flags[0]}={as_text(value)}"], capsys)
    if args is None:
        return False
    config_from_args(args)
    return True


def cli_config_file_accepts(name: str, value: Any, tmp_path: Path) -> bool:
    """``python -m core train --config FILE`` with the value in the file (model settings nested, as in config.json)."""
    values = dict(TRAINING_PREREQUISITES.get(name, {}))
    if name in TrainConfig.settings():
        values[name] = value
    else:
        values["model"] = {name: value}
    path = tmp_path / CONFIG_FILE
    path.write_text(json.dumps({"train": values}), encoding="utf-8")
    try:
        config_from_args(build_parser().parse_args(["train", "--config", str(path)]))
    except InputError as error:
        assert str(error).startswith(f"{path}: "), error  # main prints it as one error line, status 2
        return False
    return True


def form_accepts(name: str, value: Any) -> bool:
    """The Training form's validation: the flat values it collects become one checked TrainConfig."""
    try:
        TrainConfig.from_values(training_config(name, value))
    except InputError:
        return False
    return True


@pytest.mark.parametrize(("name", "value", "accepted"), [*cases(TrainConfig), *cases(ModelConfig)])
def test_training_surfaces_agree_at_every_boundary(name, value, accepted, capsys, tmp_path) -> None:
    verdicts = {"cli flag": cli_flag_accepts(name, value, capsys), "cli --config": cli_config_file_accepts(name, value, tmp_path),
                "form": form_accepts(name, value)}
    expected = {surface: accepted for surface, verdict in verdicts.items() if verdict is not None}
    assert {surface: verdict for surface, verdict in verdicts.items() if verdict is not None} == expected


def test_a_refused_training_value_is_status_2_from_main(capsys) -> None:
    assert main(["train", "--max-epochs-minutes", "nan"]) == 2
    assert main(["train", "--run-name", ".."]) == 2
    assert main(["summary", "--lstm-units", "100000"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: argument --") for line in err)
    assert "got 'nan'" in err[0] and "'..' is not usable" in err[1] and "from 1 to 4096, got '100000'" in err[2]
