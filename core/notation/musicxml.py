"""A :class:`~core.notation.score.Score` as MusicXML, written as text (no music21).

A grand staff, chord symbols as ``<harmony>`` (root, kind, bass), Roman numerals as lyrics, the key
signature and the tempo; ``for_engraving`` leaves out what verovio draws badly (:mod:`core.notation.svg`).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from core.chords import QUALITIES
from core.notation.score import PIANO_TRACK_NAME, Score, beats_per_bar
from core.spelling import Note

#: quality -> MusicXML ``<kind>`` value; the studio's suffix (``m7b5``, ``mM7``) goes in its ``text``.
_KIND_OF_QUALITY = {
    "maj": "major", "min": "minor", "7": "dominant", "maj7": "major-seventh", "min7": "minor-seventh",
    "dim": "diminished", "dim7": "diminished-seventh", "hdim7": "half-diminished", "aug": "augmented",
    "sus2": "suspended-second", "sus4": "suspended-fourth", "6": "major-sixth", "min6": "minor-sixth",
    "9": "dominant-ninth", "add9": "major", "minmaj7": "major-minor",
}
#: note values a held chord is written in, longest first: quarters -> (type, dotted).
_NOTE_VALUES = ((6, "whole", True), (4, "whole", False), (3, "half", True), (2, "half", False), (1, "quarter", False))
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ACCIDENTAL_NAMES = {-2: "flat-flat", -1: "flat", 0: "natural", 1: "sharp", 2: "double-sharp"}


def _note_values(quarters: int) -> list[tuple[int, str, bool]]:
    """A held length split into written note values, longest first (5 quarters: whole tied to quarter)."""
    values = []
    while quarters:
        value = next(v for v in _NOTE_VALUES if v[0] <= quarters)
        values.append(value)
        quarters -= value[0]
    return values


def _octave(midi_number: int, note: Note) -> int:
    """The written octave of ``note`` sounding at ``midi_number`` (B#3 sounds as C4 = 60)."""
    return (midi_number - note.alter - _LETTER_PC[note.letter]) // 12 - 1


def _pitch_xml(midi_number: int, note: Note) -> str:
    alter = f"<alter>{note.alter}</alter>" if note.alter else ""
    return f"<pitch><step>{note.letter}</step>{alter}<octave>{_octave(midi_number, note)}</octave></pitch>"


def _harmony_xml(score: Score, index: int, for_engraving: bool) -> str:
    """One ``<harmony>``: spelled root, kind (with the studio's suffix as its text) and slash bass.

    ``add9`` is a major kind with an added ninth degree; verovio would print the degree after the
    text (``Cadd9(add9)``), so the engraved copy leaves the degree out.
    """
    slash = score.chords[index]
    root, bass = score.spelling.root(slash), score.spelling.bass(slash)
    root_alter = f"<root-alter>{root.alter}</root-alter>" if root.alter else ""
    quality = slash.chord.quality
    parts = [f"<root><root-step>{root.letter}</root-step>{root_alter}</root>",
             f'<kind text="{escape(QUALITIES[quality][1])}">{_KIND_OF_QUALITY[quality]}</kind>']
    if bass is not None:
        bass_alter = f"<bass-alter>{bass.alter}</bass-alter>" if bass.alter else ""
        parts.append(f"<bass><bass-step>{bass.letter}</bass-step>{bass_alter}</bass>")
    if quality == "add9" and not for_engraving:
        parts.append("<degree><degree-value>9</degree-value><degree-alter>0</degree-alter>"
                     "<degree-type>add</degree-type></degree>")
    return f"<harmony>{''.join(parts)}<staff>1</staff></harmony>"


def _shown_accidentals(pitches: Sequence[tuple[int, Note]], in_force: dict[tuple[str, int], int],
                       key_alters: dict[str, int]) -> list[str | None]:
    """The accidental each note shows: one where its alteration differs from what its bar has in force.

    In force: the key signature, overridden for a letter in an octave by an earlier note of the
    bar (``in_force``, updated here), as engravers do; a natural cancels either.
    """
    shown = []
    for midi_number, note in pitches:
        place = (note.letter, _octave(midi_number, note))
        current = in_force.get(place, key_alters.get(note.letter, 0))
        shown.append(None if note.alter == current else _ACCIDENTAL_NAMES[note.alter])
        in_force[place] = note.alter
    return shown


def _chord_notes_xml(pitches: Sequence[tuple[int, Note]], quarters: int, staff: int, tie_in: bool, tie_out: bool,
                     lyric: str | None, accidentals: Sequence[str | None]) -> str:
    """A held chord (or bass note) of ``quarters`` in written values, tied within and across bars as asked.

    ``accidentals`` are shown on the chord's first written value (tied continuations show none).
    """
    values = _note_values(quarters)
    out = []
    for n, (length, kind, dotted) in enumerate(values):
        starts, stops = tie_out or n < len(values) - 1, tie_in or n > 0
        ties = ('<tie type="stop"/>' if stops else "") + ('<tie type="start"/>' if starts else "")
        tied = ('<tied type="stop"/>' if stops else "") + ('<tied type="start"/>' if starts else "")
        for voice_index, (midi_number, note) in enumerate(pitches):
            text = lyric if n == 0 and voice_index == 0 and lyric else None
            out.append(
                "<note>" + ("<chord/>" if voice_index else "") + _pitch_xml(midi_number, note)
                + f"<duration>{length}</duration>{ties}<voice>{staff}</voice><type>{kind}</type>"
                + ("<dot/>" if dotted else "")
                + (f"<accidental>{accidentals[voice_index]}</accidental>" if n == 0 and accidentals[voice_index] else "")
                + f"<staff>{staff}</staff>" + (f"<notations>{tied}</notations>" if tied else "")
                + (f'<lyric number="1"><syllabic>single</syllabic><text>{escape(text)}</text></lyric>' if text else "")
                + "</note>"
            )
    return "".join(out)


def _rest_xml(quarters: int, staff: int) -> str:
    return "".join(f"<note><rest/><duration>{length}</duration><voice>{staff}</voice><type>{kind}</type>"
                   + ("<dot/>" if dotted else "") + f"<staff>{staff}</staff></note>"
                   for length, kind, dotted in _note_values(quarters))


def _first_measure_head(score: Score, for_engraving: bool) -> str:
    """Attributes (divisions, key, time, two staves and clefs) and the tempo of bar 1 (a mark, or only its sound)."""
    key = ""
    if score.key is not None:
        key = f"<key><fifths>{score.spelling.fifths}</fifths><mode>{score.key[1]}</mode></key>"
    bar = beats_per_bar(score.beats_per_chord)
    attributes = (f"<attributes><divisions>1</divisions>{key}<time><beats>{bar}</beats><beat-type>4</beat-type></time>"
                  "<staves>2</staves><clef number=\"1\"><sign>G</sign><line>2</line></clef>"
                  "<clef number=\"2\"><sign>F</sign><line>4</line></clef></attributes>")
    bpm = f"{score.bpm:g}"
    if for_engraving:
        return attributes + f'<sound tempo="{bpm}"/>'
    return attributes + ('<direction placement="above"><direction-type><metronome parentheses="no">'
                         f"<beat-unit>quarter</beat-unit><per-minute>{bpm}</per-minute></metronome></direction-type>"
                         f'<staff>1</staff><sound tempo="{bpm}"/></direction>')


def _header_credits(score: Score) -> str:
    """The title, and below it on the left the tempo mark, as page credits (the engraved header)."""
    return ('<credit page="1"><credit-type>title</credit-type><credit-words justify="center" halign="center" valign="top">'
            f"{escape(score.title)}</credit-words></credit>"
            '<credit page="1"><credit-words justify="left" halign="left" valign="bottom" font-weight="bold">'
            f"\u2669 = {score.bpm:g}</credit-words></credit>")


def _staff_xml(score: Score, staff: int, start: int, bar: int, for_engraving: bool) -> str:
    """One staff's content of the bar starting at beat ``start``: chord symbols, held notes, a closing rest."""
    per_chord, total = score.beats_per_chord, len(score.chords) * score.beats_per_chord
    romans = score.romans
    key_alters = {note.letter: note.alter for note in score.spelling.scale} if score.key is not None else {}
    in_force: dict[tuple[str, int], int] = {}
    out, beat = [], start
    while beat < min(start + bar, total):
        index, into = divmod(beat, per_chord)
        length = min(per_chord - into, start + bar - beat)
        spelled = list(zip(score.voicings[index], score.spelled_notes(index), strict=True))
        pitches = spelled[1:] if staff == 1 else spelled[:1]
        lyric = romans[index] if staff == 1 and romans and into == 0 else None
        if staff == 1 and into == 0:
            out.append(_harmony_xml(score, index, for_engraving))
        shown = [None] * len(pitches) if into > 0 else _shown_accidentals(pitches, in_force, key_alters)
        out.append(_chord_notes_xml(pitches, length, staff, into > 0, into + length < per_chord, lyric, shown))
        beat += length
    if beat < start + bar:
        out.append(_rest_xml(start + bar - beat, staff))
    return "".join(out)


def to_musicxml(score: Score, for_engraving: bool = False) -> bytes:
    """The score as MusicXML 4.0 (UTF-8): one piano part on a grand staff, symbols, numerals, key and tempo.

    The tempo is a metronome mark over bar 1. ``for_engraving=True`` (what :func:`to_svg` hands
    verovio) writes the title and the tempo as header credits instead, so the tempo mark sits
    above the system on its own line and never collides with a chord symbol (verovio does not
    keep the two apart), and leaves out what verovio would print twice (an ``add9``'s degree).
    """
    bar = beats_per_bar(score.beats_per_chord)
    total = len(score.chords) * score.beats_per_chord
    measures = []
    for number, start in enumerate(range(0, total, bar), start=1):
        head = _first_measure_head(score, for_engraving) if number == 1 else ""
        final = start + bar >= total
        barline = '<barline location="right"><bar-style>light-heavy</bar-style></barline>' if final else ""
        staves = _staff_xml(score, 1, start, bar, for_engraving), _staff_xml(score, 2, start, bar, for_engraving)
        measures.append(f'<measure number="{number}">{head}{staves[0]}'
                        f"<backup><duration>{bar}</duration></backup>{staves[1]}{barline}</measure>")
    text = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<!DOCTYPE score-partwise PUBLIC "-//Recordare//DTD MusicXML 4.0 Partwise//EN" '
            '"http://www.musicxml.org/dtds/partwise.dtd">\n'
            f'<score-partwise version="4.0"><work><work-title>{escape(score.title)}</work-title></work>'
            "<identification><encoding><software>Chordsmith</software></encoding></identification>"
            + (_header_credits(score) if for_engraving else "")
            + f'<part-list><score-part id="P1"><part-name print-object="no">{PIANO_TRACK_NAME}</part-name></score-part>'
            f'</part-list><part id="P1">{"".join(measures)}</part></score-partwise>\n')
    return text.encode("utf-8")
