"""License-gated release of model data keys: a buyer fetches a key, an owner deposits one.

``GET /models/{id}/key`` is the one endpoint that hands out secrets, so its checks are layered and all must pass:
a valid session (401 otherwise), a model known to the index with an IP id and a stored key (404), and a license
token that the session's address owns *on chain right now* for that IP (403, :class:`LicenseRequiredError`). The key
is returned wrapped for the public key recovered from the caller's SIWE signature, so even a leaked response is
useless to anyone but the wallet that signed in. ``PUT /models/{id}/key`` takes a key wrapped for the service's
public key (``GET /service/key``) from the model's current owner.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.concurrency import run_in_threadpool

from ...errors import LicenseRequiredError, NotFoundError, ValidationError
from ..auth import Session
from ..index import queries
from ..state import ServiceState, StateDep
from .auth import current_session
from .bodies import DepositKeyRequest, ServiceKeyBody, WrappedKeyBody
from .market import TokenId
from .responses import errors

router = APIRouter(tags=["models"])


@router.get(
    "/models/{token_id}/key",
    response_model=WrappedKeyBody,
    responses=errors(401, 403, 404, 409, 502, 503),
    summary="The model's data key, wrapped for the signed-in license holder",
)
async def get_key(
    state: StateDep, token_id: TokenId, session: Annotated[Session, Depends(current_session)]
) -> WrappedKeyBody:
    return await run_in_threadpool(_release_key, state, token_id, session)


def _release_key(state: ServiceState, token_id: int, session: Session) -> WrappedKeyBody:
    keystore = state.require_keystore()
    with state.engine.connect() as conn:
        model = queries.get_model(conn, token_id)
        candidates = queries.license_candidates(conn, token_id, session.address)
    if not keystore.has(token_id):
        raise NotFoundError(f"the service holds no data key for model {token_id}")
    if not model["ip_id"]:
        raise LicenseRequiredError(f"model {token_id} is not a registered IP: no license can exist")
    license_id = state.require_gateway().holds_license(session.address, model["ip_id"], candidates)
    if license_id is None:
        raise LicenseRequiredError(f"{session.address} holds no license token for model {token_id}")
    wrapped = keystore.wrap_for(token_id, session.public_key)
    return WrappedKeyBody(
        token_id=token_id,
        key_id=keystore.key_id(token_id),
        wrapped_key=wrapped.to_hex(),
        license_token_id=str(license_id),
    )


@router.put(
    "/models/{token_id}/key",
    response_model=WrappedKeyBody,
    responses=errors(401, 403, 404, 409, 502, 503),
    summary="Deposit a model's data key (owner only), wrapped for the service key",
)
async def put_key(
    state: StateDep,
    token_id: TokenId,
    body: DepositKeyRequest,
    session: Annotated[Session, Depends(current_session)],
) -> WrappedKeyBody:
    return await run_in_threadpool(_deposit_key, state, token_id, body, session)


def _deposit_key(state: ServiceState, token_id: int, body: DepositKeyRequest, session: Session) -> WrappedKeyBody:
    keystore = state.require_keystore()
    with state.engine.connect() as conn:
        queries.get_model(conn, token_id)
    owner = state.require_gateway().owner_of(token_id)
    if owner != session.address:
        raise LicenseRequiredError(f"only the owner of model {token_id} may deposit its key")
    try:
        wrapped = bytes.fromhex(body.wrapped_key.removeprefix("0x"))
    except ValueError as exc:
        raise ValidationError("wrapped_key must be hex") from exc
    key_id = keystore.put_wrapped(token_id, wrapped)
    return WrappedKeyBody(token_id=token_id, key_id=key_id, wrapped_key=body.wrapped_key, license_token_id=None)


@router.get(
    "/service/key", response_model=ServiceKeyBody, responses=errors(503), summary="Public key to wrap data keys for"
)
def service_key(state: StateDep) -> ServiceKeyBody:
    return ServiceKeyBody(public_key=state.require_keystore().public_key.hex())
