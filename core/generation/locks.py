"""Sampling around locked chords: a particle pass that reaches every lock, then resampling passes.

What is drawn. Left-to-right generation draws each open chord from the step distribution
``q_t(x_t | x_<t)`` of :class:`core.generation.sampling.StepRule` (in-key mask, no immediate
repeat, no chord equal to a fixed neighbour, temperature, top-k, top-p). With chords fixed at some
positions (seed chords and locks), a progression is drawn from that process conditioned on the
fixed chords, each weighted by how likely the model, at the temperature, finds it where it stands::

    π(x) ∝ Π_{t open} q_t(x_t | x_<t) · Π_{t fixed} p_T(x_t | x_<t)

so a locked chord shapes the chords before it as well as those after. The chords after the last
fixed one are then drawn left to right given everything before them, which is π's exact
conditional for them; only the open positions before the last fixed chord need what follows.

1. **Particle pass** (sequential importance resampling). Per progression, ``K`` particles are
   written left to right from ``q_t``; at each fixed chord every particle is weighted by
   ``p_T(chord | its prefix)`` and the particles are resampled in proportion (systematic
   resampling); at the last fixed chord one particle is chosen in proportion. As ``K`` grows the
   chosen prefix becomes an exact draw from π. The stated bound: for open positions before one
   fixed chord, with ``w`` the weight of a prefix and ``w̃ = w / E_q[w]``, the law ``P_K`` of the
   draw satisfies (Jensen's inequality on ``E[1 / (w(c) + S)]``, ``S`` the other particles' weights)::

       TV(P_K, π) ≤ E_π[(w̃ − 1)₊] / K ≤ E_q[w̃²] / K

   :func:`particle_bound` computes it; the tests measure the total variation on a tiny model
   against it, and the bench reports it on the default model.
2. **Resampling passes** (``passes``, the ``gibbs_passes`` setting): every open position before
   the last fixed chord is redrawn by iterated sampling-importance-resampling (i-SIR): its current
   chord plus ``M − 1`` candidates drawn from its left-context step distribution ``q_p``, one of
   them chosen in proportion to its right-context likelihood ``R(c)`` (the ``q_j`` or ``p_T``
   factors of the chords after it, up to the last fixed chord, given ``c`` at ``p``). That move
   leaves π exactly invariant (Andrieu, Lee & Vihola 2018, *Bernoulli* 24), so a pass never takes
   the draw further from π in total variation; it renews the early chords the particles shared.

Why not the exact both-sides Gibbs conditional over every chord, or that conditional pruned to the
candidates covering 0.999 of the left-context mass: it decodes rows × 192 candidates × (length − p)
steps per open position and pass (1.6 M row-steps, about 175 s with the machine busy, for eight
32-chord progressions with three locks), and this model's next-chord distributions are broad —
covering 0.999 of p(c | left) takes 135 of the 192 chords on average (0.999 of the exact conditional
about 95), so pruning saves at most 1.5×. The particle pass costs rows × K × (last fixed + 1)
row-steps, a pass rows × M × (last fixed − p) per open position p.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.generation.decoder import Decoder, DecoderState
from core.generation.sampling import RowRandomness, StepRule, draw_with
from core.vocabulary import PAD_ID

#: particles per progression in the particle pass (bench/generation.py measures the bound and the time).
PARTICLES = 64
#: chords weighed at each position by a resampling pass: the current one and PASS_CANDIDATES - 1 drawn.
PASS_CANDIDATES = 8

ProgressCallback = Callable[[int, int], None]


class Progress:
    """Counts work units done out of a known total and reports them to an optional ``callback(done, total)``."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self.callback = max(1, int(total)), 0, callback

    def advance(self, units: int = 1) -> None:
        """Add ``units`` done and report."""
        self.done = min(self.total, self.done + units)
        if self.callback is not None:
            self.callback(self.done, self.total)

    def finish(self) -> None:
        """Report the whole total as done."""
        self.advance(self.total - self.done)


def open_before_last_fixed(rule: StepRule) -> list[int]:
    """The open positions that have a fixed chord after them (the ones this module samples)."""
    return [p for p in range(rule.last_fixed) if p not in rule.fixed]


def work_units(rule: StepRule, passes: int) -> int:
    """The units :class:`Progress` counts for a locked request: particle steps plus positions per pass."""
    return rule.last_fixed + 1 + passes * len(open_before_last_fixed(rule))


def particle_prefix(decoder: Decoder, condition_ids: np.ndarray, rule: StepRule, randomness: RowRandomness,
                    particles: int = PARTICLES, progress: Progress | None = None) -> np.ndarray:
    """One prefix per row, tokens [S, last fixed + 1], drawn by the particle pass (see the module docstring)."""
    rows, k, last = len(condition_ids), int(particles), rule.last_fixed
    draws = randomness.table("particles", (k, last + 1))
    resampling = randomness.table("resample", (last + 1,))
    tokens = np.full((rows * k, last + 1), PAD_ID, dtype=np.int64)
    log_weights = np.zeros(rows * k)
    state = decoder.initial(np.repeat(condition_ids, k, axis=0))
    for t in range(last + 1):
        if t in rule.fixed:
            log_weights += rule.fixed_log_weight(state.log_probs, rule.fixed[t])
            tokens[:, t] = rule.fixed[t]
            picks = systematic_resample(log_weights.reshape(rows, k), resampling[:, t], k if t < last else 1)
            chosen = (np.arange(rows)[:, None] * k + picks).ravel()
            if t == last:
                if progress is not None:
                    progress.advance()
                return tokens[chosen]
            tokens, state, log_weights = tokens[chosen], decoder.take(state, chosen), np.zeros(rows * k)
        else:
            probabilities = rule.probabilities(state.log_probs, t, tokens[:, t - 1] if t else None)
            tokens[:, t] = draw_with(probabilities, draws[:, :, t].ravel())
        state = decoder.advance(state, tokens[:, t])
        if progress is not None:
            progress.advance()
    raise ValueError("particle_prefix needs a fixed chord")  # unreachable: callers pass a rule with one


def systematic_resample(log_weights: np.ndarray, uniforms: np.ndarray, count: int) -> np.ndarray:
    """``count`` particle indices per row [S, count] drawn in proportion to ``exp(log_weights)`` [S, K].

    Systematic resampling: the points ``(u + i) / count`` on each row's cumulative weights, one
    uniform ``u`` per row; every particle is kept about ``count × its share`` times.
    """
    weights = np.exp(log_weights - log_weights.max(axis=1, keepdims=True))
    cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    points = (np.asarray(uniforms)[:, None] + np.arange(count)[None, :]) / count
    picks = (cumulative[:, None, :] <= points[:, :, None]).sum(axis=2)
    return np.minimum(picks, log_weights.shape[1] - 1)


def resampling_passes(decoder: Decoder, condition_ids: np.ndarray, tokens: np.ndarray, rule: StepRule,
                      randomness: RowRandomness, passes: int, candidates: int = PASS_CANDIDATES,
                      progress: Progress | None = None) -> np.ndarray:
    """``passes`` i-SIR passes over the open positions of prefixes [S, last fixed + 1] (module docstring)."""
    rows, width = tokens.shape
    tokens = tokens.copy()
    proposals = randomness.table("pass-proposals", (passes, width, candidates - 1))
    selections = randomness.table("pass-selections", (passes, width))
    for index in range(passes):
        state = decoder.initial(condition_ids)
        for p in range(width - 1):
            if p not in rule.fixed:
                probabilities = rule.probabilities(state.log_probs, p, tokens[:, p - 1] if p else None)
                drawn = draw_with(np.repeat(probabilities, candidates - 1, axis=0), proposals[:, index, p].ravel())
                weighed = np.concatenate([tokens[:, p : p + 1], drawn.reshape(rows, candidates - 1)], axis=1)
                log_right = right_log_likelihood(decoder, state, tokens, p, weighed, rule)
                top = log_right.max(axis=1, keepdims=True)
                weights = np.where(np.isfinite(top), np.exp(log_right - np.where(np.isfinite(top), top, 0.0)), 0.0)
                weights[:, 0] += ~np.isfinite(top[:, 0])  # nothing finite: keep the current chord
                tokens[:, p] = weighed[np.arange(rows), draw_with(weights, selections[:, index, p])]
                if progress is not None:
                    progress.advance()
            state = decoder.advance(state, tokens[:, p])
    return tokens


def right_log_likelihood(decoder: Decoder, state: DecoderState, tokens: np.ndarray, position: int,
                         candidates: np.ndarray, rule: StepRule) -> np.ndarray:
    """log R(c) [S, M]: the factors of π for the chords after ``position``, up to the last fixed one, with c there.

    ``state`` holds each row's prefix before ``position``; ``candidates`` [S, M] the chords weighed.
    Open chords count through the step distribution ``q_j`` (masks and all), fixed ones through ``p_T``.
    """
    rows, count = candidates.shape
    which = np.repeat(np.arange(rows), count)
    expanded = decoder.advance(decoder.take(state, which), candidates.ravel())
    total = np.zeros(rows * count)
    previous = candidates.ravel()
    last = tokens.shape[1] - 1
    for j in range(position + 1, last + 1):
        chord = tokens[which, j]
        if j in rule.fixed:
            total += rule.fixed_log_weight(expanded.log_probs, rule.fixed[j])
        else:
            probabilities = rule.probabilities(expanded.log_probs, j, previous)
            with np.errstate(divide="ignore"):
                total += np.log(probabilities[np.arange(len(chord)), chord])
        previous = chord
        if j < last:
            expanded = decoder.advance(expanded, chord)
    return total.reshape(rows, count)


def particle_bound(proposal: np.ndarray, weights: np.ndarray, particles: int = PARTICLES) -> float:
    """The bound ``E_π[(w̃ − 1)₊] / K`` on TV(particle draw, π) for one stage (module docstring).

    ``proposal`` [C] is q over the prefixes (or the open chord) and ``weights`` [C] their ``p_T`` of
    the fixed chord; π ∝ proposal × weights.
    """
    proposal = np.asarray(proposal, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    normalised = weights / float((proposal * weights).sum())
    target = proposal * normalised
    return float((target * np.maximum(normalised - 1.0, 0.0)).sum() / int(particles))


def guidance_factor(weight: float, conditions) -> int:
    """2 when guidance runs a second, condition-open chain beside the conditioned one (a weight and a genre or mood),
    else 1 (``conditions``: a :class:`core.conditions.Conditions`)."""
    from core.conditions import UNSPECIFIED

    guided = weight > 0 and (conditions.genre != UNSPECIFIED or conditions.mood != UNSPECIFIED)
    return 2 if guided else 1


def request_work(settings, conditions, fixed_positions: set[int] | list[int]) -> int:
    """Decoder row-steps one generation request costs (an upper bound): :func:`lock_work` for its 0-based fixed
    positions (seed chords and locks), twice over under guidance (:func:`guidance_factor`).

    The one cost model of every surface: the command line, the HTTP API and the Generate page all
    refuse a request over :data:`core.config.MAX_GENERATION_WORK` with :func:`check_request_work`.
    """
    work = lock_work(settings.length, settings.num_samples, fixed_positions, settings.gibbs_passes)
    return work * guidance_factor(settings.guidance, conditions)


def check_request_work(settings, conditions, fixed_positions: set[int] | list[int]) -> int:
    """:func:`request_work`, or :class:`core.errors.InputError` saying what the request costs when it is over the
    limit (:data:`core.config.MAX_GENERATION_WORK`) and how to ask for less."""
    from core.config import MAX_GENERATION_WORK
    from core.errors import InputError

    work = request_work(settings, conditions, fixed_positions)
    if work > MAX_GENERATION_WORK:
        guided = " under guidance (two chains)" if guidance_factor(settings.guidance, conditions) == 2 else ""
        raise InputError(f"this request would cost about {work:,} decoder steps (limit {MAX_GENERATION_WORK:,}): "
                         f"{settings.num_samples} samples x {settings.length} chords, locks up to position "
                         f"{max(fixed_positions, default=-1) + 1}, {settings.gibbs_passes} Gibbs passes{guided}; ask "
                         "for fewer samples or Gibbs passes, a shorter length, or lock earlier positions")
    return work


def lock_work(length: int, num_samples: int, fixed_positions: set[int] | list[int], passes: int,
              particles: int = PARTICLES, candidates: int = PASS_CANDIDATES) -> int:
    """Decoder row-steps a request with chords fixed at 0-based ``fixed_positions`` costs here (an upper bound).

    The particle pass decodes ``particles`` rows per sample up to the last fixed chord; each pass
    decodes ``candidates`` rows per sample from every open position before it up to it; the final
    left-to-right pass and the scoring decode ``length`` steps per sample twice.
    """
    fixed = set(fixed_positions)
    last = max(fixed, default=-1)
    open_positions = [p for p in range(last) if p not in fixed]
    if not open_positions:
        return 2 * num_samples * length
    per_sample = particles * (last + 1) + passes * candidates * sum(last - p for p in open_positions)
    return num_samples * (per_sample + 2 * length)
