"""The fast decoder and the generator: Keras parity, determinism, END, in-key, locks, alternatives, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from core.chords import Chord, parse_symbol
from core.conditions import Conditions
from core.errors import InputError
from core.generation.alternatives import alternatives, position_distribution
from core.generation.chord_input import parse_locks
from core.generation.decoder import FastDecoder, KerasDecoder, make_decoder, sequence_log_probs
from core.generation.generate import generate
from core.generation.loading import Generator, load_generator
from core.inference_weights import DecoderWeights
from core.numerals import in_scale
from core.spelling import guess_key
from core.vocabulary import END_ID, START_ID, VOCAB
from tests.tiny_models import keras_probabilities, saved_tiny_model, tiny_model

L = 12


def _random_batch(seed: int = 1):
    rng = np.random.default_rng(seed)
    lengths = [12, 5, 1, 8, 11, 3]
    chord_input = np.zeros((len(lengths), L), dtype=np.int32)
    chord_input[:, 0] = START_ID
    for row, n in enumerate(lengths):
        chord_input[row, 1:n] = rng.integers(3, VOCAB.size, n - 1)
    conditions = np.stack([rng.integers(0, 11, len(lengths)), rng.integers(0, 5, len(lengths)),
                           rng.integers(0, 25, len(lengths)), rng.integers(0, 3, len(lengths))], axis=1)
    return chord_input, conditions, lengths


@pytest.fixture(scope="module")
def generator(tmp_path_factory) -> Generator:
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("tiny")))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_probabilities_equal_keras_full_sequence(cell: str, dtype: type) -> None:
    model = tiny_model(seed=3, cell=cell)
    chord_input, conditions, lengths = _random_batch()
    expected = keras_probabilities(model, chord_input, conditions)
    decoder = FastDecoder(DecoderWeights.from_model(model), dtype=dtype)
    stepped = np.exp(sequence_log_probs(decoder, chord_input[:, 1:], conditions))[:, :L]
    for row, n in enumerate(lengths):  # positions past the padding are undefined in both
        np.testing.assert_allclose(stepped[row, :n], expected[row, :n], atol=1e-5, rtol=0)


def test_attention_models_use_the_full_sequence_fallback() -> None:
    model = tiny_model(seed=4, attention=True)
    decoder = make_decoder(model)
    assert isinstance(decoder, KerasDecoder)
    chord_input, conditions, lengths = _random_batch(2)
    expected = keras_probabilities(model, chord_input, conditions)
    stepped = np.exp(sequence_log_probs(decoder, chord_input[:, 1:4], conditions))
    for row, n in enumerate(lengths):
        m = min(n, 4)
        np.testing.assert_allclose(stepped[row, :m], expected[row, :m], atol=1e-5, rtol=0)


def test_same_seed_same_samples(generator: Generator) -> None:
    conditions = Conditions.parse(genre="jazz", key="F")
    first = generate(generator, conditions, length=8, num_samples=4, random_seed=7)
    again = generate(generator, conditions, length=8, num_samples=4, random_seed=7)
    other = generate(generator, conditions, length=8, num_samples=4, random_seed=8)
    assert [s.symbols for s in first] == [s.symbols for s in again]
    assert [s.symbols for s in first] != [s.symbols for s in other]
    for sample in first:
        assert 1 <= len(sample.chords) <= 8
        assert len(sample.roman) == len(sample.probabilities) == len(sample.chords)
        assert all(0 < p <= 1 for p in sample.probabilities)
        assert sample.roman_key == "F major"


def test_probabilities_are_the_models_left_to_right_probabilities(generator: Generator) -> None:
    conditions = Conditions.parse(genre="pop", mood="happy", key="C")  # an open key would be drawn (test_key_relative)
    sample = generate(generator, conditions, length=6, random_seed=3, temperature=0.7, top_k=5)[0]
    ids = np.array([VOCAB.encode(sample.chords)])
    log_probs = sequence_log_probs(generator.decoder, ids, np.array([[1, 1, 1, 1]]))
    expected = np.exp(log_probs[0, np.arange(ids.shape[1]), ids[0]])
    np.testing.assert_allclose(sample.probabilities, expected, rtol=1e-6)


def test_end_comes_only_when_the_model_may_end_it(tmp_path) -> None:
    generator = load_generator(saved_tiny_model(tmp_path, end_bias=30.0))
    samples = generate(generator, Conditions(), length=10, num_samples=5, random_seed=0, let_model_end=True)
    for sample in samples:  # END is not allowed before the first chord, then it wins
        assert sample.ended and len(sample.chords) == 1
    for sample in generate(generator, Conditions(), length=10, num_samples=5, random_seed=0):
        assert not sample.ended and len(sample.chords) == 10  # the requested length, whatever the model prefers
    locked = generate(generator, Conditions(), length=6, num_samples=3, random_seed=0, let_model_end=True,
                      locks={3: "G"})
    assert all(len(s.chords) == 4 and s.ended for s in locked)  # never before a locked chord is placed


def test_seed_chords_open_every_sample(generator: Generator) -> None:
    samples = generate(generator, Conditions(), length=5, seed_chords=["C", "Am"], num_samples=3, random_seed=1)
    assert all(s.symbols[:2] == ["C", "Am"] for s in samples)


def test_top_k_one_is_greedy(generator: Generator) -> None:
    sample = generate(generator, Conditions.parse(key="C"), length=1, top_k=1, random_seed=0)[0]
    first = sequence_log_probs(generator.decoder, np.zeros((1, 0), dtype=int), np.array([[0, 0, 1, 1]]))[0, 0]
    first[[0, 1, END_ID]] = -np.inf
    assert VOCAB.id_of(sample.chords[0]) == int(np.argmax(first))


def test_no_sample_repeats_a_chord_immediately(generator: Generator) -> None:
    samples = generate(generator, Conditions(), length=12, temperature=3.0, num_samples=200, random_seed=5)
    pairs = [(a, b) for s in samples for a, b in zip(s.chords, s.chords[1:], strict=False)]
    assert len(pairs) > 500 and all(a != b for a, b in pairs)


def test_in_key_never_leaves_the_scale(generator: Generator) -> None:
    conditions = Conditions.parse(key="A minor")
    samples = generate(generator, conditions, length=8, num_samples=40, random_seed=2, in_key=True, temperature=2.0)
    assert all(in_scale(c, 9, "minor") for s in samples for c in s.chords)
    with pytest.raises(InputError, match="key"):
        generate(generator, Conditions(), in_key=True)


def _enumerated_conditional(model, chords: list[Chord], position: int, condition_ids: np.ndarray) -> np.ndarray:
    """p(chord at position | all others) by scoring every full sequence with the Keras model."""
    candidates = [i for i, c in enumerate(VOCAB.chords) if c is not None]
    rows = np.zeros((len(candidates), L), dtype=np.int32)
    rows[:, 0] = START_ID
    ids = VOCAB.encode(chords)
    for r, candidate in enumerate(candidates):
        sequence = list(ids)
        sequence[position] = candidate
        rows[r, 1 : len(sequence) + 1] = sequence
    probabilities = keras_probabilities(model, rows, np.repeat(condition_ids, len(candidates), axis=0))
    targets = rows[:, 1 : len(ids) + 1]
    log_joint = np.log(np.take_along_axis(probabilities[:, : len(ids)], targets[:, :, None], axis=2)[:, :, 0]).sum(axis=1)
    conditional = np.zeros(VOCAB.size)
    conditional[candidates] = np.exp(log_joint - log_joint.max())
    return conditional / conditional.sum()


def test_both_sides_conditional_and_alternatives_are_exact(tmp_path) -> None:
    model = tiny_model(seed=5)
    generator = Generator(make_decoder(model, dtype=np.float64), tmp_path)
    conditions = Conditions.parse(genre="rock", key="G")
    ids = conditions.ids()
    condition_ids = np.array([[ids["genre"], ids["mood"], ids["key"], ids["scale_type"]]])
    chords = [parse_symbol(s) for s in ("G", "Em", "C", "D")]
    expected = _enumerated_conditional(model, chords, 1, condition_ids)
    np.testing.assert_allclose(position_distribution(generator, chords, 1, conditions), expected, atol=1e-6)
    ranked = alternatives(generator, chords, 1, conditions, k=3)
    assert [VOCAB.id_of(c) for c, _ in ranked] == list(np.argsort(-expected, kind="stable")[:3])
    assert ranked[0][1] == pytest.approx(expected.max(), abs=1e-6)


def test_several_locks_are_kept(generator: Generator) -> None:
    locks = parse_locks("1:C 4:G 6:Am")
    assert {p: parsed.chord for p, parsed in locks.items()} == {0: parse_symbol("C"), 3: parse_symbol("G"),
                                                                5: parse_symbol("Am")}
    samples = generate(generator, Conditions.parse(key="C"), length=6, locks=locks, num_samples=5, random_seed=4)
    for sample in samples:
        assert len(sample.chords) == 6
        assert (sample.symbols[0], sample.symbols[3], sample.symbols[5]) == ("C", "G", "Am")
        assert sample.locked == [0, 3, 5]


def test_guess_key() -> None:
    assert guess_key([parse_symbol(s) for s in "C G Am F".split()]) == (0, "major")
    assert guess_key([parse_symbol(s) for s in "Am F C G".split()]) == (9, "minor")
    assert guess_key([parse_symbol(s) for s in "C G Am F".split()], "minor") == (9, "minor")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"length": 0}, "length"), ({"length": 65}, "length"), ({"temperature": 0}, "temperature"),
        ({"temperature": 5.5}, "temperature"), ({"top_k": -1}, "top-k"), ({"top_p": 0}, "top-p"),
        ({"top_p": 1.5}, "top-p"), ({"num_samples": 0}, "samples"), ({"num_samples": 2.5}, "samples"),
        ({"random_seed": -1}, "random seed"), ({"temperature": float("nan")}, "temperature"), ({"gibbs_passes": 0}, "Gibbs"),
        ({"seed_chords": ["C", "Hm"]}, "Hm"), ({"locks": {8: parse_symbol("C")}, "length": 8}, "lock position 9"),
        ({"seed_chords": ["C"], "locks": {0: parse_symbol("G")}}, "contradicts"),
    ],
)
def test_bad_settings_are_input_errors(generator: Generator, settings: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        generate(generator, Conditions(), **settings)


def test_bad_locks_text() -> None:
    for text in ("C", "0:C", "x:C", "2:Q", "1:C 1:G"):
        with pytest.raises(InputError):
            parse_locks(text)


def test_write_generated_samples(tmp_path) -> None:
    import json

    from core.generation.run_samples import write_generated_samples

    path = write_generated_samples(saved_tiny_model(tmp_path), per_genre=1, length=4)
    report = json.loads(path.read_text())
    assert report["backend"] == "fast numpy step, key-relative"  # a tiny model reads chords as new runs do
    assert len(report["samples"]) == 11  # every genre, "unspecified" included
    assert {s["conditions"]["genre"] for s in report["samples"]} >= {"pop", "jazz", "unspecified"}
