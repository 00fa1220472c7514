"""The OpenAPI document is the contract: every status a request is answered with is listed for its operation, every
error answer has the documented body, a wrong method keeps its ``Allow`` header, and ``/docs`` works offline.

Each operation of the document is called, on an app without a chain or key store and on one indexing the real
chain, with requests meant to reach every outer layer (too large, rate limited, malformed parameters, a body that is
not JSON or not UTF-8, a forged session) and its own error paths; schemathesis fuzzes the same operations
(``test_schemathesis.py``, whose status-code conformance check applies the same rule to generated requests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cdp import Browser, find_chromium
from fastapi import FastAPI
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, state
from service_world import WorldSetup

from anacostia_blockchain.crypto import DataKey
from anacostia_blockchain.service import BackgroundServer, RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.middleware import MAX_REQUEST_BYTES

Operation = tuple[str, str, dict[str, Any]]  # method, path template, operation object


def operations(spec: dict[str, Any]) -> list[Operation]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def fill(path: str, token_id: str, run_key: str) -> str:
    return path.replace("{token_id}", token_id).replace("{run_key}", run_key)


def variants(method: str, op: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Requests (``TestClient.request`` keyword arguments) that reach each layer an operation has."""
    yield {}
    yield {"headers": {"Authorization": "Bearer forged.token"}}
    yield {"content": b"x" * (MAX_REQUEST_BYTES + 1)}
    yield {"params": {"page": "0", "page_size": "1000", "owner": "nope", "min_metric": "NaN", "sort": "up"}}
    if "requestBody" in op:
        for body in (b"\xff\xfe{", b"{not json", b"[]", b'{"message": 1}'):
            yield {"content": body, "headers": {"Content-Type": "application/json"}}


def assert_documented(http: TestClient, token_id: str, run_key: str) -> set[int]:
    """Call every operation with every variant; each answer's status must be documented for its operation and
    every error answer must have the error body. Returns the statuses seen."""
    spec = http.get("/openapi.json").json()
    seen: set[int] = set()
    for method, template, op in operations(spec):
        for path in (fill(template, token_id, run_key), fill(template, "0", "not-a-run")):
            for request in variants(method, op):
                response = http.request(method, path, **request)
                seen.add(response.status_code)
                assert str(response.status_code) in op["responses"], (method, path, request, response.text)
                if response.status_code >= 400:
                    error = response.json()["error"]
                    assert set(error) >= {"type", "message"}, response.text
    return seen


def test_every_status_an_offline_app_answers_is_documented(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'offline.db'}", chain_id=31337)
    with TestClient(create_app(config)) as http:
        seen = assert_documented(http, "1", "0x" + "ab" * 32 + "-1")
    assert {404, 413, 422, 503} <= seen
    limited = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'limited.db'}", chain_id=31337,
                            rate_limit=RateLimit(per_second=0.001, burst=1))
    with TestClient(create_app(limited)) as http:
        spec = http.get("/openapi.json").json()  # takes the one token
        for method, template, op in operations(spec):
            response = http.request(method, fill(template, "1", "0x" + "ab" * 32 + "-1"))
            assert response.status_code == 429 and "429" in op["responses"], (method, template)


def test_every_status_an_app_on_the_chain_answers_is_documented(make_app: AppFactory, sqlite_url: str,
                                                                world: WorldSetup) -> None:
    app = make_app(sqlite_url)
    state(app).keystore.put(world.listed_token, DataKey.generate())  # type: ignore[union-attr]
    with TestClient(app) as http:
        index_everything(app)
        run_key = http.get("/runs").json()["items"][0]["key"]
        seen = assert_documented(http, str(world.listed_token), run_key)
        seen |= assert_documented(http, str(world.plain_token), run_key)  # not listed: no quote
    assert {200, 401, 404, 413, 422} <= seen


def test_a_body_that_is_not_json_text_is_a_422_validation_error(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'body.db'}", chain_id=31337)
    with TestClient(create_app(config)) as http:
        for body in (b"\xff\xfe{}", b"{not json"):
            response = http.post("/auth/login", content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 422, response.text
            assert response.json()["error"]["type"] == "ValidationError"


def test_a_wrong_method_is_405_with_allow(tmp_path: Path) -> None:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'method.db'}", chain_id=31337)
    with TestClient(create_app(config)) as http:
        spec = http.get("/openapi.json").json()
        for template, ops in spec["paths"].items():
            path = fill(template, "1", "0x" + "ab" * 32 + "-1")
            response = http.delete(path)
            assert response.status_code == 405, (path, response.text)
            assert response.json()["error"]["type"] == "MethodNotAllowedError"
            allowed = {m.strip() for m in response.headers["allow"].split(",")}
            assert {m.upper() for m in ops} <= allowed, (path, allowed)


# --- /docs offline ------------------------------------------------------------------------------------------------
ASSET = re.compile(r"""(?:src|href|spec-url)=["']([^"']+)["']|url:\s*'([^']+)'""")


@pytest.fixture
def docs_app(tmp_path: Path) -> FastAPI:
    return create_app(ServiceConfig(database_url=f"sqlite:///{tmp_path / 'docs.db'}", chain_id=31337))


def test_docs_and_every_asset_they_reference_come_from_the_app(docs_app: FastAPI) -> None:
    with TestClient(docs_app) as http:
        for page in ("/docs", "/redoc"):
            html = http.get(page)
            assert html.status_code == 200 and "text/html" in html.headers["content-type"]
            assets = [a or b for a, b in ASSET.findall(html.text)]
            assert len(assets) >= 3, assets  # script, stylesheet or favicon, the OpenAPI document
            for asset in assets:
                assert asset.startswith("/") and not asset.startswith("//"), f"{page} loads {asset} from elsewhere"
                response = http.get(asset)
                assert response.status_code == 200 and len(response.content) > 100, asset


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    binary = find_chromium()
    if binary is None:
        pytest.skip("chromium is not installed: run `make setup` (apt-get install -y chromium)")
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    opened = Browser(binary, profile)
    try:
        yield opened
    finally:
        opened.close()


def test_swagger_ui_renders_the_api_from_local_assets_only(docs_app: FastAPI, browser: Browser) -> None:
    with BackgroundServer(docs_app) as server:
        browser.send("Network.enable")
        browser.navigate(f"{server.url}/docs")
        title = browser.wait_for(lambda: browser.evaluate(
            "document.querySelector('.swagger-ui .info .title')?.textContent"))
        operations_shown = browser.wait_for(lambda: browser.evaluate("document.querySelectorAll('.opblock').length"))
        requested = [e["params"]["request"]["url"] for e in browser.events
                     if e.get("method") == "Network.requestWillBeSent"]
    assert "Anacostia model marketplace" in title and operations_shown >= 12
    assert requested and all(url.startswith(server.url) for url in requested), requested
