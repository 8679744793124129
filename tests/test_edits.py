"""Edits of one progression (core.generation.edits): transposition, typed seeds shown as typed, swaps, redraws, what fits."""

from __future__ import annotations

import pytest

from core.chords import Chord, SlashChord, parse_symbol
from core.conditions import Conditions
from core.config import GenerationSettings
from core.errors import InputError
from core.generation.composer import next_chords
from core.generation.edits import fitting, generate_shown, regenerated, rescored, swapped, transposed
from core.generation.generate import generate
from core.generation.loading import load_generator
from core.generation.score import score_progression
from tests.tiny_models import saved_tiny_model

C_MAJOR = Conditions.parse(genre="pop", key="C")


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("edits"), seed=4))


def test_transposed_moves_what_is_shown_and_keeps_numerals_and_probabilities(generator) -> None:
    sample = generate(generator, C_MAJOR, length=6, random_seed=1, seed_chords="C/E")[0]
    up = transposed(sample, 2)
    assert up.chords == [c.transpose(2) for c in sample.chords] and up.symbols[0] == "D/F#"
    assert (up.roman, up.probabilities, up.roman_key, up.transposition) == (sample.roman, sample.probabilities,
                                                                            "D major", 2)
    assert up.model_chords == sample.chords and transposed(up, -2).symbols == sample.symbols
    assert transposed(sample, 12) is sample and sample.transposition == 0  # the input is never changed


def test_seed_chords_and_locks_are_shown_as_typed_whatever_the_transposition(generator) -> None:
    settings = GenerationSettings(length=6, num_samples=3, random_seed=7)
    shown = generate_shown(generator, C_MAJOR, settings, transposition=2, seed_chords="Am F", locks={5: "G7sus4"})
    for sample in shown:
        assert sample.symbols[:2] == ["Am", "F"] and sample.symbols[5] == "Gsus4" and sample.roman_key == "D major"
        assert sample.notes == ["G7sus4 read as Gsus4"] and sample.locked == [0, 1, 5]
        assert [c.symbol for c in sample.model_chords[:2]] == ["Gm", "Eb"]  # the model wrote around them in C
    plain = generate(generator, C_MAJOR, seed_chords=["Gm", "Eb"], locks={5: Chord(5, "sus4")},
                     **settings.to_dict())
    assert [s.model_chords for s in shown] == [s.chords for s in plain]


def test_swapped_replaces_one_chord_and_rescores(generator) -> None:
    sample = transposed(generate(generator, C_MAJOR, length=5, random_seed=3, locks={4: "C"})[0], 3)
    after = swapped(generator, sample, 1, "Bb7sus4")
    assert after.symbols[1] == "Bbsus4" and after.notes == ["Bb7sus4 read as Bbsus4"]
    assert [a for i, a in enumerate(after.symbols) if i != 1] == [a for i, a in enumerate(sample.symbols) if i != 1]
    expected = score_progression(generator, after.model_chords, C_MAJOR)["probabilities"]
    assert after.probabilities == pytest.approx(expected) and after.locked == sample.locked == [4]
    assert sample.symbols[1] != "Bbsus4" or sample.notes == []  # the input sample is unchanged
    with pytest.raises(InputError, match="outside"):
        swapped(generator, sample, 5, "C")


def test_regenerated_keeps_the_kept_chords_and_never_repeats_beside_them(generator) -> None:
    sample = transposed(generate(generator, C_MAJOR, length=8, random_seed=5)[0], -1)
    sample = swapped(generator, sample, 3, SlashChord(parse_symbol("Bb"), 2))  # a slash chord the user chose
    settings = GenerationSettings(length=8, random_seed=11, temperature=2.0)
    ticks = []
    redrawn = regenerated(generator, sample, [0, 3, 7], settings, progress=lambda done, total: ticks.append((done, total)))
    assert [redrawn.symbols[i] for i in (0, 3, 7)] == [sample.symbols[i] for i in (0, 3, 7)]
    assert redrawn.symbols[3] == "Bb/D" and redrawn.transposition == sample.transposition and len(redrawn.chords) == 8
    assert all(a != b for a, b in zip(redrawn.chords, redrawn.chords[1:], strict=False))
    assert regenerated(generator, sample, [0, 3, 7], settings).symbols == redrawn.symbols  # reproducible by its seed
    assert ticks and ticks[-1][0] == ticks[-1][1] and [d for d, _ in ticks] == sorted(d for d, _ in ticks)


def test_fitting_is_the_composers_both_sides_ranking_shown_in_the_samples_key(generator) -> None:
    sample = transposed(rescored(generator, "C F G C", C_MAJOR, ended=True), 5)
    ranking = fitting(generator, sample, 2, top=5)
    expected = next_chords(generator, "C F", C_MAJOR, followed_by="C", ends=True, top=5)
    assert [r.chord for r in ranking.chords] == [r.chord.transpose(5) for r in expected.chords]
    assert [r.probability for r in ranking.chords] == [r.probability for r in expected.chords]
    assert ranking.key == "F major" and all("#" not in r.symbol for r in ranking.chords if r.chord.root == 10)
