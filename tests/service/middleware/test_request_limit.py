"""The request size limit: a declared or streamed body over the limit is refused with 413 before the app reads it."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from anacostia_blockchain.service.middleware import RequestSizeLimit


def echo_app(max_bytes: int) -> tuple[TestClient, list[int]]:
    """A client of an app that echoes the size of the body, behind the limit; the list records each chunk it read."""
    read: list[int] = []

    async def echo(request: Request) -> JSONResponse:
        try:
            async for chunk in request.stream():
                read.append(len(chunk))
        except ClientDisconnect:  # what the app sees once the limit refused the request
            return JSONResponse({"gone": True})
        return JSONResponse({"size": sum(read)})

    app = Starlette(routes=[Route("/", echo, methods=["POST"])])
    return TestClient(RequestSizeLimit(app, max_bytes=max_bytes)), read


def test_bodies_within_the_limit_pass() -> None:
    client, read = echo_app(16)
    assert client.post("/", content=b"x" * 16).json() == {"size": 16}
    assert sum(read) == 16


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    client, read = echo_app(16)
    response = client.post("/", content=b"x" * 17)
    assert response.status_code == 413 and read == []
    assert response.json() == {
        "error": {"type": "RequestTooLargeError", "message": "request body is larger than 16 bytes"}
    }


def test_a_streamed_body_is_cut_off_once_it_passes_the_limit() -> None:
    client, read = echo_app(16)
    response = client.post("/", content=iter([b"x" * 10, b"x" * 10, b"x" * 10]))  # chunked: no Content-Length
    assert response.status_code == 413 and response.json()["error"]["type"] == "RequestTooLargeError"
    assert sum(read) <= 16  # the app never read past the limit
