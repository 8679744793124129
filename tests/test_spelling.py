"""Spelling chords in a key (core.spelling): roots by scale degree, no double accidentals, slash basses, key names."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.chords import QUALITY_NAMES, Chord, SlashChord, parse_progression, parse_symbol, pitch_class
from core.errors import InputError
from core.spelling import Spelling, guess_key, key_name, spell, spell_progression


def notes(spelling: Spelling, symbol: str) -> str:
    return " ".join(n.name for n in spelling.chord_notes(parse_symbol(symbol)).values())


def test_the_leading_tone_chord_in_a_major_is_g_sharp() -> None:
    assert spell(parse_symbol("Abm7b5"), (9, "major")) == "G#m7b5"
    assert notes(Spelling(9, "major"), "G#m7b5") == "G# B D F#"


@pytest.mark.parametrize("key", [(11, "major"), (8, "minor"), None])
def test_one_line_is_spelled_on_one_side(key: tuple[int, str] | None) -> None:
    chords = parse_progression("F#maj7 E Abm7 B C#6 Ebm")
    assert spell_progression(chords, key) == ["F#maj7", "E", "G#m7", "B", "C#6", "D#m"]


@pytest.mark.parametrize(
    ("key", "line", "spelled"),
    [((9, "minor"), "Am E7 G#dim7 Dm F C Bb", "Am E7 G#dim7 Dm F C Bb"),
     ((0, "major"), "C Eb Ab Bb F# Db", "C Eb Ab Bb F# Db"),
     ((3, "major"), "Eb C#m7 G#", "Eb Dbm7 Ab"),
     ((1, "major"), "C# D F# G#7", "Db D Gb Ab7"),  # bII of Db is D (never Ebb)
     ((3, "minor"), "D#m B C#7 F#", "Ebm Cb Db7 Gb"),
     ((6, "major"), "F#maj7 D#m7 Bbm7 F", "F#maj7 D#m7 A#m7 E#")],  # VII of F# is E# (its G## in the notation)
)
def test_roots_follow_the_key(key: tuple[int, str], line: str, spelled: str) -> None:
    assert " ".join(spell_progression(parse_progression(line), key)) == spelled


def test_chord_tones_are_named_by_interval_without_double_accidentals() -> None:
    c_major = Spelling(0, "major")
    assert notes(c_major, "Bdim7") == "B D F Ab"
    assert notes(c_major, "Cdim7") == "C Eb Gb A"  # Bbb would be a double flat
    assert notes(c_major, "Ebdim7") == "Eb Gb Bbb C"  # biii: the root by its degree, the fifth a double flat
    assert notes(c_major, "Bbmaj7") == "Bb D F A"
    assert notes(Spelling(9, "minor"), "E7") == "E G# B D"
    assert notes(Spelling(1, "minor"), "G#7") == "G# B# D# F#"  # the leading tone of C# minor is B#


@given(st.integers(0, 11), st.sampled_from(["major", "minor"]), st.integers(0, 11), st.sampled_from(QUALITY_NAMES))
def test_every_chord_in_every_key_has_a_root_with_at_most_one_accidental(tonic: int, mode: str, root: int,
                                                                           quality: str) -> None:
    spelling = Spelling(tonic, mode)
    chord = Chord(root, quality)
    spelled = spelling.chord_notes(chord)
    assert sorted(spelled) == sorted(chord.pitch_classes())
    assert all(note.pitch_class == pc and abs(note.alter) <= 2 for pc, note in spelled.items())
    assert abs(spelled[root].alter) <= 1  # a double sharp or flat only ever on a tone above the root
    letters = [n.letter for n in spelled.values()]
    assert len(set(letters)) == len(letters)  # one letter per tone: no E and Eb in one chord
    assert parse_symbol(spelling.symbol(chord)) == chord  # spelling never changes the chord


def test_slash_basses_are_spelled_as_the_chord_tone_or_by_degree() -> None:
    a_major = Spelling(9, "major")
    assert a_major.symbol(SlashChord(parse_symbol("E7"), pitch_class("G#"))) == "E7/G#"
    assert a_major.symbol(SlashChord.inverted(parse_symbol("F#m"), 1)) == "F#m/A"
    assert Spelling(0, "major").symbol(SlashChord(parse_symbol("C"), 10)) == "C/Bb"
    assert Spelling(4, "major").symbol(SlashChord(parse_symbol("E"), 3)) == "E/D#"
    assert Spelling(4, "major").symbol(SlashChord(parse_symbol("C"), 10)) == "C/Bb"  # by its interval over C, not A#
    assert Spelling(0, "major").symbol(SlashChord(parse_symbol("C"), 6)) == "C/F#"
    assert Spelling(0, "major").symbol(SlashChord(parse_symbol("D"), 0)) == "D/C"
    assert Spelling(0, "major").roman(SlashChord(parse_symbol("G7"), 11)) == "V65"


def test_key_names_and_guessing() -> None:
    assert [key_name(t, "major") for t in (1, 6, 8)] == ["Db major", "F# major", "Ab major"]
    assert [key_name(t, "minor") for t in (1, 3, 8)] == ["C# minor", "Eb minor", "G# minor"]
    assert Spelling.from_name("G# minor").key == (8, "minor") and Spelling.from_name("Ab minor").name == "Ab minor"
    assert Spelling.from_name("Db minor").name == "C# minor"  # Db minor would need Bbb: its usual name
    assert Spelling(8, "minor").fifths == 5 and Spelling(3, "minor").fifths == -6 and Spelling(0, "major").fifths == 0
    assert guess_key(parse_progression("Am F C G")) == (9, "minor")
    assert guess_key([SlashChord(parse_symbol("C"), 4), parse_symbol("G")]) == (0, "major")
    with pytest.raises(InputError):
        Spelling(0, "dorian")
