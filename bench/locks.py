"""Locked generation and one-progression edits: time on the trained model, and the particle pass's stated bound.

``python -m bench.locks [--quick] [--model DIR]`` prints the rows and writes ``bench/locks.json``.

* **8 × 32 chords, 3 locks** (positions 4, 16, 28): :func:`core.generation.generate.generate` (the
  particle pass and one i-SIR pass, :mod:`core.generation.locks`) beside the exact both-sides Gibbs
  it replaced, re-implemented here from :func:`core.generation.sampling.candidate_log_scores` with
  one pass (the old default was two, so the baseline is understated by about half).
* **regenerate one** 8-chord progression around two kept chords (:func:`core.generation.edits.regenerated`),
  beside the same exact Gibbs on that one progression.
* **swap** one chord (:func:`core.generation.edits.swapped`), beside what the page did before: run
  the whole request again (3 × 8 chords) and rescore the swapped progression.
* **particle bound**: for one open chord followed by a locked one, ``E_π[(w̃ − 1)₊] / K`` with
  K = :data:`core.generation.locks.PARTICLES` (:func:`core.generation.locks.particle_bound`), over
  many contexts drawn from the model; median and largest.

Each time is the median of the repeats after a warm-up; the load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from bench.timing import Result, Stats, measure

GROUP = "locks"
LOCKS = {3: "C", 15: "G", 27: "Am"}
OUTPUT = Path(__file__).resolve().parent / "locks.json"


def exact_gibbs(generator, conditions, length: int, num_samples: int, locks: dict, passes: int, seed: int) -> np.ndarray:
    """The locked sampling generate() used before: left to right, then exact both-sides Gibbs passes (token rows)."""
    from core.chords import read_symbol
    from core.generation.sampling import StepRule, candidate_log_scores, chord_mask, condition_rows, draw, shape_distribution
    from core.vocabulary import END_ID, PAD_ID, VOCAB

    decoder = generator.decoder
    fixed = {p: VOCAB.id_of(read_symbol(s).chord) for p, s in locks.items()}
    rule = StepRule(chord_mask(), fixed, min_length=length)
    rng = np.random.default_rng(seed)
    ids = condition_rows(conditions, num_samples)
    tokens = np.full((num_samples, length + 1), PAD_ID, dtype=np.int64)
    state = decoder.initial(ids)
    for t in range(length):
        previous = tokens[:, t - 1] if t else None
        tokens[:, t] = fixed[t] if t in fixed else draw(rule.probabilities(state.log_probs, t, previous), rng)
        state = decoder.advance(state, tokens[:, t])
    candidates = np.flatnonzero(chord_mask())
    for _ in range(passes):
        for position in (p for p in range(max(fixed)) if p not in fixed):
            scores = candidate_log_scores(decoder, tokens[:, :length], position, ids, candidates)
            tokens[:, position] = candidates[draw(shape_distribution(scores), rng)]
    tokens[:, length] = END_ID
    return tokens


def particle_bounds(generator, conditions, contexts: int, seed: int = 0) -> np.ndarray:
    """The one-stage bound for ``contexts`` prefixes of sampled progressions, their next-but-one chord locked."""
    from core.config import MODEL_DISTRIBUTION
    from core.generation.generate import generate
    from core.generation.locks import PARTICLES, particle_bound
    from core.generation.sampling import StepRule, chord_mask, condition_rows
    from core.vocabulary import VOCAB

    decoder = generator.decoder
    rng = np.random.default_rng(seed)
    samples = generate(generator, conditions, length=8, num_samples=contexts, random_seed=seed, guidance=0.0,
                       **MODEL_DISTRIBUTION)
    bounds = []
    for sample in samples:
        position = int(rng.integers(1, 6))
        ids = VOCAB.encode(sample.chords)
        rule = StepRule(chord_mask(), {position + 1: ids[position + 1]}, min_length=8)
        state = decoder.initial(condition_rows(conditions, 1))
        for token in ids[:position]:
            state = decoder.advance(state, np.array([token]))
        q = rule.probabilities(state.log_probs, position, np.array([ids[position - 1]]))[0]
        candidates = np.flatnonzero(q > 0)
        after = decoder.advance(decoder.take(state, np.zeros(len(candidates), dtype=np.int64)), candidates)
        weights = np.exp(rule.fixed_log_weight(after.log_probs, ids[position + 1]))
        bounds.append(particle_bound(q[candidates], weights, PARTICLES))
    return np.array(bounds)


def run(model_dir: str | None = None, repeats: int = 5, contexts: int = 100) -> list[Result]:
    """Every row of the module docstring, on the trained model (``model_dir``, else the default)."""
    from bench.models import trained_model_dir
    from core.conditions import Conditions
    from core.config import MODEL_DISTRIBUTION, GenerationSettings
    from core.generation.edits import regenerated, swapped
    from core.generation.generate import generate
    from core.generation.loading import load_generator
    from core.generation.score import score_progression
    from core.generation.threads import one_blas_thread

    folder = trained_model_dir(model_dir)
    generator = load_generator(folder)
    conditions = Conditions.parse(genre="pop", key="C")
    load = f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())} at start; model {folder}"
    results = []
    with one_blas_thread():
        new = measure(lambda: generate(generator, conditions, length=32, num_samples=8, locks=LOCKS, random_seed=1,
                                        guidance=0.0, **MODEL_DISTRIBUTION), repeats)
        old = measure(lambda: exact_gibbs(generator, conditions, 32, 8, LOCKS, 1, 1), 1, warmup=0)
        results.append(Result.from_stats(
            "locks_8x32_3_locks_s", GROUP, "8 progressions × 32 chords, 3 locks (s)", "s", new,
            "exact both-sides Gibbs, one pass (before)", old, target="<= 5 s", notes=load))
        sample = generate(generator, conditions, length=8, random_seed=3, guidance=0.0, **MODEL_DISTRIBUTION)[0]
        settings = GenerationSettings(length=8, random_seed=4)
        redo = measure(lambda: regenerated(generator, sample, [0, 3], settings), repeats)
        redo_old = measure(lambda: exact_gibbs(generator, conditions, 8, 1, {0: sample.symbols[0], 3: sample.symbols[3]},
                                               1, 4), repeats)
        results.append(Result.from_stats(
            "locks_regenerate_one_s", GROUP, "regenerate one 8-chord progression around 2 kept chords (s)", "s", redo,
            "exact both-sides Gibbs on it, one pass", redo_old, target="<= 0.8 s", notes=load))
        swap = measure(lambda: swapped(generator, sample, 2, "Am"), repeats)
        swap_old = measure(lambda: (generate(generator, conditions, length=8, num_samples=3, random_seed=3, guidance=0.0,
                                             **MODEL_DISTRIBUTION),
                                    score_progression(generator, sample.chords, conditions)), repeats)
        results.append(Result.from_stats(
            "locks_swap_s", GROUP, "swap one chord of a progression (s)", "s", swap,
            "the whole request again (3 × 8) and the swapped one rescored", swap_old, target="<= 0.8 s", notes=load))
    bounds = particle_bounds(generator, conditions, contexts)
    results.append(Result.from_stats(
        "locks_particle_bound", GROUP, "bound on TV(particle draw, exact conditional), one open chord before a lock",
        "TV", Stats(float(np.median(bounds)), float(np.subtract(*np.percentile(bounds, [75, 25]))), float(bounds.min()),
                    float(bounds.max()), len(bounds)), "none", None,
        notes=f"median over {contexts} contexts; largest {bounds.max():.4f}"))
    return results


def main(argv: list[str] | None = None) -> int:
    """Run, print one line per row, write :data:`OUTPUT`."""
    parser = argparse.ArgumentParser(prog="python -m bench.locks", description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="trained model folder (default: models/default)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and contexts")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = run(args.model, repeats=3 if args.quick else 5, contexts=30 if args.quick else 100)
    for r in results:
        ratio = "—" if r.ratio is None else f"{r.ratio:.1f}x"
        print(f"{r.name}: {r.median:.4g} {r.unit} (±{r.spread:.2g}) | baseline {r.baseline_median} | ratio {ratio} | {r.notes}")
    OUTPUT.write_text(json.dumps({"seconds": time.perf_counter() - started,
                                  "load_average_at_end": list(os.getloadavg()),
                                  "benchmarks": [r.to_dict() for r in results]}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
