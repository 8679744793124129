"""Analyze (core.generation.analysis): the input cap, typed symbols with notes, calibrated fits and "no clear fit"."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette: "use httpx2" (httpx works)
    from fastapi.testclient import TestClient

from core.cli import main
from core.conditions import Conditions
from core.config import MAX_CHORDS
from core.errors import InputError
from core.generation.analysis import analyze
from core.generation.calibration import ConditionCalibration, calibration_payload
from core.generation.score import rank_condition, rankable_values, score_progression
from core.run_files import CALIBRATION_FILE
from core.serving.api import create_app
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return saved_tiny_model(tmp_path_factory.mktemp("analysis"), seed=6, scale=1.0)


def test_analysis_scores_the_chords_as_typed_with_notes(model_dir) -> None:
    conditions = Conditions.parse(key="A")
    result = analyze(model_dir, "A E/G# G7sus4 D", conditions)
    assert result.score["chords"] == ["A", "E/G#", "Gsus4", "D"] and result.key == "A major"
    assert result.notes == ["G7sus4 read as Gsus4"]
    plain = score_progression(model_dir, "A E Gsus4 D", conditions)
    assert result.score["probabilities"] == pytest.approx(plain["probabilities"])
    for fit, name in ((result.genre, "genre"), (result.mood, "mood")):
        assert fit.posterior == pytest.approx(rank_condition(model_dir, "A E Gsus4 D", conditions, name))
        assert list(fit.posterior) == sorted(fit.posterior, key=fit.posterior.get, reverse=True)
        top, runner_up = list(fit.posterior.values())[:2]
        assert fit.clear == (list(fit.posterior)[0] if top >= 2 * runner_up else None)
    assert json.loads(json.dumps(result.to_dict()))["genre"]["clear_fit"] == result.genre.clear


def test_a_long_progression_gets_no_clear_fit_once_calibrated(model_dir, tmp_path) -> None:
    import shutil

    calibrated = tmp_path / "calibrated"
    shutil.copytree(model_dir, calibrated)
    chords = " ".join(["C", "F#m7b5", "Ab", "D7", "Ebmaj7", "B", "Gm6", "E"] * 8)  # 64 unrelated chords
    raw = analyze(calibrated, chords)
    assert max(raw.genre.posterior.values()) > 0.99  # the raw product: certain about nonsense
    fits = {name: ConditionCalibration(temperature=3.0, length_exponent=1.0) for name in ("genre", "mood")}
    values = {name: rankable_values(name) for name in fits}
    (calibrated / CALIBRATION_FILE).write_text(json.dumps(calibration_payload(fits, values, {})))
    result = analyze(calibrated, chords)
    assert result.genre.clear is None and result.mood.clear is None  # no clear fit
    assert max(result.genre.posterior.values()) < 0.5


def test_the_cap_is_the_same_everywhere(model_dir, capsys) -> None:
    too_long = " ".join(["C", "G"] * (MAX_CHORDS // 2) + ["F"])
    message = f"a progression may hold at most {MAX_CHORDS} chords, got {MAX_CHORDS + 1}"
    with pytest.raises(InputError, match=message):
        analyze(model_dir, too_long)
    with pytest.raises(InputError, match=f"at most {MAX_CHORDS} chords, got 2,000$"):  # counted in chords, as capped
        analyze(model_dir, "C " * 2000)
    assert len(analyze(model_dir, " ".join(["C", "G"] * (MAX_CHORDS // 2))).score["chords"]) == MAX_CHORDS
    with TestClient(create_app(model_dir)) as client:
        answer = client.post("/score", json={"progressions": [too_long]})
        assert answer.status_code == 422 and message in answer.text
        typed = client.post("/score", json={"progressions": ["C G7sus4 F"]})
        assert typed.status_code == 200 and typed.json()["results"][0]["notes"] == ["G7sus4 read as Gsus4"]
    assert main(["score", "--model", str(model_dir), "--chords", too_long]) == 2
    assert capsys.readouterr().err.strip() == f"error: --chords: {message}"
    assert main(["score", "--model", str(model_dir), "--chords", "C G7sus4 F"]) == 0
    assert capsys.readouterr().err.strip() == "note: --chords: G7sus4 read as Gsus4"
