"""Every refusal of the HTTP API as a JSON-safe 422 in FastAPI's own validation-error shape.

Core's :class:`core.errors.InputError` (e.g. a lock outside the length), pydantic's validation
errors (NaN and infinities echoed as text, which JSON cannot carry as numbers) and a body that is
not JSON at all are each a 422 whose ``detail`` gives the reason; other HTTP errors (the 503 of a
busy server) keep their status and headers.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import InputError
from core.serving.request_limits import safe_text, safe_value

#: most characters of one error message, and most errors listed, in a 422.
MESSAGE_CHARS = 400
MAX_ERRORS = 20


def json_safe(value: Any) -> Any:
    """``value`` with every NaN or infinity (e.g. a refused input echoed in an error) replaced by its text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    return value


def _unprocessable(message: str, kind: str) -> JSONResponse:
    """A 422 in FastAPI's own validation-error shape, so every 422 matches the documented schema.

    The message is made safe to send (:func:`core.serving.request_limits.safe_text`): a character that cannot be
    encoded, such as a lone surrogate quoted from the input, is written as its escape.
    """
    return JSONResponse(status_code=422, content={"detail": [{"loc": ["body"], "msg": safe_text(message, MESSAGE_CHARS),
                                                              "type": kind}]})


def safe_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """pydantic's errors made safe to echo: the refused ``input`` cut to a short excerpt, every text encodable."""
    safe = []
    for error in errors:
        entry = {key: safe_value(value, MESSAGE_CHARS) for key, value in error.items() if key not in ("input", "ctx")}
        if "input" in error:
            entry["input"] = safe_value(error["input"])
        if isinstance(error.get("ctx"), dict):
            entry["ctx"] = {str(key): safe_value(value) for key, value in error["ctx"].items()}
        safe.append(entry)
    return safe


def answer_bad_input_with_422(app: FastAPI) -> None:
    """Every refusal as a JSON-safe 422: core's InputError, pydantic's validation errors, a body that is not JSON."""

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return _unprocessable(str(exc), "value_error")

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own reply echoes the refused input whole (10 MB in, 10 MB out), and JSON cannot carry NaN, an
        # infinity or a lone surrogate: an excerpt of it, every text encodable, every number finite
        errors = safe_errors(list(exc.errors())[:MAX_ERRORS])
        return JSONResponse(status_code=422, content={"detail": json_safe(jsonable_encoder(errors))})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # a body that is not JSON at all (undecodable bytes) is bad input like any other: 422, not 400
        if exc.status_code == 400:
            return _unprocessable(str(exc.detail), "json_invalid")
        return JSONResponse(status_code=exc.status_code, content={"detail": exc.detail}, headers=exc.headers)
