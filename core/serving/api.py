"""The HTTP generation API (FastAPI): the same core functions the studio pages call, over JSON.

``create_app(model)`` returns the app; ``python -m core serve`` runs it on uvicorn. The model is
loaded once, when the app starts (lifespan), and shared by every request.

Endpoints::

    POST /generate     sample progressions (conditions, length, temperature, top-k/p, seed chords, locks…)
    POST /next         the composer: ranked next chords after a progression, or what fits between two stretches
    POST /score        per-chord probabilities, surprise, likelihood, perplexity (optionally a genre/mood posterior)
    POST /song         a whole song: sections with labels, chords and durations in beats (core.serving.song)
    GET  /conditions   accepted genres, moods, keys, scale types, the chord vocabulary and the request limits
    GET  /health       status and the loaded model
    GET  /openapi.json the OpenAPI schema (/docs renders it)

Request and response bodies are :mod:`core.serving.schemas` (their limits from :mod:`core.config`);
admission of heavy requests (slots, a short queue, 503 with ``Retry-After``) is
:mod:`core.serving.admission`; every refusal is a 422 (:mod:`core.serving.errors`). ``/health`` names
the model by its run name and weights digest (:func:`core.generation.identity.model_identity`), never a path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from core.conditions import GENRES, KEYS, MOODS, SCALE_TYPES
from core.serving.admission import BUSY_RESPONSE, HEAVY_WORK, HeavySlots, default_heavy_slots
from core.serving.errors import answer_bad_input_with_422
from core.serving.request_limits import bound_requests, stated_limits
from core.serving.schemas import (
    MAX_LOCK_WORK,
    MAX_PROGRESSIONS,
    ConditionsResponse,
    GenerateRequest,
    GenerateResponse,
    HealthResponse,
    NextRequest,
    NextResponse,
    RankedOut,
    SampleOut,
    ScoreOut,
    ScoreRequest,
    ScoreResponse,
    generation_limits,
)
from core.serving.song import add_song_route
from core.vocabulary import VOCAB


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
               heavy_queue: int | None = None, request_seconds: float | None = None) -> FastAPI:
    """The API app. ``model`` is a run folder or ``.keras`` file (``None``: the active model), loaded at
    startup; ``generator`` (a :class:`core.generation.loading.Generator`) is used as is when given.
    ``heavy_slots``/``heavy_queue``: heavy requests served at once and waiting (default :func:`default_heavy_slots`,
    :data:`QUEUE_PER_SLOT` per slot); ``request_seconds``: a deadline (:func:`request_limits.bound_requests`)."""
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
    answer_bad_input_with_422(app)
    bound_requests(app, request_seconds)

    @app.post("/generate", response_model=GenerateResponse, responses=BUSY_RESPONSE,
              response_model_exclude_none=True)  # durations only from a model that predicts them
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

    add_song_route(app)

    _add_info_routes(app, slots)
    return app


def _add_info_routes(app: FastAPI, slots: HeavySlots) -> None:
    """The light, read-only routes: what requests may hold (/conditions) and whether the model is up (/health)."""

    @app.get("/conditions", response_model=ConditionsResponse)
    def conditions_endpoint() -> ConditionsResponse:
        """The labels and chord symbols requests may use, and the request limits."""
        return ConditionsResponse(
            genres=list(GENRES), moods=list(MOODS), keys=list(KEYS), scale_types=list(SCALE_TYPES),
            vocabulary=[c.symbol for c in VOCAB.chords if c is not None],
            limits={**generation_limits(), "max_progressions": MAX_PROGRESSIONS, "max_lock_work": MAX_LOCK_WORK,
                    "heavy_work": HEAVY_WORK, **stated_limits()},
        )

    @app.get("/health", response_model=HealthResponse)
    def health_endpoint() -> HealthResponse:
        """``ok`` once the model is loaded, with its name and weights version (no filesystem path)."""
        name, version = app.state.identity
        return HealthResponse(status="ok", model=name, version=version, backend=app.state.generator.backend,
                              heavy_slots=slots.count, heavy_queue=slots.queue)


def _identity(generator) -> tuple[str, str | None]:
    """``(name, version)`` of the served model for /health: run name and weights digest; an ensemble has no version."""
    from core.generation.identity import model_identity

    if generator.model_file is None:
        return "ensemble", None
    identity = model_identity(generator)
    return identity.name, identity.digest
