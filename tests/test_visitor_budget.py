"""A visitor's budget of decoder work on the Generate page: ordinary clicks pass, the heaviest requests get a message.

The budget itself (studio.visitor_budget.WorkBudget) is tested with explicit times; the page under
streamlit.testing (AppTest) with an owner password set, so the session is a visitor's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_access import secrets, with_password  # noqa: F401 - shared fixtures
from test_pages_dataset_training import page, studio  # noqa: F401 - the shared fixture

from core.conditions import Conditions
from core.config import MAX_ANALYZE_CHARACTERS, VISITOR_WORK_BUDGET, VISITOR_WORK_PER_S
from core.training import active_model
from studio import visitor_budget
from studio.visitor_budget import OverBudget, WorkBudget
from tests.tiny_models import saved_tiny_model

GENERATE = "pages/4_generate.py"


def test_the_budget_refills_with_time_and_refuses_what_is_over_it() -> None:
    budget = WorkBudget()
    budget.charge(VISITOR_WORK_BUDGET - 1_000, "a big request", now=100.0)
    with pytest.raises(OverBudget, match=r"try again in \d+ s"):
        budget.charge(5_000, "another", now=100.0)
    assert budget.left == pytest.approx(1_000)  # a refused request spends nothing
    budget.charge(5_000, "another", now=100.0 + 4_000 / VISITOR_WORK_PER_S)  # refilled enough by then
    with pytest.raises(OverBudget, match="more than a visitor may ask for at once"):
        WorkBudget().charge(VISITOR_WORK_BUDGET + 1, "too much", now=1.0)


def test_locks_and_guidance_make_drawing_dearer() -> None:
    open_conditions, rock = Conditions.parse(), Conditions.parse(genre="rock")
    plain = visitor_budget.drawing_work(64, [set()], 1, 1.0, open_conditions)
    locked = visitor_budget.drawing_work(64, [{63}], 1, 1.0, open_conditions)
    assert 0 < plain < locked
    assert visitor_budget.drawing_work(64, [{63}], 1, 1.0, rock) == 2 * locked
    assert visitor_budget.drawing_work(64, [{63}] * 3, 1, 1.0, rock) == 6 * locked


def test_analysis_work_grows_with_the_chords_and_refuses_a_flood() -> None:
    assert visitor_budget.analysis_work("C G Am F") < visitor_budget.analysis_work("C G Am F " * 8)
    with pytest.raises(visitor_budget.InputError, match="chords"):  # too many chords: said in chords
        visitor_budget.analysis_work("C " * MAX_ANALYZE_CHARACTERS)
    with pytest.raises(visitor_budget.InputError, match="characters"):  # few chords in a flood of text
        visitor_budget.analysis_work("C" + " " * MAX_ANALYZE_CHARACTERS + "G")


@pytest.fixture
def model(studio: Path) -> Path:  # noqa: F811 - pytest fixture injection
    folder = saved_tiny_model(studio / "runs" / "tiny", end_bias=-3.0)
    active_model.set_active("tiny")
    return folder


@pytest.mark.slow
def test_a_visitors_heaviest_generate_gets_a_message_not_a_spinner(model: Path, with_password: Path) -> None:  # noqa: F811
    at = page(GENERATE)
    at.query_params.update({"seed": "1", "samples": "3", "genre": "rock"})
    at.run()
    assert not at.exception and not at.error  # an ordinary visit is far inside the budget
    heavy = page(GENERATE)
    locked = " ".join(["C"] * 63 + ["C*"])  # every progression keeps its last chord: drawn around it
    heavy.query_params.update({"seed": "1", "samples": "20", "length": "64", "genre": "rock",
                               **{f"p{n}": locked for n in range(1, 21)}})
    heavy.run()
    if not heavy.error:  # the link's progressions are shown as they are; drawing them anew is the heavy part
        next(b for b in heavy.button if b.key == "gen-new").click().run()
    assert not heavy.exception
    assert any("decoder steps" in error.value and "ask for" in error.value for error in heavy.error), \
        [e.value for e in heavy.error]
