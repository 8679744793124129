"""One Generate-page request as a URL query string: read with fallbacks, write back, run deterministically.

Everything the Generate page shows is a function of its URL, so a copied link reproduces the
same progressions for anyone using the same model. :meth:`GenerateRequest.from_query` reads the
query parameters (strings, as ``st.query_params`` gives them); each value that is unknown or out
of range is replaced by its default and explained in one line (``length=999: length must be a
whole number from 1 to 64, got '999'; using 8.``), never raised. :meth:`GenerateRequest.to_query`
writes the request back (the random seed always, other settings when they differ from their
defaults). The sampling settings are read with the same checks and limits the command line and
the API use (:mod:`core.config`); only the page's display settings (transposition, tempo) are
defined here.

Query parameters::

    genre, mood          a label, empty = open
    key                  a tonic (C, F#, Bb; "Am" or "A minor" also read), empty = open
    scale                major / minor, empty = open (a key alone means major)
    length, samples      chords per progression, progressions per generation
    temperature, top_k, top_p, seed (the random seed)
    seed_chords          symbols the progressions open with, e.g. "C Am"
    locks                1-based POSITION:CHORD pairs kept fixed, e.g. "1:C 4:G"
    swaps                SAMPLE.POSITION:CHORD replacements made after generation, e.g. "2.3:Am"
    transpose            semitones the shown progressions are moved by (display and exports)
    in_key               1: only chords inside the key's scale
    tempo                beats per minute of the audio and MIDI
    analyze              a progression typed in the Analyze panel

Locks, swaps and seed chords are in the generated (untransposed) key; the page shows every chord
moved by ``transpose`` and :meth:`lock_chords` / :meth:`swap` take shown chords back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from core.chords import ROOTS, Chord, parse_symbol
from core.conditions import UNSPECIFIED, Conditions, parse_key
from core.config import MAX_SEED, GenerationSettings, check
from core.errors import InputError
from core.generation.generate import Sample, alternatives, generate, parse_chords, parse_locks, roman_for
from core.generation.loading import Generator, as_generator
from core.spelling import Spelling, key_name

#: query parameter -> the core.config generation setting it carries (the URL keeps its short names).
URL_SETTINGS: dict[str, str] = {"length": "length", "samples": "num_samples", "temperature": "temperature",
                                "top_k": "top_k", "top_p": "top_p", "seed": "random_seed", "in_key": "in_key"}


def setting_range(name: str) -> tuple:
    """(lowest, highest) accepted value of a generation setting, for the page's sliders and number inputs."""
    spec = GenerationSettings.settings()[name]
    return spec.kind(spec.low), spec.kind(spec.high)


LENGTH_RANGE = setting_range("length")
SAMPLES_RANGE = setting_range("num_samples")
TEMPERATURE_RANGE = setting_range("temperature")
TOP_K_RANGE = setting_range("top_k")
TOP_P_RANGE = setting_range("top_p")
SEED_RANGE = setting_range("random_seed")
TRANSPOSE_RANGE = (-11, 11)
TEMPO_RANGE = (40, 240)
SCALES: tuple[str, ...] = ("major", "minor")
#: settings that shape the generated samples (the others only change how they are shown or played).
GENERATION_FIELDS: tuple[str, ...] = ("genre", "mood", "key", "scale", "length", "temperature", "top_k", "top_p",
                                      "seed_chords", "samples", "seed", "locks", "in_key")
_SWAP_RE = re.compile(r"^(\d+)\.(\d+):(.+)$")


def new_seed() -> int:
    """A fresh random seed for the URL (the page writes it there, so the link stays reproducible)."""
    return secrets.randbelow(MAX_SEED + 1)


def temperature_advice(temperature: float) -> str:
    """One line on what a temperature does to the progressions."""
    if temperature < 0.6:
        return "Low: safe, the most common chords, often repetitive."
    if temperature <= 1.1:
        return "Balanced: the model's own taste (1.0 samples it as trained)."
    if temperature <= 1.6:
        return "Adventurous: rarer chords and surprising turns."
    return "Wild: close to random; expect odd chords."


_DEFAULTS = GenerationSettings()


@dataclass(frozen=True)
class GenerateRequest:
    """Every Generate-page setting; field names are the query-string names."""

    genre: str = UNSPECIFIED
    mood: str = UNSPECIFIED
    key: str = ""  # a tonic from ROOTS, "" = open
    scale: str = ""  # "major" / "minor", "" = open
    length: int = _DEFAULTS.length
    temperature: float = _DEFAULTS.temperature
    top_k: int = _DEFAULTS.top_k
    top_p: float = _DEFAULTS.top_p
    seed_chords: str = ""
    samples: int = 3  # the page opens with a few progressions to compare (links leave this default out)
    seed: int = 0
    locks: str = ""
    swaps: str = ""
    transpose: int = 0
    in_key: bool = _DEFAULTS.in_key
    tempo: int = 100
    analyze: str = ""

    # --- the URL --------------------------------------------------------------------------------

    @classmethod
    def from_query(cls, params: Mapping[str, str], default_seed: int | None = None) -> tuple[GenerateRequest, list[str]]:
        """The request a query string describes and one message per value replaced by its default.

        A missing ``seed`` takes ``default_seed`` (or a fresh one) without a message: the page
        then writes it into the URL.
        """
        base = cls()
        problems: list[str] = []
        values: dict[str, Any] = {}
        given = {k: str(v).strip() for k, v in params.items()}

        def choose(name: str, parse: Callable[[str], Any]) -> None:
            if given.get(name, "") == "":
                return
            try:
                values[name] = parse(given[name])
            except (InputError, ValueError, OverflowError) as error:
                problems.append(f"{name}={given[name]}: {_reason(error)}; using {_shown(getattr(base, name))}.")

        choose("genre", lambda v: _label("genre", v))
        choose("mood", lambda v: _label("mood", v))
        choose("scale", _scale)
        choose("key", lambda v: _tonic_and_mode(v)[0])
        mode = _tonic_and_mode(given["key"])[1] if "key" in values else None
        if mode and values.get("scale", "") not in ("", mode):
            chosen = f"{values['key']} {values['scale']}"
            problems.append(f"key={given['key']} is {mode} but scale={values['scale']}; using {chosen}.")
        elif mode:
            values["scale"] = mode
        for query_name, setting_name in URL_SETTINGS.items():
            choose(query_name, lambda v, name=setting_name: check(name, v))
        choose("transpose", lambda v: _integer(v, TRANSPOSE_RANGE))
        choose("tempo", lambda v: _integer(v, TEMPO_RANGE))
        for name in ("seed_chords", "locks", "swaps", "analyze"):
            if given.get(name):
                values[name] = given[name]
        if "seed" not in values:
            values["seed"] = new_seed() if default_seed is None else int(default_seed)
        request = replace(base, **values)
        return request.checked(problems), problems

    def checked(self, problems: list[str]) -> GenerateRequest:
        """This request with seed chords, locks, swaps and in-key dropped where they cannot apply (noted in ``problems``)."""
        request = self
        length = request.length
        try:
            seeds = parse_chords(request.seed_chords)
            if len(seeds) > length:
                raise InputError(f"{len(seeds)} seed chords do not fit in length {length}")
        except InputError as error:
            problems.append(f"Seed chords: {_reason(error)}. Generating without them.")
            request, seeds = replace(request, seed_chords=""), []
        try:
            locks = parse_locks(request.locks)
            for position, chord in locks.items():
                if position >= length:
                    raise InputError(f"lock position {position + 1} is outside the progression (1..{length})")
                if position < len(seeds) and seeds[position] != chord:
                    raise InputError(f"lock {position + 1}:{chord.symbol} contradicts seed chord {seeds[position].symbol}")
        except InputError as error:
            problems.append(f"Locks: {_reason(error)}. Generating without them.")
            request = replace(request, locks="")
        try:
            _parse_swaps(request.swaps)
        except InputError as error:
            problems.append(f"Swaps: {_reason(error)}. Showing the progressions as generated.")
            request = replace(request, swaps="")
        if request.in_key and not request.key:
            problems.append("'In key only' needs a key: choose one (it is off until then).")
            request = replace(request, in_key=False)
        return request

    def to_query(self) -> dict[str, str]:
        """Query parameters for this request: the seed always, the rest when not the default."""
        base = GenerateRequest()
        out: dict[str, str] = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name == "seed" or value != getattr(base, spec.name):
                out[spec.name] = _text(value)
        return out

    def link(self, base_url: str) -> str:
        """The shareable address of this request under ``base_url`` (e.g. ``http://host:8501/generate``)."""
        from urllib.parse import urlencode

        return f"{base_url.rstrip('?')}?{urlencode(self.to_query())}"

    # --- what the request means -----------------------------------------------------------------

    @property
    def conditions(self) -> Conditions:
        """The model conditions (genre, mood, key with its mode, scale type)."""
        return Conditions.parse(genre=self.genre, mood=self.mood, key=self.key or None, scale_type=self.scale or None)

    @property
    def lock_map(self) -> dict[int, Chord]:
        """0-based position -> locked chord (generated key)."""
        return parse_locks(self.locks)

    def updated(self, **changes: Any) -> GenerateRequest:
        """This request with ``changes``; swaps are dropped when a setting that shapes the samples changed."""
        new = replace(self, **changes)
        if any(getattr(new, name) != getattr(self, name) for name in GENERATION_FIELDS):
            new = replace(new, swaps="")
        return new

    def with_new_seed(self, seed: int | None = None) -> GenerateRequest:
        """The same settings with another random seed; swaps cleared (they belonged to the old samples)."""
        return replace(self, seed=new_seed() if seed is None else int(seed), swaps="")

    def lock_chords(self, shown_chords: Sequence[Chord], positions: Sequence[int], seed: int | None = None) -> GenerateRequest:
        """Keep the chords at 0-based ``positions`` of one shown progression and draw the rest anew.

        The shown chords are moved back by ``transpose``; seed chords that disagree with the new
        locks are dropped (the padlocks win). No position: every lock is released.
        """
        chords = [c.transpose(-self.transpose) for c in shown_chords]
        locks = " ".join(f"{p + 1}:{chords[p].symbol}" for p in sorted(set(positions)))
        seeds = parse_chords(self.seed_chords)
        keep_seeds = all(p >= len(seeds) or seeds[p] == chords[p] for p in positions)
        request = replace(self, locks=locks, seed_chords=self.seed_chords if keep_seeds else "")
        return request.with_new_seed(seed)

    def swap(self, sample_index: int, position: int, shown_chord: Chord) -> GenerateRequest:
        """Replace chord ``position`` (0-based) of sample ``sample_index`` (0-based) by a shown chord."""
        swaps = _parse_swaps(self.swaps)
        swaps[(int(sample_index), int(position))] = shown_chord.transpose(-self.transpose)
        text = " ".join(f"{s + 1}.{p + 1}:{c.symbol}" for (s, p), c in sorted(swaps.items()))
        return replace(self, swaps=text)

    # --- running it -----------------------------------------------------------------------------

    def generation_settings(self) -> dict[str, Any]:
        """Keyword arguments of :func:`core.generation.generate.generate` (model excluded)."""
        return {
            "conditions": self.conditions, "length": self.length, "temperature": self.temperature, "top_k": self.top_k,
            "top_p": self.top_p, "seed_chords": parse_chords(self.seed_chords), "num_samples": self.samples,
            "random_seed": self.seed, "in_key": self.in_key, "locks": self.lock_map,
        }

    def run(self, model: Generator | str | Path | None) -> list[Sample]:
        """Generate, apply the swaps, then transpose: the progressions exactly as the page shows them.

        Deterministic for a given model and request. Probabilities are the model's for the
        generated (untransposed) chords; Roman numerals keep their values under transposition.
        """
        generator = as_generator(model)
        samples = generate(generator, **self.generation_settings())
        for (sample_index, position), chord in _parse_swaps(self.swaps).items():
            if sample_index < len(samples) and position < len(samples[sample_index].chords):
                samples[sample_index] = _swapped(generator, samples[sample_index], position, chord)
        return [transposed(sample, self.transpose) for sample in samples]

    def alternatives(self, model: Generator | str | Path | None, shown: Sample, position: int,
                     k: int = 6) -> list[tuple[Chord, float]]:
        """The ``k`` most probable chords at ``position`` of a shown sample given both neighbours, as shown."""
        chords = [c.transpose(-self.transpose) for c in shown.chords]
        ranked = alternatives(model, chords, position, self.conditions, k=k, in_key=self.in_key, ends=shown.ended)
        return [(chord.transpose(self.transpose), probability) for chord, probability in ranked]


def transposed(sample: Sample, semitones: int) -> Sample:
    """A sample moved by ``semitones``: chords and the Roman numerals' key move, numerals and probabilities stay."""
    if not semitones % 12:
        return sample
    tonic, mode = Spelling.from_name(sample.roman_key).key
    key = key_name(tonic + semitones, mode)
    return replace(sample, chords=[c.transpose(semitones) for c in sample.chords], roman_key=key)


def sample_key(sample: Sample) -> tuple[int, str]:
    """(tonic pitch class, mode) of the key a sample's Roman numerals are in (for notation)."""
    return Spelling.from_name(sample.roman_key).key


# --- parsing helpers --------------------------------------------------------------------------------


def _swapped(generator: Generator, sample: Sample, position: int, chord: Chord) -> Sample:
    from core.generation.score import score_progression

    chords = list(sample.chords)
    chords[position] = chord
    scored = score_progression(generator, chords, sample.conditions)
    roman, roman_key = roman_for(chords, sample.conditions)
    return replace(sample, chords=chords, probabilities=scored["probabilities"], roman=roman, roman_key=roman_key)


def _parse_swaps(text: str) -> dict[tuple[int, int], Chord]:
    swaps: dict[tuple[int, int], Chord] = {}
    for item in text.replace(",", " ").split():
        match = _SWAP_RE.match(item)
        if not match or int(match.group(1)) < 1 or int(match.group(2)) < 1:
            raise InputError(f"bad swap {item!r}; write SAMPLE.POSITION:CHORD with 1-based numbers, e.g. '2.3:Am'")
        swaps[(int(match.group(1)) - 1, int(match.group(2)) - 1)] = parse_symbol(match.group(3))
    return swaps


def _reason(error: BaseException) -> str:
    return str(error).strip().rstrip(".") or type(error).__name__


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


