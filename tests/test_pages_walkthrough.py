"""What a new user's walk through the Training and Evaluation pages found (issue 23), under streamlit.testing.

ChordPro songs separated by ``{title:}`` and by ``{new_song}``; the per-file table beside a refused
upload; an out-of-range "Samples per mood / genre" refused instead of silently run with the old value;
the Evaluation page's words explained. A private CHORDSMITH_OUTPUT and the small sample table.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core.corpus.user_import import ImportRefused, import_songs
from core.corpus.user_songs import read_chordpro
from core.evaluation import condition_checks
from core.run_files import TEST_RESULTS_FILE
from core.training import active_model
from tests.tiny_models import saved_tiny_model

THREE_TITLES = """{title: First}
[C]one [G]two [Am]three
{title: Second}
[F]four [C]five [G]six
{t: Third}
[Dm]seven [G]eight [C]nine
"""
THREE_NEW_SONGS = THREE_TITLES.replace("{title: Second}", "{new_song}\n{title: Second}").replace(
    "{t: Third}", "{ns}\n{t: Third}")
TWO_TITLES = "\n".join(THREE_TITLES.splitlines()[:4]) + "\n"


@pytest.mark.parametrize("text", [THREE_TITLES, THREE_NEW_SONGS], ids=["title", "new_song"])
def test_chordpro_songs_are_separated_by_titles_and_by_new_song(text: str) -> None:
    reading = read_chordpro("songs.cho", text)
    assert [song.title for song in reading.songs] == ["First", "Second", "Third"]
    assert [[c.symbol for c in song.segments[0].chords] for song in reading.songs] == [
        ["C", "G", "Am"], ["F", "C", "G"], ["Dm", "G", "C"]]


def test_a_refused_import_carries_what_each_file_gave() -> None:
    with pytest.raises(ImportRefused, match="2 song.*at least 3.*new_song") as refused:
        import_songs([("two.cho", TWO_TITLES.encode())])
    assert [(r.file, len(r.songs)) for r in refused.value.readings] == [("two.cho", 2)]


def training_page() -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.switch_page("pages/2_training.py")
    return at


def test_a_refused_upload_still_shows_the_per_file_table(studio: Path) -> None:  # noqa: F811
    at = training_page().run()
    at.get("file_uploader")[0].upload("two.cho", TWO_TITLES.encode())
    at.run()
    assert not at.exception
    refusals = [e.value.replace("\\", "") for e in at.error]  # as written: the page escapes supplied text
    assert any("at least 3 are needed" in e and "{new_song}" in e for e in refusals), refusals
    files = next(frame.value for frame in at.dataframe if "file" in frame.value.columns)
    assert list(files["file"]) == ["two.cho"] and list(files["songs"]) == [2]
    assert not any(b.key == "song-tune" for b in at.button)
    assert any("{new_song}" in c.value for c in at.caption)  # the page says how ChordPro songs are separated


@pytest.fixture
def evaluation(studio: Path) -> AppTest:  # noqa: F811
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    active_model.set_active("tiny")
    (folder / TEST_RESULTS_FILE).write_text(json.dumps(
        {"split": "test", "models": {"lstm": {"top1": 0.4, "top5": 0.7, "perplexity": 9.0, "cross_entropy": 2.2},
                                     "bigram": {"top1": 0.3, "top5": 0.6, "perplexity": 12.0, "cross_entropy": 2.5}}}))
    return page("pages/3_evaluation.py").run()


def test_the_evaluation_words_are_explained(evaluation: AppTest) -> None:
    assert not evaluation.exception
    glossary = next(e for e in evaluation.expander if e.label == "What do these words mean?")
    text = " ".join(m.value for m in glossary.markdown)
    for word in ("Kneser-Ney", "nats", "END included", "perplexity"):
        assert word in text, word


@pytest.mark.parametrize(("key", "typed", "message"), [
    ("eval-samples", 5, "between 10 and 200, not 5"),
    ("eval-length", 40, "between 4 and 16, not 40"),
])
def test_an_out_of_range_check_setting_is_refused_not_replaced(evaluation: AppTest, monkeypatch: pytest.MonkeyPatch,
                                                               key: str, typed: int, message: str) -> None:
    ran: list[dict] = []
    monkeypatch.setattr(condition_checks, "conditioning_report", lambda *args, **kwargs: ran.append(kwargs))
    evaluation.number_input(key=key).set_value(typed).run()
    assert not evaluation.exception
    assert any(message in e.value for e in evaluation.error)
    assert not any(b.key == "eval-conditioning" for b in evaluation.button)  # nothing to run with a value not shown
    assert ran == []
    evaluation.number_input(key=key).set_value(10).run()
    assert not evaluation.error and any(b.key == "eval-conditioning" for b in evaluation.button)
