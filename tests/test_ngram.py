"""N-gram baselines: proper distributions and Kneser-Ney values checked by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.evaluation.ngram import NGramModel, fit_baselines, frame_sequence
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB

# Toy vocabulary of 5 tokens: PAD 0, START 1, END 2, chords A=3 and B=4 (outcomes: END, A, B).
A, B = 3, 4
TOY = [[START_ID, A, B, END_ID]] * 2 + [[START_ID, A, END_ID], [START_ID, B, END_ID]]


def test_unigram_is_add_k() -> None:
    model = NGramModel(1, vocab_size=5, add_k=1.0).fit(TOY)
    # after START: A x3, B x3, END x4 -> (c + 1) / (10 + 3)
    np.testing.assert_allclose(model.next_distribution([START_ID]), [0, 0, 5 / 13, 4 / 13, 4 / 13])


def test_bigram_kneser_ney_by_hand() -> None:
    model = NGramModel(2, vocab_size=5, discounts=(0.5, 0.5)).fit(TOY)
    # continuation unigram: END after {A, B}, A after {START}, B after {A, START}; 5 bigram types
    # p1(w) = max(N1+(.w) - .5, 0) / 5 + (.5 * 3 / 5) / 3  ->  END .4, A .2, B .4
    np.testing.assert_allclose(model._p1, [0, 0, 0.4, 0.2, 0.4])
    # after B: raw c(B END) = 3 -> 2.5/3 + (.5 * 1 / 3) * p1
    np.testing.assert_allclose(model.next_distribution([START_ID, B]), [0, 0, 2.5 / 3 + 0.4 / 6, 0.2 / 6, 0.4 / 6])
    # after START: c(START A) = 3, c(START B) = 1; total 4, 2 types
    expected = np.array([0, 0, 0, 2.5 / 4, 0.5 / 4]) + (0.5 * 2 / 4) * np.array([0, 0, 0.4, 0.2, 0.4])
    np.testing.assert_allclose(model.next_distribution([START_ID]), expected)


def test_trigram_kneser_ney_by_hand() -> None:
    model = NGramModel(3, vocab_size=5, discounts=(0.5, 0.5, 0.5)).fit(TOY)
    # middle order uses continuation counts: N1+(. B END) = |{A, START}| = 2 (raw count is 3)
    # p2(.|B) = max(c - .5, 0)/2 + (.5 * 1/2) p1 -> END .85, A .05, B .1
    np.testing.assert_allclose(model._p2[B], [0, 0, 0.85, 0.05, 0.1])
    # trigram (A B END) x2: p3 = 1.5/2 + (.5 * 1/2) p2(.|B)
    np.testing.assert_allclose(model.next_distribution([START_ID, A, B]), [0, 0, 0.75 + 0.2125, 0.0125, 0.025])
    # the first prediction has only START as context: the bigram level with raw counts after START
    np.testing.assert_allclose(
        model.next_distribution([START_ID]), np.array([0, 0, 0, 2.5 / 4, 0.5 / 4]) + 0.25 * np.array([0, 0, 0.4, 0.2, 0.4])
    )
    # an unseen two-token context backs off to the bigram level
    np.testing.assert_allclose(model.next_distribution([START_ID, B, B]), model._p2[B])


def test_score_sums_token_log_probs() -> None:
    model = NGramModel(2, vocab_size=5, discounts=(0.5, 0.5)).fit(TOY)
    seq = [START_ID, B, END_ID]
    expected = np.log(model.prob(B, [START_ID])) + np.log(model.prob(END_ID, [START_ID, B]))
    assert model.score(seq) == pytest.approx(expected)
    assert model.score([B, END_ID, PAD_ID, PAD_ID]) == pytest.approx(expected)  # framing and padding handled


def test_frame_sequence() -> None:
    assert frame_sequence([5, 6, 0, 0]) == [START_ID, 5, 6]
    assert frame_sequence([START_ID, 5, END_ID]) == [START_ID, 5, END_ID]


def test_estimated_discounts_in_range() -> None:
    rng = np.random.default_rng(0)
    seqs = [[START_ID, *rng.integers(3, 40, size=rng.integers(1, 11)).tolist(), END_ID] for _ in range(300)]
    for model in fit_baselines(seqs).values():
        assert all(0 < d < 1 for d in model.discounts)


chord_ids = st.integers(min_value=3, max_value=VOCAB.size - 1)
sequences = st.lists(st.lists(chord_ids, min_size=1, max_size=11), min_size=1, max_size=20)


@settings(max_examples=25, deadline=None)
@given(sequences, st.lists(chord_ids, max_size=5))
def test_distributions_sum_to_one_and_cover_every_chord(train: list[list[int]], context: list[int]) -> None:
    framed = [[START_ID, *s, END_ID] for s in train]
    for model in fit_baselines(framed).values():
        dist = model.next_distribution([START_ID, *context])
        assert dist.shape == (VOCAB.size,)
        assert dist.sum() == pytest.approx(1.0, abs=1e-9)
        assert dist[PAD_ID] == 0 and dist[START_ID] == 0
        assert (dist[END_ID:] > 0).all()
