"""Generating progressions with the fast stateful decoder: sampling, seeds, in-key masking, locks, alternatives.

Every function here takes a :class:`core.generation.loading.Generator` (or a model path, loaded
once by :func:`core.generation.loading.load_generator`): the NumPy decoder, one step per chord,
batched over samples — or, for attention models, the slower full-sequence Keras fallback
(``generator.backend`` says which).

Sampling, left to right: seed chords and locked chords are fixed; every other position draws
from the step distribution of :class:`core.generation.sampling.StepRule`: the model's next-chord
distribution with ``in_key`` keeping only chords inside the requested key's scale, never the chord
just before (the corpus collapses repeats) nor a fixed chord right after (no repeat beside a lock
either; two equal chords locked side by side are the user's choice), then temperature, top-k and
top-p. A progression has ``length`` chords: ``END`` is only drawn before that when
``let_model_end`` is set (then once at least one chord is out and every fixed chord is placed).

Locks use both sides: a locked chord to the right of an open position shapes it. When an open
position lies before a fixed chord, the progression is drawn from the left-to-right process
conditioned on the fixed chords by a particle pass and ``gibbs_passes`` importance-resampling
passes (:mod:`core.generation.locks`, which states what is drawn, its total-variation bound and its
cost); the chords after the last fixed one are then drawn left to right. ``progress(done, total)``,
when given, is called as that work advances (the Generate page's progress bar).

Every progression of a batch draws from its own random stream (:class:`RowRandomness`): the same
``random_seed`` gives the same samples, and sample ``i`` stays the same whatever ``num_samples``.

Typed chords (seed chords, locks) are read with :func:`core.chords.read_symbol`: a symbol outside the
vocabulary (``G7sus4``) is read as its nearest chord with a note (``Sample.notes``), and a slash bass
(``C/E``) is kept in the sample (``Sample.basses``) for symbols, numerals and notation while the
model sees the chord.

Guidance (``guidance={"genre": w, "mood": w}``, :mod:`core.generation.guidance`) sharpens each
next-chord distribution toward the requested genre and mood before temperature, top-k and top-p;
the lock passes and the alternatives then use the guided chain too. With every weight 0
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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.chords import (
    END_ID,
    PAD_ID,
    START_ID,
    VOCAB,
    Chord,
    ParsedSymbol,
    SlashChord,
    as_slash,
    read_symbol,
    roman_numeral,
)
from core.conditions import Conditions
from core.config import GenerationSettings
from core.errors import InputError
from core.generation.decoder import Decoder
from core.generation.guidance import guided_decoder, model_log_probs, validate_guidance
from core.generation.loading import Generator, as_generator, load_generator
from core.generation.locks import Progress, open_before_last_fixed, particle_prefix, resampling_passes, work_units
from core.generation.sampling import RowRandomness, StepRule, candidate_log_scores, chord_mask, draw_with, shape_distribution
from core.run_files import GENERATED_SAMPLES_FILE, write_json_atomic
from core.spelling import Spelling, guess_key, key_name

#: a typed chord: a symbol (read with read_symbol), a vocabulary chord, a slash chord or a read symbol.
TypedChord = str | Chord | SlashChord | ParsedSymbol


@dataclass
class Sample:
    """One progression: its chords as shown, the model's probabilities, numerals and how it was made.

    ``chords`` are vocabulary chords (root × quality); ``basses`` holds each chord's slash bass
    (``None``: root position), so a typed ``C/E`` keeps its E. ``transposition`` is how many
    semitones the shown chords are moved from the key the model generated them in (edits move
    them back to run the model, :mod:`core.generation.edits`); ``probabilities`` are the model's
    for the generated chords.
    """

    chords: list[Chord]
    probabilities: list[float]  # model p(chord | chords before, conditions) per chord
    conditions: Conditions
    roman: list[str]
    roman_key: str  # the key the Roman numerals are in, e.g. "A minor"
    ended: bool  # the model chose END (rather than running out of length)
    locked: list[int] = field(default_factory=list)  # 0-based positions fixed by seeds or locks
    basses: list[int | None] = field(default_factory=list)  # slash bass per chord (empty: all root position)
    notes: list[str] = field(default_factory=list)  # how typed symbols outside the vocabulary were read
    transposition: int = 0  # semitones the shown chords are moved from the generated ones

    @property
    def slash_chords(self) -> list[SlashChord]:
        """Each chord over its bass (root position where none was typed): what notation and audio render."""
        basses = self.basses or [None] * len(self.chords)
        return [SlashChord(chord, bass) for chord, bass in zip(self.chords, basses, strict=True)]

    @property
    def model_chords(self) -> list[Chord]:
        """The chords as the model generated them (moved back by :attr:`transposition`)."""
        return [c.transpose(-self.transposition) for c in self.chords]

    @property
    def symbols(self) -> list[str]:
        """Lead-sheet symbols spelled in :attr:`roman_key` (``G#m7b5`` in A major), slash basses included."""
        return Spelling.from_name(self.roman_key).symbols(self.slash_chords)

    def to_dict(self) -> dict:
        """JSON-ready: ``chords`` (symbols), ``roman``, ``probabilities``, ``conditions``, ``notes`` and the rest."""
        return {
            "chords": self.symbols,
            "roman": self.roman,
            "roman_key": self.roman_key,
            "probabilities": [round(p, 6) for p in self.probabilities],
            "conditions": self.conditions.as_dict(),
            "ended": self.ended,
            "locked": [p + 1 for p in self.locked],
            "notes": list(self.notes),
        }


# --- keys and Roman numerals ------------------------------------------------------------------


def roman_for(chords: Sequence[Chord | SlashChord], conditions: Conditions,
              transposition: int = 0) -> tuple[list[str], str]:
    """Roman numerals of ``chords`` and the key they are in (the requested key, else :func:`guess_key`).

    ``transposition`` moves the requested key with chords that were moved from it. Slash basses
    add inversion figures (``V65``).
    """
    if conditions.tonic is not None:
        tonic, mode = (conditions.tonic + transposition) % 12, conditions.mode or "major"
    else:
        tonic, mode = guess_key(chords, conditions.mode)
    slashes = [as_slash(c) for c in chords]
    return [roman_numeral(c.chord, tonic, mode, c.bass) for c in slashes], key_name(tonic, mode)


# --- inputs -----------------------------------------------------------------------------------


def read_chords(chords: Sequence[TypedChord] | str) -> list[ParsedSymbol]:
    """Typed chords as :class:`ParsedSymbol` (chord, slash bass, note): from one string of symbols separated by
    spaces/commas/bars, or a sequence of symbols, chords, slash chords or read symbols. ``""`` is no chord."""
    if isinstance(chords, str):
        chords = [t for t in re.split(r"[\s,|]+", chords.strip()) if t]
    return [_read_one(item) for item in chords]


def _read_one(item: TypedChord) -> ParsedSymbol:
    if isinstance(item, ParsedSymbol):
        return item
    if isinstance(item, SlashChord):
        return ParsedSymbol(item.chord, item.bass, None)
    if isinstance(item, Chord):
        return ParsedSymbol(item, None, None)
    return read_symbol(str(item))


def parse_chords(chords: Sequence[TypedChord] | str) -> list[Chord]:
    """The vocabulary chords of typed chords (:func:`read_chords` without basses and notes)."""
    return [parsed.chord for parsed in read_chords(chords)]


def reading_notes(parsed: Sequence[ParsedSymbol]) -> list[str]:
    """The notes of read symbols (``"G7sus4 read as Gsus4"``), each once, in order."""
    return list(dict.fromkeys(p.note for p in parsed if p.note))


def parse_locks(text: str) -> dict[int, ParsedSymbol]:
    """``"1:C 4:G7sus4"`` (1-based positions, as typed) → ``{0: C, 3: Gsus4 (with its note)}`` (0-based, as the API takes)."""
    locks: dict[int, ParsedSymbol] = {}
    for item in text.replace(",", " ").split():
        position, sep, symbol = item.partition(":")
        if not sep or not position.strip().isdigit() or int(position) < 1:
            raise InputError(f"bad lock {item!r}; write POSITION:CHORD with 1-based positions, e.g. '1:C 4:G'")
        if int(position) - 1 in locks:
            raise InputError(f"two locks at the same position ({int(position)}): lock each position once")
        locks[int(position) - 1] = read_symbol(symbol)
    return locks


def typed_positions(seed_chords: Sequence[TypedChord] | str, locks: Mapping[int, TypedChord] | None,
                    length: int) -> dict[int, ParsedSymbol]:
    """0-based position → the typed chord fixed there (seed chords first, then locks); :class:`InputError` for
    seeds longer than ``length``, a lock outside it, or a lock that contradicts a seed chord."""
    seeds = read_chords(seed_chords)
    if len(seeds) > length:
        raise InputError(f"{len(seeds)} seed chords do not fit in length {length}")
    typed = dict(enumerate(seeds))
    for position, item in (locks or {}).items():
        if isinstance(position, bool) or not isinstance(position, numbers.Integral) or not 0 <= position < length:
            raise InputError(f"lock position {position + 1 if isinstance(position, numbers.Integral) else position!r} "
                             f"is outside the progression (positions are 1..{length})")
        parsed = _read_one(item)
        seed = typed.get(int(position))
        if seed is not None and seed.chord != parsed.chord:
            raise InputError(f"lock {int(position) + 1}:{parsed.chord.symbol} contradicts seed chord {seed.chord.symbol}")
        typed[int(position)] = parsed if seed is None or parsed.bass is not None else seed
    return typed


def validate_request(
    conditions: Conditions,
    length: int = 8,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 1.0,
    seed_chords: Sequence[TypedChord] | str = (),
    num_samples: int = 1,
    in_key: bool = False,
    locks: Mapping[int, TypedChord] | None = None,
    guidance: Mapping[str, float] | None = None,
    **_ignored: object,
) -> None:
    """Every check :func:`generate` makes before touching the model; raises :class:`InputError`."""
    _validate(length, num_samples, temperature, top_k, top_p)
    validate_guidance(guidance)
    typed_positions(seed_chords, locks, int(length))
    if in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")


def _validate(length: int, num_samples: int, temperature: float, top_k: int, top_p: float,
              random_seed: int | None = None, gibbs_passes: int = 1) -> None:
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
    seed_chords: Sequence[TypedChord] | str = (),
    num_samples: int = 1,
    random_seed: int | None = None,
    in_key: bool = False,
    locks: Mapping[int, TypedChord] | None = None,
    gibbs_passes: int = 1,
    guidance: Mapping[str, float] | None = None,
    let_model_end: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """Sample ``num_samples`` progressions of ``length`` chords (fewer only with ``let_model_end``); see the module docstring.

    ``locks`` maps 0-based positions to chords kept fixed (use :func:`parse_locks` for "1:C 4:G").
    ``seed_chords`` open the progression. Both accept symbols (read with :func:`core.chords.read_symbol`),
    chords or slash chords. ``guidance`` maps ``genre``/``mood`` to a weight in 0..5 (``None``/0: no
    guidance). The same ``random_seed`` gives the same samples. ``progress(done, total)`` is called as
    locked sampling advances. Raises :class:`InputError` for out-of-range settings, unknown chords,
    ``in_key`` without a key, or locks outside the length.
    """
    with one_blas_thread():
        _validate(length, num_samples, temperature, top_k, top_p, random_seed, gibbs_passes)
        request = _Request(int(length), float(temperature), int(top_k), float(top_p), int(num_samples), random_seed,
                           bool(in_key), int(gibbs_passes), bool(let_model_end))
        return _generate(as_generator(model_dir), conditions or Conditions(), request, seed_chords, locks, guidance,
                         progress)


@dataclass(frozen=True)
class _Request:
    length: int
    temperature: float
    top_k: int
    top_p: float
    num_samples: int
    random_seed: int | None
    in_key: bool
    gibbs_passes: int
    let_model_end: bool


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


def _generate(generator: Generator, conditions: Conditions, request: _Request, seed_chords: Sequence[TypedChord] | str,
              locks: Mapping[int, TypedChord] | None, guidance: Mapping[str, float] | None,
              progress: Callable[[int, int], None] | None) -> list[Sample]:
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    typed = typed_positions(seed_chords, locks, request.length)
    if request.in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")
    rule = StepRule(chord_mask(conditions.tonic, conditions.mode) if request.in_key else chord_mask(),
                    {p: VOCAB.id_of(t.chord) for p, t in typed.items()},
                    min_length=1 if request.let_model_end else request.length,
                    temperature=request.temperature, top_k=request.top_k, top_p=request.top_p)
    randomness = RowRandomness(request.random_seed, request.num_samples)
    condition_ids = condition_rows(conditions, request.num_samples)
    prefix, log_likelihoods = None, np.zeros((request.num_samples, request.length + 1))
    if open_before_last_fixed(rule):
        counter = Progress(work_units(rule, request.gibbs_passes), progress)
        prefix = particle_prefix(decoder, condition_ids, rule, randomness, progress=counter)
        prefix = resampling_passes(decoder, condition_ids, prefix, rule, randomness, request.gibbs_passes,
                                   progress=counter)
        log_likelihoods = None  # read again from the final tokens
        counter.finish()
    tokens = _sample_left_to_right(decoder, condition_ids, rule, request.length, randomness, prefix, log_likelihoods)
    return _samples(generator.decoder, conditions, tokens, typed, log_likelihoods)


def _sample_left_to_right(
    decoder: Decoder, condition_ids: np.ndarray, rule: StepRule, length: int, randomness: RowRandomness,
    prefix: np.ndarray | None = None, log_likelihoods: np.ndarray | None = None,
) -> np.ndarray:
    """[S, length + 1] token ids: chords, then END where a sample stopped, PAD after.

    Fixed positions take the rule's chord, the first ``prefix.shape[1]`` positions the row's
    ``prefix`` tokens, every other one a draw from the rule's step distribution. When
    ``log_likelihoods`` ([S, length + 1]) is given, it receives each token's model log-probability
    (temperature 1, unmasked, unguided; 0 for PAD) read during the pass, which is exactly what
    :func:`core.generation.decoder.token_log_likelihoods` would compute for the returned tokens.
    """
    rows = len(condition_ids)
    uniforms = randomness.table("steps", (length,))
    tokens = np.full((rows, length + 1), PAD_ID, dtype=np.int64)
    finished = np.zeros(rows, dtype=bool)
    state = decoder.initial(condition_ids)
    for t in range(length):
        if prefix is not None and t < prefix.shape[1]:
            chosen = prefix[:, t]
        elif t in rule.fixed:
            chosen = np.full(rows, rule.fixed[t], dtype=np.int64)
        else:
            chosen = draw_with(rule.probabilities(state.log_probs, t, tokens[:, t - 1] if t else None), uniforms[:, t])
        chosen = np.where(finished, PAD_ID, chosen)
        tokens[:, t] = chosen
        if log_likelihoods is not None:
            own = model_log_probs(decoder, state)
            picked = own[np.arange(rows), np.where(chosen == PAD_ID, END_ID, chosen)]
            log_likelihoods[:, t] = np.where(chosen == PAD_ID, 0.0, picked)
        finished |= chosen == END_ID
        if finished.all():
            break
        if t + 1 < length:
            state = decoder.advance(state, np.where(chosen <= END_ID, START_ID, chosen))  # finished rows: ignored
    return tokens


def _samples(decoder: Decoder, conditions: Conditions, tokens: np.ndarray, typed: Mapping[int, ParsedSymbol],
             log_likelihoods: np.ndarray | None = None) -> list[Sample]:
    """Sample objects for token rows; ``log_likelihoods`` (read while sampling) saves decoding the rows again."""
    from core.generation.decoder import token_log_likelihoods

    if log_likelihoods is None:
        log_likelihoods = token_log_likelihoods(decoder, tokens, condition_rows(conditions, len(tokens)))
    notes = reading_notes([typed[p] for p in sorted(typed)])
    samples = []
    for row, row_log_likelihoods in zip(tokens, log_likelihoods, strict=True):
        n = int(((row != PAD_ID) & (row != END_ID)).sum())
        chords = [VOCAB.chord(t) for t in row[:n]]
        basses = [typed[p].bass if p in typed else None for p in range(n)]
        roman, roman_key = roman_for([SlashChord(c, b) for c, b in zip(chords, basses, strict=True)], conditions)
        samples.append(Sample(
            chords=chords,
            probabilities=[float(np.exp(v)) for v in row_log_likelihoods[:n]],
            conditions=conditions,
            roman=roman,
            roman_key=roman_key,
            ended=bool(n < len(row) and row[n] == END_ID),
            locked=[p for p in sorted(typed) if p < n],
            basses=basses,
            notes=notes,
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
