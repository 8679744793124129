"""``test_results.json`` (see :mod:`core.evaluation.evaluate`) as tables and long frames for display and plotting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from core.errors import InputError

METRICS: tuple[str, ...] = ("top1", "top5", "perplexity", "cross_entropy", "tokens")
#: conditions the results are broken down by (see core.evaluation.evaluate.PER_CONDITION), with readable names.
CONDITION_LABELS: dict[str, str] = {"genre": "genre", "mood": "mood", "scale_type": "scale type"}
CONDITIONS: tuple[str, ...] = tuple(CONDITION_LABELS)
#: readable model names, in the order they are listed.
MODEL_LABELS: dict[str, str] = {
    "lstm": "LSTM (conditioned)", "lstm_unconditioned": "LSTM (conditions open)",
    "trigram_key_relative": "trigram, key-relative (Kneser-Ney)", "trigram": "trigram (Kneser-Ney)",
    "bigram": "bigram (Kneser-Ney)", "unigram": "unigram",
}


def _models(results: Mapping[str, Any]) -> Mapping[str, Mapping[str, Any]]:
    models = results.get("models") if isinstance(results, Mapping) else None
    if not isinstance(models, Mapping) or not models:
        raise InputError("test_results.json has no 'models' section: recompute it")
    return models


def model_label(name: str) -> str:
    """A readable name for a model key of the results (``lstm`` → ``LSTM (conditioned)``)."""
    return MODEL_LABELS.get(name, name)


def _ordered(names) -> list[str]:
    known = [n for n in MODEL_LABELS if n in names]
    return known + sorted(n for n in names if n not in MODEL_LABELS)


def overall_frame(results: Mapping[str, Any]) -> pd.DataFrame:
    """One row per model: top-1, top-5, perplexity, cross-entropy, tokens (conditioned LSTM first)."""
    models = _models(results)
    rows = [{"model": model_label(name), **{m: models[name].get(m) for m in METRICS}} for name in _ordered(models)]
    return pd.DataFrame(rows, columns=["model", *METRICS])


def per_condition_frame(results: Mapping[str, Any], condition: str = "genre", metric: str = "top1") -> pd.DataFrame:
    """Long frame ``<condition>, model, <metric>, tokens`` for grouped bars (values by token count, largest first).

    ``condition`` is ``genre``, ``mood`` or ``scale_type`` (the results' ``per_<condition>``
    section; empty when the results predate it).
    """
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}; accepted: {', '.join(METRICS)}")
    if condition not in CONDITIONS:
        raise InputError(f"unknown condition {condition!r}; accepted: {', '.join(CONDITIONS)}")
    per_value = results.get(f"per_{condition}") or {}
    rows = []
    for value, by_model in per_value.items():
        for name in _ordered(by_model):
            values = by_model[name]
            rows.append({condition: value, "model": model_label(name), metric: values.get(metric),
                         "tokens": values.get("tokens", 0)})
    frame = pd.DataFrame(rows, columns=[condition, "model", metric, "tokens"])
    if frame.empty:
        return frame
    order = frame.groupby(condition)["tokens"].max().sort_values(ascending=False).index
    frame[condition] = pd.Categorical(frame[condition], categories=list(order), ordered=True)
    return frame.sort_values([condition], kind="stable").reset_index(drop=True)


def topk_curve(results: Mapping[str, Any]) -> dict[str, list[float]]:
    """``{"k": [...], model label: accuracies}`` from the results' top-k curve (empty when absent)."""
    curve = results.get("topk_curve") or {}
    if "k" not in curve:
        return {}
    return {"k": list(curve["k"]), **{model_label(n): list(curve[n]) for n in _ordered([k for k in curve if k != "k"])}}
