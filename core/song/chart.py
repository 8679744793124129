"""A song as a chord chart to take away: ChordPro (``{start_of_chorus}`` …) and plain text.

Both charts write each section's chords bar by bar, one slash per beat after a chord
(``| G / / / | Em / C / |``), four bars a line, spelled in the song's key. ChordPro sections use
its environments: ``verse``, ``chorus`` and ``bridge`` are ChordPro's own, every other label is a
section named after it (``{start_of_intro: label="Intro"}``, allowed since ChordPro 6, read as
song lines by older readers); rehearsal letters are ``part`` sections labelled with their letter.
A section played again is written again in full, so a chart reads top to bottom as played.
"""

from __future__ import annotations

from core.chords import Chord
from core.song.model import Song

#: bars per chart line.
BARS_PER_LINE = 4
#: ChordPro environment of each section label (others: ``part``).
_ENVIRONMENTS = {"verse": "verse", "chorus": "chorus", "bridge": "bridge", "intro": "intro", "outro": "outro",
                 "pre-chorus": "pre_chorus", "instrumental": "instrumental"}


def bars_of(song: Song, index: int, bracket: bool) -> list[str]:
    """Section ``index`` bar by bar: each bar's chords (``[G]`` in ChordPro, ``G`` in text), a ``/`` per later beat."""
    section, symbols = song.sections[index], song.symbols(index)
    beats: list[str] = []
    for symbol, duration in zip(symbols, section.durations, strict=True):
        beats.append(f"[{symbol}]" if bracket else symbol)
        beats.extend("/" * (duration - 1))
    per_bar = song.time.beats
    return [" ".join(beats[start:start + per_bar]) for start in range(0, len(beats), per_bar)]


def _lines(bars: list[str]) -> list[str]:
    return ["| " + " | ".join(bars[start:start + BARS_PER_LINE]) + " |" for start in range(0, len(bars), BARS_PER_LINE)]


def to_chordpro(song: Song) -> str:
    """The song as a ChordPro chart: title, key, time, tempo, then each section in its environment."""
    out = [f"{{title: {song.title}}}", f"{{key: {song.spelling.symbol(_tonic_chord(song))}}}",
           f"{{time: {song.time.text}}}", f"{{tempo: {song.tempo}}}", ""]
    if song.genre != "unspecified":
        out.insert(1, f"{{meta: genre {song.genre}}}")
    for index, section in enumerate(song.sections):
        environment = _ENVIRONMENTS.get(section.label, "part")
        out.append(f'{{start_of_{environment}: label="{section.name}"}}')
        out.extend(_lines(bars_of(song, index, bracket=True)))
        out.append(f"{{end_of_{environment}}}")
        out.append("")
    return "\n".join(out)


def to_text(song: Song) -> str:
    """The song as a plain-text chart: a heading line, then each section's name and its bars."""
    out = [f"{song.title} — {song.key_name}, {song.time.text}, {song.tempo} bpm", ""]
    for index, section in enumerate(song.sections):
        out.append(f"{section.name} ({section.bars} bars)")
        out.extend(_lines(bars_of(song, index, bracket=False)))
        out.append("")
    return "\n".join(out)


def _tonic_chord(song: Song) -> Chord:
    tonic, mode = song.spelling.key
    return Chord(tonic, "min" if mode == "minor" else "maj")
