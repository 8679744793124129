"""The HTTP API's request and response bodies (pydantic), their limits derived from :mod:`core.config`.

Request bodies check types, ranges, known labels and parseable chord symbols before the model runs,
and refuse unknown fields. Typed chords are read as the command line reads them
(:func:`core.chords.read_symbol`): ``G7sus4`` is accepted as its nearest vocabulary chord, and the
answer's ``notes`` say so. The sampling settings' fields are derived from
:class:`core.config.GenerationSettings` (type, default, limits, description) and checked by the same
:meth:`core.config.Setting.check` the command line and the Generate page use; a ``/generate`` body
builds its one :class:`GenerationSettings` when it is validated (:meth:`GenerateRequest.settings`),
and that object is what generation gets. Progressions hold at most :data:`core.config.MAX_CHORDS` chords.

Each model request states its cost in decoder row-steps (``work()``: a /generate request's
:func:`core.generation.locks.lock_work`, doubled when guidance runs a second, condition-open chain;
/score's chords times the values ranked, plus :data:`SCORE_CHORD_COST` a chord for the rest of its work;
/next's candidates times the chords after the gap). A /generate request over :data:`MAX_LOCK_WORK` is
refused with a 422 saying what it would cost; /score and /next cannot exceed it within their field limits.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, create_model, field_validator, model_validator

from core.chords import read_symbol
from core.conditions import GENRES, MOODS, SCALE_TYPES, Conditions
from core.config import MAX_CHORDS, MAX_GENERATION_WORK, ComposerSettings, GenerationSettings, Setting
from core.errors import InputError
from core.vocabulary import VOCAB

#: most progressions one /score request may hold.
MAX_PROGRESSIONS = 100
#: most decoder row-steps one /generate request may cost (``work()``): the one limit of every surface, from core.config.
MAX_LOCK_WORK = MAX_GENERATION_WORK
#: what /score spends on each chord besides decoding it (reading its symbol and notes, spelling it, its Roman
#: numeral), in row-steps: measured on 100 progressions x 64 chords, 2.5 CPU-s against 0.4 s for the decoding alone.
SCORE_CHORD_COST = 5

Symbol = Annotated[str, Field(min_length=1, max_length=24, description="a chord symbol, e.g. 'Am7', 'F#dim', 'G/B'")]
Genre = Literal[GENRES]  # type: ignore[valid-type]
Mood = Literal[MOODS]  # type: ignore[valid-type]
ScaleType = Literal[SCALE_TYPES]  # type: ignore[valid-type]


def _check_symbol(symbol: str) -> str:
    try:
        read_symbol(symbol)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return symbol


def _progression(text: str) -> list[str]:
    """The typed symbols of a progression to score, read and capped as the command line's ``score`` reads them."""
    from core.generation.analysis import read_scored

    try:
        read_scored(text)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    return text.replace(",", " ").replace("|", " ").split()


def lock_work(length: int, num_samples: int, seeds: int, lock_positions: list[int], passes: int) -> int:
    """Decoder row-steps a request with ``seeds`` seed chords and 1-based ``lock_positions`` takes (an upper bound,
    :func:`core.generation.locks.lock_work`)."""
    from core.generation.locks import lock_work as work

    return work(length, num_samples, set(range(seeds)) | {p - 1 for p in lock_positions}, passes)


class ConditionFields(BaseModel):
    """The labels to generate or score under; omitted or ``unspecified`` leaves a condition open."""

    model_config = ConfigDict(extra="forbid")

    genre: Genre = "unspecified"
    mood: Mood = "unspecified"
    key: str = Field("unspecified", max_length=24, description="e.g. 'C', 'Am', 'Eb major', 'F# minor'")
    scale_type: ScaleType = "unspecified"

    @model_validator(mode="after")
    def _labels_agree(self):
        self.conditions()  # raises InputError (a ValueError) for an unknown key or a key/scale clash
        return self

    def conditions(self) -> Conditions:
        """The validated :class:`Conditions`."""
        return Conditions.parse(genre=self.genre, mood=self.mood, key=self.key, scale_type=self.scale_type)


class Lock(BaseModel):
    """A chord kept fixed at a 1-based position."""

    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=1, le=MAX_CHORDS)
    chord: Symbol

    @field_validator("chord")
    @classmethod
    def _chord_is_known(cls, symbol: str) -> str:
        return _check_symbol(symbol)


def setting_field(spec: Setting) -> tuple[Any, Any]:
    """A pydantic field definition for a :mod:`core.config` setting: its type, default, limits and help.

    The value is checked by :meth:`Setting.check` first (NaN, infinities and fractions for whole
    numbers refused with its message); the ``ge``/``le``/``gt``/``lt`` limits document it in the schema.
    """
    kind = spec.kind | None if spec.optional else spec.kind
    return Annotated[kind, BeforeValidator(spec.check)], Field(spec.default, description=spec.help, **spec.bounds())


class _GenerateRequestBase(ConditionFields):
    """``POST /generate``: conditions, seed chords, locks and the sampling settings (see :data:`GenerateRequest`)."""

    seed_chords: list[Symbol] = Field(default_factory=list, max_length=MAX_CHORDS)
    locks: list[Lock] = Field(default_factory=list, max_length=MAX_CHORDS)

    @field_validator("seed_chords")
    @classmethod
    def _seeds_are_known(cls, symbols: list[str]) -> list[str]:
        return [_check_symbol(s) for s in symbols]

    _settings: GenerationSettings = PrivateAttr()

    @model_validator(mode="after")
    def _settings_agree(self):
        from core.generation.generate import validate_request

        positions = [lock.position for lock in self.locks]
        if len(set(positions)) != len(positions):
            raise ValueError("two locks at the same position")
        self._settings = GenerationSettings(**{name: getattr(self, name) for name in GenerationSettings.settings()})
        # seeds and locks fit, and the work is within MAX_LOCK_WORK: the command line's and the page's check
        validate_request(self.conditions(), self._settings, self.seed_chords, self.locks_at())
        return self

    def work(self) -> int:
        """Decoder row-steps this request costs (an upper bound): :func:`core.generation.locks.request_work`, the
        cost model every surface refuses by."""
        from core.generation.locks import request_work

        fixed = set(range(len(self.seed_chords))) | {lock.position - 1 for lock in self.locks}
        return request_work(self._settings, self.conditions(), fixed)

    def settings(self) -> GenerationSettings:
        """The request's one :class:`GenerationSettings`, built from its fields when the body was validated."""
        return self._settings

    def locks_at(self) -> dict[int, str]:
        """The locked chords by 0-based position."""
        return {lock.position - 1: lock.chord for lock in self.locks}


#: ``POST /generate``'s body: one field per :class:`core.config.GenerationSettings` setting (a new
#: setting there is a new field here) on top of the conditions, seed chords and locks.
GenerateRequest = create_model(
    "GenerateRequest", __base__=_GenerateRequestBase,
    __doc__="``POST /generate``: sampling settings (same meaning as ``python -m core generate``).",
    **{name: setting_field(spec) for name, spec in GenerationSettings.settings().items()},
)


class ScoreRequest(ConditionFields):
    """``POST /score``: progressions as strings of chord symbols (``"C G Am F"``)."""

    progressions: list[Annotated[str, Field(min_length=1, max_length=1000)]] = Field(
        min_length=1, max_length=MAX_PROGRESSIONS,
    )
    ends: bool = Field(False, description="count the model's p(END) after the last chord")
    rank: Literal["genre", "mood"] | None = Field(None, description="also give the posterior over this condition")

    @field_validator("progressions")
    @classmethod
    def _progressions_parse(cls, texts: list[str]) -> list[str]:
        return [" ".join(_progression(t)) for t in texts]

    def work(self) -> int:
        """Row-steps: every progression's chords (and END) decoded once, and once more per value ranked, plus
        :data:`SCORE_CHORD_COST` for what each chord costs besides its decoding."""
        from core.generation.score import rankable_values

        chains = 1 + (len(rankable_values(self.rank)) if self.rank else 0)
        return (chains + SCORE_CHORD_COST) * sum(len(text.split()) + 1 for text in self.progressions)


class _NextRequestBase(ConditionFields):
    """``POST /next``: the chords so far (and, for a gap, the chords after it); see :data:`NextRequest`."""

    chords: list[Symbol] = Field(default_factory=list, max_length=MAX_CHORDS - 1,
                                 description="the progression so far (empty: rank opening chords)")
    followed_by: list[Symbol] = Field(default_factory=list, max_length=MAX_CHORDS - 1,
                                      description="the chords after the gap: rank what fits between")
    ends: bool = Field(False, description="the progression ends after followed_by, or right after the chord asked "
                       "for when nothing follows (counts the model's p(END))")

    @field_validator("chords", "followed_by")
    @classmethod
    def _symbols_are_known(cls, symbols: list[str]) -> list[str]:
        return [_check_symbol(s) for s in symbols]

    def work(self) -> int:
        """Decoder row-steps: the chords before the gap, then every candidate chord through the chords after it."""
        candidates = sum(chord is not None for chord in VOCAB.chords)
        steps = len(self.chords) + 1 + candidates * (len(self.followed_by) + 1)
        return steps * guidance_factor(self.guidance, self.conditions())


#: ``POST /next``'s body: the chords, plus ``in_key`` and ``guidance`` (from :class:`core.config.GenerationSettings`)
#: and ``top`` (from :class:`core.config.ComposerSettings`) with their limits from there.
NextRequest = create_model(
    "NextRequest", __base__=_NextRequestBase,
    __doc__="``POST /next``: same meaning as ``python -m core next``.",
    in_key=setting_field(GenerationSettings.settings()["in_key"]),
    guidance=setting_field(GenerationSettings.settings()["guidance"]),
    top=setting_field(ComposerSettings.settings()["top"]),
)


class RankedOut(BaseModel):
    """One candidate chord, spelled in the key, and its probability there."""

    chord: str
    probability: float


class NextResponse(BaseModel):
    ranking: list[RankedOut]
    key: str
    notes: list[str]


class SampleOut(BaseModel):
    """One generated progression."""

    chords: list[str]
    roman: list[str]
    roman_key: str
    probabilities: list[float]
    conditions: dict[str, str]
    ended: bool
    locked: list[int]
    notes: list[str] = []
    durations: list[int] | None = Field(None, description="beats per chord, from a model that predicts durations (a "
                                        "song-context model); absent for one that does not")


class GenerateResponse(BaseModel):
    samples: list[SampleOut]
    backend: str


class ScoreOut(BaseModel):
    """One scored progression."""

    chords: list[str]
    probabilities: list[float]
    surprise: list[float]
    log_likelihood: float
    perplexity: float
    conditions: dict[str, str]
    end_probability: float | None = None
    posterior: dict[str, float] | None = Field(None, description="with rank: the calibrated posterior over the "
                                               "condition's values, most likely first")
    best_fit: str | None = Field(None, description="with rank: the top value when it is at least twice as likely as "
                                 "the runner-up; null when there is no clear fit")
    notes: list[str] = Field(default_factory=list, description="how typed symbols outside the vocabulary were read")


class ScoreResponse(BaseModel):
    results: list[ScoreOut]


class ConditionsResponse(BaseModel):
    genres: list[str]
    moods: list[str]
    keys: list[str]
    scale_types: list[str]
    vocabulary: list[str]
    limits: dict[str, float]


class HealthResponse(BaseModel):
    status: str
    model: str = Field(description="the model's name: its run folder ('default' for the shipped model)")
    version: str | None = Field(description="the first hex digits of the sha256 of the weights it runs "
                                "(null for an ensemble)")
    backend: str
    heavy_slots: int = Field(description="heavy requests served at once")
    heavy_queue: int = Field(description="heavy requests that may wait for a slot (more get 503 and Retry-After)")


def guidance_factor(weight: float, conditions: Conditions) -> int:
    """2 when guidance runs a second, condition-open chain beside the conditioned one (a weight and a genre or mood),
    else 1: :func:`core.generation.locks.guidance_factor`, the one cost model."""
    from core.generation.locks import guidance_factor as factor

    return factor(weight, conditions)


def generation_limits() -> dict[str, float]:
    """``min_<setting>``/``max_<setting>`` of every bounded generation setting (and ``max_samples``, its older name)."""
    limits: dict[str, float] = {}
    for name, spec in GenerationSettings.settings().items():
        if spec.low is not None:
            limits[f"min_{name}"] = spec.low
        if spec.high is not None:
            limits[f"max_{name}"] = spec.high
    return {**limits, "max_samples": limits["max_num_samples"]}
