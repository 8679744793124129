"""A whole song drawn with a model: each section a progression after the ones before it; one section again.

A window model knows genre, mood and key, not sections or durations; a song-context model
(:mod:`core.song_context`) also reads each chord's section label and the metre, and predicts each
chord's duration. A song is drawn section by section (:func:`generate_song`):

* a window model's sections take durations proposed from the corpus's harmonic rhythm for the genre
  (:mod:`core.generation.song_rhythm`), which fixes how many chords each has; a song-context model is fed
  each section's own label (its context chords their section's) and its sections take the model's own
  durations, fitted to the bars (:func:`fit_to_bars`: chords are kept until the section's beats are
  reached, a chord never runs past its bar line unless it starts on one and holds whole bars, and the last
  one fills what is left, so every bar is full);
* its chords are one progression under the song's genre, mood and key, drawn after the last
  :data:`core.config.SONG_CONTEXT_CHORDS` chords of the section before it: those chords are the
  progression's seed chords (:func:`core.generation.generate.generate`) and are then dropped, so the
  section follows on from what came before without repeating it;
* a section that returns (same label and bars, no ``'``) is the first one's chords and durations
  again; a variation (``Chorus'``) keeps the first one's durations and its chords in the first half
  of its beats, and draws the rest after them;
* section ``i`` draws with its own seed derived from the song's, so the same seed gives the same song.

:func:`regenerate_section` draws one section again around its locked chords (keeping its durations:
the user has the last word on them), after the chords now before it; every time that section is
played it changes with it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.chords import SlashChord
from core.conditions import Conditions
from core.config import MAX_SECTION_CHORDS, MAX_SEED, SONG_CONTEXT_CHORDS, GenerationSettings, SongSettings
from core.errors import InputError
from core.generation.decoder import SongPlace
from core.generation.generate import generate
from core.generation.loading import Generator, as_generator
from core.generation.song_rhythm import corpus_rhythm, genre_rhythm, propose_durations
from core.song.form import Form, FormSection, TimeSignature, read_form
from core.song.model import Section, Song, with_section
from core.song_context import metre_id, section_id
from core.spelling import key_name

#: what the page, the CLI and the API say about how a song is made today.
TODAY_NOTE = ("Sections are drawn by today's model as progressions after the section before them (it knows genre, "
              "mood and key, not sections); durations come from the corpus's harmonic rhythm for the genre.")
#: the same for a song-context model.
SONG_MODEL_NOTE = ("Sections are drawn by a song-context model, told each section's label and the metre, after the "
                   "section before them; durations are the model's own, fitted to whole bars.")


def predicts_durations(generator: Generator) -> bool:
    """Whether the generator's model is a song-context one (reads sections, predicts durations): one decoder step."""
    return generator.decoder.initial(np.zeros((1, 4), dtype=np.int64)).durations is not None


def fit_to_bars(durations: Sequence[int], bars: int, time: TimeSignature) -> tuple[int, ...]:
    """The model's durations (beats) made to fill ``bars`` bars exactly, as many of them as it takes (module doc).

    Each is at least a beat; one starting inside a bar stops at the bar line; one starting on a bar line and
    longer than a bar holds whole bars; the last one used (the list's last, or the one that reaches the end)
    fills what is left.
    """
    per_bar, total = time.beats, bars * time.beats
    fitted: list[int] = []
    beat = 0
    for index, wanted in enumerate(durations):
        left = total - beat
        in_bar = beat % per_bar
        length = max(1, int(wanted))
        if in_bar:
            length = min(length, per_bar - in_bar)
        elif length > per_bar:
            length = length // per_bar * per_bar
        length = min(length, left)
        if index == len(durations) - 1 or len(fitted) + 1 == MAX_SECTION_CHORDS:
            length = left
        fitted.append(length)
        beat += length
        if beat >= total:
            break
    return tuple(fitted)


def _place(generator_times: bool, context_label: str | None, context: int, label: str, count: int,
           time: TimeSignature) -> SongPlace | None:
    """A song-context model's place for a section drawn after ``context`` chords of the section labelled
    ``context_label``: their label for them, then the section's own; ``None`` for a window model."""
    if not generator_times:
        return None
    return SongPlace.of([section_id(context_label)] * context + [section_id(label)] * max(count, 1), metre_id(time.beats))


def song_work(form: Form) -> int:
    """Decoder row-steps drawing a song in ``form`` costs at most, unguided (each section's context and chords, drawn
    and then scored); guidance doubles it. The API admits by it and the page charges a visitor's budget with it."""
    return 2 * sum(min(MAX_SECTION_CHORDS, s.bars * form.time.beats) + SONG_CONTEXT_CHORDS for s in form.sections)


def section_seed(song_seed: int, index: int, draw: int = 0) -> int:
    """The random seed of section ``index`` (its ``draw``-th drawing) in a song drawn with ``song_seed``."""
    return int(np.random.SeedSequence([song_seed, index, draw]).generate_state(1)[0]) % (MAX_SEED + 1)


def song_key(conditions: Conditions) -> tuple[int, str] | None:
    """The song's key from the conditions (major when only a tonic is given), ``None`` when open."""
    return None if conditions.tonic is None else (conditions.tonic, conditions.mode or "major")


def draw_chords(generator: Generator, conditions: Conditions, settings: GenerationSettings, count: int,
                context: Sequence[SlashChord], locks: Mapping[int, SlashChord], seed: int,
                place: tuple[str | None, str, TimeSignature] | None = None) -> tuple[SlashChord, ...]:
    """``count`` chords drawn after ``context`` (dropped from the result), ``locks`` (0-based in the section) kept.

    ``place`` (the context's section label, this section's, the time signature) is read by a song-context model.
    """
    return draw_timed_chords(generator, conditions, settings, count, context, locks, seed, place)[0]


def draw_timed_chords(generator: Generator, conditions: Conditions, settings: GenerationSettings, count: int,
                      context: Sequence[SlashChord], locks: Mapping[int, SlashChord], seed: int,
                      place: tuple[str | None, str, TimeSignature] | None = None,
                      ) -> tuple[tuple[SlashChord, ...], list[int] | None]:
    """:func:`draw_chords` and the chords' durations in beats as the model gave them (``None``: a window model)."""
    context = list(context)[-SONG_CONTEXT_CHORDS:] if context else []
    request = replace(settings, length=len(context) + count, num_samples=1, random_seed=seed, let_model_end=False)
    shifted = {len(context) + p: chord for p, chord in locks.items()}
    song_place = None
    if place is not None and predicts_durations(generator):
        song_place = _place(True, place[0], len(context), place[1], count, place[2])
    sample = generate(generator, conditions, request, seed_chords=context, locks=shifted, place=song_place)[0]
    durations = None if sample.durations is None else sample.durations[len(context):]
    return tuple(sample.slash_chords[len(context):]), durations


def generate_song(model: Generator | str | Path | None, song_settings: SongSettings, conditions: Conditions | None = None,
                  settings: GenerationSettings | None = None,
                  progress: Callable[[int, int], None] | None = None) -> Song:
    """A whole song in the form ``song_settings`` names (module docstring); :class:`InputError` for a form refused.

    ``settings`` are the sampling settings (their ``length``, ``num_samples`` and ``let_model_end`` are
    the song's own); their ``random_seed`` (a fresh one when ``None``) seeds the song.
    """
    form = read_form(song_settings)
    conditions = conditions or Conditions()
    settings = settings or GenerationSettings()
    if settings.in_key and conditions.tonic is None:
        raise InputError("--in-key needs a key (e.g. --key C or --key 'A minor')")
    generator = as_generator(model)
    seed = settings.random_seed if settings.random_seed is not None else secrets.randbelow(MAX_SEED + 1)
    timed = predicts_durations(generator)
    rhythm = None if timed else genre_rhythm(conditions.genre)
    sections: list[Section] = []
    for index, part in enumerate(form.sections):
        sections.append(_section(generator, conditions, settings, form, part, sections, rhythm, seed, index))
        if progress is not None:
            progress(index + 1, len(form.sections))
    notes = (SONG_MODEL_NOTE,) if timed else (TODAY_NOTE, f"harmonic rhythm from {corpus_rhythm()[0]}")
    return Song(tuple(sections), form.time, form.tempo, song_key(conditions), conditions.genre, conditions.mood,
                seed, notes=notes)


def _first_like(part: FormSection, before: Sequence[Section]) -> Section | None:
    """The earlier section this one repeats or varies: the first with its label and bars."""
    return next((s for s in before if s.label == part.label and s.bars == part.bars), None)


def _section(generator: Generator, conditions: Conditions, settings: GenerationSettings, form: Form,
             part: FormSection, before: Sequence[Section], rhythm: Mapping[float, float] | None, seed: int,
             index: int) -> Section:
    """Section ``index``: a repeat, a variation, or new chords (``rhythm`` ``None``: with the model's durations)."""
    original = _first_like(part, before)
    section = Section(part.name, part.label, part.bars, variation=part.variation)
    if original is not None and not part.variation:
        return replace(section, chords=original.chords, durations=original.durations)
    context = before[-1].chords if before else ()
    place = (before[-1].label if before else None, part.label, form.time)
    if original is not None:  # a variation: the first half of the original's beats kept
        half = sum(original.durations) / 2
        kept = {p: c for p, (c, onset) in enumerate(zip(original.chords, original.onsets, strict=True)) if onset < half}
        chords = draw_chords(generator, conditions, settings, len(original.chords), context, kept,
                             section_seed(seed, index), place)
        return replace(section, chords=chords, durations=original.durations)
    if rhythm is None:  # the model's own durations: as many chords as a beat each could need, fitted to the bars
        most = min(MAX_SECTION_CHORDS, part.bars * form.time.beats)
        chords, durations = draw_timed_chords(generator, conditions, settings, most, context, {},
                                              section_seed(seed, index), place)
        fitted = fit_to_bars(durations or [form.time.beats] * len(chords), part.bars, form.time)
        return replace(section, chords=chords[: len(fitted)], durations=fitted)
    durations = propose_durations(part.bars, form.time, rhythm, np.random.default_rng([seed, index, 1]))
    chords = draw_chords(generator, conditions, settings, len(durations), context, {}, section_seed(seed, index))
    return replace(section, chords=chords, durations=durations)


def regenerate_section(model: Generator | str | Path | None, song: Song, index: int,
                       settings: GenerationSettings | None = None, draw: int = 1) -> Song:
    """``song`` with section ``index`` drawn again around its locks (its durations kept), after the chords before it.

    ``draw`` numbers the redrawing: the same song, section and draw give the same chords. Every time
    the section is played changes with it (:func:`core.song.model.with_section`).
    """
    if not 0 <= index < len(song.sections):
        raise InputError(f"section {index + 1} is outside the song (1..{len(song.sections)})")
    section = song.sections[index]
    conditions = conditions_of(song)
    settings = settings or GenerationSettings()
    context = song.sections[index - 1].chords if index > 0 else ()
    locks = {p: section.chords[p] for p in section.locked}
    seed = section_seed(song.seed if song.seed is not None else 0, index, draw)
    place = (song.sections[index - 1].label if index > 0 else None, section.label, song.time)
    chords = draw_chords(as_generator(model), conditions, settings, len(section.chords), context, locks, seed, place)
    return with_section(song, index, replace(section, chords=chords))


def conditions_of(song: Song) -> Conditions:
    """The conditions a song was drawn under."""
    key = None if song.key is None else key_name(*song.key)
    return Conditions.parse(genre=song.genre, mood=song.mood, key=key)


def section_alternatives(model: Generator | str | Path | None, song: Song, index: int, position: int, k: int = 6,
                         guidance: float = 0.0) -> list[tuple[SlashChord, float]]:
    """The ``k`` chords most probable at chord ``position`` of section ``index`` given both neighbours (and the
    context before the section, as it was drawn after), best first, with their probabilities (basses dropped)."""
    from core.generation.alternatives import alternatives

    if not 0 <= index < len(song.sections) or not 0 <= position < len(song.sections[index].chords):
        raise InputError(f"chord {position + 1} of section {index + 1} is not in the song")
    context = list(song.sections[index - 1].chords[-SONG_CONTEXT_CHORDS:]) if index > 0 else []
    chords = [c.chord for c in (*context, *song.sections[index].chords)]
    conditions = conditions_of(song)
    weights = {"genre": guidance, "mood": guidance} if guidance else None
    ranked = alternatives(as_generator(model), chords, len(context) + position, conditions, k=k, guidance=weights)
    return [(SlashChord(chord), float(p)) for chord, p in ranked]


def vary_section(model: Generator | str | Path | None, song: Song, index: int,
                 settings: GenerationSettings | None = None, draw: int = 1) -> Song:
    """Section ``index`` made a variation of the section it repeats: its own from now on (marked ``'``), the chords in
    the first half of its beats kept (and its locks), the rest drawn again; the other times it is played stay."""
    if not 0 <= index < len(song.sections):
        raise InputError(f"section {index + 1} is outside the song (1..{len(song.sections)})")
    section = song.sections[index]
    half = sum(section.durations) / 2
    kept = {p for p, onset in enumerate(section.onsets) if onset < half} | set(section.locked)
    sections = list(song.sections)
    sections[index] = replace(section, variation=True, locked=tuple(sorted(kept)))
    varied = regenerate_section(model, replace(song, sections=tuple(sections)), index, settings, draw)
    sections = list(varied.sections)
    sections[index] = replace(sections[index], locked=section.locked)
    return replace(varied, sections=tuple(sections))
