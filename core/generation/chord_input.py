"""Typed chords as generation takes them: seed chords, locks and progressions read from symbols, chords or text.

Every surface (the command line, the API, the Generate page) and the library read typed chords here:
a symbol is read with :func:`core.chords.read_symbol`, so one outside the vocabulary (``G7sus4``) is
read as its nearest chord with a note, and a slash bass (``C/E``) is kept beside the chord the model
sees. :func:`typed_positions` places seed chords and locks in a progression of a given length and
refuses what cannot fit there.
"""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping, Sequence

from core.chords import Chord, ParsedSymbol, SlashChord, read_symbol
from core.errors import InputError

#: a typed chord: a symbol (read with read_symbol), a vocabulary chord, a slash chord or a read symbol.
TypedChord = str | Chord | SlashChord | ParsedSymbol


def read_chords(chords: Sequence[TypedChord] | str) -> list[ParsedSymbol]:
    """Typed chords as :class:`ParsedSymbol` (chord, slash bass, note): from one string of symbols separated by
    spaces/commas/bars, or a sequence of symbols, chords, slash chords or read symbols. ``""`` is no chord."""
    if isinstance(chords, str):
        chords = [t for t in re.split(r"[\s,|]+", chords.strip()) if t]
    return [read_one(item) for item in chords]


def read_one(item: TypedChord) -> ParsedSymbol:
    """One typed chord as a :class:`ParsedSymbol`; :class:`InputError` for a symbol that cannot be read."""
    if isinstance(item, ParsedSymbol):
        return item
    if isinstance(item, SlashChord):
        return ParsedSymbol(item.chord, item.bass, None)
    if isinstance(item, Chord):
        return ParsedSymbol(item, None, None)
    return read_symbol(str(item))


def parse_chords(chords: Sequence[TypedChord] | str) -> list[Chord]:
    """The vocabulary chords of typed chords (:func:`read_chords` without basses and notes)."""
    return [parsed.chord for parsed in read_chords(chords)]


def reading_notes(parsed: Sequence[ParsedSymbol]) -> list[str]:
    """The notes of read symbols (``"G7sus4 read as Gsus4"``), each once, in order."""
    return list(dict.fromkeys(p.note for p in parsed if p.note))


def parse_locks(text: str) -> dict[int, ParsedSymbol]:
    """``"1:C 4:G7sus4"`` (1-based positions, as typed) → ``{0: C, 3: Gsus4 (with its note)}`` (0-based, as the API takes)."""
    locks: dict[int, ParsedSymbol] = {}
    for item in text.replace(",", " ").split():
        position, sep, symbol = item.partition(":")
        if not sep or not position.strip().isdigit() or int(position) < 1:
            raise InputError(f"bad lock {item!r}; write POSITION:CHORD with 1-based positions, e.g. '1:C 4:G'")
        if int(position) - 1 in locks:
            raise InputError(f"two locks at the same position ({int(position)}): lock each position once")
        locks[int(position) - 1] = read_symbol(symbol)
    return locks


def typed_positions(seed_chords: Sequence[TypedChord] | str, locks: Mapping[int, TypedChord] | None,
                    length: int) -> dict[int, ParsedSymbol]:
    """0-based position → the typed chord fixed there (seed chords first, then locks); :class:`InputError` for
    seeds longer than ``length``, a lock outside it, or a lock that contradicts a seed chord."""
    seeds = read_chords(seed_chords)
    if len(seeds) > length:
        raise InputError(f"{len(seeds)} seed chords do not fit in length {length}")
    typed = dict(enumerate(seeds))
    for position, item in (locks or {}).items():
        if isinstance(position, bool) or not isinstance(position, numbers.Integral) or not 0 <= position < length:
            raise InputError(f"lock position {position + 1 if isinstance(position, numbers.Integral) else position!r} "
                             f"is outside the progression (positions are 1..{length})")
        parsed = read_one(item)
        seed = typed.get(int(position))
        if seed is not None and seed.chord != parsed.chord:
            raise InputError(f"lock {int(position) + 1}:{parsed.chord.symbol} contradicts seed chord {seed.chord.symbol}")
        typed[int(position)] = parsed if seed is None or parsed.bass is not None else seed
    return typed
