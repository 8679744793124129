"""Transfer learning: a run fine-tuned from a trained model on a subset, recorded in config.json, evaluated beside its base."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.config import ModelConfig, TrainConfig
from core.errors import InputError
from core.evaluation.evaluate import evaluate_model, evaluate_run, results_table
from core.model import load_model
from core.run_files import CONFIG_FILE, MODEL_FILE, TEST_RESULTS_FILE
from core.training.run_data import select_subset
from core.training.train import train
from core.training.transfer import EMBEDDING_LAYERS, find_model_file, short_hash
from tests.progression_frames import progression_frame

TINY = ModelConfig(embedding_dim=8, genre_embedding_dim=4, mood_embedding_dim=4, key_embedding_dim=4,
                   scale_type_embedding_dim=2, conditioning_units=8, lstm_units=16)
SPLITS = ("train", "validation", "test")


def _config(**overrides) -> TrainConfig:
    values = {"batch_size": 8, "epochs": 1, "seed": 1, "write_reports": False, "augment": False, "model": TINY}
    return TrainConfig(**{**values, **overrides})


@pytest.fixture(scope="module")
def base_run(tmp_path_factory):
    """A tiny model trained one epoch on every genre (the 'default' the tests fine-tune)."""
    folder = tmp_path_factory.mktemp("runs") / "base"
    return train(_config(run_name="base"), frame=progression_frame(2, SPLITS), run_dir=folder)


def test_fine_tuning_starts_from_the_base_weights_on_the_subset_and_records_both(base_run, tmp_path):
    frame = progression_frame(2, SPLITS)
    config = _config(run_name="jazz", init_from=str(base_run), genre="jazz", freeze_embeddings=True, lr=0.01,
                     model=ModelConfig())  # the flags' architecture is replaced by the base model's
    run_dir = train(config, frame=frame, run_dir=tmp_path / "jazz")

    saved = json.loads((run_dir / CONFIG_FILE).read_text())
    assert saved["init"] == {"path": str((base_run / MODEL_FILE).resolve()), "sha256": short_hash(base_run / MODEL_FILE)}
    assert len(saved["init"]["sha256"]) == 12
    assert saved["data"]["subset"] == {"genre": "jazz"} and saved["data"]["table"] == "shipped"
    jazz_train = ((frame["genre"] == "jazz") & (frame["split"] == "train")).sum()
    assert saved["data"]["train_windows"] == jazz_train
    assert saved["train"]["model"]["lstm_units"] == 16  # the base's architecture, not the default 256

    base, tuned = load_model(base_run / MODEL_FILE), load_model(run_dir / MODEL_FILE)
    for name in EMBEDDING_LAYERS:  # frozen
        np.testing.assert_array_equal(base.get_layer(name).get_weights()[0], tuned.get_layer(name).get_weights()[0])
    assert not np.allclose(base.get_layer("lstm_1").get_weights()[0], tuned.get_layer("lstm_1").get_weights()[0])


def test_a_fine_tuned_run_is_evaluated_on_the_subset_test_songs_beside_its_base(base_run, tmp_path):
    frame = progression_frame(2, SPLITS)
    run_dir = train(_config(run_name="jazz", init_from=str(base_run), genre="jazz"), frame=frame, run_dir=tmp_path / "jazz")
    results = evaluate_run(run_dir, frame)

    assert set(results["per_genre"]) == {"jazz"}  # only the subset's test songs
    assert list(results["models"])[:2] == ["lstm", "base_lstm"]
    jazz = select_subset(frame, {"genre": "jazz"})
    assert results["models"]["base_lstm"] == evaluate_model(base_run, jazz)["models"]["lstm"]
    assert results["models"]["lstm"] == evaluate_model(run_dir, jazz)["models"]["lstm"]
    assert results["base"]["sha256"] == short_hash(base_run / MODEL_FILE) and not results["base"]["changed"]
    assert json.loads((run_dir / TEST_RESULTS_FILE).read_text())["models"].keys() == results["models"].keys()
    table = results_table(results)
    assert "genre jazz" in table and "fine-tuned from" in table and "base_lstm" in table


def test_subset_training_from_scratch_and_subsets_that_match_nothing(tmp_path):
    frame = progression_frame(1, SPLITS)
    run_dir = train(_config(run_name="blues", genre="blues"), frame=frame, run_dir=tmp_path / "blues")
    assert json.loads((run_dir / CONFIG_FILE).read_text())["data"]["train_windows"] == 1
    with pytest.raises(InputError, match=r"no songs with genre 'jazz', mood 'sad' in the table \(genres there: .*jazz"):
        train(_config(run_name="none", genre="jazz", mood="sad"), frame=frame, run_dir=tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_fine_tuning_refuses_a_missing_base_and_architecture_flags(tmp_path, capsys):
    with pytest.raises(InputError, match="no model 'nowhere'"):
        find_model_file("nowhere")
    assert main(["train", "--init-from", str(tmp_path / "nowhere")]) == 2
    assert main(["train", "--init-from", "models/default", "--lstm-units", "32"]) == 2
    assert main(["train", "--freeze-embeddings"]) == 2
    assert main(["train", "--genre", "metal"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("error: ") for line in err)
    assert "keeps the architecture" in err[1] and "--lstm-units" in err[1]
    assert "only applies to fine-tuning" in err[2]


def test_evaluate_command_takes_a_run_name(base_run, tmp_path, monkeypatch, capsys):
    from core import paths

    monkeypatch.setattr(paths, "RUNS_DIR", base_run.parent)
    assert find_model_file("base") == (base_run / MODEL_FILE).resolve()
    assert main(["evaluate", "--model", "ghost-run"]) == 2
    assert "no model 'ghost-run'" in capsys.readouterr().err
