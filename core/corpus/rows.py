"""What every source parser returns: songs made of key-labelled chord segments."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from core.chords import Chord


@dataclass
class Segment:
    """A run of consecutive chords in one key: a section, a phrase or a stretch between key changes.

    ``chords`` are in order as played (repeats may still be in; the build collapses them).
    ``ends`` is True when the segment ends where the music ends or a section closes, so the
    model learns to emit END there. The section fields (label, raw label, metre, beats) feed the song
    table (``data/songs.parquet``); the windows use only chords, key, ``section``, ``ends`` and
    ``joins_next`` (segments joined by it are cut into windows as one run, as before sections were known).
    """

    chords: list[Chord]
    key_tonic: int
    scale_type: str  # "major" | "minor"
    section: str = ""
    ends: bool = True
    label: str = ""  # normalised section label (see core.corpus.sections); "" = derive it from ``section``
    raw_label: str = ""  # the source's own section mark, as written; "" = the same as ``section``
    metre: int | None = None  # beats per bar, where the source says
    beats: list[float | None] | None = None  # each chord's duration in beats (parallel to ``chords``); None = unknown
    joins_next: bool = False  # the next segment continues this one's windows (a section boundary, not a phrase end)

    def chord_beats(self) -> list[float | None]:
        """Each chord's duration in beats, ``None`` where unknown (a list as long as ``chords``)."""
        if self.beats is None or len(self.beats) != len(self.chords):
            return [None] * len(self.chords)
        return list(self.beats)


@dataclass
class Song:
    """One song, tune or piece from one source (one analyst's version, for RS200)."""

    source: str  # "billboard", "pop909", "rs200", "jazz-standards", "nottingham", "when-in-rome", "free-midi-chords"
    song_id: str  # unique in the corpus: f"{source}:{local id}"
    title: str
    artist: str = ""  # artist or composer; "" when unknown
    genre: str = ""  # one of core.conditions.GENRES (not "unspecified"), or "" when the source says nothing
    genre_raw: str = ""  # the source's own tag(s), as written
    subgenre: str = ""  # e.g. when-in-rome folder, jazz rhythm
    mood: str = ""  # one of core.conditions.MOODS (not "unspecified"), or "" without evidence
    mood_evidence: str = ""  # e.g. "deezer valence=0.41 arousal=-0.73" or "free-midi words: Sad Dark"
    segments: list[Segment] = field(default_factory=list)


@dataclass
class BuildReport:
    """Counts and messages a build collects: skipped malformed input and mapped chord qualities."""

    skipped: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    mapped: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    chords_read: Counter = field(default_factory=Counter)
    notes: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def note(self, source: str, path: Path | str, what: str) -> None:
        """Record a correction the parser made (a metre or key checked against the music), not a skip."""
        self.notes[source].append(f"{path}: {what}")

    def skip(self, source: str, path: Path | str, line: int | None, reason: str) -> None:
        """Record a malformed line (or file, with ``line=None``) that was skipped."""
        where = f"{path}:{line}" if line is not None else f"{path}"
        self.skipped[source].append(f"{where}: {reason}")

    def chord(self, source: str, original: str, mapped: bool, chord: Chord | None = None) -> None:
        """Count one chord read; if its quality was mapped to a nearer one, count ``original -> chord``."""
        self.chords_read[source] += 1
        if mapped:
            self.mapped[source][f"{original} -> {chord.quality if chord else '?'}"] += 1
