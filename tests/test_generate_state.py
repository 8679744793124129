"""What a new user's walk through the Generate page found (issue 23, items 1-4, 6, 7), under streamlit.testing.

Arriving by the sidebar (a bare ``/generate``), editing, leaving by the sidebar and coming back by it
must bring back every edit: a star, a padlock, a progression regenerated, a chord swapped, the
composer. A private CHORDSMITH_OUTPUT, the sample table and a tiny random-weight model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture
from test_pages_generate_evaluation import GENERATE, click, model, progressions, select, show  # noqa: F401

DATASET = "pages/1_dataset.py"


def by_the_sidebar(at: AppTest, script: str) -> AppTest:
    """Open ``script`` as the sidebar's link does: its bare address, no query string."""
    at.switch_page(script)
    for name in list(at.query_params):
        del at.query_params[name]
    return at.run()


def star(at: AppTest) -> None:
    click(at, "gen-star-0")


def lock(at: AppTest) -> None:
    select(at, 1, 2)
    click(at, "gen-lock-1")


def regenerate(at: AppTest) -> None:
    click(at, "gen-regen-2")


def swap(at: AppTest) -> None:
    select(at, 0, 1)
    next(b for b in at.button if b.key.startswith("gen-swap-0-1-")).click().run()


def compose(at: AppTest) -> None:
    show(at, "Compose")
    next(b for b in at.button if b.key.startswith("gen-compose-add-next-")).click().run()
    show(at, "Progressions")


@pytest.mark.parametrize("edit", [star, lock, regenerate, swap, compose], ids=lambda e: e.__name__)
def test_leaving_and_returning_by_the_sidebar_keeps_every_edit(model: Path,  # noqa: F811
                                                                edit: Callable[[AppTest], None]) -> None:
    at = by_the_sidebar(page("app.py").run(), GENERATE)  # the first arrival: a bare /generate
    at.run()  # the run that writes the address the page arrived at
    first = dict(at.query_params)
    edit(at)
    assert not at.exception, at.exception
    edited, query = progressions(at), dict(at.query_params)
    assert query != first  # the edit is in the address
    by_the_sidebar(at, DATASET)
    assert not at.exception
    by_the_sidebar(at, GENERATE).run()
    assert not at.exception, at.exception
    assert progressions(at) == edited and dict(at.query_params) == query


def test_analyze_counts_the_chords_it_limits(model: Path) -> None:  # noqa: F811
    from core.config import MAX_CHORDS
    from core.errors import InputError
    from core.generation.analysis import read_scored

    typed = " ".join(["C", "G", "Am"] * 400)  # 1,200 chords, 3,599 characters
    with pytest.raises(InputError, match=f"at most {MAX_CHORDS} chords, got 1,200$"):
        read_scored(typed)
    at = page(GENERATE)
    at.query_params["seed"] = "3"
    at.run()
    show(at, "Analyze a progression")
    at.text_area(key="gen-analyze").set_value(typed).run()
    assert not at.exception, at.exception
    errors = " ".join(e.value for e in at.error).replace("\\", "")
    assert f"at most {MAX_CHORDS} chords, got 1,200" in errors and "characters" not in errors, errors


def test_links_carry_the_chords_as_the_page_spells_them(model: Path) -> None:  # noqa: F811
    at = page(GENERATE)
    for name, value in {"seed": "3", "samples": "2", "p1": "C# F# G# A#m"}.items():  # sharps typed into a link
        at.query_params[name] = value
    at.run()
    at.run()
    click(at, "gen-star-0")
    assert not at.exception, at.exception
    shown = progressions(at)[0]
    assert shown == "Db Gb Ab Bbm"  # the page spells them in Db major, the key they sit in
    assert at.query_params["p1"] == shown and at.query_params["fav"] == shown


def chord_labels(at: AppTest, progression: int) -> list[str]:
    """The chord pills of a progression as the page labels them."""
    return [str(option) for option in at.button_group(key=f"gen-chords-{progression}").proto.options]


def test_a_lock_wins_over_a_seed_chord_and_only_seed_chords_are_labelled_seeds(model: Path) -> None:  # noqa: F811
    at = page(GENERATE)
    for name, value in {"seed": "7", "samples": "2", "length": "4", "key": "C"}.items():
        at.query_params[name] = value
    at.run()
    select(at, 1, 0)
    click(at, "gen-lock-1")
    locked = progressions(at)[1].split()[0]
    at.text_input(key="gen-seed_chords").set_value("Dm7 G7").run()
    assert not at.exception, at.exception
    first, second = (p.split() for p in progressions(at)[:2])
    assert first[:2] == ["Dm7", "G7"] and second[0] == locked and second[1] == "G7"
    assert "seed" not in chord_labels(at, 1)[0] and "seed" in chord_labels(at, 1)[1]
    assert all("seed" in label for label in chord_labels(at, 0)[:2])
    notes = " ".join(c.value for c in at.caption).replace("\\", "")
    assert f"chord 1 stays {locked} (locked) instead of seed chord Dm7" in notes and "a lock wins" in notes
    click(at, "gen-undo-0")  # the version from before the seeds: its chords are not the seeds, nor labelled so
    undone = progressions(at)[0].split()
    labels = chord_labels(at, 0)
    assert [("seed" in label) for label in labels[:2]] == [undone[0] == "Dm7", undone[1] == "G7"], labels
