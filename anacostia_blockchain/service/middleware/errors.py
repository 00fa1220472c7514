"""The API's one error format, ``{"error": {"type": <error class>, "message": ...}}``, and the status of each error.

Every error answer is built here: by the app's exception handlers (:func:`install_error_handlers`) and by the raw
ASGI middleware that answer before the app runs (:func:`send_error`: rate limit, request size).

- every :class:`AnacostiaError` gets the status of the most specific class of its MRO in :data:`STATUS_BY_ERROR`; a
  contract revert also carries ``revert: {name, args}``, a rate limit a ``Retry-After`` header, a 401 a
  ``WWW-Authenticate: Bearer`` header;
- request validation is a 422 ``ValidationError`` — a body that is not even JSON (or not UTF-8) too — an unknown
  route a 404 ``NotFoundError``, a method the route does not serve a 405 ``MethodNotAllowedError`` with ``Allow``;
- an index database error is a 500 ``MetadataStoreError`` naming only the exception class, anything else a 500 with
  a generic message — internals are not echoed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Send

from ...errors import (
    AnacostiaError,
    AuthError,
    ChainConnectionError,
    ChainError,
    ConfigurationError,
    ContentNotFoundError,
    ContractRevertError,
    LicenseRequiredError,
    MetadataStoreError,
    MethodNotAllowedError,
    NotFoundError,
    PriceFeedError,
    RateLimitedError,
    RemoteUnavailableError,
    RequestTooLargeError,
    RunNotFoundError,
    ServiceError,
    StorageError,
    ValidationError,
)
from ...sql import DatabaseError, store_error

log = logging.getLogger(__name__)

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

#: HTTP status per error class; the most specific class in an exception's MRO wins.
STATUS_BY_ERROR: dict[type[AnacostiaError], int] = {
    ValidationError: 422,
    RequestTooLargeError: 413,
    NotFoundError: 404,
    RunNotFoundError: 404,
    ContentNotFoundError: 404,
    AuthError: 401,
    LicenseRequiredError: 403,
    RateLimitedError: 429,
    MethodNotAllowedError: 405,
    ContractRevertError: 409,
    PriceFeedError: 503,
    ConfigurationError: 503,
    ChainConnectionError: 503,
    RemoteUnavailableError: 503,
    ChainError: 502,
    StorageError: 502,
    MetadataStoreError: 500,
}


def status_for(exc: AnacostiaError) -> int:
    """The status of the most specific class of ``exc`` listed in :data:`STATUS_BY_ERROR` (500 when none is)."""
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_body(type_name: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every error answer."""
    return {"error": {"type": type_name, "message": message, **extra}}


def error_response(
    status: int, type_name: str, message: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    sent = dict(headers or {})
    if status == 401:
        sent["WWW-Authenticate"] = "Bearer"
    return JSONResponse(error_body(type_name, message, **extra), status_code=status, headers=sent or None)


async def send_error(send: Send, error: AnacostiaError, headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
    """Answer with ``error`` (status by :func:`status_for`) straight from an ASGI middleware, before any app runs."""
    body = json.dumps(error_body(type(error).__name__, str(error))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status_for(error),
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _anacostia(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AnacostiaError)
    status = status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, ContractRevertError) and exc.error_name:
        extra["revert"] = {"name": exc.error_name, "args": [str(a) for a in exc.error_args]}
    if status >= 500:
        log.warning("request failed with %s: %s", type(exc).__name__, exc)
    response = error_response(status, type(exc).__name__, str(exc), **extra)
    if isinstance(exc, RateLimitedError):
        response.headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    return response


async def _database(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DatabaseError)
    error = store_error("index database", exc, detail=False)
    log.warning("%s", error)
    return error_response(500, type(error).__name__, str(error))


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}" for err in exc.errors()
    )
    return error_response(422, "ValidationError", problems or "invalid request")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves at the request's path (Starlette names those of the first route only)."""
    routes = request.app.router.routes
    allowed = []
    for method in _METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in routes):
            allowed.append(method)
    return ", ".join(allowed)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's and FastAPI's own HTTP errors (unknown route, wrong method, a body that cannot be decoded) as
    errors of the tree, keeping their headers (``Allow`` on a 405, listing every method served at the path)."""
    assert isinstance(exc, StarletteHTTPException)
    error: AnacostiaError
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        error = NotFoundError(str(exc.detail))
    elif exc.status_code == 405:
        error = MethodNotAllowedError(f"{request.method} is not served at {request.url.path}")
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    elif exc.status_code == 400:  # FastAPI's "There was an error parsing the body" (e.g. not UTF-8)
        error = ValidationError(f"request body: {exc.detail}")
    else:
        error = ServiceError(str(exc.detail))
    status = status_for(error) if exc.status_code in (400, 404, 405) else exc.status_code
    return error_response(status, type(error).__name__, str(error), headers=headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(500, "InternalError", "internal error (logged on the server)")


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error raised while serving a request in the format of the module docstring."""
    app.add_exception_handler(AnacostiaError, _anacostia)
    app.add_exception_handler(DatabaseError, _database)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
