"""``/auth``: Sign-In with Ethereum. ``POST /auth/nonce`` then ``POST /auth/login`` -> a short-lived session token,
which :func:`current_session` turns back into the signed-in wallet for the endpoints that need one.

The nonce response also carries what the message must say (domain, URI, chain id, statement) so a client can build
the exact EIP-4361 text; the service re-checks every field at login (``service.auth.SiweAuthenticator``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from ...errors import SessionError
from ..auth import Session
from ..state import StateDep
from .bodies import LoginRequest, NonceBody, SessionBody
from .responses import errors

router = APIRouter(tags=["auth"])


@router.post("/auth/nonce", response_model=NonceBody, responses=errors(503), summary="A fresh nonce")
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
    responses=errors(401, 503),
    summary="Exchange a signed SIWE message for a session token",
)
def login(state: StateDep, body: LoginRequest) -> SessionBody:
    token, session = state.require_authenticator().login(body.message, body.signature)
    return SessionBody(token=token, address=session.address, expires_at=session.expires_at)


def current_session(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> Session:
    """The signed-in wallet from ``Authorization: Bearer <token>``; 401 without a valid one."""
    if authorization is None or not authorization.startswith("Bearer "):
        raise SessionError("sign in first: send Authorization: Bearer <session token>")
    return state.require_authenticator().tokens.check(authorization[len("Bearer ") :].strip())
