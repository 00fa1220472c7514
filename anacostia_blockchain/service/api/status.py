"""``/status``: how far the index has followed the chain, and whether the indexer is healthy."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from ..index import queries
from ..state import ServiceState, state_of
from .bodies import StatusBody
from .offload import read_index

router = APIRouter(tags=["service"])


@router.get("/status", response_model=StatusBody, summary="Index progress and health")
async def status(request: Request) -> Response:
    """One read of the cursor and the counts the indexer keeps, on the event loop (on PostgreSQL asynchronously)."""
    state = state_of(request)
    info = await read_index(request, state.reads, 0, partial(_index_status, state), queries.index_status_async)
    body = StatusBody(
        chain_id=state.gateway.chain_id if state.gateway is not None else state.config.chain_id,
        indexer_error=state.indexer.last_error if state.indexer is not None else None,
        explorer_tx_url=state.config.explorer_tx_url,
        **info,
    )
    return Response(body.model_dump_json(), media_type="application/json")


def _index_status(state: ServiceState) -> dict[str, Any]:
    with state.reads.connect() as conn:
        return queries.index_status(conn)
