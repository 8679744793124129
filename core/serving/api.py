"""The HTTP generation API (FastAPI): the same core functions the studio pages call, over JSON.

``create_app(model)`` returns the app; ``python -m core serve`` runs it on uvicorn. The model is
loaded once, when the app starts (lifespan), and shared by every request.

Endpoints::

    POST /generate     sample progressions (conditions, length, temperature, top-k/p, seed chords, locks…)
    POST /next         the composer: ranked next chords after a progression, or what fits between two stretches
    POST /score        per-chord probabilities, surprise, likelihood, perplexity (optionally a genre/mood posterior)
    GET  /conditions   accepted genres, moods, keys, scale types, the chord vocabulary and the request limits
    GET  /health       status and the loaded model
    GET  /openapi.json the OpenAPI schema (/docs renders it)

Request bodies are pydantic models: types, ranges, known labels and parseable chord symbols are
checked before the model runs, and unknown fields are refused. Typed chords are read as the command
line reads them (:func:`core.chords.read_symbol`): ``G7sus4`` is accepted as its nearest vocabulary
chord, and the answer's ``notes`` say so. The sampling settings' fields are
derived from :class:`core.config.GenerationSettings` (type, default, limits, description) and
checked by the same :meth:`core.config.Setting.check` the command line and the Generate page use,
so every surface accepts the same values. Every refusal (a body that is not JSON, NaN or an
infinity included) is a 422 whose ``detail`` gives the reason; an :class:`core.errors.InputError`
raised by core (e.g. a lock outside the length) is a 422 too.

Bounded work. Each model request states its cost in decoder row-steps before it runs
(:meth:`work`: a /generate request's :func:`core.generation.locks.lock_work`, doubled when guidance
runs a second, condition-open chain; /score's chords times the values ranked; /next's candidates
times the chords after the gap). A /generate request over :data:`MAX_LOCK_WORK` is refused with a
422 saying what it would cost; /score and /next cannot exceed it within their field limits. A
request over :data:`HEAVY_WORK` is heavy: it runs only in one of the server's heavy slots (half the
CPU cores by default, at least one); when every slot is busy it waits in a short queue
(:data:`QUEUE_PER_SLOT` per slot, in arrival order, at most :data:`QUEUE_WAIT_S`), and beyond that it
is answered at once with 503 and ``Retry-After``, so a burst of heavy requests never piles up
threads or memory while light ones (the usual short progressions) keep being served. ``/health`` names the
model by its run name and weights digest (:func:`core.generation.identity.model_identity`), never a path.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, create_model, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.chords import VOCAB, read_symbol
from core.conditions import GENRES, KEYS, MOODS, SCALE_TYPES, UNSPECIFIED, Conditions
from core.config import ComposerSettings, GenerationSettings, Setting
from core.errors import InputError

#: most chords in one progression (seed chords, locks and scored progressions included): the length limit.
MAX_LENGTH = int(GenerationSettings.settings()["length"].high)
#: most progressions one /score request may hold.
MAX_PROGRESSIONS = 100
#: most decoder row-steps one /generate request may cost (:meth:`work`): a few seconds of one core (about 26 µs each).
MAX_LOCK_WORK = 250_000
#: a request costing more row-steps than this is heavy: it needs a heavy slot (about half a second of one core).
HEAVY_WORK = 20_000
#: heavy requests that may wait for a slot, per slot; one more is refused at once (503).
QUEUE_PER_SLOT = 2
#: longest a queued heavy request waits for a slot before it is refused (503).
QUEUE_WAIT_S = 60.0
#: seconds a heavy request refused for want of a slot is told to wait (``Retry-After``).
RETRY_AFTER_S = 2

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

    position: int = Field(ge=1, le=MAX_LENGTH)
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

    seed_chords: list[Symbol] = Field(default_factory=list, max_length=MAX_LENGTH)
    locks: list[Lock] = Field(default_factory=list, max_length=MAX_LENGTH)

    @field_validator("seed_chords")
    @classmethod
    def _seeds_are_known(cls, symbols: list[str]) -> list[str]:
        return [_check_symbol(s) for s in symbols]

    @model_validator(mode="after")
    def _settings_agree(self):
        from core.generation.generate import validate_request

        positions = [lock.position for lock in self.locks]
        if len(set(positions)) != len(positions):
            raise ValueError("two locks at the same position")
        validate_request(self.conditions(), self.settings(), self.seed_chords, self.locks_at())  # seeds/locks fit
        work = self.work()
        if work > MAX_LOCK_WORK:
            raise ValueError(f"this request would cost about {work:,} decoder steps (limit {MAX_LOCK_WORK:,}): "
                             f"{self.num_samples} samples x {self.length} chords, locks up to position "
                             f"{max(positions, default=0)}, {self.gibbs_passes} Gibbs passes; ask for fewer samples "
                             "or Gibbs passes, a shorter length, or lock earlier positions")
        return self

    def work(self) -> int:
        """Decoder row-steps this request costs (an upper bound): :func:`lock_work`, twice over under guidance."""
        positions = [lock.position for lock in self.locks]
        work = lock_work(self.length, self.num_samples, len(self.seed_chords), positions, self.gibbs_passes)
        return work * _guidance_factor(self.guidance, self.conditions())

    def settings(self) -> GenerationSettings:
        """The sampling settings, as the fields hold them (each already checked by its setting)."""
        return GenerationSettings(**{name: getattr(self, name) for name in GenerationSettings.settings()})

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
        """Decoder row-steps: every progression's chords (and END), once more per value ranked."""
        from core.generation.score import rankable_values

        chains = 1 + (len(rankable_values(self.rank)) if self.rank else 0)
        return chains * sum(len(text.split()) + 1 for text in self.progressions)


class _NextRequestBase(ConditionFields):
    """``POST /next``: the chords so far (and, for a gap, the chords after it); see :data:`NextRequest`."""

    chords: list[Symbol] = Field(default_factory=list, max_length=MAX_LENGTH - 1,
                                 description="the progression so far (empty: rank opening chords)")
    followed_by: list[Symbol] = Field(default_factory=list, max_length=MAX_LENGTH - 1,
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
        return steps * _guidance_factor(self.guidance, self.conditions())


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


def _guidance_factor(weight: float, conditions: Conditions) -> int:
    """2 when guidance runs a second, condition-open chain beside the conditioned one (a weight and a genre or mood), else 1."""
    guided = weight > 0 and (conditions.genre != UNSPECIFIED or conditions.mood != UNSPECIFIED)
    return 2 if guided else 1


def default_heavy_slots() -> int:
    """Heavy requests served at once by default: half the CPU cores, at least one (each runs on one core)."""
    return max(1, (os.cpu_count() or 2) // 2)


class HeavySlots:
    """At most ``count`` heavy requests run at once and ``queue`` more wait their turn; one more gets 503 at once.

    A queued request waits for a free slot, in arrival order, up to :data:`QUEUE_WAIT_S`; a request
    finding the queue full, or still waiting then, is answered 503 with ``Retry-After``. So at most
    ``count + queue`` server threads ever hold heavy work, whatever arrives.
    """

    def __init__(self, count: int, queue: int | None = None) -> None:
        if count < 1:
            raise InputError(f"heavy slots must be at least 1, got {count}")
        self.count = count
        self.queue = QUEUE_PER_SLOT * count if queue is None else max(0, queue)
        self.waiting = 0
        self._free = threading.Semaphore(count)
        self._counter = threading.Lock()

    @contextmanager
    def taken(self, work: int) -> Iterator[None]:
        """Run the block in a slot when ``work`` is above :data:`HEAVY_WORK` (light work runs at once)."""
        if work <= HEAVY_WORK:
            yield
            return
        if not self._free.acquire(blocking=False):
            self._wait_in_line(work)
        try:
            yield
        finally:
            self._free.release()

    def _wait_in_line(self, work: int) -> None:
        with self._counter:
            full = self.waiting >= self.queue
            if not full:
                self.waiting += 1
        if full:
            raise self._busy(work, f"{self.count} heavy request(s) running and {self.queue} waiting")
        try:
            taken = self._free.acquire(timeout=QUEUE_WAIT_S)
        finally:
            with self._counter:
                self.waiting -= 1
        if not taken:
            raise self._busy(work, f"no heavy slot came free within {QUEUE_WAIT_S:g} s")

    @staticmethod
    def _busy(work: int, why: str) -> StarletteHTTPException:
        return StarletteHTTPException(
            status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)},
            detail=f"the server is busy: {why} (this request costs about {work:,} decoder steps, over {HEAVY_WORK:,}); "
            f"try again in {RETRY_AFTER_S} s, or ask for less")


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity (e.g. a refused input echoed in an error) replaced by its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def generation_limits() -> dict[str, float]:
    """``min_<setting>``/``max_<setting>`` of every bounded generation setting (and ``max_samples``, its older name)."""
    limits: dict[str, float] = {}
    for name, spec in GenerationSettings.settings().items():
        if spec.low is not None:
            limits[f"min_{name}"] = spec.low
        if spec.high is not None:
            limits[f"max_{name}"] = spec.high
    return {**limits, "max_samples": limits["max_num_samples"]}


def _unprocessable(message: str, kind: str) -> JSONResponse:
    """A 422 in FastAPI's own validation-error shape, so every 422 matches the documented schema."""
    return JSONResponse(status_code=422, content={"detail": [{"loc": ["body"], "msg": message, "type": kind}]})


def _answer_bad_input_with_422(app: FastAPI) -> None:
    """Every refusal as a JSON-safe 422: core's InputError, pydantic's validation errors, a body that is not JSON."""

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return _unprocessable(str(exc), "value_error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own reply echoes the refused input, which JSON cannot carry when it is NaN or an infinity
        return JSONResponse(status_code=422, content={"detail": json_safe(jsonable_encoder(exc.errors()))})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # a body that is not JSON at all (undecodable bytes) is bad input like any other: 422, not 400
        if exc.status_code == 400:
            return _unprocessable(str(exc.detail), "json_invalid")
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)


def generated(generator, request: GenerateRequest) -> GenerateResponse:
    """``POST /generate``'s answer: the request's one :class:`GenerationSettings` handed to generation as it is."""
    from core.generation.generate import generate

    samples = generate(generator, request.conditions(), request.settings(), seed_chords=request.seed_chords,
                       locks=request.locks_at())
    return GenerateResponse(samples=[SampleOut(**s.to_dict()) for s in samples], backend=generator.backend)


def ranked_next(generator, request: NextRequest) -> NextResponse:
    """``POST /next``'s answer: :func:`core.generation.composer.next_chords` for the request."""
    from core.generation.composer import next_chords

    ranking = next_chords(generator, request.chords, request.conditions(), followed_by=request.followed_by,
                          in_key=request.in_key, top=request.top, ends=request.ends, guidance=request.guidance)
    return NextResponse(ranking=[RankedOut(**r) for r in ranking.to_list()], key=ranking.key, notes=ranking.notes)


def scored(generator, request: ScoreRequest) -> ScoreResponse:
    """``POST /score``'s answer: each progression scored, with reading notes, and ranked when asked."""
    from core.generation.calibration import clear_fit
    from core.generation.chord_input import read_chords, reading_notes
    from core.generation.score import rank_condition, score_progressions

    conditions = request.conditions()
    results = score_progressions(generator, request.progressions, conditions, ends=request.ends)
    for result, text in zip(results, request.progressions, strict=True):
        result["notes"] = reading_notes(read_chords(text))
        if request.rank:
            result["posterior"] = rank_condition(generator, text, conditions, request.rank, ends=request.ends)
            result["best_fit"] = clear_fit(result["posterior"])
    return ScoreResponse(results=[ScoreOut(**r) for r in results])


def create_app(model: str | Path | None = None, generator=None, heavy_slots: int | None = None,
               heavy_queue: int | None = None) -> FastAPI:
    """The API app. ``model`` is a run folder or ``.keras`` file (``None``: the active model), loaded at
    startup; ``generator`` (a :class:`core.generation.loading.Generator`) is used as is when given.
    ``heavy_slots``: heavy requests served at once (default :func:`default_heavy_slots`); ``heavy_queue``:
    how many more may wait (default :data:`QUEUE_PER_SLOT` per slot)."""
    slots = HeavySlots(default_heavy_slots() if heavy_slots is None else heavy_slots, heavy_queue)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from core.generation.loading import load_generator

        app.state.generator = generator if generator is not None else load_generator(model)
        app.state.identity = _identity(app.state.generator)
        yield

    app = FastAPI(title="Chordsmith API", version="1", lifespan=lifespan,
                  description="Conditional chord-progression generation and scoring.")
    app.state.heavy_slots = slots
    _answer_bad_input_with_422(app)

    @app.post("/generate", response_model=GenerateResponse, responses=BUSY_RESPONSE)
    def generate_endpoint(request: GenerateRequest) -> GenerateResponse:
        """Sample progressions under the given conditions."""
        with slots.taken(request.work()):
            return generated(app.state.generator, request)

    @app.post("/next", response_model=NextResponse, responses=BUSY_RESPONSE)
    def next_endpoint(request: NextRequest) -> NextResponse:
        """The most probable next chords (or what fits in the gap), most probable first."""
        with slots.taken(request.work()):
            return ranked_next(app.state.generator, request)

    @app.post("/score", response_model=ScoreResponse, responses=BUSY_RESPONSE)
    def score_endpoint(request: ScoreRequest) -> ScoreResponse:
        """Score progressions (and rank a condition when asked)."""
        with slots.taken(request.work()):
            return scored(app.state.generator, request)

    @app.get("/conditions", response_model=ConditionsResponse)
    def conditions_endpoint() -> ConditionsResponse:
        """The labels and chord symbols requests may use, and the request limits."""
        return ConditionsResponse(
            genres=list(GENRES), moods=list(MOODS), keys=list(KEYS), scale_types=list(SCALE_TYPES),
            vocabulary=[c.symbol for c in VOCAB.chords if c is not None],
            limits={**generation_limits(), "max_progressions": MAX_PROGRESSIONS, "max_lock_work": MAX_LOCK_WORK,
                    "heavy_work": HEAVY_WORK},
        )

    @app.get("/health", response_model=HealthResponse)
    def health_endpoint() -> HealthResponse:
        """``ok`` once the model is loaded, with its name and weights version (no filesystem path)."""
        name, version = app.state.identity
        return HealthResponse(status="ok", model=name, version=version, backend=app.state.generator.backend,
                              heavy_slots=slots.count, heavy_queue=slots.queue)

    return app


#: the documented 503 of the model endpoints (every heavy slot busy).
BUSY_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {"description": "every heavy slot is busy and the queue full: retry after the Retry-After header's seconds"},
}


def _identity(generator) -> tuple[str, str | None]:
    """``(name, version)`` of the served model for /health: run name and weights digest; an ensemble has no version."""
    from core.generation.identity import model_identity

    if generator.model_file is None:
        return "ensemble", None
    identity = model_identity(generator)
    return identity.name, identity.digest
