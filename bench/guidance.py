"""Guidance sweep: what classifier-free guidance buys in genre and mood, and what it costs in fluency and copying.

For each weight ``w`` (genre and mood guided with the same ``w``, :mod:`core.generation.guidance`),
``per_value`` progressions are generated for every genre (mood open) and every mood (genre open),
at T = 1, with the same random seeds at every ``w`` (so the rows differ by ``w`` alone). Measured:

* genre adherence — the judges of :mod:`bench.adherence` (all ten genres, and the five largest),
  beside their ceiling: balanced accuracy on the real test windows;
* mood — the sad-minus-happy minor-chord share of the generated progressions, beside the same gap
  in the training windows (the corpus gap), and the mood judge's adherence;
* fluency — the perplexity of the samples under the unguided model (its own per-chord
  probabilities with the requested conditions), and its ratio to ``w = 0``;
* copying — 4-grams (exact, any key) and whole progressions found in the training windows, beside
  the same shares for the real test windows (what a new real song copies).

:func:`choose_weight` picks the default from the table (rule in its docstring).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.conditions import GENRES, MOODS, UNSPECIFIED

WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 3.0)
LENGTH = 11  # as the conditioning control: the model's window, END decides
#: the issue's targets at the default weight.
PERPLEXITY_RATIO_LIMIT = 1.5
MOOD_GAP_FACTOR = 2.0
LARGEST_GENRES = 5


@dataclass(frozen=True)
class GuidanceSettings:
    """Weights and sample counts of the sweep."""

    weights: tuple[float, ...] = WEIGHTS
    per_value: int = 200
    judge_rows: int = 40000
    seed: int = 0


def _minor_gap(progressions_by_mood: dict) -> float:
    from core.evaluation.condition_checks import minor_share

    return minor_share(progressions_by_mood["sad"]) - minor_share(progressions_by_mood["happy"])


def _judges(train, test, settings: GuidanceSettings) -> tuple[dict, dict]:
    """The genre (all values, five largest) and mood judges, and their ceilings on the real test windows."""
    from bench import adherence as ad

    counts = train["genre"].astype(str).value_counts()
    largest = [g for g in counts.index if g in GENRES and g != UNSPECIFIED][:LARGEST_GENRES]
    judges = {
        "genre": ad.train_judge(train, "genre", max_rows=settings.judge_rows, seed=settings.seed),
        "genre_largest": ad.train_judge(train, "genre", max_rows=settings.judge_rows, seed=settings.seed, values=largest),
        "mood": ad.train_judge(train, "mood", max_rows=settings.judge_rows, seed=settings.seed),
    }
    ceilings = {}
    for name, judge in judges.items():
        chords, labels = ad.labelled_rows(test, judge.condition)
        kept = [i for i, label in enumerate(labels) if label in judge.labels]
        ceilings[name] = {"values": judge.labels,
                          **judge.accuracy([chords[i] for i in kept], [labels[i] for i in kept])}
    return judges, ceilings


def _row(weight: float, judges: dict, genre_set, mood_set, training_windows) -> dict:
    from bench import adherence as ad

    largest = set(judges["genre_largest"].labels)
    chosen = [i for i, value in enumerate(genre_set.requested) if value in largest]
    largest_set = ad.GeneratedSet([genre_set.progressions[i] for i in chosen], [genre_set.requested[i] for i in chosen],
                                  [genre_set.probabilities[i] for i in chosen])
    genre = ad.adherence(judges["genre"], genre_set, [])
    moods = [m for m in MOODS if m != UNSPECIFIED]
    by_mood = {m: [p for p, r in zip(mood_set.progressions, mood_set.requested, strict=True) if r == m] for m in moods}
    profile = ad.mood_profile(by_mood)
    every = genre_set.progressions + mood_set.progressions
    return {
        "weight": weight,
        "genre_adherence": genre["adherence"],
        "genre_per_value": {v: row["requested_hit_rate"] for v, row in genre["per_value"].items()},
        "genre_adherence_largest": ad.adherence(judges["genre_largest"], largest_set, [])["adherence"],
        "mood_adherence": ad.adherence(judges["mood"], mood_set, [])["adherence"],
        "minor_share": {m: float(profile.loc[m, "minor_share"]) for m in moods},
        "sad_minus_happy": _minor_gap(by_mood),
        "sample_perplexity": ad.sample_perplexity(genre_set.probabilities + mood_set.probabilities),
        **ad.novelty_figures(every, training_windows),
        "count": len(every),
    }


def run(model_dir, settings: GuidanceSettings, frame=None) -> dict:
    """The sweep for the model in ``model_dir`` as a JSON-ready dict (rows per weight, ceilings, the chosen weight)."""
    from bench import adherence as ad
    from core.dataset import split_frame
    from core.evaluation.condition_checks import table_progressions
    from core.evaluation.evaluate import shipped_table
    from core.generation.loading import load_generator

    started = time.perf_counter()
    frame = shipped_table() if frame is None else frame
    train, test = split_frame(frame, "train"), split_frame(frame, "test")
    generator = load_generator(model_dir)
    judges, ceilings = _judges(train, test, settings)
    training_windows = table_progressions(train)
    corpus = {split: _minor_gap({m: table_progressions(part.loc[part["mood"].astype(str) == m]) for m in ("sad", "happy")})
              for split, part in (("train", train), ("test", test))}
    genres, moods = judges["genre"].labels, [m for m in MOODS if m != UNSPECIFIED]
    rows = []
    for weight in settings.weights:
        guidance = {"genre": weight, "mood": weight}
        genre_set = ad.generate_for_values(generator, "genre", genres, settings.per_value, LENGTH, 1.0,
                                           settings.seed + 100, guidance=guidance)
        mood_set = ad.generate_for_values(generator, "mood", moods, settings.per_value, LENGTH, 1.0,
                                          settings.seed + 300, guidance=guidance)
        rows.append(_row(weight, judges, genre_set, mood_set, training_windows))
        print(f"  w={weight:g}: genre {rows[-1]['genre_adherence']:.3f}, sad-happy {rows[-1]['sad_minus_happy']:+.3f}, "
              f"ppl {rows[-1]['sample_perplexity']:.2f}", flush=True)
    base = next((r["sample_perplexity"] for r in rows if r["weight"] == 0.0), rows[0]["sample_perplexity"])
    for row in rows:
        row["perplexity_ratio"] = row["sample_perplexity"] / base
    real_copying = ad.novelty_figures(table_progressions(test), training_windows)
    report = {"model": str(model_dir), "settings": settings.__dict__, "ceilings": ceilings,
              "corpus_sad_minus_happy": corpus, "real_test_copying": real_copying, "rows": rows}
    report["choice"] = choose_weight(rows, ceilings["genre"]["balanced_accuracy"], corpus["train"],
                                     real_copying["copied_progressions"])
    report["seconds"] = time.perf_counter() - started
    return report


def targets_met(row: dict, genre_ceiling: float, corpus_gap: float, real_copied: float) -> dict[str, bool]:
    """The issue's three targets for one row of the sweep, and the copying guard."""
    return {
        "genre_at_ceiling": bool(row["genre_adherence"] >= genre_ceiling),
        "mood_gap_twice_corpus": bool(row["sad_minus_happy"] >= MOOD_GAP_FACTOR * corpus_gap),
        "perplexity_within_limit": bool(row["perplexity_ratio"] <= PERPLEXITY_RATIO_LIMIT),
        "copies_no_more_than_real": bool(row["copied_progressions"] <= real_copied),
    }


def choose_weight(rows: list[dict], genre_ceiling: float, corpus_gap: float, real_copied: float) -> dict:
    """The default weight, from the sweep's rows.

    A weight is *acceptable* when its sample perplexity stays within the limit and it copies whole
    training progressions no more often than real test songs do. The default is the smallest
    acceptable weight that meets both steering targets (genre at the ceiling, mood gap twice the
    corpus gap); if none does, the largest acceptable weight (the most steering the guards allow).
    """
    met = {row["weight"]: targets_met(row, genre_ceiling, corpus_gap, real_copied) for row in rows}
    acceptable = [w for w, f in met.items() if f["perplexity_within_limit"] and f["copies_no_more_than_real"]]
    steering = [w for w in acceptable if met[w]["genre_at_ceiling"] and met[w]["mood_gap_twice_corpus"]]
    if steering:
        weight, reason = min(steering), "the smallest weight that meets every target within the guards"
    elif acceptable:
        weight, reason = max(acceptable), ("no weight meets both steering targets within the guards; the largest weight "
                                           "whose sample perplexity and copying stay within them")
    else:
        weight, reason = 0.0, "every weight breaks a guard"
    return {"weight": float(weight), "reason": reason, "targets": {str(w): flags for w, flags in met.items()},
            "genre_ceiling": genre_ceiling, "corpus_gap": corpus_gap, "real_copied_progressions": real_copied,
            "mood_gap_needed": MOOD_GAP_FACTOR * corpus_gap, "perplexity_ratio_limit": PERPLEXITY_RATIO_LIMIT}
