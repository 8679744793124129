"""Key-relative chords (core.key_relative, core.generation.key_decoder): moves, the decoder's edges, the key prior."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.conditions import Conditions, key_id
from core.config import ModelConfig, TrainConfig
from core.dataset import encode_frame, relative_windows
from core.generation.decoder import make_decoder, token_log_likelihoods
from core.generation.key_decoder import KeyRelativeDecoder
from core.generation.loading import load_generator
from core.generation.score import score_progression
from core.key_relative import (
    ABSOLUTE,
    KEY_RELATIVE,
    PRIOR_FILE,
    absolute_distributions,
    key_prior,
    prior_table,
    relative_key_ids,
    to_absolute,
    to_relative,
)
from core.model import load_model, model_config_of
from core.paths import CORPUS_TABLE
from core.vocabulary import END_ID, START_ID, VOCAB
from tests.tiny_models import saved_tiny_model, tiny_model

DATA = CORPUS_TABLE.parent


def _ids(symbols: str) -> np.ndarray:
    return np.array([VOCAB.id_of_symbol(s) for s in symbols.split()])


def test_moves_into_c_and_back() -> None:
    d_major = _ids("D G A7 Bm")
    assert VOCAB.decode(to_relative(d_major[None], np.array([2]))[0]) == ["C", "F", "G7", "Am"]
    every = np.arange(VOCAB.size)[None].repeat(12, axis=0)
    tonics = np.arange(12)
    assert (to_absolute(to_relative(every, tonics), tonics) == every).all()
    assert (to_relative(np.array([[0, START_ID, END_ID]]), np.array([5])) == [[0, START_ID, END_ID]]).all()
    assert list(relative_key_ids(np.array([0, key_id(2, "major"), key_id(9, "minor")]))) == [0, 1, 13]


def test_a_relative_distribution_read_as_absolute() -> None:
    rng = np.random.default_rng(0)
    relative = rng.random((3, 4, VOCAB.size))
    tonics = np.array([0, 2, 7])
    absolute = absolute_distributions(relative, tonics)
    c, d = VOCAB.id_of_symbol("C"), VOCAB.id_of_symbol("D")
    assert absolute[1, 2, d] == relative[1, 2, c]  # D in D major is the relative model's C
    assert np.allclose(np.sort(absolute, axis=-1), np.sort(relative, axis=-1))


def test_saved_runs_before_model_2_read_as_absolute_and_new_runs_key_relative() -> None:
    assert ModelConfig().chord_encoding == KEY_RELATIVE
    saved = {"train": {"epochs": 3, "model": {"lstm_units": 64}}}
    assert TrainConfig.from_dict(saved).model.chord_encoding == ABSOLUTE
    assert TrainConfig.from_dict({"epochs": 3}).model.chord_encoding == KEY_RELATIVE


@pytest.mark.parametrize("encoding", [ABSOLUTE, KEY_RELATIVE])
def test_the_saved_model_says_how_it_reads_chords(tmp_path, encoding) -> None:
    folder = saved_tiny_model(tmp_path, chord_encoding=encoding)
    assert model_config_of(load_model(folder, compile=False)).chord_encoding == encoding
    generator = load_generator(folder)
    assert isinstance(generator.decoder, KeyRelativeDecoder) == (encoding == KEY_RELATIVE)


def test_training_windows_are_moved_into_c() -> None:
    from tests.test_evaluate import _frame

    frame = _frame([("train", "s1", "pop", "D G A D", 1), ("train", "s2", "pop", "Am Dm E7 Am", 1)])
    frame["key_tonic"] = ["D", "A"]
    frame["scale_type"] = ["major", "minor"]
    moved = relative_windows(encode_frame(frame))
    assert VOCAB.decode(moved.targets[0][:4]) == ["C", "F", "G", "C"]
    assert VOCAB.decode(moved.targets[1][:4]) == ["Cm", "Fm", "G7", "Cm"]
    assert list(moved.key) == [key_id(0, "major"), key_id(0, "minor")]


@pytest.fixture(scope="module")
def relative_model():
    return tiny_model(seed=3, chord_encoding=KEY_RELATIVE)


def test_a_given_key_moves_the_chords_and_the_key(relative_model) -> None:
    base = make_decoder(relative_model)
    tokens = _ids("D G A7 Bm D")[None]
    conditions = np.array([[1, 0, key_id(2, "major"), 1]])
    moved_conditions = conditions.copy()
    moved_conditions[0, 2] = key_id(0, "major")
    wrapped = token_log_likelihoods(KeyRelativeDecoder(base), tokens, conditions)
    direct = token_log_likelihoods(base, to_relative(tokens, np.array([2])), moved_conditions)
    assert np.allclose(wrapped, direct)


def test_an_open_key_is_the_exact_mixture_over_the_keys(relative_model) -> None:
    base = make_decoder(relative_model)
    tokens = _ids("Bb Eb F7 Gm")[None]
    jazz = 7
    for scale, keys in ((0, range(24)), (2, range(12, 24))):  # open scale: 24 keys; minor: its 12
        conditions = np.array([[jazz, 0, 0, scale]])
        mixed = token_log_likelihoods(KeyRelativeDecoder(base), tokens, conditions)[0].sum()
        prior = key_prior(np.array([jazz]), np.array([scale]), DATA)[0]
        terms = []
        for key in keys:
            moved = conditions.copy()
            moved[0, 2] = 1 + 12 * (key // 12)
            terms.append(np.log(prior[key]) + token_log_likelihoods(base, to_relative(tokens, [key % 12]), moved)[0].sum())
        assert np.isclose(mixed, np.logaddexp.reduce(terms))
        assert np.isclose(prior.sum(), 1.0) and (prior[[k for k in range(24) if k not in keys]] == 0).all()


def test_rows_taken_and_repeated_decode_as_before(relative_model) -> None:
    decoder = KeyRelativeDecoder(make_decoder(relative_model))
    conditions = np.array([[1, 0, key_id(2, "major"), 1], [7, 0, 0, 0], [2, 0, 0, 2]])
    tokens = np.stack([_ids("C F G"), _ids("Am Dm E"), _ids("Bb Eb F")])
    state = decoder.advance(decoder.initial(conditions), tokens[:, 0])
    rows = np.array([2, 1, 1, 0])
    taken = decoder.advance(decoder.take(state, rows), tokens[rows, 1])
    whole = decoder.advance(state, tokens[:, 1])
    assert np.allclose(taken.log_probs, whole.log_probs[rows])
    assert np.allclose(np.exp(whole.log_probs).sum(axis=1), 1.0)


def test_a_key_relative_model_scores_a_progression_and_its_transposition_alike(tmp_path) -> None:
    relative = load_generator(saved_tiny_model(tmp_path / "relative", seed=5, chord_encoding=KEY_RELATIVE))
    absolute = load_generator(saved_tiny_model(tmp_path / "absolute", seed=5, chord_encoding=ABSOLUTE))
    c_major, e_major = Conditions.parse(key="C"), Conditions.parse(key="E")
    for generator, alike in ((relative, True), (absolute, False)):
        in_c = score_progression(generator, "C Am F G", c_major)["log_likelihood"]
        in_e = score_progression(generator, "E C#m A B", e_major)["log_likelihood"]
        assert np.isclose(in_c, in_e) == alike


def test_the_key_prior_snapshot_is_the_corpus_tables() -> None:
    from core.corpus.table import shipped_table

    snapshot = json.loads((DATA / PRIOR_FILE).read_text(encoding="utf-8"))
    assert snapshot["songs"] == prior_table(shipped_table()), (
        f"data/{PRIOR_FILE} is stale: rewrite it with core.key_relative.write_prior")
    jazz, rock = key_prior(np.array([7, 2]), np.array([0, 0]), DATA)
    assert {int(k) for k in np.argsort(jazz)[-3:]} == {5, 3, 0}  # F, Eb and C major for jazz
    assert {int(k) for k in np.argsort(rock)[-3:]} == {0, 7, 4}  # C, G and E major for rock


def test_the_export_manifest_says_how_to_feed_a_key_relative_model(relative_model) -> None:
    from core.serving.export import manifest

    content = manifest(relative_model)
    assert content["chord_encoding"]["name"] == KEY_RELATIVE and "tonic" in content["chord_encoding"]["meaning"]


def test_missing_prior_snapshot_means_every_key_alike(tmp_path: Path) -> None:
    prior = key_prior(np.array([0]), np.array([0]), tmp_path)
    assert np.allclose(prior, 1 / 24)


def test_an_open_key_is_drawn_from_the_prior_and_the_seed_chords(relative_model) -> None:
    from core.generation.sampling import RowRandomness

    decoder = KeyRelativeDecoder(make_decoder(relative_model))
    rows, jazz = 4000, 7
    uniforms = RowRandomness(1, rows).table("key", (1,))[:, 0]
    conditions = np.tile([[jazz, 0, 0, 0]], (rows, 1))
    drawn = decoder.draw_keys(conditions, np.zeros((rows, 0), dtype=np.int64), uniforms)[:, 2]
    prior = key_prior(np.array([jazz]), np.array([0]), DATA)[0]
    assert np.abs(np.bincount(drawn - 1, minlength=24) / rows - prior).max() < 0.03
    seed = np.tile(_ids("Bb Eb F7"), (rows, 1))
    drawn = decoder.draw_keys(conditions, seed, uniforms)[:, 2]
    base = make_decoder(relative_model)
    joint = []
    for key in range(24):
        moved = np.array([[jazz, 0, 1 + 12 * (key // 12), 0]])
        joint.append(np.log(prior[key]) + token_log_likelihoods(base, to_relative(seed[:1], [key % 12]), moved)[0].sum())
    posterior = np.exp(np.array(joint) - np.logaddexp.reduce(joint))
    assert np.abs(np.bincount(drawn - 1, minlength=24) / rows - posterior).max() < 0.03
    given = np.tile([[jazz, 0, key_id(3, "major"), 1]], (3, 1))
    assert (decoder.draw_keys(given, np.zeros((3, 0), dtype=np.int64), uniforms[:3]) == given).all()


def test_open_key_generation_decodes_one_key_per_progression(tmp_path) -> None:
    from core.generation.generate import generate

    generator = load_generator(saved_tiny_model(tmp_path, seed=2, chord_encoding=KEY_RELATIVE))
    rows_seen: list[int] = []
    base = generator.decoder.base
    advance = base.advance

    def counting(state, tokens):
        rows_seen.append(len(tokens))
        return advance(state, tokens)

    base.advance = counting
    samples = generate(generator, Conditions.parse(genre="jazz"), length=8, num_samples=5, random_seed=4, guidance=0.0)
    assert len(samples) == 5 and all(len(s.chords) == 8 for s in samples)
    assert max(rows_seen) == 5  # one key each: the 24 keys were only read once, to draw them
