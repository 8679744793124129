"""A song's form read from what a user types: section names, bars per section, a time signature; and the presets.

A form is section names in order, separated by spaces or commas (``Intro Verse Chorus Verse Chorus
Outro``, ``A A B A``). Each name is read with the corpus's own section words
(:mod:`core.corpus.sections`: ``Pre-Chorus``, ``Solo``, ``Refrain``, ``Middle8``, rehearsal letters
``A``-``H`` …), so a song's sections carry the labels the song table uses. A name that comes back
(the second ``Chorus``) is the same section again: it repeats the first one's chords. A trailing
``'`` (``Chorus'``, ``A'``) asks for a variation of it instead.

Bars come one per section (``4,8,8,8``) or from each section's usual length
(:data:`USUAL_BARS`). Every limit (:data:`core.config.MAX_SONG_SECTIONS`, ``MAX_SECTION_BARS``,
``MAX_SONG_BARS``) is :mod:`core.config`'s, so the CLI, the API and the page refuse the same forms,
each with one :class:`core.errors.InputError` saying what is wrong.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

from core.config import (
    MAX_SECTION_BARS,
    MAX_SONG_BARS,
    MAX_SONG_SECTIONS,
    TIME_SIGNATURES,
    SongSettings,
)
from core.corpus.sections import LABELS, normalise_label
from core.errors import InputError

#: rehearsal letters a form may use (jazz AABA, folk AABB).
LETTERS: tuple[str, ...] = tuple("ABCDEFGH")
#: a section's length in bars when the form gives none.
USUAL_BARS: dict[str, int] = {"intro": 4, "verse": 8, "pre-chorus": 4, "chorus": 8, "bridge": 8, "instrumental": 8,
                              "outro": 4, **{letter: 8 for letter in LETTERS}}
#: the mark after a name that asks for a variation of a returning section.
VARIATION_MARK = "'"
_SEPARATORS = re.compile(r"[\s,]+")


class TimeSignature(NamedTuple):
    """Beats per bar over the note that is one beat (``6/8``: six eighth-note beats)."""

    beats: int
    unit: int

    @property
    def text(self) -> str:
        """As written: ``4/4``."""
        return f"{self.beats}/{self.unit}"

    @property
    def quarters_per_beat(self) -> float:
        """One beat in quarter notes (MIDI and MusicXML count in quarters): 1 in 4/4, 0.5 in 6/8."""
        return 4.0 / self.unit


class FormSection(NamedTuple):
    """One section of a form: its name as shown, its normalised label, its bars and whether it is a variation."""

    name: str
    label: str
    bars: int
    variation: bool = False


@dataclass(frozen=True)
class Form:
    """A read form: its sections, time signature and tempo."""

    sections: tuple[FormSection, ...]
    time: TimeSignature
    tempo: int

    @property
    def total_bars(self) -> int:
        """Bars of the whole song."""
        return sum(section.bars for section in self.sections)


class Preset(NamedTuple):
    """A ready form: the words and bars, its time signature, tempo and the genre it is written for."""

    title: str
    form: str
    bars: str
    time_signature: str
    tempo: int
    genre: str

    def settings(self) -> SongSettings:
        """The checked song settings of this preset."""
        return SongSettings(form=self.form, bars=self.bars, time_signature=self.time_signature, tempo=self.tempo)


#: the presets, by name (the page's picker, ``song --preset``).
PRESETS: dict[str, Preset] = {
    "pop": Preset("Pop", "Intro Verse Chorus Verse Chorus Bridge Chorus Outro", "4,8,8,8,8,8,8,4", "4/4", 100, "pop"),
    "blues": Preset("12-bar blues", "Intro Verse Verse Verse Outro", "4,12,12,12,4", "4/4", 90, "blues"),
    "jazz-aaba": Preset("AABA jazz standard", "A A' B A", "8,8,8,8", "4/4", 120, "jazz"),
    "rock": Preset("Verse-chorus rock", "Intro Verse Pre-Chorus Chorus Verse Pre-Chorus Chorus Solo Chorus Outro",
                   "4,8,4,8,8,4,8,8,8,4", "4/4", 120, "rock"),
    "folk-aabb": Preset("Folk AABB", "A A B B", "8,8,8,8", "6/8", 110, "folk"),
}


def read_time_signature(text: str) -> TimeSignature:
    """``4/4``, ``6/8`` … as a :class:`TimeSignature`; only :data:`core.config.TIME_SIGNATURES` are accepted."""
    cleaned = str(text).strip()
    if cleaned not in TIME_SIGNATURES:
        raise InputError(f"unknown time signature {text!r}; accepted: {', '.join(TIME_SIGNATURES)}")
    beats, unit = cleaned.split("/")
    return TimeSignature(int(beats), int(unit))


def read_section_name(word: str) -> tuple[str, str, bool]:
    """One typed section name as (name shown, label, variation); :class:`InputError` for a name not known."""
    variation = word.endswith((VARIATION_MARK, "’"))
    bare = word.rstrip(VARIATION_MARK + "’")
    upper = bare.upper()
    if upper in LETTERS:
        return upper, upper, variation
    label = normalise_label(bare) if bare and not bare[0].isdigit() else ""
    if label not in LABELS:
        words = ", ".join(w.title() for w in LABELS) + ", or a letter A-H"
        raise InputError(f"unknown section name {word!r}; use {words} (a trailing ' asks for a variation)")
    shown = "-".join(part.capitalize() for part in bare.split("-"))
    return shown, label, variation


def read_bars(text: str | None, count: int) -> list[int] | None:
    """Bars per section from ``4,8,8`` (``None`` for none given); :class:`InputError` for a count or value refused."""
    if text is None or not str(text).strip():
        return None
    parts = [p for p in _SEPARATORS.split(str(text).strip()) if p]
    if len(parts) != count:
        raise InputError(f"bars: {len(parts)} value(s) given for {count} section(s); give one per section, "
                         "e.g. 4,8,8,8")
    bars = []
    for part in parts:
        if not part.isdigit() or not 1 <= int(part) <= MAX_SECTION_BARS:
            raise InputError(f"bars: {part!r} is not a whole number from 1 to {MAX_SECTION_BARS}")
        bars.append(int(part))
    return bars


def read_form(settings: SongSettings) -> Form:
    """The form the settings name, every section with its bars; :class:`InputError` for what does not fit.

    Refused: an empty form, an unknown section name, more than ``MAX_SONG_SECTIONS`` sections, bars
    not one per section or outside 1..``MAX_SECTION_BARS``, more than ``MAX_SONG_BARS`` bars in all.
    """
    words = [w for w in _SEPARATORS.split(settings.form.strip()) if w]
    if not words:
        raise InputError("the form is empty: name the sections in order, e.g. 'Intro Verse Chorus Outro'")
    if len(words) > MAX_SONG_SECTIONS:
        raise InputError(f"the form has {len(words)} sections; a song has at most {MAX_SONG_SECTIONS}")
    read = [read_section_name(word) for word in words]
    bars = read_bars(settings.bars, len(read)) or [USUAL_BARS[label] for _, label, _ in read]
    if sum(bars) > MAX_SONG_BARS:
        raise InputError(f"the song has {sum(bars)} bars; at most {MAX_SONG_BARS} fit")
    sections = tuple(FormSection(name, label, count, variation)
                     for (name, label, variation), count in zip(read, bars, strict=True))
    return Form(sections, read_time_signature(settings.time_signature), settings.tempo)


def form_text(sections: tuple[FormSection, ...] | list[FormSection]) -> str:
    """The form as typed back (``Intro Verse Chorus' …``): :func:`read_form` reads it to the same sections."""
    return " ".join(s.name + (VARIATION_MARK if s.variation else "") for s in sections)
