"""Classifier-free guidance: w = 0 is the old sampling, w > 0 moves toward the condition, one batch per step."""

from __future__ import annotations

import numpy as np
import pytest

from core.chords import parse_symbol
from core.conditions import Conditions
from core.errors import InputError
from core.generation.alternatives import position_distribution
from core.generation.decoder import FastDecoder, log_softmax, token_log_likelihoods
from core.generation.generate import generate
from core.generation.guidance import GuidedDecoder, guided_decoder, validate_guidance
from core.generation.loading import Generator, load_generator
from core.generation.sampling import chord_mask, condition_rows
from core.generation.score import score_progression
from core.vocabulary import END_ID, VOCAB
from tests.tiny_models import saved_tiny_model

JAZZ_SAD = Conditions.parse(genre="jazz", mood="sad")


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> Generator:
    # absolute chords: these tests read guidance against the model's own open-key distribution; a key-relative model
    # draws a key for each progression first (tests/test_key_relative.py), so its samples follow that key's.
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("tiny-guidance"), seed=5, scale=0.8,
                                           chord_encoding="absolute"))


class CountingDecoder:
    """Passes through to a decoder and records the batch size of every call."""

    def __init__(self, decoder) -> None:
        self.decoder, self.calls = decoder, []
        self.vocab_size, self.backend = decoder.vocab_size, decoder.backend

    def initial(self, condition_ids):
        self.calls.append(("initial", np.asarray(condition_ids).copy()))
        return self.decoder.initial(condition_ids)

    def advance(self, state, token_ids):
        self.calls.append(("advance", len(token_ids)))
        return self.decoder.advance(state, token_ids)

    def take(self, state, rows):
        return self.decoder.take(state, rows)


def test_zero_weights_sample_exactly_as_before(generator: Generator) -> None:
    before = generate(generator, JAZZ_SAD, length=8, num_samples=6, random_seed=3, guidance={})  # no guidance at all
    for guidance in ({"genre": 0.0, "mood": 0.0}, {"genre": 0}):
        again = generate(generator, JAZZ_SAD, length=8, num_samples=6, random_seed=3, guidance=guidance)
        assert [s.symbols for s in again] == [s.symbols for s in before]
        assert [s.probabilities for s in again] == [s.probabilities for s in before]
    # guiding a condition left open changes nothing either (the open row equals the conditioned one)
    open_genre = Conditions.parse(mood="sad")
    assert ([s.symbols for s in generate(generator, open_genre, length=8, num_samples=6, random_seed=3, guidance={})]
            == [s.symbols for s in generate(generator, open_genre, length=8, num_samples=6, random_seed=3,
                                            guidance={"genre": 3.0})])


def test_zero_weight_wrapper_reproduces_the_model(generator: Generator) -> None:
    rows = condition_rows(JAZZ_SAD, 3)
    plain = generator.decoder.initial(rows)
    wrapped = GuidedDecoder(generator.decoder, {"genre": 0.0, "mood": 0.0})
    np.testing.assert_allclose(wrapped.initial(rows).log_probs, plain.log_probs, atol=1e-12, rtol=0)


def test_guidance_moves_toward_the_condition(generator: Generator) -> None:
    """E_q[log p(x|c) - log p(x|genre open)] grows with w, and samples follow."""
    decoder = generator.decoder
    rows = condition_rows(JAZZ_SAD, 1)
    opened = rows.copy()
    opened[:, 0] = 0
    conditioned = decoder.initial(rows).log_probs[0]
    difference = conditioned - decoder.initial(opened).log_probs[0]
    expected = []
    for w in (0.0, 0.5, 1.0, 2.0, 3.0):
        q = np.exp(GuidedDecoder(decoder, {"genre": w}).initial(rows).log_probs[0])
        assert q.sum() == pytest.approx(1.0)
        np.testing.assert_allclose(np.log(q), log_softmax(conditioned + w * difference), atol=1e-9)
        expected.append(float(q @ difference))
    assert all(later > earlier for earlier, later in zip(expected, expected[1:], strict=False))

    def mean_difference(w: float) -> float:
        samples = generate(generator, JAZZ_SAD, length=1, num_samples=1000, random_seed=11, guidance={"genre": w})
        return float(np.mean([difference[VOCAB.id_of(s.chords[0])] for s in samples]))

    assert mean_difference(2.0) > mean_difference(0.0) + 0.05


def test_guided_and_unguided_rows_go_through_one_batch(generator: Generator) -> None:
    counting = CountingDecoder(generator.decoder)
    spy = Generator(counting, generator.model_dir)
    samples = generate(spy, JAZZ_SAD, length=6, num_samples=4, random_seed=0, guidance={"genre": 1.0, "mood": 2.0})
    kind, condition_ids = counting.calls[0]
    assert kind == "initial" and condition_ids.shape == (12, 4)  # 4 rows x (conditioned, genre open, mood open)
    requested = condition_rows(JAZZ_SAD, 1)[0]
    np.testing.assert_array_equal(condition_ids[:4], np.tile(requested, (4, 1)))
    assert (condition_ids[4:8, 0] == 0).all() and (condition_ids[4:8, 1] == requested[1]).all()
    assert (condition_ids[8:, 1] == 0).all() and (condition_ids[8:, 0] == requested[0]).all()
    advances = [size for kind, size in counting.calls[1:] if kind == "advance"]
    assert len(counting.calls) == 1 + len(advances)  # one decoder call per step, nothing else
    assert advances and all(size == 12 for size in advances)
    assert len(advances) <= 5 and all(1 <= len(s.chords) <= 6 for s in samples)


def test_reported_probabilities_stay_the_models_own(generator: Generator) -> None:
    samples = generate(generator, JAZZ_SAD, length=6, num_samples=5, random_seed=2, guidance={"genre": 3.0, "mood": 3.0})
    for sample in samples:
        scored = score_progression(generator, sample.chords, JAZZ_SAD, ends=sample.ended)
        np.testing.assert_allclose(sample.probabilities, scored["probabilities"], rtol=1e-6)


def test_both_sides_conditional_is_that_of_the_guided_chain(generator: Generator) -> None:
    chords = ["C", "Am", "F", "G"]
    guidance = {"genre": 2.0, "mood": 1.0}
    distribution = position_distribution(generator, chords, 1, JAZZ_SAD, ends=True, guidance=guidance)
    candidates = np.flatnonzero(chord_mask())
    tokens = np.tile(np.array(VOCAB.encode([parse_symbol(c) for c in chords]) + [END_ID]), (len(candidates), 1))
    tokens[:, 1] = candidates
    decoder = guided_decoder(generator.decoder, JAZZ_SAD, guidance)
    totals = token_log_likelihoods(decoder, tokens, condition_rows(JAZZ_SAD, len(tokens))).sum(axis=1)
    brute = np.exp(totals - totals.max())
    np.testing.assert_allclose(distribution[candidates], brute / brute.sum(), atol=1e-9)
    unguided = position_distribution(generator, chords, 1, JAZZ_SAD, ends=True)
    assert np.abs(distribution - unguided).sum() > 1e-3


def test_locks_hold_under_guidance(generator: Generator) -> None:
    locks = {1: parse_symbol("G"), 4: parse_symbol("C")}
    samples = generate(generator, JAZZ_SAD, length=6, num_samples=5, random_seed=4, locks=locks,
                       guidance={"genre": 2.0})
    for sample in samples:
        assert sample.symbols[1] == "G" and sample.symbols[4] == "C"


@pytest.mark.parametrize("guidance, message", [
    ({"key": 1.0}, "cannot guide"), ({"genre": -0.5}, "0..5"), ({"mood": 9}, "0..5"),
    ({"genre": float("nan")}, "0..5"), ({"genre": "strong"}, "must be a number"),
])
def test_bad_guidance_is_refused(generator: Generator, guidance: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_guidance(guidance)
    with pytest.raises(InputError, match=message):
        generate(generator, JAZZ_SAD, guidance=guidance)


def test_only_a_weight_that_acts_wraps_the_decoder(generator: Generator) -> None:
    assert isinstance(generator.decoder, FastDecoder)
    assert guided_decoder(generator.decoder, JAZZ_SAD, {"genre": 0.0}) is generator.decoder
    assert isinstance(guided_decoder(generator.decoder, JAZZ_SAD, {"mood": 1.0}), GuidedDecoder)


def test_one_number_guides_genre_and_mood_alike(generator: Generator) -> None:
    assert validate_guidance(1.5) == {"genre": 1.5, "mood": 1.5}
    one = generate(generator, JAZZ_SAD, length=6, num_samples=4, random_seed=9, guidance=2.0)
    both = generate(generator, JAZZ_SAD, length=6, num_samples=4, random_seed=9, guidance={"genre": 2.0, "mood": 2.0})
    assert [s.symbols for s in one] == [s.symbols for s in both]
    with pytest.raises(InputError, match="must be a number"):
        validate_guidance("strong")


def test_guidance_setting_reaches_the_cli_and_the_api(generator: Generator, capsys) -> None:
    import json

    from fastapi.testclient import TestClient

    from core.cli import main
    from core.config import DEFAULT_GUIDANCE, GenerationSettings
    from core.serving.api import create_app

    assert GenerationSettings().guidance == DEFAULT_GUIDANCE
    folder = str(generator.model_dir)
    args = ["generate", "--model", folder, "--genre", "jazz", "--mood", "sad", "--length", "6", "--num-samples", "3",
            "--random-seed", "4", "--format", "json"]
    sampling = {"temperature": GenerationSettings().temperature, "top_p": GenerationSettings().top_p}  # the CLI's defaults
    assert main([*args, "--guidance", "0"]) == 0
    unguided = [s["chords"] for s in json.loads(capsys.readouterr().out)]
    expected = generate(generator, JAZZ_SAD, length=6, num_samples=3, random_seed=4, guidance=0.0, **sampling)
    assert unguided == [s.symbols for s in expected]
    assert main([*args, "--guidance", "3"]) == 0
    guided = [s["chords"] for s in json.loads(capsys.readouterr().out)]
    assert guided == [s.symbols for s in generate(generator, JAZZ_SAD, length=6, num_samples=3, random_seed=4,
                                                   guidance=3.0, **sampling)]
    assert main([*args, "--guidance", "9"]) == 2
    assert "guidance must be a number from 0 to 5" in capsys.readouterr().err
    with TestClient(create_app(folder)) as client:
        body = {"genre": "jazz", "mood": "sad", "length": 6, "num_samples": 3, "random_seed": 4}
        response = client.post("/generate", json={**body, "guidance": 3})
        assert [s["chords"] for s in response.json()["samples"]] == guided
        assert client.post("/generate", json={**body, "guidance": -1}).status_code == 422


def test_next_takes_guidance_on_the_cli_and_the_api(generator: Generator, capsys) -> None:
    import json

    from fastapi.testclient import TestClient

    from core.cli import main
    from core.config import DEFAULT_GUIDANCE
    from core.generation.composer import next_chords
    from core.serving.api import create_app

    folder = str(generator.model_dir)

    def ranked(guidance: float) -> list[str]:
        return [r.symbol for r in next_chords(generator, "C G", JAZZ_SAD, guidance=guidance, top=8).chords]

    args = ["next", "--model", folder, "--chords", "C G", "--genre", "jazz", "--mood", "sad", "--top", "8",
            "--format", "json"]
    assert main(args) == 0  # the default weight, as generate
    assert [r["chord"] for r in json.loads(capsys.readouterr().out)] == ranked(DEFAULT_GUIDANCE)
    assert main([*args, "--guidance", "0"]) == 0
    assert [r["chord"] for r in json.loads(capsys.readouterr().out)] == ranked(0.0)
    assert ranked(0.0) != ranked(5.0)
    with TestClient(create_app(folder)) as client:
        body = {"chords": ["C", "G"], "genre": "jazz", "mood": "sad", "top": 8}
        assert [r["chord"] for r in client.post("/next", json={**body, "guidance": 0}).json()["ranking"]] == ranked(0.0)
        assert [r["chord"] for r in client.post("/next", json=body).json()["ranking"]] == ranked(DEFAULT_GUIDANCE)
        assert client.post("/next", json={**body, "guidance": 6}).status_code == 422
