"""The Generate page's song in its address: the whole song as one ``song=`` parameter, read back exactly.

A shared link must reproduce the song as it was left (its sections, every chord, every duration
and lock, after any edit), whatever model the reader has, so the parameter holds the song itself,
not only how it was drawn::

    song=1~4/4~100~12345~pop~happy~G major~Intro:4:G.4 D.4 Em.4 C.4~Verse:8:G.2 D/F#.2* …~Chorus':8:…

Fields, ``~`` between them: the format version, the time signature, the tempo, the song's random seed
(empty: none), genre, mood and key (empty: open), then one field per section: its name (a trailing
``'`` for a variation), its bars, and its chords as ``SYMBOL.BEATS``, ``*`` after a locked one. Symbols
are written in the vocabulary's own spelling. :func:`read_song_text` refuses anything else with one
:class:`core.errors.InputError` line (the page shows it and leaves the song out).
"""

from __future__ import annotations

from core.chords import read_symbol
from core.conditions import Conditions, parse_key
from core.config import MAX_SEED, MAX_SONG_SECTIONS
from core.errors import InputError
from core.song.form import read_section_name, read_time_signature
from core.song.model import Section, Song, key_text

VERSION = "1"
FIELD = "~"
LOCK_MARK = "*"
#: most characters of a song parameter read (16 sections of 32 chords fit with room to spare).
MAX_SONG_TEXT = 20_000


def song_text(song: Song) -> str:
    """The song as its ``song=`` parameter (see the module docstring)."""
    head = [VERSION, song.time.text, str(song.tempo), "" if song.seed is None else str(song.seed),
            song.genre, song.mood, "" if song.key is None else key_text(song.key)]
    return FIELD.join(head + [_section_text(s) for s in song.sections])


def _section_text(section: Section) -> str:
    chords = " ".join(f"{c.symbol}.{d}{LOCK_MARK if p in section.locked else ''}"
                      for p, (c, d) in enumerate(zip(section.chords, section.durations, strict=True)))
    return f"{section.name}{chr(39) if section.variation else ''}:{section.bars}:{chords}"


def read_song_text(text: str) -> Song:
    """The song a ``song=`` parameter holds, checked; :class:`InputError` saying what is wrong."""
    if len(text) > MAX_SONG_TEXT:
        raise InputError(f"the song is {len(text)} characters long; at most {MAX_SONG_TEXT} are read")
    fields = text.split(FIELD)
    if len(fields) < 8 or fields[0] != VERSION:
        raise InputError("not a song written by this studio (expected version, time, tempo, seed, genre, mood, key, "
                         "then sections)")
    if len(fields) - 7 > MAX_SONG_SECTIONS:
        raise InputError(f"the song has {len(fields) - 7} sections; at most {MAX_SONG_SECTIONS}")
    _, time_text, tempo, seed, genre, mood, key = fields[:7]
    if not tempo.isdigit() or (seed and not (seed.isdigit() and int(seed) <= MAX_SEED)):
        raise InputError(f"tempo {tempo!r} and seed {seed!r} must be whole numbers (the seed at most {MAX_SEED})")
    conditions = Conditions.parse(genre=genre or None, mood=mood or None)
    key_value = None
    if key:
        tonic, mode = parse_key(key)
        key_value = (tonic, mode or "major")
    song = Song(tuple(_read_section(part) for part in fields[7:]), read_time_signature(time_text), int(tempo),
                key_value, conditions.genre, conditions.mood, int(seed) if seed else None)
    song.check()
    return song


def _read_section(text: str) -> Section:
    name, bars, chords = (text.split(":", 2) + ["", ""])[:3]
    shown, label, variation = read_section_name(name)
    if not bars.isdigit():
        raise InputError(f"{shown}: bars {bars!r} must be a whole number")
    symbols, durations, locked = [], [], []
    for position, token in enumerate(chords.split()):
        symbol, _, beats = token.rstrip(LOCK_MARK).rpartition(".")
        if not symbol or not beats.isdigit():
            raise InputError(f"{shown}: {token!r} is not CHORD.BEATS (e.g. G.4 or Am7.2*)")
        symbols.append(read_symbol(symbol).slash)
        durations.append(int(beats))
        if token.endswith(LOCK_MARK):
            locked.append(position)
    return Section(shown, label, int(bars), tuple(symbols), tuple(durations), variation, tuple(locked))


def checked_song_text(text: str, problems: list[str]) -> str:
    """``text`` when it reads as a song, else ``""`` with one message in ``problems`` (a link's ``song=``)."""
    if not text:
        return ""
    try:
        return song_text(read_song_text(text))
    except InputError as error:
        problems.append(f"song=: {error}; the song is left out.")
        return ""
