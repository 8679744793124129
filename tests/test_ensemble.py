"""Ensembles: the averaged distribution is the mean of the members', and generate/score take repeated --model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.cli import main
from core.conditions import Conditions
from core.errors import InputError
from core.generation.decoder import sequence_log_probs
from core.generation.ensemble import EnsembleDecoder, load_ensemble, mean_log_probs
from core.generation.generate import generate
from core.generation.loading import load_generator
from core.generation.score import score_progressions
from tests.test_pages_dataset_training import studio  # noqa: F401 - a fixture
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def two_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    return saved_tiny_model(root / "a", seed=1), saved_tiny_model(root / "b", seed=2)


def test_the_ensemble_distribution_is_the_mean_of_the_members(two_models):
    first, second = (load_generator(folder).decoder for folder in two_models)
    ensemble = load_ensemble(list(two_models)).decoder
    assert isinstance(ensemble, EnsembleDecoder) and ensemble.backend.startswith("ensemble of 2")
    tokens = np.array([[3, 10, 24, 0], [5, 9, 0, 0]])
    conditions = np.array([[1, 1, 1, 1], [0, 0, 0, 0]])
    expected = 0.5 * sum(np.exp(sequence_log_probs(member, tokens, conditions)) for member in (first, second))
    got = np.exp(sequence_log_probs(ensemble, tokens, conditions))
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, rtol=1e-9)


def test_mean_log_probs_is_stable_far_from_zero():
    tiny = np.array([[-1000.0, -1001.0]])
    expected = np.log(0.5 * (np.exp(tiny + 1000) + np.exp(tiny + 998))) - 1000
    np.testing.assert_allclose(mean_log_probs([tiny, tiny - 2.0]), expected)


def test_one_model_is_that_model_and_sampling_and_scoring_run_on_an_ensemble(two_models):
    single = load_ensemble([two_models[0], two_models[0]])
    assert single.decoder is load_generator(two_models[0]).decoder  # the same model twice is that model
    ensemble = load_ensemble([str(folder) for folder in two_models])
    samples = generate(ensemble, Conditions(), length=6, num_samples=3, random_seed=4)
    assert len(samples) == 3 and all(1 <= len(s.chords) <= 6 for s in samples)
    (scored,) = score_progressions(ensemble, [["C", "G", "Am", "F"]], Conditions())
    assert np.isfinite(scored["log_likelihood"])
    with pytest.raises(InputError, match="at most"):
        load_ensemble([f"m{i}" for i in range(9)])


def test_repeated_model_flags_make_an_ensemble(two_models, capsys):
    a, b = (str(folder) for folder in two_models)
    assert main(["score", "--model", a, "--model", b, "--chords", "C G Am F", "--format", "json"]) == 0
    both = json.loads(capsys.readouterr().out)[0]["probabilities"]
    singles = []
    for folder in (a, b):
        assert main(["score", "--model", folder, "--chords", "C G Am F", "--format", "json"]) == 0
        singles.append(json.loads(capsys.readouterr().out)[0]["probabilities"])
    np.testing.assert_allclose(both, 0.5 * (np.array(singles[0]) + np.array(singles[1])), rtol=1e-6)
    assert main(["generate", "--model", a, "--model", b, "--num-samples", "2", "--random-seed", "1", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2


def test_the_generate_page_averages_the_models_chosen(studio):  # noqa: F811 - the fixture
    from core.training import active_model
    from tests.test_pages_dataset_training import page

    saved_tiny_model(studio / "runs" / "one", seed=1, end_bias=-3.0)
    saved_tiny_model(studio / "runs" / "two", seed=2, end_bias=-3.0)
    active_model.set_active("one")
    at = page("pages/4_generate.py").run()
    assert not at.exception
    single = [s.value for s in at.subheader if s.value.startswith("Progression ")]
    assert at.multiselect(key="ensemble").options == ["two"]
    at.multiselect(key="ensemble").set_value(["two"]).run()
    assert not at.exception and not at.error
    averaged = [s.value for s in at.subheader if s.value.startswith("Progression ")]
    assert averaged and averaged != single  # the same seed, another distribution
