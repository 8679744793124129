"""Sampling around locks (core.generation.locks): the particle draw within its stated total-variation bound of the
exact conditional, resampling passes that keep it, no repeats beside a lock, progress, per-progression streams.

The exact conditional of one open chord between two fixed ones is computed on a tiny model (every
candidate's weight from the decoder); the sampler is run for many progressions at once and the
total variation between their empirical law and the exact one must stay within the bound plus the
sampling noise of that many exact draws. The bound is informative: the law that ignores the lock
(the left-to-right step distribution) lies further away than bound plus noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from core.chords import parse_symbol
from core.conditions import Conditions
from core.generation.decoder import make_decoder
from core.generation.generate import generate
from core.generation.loading import Generator
from core.generation.locks import lock_work, particle_bound, particle_prefix, resampling_passes
from core.generation.sampling import RowRandomness, StepRule, chord_mask, condition_rows
from core.generation.threads import one_blas_thread
from core.vocabulary import VOCAB
from tests.tiny_models import tiny_model

ROWS = 2000
G, C = VOCAB.id_of(parse_symbol("G")), VOCAB.id_of(parse_symbol("C"))


@pytest.fixture(scope="module")
def decoder():
    return make_decoder(tiny_model(seed=5, scale=1.0), dtype=np.float64)


@pytest.fixture(scope="module")
def exact(decoder):
    """The rule (G _ C, top-k 6), the open chord's step distribution q and its exact conditional π ∝ q · p(C | G, c)."""
    rule = StepRule(chord_mask(), {0: G, 2: C}, min_length=3, top_k=6)
    state = decoder.advance(decoder.initial(condition_rows(Conditions(), 1)), np.array([G]))
    q = rule.probabilities(state.log_probs, 1, np.array([G]))[0]
    candidates = np.flatnonzero(q > 0)
    weights = np.exp(rule.fixed_log_weight(decoder.advance(decoder.take(state, np.zeros(len(candidates), int)),
                                                           candidates).log_probs, C))
    pi = np.zeros_like(q)
    pi[candidates] = q[candidates] * weights
    return rule, q, pi / pi.sum(), candidates, weights


def _tv(a: np.ndarray, b: np.ndarray) -> float:
    return 0.5 * float(np.abs(a - b).sum())


def _noise(pi: np.ndarray, rows: int) -> float:
    """Three times the expected TV of ``rows`` exact draws' empirical law from ``pi`` (normal approximation)."""
    return 3 * 0.5 * float(np.sqrt(2 * pi * (1 - pi) / (np.pi * rows)).sum())


def _law(tokens: np.ndarray, size: int) -> np.ndarray:
    return np.bincount(tokens, minlength=size) / len(tokens)


def test_particle_draw_is_within_its_bound_of_the_exact_conditional(decoder, exact) -> None:
    rule, q, pi, candidates, weights = exact
    particles = 16
    bound = particle_bound(q[candidates], weights, particles)
    assert _tv(q, pi) > bound + _noise(pi, ROWS)  # ignoring the lock would fail this test
    with one_blas_thread():
        drawn = particle_prefix(decoder, condition_rows(Conditions(), ROWS), rule, RowRandomness(0, ROWS), particles)
    assert (drawn[:, 0] == G).all() and (drawn[:, 2] == C).all()
    assert _tv(_law(drawn[:, 1], len(q)), pi) <= bound + _noise(pi, ROWS)


def test_resampling_passes_leave_the_exact_conditional_in_place(decoder, exact) -> None:
    rule, q, pi, _, _ = exact
    rng = np.random.default_rng(1)
    start = np.tile([G, 0, C], (ROWS, 1))
    start[:, 1] = rng.choice(len(pi), size=ROWS, p=pi)  # exact draws: a pass must keep their law
    with one_blas_thread():
        after = resampling_passes(decoder, condition_rows(Conditions(), ROWS), start, rule, RowRandomness(2, ROWS), 1)
    assert (after[:, [0, 2]] == [G, C]).all()
    assert _tv(_law(after[:, 1], len(pi)), pi) <= _noise(pi, ROWS)
    worst = np.tile([G, int(np.flatnonzero(pi)[np.argmin(pi[pi > 0])]), C], (ROWS, 1))  # from the least likely chord
    with one_blas_thread():
        moved = resampling_passes(decoder, condition_rows(Conditions(), ROWS), worst, rule, RowRandomness(3, ROWS), 2)
    assert _tv(_law(moved[:, 1], len(pi)), pi) < _tv(_law(worst[:, 1], len(pi)), pi) / 2


def test_no_chord_repeats_a_locked_neighbour_and_progress_reaches_the_end(tmp_path) -> None:
    generator = Generator(make_decoder(tiny_model(seed=8, scale=1.5), dtype=np.float64), tmp_path)
    ticks: list[tuple[int, int]] = []
    samples = generate(generator, Conditions(), length=9, num_samples=300, temperature=2.5, random_seed=4,
                       locks={2: "G", 3: "G", 6: "Am", 8: "F"}, progress=lambda done, total: ticks.append((done, total)))
    locked = [parse_symbol(symbol) for symbol in ("G", "G", "Am", "F")]
    for sample in samples:
        chords = sample.chords  # compared as chords: the shown spelling follows the sample's key (F may read E#)
        assert len(chords) == 9 and [chords[2], chords[3], chords[6], chords[8]] == locked
        assert all(a != b for i, (a, b) in enumerate(zip(chords, chords[1:], strict=False)) if i != 2)  # G G: chosen
    assert ticks[-1][0] == ticks[-1][1] and all(b[0] >= a[0] for a, b in zip(ticks, ticks[1:], strict=False))


def test_each_progression_draws_from_its_own_stream(tmp_path) -> None:
    generator = Generator(make_decoder(tiny_model(seed=9), dtype=np.float64), tmp_path)
    for locks in ({}, {4: "C"}):
        three = generate(generator, Conditions(), length=6, num_samples=3, random_seed=12, locks=locks)
        five = generate(generator, Conditions(), length=6, num_samples=5, random_seed=12, locks=locks)
        assert [s.symbols for s in five[:3]] == [s.symbols for s in three]
        assert len({tuple(s.symbols) for s in five}) > 1


def test_lock_work_counts_particles_and_passes() -> None:
    assert lock_work(8, 2, set(), 1) == lock_work(8, 2, {0, 1}, 1) == 2 * 2 * 8  # nothing open before a fixed chord
    # particles over positions 0..3, one pass weighing 8 candidates from positions 0, 1 and 2 to position 3
    assert lock_work(8, 1, {3}, 1, particles=64, candidates=8) == 64 * 4 + 8 * (3 + 2 + 1) + 2 * 8
    assert lock_work(32, 8, {3, 15, 27}, 2) > lock_work(32, 8, {3, 15, 27}, 1)
