"""core.evaluation.results: test_results.json as the Evaluation page's tables."""

from __future__ import annotations

import pytest

from core.errors import InputError
from core.evaluation.results import overall_frame, per_condition_frame, topk_curve

RESULTS = {
    "models": {"bigram": {"top1": 0.3, "top5": 0.6, "perplexity": 12.0, "cross_entropy": 2.5, "tokens": 10},
               "lstm": {"top1": 0.4, "top5": 0.7, "perplexity": 9.0, "cross_entropy": 2.2, "tokens": 10}},
    "per_genre": {"jazz": {"lstm": {"top1": 0.2, "tokens": 3}, "bigram": {"top1": 0.1, "tokens": 3}},
                  "pop": {"lstm": {"top1": 0.5, "tokens": 7}, "bigram": {"top1": 0.4, "tokens": 7}}},
    "per_mood": {"sad": {"lstm": {"perplexity": 8.0, "tokens": 2}}, "unspecified": {"lstm": {"perplexity": 9.5, "tokens": 8}}},
    "topk_curve": {"k": [1, 2], "bigram": [0.3, 0.4], "lstm": [0.4, 0.5]},
}


def test_overall_frame_lists_the_lstm_first_with_readable_names() -> None:
    frame = overall_frame(RESULTS)
    assert list(frame["model"]) == ["LSTM (conditioned)", "bigram (Kneser-Ney)"]
    assert frame.loc[0, "perplexity"] == 9.0
    with pytest.raises(InputError, match="no 'models'"):
        overall_frame({"model": {"top1": 0.4}})


def test_per_condition_frame_orders_values_by_tokens() -> None:
    frame = per_condition_frame(RESULTS, "genre", "top1")
    assert list(frame["genre"].astype(str)) == ["pop", "pop", "jazz", "jazz"]
    assert frame.loc[0, "model"] == "LSTM (conditioned)" and frame.loc[0, "top1"] == 0.5
    moods = per_condition_frame(RESULTS, "mood", "perplexity")
    assert list(moods["mood"].astype(str)) == ["unspecified", "sad"] and list(moods["perplexity"]) == [9.5, 8.0]
    assert per_condition_frame(RESULTS, "scale_type").empty  # results written before the per-scale section
    assert per_condition_frame({"models": {}}, "genre", "top5").empty
    with pytest.raises(InputError):
        per_condition_frame(RESULTS, "genre", "f1")
    with pytest.raises(InputError, match="unknown condition"):
        per_condition_frame(RESULTS, "key")


def test_topk_curve_keeps_k_and_labels_models() -> None:
    assert topk_curve(RESULTS) == {"k": [1, 2], "LSTM (conditioned)": [0.4, 0.5], "bigram (Kneser-Ney)": [0.3, 0.4]}
    assert topk_curve({}) == {}
