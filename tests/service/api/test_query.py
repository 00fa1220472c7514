"""The list endpoints' query strings, validated in one call (``api/query.py``): the same answers FastAPI's own
parameter handling gives, and the same OpenAPI parameters.

The reference is FastAPI itself, validating the same model as a query-parameter model
(``Annotated[ModelQuery, Query()]``) through its per-parameter machinery; both answer through the app's error handler.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient

from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.api.query import ModelQuery, RunQuery
from anacostia_blockchain.service.middleware import install_error_handlers

OWNER = "0x" + "ab" * 20
QUERIES: list[dict[str, Any]] = [
    {},
    {"page": "2", "page_size": "7"},
    {"page": "0"},
    {"page": "x"},
    {"page": "100001"},
    {"page_size": "1000"},
    {"page_size": ""},
    {"owner": OWNER, "listed": "true"},
    {"owner": "nope"},
    {"listed": "maybe"},
    {"listed": "0"},
    {"min_price_usd": "-1"},
    {"min_price_usd": "1e31"},
    {"max_price_usd": "nan"},
    {"metric": ""},
    {"metric": "m" * 129},
    {"metric": "accuracy", "min_metric": "NaN"},
    {"metric": "accuracy", "min_metric": "Infinity"},
    {"metric": "accuracy", "min_metric": "1e31"},
    {"metric": "accuracy", "max_metric": "0.970000000000000001", "sort": "metric_asc"},
    {"sort": "up"},
    {"sort": "token_id", "unknown": "ignored"},
    {"page": ["1", "3"]},  # repeated: the last one counts
    {"pipeline_id": "0x" + "cd" * 32},
    {"pipeline_id": "0x12"},
]


def reference_app() -> FastAPI:
    """The same models, declared the way FastAPI validates query parameters itself."""
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/models")
    def models(q: Annotated[ModelQuery, Query()]) -> dict[str, Any]:
        return q.model_dump(mode="json")

    @app.get("/runs")
    def runs(q: Annotated[RunQuery, Query()]) -> dict[str, Any]:
        return q.model_dump(mode="json")

    return app


@pytest.fixture
def served(tmp_path: Path) -> TestClient:
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'query.db'}", chain_id=31337,
                           rate_limit=RateLimit(0, 1), response_cache_seconds=0)
    return TestClient(create_app(config))


@pytest.mark.parametrize("path", ["/models", "/runs"])
def test_bad_parameters_are_refused_as_fastapi_refuses_them(served: TestClient, path: str) -> None:
    reference = TestClient(reference_app())
    with served as http:
        for params in QUERIES:
            metric_rule = any(k.endswith("_metric") for k in params) or str(params.get("sort")).startswith("metric")
            if path == "/models" and metric_rule and "metric" not in params:
                continue  # needs ?metric=: a rule of the endpoint, after the query string is valid
            expected, answered = reference.get(path, params=params), http.get(path, params=params)
            if expected.status_code == 422:
                assert answered.status_code == 422, (path, params, answered.text)
                assert answered.json() == expected.json(), (path, params)
            else:
                assert answered.status_code == 200, (path, params, answered.text)


def test_the_openapi_parameters_are_the_models_fields(served: TestClient) -> None:
    reference = TestClient(reference_app()).get("/openapi.json").json()
    with served as http:
        spec = http.get("/openapi.json").json()
    for path in ("/models", "/runs"):
        ours = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        theirs = {p["name"]: p for p in reference["paths"][path]["get"]["parameters"]}
        assert ours == theirs, path
