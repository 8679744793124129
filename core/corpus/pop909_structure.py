"""POP909 phrase structure (Dai, Zhang & Dannenberg 2020): section labels and tempo for POP909 songs.

The companion folder ``pop909-structure/POP909/NNN/`` holds, per POP909 song, ``finalized_chord.txt``
(one chord a line, its duration in beats last, downbeats aligned to bar lines), ``human_label1.txt``
(a phrase string such as ``i4A4B8A4b4o3``: a letter and a length in bars) and ``tempo.txt`` (BPM).

Labels (annotator 1; the raw label is its mark, e.g. ``A4``): upper case is a phrase with
melody (``A`` ~ verse, ``B`` ~ chorus, other letters stay letters, ``X`` a non-repeating melodic
phrase is ``other``), lower case has no melody (``i`` intro, ``o`` outro, any other lower-case
letter instrumental). The POP909 chords (``chord_midi.txt``) are joined to the bars by aligning their
chord sequence with ``finalized_chord.txt`` (difflib matching blocks: tempo drift cannot shift a
phrase boundary); a chord without a match takes the bar of the matched chord before it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from core.chords import ChordError, parse_harte
from core.corpus.rows import BuildReport, Segment

STRUCTURE_FOLDER = "pop909-structure"
SOURCE = "pop909"
BEATS_PER_BAR = 4  # the files' bars: finalized beats / labelled bars is 4.00 +- 0.06 for every song
_PHRASE = re.compile(r"([A-Za-z])(\d+)")
_UPPER = {"A": "verse", "B": "chorus", "X": "other"}
_LOWER = {"i": "intro", "o": "outro"}


@dataclass
class Structure:
    """One song's phrases (label, raw mark, first bar), the symbols of its finalized chords with their bars, tempo."""

    phrases: list[tuple[str, str, int]]
    symbols: list[str]
    bars: list[int]
    beat_seconds: float | None


def phrase_label(letter: str) -> str:
    """The normalised label of a phrase letter (``A`` verse, ``B`` chorus, ``i`` intro, ``b`` instrumental…)."""
    if letter.isupper():
        return _UPPER.get(letter, letter)
    return _LOWER.get(letter, "instrumental")


def read_phrases(text: str) -> list[tuple[str, str, int]]:
    """``(label, raw mark, first bar)`` of each phrase of a phrase string (``i4A4`` -> intro at 0, verse at 4)."""
    phrases, bar = [], 0
    for letter, length in _PHRASE.findall(text):
        phrases.append((phrase_label(letter), f"{letter}{length}", bar))
        bar += int(length)
    return phrases


def read_structure(song_dir: Path, report: BuildReport) -> Structure | None:
    """The song's structure, or ``None`` (reported, unless the whole companion folder is absent)."""
    if not song_dir.parent.is_dir():
        return None
    try:
        labels = (song_dir / "human_label1.txt").read_text(encoding="utf-8").strip()
        chord_lines = (song_dir / "finalized_chord.txt").read_text(encoding="utf-8").splitlines()
        tempo_path = song_dir / "tempo.txt"
        tempo = float(tempo_path.read_text(encoding="utf-8").split()[0]) if tempo_path.exists() else 0.0
    except (OSError, UnicodeDecodeError, ValueError, IndexError) as error:
        report.skip(SOURCE, song_dir, None, f"structure unreadable ({type(error).__name__}): sections unlabelled")
        return None
    symbols, bars, beat = [], [], 0.0
    for line_no, line in enumerate(chord_lines, start=1):
        fields = line.split()
        if not fields:
            continue
        try:
            length = float(fields[-1])
        except ValueError as error:
            report.skip(SOURCE, song_dir / "finalized_chord.txt", line_no, f"{error}: the song's sections unlabelled")
            return None
        try:  # the label only helps the alignment: an unreadable one ('G:sus4(b7)\x01') still takes its beats
            chord, _ = parse_harte(fields[0])
        except ChordError:
            chord = None
        symbols.append(chord.symbol if chord else "N")
        bars.append(int(beat // BEATS_PER_BAR))
        beat += length
    phrases = read_phrases(labels)
    if not phrases:
        report.skip(SOURCE, song_dir / "human_label1.txt", 1, f"no phrases in {labels[:40]!r}: sections unlabelled")
        return None
    return Structure(phrases, symbols, bars, 60.0 / tempo if tempo > 0 else None)


def chord_bars(played: list[str], structure: Structure) -> list[int]:
    """The bar of each played chord symbol, by aligning ``played`` with the finalized chords."""
    bar_of: list[int | None] = [None] * len(played)
    matcher = difflib.SequenceMatcher(None, played, structure.symbols, autojunk=False)
    for block in matcher.get_matching_blocks():
        for offset in range(block.size):
            bar_of[block.a + offset] = structure.bars[block.b + offset]
    bars, last = [], 0
    for bar in bar_of:
        last = bar if bar is not None else last
        bars.append(last)
    return bars


def phrase_at(phrases: list[tuple[str, str, int]], bar: int) -> int:
    """Index of the phrase holding ``bar`` (the last phrase starting at or before it)."""
    index = 0
    for number, (_, _, first) in enumerate(phrases):
        if first <= bar:
            index = number
    return index


def split_at_phrases(segments: list[Segment], structure: Structure) -> list[Segment]:
    """Cut segments where the phrase changes; the pieces are joined (``joins_next``) so the windows do not change."""
    played = [chord.symbol for segment in segments for chord in segment.chords]
    phrase_of = [phrase_at(structure.phrases, bar) for bar in chord_bars(played, structure)]
    pieces: list[Segment] = []
    position = 0
    for segment in segments:
        beats = segment.chord_beats()
        start = 0
        for index in range(1, len(segment.chords) + 1):
            if index < len(segment.chords) and phrase_of[position + index] == phrase_of[position + start]:
                continue
            label, raw, _ = structure.phrases[phrase_of[position + start]]
            last = index == len(segment.chords)
            pieces.append(Segment(
                segment.chords[start:index], segment.key_tonic, segment.scale_type, segment.section,
                segment.ends if last else False, label=label, raw_label=raw, metre=BEATS_PER_BAR,
                beats=beats[start:index], joins_next=not last,
            ))
            start = index
        position += len(segment.chords)
    return pieces
