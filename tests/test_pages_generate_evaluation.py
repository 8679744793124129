"""The Generate and Evaluation pages under streamlit.testing (AppTest), with a tiny random-weight model.

Like the other page tests: a private CHORDSMITH_OUTPUT and the small sample corpus table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core import paths
from core.chords import read_symbol
from core.config import GenerationSettings
from core.run_files import MODEL_FILE, TEST_RESULTS_FILE
from core.training import active_model
from studio.plain_text import as_read
from tests.tiny_models import saved_tiny_model

GENERATE = "pages/4_generate.py"
EVALUATION = "pages/3_evaluation.py"


@pytest.fixture
def model(studio: Path) -> Path:  # noqa: F811 - pytest fixture injection
    """A tiny model in a run folder, made the active model."""
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    active_model.set_active("tiny")
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
    """The warnings, errors and notes as a reader sees them (supplied text in them is escaped: studio.plain_text)."""
    return as_read(" ".join(str(e.value) for kind in ("warning", "error", "info") for e in at.get(kind)))


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
    active_model.set_active("broken")
    at = opened(script)
    if script == EVALUATION:
        at.button(key="eval-compute").click().run()
    assert not at.exception, at.exception
    assert any("cannot load the model" in e.value for e in at.error), messages(at)


# --------------------------------------------------------------------------- Generate


def pitches(symbols: str) -> list:
    """The chords of symbols, whatever their spelling (the page spells each progression in its key)."""
    return [read_symbol(s).slash for s in symbols.split()]


def click(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


def select(at: AppTest, progression: int, position: int) -> AppTest:
    """Click chord ``position`` of progression ``progression`` (it plays and its panel opens)."""
    return at.button_group(key=f"gen-chords-{progression}").set_value(position).run()


def show(at: AppTest, tab: str) -> AppTest:
    at.session_state["gen-view"] = tab
    return at.run()


def test_generate_shows_progressions_and_writes_the_seed_and_the_model_into_the_url(model: Path) -> None:
    at = opened(GENERATE, genre="pop", samples="2", length="6")
    assert not at.exception, at.exception
    chords = progressions(at)
    assert len(chords) == 2 and all(len(c.split()) == 6 for c in chords)  # the length asked for (the model may not end it)
    assert at.query_params["seed"].isdigit() and at.query_params["genre"] == "pop"
    assert re.fullmatch(r"tiny@[0-9a-f]{12}", at.query_params["model"])
    assert at.get("image") and len(at.get("download_button")) == 6
    assert "Key " in " ".join(c.value for c in at.caption)
    assert "p(chord | chords before it)" in " ".join(c.value for c in at.caption)


def test_a_long_progression_shows_its_notation_on_request(model: Path) -> None:
    at = opened(GENERATE, seed="2", samples="1", length="20")
    assert not at.get("image") and len(progressions(at)[0].split()) == 20
    at.toggle(key="gen-notation-0").set_value(True).run()
    assert len(at.get("image")) == 1


def test_every_progression_up_to_the_samples_limit_is_shown(model: Path) -> None:
    at = opened(GENERATE, samples="100", length="4", seed="3")  # the one limit of core.config, as in the CLI and the API
    assert not at.exception, at.exception
    assert not at.warning and not at.error
    listed = at.dataframe[0].value
    assert list(listed["#"]) == list(range(9, 101)) and all(len(c.split()) == 4 for c in listed["chords"])
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
    assert any("Fxyz" in w.value for w in at.warning), messages(at)
    at.text_input(key="gen-seed_chords").set_value("Dm7 G7").run()
    assert not at.warning and all(c.startswith("Dm7 G7") for c in progressions(at))
    assert at.query_params["seed_chords"] == "Dm7 G7"
    at.text_input(key="gen-seed_chords").set_value("C/E F").run()  # a typed bass is kept in what is shown
    assert not at.warning and all(pitches(c)[:2] == pitches("C/E F") for c in progressions(at))


def test_a_link_from_before_per_progression_edits_keeps_its_locks(model: Path) -> None:
    at = opened(GENERATE, seed="4", samples="2", length="4", locks="1:C 4:G")
    assert not at.exception and not at.warning
    for chords in progressions(at):
        assert pitches(chords)[0] == read_symbol("C").slash and pitches(chords)[3] == read_symbol("G").slash
    assert at.query_params["p1"].startswith("C*") and "locks" not in at.query_params


def test_absurd_url_values_fall_back_to_defaults_with_messages(model: Path) -> None:
    at = opened(GENERATE, length="999", temperature="-1", samples="0", genre="polka", seed="abc", swaps="7.1:C")
    assert not at.exception
    text = messages(at)
    for expected in ("length=999", "temperature=-1", "samples=0", "unknown genre 'polka'",
                     f"seed=abc: random seed must be a whole number from 0 to 4294967295, got 'abc'; using a random "
                     f"seed ({at.query_params['seed']}).", "there is no progression 7"):
        assert expected in text, (expected, text)
    defaults = GenerationSettings()
    assert at.slider(key="gen-length").value == defaults.length
    assert at.slider(key="gen-temperature").value == defaults.temperature
    assert len(progressions(at)) == 3


def test_regenerating_one_progression_leaves_the_others_untouched_and_undo_brings_it_back(model: Path) -> None:
    at = opened(GENERATE, seed="21", samples="3", length="6")
    before = progressions(at)
    click(at, "gen-regen-1")
    assert not at.exception, at.exception
    after = progressions(at)
    assert after[0] == before[0] and after[2] == before[2] and after[1] != before[1]
    assert at.query_params["seed"] == "21" and pitches(at.query_params["p2"]) == pitches(after[1])
    click(at, "gen-undo-1")
    assert progressions(at) == before


def test_locked_chords_stay_when_their_progression_is_regenerated(model: Path) -> None:
    at = opened(GENERATE, seed="21", samples="2", length="6")
    before = progressions(at)
    for position in (0, 3):
        select(at, 0, position)
        click(at, "gen-lock-0")
    assert at.query_params["p1"].split()[0].endswith("*") and at.query_params["p1"].split()[3].endswith("*")
    for _ in range(3):
        click(at, "gen-regen-0")
        chords, first = pitches(progressions(at)[0]), pitches(before[0])
        assert (chords[0], chords[3]) == (first[0], first[3])
        assert all(a != b for a, b in zip(chords, chords[1:], strict=False))  # no repeat beside a locked chord
        assert progressions(at)[1] == before[1]
    kept = progressions(at)
    click(at, "gen-release-0")
    assert progressions(at) == kept and "*" not in at.query_params["p1"]


def test_generate_new_redraws_every_progression_but_keeps_locked_chords(model: Path) -> None:
    at = opened(GENERATE, seed="8", samples="2", length="5")
    before = progressions(at)
    select(at, 1, 2)
    click(at, "gen-lock-1")
    click(at, "gen-new")
    assert not at.exception and at.query_params["seed"] != "8"
    after = progressions(at)
    assert pitches(after[1])[2] == pitches(before[1])[2] and after != before
    click(at, "gen-undo-0")
    assert progressions(at)[0] == before[0]  # each progression keeps its versions, the batch's too


def test_generate_new_right_after_arriving_wins_over_the_arrival_address(model: Path) -> None:
    arrival = {"seed": "8", "samples": "2", "length": "5"}
    at = opened(GENERATE, **arrival)
    before = progressions(at)
    at.query_params.clear()  # the click comes before the browser shows the address the page wrote (seen in CI)
    at.query_params.update(arrival)
    click(at, "gen-new")
    assert not at.exception and at.query_params["seed"] != "8" and progressions(at) != before


def test_progressions_keeping_the_same_chords_are_drawn_together_each_its_own(model: Path) -> None:
    at = opened(GENERATE, seed="3", samples="3", length="4", p1="C* G Am F*", p2="C* Dm G F*", p3="E* Am Dm G")
    click(at, "gen-new")
    assert not at.exception, at.exception
    first, second, third = (pitches(p) for p in progressions(at))
    assert first[0] == second[0] == read_symbol("C").slash and first[3] == second[3] == read_symbol("F").slash
    assert first != second  # drawn in one batch, each from its own random stream
    assert third[0] == read_symbol("E").slash and at.query_params["p3"].startswith("E*")


def test_more_or_fewer_progressions_keep_the_ones_shown(model: Path) -> None:
    at = opened(GENERATE, seed="6", samples="2", length="4")
    click(at, "gen-regen-0")
    shown = progressions(at)
    at.number_input(key="gen-samples").set_value(4).run()
    assert progressions(at)[:2] == shown and len(progressions(at)) == 4
    at.number_input(key="gen-samples").set_value(1).run()
    assert progressions(at) == shown[:1]


def test_clicking_an_alternative_swaps_the_chord(model: Path) -> None:
    at = opened(GENERATE, seed="5", samples="2", length="4")
    before = progressions(at)
    select(at, 0, 1)
    swaps = [b for b in at.button if b.key.startswith("gen-swap-0-1-")]
    assert swaps, "alternatives are offered"
    assert "current chord" in " ".join(c.value for c in at.caption)  # the current chord is marked among them
    chord = swaps[0].key.rsplit("-", 1)[1]
    swaps[0].click().run()
    assert not at.exception
    after = pitches(progressions(at)[0])
    assert after[1].chord == read_symbol(chord).chord
    assert after[:1] + after[2:] == pitches(before[0])[:1] + pitches(before[0])[2:]
    assert progressions(at)[1] == before[1] and "p1" in at.query_params


def test_an_inversion_is_shown_as_a_slash_chord(model: Path) -> None:
    at = opened(GENERATE, seed="5", samples="1", length="4", key="C")
    select(at, 0, 0)
    click(at, "gen-inv-0-0-1")
    first = progressions(at)[0].split()[0]
    assert "/" in first and at.query_params["p1"].split()[0].count("/") == 1


def test_transpose_moves_the_shown_chords_and_typed_seed_chords_stay_as_typed(model: Path) -> None:
    plain = progressions(opened(GENERATE, seed="9", samples="1", key="C"))[0]
    moved = progressions(opened(GENERATE, seed="9", samples="1", key="C", transpose="2"))[0]
    assert plain != moved and len(plain.split()) == len(moved.split())
    at = opened(GENERATE, seed="9", samples="2", key="C", transpose="2")
    at.text_input(key="gen-seed_chords").set_value("Am F").run()
    assert not at.exception and all(p.startswith("Am F ") for p in progressions(at))
    assert at.query_params["seed_chords"] == "Gm Eb"  # the URL keeps the generated key


def test_a_trip_to_another_page_and_back_restores_the_page(model: Path) -> None:
    at = opened(GENERATE, seed="13", samples="3", length="5", genre="rock")
    click(at, "gen-regen-2")
    click(at, "gen-star-0")
    shown, query = progressions(at), dict(at.query_params)
    at.switch_page("pages/1_dataset.py").run()
    assert not at.exception
    for name in list(at.query_params):  # the sidebar's link opens /generate without a query string
        del at.query_params[name]
    at.switch_page(GENERATE).run()
    assert not at.exception, at.exception
    assert progressions(at) == shown and dict(at.query_params) == query
    assert at.selectbox(key="gen-genre").value == "rock" and "fav" in at.query_params


def test_an_earlier_address_brings_back_what_it_showed(model: Path) -> None:  # the browser's Back button
    at = opened(GENERATE, seed="17", samples="2", length="4", compose="C G", view="compose")
    earlier = dict(at.query_params)
    show(at, "Progressions")
    shown = progressions(at)
    click(at, "gen-regen-0")
    click(at, "gen-star-1")
    assert progressions(at) != shown
    for name in list(at.query_params):
        del at.query_params[name]
    for name, value in earlier.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception and dict(at.query_params) == earlier
    assert at.text_input(key="gen-compose-text").value == "C G"  # the composer as it was there
    show(at, "Progressions")
    assert progressions(at) == shown


def test_favourites_gather_in_their_panel_with_their_own_link(model: Path) -> None:
    at = opened(GENERATE, seed="13", samples="2", length="4")
    first = progressions(at)[0]
    click(at, "gen-star-0")
    click(at, "gen-new")
    assert progressions(at)[0] != first and at.query_params["fav"]
    show(at, "Favourites")
    assert not at.exception, at.exception
    link = next(c.value for c in at.code if "fav=" in c.value)
    assert "view=favourites" in link and "model=tiny%40" in link and "p1=" not in link
    assert first in as_read(" ".join(m.value for m in at.markdown))
    click(at, "gen-fav-remove-0")
    assert "fav" not in at.query_params


def test_a_link_uses_the_model_it_names_whatever_is_active(model: Path, studio: Path) -> None:  # noqa: F811
    other = saved_tiny_model(studio / "runs" / "other", seed=7, end_bias=-3.0)
    query = {"seed": "4", "samples": "2", "length": "5"}
    active_model.set_active("other")
    made = opened(GENERATE, **query)
    link = dict(made.query_params)
    assert link["model"].startswith("other@")
    active_model.set_active("tiny")
    again = opened(GENERATE, **link)
    assert not again.exception and progressions(again) == progressions(made)
    assert again.selectbox(key="gen-model").value == "other" and not again.warning
    assert other.exists()
    lost = opened(GENERATE, **{**link, "model": "gone@abcdef123456"})
    assert "This link was made with model gone@abcdef123456" in messages(lost)
    assert "differ" in messages(lost) and lost.query_params["model"].startswith("tiny@")


def test_the_composer_ranks_what_comes_next_and_appends_a_chord(model: Path) -> None:
    at = opened(GENERATE, seed="2", compose="C G", view="compose")
    assert not at.exception, at.exception
    adds = [b for b in at.button if b.key.startswith("gen-compose-add-next-")]
    assert len(adds) == 8
    chord = adds[0].key.rsplit("-", 1)[1]
    adds[0].click().run()
    assert at.query_params["compose"] == f"C G {chord}"
    inserts = [b for b in at.button if b.key.startswith("gen-compose-add-fit-")]
    assert inserts, "what fits between two chords is offered"


def test_analyze_scores_a_progression_and_handles_empty_and_bad_input(model: Path) -> None:
    at = opened(GENERATE, seed="1", view="analyze")
    assert any("Type or paste a progression" in i.value for i in at.info)
    at.text_area(key="gen-analyze").set_value("C G Am F").run()
    assert not at.exception
    assert list(at.dataframe[0].value["chord"]) == ["C", "G", "Am", "F"]
    titles = " ".join(str(c.proto.spec) for c in at.get("plotly_chart"))
    assert "Genres it fits best" in titles and "Moods it fits best" in titles
    fits = [c.value for c in at.caption if "fit" in c.value]  # one line per condition: the clear fit, or none
    assert len(fits) == 2 and all(f.startswith(("Best fit:", "No clear fit:")) for f in fits)
    at.text_area(key="gen-analyze").set_value("C Q7").run()
    assert not at.exception
    assert any("'Q7'" in e.value for e in at.error)
    at.text_area(key="gen-analyze").set_value("C G7sus4 Am F/A").run()
    assert list(at.dataframe[0].value["chord"])[-1] == "F/A"  # a typed slash bass is kept
    assert "G7sus4 read as" in " ".join(c.value for c in at.caption)


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
