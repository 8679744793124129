"""Managing runs and following them: the default always choosable, rename, delete, zip, phases, a clock that never goes back.

Fake run folders (metrics.jsonl written by hand) under a private CHORDSMITH_OUTPUT; one tiny real
training checks what a stop request waits for.
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest

from core import paths
from core.config import ModelConfig, TrainConfig
from core.errors import InputError
from core.run_files import (
    CONFIG_FILE,
    LAST_CHECKPOINT,
    METRICS_FILE,
    MODEL_FILE,
    PHASE_FILE,
    PHASES,
    STOP_WAITS_FOR,
    TEST_RESULTS_FILE,
    request_stop,
)
from core.training import active_model, follow, run_management
from core.training.lock import lock_path, training_lock
from core.training.run_folder import read_metrics, run_elapsed, write_launch, write_phase
from studio.run_tables import runs_frame
from tests.private_output import private_output
from tests.progression_frames import progression_frame


@pytest.fixture
def output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = private_output(tmp_path, monkeypatch)
    yield out
    lock_path().unlink(missing_ok=True)


def write_run(output: Path, name: str, records: list[dict], model: bool = True, config: dict | None = None) -> Path:
    folder = output / "runs" / name
    folder.mkdir(parents=True)
    (folder / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / CONFIG_FILE).write_text(json.dumps({"train": {"epochs": 3, "run_name": name, **(config or {})}}))
    if model:
        (folder / MODEL_FILE).write_bytes(b"stand-in")
    return folder


def epoch(n: int, seconds: float = 10.0) -> dict:
    return {"epoch": n, "loss": 2.0, "val_loss": 2.1, "seconds": seconds, "elapsed": n * seconds, "epochs_planned": 3,
            "status": "running"}


def set_mtime(path: Path, when: float) -> None:
    os.utime(path, (when, when))


# --------------------------------------------------------------------------- the model in use


def test_the_shipped_default_is_always_a_choice_and_can_be_made_active_again(output: Path) -> None:
    write_run(output, "tuned", [{"status": "finished"}])
    write_run(output, "unfinished", [{"status": "started"}], model=False)
    choices = active_model.model_choices()
    assert [c.label for c in choices] == [active_model.DEFAULT_MODEL_LABEL, "tuned"]
    assert choices[0].folder == paths.DEFAULT_MODEL_DIR and choices[0].run is None
    active_model.activate(choices[1])
    assert active_model.active_run_name() == "tuned" and active_model.model_in_use().label == "run tuned"
    active_model.activate(active_model.model_choices()[0])  # back to the default: "Make active" on a run could not
    assert active_model.active_run_name() is None and paths.active_model_dir() == paths.DEFAULT_MODEL_DIR


# --------------------------------------------------------------------------- rename, delete, zip


def test_rename_moves_the_folder_the_config_name_and_the_active_model(output: Path) -> None:
    write_run(output, "old", [{"status": "finished"}])
    write_run(output, "other", [{"status": "finished"}])
    active_model.set_active("old")
    folder = run_management.rename_run("old", " new ")
    assert folder == output / "runs" / "new" and not (output / "runs" / "old").exists()
    assert json.loads((folder / CONFIG_FILE).read_text())["train"]["run_name"] == "new"
    assert active_model.active_run_name() == "new"
    with pytest.raises(InputError, match="'other' already exists"):
        run_management.rename_run("new", "other")
    with pytest.raises(InputError, match="not usable"):
        run_management.rename_run("new", "a/b")
    with pytest.raises(InputError, match="no run named 'ghost'"):
        run_management.rename_run("ghost", "x")


def test_delete_removes_the_run_and_gives_the_default_back_when_it_was_in_use(output: Path) -> None:
    write_run(output, "doomed", [{"status": "finished"}])
    write_run(output, "kept", [{"status": "finished"}])
    active_model.set_active("doomed")
    assert run_management.delete_run("doomed") is True
    assert not (output / "runs" / "doomed").exists() and active_model.active_run_name() is None
    assert run_management.delete_run("kept") is False
    with pytest.raises(InputError, match="no run named 'doomed'"):
        run_management.delete_run("doomed")


def test_a_training_run_can_be_neither_renamed_nor_deleted(output: Path) -> None:
    write_run(output, "busy", [{"status": "started"}], model=False)
    with training_lock("busy"):
        for action in (lambda: run_management.rename_run("busy", "other"), lambda: run_management.delete_run("busy")):
            with pytest.raises(InputError, match="'busy' is training now: stop it"):
                action()
    assert (output / "runs" / "busy").is_dir()


def test_a_run_downloads_as_a_zip_of_its_files_without_partial_ones(output: Path) -> None:
    folder = write_run(output, "packed", [{"status": "finished"}])
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "best.keras").write_bytes(b"best")
    (folder / ".config.partial.json").write_text("{")
    with zipfile.ZipFile(io.BytesIO(run_management.run_zip("packed"))) as archive:
        assert sorted(archive.namelist()) == ["packed/checkpoints/best.keras", f"packed/{CONFIG_FILE}", f"packed/{METRICS_FILE}",
                                              f"packed/{MODEL_FILE}"]
        assert archive.read(f"packed/{MODEL_FILE}") == b"stand-in"


# --------------------------------------------------------------------------- phases and the clock


def test_elapsed_never_goes_backwards_from_live_to_finished(output: Path) -> None:
    folder = write_run(output, "clock", [{"status": "started", "time": 1010.0}, epoch(1)], model=False)
    write_launch(folder, 1000.0)  # the lock was taken at 1000; TensorFlow loaded until 1010
    live = run_elapsed(folder, read_metrics(folder), live=True, now=1030.0)
    assert live == pytest.approx(30.0)
    with (folder / METRICS_FILE).open("a") as handle:  # the closing line, written while evaluating ended
        handle.write(json.dumps({"status": "finished", "elapsed": 25.0, "time": 1040.0}) + "\n")
    set_mtime(folder / METRICS_FILE, 1040.0)
    done = run_elapsed(folder, read_metrics(folder), live=False)
    assert done == pytest.approx(40.0) and done >= live  # the trainer's own 25 s would have gone back
    # resumed in a new session an hour later: it goes on from 40 s
    write_launch(folder, 5000.0, continues=True)
    assert run_elapsed(folder, read_metrics(folder), live=True, now=5005.0) == pytest.approx(45.0)
    write_launch(folder, 9000.0)  # trained anew in the same folder (--reproduce-default): from 0
    assert run_elapsed(folder, read_metrics(folder), live=True, now=9005.0) == pytest.approx(5.0)


def test_a_resumed_run_counts_on_before_its_trainer_writes_the_new_launch(output: Path) -> None:
    folder = write_run(output, "again", [{"status": "started", "time": 1010.0}, epoch(1), {"status": "stopped"}])
    write_launch(folder, 1000.0)
    set_mtime(folder / METRICS_FILE, 1040.0)
    assert run_elapsed(folder, read_metrics(folder), live=True, now=5005.0, session_started=5000.0) == pytest.approx(45.0)
    assert follow.live_phase(folder, 5000.0, started=True) == "starting"  # the phase file is the last session's


def test_progress_names_the_phase_and_gives_no_eta_outside_training(output: Path) -> None:
    folder = write_run(output, "phases", [{"status": "started", "time": 1000.0}, epoch(1), epoch(2)], model=False)
    with training_lock("phases") as held:
        write_launch(folder, held.holder.started)
        assert follow.run_progress("phases").phase == "starting"
        write_phase(folder, "training")
        progress = follow.run_progress("phases")
        assert progress.phase_label == "training" and progress.eta_s == pytest.approx(10.0)
        write_phase(folder, "evaluating")
        progress = follow.run_progress("phases")
        assert progress.phase_label == PHASES["evaluating"] == "evaluating on the test songs" and progress.eta_s is None
        write_phase(folder, "sampling")
        assert follow.run_progress("phases").phase_label == "writing samples"
        before = follow.run_progress("phases").elapsed_s
    with (folder / METRICS_FILE).open("a") as handle:
        handle.write(json.dumps({"status": "finished", "time": time.time()}) + "\n")
    over = follow.run_progress("phases")
    assert over.phase is None and over.phase_label == "finished" and over.eta_s is None and over.elapsed_s >= before
    assert json.loads((folder / PHASE_FILE).read_text())["phase"] == "sampling"
    with pytest.raises(ValueError):
        write_phase(folder, "dreaming")


def test_runs_table_has_no_raw_none_and_says_what_a_run_learnt_from(output: Path) -> None:
    write_run(output, "blank", [{"status": "started", "time": 1.0}], model=False)
    write_run(output, "jazz", [{"status": "finished", "time": 2.0}],
              config={"init_from": "/repo/models/default", "genre": "jazz"})
    write_run(output, "mine", [{"status": "finished", "time": 3.0}],
              config={"init_from": "/repo/models/default", "corpus_table": "/out/imports/songs-1/progressions.csv.gz"})
    table = runs_frame(follow.list_runs()).set_index("run")
    cells = table.astype(str).to_numpy().ravel().tolist()
    assert not any(cell in ("None", "nan", "NaN") for cell in cells), cells
    assert table.loc["blank", "best val loss"] == "—" and table.loc["blank", "test top-1"] == "—"
    assert table.loc["jazz", "data"] == "corpus, genre jazz, fine-tuned from default"
    assert table.loc["mine", "data"] == "your songs (songs-1), fine-tuned from default"


def test_fine_tune_result_reads_before_and_after_from_the_test_results(output: Path) -> None:
    folder = write_run(output, "tuned", [{"status": "finished"}])
    assert follow.fine_tune_result("tuned") is None
    (folder / TEST_RESULTS_FILE).write_text(json.dumps({
        "split": "test", "test_songs": 3, "base": {"path": "/m/default/model.keras"},
        "models": {"lstm": {"perplexity": 7.5, "top1": 0.4, "tokens": 20},
                   "base_lstm": {"perplexity": 9.0, "top1": 0.35, "tokens": 20}},
    }))
    result = follow.fine_tune_result("tuned")
    assert (result.songs, result.tokens, result.perplexity_before, result.perplexity_after) == (3, 20, 9.0, 7.5)


# --------------------------------------------------------------------------- what a stop waits for


@pytest.mark.slow
def test_a_stop_request_waits_for_the_current_batch_as_the_page_says(tmp_path: Path) -> None:
    """STOP_WAITS_FOR (the Stop message) says the end of the current batch: one step of a many-batch epoch is trained."""
    from core.model import load_model
    from core.training.train import train

    assert STOP_WAITS_FOR.startswith("the end of the current batch")
    run_dir = tmp_path / "stop"
    tiny = ModelConfig(embedding_dim=8, genre_embedding_dim=4, mood_embedding_dim=4, key_embedding_dim=4,
                       scale_type_embedding_dim=2, conditioning_units=8, lstm_units=8, lstm_layers=1)
    config = TrainConfig(batch_size=2, epochs=3, seed=1, run_name="stop", write_reports=False, model=tiny)

    def stop_when_started(record: dict) -> None:
        if record["status"] == "started":
            request_stop(run_dir)

    train(config, frame=progression_frame(4), progress_callback=stop_when_started, run_dir=run_dir)  # 24 batches an epoch
    assert load_model(run_dir / LAST_CHECKPOINT).optimizer.iterations.numpy() == 1  # the epoch-end state, optimizer included
    assert read_metrics(run_dir)[-1]["reason"] == "stop file"
