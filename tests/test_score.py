"""Scoring progressions and ranking conditions with the fast decoder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.chords import parse_progression
from core.conditions import GENRES, Conditions
from core.errors import InputError
from core.generation.decoder import make_decoder
from core.generation.loading import Generator
from core.generation.score import rank_condition, score_progression, score_progressions
from core.vocabulary import START_ID, VOCAB
from tests.tiny_models import keras_probabilities, tiny_model


@pytest.fixture(scope="module")
def model():
    return tiny_model(seed=11)


@pytest.fixture(scope="module")
def generator(model, tmp_path_factory) -> Generator:
    return Generator(make_decoder(model), tmp_path_factory.mktemp("score"))


def _keras_chord_probabilities(model, symbols: str, condition_row: list[int], with_end: bool = False) -> np.ndarray:
    ids = VOCAB.encode(parse_progression(symbols))
    row = np.zeros((1, 12), dtype=np.int32)
    row[0, 0] = START_ID
    row[0, 1 : len(ids) + 1] = ids
    probabilities = keras_probabilities(model, row, np.array([condition_row]))[0]
    targets = ids + ([2] if with_end else [])
    return probabilities[np.arange(len(targets)), targets]


def test_score_matches_keras(model, generator: Generator) -> None:
    conditions = Conditions.parse(genre="pop", key="C")
    result = score_progression(generator, "C G Am F", conditions)
    expected = _keras_chord_probabilities(model, "C G Am F", [1, 0, 1, 1])
    np.testing.assert_allclose(result["probabilities"], expected, atol=1e-5)
    assert result["chords"] == ["C", "G", "Am", "F"]
    assert result["log_likelihood"] == pytest.approx(np.log(expected).sum(), abs=1e-4)
    assert result["perplexity"] == pytest.approx(math.exp(-result["log_likelihood"] / 4))
    np.testing.assert_allclose(result["surprise"], -np.log2(expected), atol=1e-4)


def test_score_with_end(model, generator: Generator) -> None:
    result = score_progression(generator, ["C", "F", "G"], Conditions(), ends=True)
    expected = _keras_chord_probabilities(model, "C F G", [0, 0, 0, 0], with_end=True)
    assert result["end_probability"] == pytest.approx(expected[-1], abs=1e-5)
    assert result["log_likelihood"] == pytest.approx(np.log(expected).sum(), abs=1e-4)
    assert result["perplexity"] == pytest.approx(math.exp(-result["log_likelihood"] / 4))


def test_batch_scores_equal_single_scores(generator: Generator) -> None:
    progressions = ["C G Am F", "Dm7 G7 Cmaj7", "E"]
    batch = score_progressions(generator, progressions, Conditions.parse(mood="sad"))
    for text, result in zip(progressions, batch, strict=True):
        single = score_progression(generator, text, Conditions.parse(mood="sad"))
        np.testing.assert_allclose(result["probabilities"], single["probabilities"], rtol=1e-6)


def test_rank_condition_is_bayes_with_a_uniform_prior(generator: Generator) -> None:
    conditions = Conditions.parse(mood="happy", key="G")
    posterior = rank_condition(generator, "G D Em C", conditions, "genre")
    assert set(posterior) == set(GENRES[1:])
    assert sum(posterior.values()) == pytest.approx(1.0)
    assert list(posterior.values()) == sorted(posterior.values(), reverse=True)
    likelihoods = {}
    for genre in GENRES[1:]:
        scored = score_progression(generator, "G D Em C", Conditions.parse(genre=genre, mood="happy", key="G"))
        likelihoods[genre] = math.exp(scored["log_likelihood"])
    total = sum(likelihoods.values())
    for genre, value in posterior.items():
        assert value == pytest.approx(likelihoods[genre] / total, rel=1e-4)


def test_bad_input(generator: Generator) -> None:
    with pytest.raises(InputError, match="key"):
        rank_condition(generator, "C G", Conditions(), "key")
    with pytest.raises(InputError, match="Hm"):
        score_progression(generator, "C Hm", Conditions())
    with pytest.raises(InputError, match="empty"):
        score_progression(generator, "", Conditions())
