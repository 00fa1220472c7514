"""``/auth``: Sign-In with Ethereum. ``POST /auth/nonce`` then ``POST /auth/login`` -> a short-lived session token.

The nonce response also carries what the message must say (domain, URI, chain id, statement) so a client can build
the exact EIP-4361 text; the service re-checks every field at login (see ``auth.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from . import queries
from .api_models import ErrorBody, LoginRequest, NonceBody, SessionBody, StatusBody
from .state import ServiceState, service_state

router = APIRouter(tags=["auth"])
StateDep = Annotated[ServiceState, Depends(service_state)]


@router.post("/auth/nonce", response_model=NonceBody, responses={429: {"model": ErrorBody}}, summary="A fresh nonce")
def issue_nonce(state: StateDep) -> NonceBody:
    auth = state.require_authenticator()
    return NonceBody(
        nonce=state.nonces.issue(),
        domain=auth.domain,
        uri=auth.uri_origin,
        chain_id=auth.chain_id,
        statement=state.config.siwe_statement,
        expires_in=int(state.config.nonce_ttl.total_seconds()),
    )


@router.post(
    "/auth/login",
    response_model=SessionBody,
    responses={401: {"model": ErrorBody}, 422: {"model": ErrorBody}, 429: {"model": ErrorBody}},
    summary="Exchange a signed SIWE message for a session token",
)
def login(state: StateDep, body: LoginRequest) -> SessionBody:
    token, session = state.require_authenticator().login(body.message, body.signature)
    return SessionBody(token=token, address=session.address, expires_at=session.expires_at)


@router.get("/status", response_model=StatusBody, tags=["service"], summary="Index progress and health")
def status(state: StateDep) -> StatusBody:
    with state.engine.connect() as conn:
        info = queries.index_status(conn)
    return StatusBody(
        chain_id=state.gateway.chain_id if state.gateway is not None else state.config.chain_id,
        indexer_error=state.indexer.last_error if state.indexer is not None else None,
        explorer_tx_url=state.config.explorer_tx_url,
        **info,
    )
