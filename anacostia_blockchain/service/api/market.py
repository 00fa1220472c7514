"""``/models``: browse the index, one model verified live, and its price quoted on chain.

``GET /models`` is the hot path and is written for it (``index/listing.py``): an ``async`` endpoint whose query
string is validated in one call (``query.py``) and whose page is read on the event loop or on the app's listing
threads (``offload.py``) and spliced from pre-rendered JSON.

A model's data key is released by ``keys.py``.
"""

from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from ...chain.encoding import checksum
from ...errors import AnacostiaError, ConfigurationError, NotFoundError, ValidationError
from ..index import ModelFilter, metric_decimal, metrics_json, model_page_json, queries, run_key
from ..index.driver_reads import AsyncReads
from ..index.listing import model_page_json_async
from ..state import ServiceState, StateDep, state_of
from .bodies import (
    AnchorInfo,
    LicenseInfo,
    Lineage,
    ListingInfo,
    LiveVerification,
    MetadataInfo,
    ModelDetail,
    ModelPage,
    QuoteBody,
)
from .offload import read_index
from .query import ModelQuery, documented, parse_query
from .responses import errors

router = APIRouter(tags=["models"])
TokenId = Annotated[int, Path(ge=1, le=2**63 - 1, description="ModelNFT token id")]


def _metric_bound(value: Decimal | None, what: str) -> Decimal | None:
    """A metric bound as the exact decimal the index compares (the digits the client sent, not a double)."""
    if value is None:
        return None
    number = metric_decimal(value)
    if number is None:
        raise ValidationError(f"{what} has too many digits or too large an exponent")
    return number


def _address(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return checksum(value)
    except ConfigurationError as exc:
        raise ValidationError(f"{what} is not an address") from exc


@router.get("/models", response_model=ModelPage, summary="List indexed models", openapi_extra=documented(ModelQuery))
async def list_models(request: Request) -> Response:
    q = parse_query(ModelQuery, request)
    if (q.min_metric is not None or q.max_metric is not None or q.sort.startswith("metric")) and q.metric is None:
        raise ValidationError("min_metric, max_metric and metric sorts need ?metric=<name>")
    filters = ModelFilter(
        owner=_address(q.owner, "owner"),
        listed=q.listed,
        min_price_usd=q.min_price_usd,
        max_price_usd=q.max_price_usd,
        metric=q.metric,
        min_metric=_metric_bound(q.min_metric, "min_metric"),
        max_metric=_metric_bound(q.max_metric, "max_metric"),
        sort=q.sort,
        page=q.page,
        page_size=q.page_size,
    )
    state = state_of(request)
    body = await read_index(request, state.reads, filters.offset, partial(_model_page, state, filters),
                            partial(_model_page_async, filters=filters))
    # ModelPage documents the body (response_model); the body itself is spliced from JSON the index rendered when
    # the rows were written (index/listing_json.py), so no Pydantic object is built or validated per item here.
    return Response(body, media_type="application/json")


def _model_page(state: ServiceState, filters: ModelFilter) -> bytes:
    with state.reads.connect() as conn:
        return model_page_json(conn, filters)


async def _model_page_async(reads: AsyncReads, filters: ModelFilter) -> bytes | None:
    return await model_page_json_async(reads, filters)


def _live_verification(state: ServiceState, model: dict[str, Any]) -> LiveVerification:
    if state.gateway is None:
        return LiveVerification(checked=False, error="no chain connection configured")
    try:
        check = state.gateway.check_anchor(str(model["pipeline_id"]), int(model["run_id"]), str(model["anchor_root"]))
    except AnacostiaError as exc:
        return LiveVerification(checked=False, error=f"{type(exc).__name__}: {exc}")
    run = model.get("run")
    manifest_matches = None
    if isinstance(run, dict):
        manifest_matches = run["manifest_cid"] == model["manifest_cid"]
    return LiveVerification(
        checked=True,
        anchored=check.anchored,
        onchain_root=check.onchain_root,
        matches_token=check.matches,
        manifest_matches=manifest_matches,
    )


@router.get("/models/{token_id}", response_model=ModelDetail, responses=errors(404), summary="One model, verified live")
def get_model(state: StateDep, token_id: TokenId) -> Response:
    with state.engine.connect() as conn:
        model = queries.get_model(conn, token_id)
    detail = _model_detail(state, token_id, model).model_dump_json(exclude={"metrics"})
    # The metrics are the metadata's exact decimals, written digit for digit as JSON numbers (index/metric_values.py).
    body = f'{detail[:-1]},"metrics":{metrics_json(model["metrics"])}}}'
    return Response(body, media_type="application/json")


def _model_detail(state: ServiceState, token_id: int, model: dict[str, Any]) -> ModelDetail:
    run = model["run"]
    return ModelDetail(
        token_id=token_id,
        owner=model["owner"],
        minter=model["minter"],
        token_uri=model["token_uri"],
        metadata=MetadataInfo(**model["metadata"]),
        metrics={},
        lineage=Lineage(
            pipeline_id=model["pipeline_id"],
            run_id=model["run_id"],
            run_key=run_key(model["pipeline_id"], model["run_id"]),
            anchor_root=model["anchor_root"],
            manifest_cid=model["manifest_cid"],
            family_id=model["family_id"],
            version=model["version"],
            stage=model["stage"],
            versions=model["versions"],
        ),
        anchor=AnchorInfo(
            indexed=run is not None,
            block_number=run["block_number"] if run else None,
            tx_hash=run["tx_hash"] if run else None,
            merkle_root=run["merkle_root"] if run else None,
            manifest_cid=run["manifest_cid"] if run else None,
        ),
        verification=_live_verification(state, model),
        license=LicenseInfo(
            ip_id=model["ip_id"],
            license_template=model["license_template"],
            license_terms_ids=model["license_terms_ids"],
            listing_terms_id=model["listing_terms_id"],
        ),
        listing=ListingInfo(
            listed=model["listed"],
            seller=model["seller"],
            price_usd=model["price_usd"],
            price_usd_units=model["price_usd_units"],
            sales=model["sales"],
        ),
        has_key=state.keystore.has(token_id) if state.keystore is not None else False,
    )


@router.get(
    "/models/{token_id}/quote",
    response_model=QuoteBody,
    responses=errors(404, 409, 502, 503),
    summary="Price in USD and wei via the Chainlink feed",
)
def quote(state: StateDep, token_id: TokenId) -> QuoteBody:
    with state.engine.connect() as conn:
        model = queries.get_model(conn, token_id)
    if not model["listed"]:
        raise NotFoundError(f"model {token_id} is not listed")
    q = state.require_gateway().quote(token_id)
    return QuoteBody(
        token_id=token_id,
        price_usd=float(Decimal(q.price_usd_units) / Decimal(10**18)),
        price_usd_units=str(q.price_usd_units),
        wei=str(q.wei),
        eth=str(Decimal(q.wei) / Decimal(10**18)),
        feed_address=q.feed_address,
        feed_answer=str(q.feed_answer),
        feed_decimals=q.feed_decimals,
        feed_updated_at=q.feed_updated_at,
        feed_age_seconds=max(0, q.block_timestamp - q.feed_updated_at),
        block_timestamp=q.block_timestamp,
    )
