"""Edits of one progression: pure functions from a :class:`~core.generation.sample.Sample` to a new one.

The Generate page (and any other caller) changes one progression at a time: transpose it, swap a
chord in, redraw it around the chords it keeps, ask what fits at one place. Each function here
takes a sample and returns a new one (the input is never changed), so other progressions are
never touched and a caller can keep the old version for Undo.

Transposition and what the user typed. A sample records :attr:`Sample.transposition`, the
semitones its shown chords are moved from the key the model generated them in; every edit moves
chords back by it to run the model and forward again to show the result. Seed chords and locks
are typed *as the user sees them*, in the shown key: :func:`generate_shown` moves them back
before generating and the whole result forward after, so a typed ``Am F`` with Transpose +2 still
reads ``Am F`` (the model generated around ``Gm Eb`` in the requested key, and the chords it drew
around them are shown two semitones up, like the seeds). Swapped chords and kept chords work the
same way. Transposition itself (:func:`transposed`) only moves what is shown: the numerals and
the model's probabilities stay, the key they are read in moves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from core.chords import ParsedSymbol, SlashChord
from core.conditions import Conditions
from core.config import GenerationSettings
from core.errors import InputError
from core.generation.chord_input import TypedChord, read_chords, reading_notes
from core.generation.composer import RankedChord, Ranking, next_chords
from core.generation.generate import generate
from core.generation.loading import Generator, as_generator
from core.generation.sample import Sample, roman_for
from core.spelling import Spelling, key_name


def moved(chord: SlashChord, semitones: int) -> SlashChord:
    """A slash chord moved by ``semitones``, its bass too."""
    bass = None if chord.bass is None else (chord.bass + semitones) % 12
    return SlashChord(chord.chord.transpose(semitones), bass)


def transposed(sample: Sample, semitones: int) -> Sample:
    """``sample`` shown ``semitones`` higher: chords, slash basses and the numerals' key move; numerals and
    probabilities stay; :attr:`Sample.transposition` adds up (modulo 12)."""
    if not semitones % 12:
        return sample
    tonic, mode = Spelling.from_name(sample.roman_key).key
    slashes = [moved(c, semitones) for c in sample.slash_chords]
    return replace(sample, chords=[c.chord for c in slashes], basses=[c.bass for c in slashes],
                   roman_key=key_name(tonic + semitones, mode), transposition=(sample.transposition + semitones) % 12)


def _shown_back(parsed: Sequence[ParsedSymbol], semitones: int) -> list[SlashChord]:
    return [moved(p.slash, -semitones) for p in parsed]


def generate_shown(
    model: Generator | str | Path | None,
    conditions: Conditions,
    settings: GenerationSettings | None = None,
    transposition: int = 0,
    seed_chords: Sequence[TypedChord] | str = (),
    locks: Mapping[int, TypedChord] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Sample]:
    """Progressions as shown with ``transposition``, seed chords and locks typed in the shown key and shown as typed.

    ``conditions`` (the requested key included) are what the model generates under; ``settings``
    every sampling setting (default :class:`GenerationSettings`, its guidance included). See the
    module docstring.
    """
    settings = settings or GenerationSettings()
    seeds = read_chords(seed_chords)
    typed_locks = {position: read_chords([item])[0] for position, item in (locks or {}).items()}
    samples = generate(as_generator(model), conditions, settings, seed_chords=_shown_back(seeds, transposition),
                       locks={p: moved(c.slash, -transposition) for p, c in typed_locks.items()}, progress=progress)
    notes = reading_notes([*seeds, *typed_locks.values()])
    return [replace(transposed(s, transposition), notes=notes) for s in samples]


def rescored(
    model: Generator | str | Path | None,
    chords: Sequence[TypedChord] | str,
    conditions: Conditions,
    ended: bool = False,
    locked: Iterable[int] = (),
    transposition: int = 0,
    notes: Sequence[str] = (),
) -> Sample:
    """A progression the user holds (chords as shown, slash basses kept) as a :class:`Sample`: the model's
    probabilities of its chords (moved back by ``transposition``), numerals and the key they are in."""
    from core.generation.score import score_progression

    parsed = read_chords(chords)
    if not parsed:
        raise InputError("empty progression: give chord symbols such as 'C Am F G'")
    generated = _shown_back(parsed, transposition)
    probabilities = score_progression(as_generator(model), [c.chord for c in generated], conditions)["probabilities"]
    roman, roman_key = roman_for(generated, conditions)
    sample = Sample(chords=[c.chord for c in generated], probabilities=probabilities, conditions=conditions, roman=roman,
                    roman_key=roman_key, ended=bool(ended), locked=sorted(p for p in set(locked) if p < len(parsed)),
                    basses=[c.bass for c in generated], notes=list(dict.fromkeys([*notes, *reading_notes(parsed)])))
    return transposed(sample, transposition)


def swapped(model: Generator | str | Path | None, sample: Sample, position: int, chord: TypedChord) -> Sample:
    """``sample`` with ``chord`` (as shown, e.g. an alternative or a typed ``G7sus4``) at 0-based ``position``, rescored."""
    _check_position(sample, position)
    chords: list[TypedChord] = list(sample.slash_chords)
    chords[position] = read_chords([chord])[0]
    return rescored(model, chords, sample.conditions, sample.ended, sample.locked, sample.transposition, sample.notes)


def regenerated(
    model: Generator | str | Path | None,
    sample: Sample,
    keep: Iterable[int],
    settings: GenerationSettings | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Sample:
    """``sample`` redrawn around the chords at 0-based positions ``keep`` (slash basses kept), under its conditions.

    ``settings`` give the length and sampling (``settings.random_seed`` makes it reproducible;
    ``num_samples`` is ignored): one progression is drawn, with the kept chords as locks, never
    beside an equal chord, and shown with the sample's transposition.
    """
    settings = replace(settings or GenerationSettings(), num_samples=1)
    shown = sample.slash_chords
    kept = {p: shown[p] for p in sorted(set(keep)) if 0 <= p < min(len(shown), settings.length)}
    return generate_shown(model, sample.conditions, settings, sample.transposition, locks=kept, progress=progress)[0]


def fitting(
    model: Generator | str | Path | None,
    sample: Sample,
    position: int,
    top: int = 6,
    in_key: bool = False,
    guidance: Mapping[str, float] | None = None,
) -> Ranking:
    """What fits at 0-based ``position`` given both neighbours (the swap alternatives), as shown: most probable first.

    The composer's "what fits here" (:func:`core.generation.composer.next_chords`) with the chords
    before and after the position, the end counted when the sample ended; candidates are spelled
    in the sample's key. The current chord is among them (unless it repeats a neighbour).
    """
    _check_position(sample, position)
    generated = sample.model_chords
    ranking = next_chords(model, generated[:position], sample.conditions, followed_by=generated[position + 1:],
                          in_key=in_key, top=top, ends=sample.ended, guidance=guidance)
    spelling = Spelling.from_name(sample.roman_key)
    shown = [RankedChord(r.chord.transpose(sample.transposition),
                         spelling.symbol(r.chord.transpose(sample.transposition)), r.probability) for r in ranking.chords]
    return Ranking(shown, spelling.name, ranking.notes)


def _check_position(sample: Sample, position: int) -> None:
    if not 0 <= int(position) < len(sample.chords):
        raise InputError(f"position {int(position) + 1} is outside the progression (1..{len(sample.chords)})")
