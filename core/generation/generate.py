"""Generating progressions with the fast stateful decoder: sampling, seeds, in-key masking, locks, alternatives.

Every function here takes a :class:`core.generation.loading.Generator` (or a model path, loaded
once by :func:`core.generation.loading.load_generator`): the NumPy decoder, one step per chord,
batched over samples — or, for attention models, the slower full-sequence Keras fallback
(``generator.backend`` says which).

Sampling, left to right: seed chords and locked chords are fixed; every other position draws
from the model's next-chord distribution (temperature, top-k, top-p; ``in_key`` keeps only
chords inside the requested key's scale). ``END`` may be drawn once at least one chord is out and
every fixed chord has been placed; a sample stops there or at ``length`` chords.

Locks use both sides. A locked chord to the right of an open position should shape it, which
left-to-right sampling ignores, so after the first pass every open position is redrawn from its
exact conditional given all other chords::

    p(x_i = c | rest) ∝ p(c | x_<i) · Π_{j>i} p(x_j | x_<j with c at i)

(the later factors include ``END`` when the sample ended). Every candidate chord is scored in
one batched decode from the shared prefix state. A pass redraws each open position before the
last fixed chord this way, then redraws the free tail after it left to right (the tail's exact
conditional as a block: nothing fixed lies to its right). With one open position and no tail,
one pass is an exact draw. Otherwise this is blocked Gibbs sampling, ``gibbs_passes`` passes
(default 2): an approximation of the joint that improves with more passes. Temperature, top-k
and top-p apply to each conditional as they do to left-to-right draws. Cost per pass: for each
open position, (length - position) decoder steps over rows x candidates (192 chords, fewer in key).

Guidance (``guidance={"genre": w, "mood": w}``, :mod:`core.generation.guidance`) sharpens each
next-chord distribution toward the requested genre and mood before temperature, top-k and top-p;
the both-sides resampling and the alternatives then use the guided chain too. With every weight 0
(or the guided condition open) sampling is exactly the unguided path.

Reported ``probabilities`` are always the model's own p(chord | chords before it, conditions)
at temperature 1 with no masking and no guidance, so they read the same whatever sampling
settings were used.

Roman numerals are in the requested key; with the key open they are in the key that
:func:`guess_key` reads from the chords (most chords inside its scale, then a tonic chord first
or last, then major), restricted to the requested scale type when one is given.
"""

from __future__ import annotations

import contextlib
import functools
import numbers
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.chords import END_ID, PAD_ID, START_ID, VOCAB, Chord, parse_symbol, roman_numeral
from core.conditions import Conditions
from core.config import GenerationSettings
from core.errors import InputError
from core.generation.decoder import Decoder
from core.generation.guidance import guided_decoder, model_log_probs, validate_guidance
from core.generation.loading import Generator, as_generator, load_generator
from core.generation.sampling import candidate_log_scores, chord_mask, draw, shape_distribution
from core.spelling import Spelling, guess_key, key_name
from core.training.run_folder import GENERATED_SAMPLES_FILE, write_json_atomic


@dataclass
class Sample:
    """One generated progression."""

    chords: list[Chord]
    probabilities: list[float]  # model p(chord | chords before, conditions) per chord
    conditions: Conditions
    roman: list[str]
    roman_key: str  # the key the Roman numerals are in, e.g. "A minor"
    ended: bool  # the model chose END (rather than running out of length)
    locked: list[int] = field(default_factory=list)  # 0-based positions fixed by seeds or locks

    @property
    def symbols(self) -> list[str]:
        """Lead-sheet symbols of the chords, spelled in :attr:`roman_key` (``G#m7b5`` in A major)."""
        return Spelling.from_name(self.roman_key).symbols(self.chords)

    def to_dict(self) -> dict:
        """JSON-ready: ``chords`` (symbols), ``roman``, ``probabilities``, ``conditions`` and the rest."""
        return {
            "chords": self.symbols,
            "roman": self.roman,
            "roman_key": self.roman_key,
            "probabilities": [round(p, 6) for p in self.probabilities],
            "conditions": self.conditions.as_dict(),
            "ended": self.ended,
            "locked": [p + 1 for p in self.locked],
        }


# --- keys and Roman numerals ------------------------------------------------------------------


def roman_for(chords: Sequence[Chord], conditions: Conditions) -> tuple[list[str], str]:
    """Roman numerals of ``chords`` and the key they are in (the requested key, else :func:`guess_key`)."""
    if conditions.tonic is not None:
        tonic, mode = conditions.tonic, conditions.mode or "major"
    else:
        tonic, mode = guess_key(chords, conditions.mode)
    return [roman_numeral(c, tonic, mode) for c in chords], key_name(tonic, mode)


# --- inputs -----------------------------------------------------------------------------------


def parse_chords(chords: Sequence[Chord | str] | str) -> list[Chord]:
    """Chords from Chord objects, symbols, or one string of symbols separated by spaces/commas/bars."""
    if isinstance(chords, str):
        chords = [t for t in re.split(r"[\s,|]+", chords.strip()) if t]
    return [c if isinstance(c, Chord) else parse_symbol(c) for c in chords]


def parse_locks(text: str) -> dict[int, Chord]:
    """``"1:C 4:G"`` (1-based positions, as typed) → ``{0: C, 3: G}`` (0-based, as the API takes)."""
    locks: dict[int, Chord] = {}
    for item in text.replace(",", " ").split():
        position, sep, symbol = item.partition(":")
        if not sep or not position.strip().isdigit() or int(position) < 1:
            raise InputError(f"bad lock {item!r}; write POSITION:CHORD with 1-based positions, e.g. '1:C 4:G'")
        if int(position) - 1 in locks:
            raise InputError(f"two locks at the same position ({int(position)}): lock each position once")
        locks[int(position) - 1] = parse_symbol(symbol)
    return locks


def _fixed_positions(seed_chords: Sequence[Chord], locks: Mapping[int, Chord], length: int) -> dict[int, int]:
    fixed = {i: VOCAB.id_of(c) for i, c in enumerate(seed_chords)}
    if len(seed_chords) > length:
        raise InputError(f"{len(seed_chords)} seed chords do not fit in length {length}")
    for position, chord in locks.items():
        if not 0 <= int(position) < length:
            raise InputError(f"lock position {int(position) + 1} is outside the progression (positions are 1..{length})")
        chord_id = VOCAB.id_of(chord)
        if fixed.get(int(position), chord_id) != chord_id:
            seed = seed_chords[int(position)].symbol
            raise InputError(f"lock {int(position) + 1}:{chord.symbol} contradicts seed chord {seed}")
        fixed[int(position)] = chord_id
    return fixed


def validate_request(
    conditions: Conditions,
    length: int = 8,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed_chords: Sequence[Chord | str] = (),
    num_samples: int = 1,
    in_key: bool = False,
    locks: Mapping[int, Chord] | None = None,
    guidance: Mapping[str, float] | None = None,
    **_ignored: object,
) -> None:
    """Every check :func:`generate` makes before touching the model; raises :class:`InputError`."""
    _validate(length, num_samples, temperature, top_k, top_p)
    validate_guidance(guidance)
    _fixed_positions(parse_chords(seed_chords), dict(locks or {}), int(length))
    if in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")


def _validate(length: int, num_samples: int, temperature: float, top_k: int, top_p: float,
              random_seed: int | None = None, gibbs_passes: int = 2) -> None:
    """The sampling settings against their limits in :class:`core.config.GenerationSettings`.

    ``num_samples`` is a batch size here and only needs to be a whole number of at least 1: its
    upper limit bounds one request on every surface (CLI, API, page), while evaluation,
    benchmarks and tests draw larger batches through this function.
    """
    GenerationSettings(length=length, temperature=temperature, top_k=top_k, top_p=top_p, random_seed=random_seed,
                       gibbs_passes=gibbs_passes).validate()
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral) or num_samples < 1:
        raise InputError(f"number of samples must be a whole number of at least 1, got {num_samples!r}")


# --- generation -------------------------------------------------------------------------------


def condition_rows(conditions: Conditions, rows: int) -> np.ndarray:
    """Condition ids [rows, 4] (genre, mood, key, scale_type) repeated for every row."""
    ids = conditions.ids()
    return np.tile(np.array([[ids["genre"], ids["mood"], ids["key"], ids["scale_type"]]], dtype=np.int64), (rows, 1))


def generate(
    model_dir: Generator | str | Path | None,
    conditions: Conditions | None = None,
    length: int = 8,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed_chords: Sequence[Chord | str] = (),
    num_samples: int = 1,
    random_seed: int | None = None,
    in_key: bool = False,
    locks: Mapping[int, Chord] | None = None,
    gibbs_passes: int = 2,
    guidance: Mapping[str, float] | None = None,
) -> list[Sample]:
    """Sample ``num_samples`` progressions of at most ``length`` chords (see the module docstring).

    ``locks`` maps 0-based positions to chords kept fixed (use :func:`parse_locks` for "1:C 4:G").
    ``seed_chords`` open the progression. ``guidance`` maps ``genre``/``mood`` to a weight in
    0..5 (``None``/0: no guidance). The same ``random_seed`` gives the same samples. Raises
    :class:`InputError` for out-of-range settings, unknown chords, ``in_key`` without a key, or
    locks outside the length.
    """
    with one_blas_thread():
        return _generate(as_generator(model_dir), conditions or Conditions(), length, temperature, top_k, top_p,
                         seed_chords, num_samples, random_seed, in_key, locks, gibbs_passes, guidance)


@functools.lru_cache(maxsize=1)
def _blas_controller():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, BLAS keeps its own threading
        return None
    return ThreadpoolController()


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit NumPy's BLAS to one thread for the block (about 0.1 ms to enter).

    The decoder's matrices are small, and on the 2-core machines the studio runs on, a training
    often runs beside it: multithreaded OpenBLAS then spin-waits for a busy core, and batched
    generation ran about 10x slower (bench/results.md: 1 thread ~2,000 vs ~190 progressions/s
    at batch 256 with a training running). One thread costs nothing at the page's batch sizes.
    """
    controller = _blas_controller()
    return contextlib.nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


def _generate(
    generator: Generator, conditions: Conditions, length: int, temperature: float, top_k: int, top_p: float,
    seed_chords: Sequence[Chord | str], num_samples: int, random_seed: int | None, in_key: bool,
    locks: Mapping[int, Chord] | None, gibbs_passes: int, guidance: Mapping[str, float] | None,
) -> list[Sample]:
    _validate(length, num_samples, temperature, top_k, top_p, random_seed, gibbs_passes)
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    seeds = parse_chords(seed_chords)
    fixed = _fixed_positions(seeds, dict(locks or {}), int(length))
    if in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")
    allowed = chord_mask(conditions.tonic, conditions.mode) if in_key else chord_mask()
    rng = np.random.default_rng(random_seed)
    log_likelihoods = np.zeros((int(num_samples), int(length) + 1))
    tokens = _sample_left_to_right(decoder, conditions, int(length), int(num_samples), fixed, allowed,
                                   temperature, top_k, top_p, rng, log_likelihoods)
    last_fixed = max(fixed, default=-1)
    open_positions = [p for p in range(last_fixed) if p not in fixed]
    if open_positions:
        passes = 1 if len(open_positions) == 1 and last_fixed == int(length) - 1 else max(1, int(gibbs_passes))
        tokens = _resample_with_both_sides(decoder, conditions, tokens, fixed, allowed, passes,
                                           temperature, top_k, top_p, rng)
        log_likelihoods = None  # tokens changed after the left-to-right pass: score them again
    return _samples(generator.decoder, conditions, tokens, sorted(fixed), log_likelihoods)


def _sample_left_to_right(
    decoder: Decoder, conditions: Conditions, length: int, num_samples: int, fixed: Mapping[int, int | np.ndarray],
    allowed: np.ndarray, temperature: float, top_k: int, top_p: float, rng: np.random.Generator,
    log_likelihoods: np.ndarray | None = None,
) -> np.ndarray:
    """[S, length + 1] token ids: chords, then END where a sample stopped, PAD after.

    ``fixed`` maps positions to a token for every row, or to one token per row. When
    ``log_likelihoods`` ([S, length + 1]) is given, it receives each token's model log-probability
    (temperature 1, unmasked, unguided; 0 for PAD) read during the pass, which is exactly what
    :func:`core.generation.decoder.token_log_likelihoods` would compute for the returned tokens.
    """
    tokens = np.full((num_samples, length + 1), PAD_ID, dtype=np.int64)
    finished = np.zeros(num_samples, dtype=bool)
    last_fixed = max(fixed, default=-1)
    state = decoder.initial(condition_rows(conditions, num_samples))
    for t in range(length):
        if t in fixed:
            chosen = np.broadcast_to(np.asarray(fixed[t], dtype=np.int64), (num_samples,))
        else:
            mask = allowed.copy()
            mask[END_ID] = t >= 1 and t > last_fixed
            scores = np.where(mask, state.log_probs, -np.inf)
            if t >= 1:  # the corpus collapses immediate repeats, so a repeated chord is never drawn
                previous = tokens[:, t - 1]
                repeats = np.flatnonzero(previous > END_ID)
                scores[repeats, previous[repeats]] = -np.inf
            chosen = draw(shape_distribution(scores, temperature, top_k, top_p), rng)
        chosen = np.where(finished, PAD_ID, chosen)
        tokens[:, t] = chosen
        if log_likelihoods is not None:
            own = model_log_probs(decoder, state)
            picked = own[np.arange(num_samples), np.where(chosen == PAD_ID, END_ID, chosen)]
            log_likelihoods[:, t] = np.where(chosen == PAD_ID, 0.0, picked)
        finished |= chosen == END_ID
        if finished.all():
            break
        if t + 1 < length:
            state = decoder.advance(state, np.where(chosen <= END_ID, START_ID, chosen))  # finished rows: ignored
    return tokens


def _resample_with_both_sides(
    decoder: Decoder, conditions: Conditions, tokens: np.ndarray, fixed: dict[int, int], allowed: np.ndarray,
    passes: int, temperature: float, top_k: int, top_p: float, rng: np.random.Generator,
) -> np.ndarray:
    """Blocked Gibbs passes over the positions before the last fixed chord, then the free tail.

    Each open position before the last fixed chord is redrawn from its exact conditional given
    every other token (all rows and candidates batched); then the tail after the last fixed chord
    is redrawn left to right given the new prefix, which is its exact conditional as a block
    (nothing fixed lies to its right).
    """
    candidates = np.flatnonzero(allowed)
    tokens = tokens.copy()
    length = tokens.shape[1] - 1
    last_fixed = max(fixed)
    for _ in range(passes):
        for position in range(last_fixed):
            if position in fixed:
                continue
            scores = candidate_log_scores(decoder, tokens, position, condition_rows(conditions, len(tokens)), candidates)
            tokens[:, position] = candidates[draw(shape_distribution(scores, temperature, top_k, top_p), rng)]
        if last_fixed + 1 < length:
            prefix = {t: tokens[:, t].copy() for t in range(last_fixed + 1)}
            tokens = _sample_left_to_right(decoder, conditions, length, len(tokens), prefix, allowed,
                                           temperature, top_k, top_p, rng)
    return tokens


def _samples(decoder: Decoder, conditions: Conditions, tokens: np.ndarray, locked: list[int],
             log_likelihoods: np.ndarray | None = None) -> list[Sample]:
    """Sample objects for token rows; ``log_likelihoods`` (read while sampling) saves decoding the rows again."""
    from core.generation.decoder import token_log_likelihoods

    if log_likelihoods is None:
        log_likelihoods = token_log_likelihoods(decoder, tokens, condition_rows(conditions, len(tokens)))
    samples = []
    for row, row_log_likelihoods in zip(tokens, log_likelihoods, strict=True):
        n = int(((row != PAD_ID) & (row != END_ID)).sum())
        chords = [VOCAB.chord(t) for t in row[:n]]
        roman, roman_key = roman_for(chords, conditions)
        samples.append(Sample(
            chords=chords,
            probabilities=[float(np.exp(v)) for v in row_log_likelihoods[:n]],
            conditions=conditions,
            roman=roman,
            roman_key=roman_key,
            ended=bool(n < len(row) and row[n] == END_ID),
            locked=[p for p in locked if p < n],
        ))
    return samples


# --- alternatives (click-to-swap) --------------------------------------------------------------


def position_distribution(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str],
    position: int,
    conditions: Conditions | None = None,
    in_key: bool = False,
    ends: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> np.ndarray:
    """Exact p(chord at ``position`` = c | every other chord, conditions) over the vocabulary [V].

    ``position`` is 0-based. The chords after the position count through their likelihood;
    ``ends=True`` also counts the model's p(END) after the last chord. ``in_key`` limits the
    candidates to the key's scale. Non-candidates (specials, out-of-key chords) get 0. With
    ``guidance`` the conditional is that of the guided chain, as generation samples it.
    """
    generator = as_generator(model)
    conditions = conditions or Conditions()
    chord_list = parse_chords(chords)
    if not 0 <= int(position) < len(chord_list):
        raise InputError(f"position {int(position) + 1} is outside the progression (1..{len(chord_list)})")
    if in_key and conditions.tonic is None:
        raise InputError("in-key alternatives need a key")
    allowed = chord_mask(conditions.tonic, conditions.mode) if in_key else chord_mask()
    candidates = np.flatnonzero(allowed)
    tokens = VOCAB.encode(chord_list) + ([END_ID] if ends else [])
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    scores = candidate_log_scores(decoder, np.array([tokens]), int(position), condition_rows(conditions, 1), candidates)
    distribution = np.zeros(VOCAB.size)
    distribution[candidates] = shape_distribution(scores)[0]
    return distribution


def alternatives(
    model: Generator | str | Path | None,
    chords: Sequence[Chord | str],
    position: int,
    conditions: Conditions | None = None,
    k: int = 5,
    in_key: bool = False,
    ends: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> list[tuple[Chord, float]]:
    """The ``k`` most probable chords at 0-based ``position`` given both neighbours, best first."""
    if int(k) < 1:
        raise InputError(f"k must be at least 1, got {k}")
    distribution = position_distribution(model, chords, position, conditions, in_key=in_key, ends=ends,
                                         guidance=guidance)
    order = np.argsort(-distribution, kind="stable")
    return [(VOCAB.chord(i), float(distribution[i])) for i in order[: int(k)] if distribution[i] > 0]


# --- the run report -----------------------------------------------------------------------------


def write_generated_samples(run_dir: str | Path, per_genre: int = 2, length: int = 8, random_seed: int = 0) -> Path:
    """``generated_samples.json`` in a run folder: a few samples per genre (and open), written atomically."""
    from core.conditions import GENRES

    run_dir = Path(run_dir)
    generator = load_generator(run_dir)
    report = {"backend": generator.backend, "length": length, "random_seed": random_seed, "samples": []}
    for genre in GENRES:
        samples = generate(generator, Conditions.parse(genre=genre), length=length, num_samples=per_genre,
                           random_seed=random_seed)
        report["samples"].extend(s.to_dict() for s in samples)
    path = run_dir / GENERATED_SAMPLES_FILE
    write_json_atomic(path, report)
    return path
