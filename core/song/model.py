"""The song: sections with their chords and durations in beats, its key, time signature and tempo; edits; JSON.

A :class:`Song` is what every surface shows and writes: the page draws it, the CLI prints it, the
API returns it, the chart, MIDI and MusicXML writers write it. Each :class:`Section` holds its
chords (slash basses kept) and each chord's duration in whole beats of the time signature; a
section's durations always add up to its bars. Sections that share a label and their bars and are
not variations are one section played again: an edit of one (:func:`with_section` and the chord
edits below) is an edit of all, so the second chorus stays the first one's chords.

The chord edits (:func:`lengthen`, :func:`shorten`, :func:`split`, :func:`merge`) keep every bar
full: a beat one chord gains, a neighbour gives. Locked positions move with their chords.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from core.chords import SlashChord, read_symbol
from core.conditions import UNSPECIFIED
from core.config import MAX_SECTION_CHORDS
from core.errors import InputError
from core.song.form import FormSection, TimeSignature, form_text, read_section_name, read_time_signature
from core.spelling import Spelling, key_name


@dataclass(frozen=True)
class Section:
    """One section: its name and label, bars, chords, each chord's beats, whether it is a variation, its locks."""

    name: str
    label: str
    bars: int
    chords: tuple[SlashChord, ...] = ()
    durations: tuple[int, ...] = ()
    variation: bool = False
    locked: tuple[int, ...] = ()  # 0-based positions of chords kept when the section is drawn again

    @property
    def onsets(self) -> list[int]:
        """Each chord's first beat from the section's start."""
        out, beat = [], 0
        for duration in self.durations:
            out.append(beat)
            beat += duration
        return out

    @property
    def form_section(self) -> FormSection:
        """The section as a form names it."""
        return FormSection(self.name, self.label, self.bars, self.variation)

    def check(self, time: TimeSignature) -> None:
        """:class:`InputError` unless chords and durations pair up, every duration is a whole beat or more, the
        durations fill the bars exactly, and the locks point at chords."""
        if len(self.chords) != len(self.durations) or not self.chords:
            raise InputError(f"{self.name}: {len(self.chords)} chord(s) and {len(self.durations)} duration(s); "
                             "give one duration per chord")
        if len(self.chords) > MAX_SECTION_CHORDS:
            raise InputError(f"{self.name}: {len(self.chords)} chords; a section holds at most {MAX_SECTION_CHORDS}")
        if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in self.durations):
            raise InputError(f"{self.name}: durations are whole numbers of beats, at least 1: {list(self.durations)}")
        if sum(self.durations) != self.bars * time.beats:
            raise InputError(f"{self.name}: durations add up to {sum(self.durations)} beats, but {self.bars} bar(s) "
                             f"of {time.text} hold {self.bars * time.beats}")
        if any(not 0 <= p < len(self.chords) for p in self.locked):
            raise InputError(f"{self.name}: a locked position is outside its {len(self.chords)} chords")


@dataclass(frozen=True)
class Song:
    """A whole song: its sections in order, time signature, tempo, key (None: guessed from the chords) and conditions."""

    sections: tuple[Section, ...]
    time: TimeSignature
    tempo: int
    key: tuple[int, str] | None = None
    genre: str = UNSPECIFIED
    mood: str = UNSPECIFIED
    seed: int | None = None
    title: str = "Song"
    notes: tuple[str, ...] = field(default=(), compare=False)  # how the song was made (shown, not compared)

    @property
    def spelling(self) -> Spelling:
        """How every chord is written: in the song's key, else in the key read from all its chords."""
        return Spelling.for_chords([c for s in self.sections for c in s.chords], self.key)

    @property
    def key_name(self) -> str:
        """The key the song is written in (``"G major"``)."""
        return self.spelling.name

    @property
    def form(self) -> str:
        """The form as typed (``Intro Verse Chorus …``)."""
        return form_text([s.form_section for s in self.sections])

    def symbols(self, index: int) -> list[str]:
        """Section ``index``'s chords spelled in the song's key."""
        return self.spelling.symbols(self.sections[index].chords)

    def check(self) -> None:
        """Every section's :meth:`Section.check`."""
        for section in self.sections:
            section.check(self.time)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``sections`` (``label``, ``name``, ``bars``, ``chords`` spelled, ``durations`` in beats, …),
        ``key``, ``time_signature``, ``tempo``, ``genre``, ``mood``, ``form``, ``seed``."""
        return {
            "title": self.title, "form": self.form, "key": self.key_name, "key_given": self.key is not None,
            "time_signature": self.time.text, "tempo": self.tempo, "genre": self.genre, "mood": self.mood,
            "seed": self.seed,
            "sections": [{"name": s.name, "label": s.label, "bars": s.bars, "variation": s.variation,
                          "chords": self.symbols(i), "durations": list(s.durations), "locked": [p + 1 for p in s.locked]}
                         for i, s in enumerate(self.sections)],
            "notes": list(self.notes),
        }


def song_from_dict(values: Mapping[str, Any]) -> Song:
    """A checked :class:`Song` from :meth:`Song.to_dict` output; :class:`InputError` naming what is wrong."""
    try:
        time = read_time_signature(values["time_signature"])
        key = None
        if values.get("key") and values.get("key_given", True):
            spelling = Spelling.from_name(str(values["key"]))
            key = spelling.key
        sections = tuple(_section_from_dict(item) for item in values["sections"])
        song = Song(sections, time, int(values.get("tempo", 100)), key, str(values.get("genre") or UNSPECIFIED),
                    str(values.get("mood") or UNSPECIFIED), values.get("seed"), str(values.get("title") or "Song"))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"not a song: {type(error).__name__} {error}") from None
    song.check()
    return song


def _section_from_dict(item: Mapping[str, Any]) -> Section:
    name, label, variation = read_section_name(str(item["name"]))
    chords = tuple(read_symbol(str(symbol)).slash for symbol in item["chords"])
    return Section(name, label, int(item["bars"]), chords, tuple(item["durations"]),
                   bool(item.get("variation", variation)), tuple(int(p) - 1 for p in item.get("locked", ())))


def key_text(key: tuple[int, str] | None) -> str:
    """A key as shown (``G major``), ``open`` for none."""
    return "open" if key is None else key_name(*key)


# --------------------------------------------------------------------------- sections played again


def same_section(song: Song, index: int) -> list[int]:
    """The sections that are section ``index`` played again (itself included): same label and bars, no variation."""
    section = song.sections[index]
    if section.variation:
        return [index]
    return [i for i, s in enumerate(song.sections)
            if not s.variation and s.label == section.label and s.bars == section.bars]


def first_of(song: Song, index: int) -> int:
    """The first time section ``index`` is played (itself when it is new or a variation)."""
    return same_section(song, index)[0]


def with_section(song: Song, index: int, section: Section) -> Song:
    """``song`` with section ``index`` (and every time it is played again) replaced by ``section``'s chords."""
    section.check(song.time)
    targets = same_section(song, index)
    sections = list(song.sections)
    for target in targets:
        sections[target] = replace(sections[target], chords=section.chords, durations=section.durations,
                                   locked=section.locked)
    return replace(song, sections=tuple(sections))


# --------------------------------------------------------------------------- chord edits


def _at(song: Song, index: int, position: int) -> Section:
    if not 0 <= index < len(song.sections):
        raise InputError(f"section {index + 1} is outside the song (1..{len(song.sections)})")
    section = song.sections[index]
    if not 0 <= position < len(section.chords):
        raise InputError(f"chord {position + 1} is outside {section.name} (1..{len(section.chords)})")
    return section


def _neighbour(section: Section, position: int) -> int:
    """The chord that gives or takes a beat: the next one, or the one before for the last chord."""
    if len(section.chords) < 2:
        raise InputError(f"{section.name} has one chord: it fills its bars (split it first)")
    return position + 1 if position + 1 < len(section.chords) else position - 1


def lengthen(song: Song, index: int, position: int) -> Song:
    """Chord ``position`` of section ``index`` one beat longer, the next chord (or the one before) one shorter."""
    section = _at(song, index, position)
    other = _neighbour(section, position)
    if section.durations[other] < 2:
        raise InputError("the chord beside it has one beat left: merge the two chords instead")
    durations = list(section.durations)
    durations[position] += 1
    durations[other] -= 1
    return with_section(song, index, replace(section, durations=tuple(durations)))


def shorten(song: Song, index: int, position: int) -> Song:
    """Chord ``position`` one beat shorter, the next chord (or the one before) one longer."""
    section = _at(song, index, position)
    if section.durations[position] < 2:
        raise InputError("the chord is one beat long: merge it with its neighbour instead")
    other = _neighbour(section, position)
    durations = list(section.durations)
    durations[position] -= 1
    durations[other] += 1
    return with_section(song, index, replace(section, durations=tuple(durations)))


def split(song: Song, index: int, position: int) -> Song:
    """Chord ``position`` as two chords sharing its beats (the first gets the odd beat); the second is open."""
    section = _at(song, index, position)
    beats = section.durations[position]
    if beats < 2:
        raise InputError("a one-beat chord cannot be split")
    if len(section.chords) >= MAX_SECTION_CHORDS:
        raise InputError(f"{section.name} holds {MAX_SECTION_CHORDS} chords, the most a section may")
    chords = (*section.chords[:position + 1], section.chords[position], *section.chords[position + 1:])
    durations = (*section.durations[:position], beats - beats // 2, beats // 2, *section.durations[position + 1:])
    locked = tuple(p + (p > position) for p in section.locked)
    return with_section(song, index, replace(section, chords=chords, durations=durations, locked=locked))


def merge(song: Song, index: int, position: int) -> Song:
    """Chord ``position`` and the next one as one chord (the first's) lasting both their beats."""
    section = _at(song, index, position)
    if position + 1 >= len(section.chords):
        raise InputError("the last chord of a section has no next chord to merge with")
    chords = section.chords[:position + 1] + section.chords[position + 2:]
    durations = (*section.durations[:position], section.durations[position] + section.durations[position + 1],
                 *section.durations[position + 2:])
    locked = tuple(p - (p > position) for p in section.locked if p != position + 1)
    return with_section(song, index, replace(section, chords=chords, durations=durations, locked=locked))


def toggle_lock(song: Song, index: int, position: int) -> Song:
    """Lock chord ``position`` of section ``index`` (kept when the section is drawn again), or release it."""
    section = _at(song, index, position)
    locked = tuple(sorted(set(section.locked) ^ {position}))
    return with_section(song, index, replace(section, locked=locked))


def with_chord(song: Song, index: int, position: int, chord: SlashChord) -> Song:
    """Chord ``position`` of section ``index`` replaced by ``chord`` (its duration kept)."""
    section = _at(song, index, position)
    chords = (*section.chords[:position], chord, *section.chords[position + 1:])
    return with_section(song, index, replace(section, chords=chords))


def chord_edits() -> dict[str, Any]:
    """The chord edits by name (the Song tab's buttons)."""
    return {"lengthen": lengthen, "shorten": shorten, "split": split, "merge": merge, "lock": toggle_lock}

