"""studio.progressions: each progression's own versions, padlocks and history; favourites; the page state and its link."""

from __future__ import annotations

from core.chords import SlashChord, parse_symbol, read_symbol
from core.conditions import Conditions
from core.generation.sample import Sample
from studio.generate_url import Edited, PageLink
from studio.page_settings import PageSettings
from studio.progressions import (
    HISTORY_LIMIT,
    PageState,
    Progression,
    appended,
    as_edited,
    fixed_chords,
    inverted,
    swapped,
    with_lock,
)


def chords(text: str) -> tuple[SlashChord, ...]:
    return tuple(read_symbol(s).slash for s in text.split())


def drawn(text: str, ended: bool = False) -> Sample:
    parsed = [read_symbol(s).slash for s in text.split()]
    return Sample(chords=[c.chord for c in parsed], probabilities=[0.5] * len(parsed), conditions=Conditions(),
                  roman=["I"] * len(parsed), roman_key="C major", ended=ended, basses=[c.bass for c in parsed])


def test_a_change_keeps_the_version_it_replaced_and_undo_steps_back() -> None:
    progression = Progression()
    first = progression.current(drawn("C G Am F"))
    assert first == Edited(chords("C G Am F"))
    changed = progression.changed(Edited(chords("C G Dm F")), drawn("C G Am F"))
    twice = changed.changed(Edited(chords("C E7 Dm F")), drawn("E"))
    assert twice.edited.chords == chords("C E7 Dm F") and twice.history == (first, Edited(chords("C G Dm F")))
    assert twice.undone().undone().edited == first and not twice.undone().undone().history
    assert Progression().undone() == Progression()
    long = Progression()
    for i in range(HISTORY_LIMIT + 5):
        long = long.changed(Edited(chords("C G" if i % 2 else "F C")), drawn("C"))
    assert len(long.history) == HISTORY_LIMIT


def test_edits_touch_only_what_they_name() -> None:
    edited = Edited(chords("C G/B Am F"), ended=True, locks=frozenset({0}))
    assert swapped(edited, 2, parse_symbol("Em")) == Edited(chords("C G/B Em F"), True, frozenset({0}))
    assert inverted(edited, 0, 1).chords[0] == read_symbol("C/E").slash
    assert inverted(edited, 1, 0).chords[1] == read_symbol("G").slash
    assert with_lock(edited, 3, True).locks == {0, 3} and with_lock(edited, 0, False).locks == frozenset()
    assert appended(chords("C G"), parse_symbol("Am")) == chords("C G Am")
    assert appended(chords("C G"), parse_symbol("F"), 1) == chords("C F G")


def test_a_redraw_keeps_seed_chords_and_locked_chords_a_padlock_winning() -> None:
    request = PageSettings(seed_chords="C/E Am", length=6)
    assert fixed_chords(request, None) == {0: read_symbol("C/E").slash, 1: read_symbol("Am").slash}
    edited = Edited(chords("C/E F G C G C"), locks=frozenset({1, 4}))
    assert fixed_chords(request, edited) == {0: read_symbol("C/E").slash, 1: read_symbol("F").slash,
                                             4: read_symbol("G").slash}
    assert 4 not in fixed_chords(PageSettings(length=4), edited)  # beyond the length: released


def test_redrawing_every_progression_keeps_each_ones_history() -> None:
    link, _ = PageLink.from_query({"samples": "2", "seed": "1", "p2": "Dm G C"})
    state = PageState.from_link(link)
    old = [drawn("C F G"), drawn("E")]
    new_request = PageSettings(samples=3, seed=2)
    redrawn = state.redrawn(new_request, old, [None, Edited(chords("Am F")), None])
    assert redrawn.request == new_request and len(redrawn.progressions) == 3
    assert redrawn.progressions[0] == Progression(None, (Edited(chords("C F G")),))
    assert redrawn.progressions[1] == Progression(Edited(chords("Am F")), (Edited(chords("Dm G C")),))
    assert redrawn.progressions[2] == Progression()


def test_the_state_and_its_link_agree() -> None:
    link, _ = PageLink.from_query({"samples": "3", "seed": "4", "p3": "C* G END", "fav": "C G Am F", "compose": "C",
                                   "model": "default@abcdef", "view": "favourites"})
    state = PageState.from_link(link)
    assert state.progressions[2].locks == {0} and state.progressions[0].locks == frozenset()
    assert state.to_link().to_query() == link.to_query()
    starred = state.toggled_favourite(chords("Dm G C"))
    assert starred.favourites == (chords("C G Am F"), chords("Dm G C"))
    assert starred.toggled_favourite(chords("C G Am F")).favourites == (chords("Dm G C"),)
    assert state.with_progression(0, Progression(Edited(chords("F")))).progressions[1:] == state.progressions[1:]


def test_a_drawn_sample_becomes_an_explicit_progression_with_its_basses() -> None:
    sample = drawn("C/E F G", ended=True)
    assert as_edited(sample, frozenset({2})) == Edited(chords("C/E F G"), True, frozenset({2}))
