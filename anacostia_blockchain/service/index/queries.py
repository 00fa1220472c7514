"""Read queries over the marketplace index, shaped for the API (plain dicts; no HTTP here).

The model listing (``GET /models``), the hot path, has its own module: ``listing.py``. A model's metrics count
only once its metadata document is verified against its CID — unverified numbers are never shown or used to rank.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Select, and_, bindparam, func, select, true
from sqlalchemy.engine import Connection

from ...chain.contracts import stage_name
from ...errors import NotFoundError
from . import schema as s
from .counts import COUNTED
from .driver_reads import AsyncReads, fetch_rows, fetch_scalar
from .listing import count_limit, kept_count
from .metric_values import metric_decimal


def _metrics_of(conn: Connection, cid: str) -> dict[str, str]:
    """The exact decimal text of each metric of the document ``cid`` (``metric_values.py``)."""
    found: dict[str, str] = {}
    for name, exact, value in conn.execute(
        select(s.nft_metrics.c.name, s.nft_metrics.c.exact, s.nft_metrics.c.value).where(s.nft_metrics.c.cid == cid)
    ):
        number = metric_decimal(exact if exact is not None else value)
        if number is not None:
            found[name] = str(number)
    return found


def stage_text(stage: str | None) -> str | None:
    """A model's ``ModelVersions`` stage as its name (``"production"``) instead of the bytes32 the chain stores;
    ``None`` for no stage."""
    if not stage:
        return None
    return stage_name(stage) or None


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
    model["metrics"] = _metrics_of(conn, model["metadata_cid"]) if verified else {}
    model["stage"] = stage_text(model["stage"])
    run_query = select(s.runs).where(
        s.runs.c.pipeline_id == str(model["pipeline_id"]).lower(), s.runs.c.run_id == model["run_id"]
    )
    run = conn.execute(run_query).mappings().first()
    model["run"] = dict(run) if run is not None else None
    model["versions"] = []
    if model["family_id"] is not None:
        model["versions"] = [
            {"token_id": token, "version": version, "stage": stage_text(stage)}
            for token, version, stage in conn.execute(
                select(s.models.c.token_id, s.models.c.version, s.models.c.stage)
                .where(s.models.c.family_id == model["family_id"])
                .order_by(s.models.c.version)
            )
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


RUN_COLUMNS = tuple(str(c.name) for c in s.runs.columns)  # plain str: to_json serializes quoted_name keys slowly
RUN_KEY = RUN_COLUMNS.index("key")


def _runs_statements(filtered: bool) -> tuple[Select[Any], Select[Any]]:
    """``(count, page)`` of ``GET /runs``, with or without a ``pipeline_id`` filter; parameters ``count_limit``,
    ``page_limit``, ``page_offset`` (and ``pipeline_id``). The page's keys are picked from ``ix_runs_newest`` /
    ``ix_runs_pipeline_newest`` alone, then joined to their rows, their models' token ids (one row per model) and
    the capped count: one round trip."""
    r, m = s.runs, s.models
    keys = select(r.c.key)
    if filtered:
        keys = keys.where(r.c.pipeline_id == bindparam("pipeline_id"))
        count = select(func.count()).select_from(keys.limit(bindparam("count_limit", type_=BigInteger)).subquery())
    else:  # every run: the count the indexer keeps (exact, nothing walked)
        count = kept_count("runs")
    picked = (
        keys.order_by(r.c.block_number.desc(), r.c.key)
        .limit(bindparam("page_limit", type_=BigInteger))
        .offset(bindparam("page_offset", type_=BigInteger))
        .subquery("picked")
    )
    page = (
        select(r, m.c.token_id.label("model"), count.scalar_subquery().label("total"))
        .select_from(r.join(picked, picked.c.key == r.c.key))
        .outerjoin(m, and_(m.c.pipeline_id == r.c.pipeline_id, m.c.run_id == r.c.run_id))
        .order_by(r.c.block_number.desc(), r.c.key, m.c.token_id)
    )
    return count, page


RUNS_STATEMENTS = {filtered: _runs_statements(filtered) for filtered in (False, True)}
MODELS_OF_RUN = select(s.models.c.token_id).where(
    s.models.c.pipeline_id == bindparam("pipeline_id"), s.models.c.run_id == bindparam("run_id")
).order_by(s.models.c.token_id)


def _runs_params(page: int, page_size: int, pipeline_id: str | None) -> tuple[dict[str, Any], int]:
    offset = (page - 1) * page_size
    limit = count_limit(offset, page_size)
    params: dict[str, Any] = {"count_limit": limit + 1, "page_limit": page_size, "page_offset": offset}
    if pipeline_id is not None:
        params["pipeline_id"] = pipeline_id.lower()
    return params, limit


def _runs_page(rows: Sequence[Sequence[Any]]) -> tuple[int | None, list[dict[str, Any]]]:
    """The count (``None`` for no rows) and the runs of a page's rows: one row per run and model."""
    runs: dict[str, dict[str, Any]] = {}
    counted: int | None = None
    for *columns, model, total in rows:  # the run's columns, a model, the count
        counted = int(total)
        key = columns[RUN_KEY]
        run = runs.get(key)
        if run is None:
            run = runs[key] = {**dict(zip(RUN_COLUMNS, columns, strict=True)), "models": []}
        if model is not None:
            run["models"].append(int(model))
    return counted, list(runs.values())


def _runs_result(counted: int, limit: int, pipeline_id: str | None, runs: list[dict[str, Any]]
                 ) -> tuple[int, bool, list[dict[str, Any]]]:
    if pipeline_id is None:  # the kept count of every run: exact
        return counted, True, runs
    return min(counted, limit), counted <= limit, runs


def list_runs(
    conn: Connection, page: int, page_size: int, pipeline_id: str | None
) -> tuple[int, bool, list[dict[str, Any]]]:
    """``(total, total_exact, runs)``: one page of runs, newest anchor first, each with the token ids of the models
    minted from it; the total is counted like the model listing's (up to ``listing.count_limit`` for one pipeline,
    the kept count for all)."""
    count, page_query = RUNS_STATEMENTS[pipeline_id is not None]
    params, limit = _runs_params(page, page_size, pipeline_id)
    counted, runs = _runs_page(fetch_rows(conn, page_query, params))
    if counted is None:  # a page past the last run
        counted = int(fetch_scalar(conn, count, params))
    return _runs_result(counted, limit, pipeline_id, runs)


async def list_runs_async(
    reads: AsyncReads, page: int, page_size: int, pipeline_id: str | None
) -> tuple[int, bool, list[dict[str, Any]]]:
    """:func:`list_runs` on :class:`AsyncReads` (PostgreSQL)."""
    count, page_query = RUNS_STATEMENTS[pipeline_id is not None]
    params, limit = _runs_params(page, page_size, pipeline_id)
    async with reads.connection() as conn:
        counted, runs = _runs_page(await reads.fetch_rows(conn, page_query, params))
        if counted is None:
            counted = int((await reads.fetch_rows(conn, count, params))[0][0])
    return _runs_result(counted, limit, pipeline_id, runs)


def get_run(conn: Connection, key: str) -> dict[str, Any]:
    row = conn.execute(select(s.runs).where(s.runs.c.key == key.lower())).mappings().first()
    if row is None:
        raise NotFoundError(f"run {key} is not in the index")
    run = dict(row)
    models = conn.execute(MODELS_OF_RUN, {"pipeline_id": run["pipeline_id"], "run_id": run["run_id"]}).scalars()
    run["models"] = [int(token) for token in models]
    return run


#: The cursor's next block with each kept count: /status in one round trip (no row before anything was indexed).
STATUS = select(s.index_cursor.c.next_block, s.index_counts.c.name, s.index_counts.c.value).outerjoin_from(
    s.index_cursor, s.index_counts, true()
)


def _status(rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    next_block = None
    counts = dict.fromkeys(COUNTED, 0)
    for cursor, name, value in rows:
        next_block = cursor
        if name is not None:
            counts[name] = int(value)
    return {"next_block": next_block, **counts}


def index_status(conn: Connection) -> dict[str, Any]:
    """The cursor and the row counts the indexer keeps (``counts.py``)."""
    return _status(fetch_rows(conn, STATUS))


async def index_status_async(reads: AsyncReads) -> dict[str, Any]:
    """:func:`index_status` on :class:`AsyncReads` (PostgreSQL)."""
    async with reads.connection() as conn:
        return _status(await reads.fetch_rows(conn, STATUS))
