"""Conditioning control and sample statistics for one model (see :mod:`bench.adherence` for the measures).

Judges (logistic regression on key-relative Roman unigrams/bigrams + minor share + variety) are
trained on the train split for genre, scale type and mood; each is read on the real test windows
(ceiling, balanced accuracy), on ``per_value`` generated progressions per requested value
(adherence) and on unconditioned samples (floor). Plus: mood profiles (minor share, variety),
in-key rate (samples asked for C major / A minor, without the in-key mask), immediate-repeat
rate, novelty (4-grams and whole progressions found in the training windows) and a temperature
sweep (0.5 / 1.0 / 1.5: sample perplexity under the model vs novelty and genre adherence).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from core.conditions import GENRES, MOODS, SCALE_TYPES, UNSPECIFIED
from core.errors import InputError

TEMPERATURES: tuple[float, ...] = (0.5, 1.0, 1.5)
LENGTH = 11  # the model's window: END decides where a sample stops


@dataclass(frozen=True)
class ConditioningSettings:
    """Sample counts (the issue asks for 200 per requested value)."""

    per_value: int = 200
    unconditioned: int = 400
    sweep_per_genre: int = 100
    judge_rows: int = 40000
    seed: int = 0


def run(model_dir, settings: ConditioningSettings, frame=None) -> dict:
    """The whole conditioning report for the model in ``model_dir``, as a JSON-ready dict."""
    from bench import adherence as ad
    from core.dataset import split_frame
    from core.evaluation.condition_checks import minor_share, table_progressions
    from core.evaluation.evaluate import shipped_table
    from core.generation.loading import load_generator

    started = time.perf_counter()
    frame = shipped_table() if frame is None else frame
    train, test = split_frame(frame, "train"), split_frame(frame, "test")
    generator = load_generator(model_dir)
    training_windows = table_progressions(train)
    seed = settings.seed

    unconditioned = ad.generate_for_values(generator, "genre", [UNSPECIFIED], settings.unconditioned, LENGTH, 1.0, seed)
    report: dict = {"model": str(model_dir), "settings": settings.__dict__, "judges": {}}
    generated_by_condition = {}
    judges = {}
    for index, condition in enumerate(ad.JUDGED):
        try:
            judge = judges[condition] = ad.train_judge(train, condition, max_rows=settings.judge_rows, seed=seed)
        except InputError as error:  # a table without two labelled values for this condition
            report["judges_skipped"] = {**report.get("judges_skipped", {}), condition: str(error)}
            generated_by_condition[condition] = ad.GeneratedSet([], [], [])
            continue
        chords, labels = ad.labelled_rows(test, condition)
        ceiling = judge.accuracy(chords, labels)
        values = [v for v in {"genre": GENRES, "scale_type": SCALE_TYPES, "mood": MOODS}[condition] if v != UNSPECIFIED]
        values = [v for v in values if v in judge.labels]
        generated = ad.generate_for_values(generator, condition, values, settings.per_value, LENGTH, 1.0,
                                           seed + 100 * (index + 1))
        generated_by_condition[condition] = generated
        result = ad.adherence(judge, generated, unconditioned.progressions)
        test_counts = {v: int(sum(label == v for label in labels)) for v in values}
        report["judges"][condition] = {
            "train_rows": judge.train_rows, "values": values, "test_ceiling": ceiling, "test_counts": test_counts,
            "chance": 1.0 / len(values), **result,
        }

    moods = [m for m in MOODS if m != UNSPECIFIED]
    by_mood_generated = {m: [p for p, r in zip(generated_by_condition["mood"].progressions,
                                                 generated_by_condition["mood"].requested, strict=True) if r == m]
                         for m in moods}
    real_by_mood = {m: table_progressions(test.loc[test["mood"].astype(str) == m]) for m in moods}
    report["mood_profile"] = {
        "real_test": ad.mood_profile(real_by_mood).to_dict(orient="index"),
        "generated": ad.mood_profile(by_mood_generated).to_dict(orient="index"),
        "unconditioned": ad.mood_profile({"(none)": unconditioned.progressions}).to_dict(orient="index"),
    }
    scale = generated_by_condition["scale_type"]
    report["scale_minor_share"] = {
        s: {"real_test": minor_share(table_progressions(test.loc[test["scale_type"].astype(str) == s])),
            "generated": minor_share([p for p, r in zip(scale.progressions, scale.requested, strict=True) if r == s])}
        for s in ("major", "minor")
    }
    report["scale_minor_share"]["unconditioned"] = {"generated": minor_share(unconditioned.progressions)}

    keyed = {}
    for offset, (key, tonic, mode) in enumerate((("C", 0, "major"), ("Am", 9, "minor"))):
        samples = ad.generate_for_values(generator, "key", [key], settings.per_value, LENGTH, 1.0, seed + 900 + offset)
        keyed[key] = ad.in_key_rate(samples.progressions, tonic, mode)
    every = [p for g in generated_by_condition.values() for p in g.progressions] + unconditioned.progressions
    test_windows = table_progressions(test)
    report["samples"] = {
        "in_key_rate": {**{f"generated, key {k}": v for k, v in keyed.items()},
                        "real test windows (labelled key)": ad.labelled_in_key_rate(test)},
        "immediate_repeat_rate": {"generated": ad.immediate_repeat_rate(every),
                                  "real test": ad.immediate_repeat_rate(test_windows)},
        "novelty": {"generated": ad.novelty_figures(every, training_windows),
                    "real test windows": ad.novelty_figures(test_windows, training_windows)},
        "mean_length": {"generated": float(np.mean([len(p) for p in every])),
                        "real test": float(np.mean([len(p) for p in test_windows]))},
        "count": len(every),
    }

    sweep = {}
    for temperature in TEMPERATURES if "genre" in judges else ():
        genre_judge, genre_judge_values = judges["genre"], report["judges"]["genre"]["values"]
        generated = ad.generate_for_values(generator, "genre", genre_judge_values, settings.sweep_per_genre, LENGTH,
                                           temperature, seed + 5000)
        sweep[str(temperature)] = {
            "sample_perplexity": ad.sample_perplexity(generated.probabilities),
            **ad.novelty_figures(generated.progressions, training_windows),
            "genre_adherence": ad.adherence(genre_judge, generated, [])["adherence"],
            "immediate_repeat_rate": ad.immediate_repeat_rate(generated.progressions),
            "count": len(generated.progressions),
        }
    report["temperature_sweep"] = sweep
    report["seconds"] = time.perf_counter() - started
    return report
