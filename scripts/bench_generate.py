"""Time the fast NumPy decoder against a naive model.predict-per-step loop (default-size model, random weights).

    python scripts/bench_generate.py [--repeats 5]

Prints ms per 12-chord progression at batch 1 and progressions/s at batch 256 for both.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.chords import PAD_ID, START_ID  # noqa: E402
from core.dataset import CHORD_INPUT, CONDITION_INPUTS  # noqa: E402
from core.generation.decoder import FastDecoder  # noqa: E402
from core.generation.sampling import chord_mask, draw, shape_distribution  # noqa: E402
from core.model import ModelConfig, build_model  # noqa: E402

CHORDS = 11  # START + 11 chords = the model's 12 positions


def fast_generate(decoder: FastDecoder, batch: int, rng: np.random.Generator) -> np.ndarray:
    allowed = chord_mask()
    state = decoder.initial(np.zeros((batch, 4), dtype=np.int64))
    out = np.empty((batch, CHORDS), dtype=np.int64)
    for t in range(CHORDS):
        out[:, t] = draw(shape_distribution(np.where(allowed, state.log_probs, -np.inf)), rng)
        if t + 1 < CHORDS:
            state = decoder.advance(state, out[:, t])
    return out


def naive_generate(model, batch: int, rng: np.random.Generator) -> np.ndarray:
    allowed = chord_mask()
    chords = np.full((batch, 12), PAD_ID, dtype=np.int32)
    chords[:, 0] = START_ID
    inputs = {CHORD_INPUT: chords, **{name: np.zeros((batch, 1), dtype=np.int32) for name in CONDITION_INPUTS.values()}}
    for t in range(CHORDS):
        probabilities = model.predict(inputs, batch_size=batch, verbose=0)[:, t]
        picks = draw(shape_distribution(np.where(allowed, np.log(np.maximum(probabilities, 1e-30)), -np.inf)), rng)
        if t + 1 < 12:
            chords[:, t + 1] = picks
    return chords


def timed(function, repeats: int) -> float:
    function()  # warm-up (tracing, caches)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = build_model(ModelConfig())
    rng = np.random.default_rng(0)
    model.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in model.get_weights()])
    decoder = FastDecoder(model)
    print(f"default model: {model.count_params():,} parameters; best of {args.repeats}")
    for batch in (1, 256):
        fast = timed(lambda b=batch: fast_generate(decoder, b, rng), args.repeats)
        naive = timed(lambda b=batch: naive_generate(model, b, rng), max(1, args.repeats // 2))
        print(f"batch {batch:>3}: fast {fast * 1000:8.2f} ms ({batch / fast:9.1f} progressions/s)"
              f" | naive predict loop {naive * 1000:8.1f} ms ({batch / naive:8.1f}/s) | speed-up {naive / fast:6.1f}x")


if __name__ == "__main__":
    main()
