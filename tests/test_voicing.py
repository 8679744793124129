"""Voicing (core.voicing): voice-led and root-position upper voices, basses from roots, inversions and typed slashes."""

import pytest

from core import voicing
from core.chords import QUALITY_NAMES, Chord, SlashChord, chord_tones, parse_progression, read_progression
from core.errors import InputError

POP = parse_progression("C Am F G")
EIGHT = parse_progression("C Am7 Fmaj7 G7 Em Bbmaj7 Dm7b5 C9")
EVERY_QUALITY = [Chord((i * 7) % 12, quality) for i, quality in enumerate(QUALITY_NAMES)]


def test_voicing_keeps_common_tones_and_roots_in_octave_3():
    voicings = voicing.voice_progression(POP)
    assert [v[0] for v in voicings] == [48, 57, 53, 55]  # C3 A3 F3 G3
    uppers = [v[1:] for v in voicings]
    assert uppers[0] == [60, 64, 67]  # close position at middle C
    assert {60, 64} <= set(uppers[1])  # C -> Am keeps C4 and E4
    assert {60, 69} <= set(uppers[2])  # Am -> F keeps C4 and A4
    for before, after in zip(uppers, uppers[1:], strict=False):
        assert voicing.voice_distance(before, after) <= 6


def test_voicing_moves_least_among_all_candidates():
    voicings = voicing.voice_progression(EIGHT)
    for chord, before, after in zip(EIGHT[1:], voicings, voicings[1:], strict=False):
        candidates = voicing.candidate_voicings(voicing.upper_pitch_classes(chord), above=after[0])
        best = min(voicing.voice_distance(before[1:], c) for c in candidates)
        assert voicing.voice_distance(before[1:], after[1:]) == best


@pytest.mark.parametrize("chord", EVERY_QUALITY, ids=lambda c: c.symbol)
@pytest.mark.parametrize("inversion", [0, 1, 2])
def test_voicing_is_playable_for_every_quality_and_inversion(chord, inversion):
    slash = SlashChord.inverted(chord, inversion)
    (bass, *upper), = voicing.voice_progression([slash])
    assert 48 <= bass <= 59 and bass % 12 == chord_tones(chord)[inversion]
    assert 3 <= len(upper) <= 4 and upper == sorted(upper)
    assert voicing.UPPER_LOW <= upper[0] and upper[-1] <= voicing.UPPER_HIGH and upper[0] > bass
    assert upper[-1] - upper[0] <= 12
    assert {p % 12 for p in upper} == set(voicing.upper_pitch_classes(chord))


@pytest.mark.parametrize("chord", EVERY_QUALITY, ids=lambda c: c.symbol)
def test_root_position_stacks_the_tones_in_thirds_from_the_root(chord):
    (bass, *upper), = voicing.voice_progression([chord], style="root")
    assert upper[0] % 12 == chord.root and bass % 12 == chord.root and bass < upper[0]
    assert [p % 12 for p in upper] == [pc for pc in chord_tones(chord) if pc in voicing.upper_pitch_classes(chord)]
    assert all(0 < b - a < 12 for a, b in zip(upper, upper[1:], strict=False))  # each tone the next one up
    assert upper[-1] - upper[0] <= 14  # close: within a ninth


def test_typed_basses_are_played_even_outside_the_chord():
    chords = [p.slash for p in read_progression("C/E G/B C/Bb F/A")]
    assert [v[0] for v in voicing.voice_progression(chords)] == [52, 59, 58, 57]  # E3 B3 Bb3 A3
    # under a root-position G3 the B drops to B2
    assert [v[0] for v in voicing.voice_progression(chords, style="root")] == [52, 47, 58, 57]


def test_voicing_is_deterministic_and_checks_its_style():
    assert voicing.voice_progression(EIGHT) == voicing.voice_progression(list(EIGHT))
    with pytest.raises(InputError, match="voicing"):
        voicing.voice_progression(POP, style="drop2")
