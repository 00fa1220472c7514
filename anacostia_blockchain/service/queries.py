"""Read queries over the marketplace index, shaped for the API (plain dicts; no HTTP here).

Listing is offset-paged with a total count and a stable order (every sort ends with ``token_id``), so pages do not
overlap or skip while the index grows at the end. Filtering by a metric joins the content-addressed ``nft_metrics``
table on the model's metadata CID: a model whose metadata has not been fetched and verified yet has no metrics and is
therefore not returned by a metric filter — unverified numbers are never used to rank models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Select, and_, func, select
from sqlalchemy.engine import Connection

from ..errors import NotFoundError
from . import index_schema as s

SortKey = Literal["newest", "oldest", "price_asc", "price_desc", "metric_asc", "metric_desc", "token_id"]


@dataclass(frozen=True)
class ModelFilter:
    owner: str | None = None
    listed: bool | None = None
    min_price_usd: float | None = None
    max_price_usd: float | None = None
    metric: str | None = None
    min_metric: float | None = None
    max_metric: float | None = None
    sort: SortKey = "newest"
    page: int = 1
    page_size: int = 20


def _filtered(query: Select[Any], f: ModelFilter) -> Select[Any]:
    """Apply the filters of ``f`` (joining ``nft_metrics`` for a metric filter; exposes ``metric_value``)."""
    m = s.models
    if f.metric is not None:
        mt = s.nft_metrics
        query = query.join(mt, and_(mt.c.cid == m.c.metadata_cid, mt.c.name == f.metric)).add_columns(
            mt.c.value.label("metric_value")
        )
        if f.min_metric is not None:
            query = query.where(mt.c.value >= f.min_metric)
        if f.max_metric is not None:
            query = query.where(mt.c.value <= f.max_metric)
    if f.owner is not None:
        query = query.where(m.c.owner == f.owner)
    if f.listed is not None:
        query = query.where(m.c.listed == f.listed)
    if f.min_price_usd is not None:
        query = query.where(m.c.price_usd >= f.min_price_usd)
    if f.max_price_usd is not None:
        query = query.where(m.c.price_usd <= f.max_price_usd)
    return query


def _model_select(f: ModelFilter) -> Select[Any]:
    m, md = s.models, s.nft_metadata
    query = select(
        m.c.token_id,
        m.c.owner,
        m.c.ip_id,
        m.c.listed,
        m.c.price_usd,
        m.c.price_usd_units,
        m.c.metadata_cid,
        m.c.minted_block,
        m.c.sales,
        md.c.name,
        md.c.status.label("metadata_status"),
    ).select_from(m.outerjoin(md, m.c.metadata_cid == md.c.cid))
    return _filtered(query, f)


def _count(f: ModelFilter) -> Select[Any]:
    """COUNT(*) with the same filters but without the metadata outer join (which never changes the row count)."""
    return select(func.count()).select_from(_filtered(select(s.models.c.token_id), f).subquery())


def _order(query: Select[Any], f: ModelFilter) -> Select[Any]:
    m = s.models
    metric_value = query.selected_columns.get("metric_value")
    orders = {
        "newest": [m.c.minted_block.desc(), m.c.token_id.desc()],
        "oldest": [m.c.minted_block.asc(), m.c.token_id.asc()],
        "price_asc": [m.c.price_usd.is_(None), m.c.price_usd.asc(), m.c.token_id.asc()],
        "price_desc": [m.c.price_usd.is_(None), m.c.price_usd.desc(), m.c.token_id.asc()],
        "token_id": [m.c.token_id.asc()],
    }
    if metric_value is not None:
        orders["metric_asc"] = [metric_value.asc(), m.c.token_id.asc()]
        orders["metric_desc"] = [metric_value.desc(), m.c.token_id.asc()]
    return query.order_by(*orders.get(f.sort, orders["newest"]))


def list_models(conn: Connection, f: ModelFilter) -> tuple[int, list[dict[str, Any]]]:
    """``(total, page items)``; each item carries its verified metrics (``{}`` until metadata is verified)."""
    query = _model_select(f)
    total = int(conn.execute(_count(f)).scalar_one())
    rows = conn.execute(_order(query, f).limit(f.page_size).offset((f.page - 1) * f.page_size)).mappings().all()
    items = [dict(row) for row in rows]
    metrics = _metrics_for(conn, [i["metadata_cid"] for i in items if i["metadata_status"] == "verified"])
    for item in items:
        item["metrics"] = metrics.get(item["metadata_cid"], {}) if item["metadata_status"] == "verified" else {}
        item.pop("metric_value", None)
    return total, items


def _metrics_for(conn: Connection, cids: list[str]) -> dict[str, dict[str, float]]:
    found: dict[str, dict[str, float]] = {}
    if cids:
        for row in conn.execute(select(s.nft_metrics).where(s.nft_metrics.c.cid.in_(cids))):
            found.setdefault(row.cid, {})[row.name] = row.value
    return found


def get_model(conn: Connection, token_id: int) -> dict[str, Any]:
    row = conn.execute(select(s.models).where(s.models.c.token_id == token_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"model {token_id} is not in the index")
    model = dict(row)
    model["license_terms_ids"] = json.loads(model["license_terms_ids"] or "[]")
    meta = None
    if model["metadata_cid"]:
        meta = conn.execute(select(s.nft_metadata).where(s.nft_metadata.c.cid == model["metadata_cid"])).first()
    model["metadata"] = {
        "cid": model["metadata_cid"],
        "status": meta.status if meta is not None else ("pending" if model["metadata_cid"] else "none"),
        "document": json.loads(meta.document) if meta is not None and meta.document else None,
        "error": meta.error if meta is not None else None,
    }
    verified = meta is not None and meta.status == "verified"
    model["metrics"] = _metrics_for(conn, [model["metadata_cid"]]).get(model["metadata_cid"], {}) if verified else {}
    run_query = select(s.runs).where(
        s.runs.c.pipeline_id == str(model["pipeline_id"]).lower(), s.runs.c.run_id == model["run_id"]
    )
    run = conn.execute(run_query).mappings().first()
    model["run"] = dict(run) if run is not None else None
    model["versions"] = []
    if model["family_id"] is not None:
        model["versions"] = [
            dict(r)
            for r in conn.execute(
                select(s.models.c.token_id, s.models.c.version, s.models.c.stage)
                .where(s.models.c.family_id == model["family_id"])
                .order_by(s.models.c.version)
            ).mappings()
        ]
    model["purchases"] = [
        dict(r)
        for r in conn.execute(
            select(s.purchases).where(s.purchases.c.token_id == token_id).order_by(s.purchases.c.block_number.desc())
        ).mappings()
    ]
    return model


def license_candidates(conn: Connection, token_id: int, holder: str) -> list[int]:
    """License token ids worth checking on chain for ``holder``: minted to them first, then any for this model."""
    rows = conn.execute(
        select(s.licenses.c.start_license_token_id, s.licenses.c.amount, s.licenses.c.receiver)
        .where(s.licenses.c.token_id == token_id)
        .order_by(s.licenses.c.block_number.desc())
    ).all()
    purchase_ids = conn.execute(
        select(s.purchases.c.license_token_id, s.purchases.c.buyer).where(s.purchases.c.token_id == token_id)
    ).all()
    mine: list[int] = []
    others: list[int] = []
    for start, amount, receiver in rows:
        ids = range(int(start), int(start) + min(int(amount), 1000))
        (mine if receiver == holder else others).extend(ids)
    for license_id, buyer in purchase_ids:
        (mine if buyer == holder else others).append(int(license_id))
    return list(dict.fromkeys(mine + others))


def list_runs(conn: Connection, page: int, page_size: int, pipeline_id: str | None) -> tuple[int, list[dict[str, Any]]]:
    query = select(s.runs)
    if pipeline_id is not None:
        query = query.where(s.runs.c.pipeline_id == pipeline_id.lower())
    total = int(conn.execute(select(func.count()).select_from(query.subquery())).scalar_one())
    rows = conn.execute(
        query.order_by(s.runs.c.block_number.desc(), s.runs.c.key).limit(page_size).offset((page - 1) * page_size)
    ).mappings()
    return total, [dict(r) for r in rows]


def get_run(conn: Connection, key: str) -> dict[str, Any]:
    row = conn.execute(select(s.runs).where(s.runs.c.key == key.lower())).mappings().first()
    if row is None:
        raise NotFoundError(f"run {key} is not in the index")
    run = dict(row)
    run["models"] = [
        int(t)
        for t in conn.execute(
            select(s.models.c.token_id).where(
                s.models.c.pipeline_id == run["pipeline_id"], s.models.c.run_id == run["run_id"]
            )
        ).scalars()
    ]
    return run


def index_status(conn: Connection) -> dict[str, Any]:
    cursor = conn.execute(select(s.index_cursor)).first()
    return {
        "next_block": None if cursor is None else cursor.next_block,
        "models": int(conn.execute(select(func.count()).select_from(s.models)).scalar_one()),
        "runs": int(conn.execute(select(func.count()).select_from(s.runs)).scalar_one()),
        "events": int(conn.execute(select(func.count()).select_from(s.index_events)).scalar_one()),
    }
