"""Calibrated genre/mood fits: the fit recovers a known scaling, ECE, clear fits, and score --rank reads calibration.json."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.generation.calibration import (
    LENGTH_EXPONENTS,
    UNCALIBRATED,
    ConditionCalibration,
    clear_fit,
    expected_calibration_error,
    fit_calibration,
    load_calibration,
)
from core.generation.decoder import make_decoder
from core.generation.loading import Generator
from core.generation.score import rank_condition
from core.run_files import CALIBRATION_FILE
from tests.sample_corpus import sample_frame
from tests.tiny_models import saved_tiny_model, tiny_model


def _synthetic(temperature: float, exponent: float, rows: int = 4000, values: int = 5, seed: int = 0, floor: int = 1):
    """Evidence whose true posterior is softmax(L / (T max(1, n/n0)^a)); labels drawn from it."""
    rng = np.random.default_rng(seed)
    factors = rng.integers(2, 65, rows)
    per_chord = rng.normal(0.0, 1.0, (rows, values))
    log_likelihoods = per_chord * factors[:, None] ** 0.5 * 2.0
    truth = ConditionCalibration(temperature, exponent, floor).posteriors(log_likelihoods, factors)
    labels = np.array([rng.choice(values, p=p) for p in truth])
    return log_likelihoods, factors, labels


@pytest.mark.parametrize("temperature, exponent, floor", [(3.0, 0.5, 1), (0.6, 1.0, 1), (1.5, 0.0, 1), (1.2, 1.0, 11)])
def test_fit_recovers_the_scaling_that_made_the_labels(temperature: float, exponent: float, floor: int) -> None:
    log_likelihoods, factors, labels = _synthetic(temperature, exponent, floor=floor)
    fit = fit_calibration(log_likelihoods, factors, labels)
    assert (fit.length_exponent, fit.length_floor) == (exponent, floor) or exponent == 0.0
    assert fit.temperature == pytest.approx(temperature, rel=0.15)
    before = expected_calibration_error(UNCALIBRATED.posteriors(log_likelihoods, factors), labels)
    after = expected_calibration_error(fit.posteriors(log_likelihoods, factors), labels)
    assert after < 0.03 and (temperature == 1.0 and exponent == 0.0 or after < before)


def test_expected_calibration_error_by_hand() -> None:
    posteriors = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    labels = np.array([0, 1, 0, 0])
    # bin 0.9: accuracy 1/2 vs 0.9 -> 0.4; bin 0.6: accuracy 1 vs 0.6 -> 0.4; each half the rows
    assert expected_calibration_error(posteriors, labels) == pytest.approx(0.4)
    assert expected_calibration_error(np.array([[0.5, 0.5]] * 2), np.array([0, 1])) == pytest.approx(0.0)


def test_calibration_keeps_the_ranking_and_softens_long_evidence() -> None:
    log_likelihoods = np.array([[-100.0, -110.0, -120.0]])
    raw = UNCALIBRATED.posteriors(log_likelihoods, np.array([200]))[0]
    softened = ConditionCalibration(1.0, 1.0).posteriors(log_likelihoods, np.array([200]))[0]
    assert raw.argmax() == softened.argmax() == 0
    assert raw[0] > 0.9999 and softened[0] < 0.5


def test_clear_fit_needs_the_top_value_twice_the_runner_up() -> None:
    assert clear_fit({"pop": 0.6, "rock": 0.3, "jazz": 0.1}) == "pop"
    assert clear_fit({"pop": 0.45, "rock": 0.35, "jazz": 0.2}) is None
    assert clear_fit({"pop": 1.0}) == "pop" and clear_fit({}) is None


def test_rank_condition_reads_calibration_json(tmp_path) -> None:
    generator = Generator(make_decoder(tiny_model(seed=11, scale=1.5)), tmp_path)
    chords = "C G Am F C G Am F Dm G C E7 Am F G C"
    raw = rank_condition(generator, chords, name="genre")
    (tmp_path / CALIBRATION_FILE).write_text(json.dumps(
        {"clear_fit_ratio": 2.0, "conditions": {"genre": {"temperature": 4.0, "length_exponent": 0.5}}}))
    calibrated = rank_condition(generator, chords, name="genre")
    assert list(calibrated) == list(raw)  # same order
    assert max(calibrated.values()) < max(raw.values())
    assert rank_condition(generator, chords, name="genre", calibrated=False) == pytest.approx(raw)
    assert rank_condition(generator, chords, name="mood") == pytest.approx(
        rank_condition(generator, chords, name="mood", calibrated=False))  # no mood entry: raw
    assert load_calibration(tmp_path)["genre"] == ConditionCalibration(4.0, 0.5)


def test_fit_model_calibration_on_a_small_table(tmp_path) -> None:
    from core.evaluation.calibrate import fit_model_calibration

    frame = sample_frame()
    frame["split"] = "validation"  # every song labelled with a genre and (but one) a mood
    generator = Generator(make_decoder(tiny_model(seed=2)), tmp_path)
    document = fit_model_calibration(generator, frame)
    for name in ("genre", "mood"):
        entry = document["conditions"][name]
        assert entry["temperature"] > 0 and entry["length_exponent"] in LENGTH_EXPONENTS
        assert entry["validation"]["after"]["nll"] <= entry["validation"]["before"]["nll"] + 1e-9
    assert document["conditions"]["genre"]["validation"]["after"]["rows"] == 8  # openings of 4 and 8 chords
    assert document["conditions"]["mood"]["validation"]["after"]["rows"] == 6  # the folk tune has no mood
    with pytest.raises(InputError, match="no validation songs labelled"):
        fit_model_calibration(generator, pd.DataFrame(frame.assign(split="train")))


def test_write_calibration_beside_the_model(tmp_path) -> None:
    from core.evaluation.calibrate import write_calibration

    frame = sample_frame().assign(split="validation")
    path = write_calibration(saved_tiny_model(tmp_path, seed=3), frame)
    assert path == tmp_path / CALIBRATION_FILE
    assert set(load_calibration(tmp_path)) == {"genre", "mood"}


def test_api_score_rank_gives_the_clear_fit_or_none(tmp_path) -> None:
    from fastapi.testclient import TestClient

    from core.serving.api import create_app

    folder = saved_tiny_model(tmp_path, seed=11, scale=1.5)
    with TestClient(create_app(str(folder))) as client:
        body = {"progressions": ["C G Am F C G Am F Dm G C E7 Am F G C"], "rank": "genre"}
        raw = client.post("/score", json=body).json()["results"][0]
        assert raw["best_fit"] == clear_fit(raw["posterior"])
        (folder / CALIBRATION_FILE).write_text(json.dumps(
            {"clear_fit_ratio": 2.0, "conditions": {"genre": {"temperature": 1000.0, "length_exponent": 0.0}}}))
        flat = client.post("/score", json=body).json()["results"][0]
        assert max(flat["posterior"].values()) < 0.11 and flat["best_fit"] is None  # nearly uniform: no clear fit
        assert client.post("/score", json={"progressions": ["C G"]}).json()["results"][0]["best_fit"] is None


def test_cli_score_rank_says_the_best_fit_or_no_clear_fit(tmp_path, capsys) -> None:
    from core.cli import main

    folder = saved_tiny_model(tmp_path, seed=11, scale=1.5)
    (folder / CALIBRATION_FILE).write_text(json.dumps(
        {"clear_fit_ratio": 2.0, "conditions": {"mood": {"temperature": 1000.0, "length_exponent": 0.0}}}))
    assert main(["score", "--model", str(folder), "--chords", "C G Am F", "--rank", "mood"]) == 0
    assert "no clear fit" in capsys.readouterr().out
    assert main(["score", "--model", str(folder), "--chords", "C G Am F", "--rank", "mood", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)[0]
    assert result["best_fit"] is None and max(result["posterior"].values()) < 0.26
