"""studio.generate_url: the Generate page's URL read with fallbacks, written back, and run deterministically."""

from __future__ import annotations

import pytest

from core.chords import parse_symbol
from core.generation.loading import load_generator
from studio.generate_url import GenerateRequest, temperature_advice, transposed
from tests.tiny_models import saved_tiny_model


@pytest.fixture(scope="module")
def generator(tmp_path_factory):
    return load_generator(saved_tiny_model(tmp_path_factory.mktemp("tiny"), end_bias=-3.0))


def test_a_full_query_round_trips() -> None:
    query = {"genre": "jazz", "mood": "sad", "key": "A", "scale": "minor", "length": "6", "temperature": "0.7",
             "top_k": "10", "top_p": "0.9", "seed_chords": "Am", "samples": "2", "seed": "42", "locks": "4:E7",
             "swaps": "1.2:Dm", "transpose": "-2", "in_key": "1", "tempo": "90", "analyze": "Am Dm E7"}
    request, problems = GenerateRequest.from_query(query)
    assert problems == []
    assert request.to_query() == query
    assert request.conditions.key == "A minor" and request.lock_map == {3: parse_symbol("E7")}


def test_missing_seed_is_picked_and_defaults_are_left_out() -> None:
    request, problems = GenerateRequest.from_query({}, default_seed=7)
    assert problems == [] and request.seed == 7
    assert request.to_query() == {"seed": "7"}
    assert 0 <= GenerateRequest.from_query({})[0].seed < 2**32  # picked at random


@pytest.mark.parametrize(("query", "field", "fallback", "words"), [
    ({"length": "999"}, "length", 8, "length must be a whole number from 1 to 64, got '999'; using 8."),
    ({"temperature": "-1"}, "temperature", 1.0, "temperature must be a number from 0.05 to 5, got '-1'; using 1."),
    ({"temperature": "nan"}, "temperature", 1.0, "got 'nan'"),
    ({"samples": "lots"}, "samples", 3, "number of samples must be a whole number from 1 to 100, got 'lots'"),
    ({"samples": "101"}, "samples", 3, "got '101'"),
    ({"top_p": "0"}, "top_p", 1.0, "top-p must be a number from 0.01 to 1"),
    ({"length": "2.5"}, "length", 8, "length must be a whole number, got '2.5'"),
    ({"genre": "polka"}, "genre", "unspecified", "unknown genre 'polka'"),
    ({"key": "H"}, "key", "", "unknown key"),
    ({"scale": "dorian"}, "scale", "", "unknown scale"),
    ({"in_key": "maybe"}, "in_key", False, "in key must be true or false, got 'maybe'"),
    ({"seed": "-3"}, "seed", None, "random seed must be a whole number from 0 to 4294967295"),
])
def test_bad_values_fall_back_with_a_message(query: dict, field: str, fallback, words: str) -> None:
    request, problems = GenerateRequest.from_query(query, default_seed=5)
    if fallback is not None:
        assert getattr(request, field) == fallback
    assert len(problems) == 1 and words in problems[0] and problems[0].startswith(f"{field}=")


def test_key_with_a_mode_sets_the_scale_and_a_clash_is_reported() -> None:
    request, problems = GenerateRequest.from_query({"key": "F#m"})
    assert (request.key, request.scale, problems) == ("F#", "minor", [])
    request, problems = GenerateRequest.from_query({"key": "Am", "scale": "major"})
    assert request.conditions.key == "A major" and "is minor but scale=major" in problems[0]


def test_bad_seed_chords_locks_swaps_and_in_key_without_key_are_dropped_with_messages() -> None:
    request, problems = GenerateRequest.from_query(
        {"seed_chords": "C Hm7", "locks": "9:C", "swaps": "x", "in_key": "1", "length": "4"})
    assert (request.seed_chords, request.locks, request.swaps, request.in_key) == ("", "", "", False)
    assert "'Hm7'" in problems[0] and "Seed chords" in problems[0]
    assert "outside the progression" in problems[1]
    assert "bad swap" in problems[2] and "needs a key" in problems[3]
    assert "quality" in GenerateRequest.from_query({"seed_chords": "Cxyz"})[1][0]  # names accepted qualities
    assert "contradicts" in GenerateRequest.from_query({"seed_chords": "C G", "locks": "2:F"})[1][0]


def test_temperature_advice_has_one_line_per_range() -> None:
    assert {temperature_advice(t).split(":")[0] for t in (0.3, 1.0, 1.3, 2.5)} == {"Low", "Balanced", "Adventurous", "Wild"}


def test_run_is_deterministic_and_locks_hold(generator) -> None:
    request, _ = GenerateRequest.from_query({"genre": "pop", "samples": "3", "seed": "11", "length": "6"})
    first = request.run(generator)
    assert [s.symbols for s in first] == [s.symbols for s in request.run(generator)]
    assert len(first) == 3 and all(1 <= len(s.chords) <= 6 for s in first)
    shown = first[0]
    locked = request.lock_chords(shown.chords, [0, 2], seed=12)
    assert locked.locks == f"1:{shown.chords[0].symbol} 3:{shown.chords[2].symbol}" and locked.seed == 12
    for sample in locked.run(generator):
        assert sample.chords[0] == shown.chords[0] and sample.chords[2] == shown.chords[2]
        assert {0, 2} <= set(sample.locked)
    assert request.lock_chords(shown.chords, [], seed=1).locks == ""


def test_transpose_moves_chords_and_keeps_numerals_and_locks_in_the_generated_key(generator) -> None:
    plain, _ = GenerateRequest.from_query({"key": "C", "seed": "3", "length": "4", "samples": "1"})
    moved = GenerateRequest(**{**plain.__dict__, "transpose": 2})
    original, shifted = plain.run(generator)[0], moved.run(generator)[0]
    assert [c.transpose(2) for c in original.chords] == shifted.chords
    assert original.roman == shifted.roman and shifted.roman_key == "D major"
    assert moved.lock_chords(shifted.chords, [0], seed=1).locks == f"1:{original.chords[0].symbol}"
    assert transposed(original, 12) is original


def test_swap_replaces_one_chord_rescored_and_alternatives_are_ranked(generator) -> None:
    request, _ = GenerateRequest.from_query({"seed": "5", "length": "4", "samples": "2", "transpose": "1"})
    shown = request.run(generator)
    options = request.alternatives(generator, shown[1], 1, k=4)
    assert len(options) == 4 and [p for _, p in options] == sorted((p for _, p in options), reverse=True)
    chord = options[-1][0]
    swapped = request.swap(1, 1, chord)
    assert swapped.swaps == f"2.2:{chord.transpose(-1).symbol}"
    after = swapped.run(generator)
    assert after[1].chords[1] == chord and after[0].symbols == shown[0].symbols
    assert after[1].probabilities[1] != shown[1].probabilities[1] or chord == shown[1].chords[1]
    assert swapped.with_new_seed(9).swaps == ""


def test_updated_drops_swaps_only_when_the_samples_change() -> None:
    request = GenerateRequest(seed=1, swaps="1.1:C")
    assert request.updated(transpose=3, tempo=80, analyze="C G").swaps == "1.1:C"
    assert request.updated(temperature=0.5).swaps == ""
