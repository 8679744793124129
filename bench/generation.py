"""Generation speed: the fast NumPy path against a ``model.predict``-per-step loop (the naive way).

Three ways to write 12-chord progressions, all with the same sampling (temperature 1, chords
only, seeded draws):

* **fast decoder** — :class:`core.generation.decoder.FastDecoder` stepped 12 times, batched over rows;
  exactly 12 chords per progression (``END`` masked), per-chord probabilities read on the way;
* **generate()** — the public :func:`core.generation.generate.generate` (what the CLI and studio call):
  ``END`` allowed, per-chord probabilities, Roman numerals and :class:`~core.generation.sample.Sample`
  objects included;
* **naive** (baseline) — the whole padded sequence through ``model.predict`` at every step.

Figures: ms per progression at batch 1 and progressions/s at batch 256.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.models import bench_model
from bench.timing import Result, Stats, measure

CHORDS = 12
GROUP = "generation"
TARGET_BATCH1_MS = 2.0
TARGET_BATCH256_PER_S = 5000.0


@dataclass(frozen=True)
class GenerationSettings:
    """Repeats per measurement (the naive loop is slow, so it gets fewer)."""

    repeats: int = 15
    naive_repeats: int = 5
    batch: int = 256


def condition_batch(batch: int) -> np.ndarray:
    """Condition ids [batch, 4]: pop, happy, C major, major (a typical request)."""
    from core.conditions import Conditions

    ids = Conditions.parse(genre="pop", mood="happy", key="C").ids()
    return np.tile(np.array([[ids["genre"], ids["mood"], ids["key"], ids["scale_type"]]], dtype=np.int64), (batch, 1))


def fast_progressions(decoder, batch: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``batch`` progressions of exactly 12 chords with the fast decoder: (token ids, per-chord probabilities)."""
    from core.generation.sampling import chord_mask, draw, shape_distribution

    allowed = chord_mask()
    state = decoder.initial(condition_batch(batch))
    tokens = np.empty((batch, CHORDS), dtype=np.int64)
    probabilities = np.empty((batch, CHORDS))
    rows = np.arange(batch)
    for t in range(CHORDS):
        tokens[:, t] = draw(shape_distribution(np.where(allowed, state.log_probs, -np.inf)), rng)
        probabilities[:, t] = np.exp(state.log_probs[rows, tokens[:, t]])
        if t + 1 < CHORDS:
            state = decoder.advance(state, tokens[:, t])
    return tokens, probabilities


def naive_progressions(model, batch: int, rng: np.random.Generator, chords: int = CHORDS) -> np.ndarray:
    """``batch`` progressions of ``chords`` chords, calling ``model.predict`` on the padded sequence at every step."""
    from core.dataset import CHORD_INPUT, CONDITION_INPUTS
    from core.generation.sampling import chord_mask, draw, shape_distribution
    from core.vocabulary import PAD_ID, START_ID

    allowed = chord_mask()
    length = int(model.inputs[0].shape[1])
    conditions = condition_batch(batch)
    history = np.full((batch, chords + 1), PAD_ID, dtype=np.int32)
    history[:, 0] = START_ID
    for t in range(chords):
        window = np.full((batch, length), PAD_ID, dtype=np.int32)
        visible = history[:, max(0, t + 1 - length): t + 1]
        window[:, : visible.shape[1]] = visible
        inputs = {CHORD_INPUT: window}
        for column, name in enumerate(("genre", "mood", "key", "scale_type")):
            inputs[CONDITION_INPUTS[name]] = conditions[:, column: column + 1].astype(np.int32)
        probabilities = model.predict(inputs, batch_size=batch, verbose=0)[:, visible.shape[1] - 1]
        scores = np.where(allowed, np.log(np.maximum(probabilities, 1e-30)), -np.inf)
        history[:, t + 1] = draw(shape_distribution(scores), rng)
    return history[:, 1:]


def run(settings: GenerationSettings, model_dir: str | None = None) -> list[Result]:
    """Time the three ways at batch 1 and at ``settings.batch``; results per the module docstring."""
    from core.conditions import Conditions
    from core.config import MODEL_DISTRIBUTION
    from core.generation.decoder import make_decoder
    from core.generation.generate import generate
    from core.generation.loading import Generator

    loaded = bench_model(model_dir)
    decoder = make_decoder(loaded.model)
    generator = Generator(decoder, loaded.folder)
    conditions = Conditions.parse(genre="pop", mood="happy", key="C")
    rng = np.random.default_rng(0)
    source = f"model: {loaded.source}; decoder: {decoder.backend}"
    results: list[Result] = []
    mean_chords: dict[int, float] = {}

    def api(batch: int) -> None:
        samples = generate(generator, conditions, length=CHORDS, num_samples=batch, random_seed=int(rng.integers(1 << 30)),
                           guidance=0.0, **MODEL_DISTRIBUTION)
        mean_chords[batch] = float(np.mean([len(s.chords) for s in samples]))

    for batch in (1, settings.batch):
        naive = measure(lambda b=batch: naive_progressions(loaded.model, b, rng), settings.naive_repeats)
        fast = measure(lambda b=batch: fast_progressions(decoder, b, rng), settings.repeats)
        public = measure(lambda b=batch: api(b), settings.repeats)
        one_thread = _one_blas_thread(lambda b=batch: fast_progressions(decoder, b, rng), settings.repeats)
        fast_note = "exactly 12 chords (END masked), per-chord probabilities"
        if one_thread is not None:
            value = one_thread.median * 1000 if batch == 1 else batch / one_thread.median
            fast_note += f"; with BLAS limited to 1 thread: {value:,.2f} {'ms' if batch == 1 else '/s'}"
        for key, label, stats, note in (
            ("fast_decoder", "fast decoder loop", fast, fast_note),
            ("generate_api", "core.generation.generate.generate()", public,
             f"END allowed (mean {mean_chords.get(batch, float('nan')):.1f} chords), probabilities, Roman numerals"),
        ):
            results.append(_result(key, label, batch, stats, naive, f"{source}; {note}"))
    return results


def _one_blas_thread(function, repeats: int) -> Stats | None:
    """:func:`measure` with NumPy's BLAS limited to one thread (``None`` without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    with threadpool_limits(limits=1, user_api="blas"):
        return measure(function, repeats)


def _result(key: str, label: str, batch: int, stats: Stats, naive: Stats, notes: str) -> Result:
    baseline = "model.predict per step (padded full sequence)"
    if batch == 1:
        return Result.from_stats(
            f"generation_{key}_batch1_ms", GROUP, f"{label}: ms per 12-chord progression, batch 1", "ms",
            stats.scaled(1000.0), baseline, naive.scaled(1000.0), target=f"<= {TARGET_BATCH1_MS:g} ms", notes=notes,
        )
    return Result.from_stats(
        f"generation_{key}_batch{batch}_per_s", GROUP, f"{label}: 12-chord progressions/s, batch {batch}",
        "progressions/s", stats.inverted(batch), baseline, naive.inverted(batch),
        target=f">= {TARGET_BATCH256_PER_S:,.0f} /s", notes=notes,
    )
