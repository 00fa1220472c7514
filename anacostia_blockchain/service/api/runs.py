"""``/runs``: anchored pipeline runs as indexed, and their live verification against RunRegistry.

A run's id in URLs is ``<pipelineId hex>-<runId>`` (the pipeline id is the bytes32 ``keccak256`` of the pipeline
name that RunRegistry is keyed by). ``/runs/{id}/verify`` re-reads ``RunRegistry.runRoot`` on every call and, when
the service has a content store (or was given ``create_app(..., manifest_verifier=...)``), also fetches the manifest
by its CID and recomputes the Merkle root from it (``service/run_verification.py``) — the check that the anchored
root really commits to that manifest.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic_core import to_json

from ...errors import AnacostiaError, StorageError
from ..index import queries
from ..index.driver_reads import AsyncReads
from ..state import StateDep, state_of
from .bodies import RunBody, RunPage, RunVerification
from .offload import read_index
from .query import RunQuery, documented, parse_query
from .responses import errors

router = APIRouter(tags=["runs"])
RUN_KEY_PATTERN = r"^0x[0-9a-fA-F]{64}-[0-9]{1,20}$"
RunKey = Annotated[str, Path(pattern=RUN_KEY_PATTERN, description="<pipelineId hex>-<runId>")]


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text)[:500]


@router.get("/runs", response_model=RunPage, summary="List anchored runs", openapi_extra=documented(RunQuery))
async def list_runs(request: Request) -> Response:
    q = parse_query(RunQuery, request)
    engine = state_of(request).reads

    def body_of(total: int, exact: bool, items: list[dict[str, Any]]) -> bytes:
        # the rows have RunBody's fields in its order: dumped as they are, not validated into objects first
        return to_json({"total": total, "total_exact": exact, "page": q.page, "page_size": q.page_size, "items": items})

    def read() -> bytes:
        with engine.connect() as conn:
            return body_of(*queries.list_runs(conn, q.page, q.page_size, q.pipeline_id))

    async def read_async(reads: AsyncReads) -> bytes:
        return body_of(*await queries.list_runs_async(reads, q.page, q.page_size, q.pipeline_id))

    body = await read_index(request, engine, (q.page - 1) * q.page_size, read, read_async)
    return Response(body, media_type="application/json")


@router.get("/runs/{run_key}", response_model=RunBody, responses=errors(404), summary="One anchored run")
def get_run(state: StateDep, run_key: RunKey) -> RunBody:
    with state.engine.connect() as conn:
        return RunBody(**queries.get_run(conn, run_key))


@router.get(
    "/runs/{run_key}/verify",
    response_model=RunVerification,
    responses=errors(404, 409, 502, 503),
    summary="Verify a run against RunRegistry now",
)
def verify_run(state: StateDep, run_key: RunKey) -> RunVerification:
    with state.engine.connect() as conn:
        run = queries.get_run(conn, run_key)
    check = state.require_gateway().check_anchor(run["pipeline_id"], run["run_id"], run["merkle_root"])
    manifest_verified: bool | None = None
    detail: str | None = None
    if state.manifest_verifier is not None and check.anchored:
        try:
            state.manifest_verifier(run["manifest_cid"], check.onchain_root, run["pipeline_id"], run["run_id"])
            manifest_verified = True
        except StorageError as exc:  # could not fetch: not checked, which is not the same as failed
            detail = _one_line(f"manifest unavailable: {type(exc).__name__}: {exc}")
        except AnacostiaError as exc:
            manifest_verified = False
            detail = _one_line(f"{type(exc).__name__}: {exc}")
    return RunVerification(
        key=run["key"],
        anchored=check.anchored,
        onchain_root=check.onchain_root,
        indexed_root=run["merkle_root"],
        matches=check.matches,
        manifest_verified=manifest_verified,
        detail=detail,
    )
