"""studio.generate_url: the Generate page's address read with fallbacks (one message per bad value) and written back."""

from __future__ import annotations

import pytest

from core.chords import SlashChord, parse_symbol, read_symbol
from core.config import DEFAULT_TEMPERATURE, GenerationSettings
from studio.generate_url import Edited, PageLink
from studio.page_settings import QUOTE_LIMIT, PageSettings, temperature_advice

DEFAULTS = GenerationSettings()


def slash(symbol: str) -> SlashChord:
    return read_symbol(symbol).slash


def test_a_full_query_round_trips() -> None:
    query = {"genre": "jazz", "mood": "sad", "key": "A", "scale": "minor", "length": "6", "temperature": "0.7",
             "top_k": "10", "top_p": "0.9", "seed_chords": "Am E/G#", "samples": "2", "seed": "42", "in_key": "1",
             "let_end": "1", "guidance": "2", "transpose": "-2", "tempo": "90", "voicing": "root",
             "analyze": "Am Dm E7", "p2": "Am* Dm/F E7 Am* END", "fav": "Am F C G;Dm7 G7 Cmaj7",
             "compose": "C G/B Am", "model": "default@1a2b3c4d5e6f", "view": "compose"}
    link, problems = PageLink.from_query(query)
    assert problems == []
    assert link.to_query() == query
    assert link.request.conditions.key == "A minor" and link.request.seeds == (slash("Am"), slash("E/G#"))
    (index, edited), = link.edits
    assert index == 1 and edited.locks == {0, 3} and edited.ended and edited.chords[1] == SlashChord(parse_symbol("Dm"), 5)
    assert link.favourites[1] == (slash("Dm7"), slash("G7"), slash("Cmaj7"))
    assert link.request.settings() == GenerationSettings(length=6, num_samples=2, temperature=0.7, top_k=10, top_p=0.9,
                                                         random_seed=42, in_key=True, let_model_end=True, guidance=2.0)


def test_missing_seed_is_picked_and_defaults_are_left_out() -> None:
    link, problems = PageLink.from_query({}, default_seed=7)
    assert problems == [] and link.request.seed == 7
    assert link.to_query() == {"seed": "7"}
    assert 0 <= PageLink.from_query({})[0].request.seed < 2**32  # picked at random


def test_a_bad_seed_says_which_random_seed_is_used() -> None:
    link, problems = PageLink.from_query({"seed": "abc"}, default_seed=99)
    assert link.request.seed == 99
    assert problems == ["seed=abc: random seed must be a whole number from 0 to 4294967295, got 'abc'; "
                        "using a random seed (99)."]


@pytest.mark.parametrize(("query", "field", "fallback", "words"), [
    ({"length": "999"}, "length", 8, "length must be a whole number from 1 to 64, got '999'; using 8."),
    ({"temperature": "-1"}, "temperature", DEFAULTS.temperature,
     f"temperature must be a number from 0.05 to 5, got '-1'; using {DEFAULTS.temperature:g}."),
    ({"temperature": "nan"}, "temperature", DEFAULTS.temperature, "got 'nan'"),
    ({"samples": "lots"}, "samples", 3, "number of samples must be a whole number from 1 to 100, got 'lots'"),
    ({"samples": "101"}, "samples", 3, "got '101'"),
    ({"top_p": "0"}, "top_p", DEFAULTS.top_p, "top-p must be a number from 0.01 to 1"),
    ({"length": "2.5"}, "length", 8, "length must be a whole number, got '2.5'"),
    ({"genre": "polka"}, "genre", "unspecified", "unknown genre 'polka'"),
    ({"key": "H"}, "key", "", "unknown key"),
    ({"scale": "dorian"}, "scale", "", "unknown scale"),
    ({"in_key": "maybe"}, "in_key", False, "in key must be true or false, got 'maybe'"),
    ({"guidance": "9"}, "guidance", DEFAULTS.guidance, "guidance must be a number from 0 to 5"),
    ({"voicing": "drop2"}, "voicing", "voice-led", "unknown voicing"),
    ({"tempo": "500"}, "tempo", 100, "outside 40..240"),
])
def test_bad_values_fall_back_with_a_message(query: dict, field: str, fallback, words: str) -> None:
    link, problems = PageLink.from_query(query, default_seed=5)
    assert getattr(link.request, field) == fallback
    assert len(problems) == 1 and words in problems[0] and problems[0].startswith(f"{field}=")


def test_a_huge_value_is_not_echoed_whole() -> None:
    text = "C " * 2500
    for query in ({"seed": text}, {"seed_chords": "Hm7 " * 1250}, {"p1": "Q " * 2500}, {"swaps": "x" * 5000}):
        _, problems = PageLink.from_query(query, default_seed=1)
        assert problems and all(len(p) < 8 * QUOTE_LIMIT for p in problems), problems


def test_key_with_a_mode_sets_the_scale_and_a_clash_is_reported() -> None:
    link, problems = PageLink.from_query({"key": "F#m"})
    assert (link.request.key, link.request.scale, problems) == ("F#", "minor", [])
    link, problems = PageLink.from_query({"key": "Am", "scale": "major"})
    assert link.request.conditions.key == "A major" and "is minor but scale=major" in problems[0]


def test_bad_seed_chords_and_in_key_without_a_key_are_dropped_with_messages() -> None:
    link, problems = PageLink.from_query({"seed_chords": "C Hm7", "in_key": "1", "length": "4"})
    assert (link.request.seed_chords, link.request.in_key) == ("", False)
    assert "'Hm7'" in problems[0] and "Seed chords" in problems[0] and "needs a key" in problems[1]
    assert "do not fit" in PageLink.from_query({"seed_chords": "C G Am", "length": "2"})[1][0]
    assert PageLink.from_query({"seed_chords": "G7sus4 C/E"})[1] == []  # read as the nearest chord, the bass kept


def test_edited_progressions_outside_the_page_or_unreadable_are_reported() -> None:
    link, problems = PageLink.from_query({"samples": "2", "length": "4", "p1": "C G", "p3": "C", "p2": "C Xq7",
                                          "p4": "C G Am F C"})
    assert [i for i, _ in link.edits] == [0]
    assert any(p.startswith("p3=C: there is no progression 3 (2 shown)") for p in problems)
    assert any(p.startswith("p2=C Xq7:") and "'Xq7'" in p for p in problems)
    assert any(p.startswith("p4=") for p in problems) and len(problems) == 3


def test_swaps_from_older_links_are_read_and_bad_ones_reported() -> None:
    link, problems = PageLink.from_query({"samples": "2", "length": "4", "swaps": "1.2:Dm 9.1:C 1.7:G x 2.1:Q"})
    assert link.legacy_swaps == ((0, 1, parse_symbol("Dm")),)
    assert len(problems) == 4
    assert "there is no progression 9 (2 shown)" in problems[0] and "there is no chord 7 (length 4)" in problems[1]
    assert "write PROGRESSION.CHORD:SYMBOL" in problems[2] and "'Q'" in problems[3]
    assert "swaps" not in link.to_query()  # written back as edited progressions, by the page


def test_locks_from_older_links_are_read_and_checked() -> None:
    link, problems = PageLink.from_query({"locks": "1:C 4:G7", "length": "6"})
    assert problems == [] and link.legacy_locks == ((0, parse_symbol("C")), (3, parse_symbol("G7")))
    assert "positions 1..4" in PageLink.from_query({"locks": "9:C", "length": "4"})[1][0]
    assert "contradicts seed chord" in PageLink.from_query({"seed_chords": "C G", "locks": "2:F"})[1][0]


def test_the_model_and_the_view_are_checked() -> None:
    assert PageLink.from_query({"model": "default@abcdef+run-2@123456"})[0].model == "default@abcdef+run-2@123456"
    link, problems = PageLink.from_query({"model": "../etc", "view": "mixer"})
    assert (link.model, link.view) == ("", "progressions")
    assert "not a model name" in problems[0] and "unknown panel" in problems[1]


def test_an_edited_progression_reads_back_what_it_writes() -> None:
    edited = Edited((slash("C"), slash("G/B"), slash("Am7"), slash("F")), ended=True, locks=frozenset({0, 2}))
    assert edited.to_text() == "C* G/B Am7* F END"
    assert Edited.from_text(edited.to_text()) == edited
    assert Edited.from_text("C G") == Edited((slash("C"), slash("G")))


def test_the_favourites_link_carries_them_with_what_shows_them_and_the_model() -> None:
    link, _ = PageLink.from_query({"key": "D", "tempo": "80", "seed": "3", "length": "4", "p1": "D G A D",
                                   "fav": "D G A D", "model": "default@abcdef"})
    query = link.favourites_query()
    assert query == {"key": "D", "tempo": "80", "fav": "D G A D", "model": "default@abcdef", "view": "favourites"}
    reopened, problems = PageLink.from_query(query)
    assert problems == [] and reopened.favourites == link.favourites and reopened.view == "favourites"


def test_temperature_advice_has_one_line_per_range() -> None:
    ranges = {t: temperature_advice(t).split(":")[0] for t in (0.3, 1.0, DEFAULT_TEMPERATURE, 1.6, 2.5)}
    assert list(ranges.values()) == ["Low", "Cautious", "Balanced", "Adventurous", "Wild"]  # the default is balanced


def test_generation_ignores_display_settings() -> None:
    request = PageSettings(seed=1)
    assert request.generation() == PageSettings(seed=1, transpose=3, tempo=80, voicing="root", analyze="C").generation()
    assert request.generation() != PageSettings(seed=1, guidance=0.0).generation()
