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

Typed chords (seed chords, locks) are read by :mod:`core.generation.chord_input`: a symbol outside the
vocabulary (``G7sus4``) is read as its nearest chord with a note (``Sample.notes``), and a slash bass
(``C/E``) is kept in the sample (``Sample.basses``) for symbols, numerals and notation while the
model sees the chord.

The sampling settings come as one :class:`core.config.GenerationSettings`, checked when it was
built (at the surface: command-line flags, the API's schema, the Generate page's address); this
module hands it to the step rule as it is. Its defaults are the library's defaults too: a caller
that wants the model's own distribution (temperature 1, no top-p, no guidance) says so.

Guidance (``guidance={"genre": w, "mood": w}``, :mod:`core.generation.guidance`) sharpens each
next-chord distribution toward the requested genre and mood before temperature, top-k and top-p;
the lock passes and the alternatives then use the guided chain too. With every weight 0
(or the guided condition open) sampling is exactly the unguided path.

A song-context model (:mod:`core.song_context`) is told where the progression is in a song (``place``: the
section of each chord, the metre; unknown by default) and also predicts each chord's duration: after a chord
is fed, its duration class is drawn from the model's duration distribution (temperature 1, from its own
random table, so the chords are the same as without it) and the sample carries ``durations`` in beats. A
model without a duration head gives ``durations`` of ``None``; the last chord is then not fed at all.

Reported ``probabilities`` are always the model's own p(chord | chords before it, conditions)
at temperature 1 with no masking and no guidance, so they read the same whatever sampling
settings were used.

A key-relative model (:mod:`core.key_relative`) with the key open draws a key for each progression
first (:func:`open_key_drawn`: the corpus's key prior for the genre, given the seed chords) and writes
the progression in it; its probabilities are then those in that key.

Roman numerals are in the requested key; with the key open they are in the key that
:func:`core.spelling.guess_key` reads from the chords (:func:`core.generation.sample.roman_for`).
Click-to-swap alternatives are :mod:`core.generation.alternatives`; a run's sample report is
:mod:`core.generation.run_samples`.
"""


from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from core.chords import ParsedSymbol, SlashChord
from core.conditions import Conditions
from core.config import GenerationSettings
from core.errors import InputError
from core.generation.chord_input import TypedChord, reading_notes, typed_positions
from core.generation.decoder import Decoder, PlacedDecoder, SongPlace, token_log_likelihoods
from core.generation.guidance import Guidance, guided_decoder, model_log_probs, validate_guidance
from core.generation.key_decoder import KeyRelativeDecoder
from core.generation.loading import Generator, as_generator
from core.generation.locks import Progress, open_before_last_fixed, particle_prefix, resampling_passes, work_units
from core.generation.sample import Sample, roman_for
from core.generation.sampling import RowRandomness, StepRule, chord_mask, condition_rows, draw_with
from core.generation.threads import one_blas_thread
from core.song_context import beats_of_duration_ids
from core.vocabulary import END_ID, PAD_ID, START_ID, VOCAB


def requested_settings(settings: GenerationSettings | None = None, **changes: Any) -> GenerationSettings:
    """``settings`` (default :class:`GenerationSettings`) with ``changes``; the copy is checked as it is built.

    An object handed in unchanged is not checked again: it was checked when it was built.
    """
    settings = GenerationSettings() if settings is None else settings
    return replace(settings, **changes) if changes else settings


def validate_request(conditions: Conditions, settings: GenerationSettings, seed_chords: Sequence[TypedChord] | str = (),
                     locks: Mapping[int, TypedChord] | None = None) -> dict[int, ParsedSymbol]:
    """What :func:`generate` checks beyond the settings, before touching the model; raises :class:`InputError`.

    Seed chords and locks must fit in ``settings.length`` and agree; ``in_key`` needs a key; the
    request may cost at most :data:`core.config.MAX_GENERATION_WORK` decoder row-steps
    (:func:`core.generation.locks.check_request_work`: the one cost model and limit of the command
    line, the API and the Generate page, which all call this). Returns the typed chord fixed at
    each 0-based position.
    """
    from core.generation.locks import check_request_work

    typed = typed_positions(seed_chords, locks, settings.length)
    if settings.in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")
    check_request_work(settings, conditions, set(typed))
    return typed


def batch_size(num_samples: int | None, settings: GenerationSettings) -> int:
    """Progressions drawn at once: ``settings.num_samples``, or ``num_samples`` for library batches.

    A request's number of samples is bounded on every surface (CLI, API, page); evaluation,
    benchmarks and tests draw larger batches, which only need to be a whole number of at least 1.
    """
    if num_samples is None:
        return settings.num_samples
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise InputError(f"number of samples must be a whole number of at least 1, got {num_samples!r}")
    return num_samples


def generate(
    model_dir: Generator | str | Path | None,
    conditions: Conditions | None = None,
    settings: GenerationSettings | None = None,
    *,
    seed_chords: Sequence[TypedChord] | str = (),
    locks: Mapping[int, TypedChord] | None = None,
    num_samples: int | None = None,
    guidance: Guidance = None,
    progress: Callable[[int, int], None] | None = None,
    place: SongPlace | None = None,
    **changes: Any,
) -> list[Sample]:
    """Sample progressions of ``settings.length`` chords (fewer only with ``let_model_end``); see the module docstring.

    ``settings`` (default :class:`GenerationSettings`) holds every sampling setting, already checked;
    ``changes`` (setting names, e.g. ``temperature=1.0``) build a checked copy. ``num_samples``
    overrides the settings' batch size (library batches may exceed a request's limit). ``guidance``
    overrides ``settings.guidance`` with one weight or a weight per condition (``{"genre": 2.0}``).
    ``locks`` maps 0-based positions to chords kept fixed (:func:`core.generation.chord_input.parse_locks`
    reads "1:C 4:G"); ``seed_chords`` open the progression. The same ``random_seed`` gives the same
    samples. ``progress(done, total)`` is called as locked sampling advances. ``place`` tells a song-context model the
    section of each chord and the metre (:class:`core.generation.decoder.SongPlace`). Raises
    :class:`InputError` for unknown chords, ``in_key`` without a key, or locks outside the length.
    """
    settings = requested_settings(settings, **changes)
    rows = batch_size(num_samples, settings)
    weights = validate_guidance(settings.guidance if guidance is None else guidance)
    typed = validate_request(conditions or Conditions(), settings, seed_chords, locks)
    generator = as_generator(model_dir)
    if place is not None:
        generator = replace(generator, decoder=PlacedDecoder(generator.decoder, place))
    with one_blas_thread():
        return _generate(generator, conditions or Conditions(), settings, rows, typed, weights, progress)


def step_rule(conditions: Conditions, settings: GenerationSettings, typed: Mapping[int, ParsedSymbol]) -> StepRule:
    """The distribution every step of a request draws from: the settings' temperature, top-k and top-p as given."""
    return StepRule(chord_mask(conditions.tonic, conditions.mode) if settings.in_key else chord_mask(),
                    {p: VOCAB.id_of(t.chord) for p, t in typed.items()},
                    min_length=1 if settings.let_model_end else settings.length,
                    temperature=settings.temperature, top_k=settings.top_k, top_p=settings.top_p)


def _generate(generator: Generator, conditions: Conditions, settings: GenerationSettings, rows: int,
              typed: Mapping[int, ParsedSymbol], guidance: Mapping[str, float],
              progress: Callable[[int, int], None] | None) -> list[Sample]:
    decoder = guided_decoder(generator.decoder, conditions, guidance)
    rule = step_rule(conditions, settings, typed)
    randomness = RowRandomness(settings.random_seed, rows)
    condition_ids = open_key_drawn(generator.decoder, condition_rows(conditions, rows), rule, randomness)
    prefix, log_likelihoods = None, np.zeros((rows, settings.length + 1))
    if open_before_last_fixed(rule):
        counter = Progress(work_units(rule, settings.gibbs_passes), progress)
        prefix = particle_prefix(decoder, condition_ids, rule, randomness, progress=counter)
        prefix = resampling_passes(decoder, condition_ids, prefix, rule, randomness, settings.gibbs_passes,
                                   progress=counter)
        log_likelihoods = None  # read again from the final tokens
        counter.finish()
    durations: dict[str, np.ndarray] = {}
    tokens = _sample_left_to_right(decoder, condition_ids, rule, settings.length, randomness, prefix, log_likelihoods,
                                   durations)
    return _samples(generator.decoder, conditions, condition_ids, tokens, typed, log_likelihoods, durations.get("beats"))


def open_key_drawn(decoder: Decoder, condition_ids: np.ndarray, rule: StepRule, randomness: RowRandomness) -> np.ndarray:
    """Condition ids with an open key drawn per row, for a key-relative model (others: unchanged).

    The key is drawn from the corpus's prior for the genre given the fixed chords that open the
    progression (seed chords; :meth:`KeyRelativeDecoder.draw_keys`), the same distribution as
    sampling from the mixture over the 24 keys at the cost of one.
    """
    place = decoder.place if isinstance(decoder, PlacedDecoder) else None
    decoder = decoder.base if isinstance(decoder, PlacedDecoder) else decoder
    if not isinstance(decoder, KeyRelativeDecoder) or (condition_ids[:, 2] != 0).all():
        return condition_ids
    opening = []
    while len(opening) in rule.fixed:
        opening.append(rule.fixed[len(opening)])
    prefix = np.tile(np.array(opening, dtype=np.int64), (len(condition_ids), 1)).reshape(len(condition_ids), -1)
    return decoder.draw_keys(condition_ids, prefix, randomness.table("key", (1,))[:, 0], place)


def _sample_left_to_right(
    decoder: Decoder, condition_ids: np.ndarray, rule: StepRule, length: int, randomness: RowRandomness,
    prefix: np.ndarray | None = None, log_likelihoods: np.ndarray | None = None,
    durations: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """[S, length + 1] token ids: chords, then END where a sample stopped, PAD after.

    Fixed positions take the rule's chord, the first ``prefix.shape[1]`` positions the row's
    ``prefix`` tokens, every other one a draw from the rule's step distribution. When
    ``log_likelihoods`` ([S, length + 1]) is given, it receives each token's model log-probability
    (temperature 1, unmasked, unguided; 0 for PAD) read during the pass, which is exactly what
    :func:`core.generation.decoder.token_log_likelihoods` would compute for the returned tokens. For a decoder with
    a duration head, ``durations["beats"]`` ([S, length]) receives each chord's drawn duration in beats (0 after
    the progression's end).
    """
    rows = len(condition_ids)
    uniforms = randomness.table("steps", (length,))
    tokens = np.full((rows, length + 1), PAD_ID, dtype=np.int64)
    finished = np.zeros(rows, dtype=bool)
    state = decoder.initial(condition_ids)
    timed = durations is not None and state.durations is not None
    if timed:
        durations["beats"] = np.zeros((rows, length), dtype=np.int64)
        duration_uniforms = randomness.table("durations", (length,))
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
        if t + 1 < length or timed:  # a timed model hears the last chord too: its duration comes after it is fed
            state = decoder.advance(state, np.where(chosen <= END_ID, START_ID, chosen))  # finished rows: ignored
        if timed:
            durations["beats"][:, t] = np.where(finished, 0, _drawn_beats(state.durations, duration_uniforms[:, t]))
    return tokens


def _drawn_beats(duration_log_probs: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """One duration per row (beats), drawn from the model's distribution over the known duration classes."""
    weights = np.exp(duration_log_probs - duration_log_probs.max(axis=-1, keepdims=True))
    weights[:, 0] = 0.0  # class 0 is "unknown": never a duration
    return beats_of_duration_ids(draw_with(weights, uniforms))


def _samples(decoder: Decoder, conditions: Conditions, condition_ids: np.ndarray, tokens: np.ndarray,
             typed: Mapping[int, ParsedSymbol], log_likelihoods: np.ndarray | None = None,
             beats: np.ndarray | None = None) -> list[Sample]:
    """Sample objects for token rows; ``log_likelihoods`` (read while sampling) saves decoding the rows again;
    ``beats`` [S, length] are the chords' durations (a model with a duration head)."""
    if log_likelihoods is None:
        log_likelihoods = token_log_likelihoods(decoder, tokens, condition_ids)
    notes = reading_notes([typed[p] for p in sorted(typed)])
    samples = []
    for index, (row, row_log_likelihoods) in enumerate(zip(tokens, log_likelihoods, strict=True)):
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
            durations=None if beats is None else [int(b) for b in beats[index, :n]],
        ))
    return samples
