"""core.evaluation.condition_checks: minor share, chord distributions, novelty, confusion, report on a tiny model."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sample_corpus import sample_frame

from core.errors import InputError
from core.evaluation.condition_checks import (
    OTHER,
    adherence_frame,
    as_chords,
    chord_distribution,
    compare_distributions,
    conditioning_report,
    confusion_top_chords,
    minor_share,
    ngram_novelty,
    novelty_table,
)
from core.evaluation.condition_checks import (
    test_predictions as predictions_of,
)
from core.generation.loading import load_generator
from core.vocabulary import END_ID, PAD_ID, VOCAB
from tests.tiny_models import saved_tiny_model


def test_minor_share_counts_minor_diminished_and_half_diminished_chords() -> None:
    assert minor_share(["C Am F G", "Bm7b5 E7"]) == pytest.approx(2 / 6)
    assert minor_share([["Cm", "Ebdim"]]) == 1.0
    assert math.isnan(minor_share([]))


def test_chord_distribution_shares_sum_to_one_and_top_truncates() -> None:
    shares = chord_distribution(["C G C", "C F"])
    assert list(shares.index) == ["C", "F", "G"]  # ties broken by symbol
    assert shares["C"] == pytest.approx(0.6) and shares.sum() == pytest.approx(1.0)
    assert list(chord_distribution(["C G C", "C F"], top=1).index) == ["C"]
    assert chord_distribution([]).empty


def test_compare_distributions_lines_up_chords_and_measures_distance() -> None:
    frame, distance = compare_distributions(["C G", "C G"], ["C F"], top=5)
    assert list(frame.index) == ["C", "F", "G"]
    assert frame.loc["G"].tolist() == [0.5, 0.0] and frame.loc["F"].tolist() == [0.0, 0.5]
    assert distance == pytest.approx(0.5)
    assert compare_distributions(["C G"], ["G C"])[1] == pytest.approx(0.0)


def test_ngram_novelty_exact_and_in_any_key() -> None:
    training = ["C F G C Am", "Dm G C"]
    exact = ngram_novelty(["C F G C", "D G A D", "C G"], training, n=4)
    assert (exact.ngrams, exact.copied) == (2, 1)  # "C G" is too short to count
    assert exact.copied_share == 0.5 and exact.novel_share == 0.5
    moved = ngram_novelty(["C F G C", "D G A D"], training, n=4, transposition_invariant=True)
    assert moved.copied_share == 1.0
    assert math.isnan(ngram_novelty(["C"], training).copied_share)
    with pytest.raises(InputError):
        ngram_novelty(["C"], training, n=0)
    table = novelty_table({"exact": exact, "any key": moved})
    assert list(table["comparison"]) == ["exact", "any key"]


def test_confusion_top_chords_rows_are_true_chords_and_pool_the_rest() -> None:
    c, g, am, f = (VOCAB.id_of_symbol(s) for s in ("C", "G", "Am", "F"))
    targets = [c, c, c, g, g, am, END_ID, PAD_ID]
    predictions = [c, c, g, g, f, c, END_ID, c]
    counts = confusion_top_chords(targets, predictions, top=2, normalise=False)
    assert list(counts.index) == ["C", "G", OTHER] and list(counts.columns) == ["C", "G", OTHER]
    assert counts.loc["C", "C"] == 2 and counts.loc["C", "G"] == 1
    assert counts.loc["G", OTHER] == 1  # F is outside the top 2
    assert counts.loc[OTHER, "C"] == 1 and counts.loc[OTHER, OTHER] == 1  # Am -> C, END -> END
    assert counts.to_numpy().sum() == 7  # padding ignored
    shares = confusion_top_chords(targets, predictions, top=10)
    assert "END" in shares.index and OTHER not in shares.index
    assert shares.loc["G", OTHER] == 0.5  # F, predicted but never true, is pooled
    assert np.allclose(shares.sum(axis=1), 1.0)
    with pytest.raises(InputError):
        confusion_top_chords([c], [c, g])


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("tiny"), end_bias=-3.0))


def test_test_predictions_cover_every_target_and_report_progress(generator) -> None:
    frame = sample_frame()
    steps: list[tuple[int, int]] = []
    targets, predicted = predictions_of(generator, frame, "test", batch_rows=2, progress=lambda d, t, _: steps.append((d, t)))
    test_chords = sum(len(c.split()) for c in frame.loc[frame["split"] == "test", "chords"])
    ends = int(frame.loc[frame["split"] == "test", "ends"].sum())
    assert len(targets) == len(predicted) == test_chords + ends
    assert (targets != PAD_ID).all() and steps[-1] == (3, 3)


def test_conditioning_report_on_a_tiny_model(generator) -> None:
    progress: list[tuple[int, int, str]] = []
    report = conditioning_report(generator, sample_frame(), samples_per_value=3, length=5, random_seed=1,
                                 progress=lambda d, t, what: progress.append((d, t, what)))
    assert list(report["minor_share"].index) == ["happy", "calm", "tense", "sad"]
    assert report["minor_share"].loc["happy", "real"] == pytest.approx(2 / 11)  # the train split's happy song
    assert math.isnan(report["minor_share"].loc["sad", "real"])  # the sad song is in the test split
    assert set(report["genre_distributions"]) >= {"pop", "jazz"}
    frame, distance = report["genre_distributions"]["pop"]
    assert 0.0 <= distance <= 1.0 and {"generated", "real"} == set(frame.columns)
    assert report["samples"] == 3 * (4 + 10)
    assert 0 <= report["novelty"].copied <= report["novelty"].ngrams
    assert report["novelty_any_key"].copied >= report["novelty"].copied
    assert progress[-1][:2] == (14, 14)
    again = conditioning_report(generator, sample_frame(), samples_per_value=3, length=5, random_seed=1)
    assert again["novelty"] == report["novelty"]  # seeded


def test_conditioning_report_adherence_beside_the_real_ceiling(generator) -> None:
    report = conditioning_report(generator, sample_frame(), samples_per_value=4, length=5, random_seed=2,
                                 guidance={"genre": 1.0, "mood": 1.0})
    genre = report["adherence"]["genre"]
    assert set(genre.index) == {"pop", "folk"}  # the genres with training windows
    assert list(genre.columns) == ["generated", "real", "test windows"]
    assert genre["generated"].between(0, 1).all() and genre.loc["pop", "test windows"] == 0
    assert report["adherence"]["mood"] is None  # one mood with training windows: nothing to judge
    assert report["guidance"] == {"genre": 1.0, "mood": 1.0}


def test_adherence_frame_reads_real_songs_at_their_ceiling() -> None:
    frame = sample_frame()
    train = frame[frame["split"] == "train"]
    test = train.assign(split="test")  # the training songs themselves: the judge knows them
    generated = {"pop": [as_chords("C G Am F")] * 3, "folk": [as_chords("C G Am F"), as_chords("Am G F E")]}
    result = adherence_frame("genre", generated, train, test)
    assert result.loc["pop", "real"] == 1.0 and result.loc["folk", "real"] == 1.0
    assert result.loc["pop", "generated"] == 1.0 and result.loc["folk", "generated"] == 0.5
    assert result.loc["pop", "test windows"] == 3
