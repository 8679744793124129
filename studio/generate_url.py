"""The Generate page's address: every setting, every edited progression, the favourites, read with fallbacks and written back.

A copied link reproduces the page for anyone whose studio has the model it names.
:meth:`PageLink.from_query` reads the query parameters (strings, as ``st.query_params`` gives
them); each value that is unknown or out of range is replaced by its default and explained in one
line (``length=999: length must be a whole number from 1 to 64, got '999'; using 8.``), never
raised. :meth:`PageLink.to_query` writes the state back (the random seed always, other settings
when they differ from their defaults). The sampling settings are read with the same checks and
limits the command line and the API use (:mod:`core.config`); the settings themselves, their ranges
and defaults are :mod:`studio.page_settings`. This module only reads and writes text: what the
progressions are is :mod:`studio.progressions`' business.

Query parameters::

    genre, mood          a label, empty = open
    key                  a tonic (C, F#, Bb; "Am" or "A minor" also read), empty = open
    scale                major / minor, empty = open (a key alone means major)
    length, samples      chords per progression, progressions per generation
    temperature, top_k, top_p, seed (the random seed), in_key (1: only chords inside the key's scale),
    let_end (1: the model may end a progression before its length), guidance (lean toward genre and mood)
    seed_chords          symbols every progression opens with, e.g. "C Am" (slash chords kept: "C/E Am")
    transpose            semitones the shown progressions are moved by (display and exports)
    tempo                beats per minute of the notation, audio and MIDI
    voicing              voice-led (least movement) or root (every chord in root position)
    analyze              a progression typed in the Analyze panel
    p1, p2, …            a progression as edited on the page: its chords, '*' after a locked one,
                         a final END when the model ended it, e.g. p2=C* G/B Am F* END
    fav                  favourite progressions, ';' between them, e.g. fav=C G Am F;Dm7 G7 Cmaj7
    compose              the progression built in the composer, e.g. compose=C G Am
    model                the model that made the link: its name and the start of its weights' sha256,
                         e.g. model=default@1a2b3c4d5e6f
    view                 the panel shown: progressions (default), compose, favourites, analyze, song
    song                 the song mode's song, whole: form, chords, durations, locks (studio.song_url)
    locks, swaps         links written before progressions were edited one by one: locks=1:C 4:G (every
                         progression drawn with them), swaps=2.3:Am (progression 2, chord 3 replaced)

Seed chords, edited progressions, favourites, the composer's chords, locks and swaps are in the
generated (untransposed) key; the page shows every chord moved by ``transpose``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any
from urllib.parse import urlencode

from core.chords import ROOTS, Chord, read_symbol
from core.conditions import UNSPECIFIED, Conditions, parse_key
from core.config import MODEL_DIGEST, RUN_NAME, check
from core.errors import InputError
from core.spelling import Spelling
from core.voicing import VOICING_STYLES
from studio.page_settings import (
    QUOTE_LIMIT,
    SCALES,
    TEMPO_RANGE,
    TRANSPOSE_RANGE,
    URL_SETTINGS,
    PageSettings,
    SlashChords,
    new_seed,
    read_slash_chords,
    reason,
)
from studio.song_url import checked_song_text

#: the page's panels, in the order of its tabs.
VIEWS: tuple[str, ...] = ("progressions", "compose", "favourites", "analyze", "song")
LOCK_MARK = "*"
END_MARK = "END"
FAVOURITE_SEPARATOR = ";"
MODEL_SEPARATOR = "+"
_PROGRESSION_PARAM = re.compile(r"^p(\d{1,3})$")
_SWAP_RE = re.compile(r"^(\d+)\.(\d+):(.+)$")
_MODEL_RE = re.compile(rf"^(?P<name>{RUN_NAME})(?:@(?P<digest>{MODEL_DIGEST}))?$")  # an identity, or a name alone


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` cut to ``limit`` characters for a message (``'C G Am F Dm …' (5,000 characters)``)."""
    text = str(text)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


# --- a progression as edited ---------------------------------------------------------------------------


def spelled_text(chords: SlashChords, request: PageSettings) -> str:
    """Chords (the generated key's, slash basses kept) written as the page spells them before any transposition: in
    the requested key as named, else in the key they sit in (among the scale type's), so a link carries ``Db Gb``
    where the page shows them, not ``C# F#``. Reading it back gives the same chords."""
    if not chords:
        return ""
    conditions = request.conditions
    key = None if conditions.tonic is None else (conditions.tonic, conditions.mode or "major", conditions.key.split()[0])
    return " ".join(Spelling.for_chords(chords, key, conditions.mode).symbols(chords))



@dataclass(frozen=True)
class Edited:
    """One progression as the user left it: chords (generated key, slash basses kept), padlocks, and whether it ended."""

    chords: SlashChords
    ended: bool = False
    locks: frozenset[int] = frozenset()

    def to_text(self, request: PageSettings | None = None) -> str:
        """``C* G/B Am F* END``: a ``*`` after each locked chord, END when the model ended the progression; the chords
        spelled as the page spells them under ``request`` (:func:`spelled_text`: ``Db`` in Db major, not ``C#``)."""
        symbols = spelled_text(self.chords, request).split() if request is not None else [c.symbol for c in self.chords]
        words = [symbol + (LOCK_MARK if i in self.locks else "") for i, symbol in enumerate(symbols)]
        return " ".join(words + ([END_MARK] if self.ended else []))

    @classmethod
    def from_text(cls, text: str) -> Edited:
        """Read :meth:`to_text`'s form; :class:`InputError` for an empty or unreadable progression."""
        words = [w for w in re.split(r"[\s,|]+", text.strip()) if w]
        ended = bool(words) and words[-1].upper() == END_MARK
        words = words[:-1] if ended else words
        if not words:
            raise InputError("no chords")
        locks = frozenset(i for i, w in enumerate(words) if w.endswith(LOCK_MARK))
        return cls(tuple(read_symbol(w.rstrip(LOCK_MARK)).slash for w in words), ended, locks)


# --- the settings --------------------------------------------------------------------------------------


def read_settings(params: Mapping[str, str], default_seed: int | None = None) -> tuple[PageSettings, list[str]]:
    """The settings a query string describes and one message per value replaced (see :meth:`PageLink.from_query`)."""
    problems: list[str] = []
    given = {str(k): str(v).strip() for k, v in params.items()}
    fallback_seed = new_seed() if default_seed is None else int(default_seed)
    return _read_settings(given, fallback_seed, problems), problems


def settings_query(settings: PageSettings) -> dict[str, str]:
    """Query parameters for the page's settings: the seed always, the rest when not the default."""
    base = PageSettings()
    out: dict[str, str] = {}
    for spec in fields(settings):
        value = getattr(settings, spec.name)
        if spec.name == "seed" or value != getattr(base, spec.name):
            out[spec.name] = _text(value)
    return out


# --- the whole page -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageLink:
    """Everything a Generate-page address holds (see the module docstring)."""

    request: PageSettings = field(default_factory=PageSettings)
    edits: tuple[tuple[int, Edited], ...] = ()  # (0-based progression, its edited state), in order
    favourites: tuple[SlashChords, ...] = ()
    compose: SlashChords = ()
    model: str = ""  # "name@digest" of the model that made the link, "" = not named
    view: str = VIEWS[0]
    legacy_locks: tuple[tuple[int, Chord], ...] = ()  # (0-based position, chord) from an older link's locks=
    legacy_swaps: tuple[tuple[int, int, Chord], ...] = ()  # (progression, position, chord), 0-based, from swaps=
    song: str = ""  # the song mode's song as its song= text (studio.song_url), "" = none

    @classmethod
    def from_query(cls, params: Mapping[str, str], default_seed: int | None = None) -> tuple[PageLink, list[str]]:
        """The page a query string describes and one message per value replaced or dropped.

        A missing ``seed`` takes ``default_seed`` (or a fresh one) without a message: the page then
        writes it into the URL. A bad one is replaced by a fresh seed, and the message says so.
        """
        given = {str(k): str(v).strip() for k, v in params.items()}
        problems: list[str] = []
        fallback_seed = new_seed() if default_seed is None else int(default_seed)
        request = _read_settings(given, fallback_seed, problems)
        edits = tuple(_read_edits(given, request, problems))
        link = cls(
            request=request, edits=edits,
            favourites=_read_favourites(given.get("fav", ""), problems),
            compose=_read_chords_param("compose", given.get("compose", ""), problems),
            model=_read_model(given.get("model", ""), problems),
            view=_read_view(given.get("view", ""), problems),
            legacy_locks=_read_legacy_locks(given.get("locks", ""), request, problems),
            legacy_swaps=_read_legacy_swaps(given.get("swaps", ""), request, problems),
            song=checked_song_text(given.get("song", ""), problems),
        )
        return link, problems

    def to_query(self) -> dict[str, str]:
        """Query parameters for this page (older links' ``locks`` and ``swaps`` are written as edits, never back)."""
        out = settings_query(self.request)
        for index, edited in self.edits:
            out[f"p{index + 1}"] = edited.to_text(self.request)
        if self.favourites:
            out["fav"] = FAVOURITE_SEPARATOR.join(spelled_text(f, self.request) for f in self.favourites)
        if self.compose:
            out["compose"] = spelled_text(self.compose, self.request)
        if self.model:
            out["model"] = self.model
        if self.view != VIEWS[0]:
            out["view"] = self.view
        if self.song:
            out["song"] = self.song
        return out

    def link(self, base_url: str, query: Mapping[str, str] | None = None) -> str:
        """The address of this page under ``base_url`` (e.g. ``http://host:8501/generate``); ``query`` overrides it."""
        return f"{base_url.split('?')[0]}?{urlencode(dict(self.to_query() if query is None else query))}"

    def favourites_query(self) -> dict[str, str]:
        """Query parameters of the favourites' own link: what shows and plays them (key, tempo, voicing…), the model."""
        shown = ("genre", "mood", "key", "scale", "transpose", "tempo", "voicing")
        query = {k: v for k, v in settings_query(self.request).items() if k in shown}
        query["fav"] = FAVOURITE_SEPARATOR.join(spelled_text(f, self.request) for f in self.favourites)
        if self.model:
            query["model"] = self.model
        query["view"] = "favourites"
        return query


def model_name_and_digest(model: str) -> tuple[str, str]:
    """``("default", "1a2b3c4d5e6f")`` from ``model=default@1a2b3c4d5e6f`` (digest ``""`` when not given)."""
    match = _MODEL_RE.match(model)
    return (match.group("name"), match.group("digest") or "") if match else ("", "")


# --- reading ------------------------------------------------------------------------------------------


def _read_settings(given: dict[str, str], fallback_seed: int, problems: list[str]) -> PageSettings:
    base = PageSettings()
    values: dict[str, Any] = {}

    def choose(name: str, parse: Callable[[str], Any], fallback: str | None = None) -> None:
        if given.get(name, "") == "":
            return
        try:
            values[name] = parse(given[name])
        except (InputError, ValueError, OverflowError) as error:
            using = fallback or _shown(getattr(base, name))
            problems.append(f"{name}={_cut(given[name])}: {reason(error)}; using {using}.")

    choose("genre", lambda v: _label("genre", v))
    choose("mood", lambda v: _label("mood", v))
    choose("scale", _scale)
    choose("key", lambda v: _tonic_and_mode(v)[0])
    mode = _tonic_and_mode(given["key"])[1] if "key" in values else None
    if mode and values.get("scale", "") not in ("", mode):
        problems.append(f"key={_cut(given['key'])} is {mode} but scale={values['scale']}; "
                        f"using {values['key']} {values['scale']}.")
    elif mode:
        values["scale"] = mode
    for query_name, setting_name in URL_SETTINGS.items():
        fallback = f"a random seed ({fallback_seed})" if query_name == "seed" else None
        choose(query_name, lambda v, name=setting_name: check(name, v), fallback)
    choose("transpose", lambda v: _integer(v, TRANSPOSE_RANGE))
    choose("tempo", lambda v: _integer(v, TEMPO_RANGE))
    choose("voicing", _voicing)
    for name in ("seed_chords", "analyze"):
        if given.get(name):
            values[name] = given[name]
    values.setdefault("seed", fallback_seed)
    return replace(base, **values).checked(problems)


def _read_edits(given: dict[str, str], request: PageSettings, problems: list[str]) -> list[tuple[int, Edited]]:
    edits = []
    numbered = sorted((int(m.group(1)), name) for name in given if (m := _PROGRESSION_PARAM.match(name)))
    for number, name in numbered:
        text = given[name]
        try:
            if not 1 <= number <= request.samples:
                raise InputError(f"there is no progression {number} ({request.samples} shown)")
            edited = Edited.from_text(text)
            if len(edited.chords) > request.length:
                raise InputError(f"{len(edited.chords)} chords do not fit in length {request.length}")
        except InputError as error:
            problems.append(f"{name}={_cut(text)}: {reason(error)}; showing progression {number} as generated.")
            continue
        edits.append((number - 1, edited))
    return edits


def _read_chords_param(name: str, text: str, problems: list[str]) -> SlashChords:
    if not text:
        return ()
    try:
        return read_slash_chords(text)
    except InputError as error:
        problems.append(f"{name}={_cut(text)}: {reason(error)}; left out.")
        return ()


def _read_favourites(text: str, problems: list[str]) -> tuple[SlashChords, ...]:
    favourites = []
    for part in (p for p in text.split(FAVOURITE_SEPARATOR) if p.strip()):
        chords = _read_chords_param("fav", part, problems)
        if chords and chords not in favourites:
            favourites.append(chords)
    return tuple(favourites)


def _read_model(text: str, problems: list[str]) -> str:
    if text and not all(_MODEL_RE.match(part) for part in text.split(MODEL_SEPARATOR)):
        problems.append(f"model={_cut(text)}: not a model name (write NAME@DIGEST, members of an ensemble joined by "
                        f"'{MODEL_SEPARATOR}'); using the model in use.")
        return ""
    return text


def _read_view(text: str, problems: list[str]) -> str:
    if text and text not in VIEWS:
        problems.append(f"view={_cut(text)}: unknown panel; accepted: {', '.join(VIEWS)}.")
        return VIEWS[0]
    return text or VIEWS[0]


def _read_legacy_locks(text: str, request: PageSettings, problems: list[str]) -> tuple[tuple[int, Chord], ...]:
    if not text:
        return ()
    try:
        locks: dict[int, Chord] = {}
        for item in text.replace(",", " ").split():
            position, sep, symbol = item.partition(":")
            if not sep or not position.isdigit() or not 1 <= int(position) <= request.length:
                raise InputError(f"bad lock {quoted(item)}; write POSITION:CHORD with positions 1..{request.length}")
            locks[int(position) - 1] = read_symbol(symbol).chord
        seeds = request.seeds
        for position, chord in locks.items():
            if position < len(seeds) and seeds[position].chord != chord:
                raise InputError(f"lock {position + 1}:{chord.symbol} contradicts seed chord {seeds[position].symbol}")
    except InputError as error:
        problems.append(f"locks={_cut(text)}: {reason(error)}; generating without them.")
        return ()
    return tuple(sorted(locks.items()))


def _read_legacy_swaps(text: str, request: PageSettings, problems: list[str]) -> tuple[tuple[int, int, Chord], ...]:
    swaps = []
    for item in text.replace(",", " ").split():
        match = _SWAP_RE.match(item)
        try:
            if not match:
                raise InputError("write PROGRESSION.CHORD:SYMBOL with 1-based numbers, e.g. '2.3:Am'")
            sample, position = int(match.group(1)), int(match.group(2))
            if not 1 <= sample <= request.samples:
                raise InputError(f"there is no progression {sample} ({request.samples} shown)")
            if not 1 <= position <= request.length:
                raise InputError(f"there is no chord {position} (length {request.length})")
            swaps.append((sample - 1, position - 1, read_symbol(match.group(3)).chord))
        except InputError as error:
            problems.append(f"swaps: {quoted(item)}: {reason(error)}; this swap is left out.")
    return tuple(swaps)


def _cut(value: str) -> str:
    return value if len(value) <= QUOTE_LIMIT else f"{value[:QUOTE_LIMIT]}… ({len(value):,} characters)"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _shown(value: Any) -> str:
    return "open" if value in ("", UNSPECIFIED) else _text(value)


def _label(kind: str, value: str) -> str:
    return getattr(Conditions.parse(**{kind: value}), kind)


def _scale(value: str) -> str:
    lowered = value.lower()
    if lowered in ("", UNSPECIFIED, "any", "open"):
        return ""
    lowered = {"maj": "major", "min": "minor"}.get(lowered, lowered)
    if lowered not in SCALES:
        raise InputError(f"unknown scale; accepted: {', '.join(SCALES)} (or leave it open)")
    return lowered


def _voicing(value: str) -> str:
    if value not in VOICING_STYLES:
        raise InputError(f"unknown voicing; accepted: {', '.join(VOICING_STYLES)}")
    return value


def _tonic_and_mode(value: str) -> tuple[str, str | None]:
    if value.lower() in ("", UNSPECIFIED, "any", "open"):
        return "", None
    tonic, mode = parse_key(value)
    return ROOTS[tonic], mode


def _integer(text: str, bounds: tuple[int, int]) -> int:
    number = float(text)
    if not number.is_integer():
        raise InputError(f"{text} is not a whole number")
    if not bounds[0] <= number <= bounds[1]:
        raise InputError(f"outside {bounds[0]}..{bounds[1]}")
    return int(number)
