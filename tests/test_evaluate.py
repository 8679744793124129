"""The evaluator against hand-computed values: a stub predictor with a fixed distribution, toy n-grams."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from core.corpus.table import COLUMNS
from core.dataset import CONDITION_INPUTS, encode_frame
from core.evaluation.evaluate import evaluate_model, evaluate_run, results_table, token_metrics, topk_curve
from core.evaluation.ngram import NGramModel
from core.run_files import TEST_RESULTS_FILE
from core.vocabulary import END_ID, START_ID, VOCAB
from tests.tiny_models import saved_tiny_model

C, F, G, AM = (VOCAB.id_of_symbol(s) for s in ("C", "F", "G", "Am"))


def _frame(rows: list[tuple[str, str, str, str, int]]) -> pd.DataFrame:
    """Rows of (split, song, genre, chords, ends) with the table's columns."""
    records = []
    for i, (split, song, genre, chords, ends) in enumerate(rows):
        records.append({column: "" for column in COLUMNS} | {
            "window_id": str(i), "song_id": song, "split": split, "genre": genre, "scale_type": "major", "key_tonic": "0",
            "chords": chords, "n_chords": len(chords.split()), "ends": ends,
        })
    return pd.DataFrame(records, columns=list(COLUMNS))


FRAME = _frame([
    ("train", "s1", "pop", "C G Am F", 1),
    ("train", "s1", "pop", "C F G", 1),
    ("train", "s2", "rock", "G C", 0),
    ("test", "s3", "pop", "C G", 1),  # targets: C G END
    ("test", "s4", "rock", "C F", 0),  # targets: C F (no END: the window does not end)
])
TARGETS = np.array([C, G, END_ID, C, F])


def _fixed_distribution() -> np.ndarray:
    """END .4, C .3, G .2; the remaining .1 over other chords, decreasing with id (no ties)."""
    q = np.zeros(VOCAB.size)
    q[END_ID], q[C], q[G] = 0.4, 0.3, 0.2
    others = [i for i in range(3, VOCAB.size) if i not in (C, G)]
    weights = 1.0 / np.arange(1, len(others) + 1)
    q[others] = 0.1 * weights / weights.sum()
    return q


def stub_predictor(calls: list | None = None):
    """Same distribution at every position; the conditioned call is sharper on END than the unconditioned one."""
    q = _fixed_distribution()

    def predict(inputs: dict[str, np.ndarray]) -> np.ndarray:
        if calls is not None:
            calls.append({name: inputs[name].copy() for name in CONDITION_INPUTS.values()})
        n, length = inputs["chord_sequence_input"].shape
        return np.broadcast_to(q, (n, length, VOCAB.size)).copy()

    return predict


def test_token_metrics_by_hand() -> None:
    q = _fixed_distribution()
    probabilities = np.tile(q, (len(TARGETS), 1))
    metrics = token_metrics(probabilities, TARGETS)
    assert metrics["tokens"] == 5
    assert metrics["top1"] == pytest.approx(1 / 5)  # only END is top-1
    # F is the 5th "other" chord by id (after C#, D, Eb, E), so its rank is 3 + 4 = 7: a top-5 miss
    assert metrics["top5"] == pytest.approx(4 / 5)
    expected_ce = -(2 * math.log(0.3) + math.log(0.2) + math.log(0.4) + math.log(q[F])) / 5
    assert metrics["cross_entropy"] == pytest.approx(expected_ce)
    assert metrics["perplexity"] == pytest.approx(math.exp(expected_ce))
    curve = topk_curve(probabilities, TARGETS)
    assert curve[:3] == pytest.approx([0.2, 0.6, 0.8]) and curve[6] == pytest.approx(0.8) and curve[7] == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(curve, curve[1:], strict=False))


def test_evaluate_model_with_a_stub_predictor() -> None:
    calls: list = []
    results = evaluate_model(stub_predictor(calls), FRAME)
    assert results["test_songs"] == 2 and results["test_windows"] == 2 and results["test_tokens"] == 5
    expected = token_metrics(np.tile(_fixed_distribution(), (5, 1)), TARGETS)
    for key in ("top1", "top5", "cross_entropy", "perplexity"):
        assert results["models"]["lstm"][key] == pytest.approx(expected[key])
    assert set(results["models"]) == {"lstm", "lstm_unconditioned", "unigram", "bigram", "trigram", "trigram_key_relative"}
    # the second call is the unconditioned one: every condition 0
    assert all((v != 0).any() for k, v in calls[0].items() if k != "mood_input")
    assert all((v == 0).all() for v in calls[1].values())
    assert set(results["per_genre"]) == {"pop", "rock"}
    assert results["per_genre"]["pop"]["lstm"]["tokens"] == 3
    assert results["per_genre"]["rock"]["lstm"]["top1"] == 0.0
    assert results["topk_curve"]["k"] == list(range(1, 11))
    assert "lstm" in results_table(results)


def test_baselines_are_fitted_on_train_and_scored_per_token() -> None:
    results = evaluate_model(stub_predictor(), FRAME)
    train = encode_frame(FRAME[FRAME["split"] == "train"])
    sequences = [[START_ID] + [int(t) for t in row if t] for row in train.targets]
    bigram = NGramModel(2).fit(sequences)
    test_sequences = [[START_ID, C, G, END_ID], [START_ID, C, F]]
    log_probs = np.concatenate([bigram.token_log_probs(s) for s in test_sequences])
    assert results["models"]["bigram"]["cross_entropy"] == pytest.approx(-log_probs.mean())
    pop = -bigram.token_log_probs(test_sequences[0]).mean()
    assert results["per_genre"]["pop"]["bigram"]["cross_entropy"] == pytest.approx(pop)
    unigram = NGramModel(1).fit(sequences)
    log_probs = np.concatenate([unigram.token_log_probs(s) for s in test_sequences])
    assert results["models"]["unigram"]["cross_entropy"] == pytest.approx(-log_probs.mean())


def test_evaluate_run_writes_results_atomically(tmp_path) -> None:
    run_dir = saved_tiny_model(tmp_path / "run")
    results = evaluate_run(run_dir, frame=FRAME)
    written = json.loads((run_dir / TEST_RESULTS_FILE).read_text())
    assert written["models"]["lstm"]["tokens"] == 5
    assert written["models"]["lstm"]["top1"] == pytest.approx(results["models"]["lstm"]["top1"])
    assert not list(run_dir.glob(".*partial*"))


def test_key_relative_trigram_scores_a_window_and_its_transposition_alike() -> None:
    from core.evaluation.evaluate import fit_baselines, key_relative_probabilities, training_sequences, transposed_to_c

    frame = _frame([
        ("train", "s1", "pop", "C F G C", 1), ("train", "s2", "pop", "G C D G", 1),
        ("test", "s3", "pop", "D G A D", 1), ("test", "s4", "pop", "Bb Eb F Bb", 1),
    ])
    frame["key_tonic"] = ["C", "G", "D", "Bb"]
    train = encode_frame(frame[frame["split"] == "train"])
    test = encode_frame(frame[frame["split"] == "test"])
    moved = transposed_to_c(test)
    assert VOCAB.decode(moved.targets[0][:4]) == ["C", "F", "G", "C"] == VOCAB.decode(moved.targets[1][:4])
    model = NGramModel(order=3, vocab_size=len(VOCAB)).fit(training_sequences(transposed_to_c(train)))
    windows, positions = np.nonzero(test.targets)
    probs = key_relative_probabilities(model, test, windows, positions)
    assert np.allclose(probs.sum(axis=1), 1.0)
    target_probs = probs[np.arange(len(windows)), test.targets[windows, positions]]
    first, second = target_probs[windows == 0], target_probs[windows == 1]
    assert np.allclose(first, second) and (first > 0.5).all()  # both songs are I IV V I, seen twice in training
    absolute = fit_baselines(training_sequences(train))["trigram"]
    assert absolute.next_distribution([START_ID])[test.targets[0, 0]] < target_probs[0]


def test_results_per_mood_and_scale_type() -> None:
    frame = FRAME.copy()
    frame.loc[3, ["mood", "scale_type"]] = ["sad", "minor"]  # the pop test window: targets C G END
    results = evaluate_model(stub_predictor(), frame)
    assert set(results["per_mood"]) == {"sad", "unspecified"}
    assert set(results["per_scale_type"]) == {"major", "minor"}
    q = _fixed_distribution()
    sad = token_metrics(np.tile(q, (3, 1)), np.array([C, G, END_ID]))
    assert results["per_mood"]["sad"]["lstm"] == pytest.approx(sad)
    assert results["per_scale_type"]["minor"]["lstm"] == pytest.approx(sad)
    assert results["per_mood"]["unspecified"]["lstm"]["tokens"] == 2
    assert results["per_scale_type"]["major"]["lstm"]["top1"] == 0.0  # C, F: END is the top choice
    table = results_table(results)
    assert "mood" in table and "scale_type" in table and "sad" in table
