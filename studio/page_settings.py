"""The Generate page's settings: one value per widget, their ranges and defaults, and the GenerationSettings they make.

:class:`PageSettings` holds every setting the page shows (the query string's names); its sampling
settings become one :class:`core.config.GenerationSettings` (:meth:`PageSettings.settings`), built
once per drawing and handed to generation unchanged. Ranges and defaults are the settings' own
(:mod:`core.config`); only the page's display settings (transposition, tempo, voicing) are defined
here. Reading and writing these settings in the address is :mod:`studio.generate_url`.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from core.chords import SlashChord, read_symbol
from core.conditions import UNSPECIFIED, Conditions
from core.config import DEFAULT_TEMPERATURE, MAX_SEED, GenerationSettings
from core.errors import InputError
from core.voicing import VOICING_STYLES

#: query parameter -> the core.config generation setting it carries (the URL keeps its short names).
URL_SETTINGS: dict[str, str] = {"length": "length", "samples": "num_samples", "temperature": "temperature",
                                "top_k": "top_k", "top_p": "top_p", "seed": "random_seed", "in_key": "in_key",
                                "let_end": "let_model_end", "guidance": "guidance"}


def setting_range(name: str) -> tuple:
    """(lowest, highest) accepted value of a generation setting, for the page's sliders and number inputs."""
    spec = GenerationSettings.settings()[name]
    return spec.kind(spec.low), spec.kind(spec.high)


LENGTH_RANGE = setting_range("length")
SAMPLES_RANGE = setting_range("num_samples")
TEMPERATURE_RANGE = setting_range("temperature")
TOP_K_RANGE = setting_range("top_k")
TOP_P_RANGE = setting_range("top_p")
GUIDANCE_RANGE = setting_range("guidance")
SEED_RANGE = setting_range("random_seed")
TRANSPOSE_RANGE = (-11, 11)
TEMPO_RANGE = (40, 240)
SCALES: tuple[str, ...] = ("major", "minor")
#: settings that shape the generated progressions (the others only change how they are shown or played).
GENERATION_FIELDS: tuple[str, ...] = ("genre", "mood", "key", "scale", "length", "temperature", "top_k", "top_p",
                                      "seed_chords", "samples", "seed", "in_key", "let_end", "guidance")
#: longest piece of a bad value quoted back in a message.
QUOTE_LIMIT = 40

SlashChords = tuple[SlashChord, ...]


def new_seed() -> int:
    """A fresh random seed for the URL (the page writes it there, so the link stays reproducible)."""
    return secrets.randbelow(MAX_SEED + 1)


def temperature_advice(temperature: float) -> str:
    """One line on what a temperature does to the progressions (the default's range says why it is the default)."""
    if temperature < 0.6:
        return "Low: safe, the most common chords, often repetitive."
    if temperature < 1.05:
        return "Cautious: the model's likeliest turns, more predictable than real songs."
    if temperature <= 1.35:
        return f"Balanced: about as surprising as real songs (hence the default, {DEFAULT_TEMPERATURE:g})."
    if temperature <= 1.8:
        return "Adventurous: rarer chords and surprising turns."
    return "Wild: close to random; expect odd chords."


# --- chords as text ---------------------------------------------------------------------------------


def slash_text(chords: Sequence[SlashChord]) -> str:
    """Chords as symbols in the studio's default spelling, slash basses kept: ``C G/B Am``."""
    return " ".join(c.symbol for c in chords)


def read_slash_chords(text: str) -> SlashChords:
    """Symbols separated by spaces, commas or bars as slash chords; :class:`InputError` naming a bad one."""
    tokens = [t for t in re.split(r"[\s,|]+", text.strip()) if t]
    return tuple(read_symbol(token).slash for token in tokens)


# --- the settings --------------------------------------------------------------------------------------


_DEFAULTS = GenerationSettings()


@dataclass(frozen=True)
class PageSettings:
    """Every Generate-page setting; field names are the query-string names."""

    genre: str = UNSPECIFIED
    mood: str = UNSPECIFIED
    key: str = ""  # a tonic from ROOTS, "" = open
    scale: str = ""  # "major" / "minor", "" = open
    length: int = _DEFAULTS.length
    temperature: float = _DEFAULTS.temperature
    top_k: int = _DEFAULTS.top_k
    top_p: float = _DEFAULTS.top_p
    seed_chords: str = ""  # generated key
    samples: int = 3  # the page opens with a few progressions to compare (links leave this default out)
    seed: int = 0
    in_key: bool = _DEFAULTS.in_key
    let_end: bool = _DEFAULTS.let_model_end
    guidance: float = _DEFAULTS.guidance
    transpose: int = 0
    tempo: int = 100
    voicing: str = VOICING_STYLES[0]
    analyze: str = ""

    @property
    def conditions(self) -> Conditions:
        """The model conditions (genre, mood, key with its mode, scale type)."""
        return Conditions.parse(genre=self.genre, mood=self.mood, key=self.key or None, scale_type=self.scale or None)

    @property
    def seeds(self) -> SlashChords:
        """The seed chords (generated key, slash basses kept); empty when none (or unreadable: :meth:`checked` drops those)."""
        try:
            return read_slash_chords(self.seed_chords)
        except InputError:
            return ()

    def settings(self, **changes: Any) -> GenerationSettings:
        """The page's one :class:`core.config.GenerationSettings` (with ``changes``), built once: what generation gets.

        Every value was checked when it was read (address, widgets whose ranges are the settings' own).
        """
        values = {setting: getattr(self, name) for name, setting in URL_SETTINGS.items()}
        return GenerationSettings(**{**values, **changes})

    def generation(self) -> tuple:
        """The values that shape the progressions (equal tuples: the same progressions)."""
        return tuple(getattr(self, name) for name in GENERATION_FIELDS)

    def checked(self, problems: list[str]) -> PageSettings:
        """This request with seed chords and in-key dropped where they cannot apply (noted in ``problems``)."""
        request = self
        try:
            seeds = read_slash_chords(request.seed_chords)
            if len(seeds) > request.length:
                raise InputError(f"{len(seeds)} seed chords do not fit in length {request.length}")
        except InputError as error:
            problems.append(f"Seed chords: {reason(error)}. Generating without them.")
            request = replace(request, seed_chords="")
        if request.in_key and not request.key:
            problems.append("'In key only' needs a key: choose one (it is off until then).")
            request = replace(request, in_key=False)
        return request


def reason(error: BaseException) -> str:
    """A refusal as one short clause for a message (no final full stop, cut at four quotes' length)."""
    text = str(error).strip().rstrip(".") or type(error).__name__
    return text if len(text) <= 4 * QUOTE_LIMIT else text[: 4 * QUOTE_LIMIT] + "…"
