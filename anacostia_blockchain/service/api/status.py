"""``/status``: how far the index has followed the chain, and whether the indexer is healthy."""

from __future__ import annotations

from fastapi import APIRouter

from ..index import queries
from ..state import StateDep
from .bodies import StatusBody

router = APIRouter(tags=["service"])


@router.get("/status", response_model=StatusBody, summary="Index progress and health")
def status(state: StateDep) -> StatusBody:
    with state.engine.connect() as conn:
        info = queries.index_status(conn)
    return StatusBody(
        chain_id=state.gateway.chain_id if state.gateway is not None else state.config.chain_id,
        indexer_error=state.indexer.last_error if state.indexer is not None else None,
        explorer_tx_url=state.config.explorer_tx_url,
        **info,
    )
