"""core.config: each setting's check (types, limits, NaN/inf), the configs' JSON round trips, old files still load."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import pytest

from core import paths
from core.config import SETTINGS, ComposerSettings, GenerationSettings, ModelConfig, SongSettings, TrainConfig, check
from core.errors import InputError
from core.run_files import CONFIG_FILE


def test_every_setting_is_declared_once_with_help_and_a_default_it_accepts() -> None:
    for config in (ModelConfig, TrainConfig, GenerationSettings, ComposerSettings, SongSettings):
        declared = {f.name: f.default for f in fields(config) if f.name != "model"}
        assert set(config.settings()) == set(declared), config  # every field is a setting
        for name, spec in config.settings().items():
            assert spec.help and spec.label and spec.kind in (int, float, bool, str), name
            assert spec.default == declared[name] and spec.check(spec.default) == spec.default, name
    assert len(SETTINGS) == sum(len(c.settings()) for c in (ModelConfig, TrainConfig, GenerationSettings,
                                                            ComposerSettings, SongSettings))


@pytest.mark.parametrize(("name", "given", "expected"), [
    ("length", "8", 8), ("length", 8.0, 8), ("length", " 64 ", 64), ("temperature", "0.05", 0.05), ("temperature", 5, 5.0),
    ("top_p", "1", 1.0), ("in_key", "yes", True), ("in_key", "0", False), ("in_key", 1, True), ("cell", " GRU ", "gru"),
    ("random_seed", None, None), ("random_seed", "", None), ("random_seed", 2**32 - 1, 2**32 - 1),
    ("max_minutes", "0", None), ("max_minutes", 0.5, 0.5), ("max_train_windows", 0, None), ("run_name", "", None),
    ("run_name", "v2.1_a-b", "v2.1_a-b"), ("lr", "1e-3", 0.001),
])
def test_accepted_values_are_converted(name: str, given, expected) -> None:
    value = check(name, given)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(("name", "given", "words"), [
    ("length", 0, "length must be a whole number from 1 to 64, got 0"),
    ("length", 65, "from 1 to 64, got 65"),
    ("length", 2.5, "length must be a whole number, got 2.5"),
    ("length", "abc", "got 'abc'"),
    ("length", True, "got True"),
    ("length", None, "length is required"),
    ("length", "1e400", "got '1e400'"),
    ("temperature", float("nan"), "temperature must be a number from 0.05 to 5, got nan"),
    ("temperature", float("inf"), "got inf"),
    ("temperature", "-inf", "got '-inf'"),
    ("temperature", 0.049, "got 0.049"),
    ("top_p", 0.0, "top-p must be a number from 0.01 to 1"),
    ("lr", 0.0, "learning rate must be a number above 0 and below 1, got 0.0"),
    ("lr", 1.0, "below 1"),
    ("dropout", 1.0, "dropout must be a number at least 0 and below 1"),
    ("max_minutes", -1, "a number above 0, or 0 for none, got -1"),
    ("max_minutes", float("nan"), "got nan"),
    ("in_key", "maybe", "in key must be true or false, got 'maybe'"),
    ("in_key", 2, "got 2"),
    ("cell", "rnn", "unknown cell 'rnn'; accepted: lstm, gru"),
    ("cell", 3, "cell must be one of lstm, gru, got 3"),
    ("run_name", "..", "run name '..' is not usable"),
    ("run_name", ".", "not usable"),
    ("run_name", "a/b", "not usable"),
    ("run_name", "x" * 65, "not usable"),
    ("random_seed", -1, "random seed must be a whole number from 0 to 4294967295, got -1"),
])
def test_refusals_name_the_setting_the_value_and_what_is_accepted(name: str, given, words: str) -> None:
    with pytest.raises(InputError) as error:
        check(name, given)
    assert words in str(error.value)


def test_validate_checks_every_field_and_normalises_in_place() -> None:
    config = TrainConfig(epochs=2.0, max_minutes=0, model=ModelConfig(cell="GRU"))
    config.validate()
    assert (config.epochs, config.max_minutes, config.model.cell) == (2, None, "gru") and type(config.epochs) is int
    with pytest.raises(InputError, match="lstm units must be a whole number from 1 to 4096, got 100000"):
        TrainConfig(model=ModelConfig(lstm_units=100_000)).validate()
    with pytest.raises(InputError, match="--cpu-replicas only applies to --strategy mirrored"):
        TrainConfig(cpu_replicas=2).validate()
    with pytest.raises(InputError, match="number of samples"):
        GenerationSettings(num_samples=101).validate()


def test_train_config_round_trips_through_json_with_the_model_nested() -> None:
    config = TrainConfig(epochs=3, lr=0.002, run_name="r", max_minutes=1.5, model=ModelConfig(lstm_units=64, cell="gru"))
    text = config.to_json()
    assert json.loads(text)["model"]["lstm_units"] == 64
    assert TrainConfig.from_json(text) == config
    assert TrainConfig.from_dict({"train": config.to_dict(), "data": {}, "versions": {}}) == config  # a run's config.json
    assert ModelConfig.from_json(config.model.to_json()) == config.model


def test_the_shipped_models_config_still_loads() -> None:
    path = paths.DEFAULT_MODEL_DIR / CONFIG_FILE
    stored = json.loads(path.read_text(encoding="utf-8"))["train"]
    loaded = TrainConfig.from_file(path).to_dict()  # checked, unknown keys refused
    assert {key: loaded[key] for key in stored if key != "model"} == {k: v for k, v in stored.items() if k != "model"}
    assert {key: loaded["model"][key] for key in stored["model"]} == stored["model"]


def test_unknown_keys_are_ignored_when_loading_and_refused_when_strict() -> None:
    old = {"epochs": 4, "retired_setting": 1, "model": {"lstm_units": 32, "retired_model_setting": 2}}
    loaded = TrainConfig.from_dict(old)
    assert loaded.epochs == 4 and loaded.model.lstm_units == 32
    with pytest.raises(InputError, match="unknown setting"):
        TrainConfig.from_dict(old, strict=True)
    with pytest.raises(InputError, match="unknown training setting"):
        TrainConfig.from_values({"learning_rate": 0.1})


def test_from_values_takes_flat_training_and_model_settings() -> None:
    config = TrainConfig.from_values({"epochs": "5", "lstm_units": 32, "cell": "gru", "max_train_windows": 0})
    assert config == TrainConfig(epochs=5, model=ModelConfig(lstm_units=32, cell="gru"))
    assert config.updated({"dropout": 0.1, "epochs": 6}) == TrainConfig(epochs=6, model=ModelConfig(lstm_units=32, cell="gru",
                                                                                                  dropout=0.1))


def test_importing_the_config_loads_no_keras_tensorflow_or_pandas() -> None:
    code = "import sys, core.config; print([m for m in ('keras', 'tensorflow', 'pandas') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=paths.REPO_ROOT)
    assert out.stdout.strip() == "[]"
