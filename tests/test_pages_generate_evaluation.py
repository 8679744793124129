"""The Generate and Evaluation pages under streamlit.testing (AppTest), with a tiny random-weight model.

Like the other page tests: a private CHORDSMITH_OUTPUT and the small sample corpus table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core import paths
from core.training import runs
from core.training.run_folder import MODEL_FILE, TEST_RESULTS_FILE
from tests.tiny_models import saved_tiny_model

GENERATE = "pages/4_generate.py"
EVALUATION = "pages/3_evaluation.py"


@pytest.fixture
def model(studio: Path) -> Path:  # noqa: F811 - pytest fixture injection
    """A tiny model in a run folder, made the active model."""
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    runs.set_active("tiny")
    return folder


def opened(script: str, **query: str) -> AppTest:
    at = page(script)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def progressions(at: AppTest) -> list[str]:
    """The chords of every shown progression (from the 'Progression N: chords' headers)."""
    return [s.value.split(": ", 1)[1] for s in at.subheader if s.value.startswith("Progression ")]


def messages(at: AppTest) -> str:
    return " ".join(str(e.value) for kind in ("warning", "error", "info") for e in at.get(kind))


# --------------------------------------------------------------------------- without a model


def test_pages_without_a_model_say_how_to_get_one(studio: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setattr(paths, "DEFAULT_MODEL_DIR", studio / "no-model-here")
    for script in (GENERATE, EVALUATION):
        at = opened(script)
        assert not at.exception, (script, at.exception)
        assert "No trained model yet" in at.info[0].value and "Training" in at.info[0].value


@pytest.mark.parametrize("script", [GENERATE, EVALUATION])
def test_a_corrupted_model_file_shows_a_message_not_a_traceback(studio: Path, script: str) -> None:  # noqa: F811
    folder = studio / "runs" / "broken"
    folder.mkdir(parents=True)
    (folder / MODEL_FILE).write_bytes(b"this is not a keras file")
    runs.set_active("broken")
    at = opened(script)
    if script == EVALUATION:
        at.button(key="eval-compute").click().run()
    assert not at.exception, at.exception
    assert any("cannot load the model" in e.value for e in at.error), messages(at)


# --------------------------------------------------------------------------- Generate


def test_generate_shows_progressions_and_writes_the_seed_into_the_url(model: Path) -> None:
    at = opened(GENERATE, genre="pop", samples="2", length="6")
    assert not at.exception, at.exception
    chords = progressions(at)
    assert len(chords) == 2 and all(1 <= len(c.split()) <= 6 for c in chords)
    assert at.query_params["seed"].isdigit() and at.query_params["genre"] == "pop"
    assert at.get("audio") and at.get("image") and len(at.get("download_button")) == 6
    assert "Roman numerals in" in " ".join(c.value for c in at.caption)


def test_every_progression_up_to_the_samples_limit_is_shown(model: Path) -> None:
    at = opened(GENERATE, samples="100", length="4", seed="3")  # the one limit of core.config, as in the CLI and the API
    assert not at.exception, at.exception
    assert not at.warning and not at.error
    listed = at.dataframe[0].value
    assert list(listed["#"]) == list(range(9, 101)) and all(1 <= len(c.split()) <= 4 for c in listed["chords"])
    assert len(progressions(at)) == 9  # the first eight in full, and the one opened from the table
    at.selectbox(key="gen-open-more").set_value(99).run()
    assert progressions(at)[-1] == listed["chords"].iloc[-1]  # progression 100 opened in full


def test_the_same_query_gives_the_same_progressions(model: Path) -> None:
    query = {"genre": "jazz", "mood": "sad", "key": "D", "scale": "minor", "seed": "1234", "samples": "3",
             "temperature": "1.3", "top_k": "20"}
    first, second = opened(GENERATE, **query), opened(GENERATE, **query)
    assert progressions(first) == progressions(second) and len(progressions(first)) == 3
    other = opened(GENERATE, **{**query, "seed": "1235"})
    assert progressions(other) != progressions(first)


def test_an_unknown_seed_chord_names_the_symbol_and_the_accepted_qualities(model: Path) -> None:
    at = opened(GENERATE, seed="3")
    at.text_input(key="gen-seed_chords").set_value("C Hm7").run()
    assert not at.exception
    assert any("'Hm7'" in w.value for w in at.warning), messages(at)
    at.text_input(key="gen-seed_chords").set_value("C Fxyz").run()
    warning = next(w.value for w in at.warning if "Fxyz" in w.value)
    assert "quality 'xyz'" in warning and "'m7'" in warning  # the accepted qualities are listed
    at.text_input(key="gen-seed_chords").set_value("Dm7 G7").run()
    assert not at.warning and all(c.startswith("Dm7 G7") for c in progressions(at))
    assert at.query_params["seed_chords"] == "Dm7 G7"


def test_absurd_url_values_fall_back_to_defaults_with_messages(model: Path) -> None:
    at = opened(GENERATE, length="999", temperature="-1", samples="0", genre="polka", seed="8")
    assert not at.exception
    text = messages(at)
    for expected in ("length=999", "temperature=-1", "samples=0", "unknown genre 'polka'"):
        assert expected in text, (expected, text)
    assert at.slider(key="gen-length").value == 8 and at.slider(key="gen-temperature").value == 1.0
    assert len(progressions(at)) == 3


def test_locked_chords_are_kept_when_the_rest_is_regenerated(model: Path) -> None:
    at = opened(GENERATE, seed="21", samples="2", length="6")
    before = progressions(at)[0].split()
    padlocks = [box for box in at.checkbox if box.key.startswith("gen-lock-") and box.key.split("-")[-2] == "0"]
    padlocks[0].check()
    padlocks[3].check()
    at.button(key="gen-regen-0").click().run()
    assert not at.exception
    assert at.query_params["locks"] == f"1:{before[0]} 4:{before[3]}"
    assert at.query_params["seed"] != "21"
    for chords in progressions(at):
        assert chords.split()[0] == before[0] and chords.split()[3] == before[3]
    locked = [box.value for box in at.checkbox if box.key.startswith("gen-lock-") and box.key.endswith("-0-0")]
    assert locked == [True]  # the new progressions show their locked chords ticked


def test_clicking_an_alternative_swaps_the_chord(model: Path) -> None:
    at = opened(GENERATE, seed="5", samples="1", length="4")
    before = progressions(at)[0].split()
    at.button(key="gen-alt-0-1").click().run()
    swaps = [b for b in at.button if b.key.startswith("gen-swap-0-1-")]
    assert swaps, "alternatives are offered"
    choice = next(b for b in swaps if b.key.rsplit("-", 1)[1] != before[1])
    chord = choice.key.rsplit("-", 1)[1]
    choice.click().run()
    assert not at.exception
    after = progressions(at)[0].split()
    assert after[1] == chord and after[0] == before[0] and after[2:] == before[2:]
    assert "swaps" in at.query_params


def test_transpose_moves_the_shown_chords(model: Path) -> None:
    plain = progressions(opened(GENERATE, seed="9", samples="1", key="C"))[0]
    moved = progressions(opened(GENERATE, seed="9", samples="1", key="C", transpose="2"))[0]
    assert plain != moved and len(plain.split()) == len(moved.split())


def test_analyze_scores_a_progression_and_handles_empty_and_bad_input(model: Path) -> None:
    at = opened(GENERATE, seed="1")
    assert any("Type or paste a progression" in i.value for i in at.info)
    at.text_area(key="gen-analyze").set_value("C G Am F").run()
    assert not at.exception
    assert list(at.dataframe[0].value["chord"]) == ["C", "G", "Am", "F"]
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    assert "Genres it fits best" in titles and "Moods it fits best" in titles
    at.text_area(key="gen-analyze").set_value("C Q7").run()
    assert not at.exception
    assert any("'Q7'" in e.value for e in at.error)


# --------------------------------------------------------------------------- Evaluation


def test_evaluation_computes_test_results_confusion_and_conditioning_checks(model: Path) -> None:
    at = opened(EVALUATION)
    assert not at.exception, at.exception
    assert "no test results yet" in at.info[0].value
    at.button(key="eval-compute").click().run()
    assert not at.exception, at.exception
    assert (model / TEST_RESULTS_FILE).exists()
    models_shown = list(at.dataframe[0].value["model"])
    assert models_shown[0] == "LSTM (conditioned)" and "bigram (Kneser-Ney)" in models_shown
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    assert "per genre" in titles and "Top-k accuracy" in titles
    at.button(key="eval-confusion").click().run()
    assert not at.exception
    at.button(key="eval-conditioning").click().run()
    assert not at.exception, at.exception
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    for expected in ("Confusion among", "Share of minor chords", "generated vs real"):
        assert expected in titles, expected
    assert "4-grams copied from training" in " ".join(m.label for m in at.metric)


def test_evaluation_without_the_corpus_still_shows_test_results(model: Path, studio: Path,  # noqa: F811
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (model / TEST_RESULTS_FILE).write_text('{"models": {"lstm": {"top1": 0.4, "top5": 0.7, "perplexity": 9.0}}}')
    monkeypatch.setattr(paths, "CORPUS_TABLE", studio / "missing.csv.gz")
    at = opened(EVALUATION)
    assert not at.exception, at.exception
    assert list(at.dataframe[0].value["model"]) == ["LSTM (conditioned)"]
    assert any("python -m core data build" in e.value for e in at.error)
