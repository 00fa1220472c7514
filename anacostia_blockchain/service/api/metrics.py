"""``/metrics``: the service's figures, and those of the pipelines it serves, for Prometheus.

The collectors (:mod:`anacostia_blockchain.observability`) read at scrape time: the indexer's cursor and the chain
head it last saw, the response cache's hits and misses and the rate limiter's refusals (both found in the app's
middleware stack, which Starlette builds on the first request), and the runs, outbox and anchors of the served
pipelines. The answer is Prometheus text (or OpenMetrics when the scraper asks for it), so the route is not part of
the JSON API's OpenAPI document. Like every route it is rate limited; restrict who may read it at the reverse proxy
if the figures should stay private.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response

from ...errors import AnacostiaError
from ...observability import PipelineCollector, ServiceCollector, ServiceReadings, metrics_registry, render
from ..dashboard import served_pipelines
from ..middleware import RateLimitMiddleware, ResponseCache
from ..state import ServiceState

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
def metrics(request: Request) -> Response:
    body, content_type = render(request.app.state.metrics, request.headers.get("accept"))
    return Response(body, media_type=content_type)


def install_metrics(app: FastAPI, state: ServiceState) -> None:
    """Serve ``/metrics`` for ``app`` (its registry is ``app.state.metrics``)."""
    app.state.metrics = metrics_registry(
        ServiceCollector(partial(_readings, app, state)),
        PipelineCollector(partial(_served_stores, state)),
    )
    app.include_router(router)


def _readings(app: FastAPI, state: ServiceState) -> ServiceReadings:
    indexer = state.indexer
    next_block = None
    if indexer is not None:
        try:
            next_block = indexer.next_block()
        except AnacostiaError:
            next_block = None  # the index database is unavailable: the lag is unknown, not zero
    layers = list(_middleware_stack(app))
    cache = next((layer for layer in layers if isinstance(layer, ResponseCache)), None)
    limiter = next((layer for layer in layers if isinstance(layer, RateLimitMiddleware)), None)
    return ServiceReadings(
        indexer_next_block=next_block,
        chain_head=indexer.chain_head if indexer is not None else None,
        indexer_healthy=indexer.last_error is None if indexer is not None else None,
        cache_hits=cache.hits if cache is not None else None,
        cache_misses=cache.misses if cache is not None else None,
        rate_limit_refusals=limiter.refusals if limiter is not None and limiter.enabled else None,
    )


def _middleware_stack(app: FastAPI) -> Iterator[Any]:
    """The middleware instances of ``app``, outermost first (each layer holds the next as ``.app``)."""
    layer: Any = app.middleware_stack
    seen: set[int] = set()
    while layer is not None and id(layer) not in seen:
        seen.add(id(layer))
        yield layer
        layer = getattr(layer, "app", None)


def _served_stores(state: ServiceState) -> dict[str, Any]:
    return {served.name: served.store for served in served_pipelines(state.pipeline)}
