"""The Home, Dataset and Training pages under streamlit.testing (AppTest): they render, their widgets work.

Every test runs against a private CHORDSMITH_OUTPUT and a small sample corpus table, never the
real output/ or data/.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sample_corpus import write_sample_table
from streamlit.testing.v1 import AppTest

from core import paths
from core.config import TrainConfig
from core.run_files import CONFIG_FILE, METRICS_FILE, MODEL_FILE, TEST_RESULTS_FILE
from core.training import active_model, processes
from core.training.lock import lock_path, training_lock
from tests.private_output import private_output

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


@pytest.fixture
def studio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private output folder and corpus table; returns the output folder."""
    out = private_output(tmp_path, monkeypatch)
    monkeypatch.setattr(paths, "CORPUS_TABLE", write_sample_table(tmp_path / "data" / "progressions.csv.gz"))
    yield out
    lock_path().unlink(missing_ok=True)


def page(name: str) -> AppTest:
    """The studio opened on page ``name`` (a path from studio.page.PAGES).

    The app starts from ``app.py`` and switches to the page, as a server does: a page file run as
    the entry point itself could not link to ``app.py`` (its sidebar would fail to resolve it).
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    if name != "app.py":
        at.switch_page(name)
    return at


def fake_run(out: Path, name: str, val_losses: list[float], test_top1: float | None = None, started: float = 1.0) -> Path:
    folder = out / "runs" / name
    folder.mkdir(parents=True)
    records = [{"status": "started", "epochs_planned": len(val_losses), "time": started}]
    records += [{"epoch": i + 1, "loss": v + 0.1, "accuracy": 0.3, "top5": 0.6, "val_loss": v, "val_accuracy": 0.25,
                 "val_top5": 0.55, "lr": 0.001, "seconds": 5.0, "elapsed": 5.0 * (i + 1), "epochs_planned": len(val_losses),
                 "status": "running"} for i, v in enumerate(val_losses)]
    records.append({"status": "finished", "reason": "epochs completed", "elapsed": 5.0 * len(val_losses)})
    (folder / METRICS_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    (folder / CONFIG_FILE).write_text(json.dumps({"train": {"epochs": len(val_losses), "lr": 0.001,
                                                              "model": {"lstm_units": 32}}}))
    (folder / MODEL_FILE).write_bytes(b"stand-in")
    if test_top1 is not None:
        (folder / TEST_RESULTS_FILE).write_text(json.dumps({"model": {"top1": test_top1, "top5": 0.8}}))
    return folder


def texts(at: AppTest, kind: str) -> str:
    return " ".join(str(element.value) for element in at.get(kind))


def chart_title(chart) -> str:
    return json.loads(chart.proto.spec)["layout"].get("title", {}).get("text", "")


def chart_x(at: AppTest, key: str) -> list:
    chart = next(c for c in at.get("plotly_chart") if chart_title(c).startswith(key))
    return json.loads(chart.proto.spec)["data"][0]["x"]


# --------------------------------------------------------------------------- app and Home


def test_app_opens_on_home_with_links_and_model_in_use(studio: Path) -> None:
    fake_run(studio, "good", [2.0, 1.5], test_top1=0.42)
    active_model.set_active("good")
    at = page("app.py").run()
    assert not at.exception
    assert at.title[0].value == "Chordsmith"
    assert "run good" in texts(at, "metric") and "42.0%" in texts(at, "metric")
    links = [link.proto.page for link in at.get("page_link")]
    assert {"", "dataset", "training", "evaluation", "generate"} <= set(links)  # sidebar and Home body
    folder = [caption.value for caption in at.caption if caption.value.startswith("Folder:")]
    assert folder == ["Folder: `$CHORDSMITH_OUTPUT/runs/good`"]  # never the server's absolute path


def test_home_without_a_model_says_so(studio: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "DEFAULT_MODEL_DIR", studio / "no-model-here")
    at = page("app.py").run()
    assert not at.exception
    assert "No trained model" in at.warning[0].value
    assert str(studio) not in at.warning[0].value  # the folder is shown without the server's layout


# --------------------------------------------------------------------------- Dataset


def test_dataset_page_renders_counts_charts_and_a_playable_progression(studio: Path) -> None:
    at = page("pages/1_dataset.py").run()
    assert not at.exception, at.exception
    assert "5" in texts(at, "metric")  # songs
    titles = [chart_title(c) for c in at.get("plotly_chart")]
    for expected in ("Source", "Genre", "Mood", "Scale type", "Key", "Progression length", "Chord-to-chord transitions"):
        assert any(t.startswith(expected) for t in titles), (expected, titles)
    assert at.get("audio"), "the selected progression is playable"
    assert at.get("image"), "the selected progression is shown as notation"


def test_dataset_filters_change_the_chord_chart(studio: Path) -> None:
    at = page("pages/1_dataset.py").run()
    everything = set(chart_x(at, "The"))
    at.selectbox(key="genre").set_value("jazz").run()
    assert not at.exception
    jazz = set(chart_x(at, "The"))
    assert jazz == {"Cm7", "F7", "Bbmaj7", "Ebmaj7", "Am7b5", "D7", "Gm7"}
    assert jazz < everything
    at.selectbox(key="mood").set_value("happy").run()  # no jazz song is happy
    assert any("No progressions" in info.value for info in at.info)


def test_dataset_search_narrows_the_table(studio: Path) -> None:
    at = page("pages/1_dataset.py").run()
    at.text_input(key="query").set_value("mozart").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 1
    assert "Sonata in G" in at.subheader[0].value
    at.radio(key="unit").set_value("songs").run()
    assert list(at.dataframe[0].value["song_id"]) == ["s4"]


def test_dataset_without_the_table_shows_how_to_build_it(studio: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(paths, "CORPUS_TABLE", studio / "missing.csv.gz")
    at = page("pages/1_dataset.py").run()
    assert not at.exception
    assert "python -m core data build" in at.error[0].value


# --------------------------------------------------------------------------- Training


def submit(at: AppTest, **values) -> AppTest:
    labels = {"epochs": "Epochs", "lr": "Learning rate", "batch_size": "Batch size"}
    for key, value in values.items():
        if key == "run_name":
            at.text_input[0].set_value(value)
        else:
            next(w for w in at.number_input if w.label == labels[key]).set_value(value)
    next(b for b in at.button if b.label == "Start training").click()
    return at.run()


def test_training_page_renders_empty(studio: Path) -> None:
    at = page("pages/2_training.py").run()
    assert not at.exception
    assert "No training runs yet" in at.info[0].value
    assert len(at.number_input) >= 8 and at.selectbox[0].options == ["lstm", "gru"]


@pytest.mark.parametrize(("values", "message"), [
    ({"epochs": 0}, "epochs must be a whole number from 1 to 10000, got 0"),
    ({"lr": 5.0}, "learning rate must be a number above 0 and below 1"),
    ({"lr": 0.0}, "learning rate must be a number above 0 and below 1"),
    ({"batch_size": 0}, "batch size must be a whole number from 1 to 8192"),
])
def test_training_form_rejects_bad_values_with_a_message(studio: Path, values: dict, message: str) -> None:
    at = submit(page("pages/2_training.py").run(), **values)
    assert not at.exception
    assert any(message in error.value for error in at.error), [e.value for e in at.error]
    assert not lock_path().exists() and not (studio / "runs").exists()


def test_training_form_starts_one_checked_train_config(studio: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started = []

    def start(config: TrainConfig) -> str:
        started.append(config)
        (studio / "runs" / config.run_name).mkdir(parents=True)
        return config.run_name

    monkeypatch.setattr(processes, "start_training", start)
    at = submit(page("pages/2_training.py").run(), epochs=3, lr=0.002, run_name="r1")
    assert not at.exception and not at.error
    assert started == [TrainConfig(epochs=3, lr=0.002, run_name="r1")]  # every other setting at its default


def test_training_form_refuses_a_taken_run_name(studio: Path) -> None:
    fake_run(studio, "taken", [2.0])
    at = submit(page("pages/2_training.py").run(), run_name="taken")
    assert any("'taken' already exists" in error.value for error in at.error)


def test_second_start_while_busy_names_the_busy_run(studio: Path) -> None:
    fake_run(studio, "busy-run", [2.0, 1.9])
    with training_lock("busy-run"):  # held by this process, as a trainer holds it
        at = page("pages/2_training.py").run()
        assert not at.exception
        assert f"run 'busy-run' (pid {os.getpid()}" in at.warning[0].value
        assert any(b.label == "Stop training" for b in at.button)
        at = submit(at, epochs=1)
        assert any("already running: run 'busy-run'" in error.value for error in at.error)


def test_training_page_lists_compares_and_activates_runs(studio: Path) -> None:
    fake_run(studio, "first", [2.0, 1.6, 1.4], test_top1=0.4, started=1.0)
    fake_run(studio, "second", [2.1, 1.8], started=2.0)
    at = page("pages/2_training.py").run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["run"]) == ["second", "first"]
    assert table.set_index("run").loc["first", "best val loss"] == "1.400"
    compare = next(c for c in at.get("plotly_chart") if "per epoch" in chart_title(c))
    assert {trace["name"] for trace in json.loads(compare.proto.spec)["data"]} == {"first", "second"}
    assert "tensorboard --logdir" in at.code[-1].value
    first = next(choice for choice in at.selectbox(key="model-choice").options if choice == "first")
    at.selectbox(key="model-choice").set_value(first)
    next(b for b in at.button if b.key == "make-active").click().run()
    assert not at.exception
    assert active_model.active_run_name() == "first"
    assert "first" in at.success[0].value


def test_stale_and_deleted_run_names_are_handled(studio: Path) -> None:
    fake_run(studio, "kept", [2.0])
    doomed = fake_run(studio, "doomed", [2.0, 1.9], started=5.0)
    at = page("pages/2_training.py")
    at.query_params["run"] = "ghost"
    at.run()
    assert not at.exception
    assert any("no run named 'ghost'" in error.value for error in at.error)
    at.selectbox(key="selected-run").set_value("doomed")
    next(b for b in at.button if b.key == "show-run").click().run()
    assert not at.exception and at.query_params["run"] == "doomed"
    assert "Run: doomed" in at.subheader[0].value
    for path in sorted(doomed.rglob("*"), reverse=True):
        path.unlink()
    doomed.rmdir()
    at.run()  # the run folder vanished while the page showed it
    assert not at.exception
    assert any("no run named 'doomed'" in error.value for error in at.error)
    assert "Run: kept" in at.subheader[0].value
    assert at.selectbox(key="selected-run").options == ["kept"]


def test_every_page_sets_itself_up() -> None:
    """Classic multipage mode runs a page file alone when its address is opened first: each must set itself up."""
    from studio.page import PAGES

    for page in PAGES:
        assert (ROOT / page.path).exists(), page.path
        assert f'set_up("{page.title}")' in (ROOT / page.path).read_text(), page.path
