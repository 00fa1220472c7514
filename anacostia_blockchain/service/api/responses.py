"""The error statuses of the API's operations, as the OpenAPI document states them.

Every error answer has the one body :class:`~.bodies.ErrorBody`. A route declares the statuses its own code can
produce with :func:`errors` (``responses=errors(404, 503)``); :func:`document_errors` then adds to *every* operation
of the document what the app's outer layers answer for any of them:

- ``413`` — a request body over the size limit (``middleware/request_limit.py``, any method);
- ``429`` — the client's rate limit (``middleware/ratelimit.py``, every request);
- ``500`` — the index database failing or an unexpected error (``middleware/errors.py``);
- ``422`` — for every operation that takes parameters or a body (request validation, and a body that is not JSON),

and replaces FastAPI's default ``422`` schema (``HTTPValidationError``, a shape this API never sends) by
``ErrorBody``. The service tests check that every status a request is answered with is listed for its operation.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .bodies import ErrorBody

#: Statuses any operation can be answered with, whatever its route does.
EVERY_OPERATION = (413, 429, 500)
ERROR_BODY_REF = {"$ref": "#/components/schemas/ErrorBody"}
_UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route: each status with the error body and its standard phrase."""
    return {status: {"model": ErrorBody, "description": HTTPStatus(status).phrase} for status in statuses}


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": HTTPStatus(status).phrase,
        "content": {"application/json": {"schema": dict(ERROR_BODY_REF)}},
    }


def _document_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    statuses = list(EVERY_OPERATION)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    for status in statuses:
        responses.setdefault(str(status), _error_response(status))
    if "422" in responses:
        responses["422"] = _error_response(422)


def document_errors(app: FastAPI) -> Callable[[], dict[str, Any]]:
    """An ``app.openapi`` that documents the statuses of the module docstring on every operation (built once)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
            )
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    _document_operation(operation)
            schemas = schema.get("components", {}).get("schemas", {})
            for name in _UNUSED_SCHEMAS:
                schemas.pop(name, None)
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi
