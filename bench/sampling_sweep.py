"""Sampling defaults: temperature and top-p rows side by side, against what real songs look like to the same measures.

``python -m bench.sampling_sweep [--quick] [--model DIR]`` prints the table and writes
``bench/sampling_sweep.json``. For every (temperature, top-p) row it draws ``per_genre``
progressions for each genre (up to 11 chords, the model may end them, as the conditioning sweep
of :mod:`bench.conditioning` does; at the default guidance weight, as users get them) and
measures, beside the real test windows:

* **sample perplexity**: exp(mean −ln p) of the chords under the model at T = 1 — how surprising
  the progressions are to the model (real test windows: the same under their own labels);
* **odd chords**: the share of chords the model gives less than 1 % where they stand — the tail
  that top-p cuts (the "F#maj7 E Abm7" moments);
* **4-grams copied** and **progressions copied**: how much is lifted from the training windows
  (real test windows copy some too: the reference for "as original as real songs");
* **genre adherence**: the genre judge of :mod:`bench.adherence` agreeing with the requested genre.

The default is the row whose progressions look most like real songs by these measures: sample
perplexity and odd-chord share closest to the real windows', without copying more whole
progressions than they do (see :func:`choose`).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

#: (temperature, top-p) rows: the conditioning sweep's temperatures, and top-p 0.9 / 0.95 from T = 1 to 1.4.
ROWS: tuple[tuple[float, float], ...] = ((0.5, 1.0), (0.8, 1.0), (1.0, 1.0), (1.2, 1.0), (1.5, 1.0),
                                         (1.0, 0.95), (1.0, 0.9), (1.2, 0.95), (1.2, 0.9), (1.4, 0.95), (1.4, 0.9))
LENGTH = 11
ODD = 0.01
OUTPUT = Path(__file__).resolve().parent / "sampling_sweep.json"


def odd_share(probabilities) -> float:
    """Share of chords with model probability below :data:`ODD`."""
    values = np.array([p for row in probabilities for p in row], dtype=np.float64)
    return float((values < ODD).mean()) if values.size else float("nan")


def real_reference(generator, test, training_windows, max_windows: int = 3000, seed: int = 0) -> dict:
    """The measures on real test windows (scored under their own genre label, other conditions as labelled)."""
    from bench import adherence as ad
    from core.conditions import Conditions
    from core.evaluation.condition_checks import table_progressions
    from core.generation.score import score_progressions

    frame = test.sample(n=min(max_windows, len(test)), random_state=seed)
    probabilities = []
    for genre, group in frame.groupby(frame["genre"].astype(str)):
        progressions = [p for p in table_progressions(group) if p]
        if progressions:
            scored = score_progressions(generator, progressions, Conditions.parse(genre=genre))
            probabilities.extend(r["probabilities"] for r in scored)
    windows = table_progressions(frame)
    return {"sample_perplexity": ad.sample_perplexity(probabilities), "odd_chords": odd_share(probabilities),
            **ad.novelty_figures(windows, training_windows), "count": len(windows)}


def sweep_row(generator, judge, values, training_windows, temperature: float, top_p: float, per_genre: int,
              seed: int, guidance: float) -> dict:
    """The measures for one (temperature, top-p) row."""
    from bench import adherence as ad
    from core.conditions import Conditions
    from core.generation.generate import generate

    generated = ad.GeneratedSet([], [], [])
    for index, genre in enumerate(values):
        for sample in generate(generator, Conditions.parse(genre=genre), length=LENGTH, num_samples=per_genre,
                               temperature=temperature, top_p=top_p, random_seed=seed + 7919 * index, let_model_end=True,
                               guidance=guidance):
            generated.progressions.append(sample.chords)
            generated.requested.append(genre)
            generated.probabilities.append(sample.probabilities)
    return {"temperature": temperature, "top_p": top_p,
            "sample_perplexity": ad.sample_perplexity(generated.probabilities),
            "odd_chords": odd_share(generated.probabilities),
            **ad.novelty_figures(generated.progressions, training_windows),
            "genre_adherence": ad.adherence(judge, generated, [])["adherence"],
            "immediate_repeat_rate": ad.immediate_repeat_rate(generated.progressions),
            "count": len(generated.progressions)}


def choose(rows: list[dict], real: dict) -> dict:
    """The row closest to real songs: smallest |log(perplexity / real)| + |odd share − real| × 10, among the rows
    that copy whole progressions no more often than real windows do (all rows if none does)."""
    fair = [r for r in rows if r["copied_progressions"] <= real["copied_progressions"]] or rows

    def distance(row: dict) -> float:
        surprise = abs(np.log(row["sample_perplexity"] / real["sample_perplexity"]))
        return surprise + 10 * abs(row["odd_chords"] - real["odd_chords"])

    return min(fair, key=distance)


def run(model_dir: str | None = None, per_genre: int = 100, judge_rows: int = 40000, seed: int = 0,
        guidance: float | None = None) -> dict:
    """Every row, the real reference and the chosen default (``guidance``: the settings' default weight)."""
    from bench import adherence as ad
    from bench.models import trained_model_dir
    from core.conditions import GENRES, UNSPECIFIED
    from core.config import GenerationSettings
    from core.dataset import split_frame
    from core.evaluation.condition_checks import table_progressions
    from core.evaluation.evaluate import shipped_table
    from core.generation.loading import load_generator
    from core.generation.threads import one_blas_thread

    started = time.perf_counter()
    guidance = GenerationSettings().guidance if guidance is None else guidance
    folder = trained_model_dir(model_dir)
    generator = load_generator(folder)
    frame = shipped_table()
    train, test = split_frame(frame, "train"), split_frame(frame, "test")
    training_windows = table_progressions(train)
    judge = ad.train_judge(train, "genre", max_rows=judge_rows, seed=seed)
    values = [g for g in GENRES if g != UNSPECIFIED and g in judge.labels]
    with one_blas_thread():
        real = real_reference(generator, test, training_windows, seed=seed)
        rows = [sweep_row(generator, judge, values, training_windows, t, p, per_genre, seed + 5000, guidance)
                for t, p in ROWS]
    chosen = choose(rows, real)
    return {"model": str(folder), "per_genre": per_genre, "guidance": guidance, "real_test_windows": real, "rows": rows,
            "chosen": {"temperature": chosen["temperature"], "top_p": chosen["top_p"]},
            "seconds": time.perf_counter() - started}


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write :data:`OUTPUT`."""
    import os

    parser = argparse.ArgumentParser(prog="python -m bench.sampling_sweep", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained model folder (default: models/default)")
    parser.add_argument("--quick", action="store_true", help="30 progressions per genre, a smaller judge")
    parser.add_argument("--guidance", type=float, help="guidance weight (default: the settings' default)")
    args = parser.parse_args(argv)
    report = run(args.model, per_genre=30 if args.quick else 100, judge_rows=10000 if args.quick else 40000,
                 guidance=args.guidance)
    report["load_average_at_end"] = list(os.getloadavg())
    print("| T | top-p | sample perplexity | odd chords (p < 1 %) | 4-grams copied | progressions copied | genre adherence |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    real = report["real_test_windows"]
    for row in [*report["rows"], {**real, "temperature": "real", "top_p": "test windows", "genre_adherence": float("nan")}]:
        print(f"| {row['temperature']} | {row['top_p']} | {row['sample_perplexity']:.2f} | {row['odd_chords']:.1%} | "
              f"{row['copied_4grams']:.1%} | {row['copied_progressions']:.1%} | {row['genre_adherence']:.1%} |")
    print(f"chosen: T = {report['chosen']['temperature']}, top-p = {report['chosen']['top_p']}")
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
