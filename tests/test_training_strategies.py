"""Training recipes and strategies: the learning-rate schedule, recipes on the command line, chord substitution, curriculum."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import paths
from core.cli import build_parser
from core.cli.train import config_from_args
from core.conditions import key_id
from core.config import RECIPES, TrainConfig
from core.dataset import curriculum_length, cut_windows, encode_frame, substitute_chords, substitution_table
from core.errors import InputError
from core.training import schedule
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB
from tests.progression_frames import progression_frame


def _ids(*symbols: str) -> set[int]:
    return {VOCAB.id_of_symbol(s) for s in symbols}


def _candidates(key: int, symbol: str) -> set[int]:
    candidates, counts = substitution_table()
    token = VOCAB.id_of_symbol(symbol)
    return set(candidates[key, token, : counts[key, token]].tolist())


def test_substitutes_keep_the_key():
    c_major, a_minor = key_id(0, "major"), key_id(9, "minor")
    assert _candidates(c_major, "C") == _ids("Am", "Cmaj7")  # relative minor; the scale's seventh added
    assert _candidates(c_major, "G") == _ids("Em", "G7")  # V gets the dominant seventh the scale has
    assert _candidates(c_major, "G7") == _ids("Db7", "G")  # tritone substitute; seventh dropped
    assert _candidates(c_major, "Dm") == _ids("F", "Dm7")
    assert _candidates(a_minor, "Am") == _ids("C", "Am7")
    assert _candidates(0, "C") == _ids("Am")  # no key: nothing that needs the scale
    candidates, counts = substitution_table()
    assert counts[:, [PAD_ID, START_ID, END_ID]].max() == 0  # special tokens stay


def test_substituted_windows_stay_one_step_apart_and_keep_their_key():
    import tensorflow as tf

    encoded = encode_frame(progression_frame(1))
    inputs = encoded.inputs()
    chords, targets, keys = inputs["chord_sequence_input"], encoded.targets, inputs["key_input"]
    new_input, new_targets = (np.asarray(x) for x in substitute_chords(
        tf.constant(chords), tf.constant(targets), tf.constant(keys), tf.constant([1, 2], dtype=tf.int64), 1.0))
    table, counts = substitution_table()
    changed = 0
    for row in range(len(targets)):
        for t in range(targets.shape[1]):
            old, new = targets[row, t], new_targets[row, t]
            if old != new:
                changed += 1
                assert new in table[keys[row, 0], old, : counts[keys[row, 0], old]]
            if t > 0 and new_targets[row, t] not in (PAD_ID, END_ID):
                assert new_targets[row, t] != new_targets[row, t - 1]  # no repeated chord is made
        real = chords[row] != PAD_ID
        assert (new_input[row, 0] == START_ID) and ((new_input[row] == PAD_ID) == ~real).all()
        length = int(real.sum())
        assert (new_input[row, 1:length] == new_targets[row, : length - 1]).all()
    assert changed > len(targets)  # at rate 1 most chords change
    unchanged = substitute_chords(tf.constant(chords), tf.constant(targets), tf.constant(keys),
                                  tf.constant([1, 2], dtype=tf.int64), 0.0)
    assert (np.asarray(unchanged[1]) == targets).all()


def test_the_curriculum_grows_the_windows_then_keeps_them_whole():
    assert [curriculum_length(e, 3, 12) for e in range(5)] == [3, 6, 9, 12, 12]
    assert curriculum_length(0, 20, 12) == 2
    encoded = encode_frame(progression_frame(1))
    inputs, targets = cut_windows(encoded.inputs(), encoded.targets, 3)
    assert (np.asarray(targets)[:, 3:] == PAD_ID).all() and (np.asarray(inputs["chord_sequence_input"])[:, 3:] == PAD_ID).all()
    assert (np.asarray(targets)[:, :3] == encoded.targets[:, :3]).all()


def test_the_cosine_schedule_warms_up_then_decays_to_a_hundredth():
    assert schedule.learning_rate(TrainConfig(schedule="constant", lr=0.002), 1000) == 0.002
    config = TrainConfig(schedule="cosine", lr=0.004, batch_size=100, epochs=5, warmup_epochs=1.0)
    rate = schedule.learning_rate(config, 1000)  # 10 steps an epoch, 50 in all
    at = [float(rate(step)) for step in (0, 5, 10, 30, 50)]
    assert at[0] == pytest.approx(0.004 * schedule.FLOOR_SHARE) and at[1] < at[2]
    assert at[2] == pytest.approx(0.004) and at[2] > at[3] > at[4]
    assert at[4] == pytest.approx(0.004 * schedule.FLOOR_SHARE, rel=1e-3)
    assert schedule.plateau_callbacks(config) == [] and len(schedule.plateau_callbacks(TrainConfig(schedule="constant"))) == 1


def _train_config(*argv: str) -> TrainConfig:
    return config_from_args(build_parser().parse_args(["train", *argv]))


def test_recipes_on_the_command_line():
    assert _train_config() == TrainConfig()
    assert _train_config("--recipe", "studio") == TrainConfig()
    guide = _train_config("--recipe", "guide")
    assert (guide.batch_size, guide.lr, guide.schedule, guide.epochs) == (32, 1e-3, "constant", 50)
    assert _train_config("--recipe", "guide", "--batch-size", "64").batch_size == 64  # flags override the recipe
    assert set(RECIPES) == {"studio", "guide"}
    with pytest.raises(InputError, match="drop --recipe"):
        _train_config("--reproduce-default", "--recipe", "guide")


def test_reproduce_default_trains_the_shipped_configuration_not_the_studio_defaults():
    shipped = json.loads((paths.DEFAULT_MODEL_DIR / "config.json").read_text(encoding="utf-8"))["train"]
    config = _train_config("--reproduce-default")
    assert (config.run_name, config.lr, config.epochs, config.batch_size) == (
        "default", shipped["lr"], shipped["epochs"], shipped["batch_size"])
    assert config.model.to_dict() == {**config.model.to_dict(), **shipped["model"]}
    assert _train_config("--reproduce-default", "--epochs", "3").epochs == 3  # a shorter run of the same recipe
    assert (config.lr, config.epochs) != (TrainConfig().lr, TrainConfig().epochs)  # the studio's short schedule differs


def test_a_run_from_before_the_schedule_setting_reads_as_constant():
    old_run = {"train": {"epochs": 50, "lr": 0.001, "model": {}}, "versions": {}}
    assert TrainConfig.from_dict(old_run).schedule == "constant"
    assert TrainConfig.from_dict({"epochs": 5}).schedule == TrainConfig().schedule  # a bare config takes today's default


def test_resume_refuses_settings_that_would_change_the_run(tmp_path, monkeypatch):
    from core import paths

    monkeypatch.setattr(paths, "RUNS_DIR", tmp_path)
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text(TrainConfig(run_name="r", epochs=3).to_json())
    assert _train_config("--resume", "r", "--epochs", "9").epochs == 9
    with pytest.raises(InputError, match="drop --lr"):
        _train_config("--resume", "r", "--lr", "0.1")
    with pytest.raises(InputError, match="no run named"):
        _train_config("--resume", "missing")


def test_a_mixed_precision_run_with_curriculum_and_substitution_saves_a_float32_model(tmp_path):
    from core.model import load_model
    from core.training.run_folder import epoch_records, read_metrics
    from core.training.train import train
    from tests.test_train import TINY_MODEL

    config = TrainConfig(batch_size=8, epochs=2, seed=1, run_name="mixed", write_reports=False, model=TINY_MODEL,
                         mixed_precision=True, curriculum="short-first", curriculum_epochs=1, substitution_rate=0.3)
    run_dir = train(config, frame=progression_frame(2), run_dir=tmp_path / "mixed")
    assert {layer.dtype_policy.name for layer in load_model(run_dir / "model.keras").layers} == {"float32"}
    records = epoch_records(read_metrics(run_dir))
    assert len(records) == 2 and all(np.isfinite(r["loss"]) and r["cpu_seconds"] > 0 for r in records)
    import keras

    assert keras.config.dtype_policy().name == "float32"  # the mixed policy does not leak out of the run
