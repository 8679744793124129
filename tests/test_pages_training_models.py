"""The Training page's model management, fine-tuning panels and live phases, under streamlit.testing (AppTest).

A private CHORDSMITH_OUTPUT and a small sample table; starting a training is replaced by a recorder.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sample_corpus import write_sample_table
from streamlit.testing.v1 import AppTest

from core import paths
from core.config import TrainConfig
from core.run_files import CONFIG_FILE, METRICS_FILE, MODEL_FILE, STOP_WAITS_FOR, TEST_RESULTS_FILE
from core.training import active_model, processes
from core.training.lock import lock_path, training_lock
from core.training.run_folder import write_launch, write_phase
from studio.plain_text import as_read
from tests.private_output import private_output

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "user-songs"


def training_page() -> AppTest:
    """The studio opened on the Training page: started from app.py and switched to it, as a server does."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/2_training.py")
    return at


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    out = private_output(tmp_path, monkeypatch)
    monkeypatch.setattr(paths, "CORPUS_TABLE", write_sample_table(tmp_path / "data" / "progressions.csv.gz"))
    yield out
    lock_path().unlink(missing_ok=True)


@pytest.fixture
def started(studio: Path, monkeypatch: pytest.MonkeyPatch) -> list[TrainConfig]:
    """Record the configs the page starts instead of training."""
    configs: list[TrainConfig] = []

    def start(config: TrainConfig) -> str:
        name = config.run_name or "run-started"
        configs.append(config)
        (studio / "runs" / name).mkdir(parents=True)
        return name

    monkeypatch.setattr(processes, "start_training", start)
    return configs


def fake_run(out: Path, name: str, started: float = 1.0, test_results: dict | None = None, model: bool = True,
             final: bool = True) -> Path:
    folder = out / "runs" / name
    folder.mkdir(parents=True)
    records = [{"status": "started", "epochs_planned": 2, "time": started},
               {"epoch": 1, "loss": 2.0, "accuracy": 0.3, "top5": 0.6, "val_loss": 2.1, "val_accuracy": 0.3, "val_top5": 0.6,
                "lr": 0.001, "seconds": 5.0, "elapsed": 5.0, "epochs_planned": 2, "status": "running"}]
    if final:
        records.append({"status": "finished", "reason": "epochs completed", "elapsed": 5.0, "time": started + 6})
    (folder / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / CONFIG_FILE).write_text(json.dumps({"train": {"epochs": 2, "run_name": name}}))
    if model:
        (folder / MODEL_FILE).write_bytes(b"stand-in")
    if test_results is not None:
        (folder / TEST_RESULTS_FILE).write_text(json.dumps(test_results))
    return folder


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


def messages(at: AppTest, kind: str) -> str:
    """The page's messages of ``kind`` as a reader sees them (supplied names are escaped for Markdown)."""
    return as_read(" ".join(str(element.value) for element in at.get(kind)))


# --------------------------------------------------------------------------- the model in use


def test_the_default_can_be_chosen_again_after_a_run_was_made_active(studio: Path) -> None:
    fake_run(studio, "tuned")
    active_model.set_active("tuned")
    at = training_page().run()
    assert not at.exception
    choice = at.selectbox(key="model-choice")
    assert choice.options == [active_model.DEFAULT_MODEL_LABEL, "tuned"] and choice.value.label == "tuned"
    choice.set_value(active_model.model_choices()[0])
    button(at, "make-active").click().run()
    assert not at.exception
    assert active_model.active_run_name() is None and active_model.model_in_use().label == "models/default"
    assert "models/default (shipped)" in at.success[0].value


# --------------------------------------------------------------------------- rename, delete, download


def test_rename_then_delete_with_confirmation(studio: Path) -> None:
    fake_run(studio, "first")
    at = training_page().run()
    at.text_input(key="rename-to").set_value("renamed")
    button(at, "rename").click().run()
    assert not at.exception and (studio / "runs" / "renamed").is_dir() and not (studio / "runs" / "first").exists()
    assert "now called **renamed**" in at.success[0].value
    assert at.selectbox(key="selected-run").value == "renamed"
    assert any(b.key == "download-run" for b in at.get("download_button"))

    button(at, "delete-run").click().run()
    assert "Delete **renamed** and every file in it?" in messages(at, "warning")
    assert (studio / "runs" / "renamed").is_dir()  # nothing deleted before the confirmation
    button(at, "delete-cancelled").click().run()
    assert (studio / "runs" / "renamed").is_dir() and not any(b.key == "delete-confirmed" for b in at.button)
    button(at, "delete-run").click().run()
    button(at, "delete-confirmed").click().run()
    assert not at.exception and not (studio / "runs" / "renamed").exists()
    assert "Deleted **renamed**" in at.success[0].value


def test_a_taken_name_and_a_training_run_are_refused_with_a_message(studio: Path) -> None:
    fake_run(studio, "a", started=1.0)
    fake_run(studio, "b", started=2.0, final=False, model=False)
    at = training_page().run()
    at.selectbox(key="selected-run").set_value("a")
    at.text_input(key="rename-to").set_value("b")
    button(at, "rename").click().run()
    assert "'b' already exists" in messages(at, "error")
    with training_lock("b"):
        at.selectbox(key="selected-run").set_value("b")
        button(at, "delete-run").click().run()
        button(at, "delete-confirmed").click().run()
        assert "'b' is training now: stop it" in messages(at, "error")
    assert (studio / "runs" / "b").is_dir()


# --------------------------------------------------------------------------- the live view


def test_the_live_view_names_the_phase_and_the_stop_says_what_it_waits_for(studio: Path) -> None:
    folder = fake_run(studio, "live", started=1.0, final=False, model=False)
    with training_lock("live") as held:
        write_launch(folder, held.holder.started)
        write_phase(folder, "evaluating")
        at = training_page().run()
        assert not at.exception
        assert "evaluating on the test songs" in at.get("progress")[0].proto.text
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Now"] == "evaluating" and metrics["Time left (ETA)"] == "—"
        button(at, "stop").click().run()
        assert f"it waits for {STOP_WAITS_FOR}" in messages(at, "toast")


def test_a_fine_tuned_run_shows_the_held_out_perplexity_before_and_after(studio: Path) -> None:
    fake_run(studio, "tuned", test_results={
        "split": "test", "test_songs": 2, "models": {"lstm": {"perplexity": 6.0, "top1": 0.5, "tokens": 12},
                                                     "base_lstm": {"perplexity": 8.5, "top1": 0.4, "tokens": 12}}})
    at = training_page().run()
    metric = next(m for m in at.metric if "held-out songs" in m.label)
    assert metric.label == "Perplexity on the 2 held-out songs (lower is better)" and metric.value == "6.00"
    assert "-2.50 from 8.50 before fine-tuning" in metric.proto.delta


# --------------------------------------------------------------------------- fine-tuning


def test_fine_tune_on_a_genre_starts_one_run_from_the_chosen_model(started: list[TrainConfig]) -> None:
    at = training_page().run()
    at.text_input(key="tune-name").set_value("jazz-tuned")
    next(b for b in at.button if b.label == "Fine-tune").click().run()
    assert not at.exception and not at.error
    assert len(started) == 1
    config = started[0]
    assert config.init_from == str(paths.DEFAULT_MODEL_DIR) and config.genre == "jazz" and config.run_name == "jazz-tuned"
    assert config.max_minutes == 2.0 and config.mood is None and config.source is None


def test_uploaded_songs_are_shown_with_what_was_not_read_and_fine_tune_the_default(studio: Path,
                                                                                   started: list[TrainConfig]) -> None:
    at = training_page().run()
    uploader = at.get("file_uploader")[0]
    for name in ("charts.txt", "wayfaring.cho", "little_blue.musicxml", "four_chords.mid"):
        uploader.upload(name, (FIXTURES / name).read_bytes())
    at.run()
    assert not at.exception and not at.error
    files = next(frame.value for frame in at.dataframe if "file" in frame.value.columns)
    assert list(files["file"]) == ["charts.txt", "wayfaring.cho", "little_blue.musicxml", "four_chords.mid"]
    assert list(files["songs"]) == [4, 1, 1, 1]
    code = " ".join(block.value for block in at.code)
    assert "charts.txt:11: unknown chord symbol 'Hmaj7'" in code and "wayfaring.cho:8: 'N.C.' (no chord) skipped" in code
    assert "could not be read and were left out" in messages(at, "warning")
    button(at, "song-tune").click().run()
    assert not at.exception and not at.error
    config = started[0]
    table = Path(config.corpus_table)
    assert config.init_from == str(paths.DEFAULT_MODEL_DIR) and table.is_file()
    assert table.parent.parent == studio / "imports"


@pytest.mark.parametrize(("name", "message"), [
    ("junk.txt", "junk.txt: binary data, not a text file"),
    ("latin1.txt", "latin1.txt: not UTF-8 text"),
    ("empty.txt", "empty.txt: the file is empty"),
    ("not_midi.mid", "not_midi.mid: not a MIDI file"),
])
def test_a_bad_upload_is_an_error_message(studio: Path, name: str, message: str) -> None:
    at = training_page().run()
    at.get("file_uploader")[0].upload(name, (FIXTURES / name).read_bytes())
    at.run()
    assert not at.exception
    assert message in messages(at, "error")
    assert not any(b.key == "song-tune" for b in at.button)
