"""``GET /models`` as SQL: one filtered, ordered, offset-paged statement per page plus its total, served as JSON.

Listing is offset-paged with a total count and a stable order (every sort ends with ``token_id``), so pages do not
overlap or skip while the index grows at the end. Filtering by a metric reads ``model_metrics`` (each model's
verified metrics by token id, ``model_metrics.py``): a model whose metadata has not been fetched and verified yet has
no metrics and is therefore not returned by a metric filter — unverified numbers are never used to rank models.
Metric bounds and metric sorts compare the exact decimals through their byte keys (``metric_values.sort_key``); a
filter on a metric alone is a walk of one ``model_metrics`` index, without touching ``models``.

How a page stays cheap at any offset and under load:

- **Index order, no sort.** Each sort/filter combination matches a composite index of ``schema`` exactly
  (``(owner|listed, sort columns…, token_id)``), so the database walks the index in page order and stops after the
  page; the total is an index-only ``COUNT`` that stops :data:`COUNT_AHEAD` matches past the page.
- **Deferred join.** The page's token ids are picked from the index alone (the ``OFFSET`` skips index entries, never
  table rows); only those ids are joined to their rows and their metadata.
- **One round trip.** The capped count rides along as a column of the page statement. Without any filter the total
  is the number of models the indexer keeps (``counts.py``): exact, and nothing is walked to count.
- **Pre-rendered rows.** The selected columns are JSON fragments written with the rows (``listing_json.py``); the
  body is spliced, not built from objects.
- **Statements built once.** A statement depends only on the *shape* of a request (which filters are present, which
  sort); values are bound parameters. Shapes are few (2**7 filter combinations x 7 sorts at most), so each statement
  is built and compiled once per process and reused — constructing SQLAlchemy Core objects per request would cost
  more than running the query.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    FromClause,
    LargeBinary,
    Select,
    bindparam,
    func,
    select,
)
from sqlalchemy.engine import Connection

from . import schema as s
from .driver_reads import AsyncReads, fetch_rows, fetch_scalar
from .listing_json import item_json, model_fragment, page_json
from .metric_values import sort_key
from .migrations import stored_metadata_fragments

SortKey = Literal["newest", "oldest", "price_asc", "price_desc", "metric_asc", "metric_desc", "token_id"]

#: Deepest OFFSET (index entries walked) still answered on the event loop; see :func:`runs_on_event_loop`.
EVENT_LOOP_MAX_OFFSET = 5_000
#: Matches counted past the end of the page: ``total`` is exact up to there, and a lower bound beyond.
COUNT_AHEAD = 1_000

#: The filters a request may carry; each also names its bound parameter.
FILTERS = ("owner", "listed", "min_price_usd", "max_price_usd", "metric", "min_metric", "max_metric")


@dataclass(frozen=True)
class ModelFilter:
    """What ``GET /models`` asked for; ``None`` means "no such filter". Metric bounds and sorts need ``metric``."""

    owner: str | None = None
    listed: bool | None = None
    min_price_usd: float | None = None
    max_price_usd: float | None = None
    metric: str | None = None
    min_metric: Decimal | None = None
    max_metric: Decimal | None = None
    sort: SortKey = "newest"
    page: int = 1
    page_size: int = 20

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.page_size


@dataclass(frozen=True)
class ListingShape:
    """Which filters are present and the sort: all that a statement depends on."""

    present: frozenset[str]
    sort: SortKey

    @classmethod
    def of(cls, f: ModelFilter) -> ListingShape:
        present = frozenset(name for name in FILTERS if getattr(f, name) is not None)
        if "metric" not in present:  # bounds/sorts without a metric are refused by the API; ignore them here
            present -= {"min_metric", "max_metric"}
        return cls(present, f.sort if "metric" in present or not f.sort.startswith("metric") else "newest")


#: The filters that concern a model's metric only, and the sorts that need nothing else.
METRIC_FILTERS = frozenset({"metric", "min_metric", "max_metric"})
METRIC_ONLY_SORTS = frozenset({"metric_asc", "metric_desc", "token_id"})


def _metric_only(shape: ListingShape) -> bool:
    """Whether the page and count of ``shape`` come from ``model_metrics``' indexes alone (no model column needed)."""
    return "metric" in shape.present and shape.present <= METRIC_FILTERS and shape.sort in METRIC_ONLY_SORTS


def _metric_bounds(query: Select[Any], shape: ListingShape, mm: FromClause) -> Select[Any]:
    query = query.where(mm.c.name == bindparam("metric"))
    if "min_metric" in shape.present:
        query = query.where(mm.c.sort_key >= bindparam("min_metric", type_=LargeBinary))
    if "max_metric" in shape.present:
        query = query.where(mm.c.sort_key <= bindparam("max_metric", type_=LargeBinary))
    return query


def _filtered(query: Select[Any], shape: ListingShape, m: FromClause) -> Select[Any]:
    """Apply the filters of ``shape`` to rows of ``m`` as bound parameters (a metric filter joins ``model_metrics``
    and selects its sort key as ``metric_value``)."""
    if "metric" in shape.present:
        mm = s.model_metrics
        query = query.join(mm, mm.c.token_id == m.c.token_id).add_columns(mm.c.sort_key.label("metric_value"))
        query = _metric_bounds(query, shape, mm)
    if "owner" in shape.present:
        query = query.where(m.c.owner == bindparam("owner"))
    if "listed" in shape.present:
        query = query.where(m.c.listed == bindparam("listed"))
    if "min_price_usd" in shape.present:
        query = query.where(m.c.price_usd >= bindparam("min_price_usd"))
    if "max_price_usd" in shape.present:
        query = query.where(m.c.price_usd <= bindparam("max_price_usd"))
    return query


def _matching(shape: ListingShape) -> Select[Any]:
    """``token_id`` (and ``metric_value``) of every model matching ``shape``: from ``model_metrics`` alone when only
    a metric is filtered on, else from ``models`` (joined to ``model_metrics`` for a metric)."""
    if _metric_only(shape):
        mm = s.model_metrics
        return _metric_bounds(select(mm.c.token_id, mm.c.sort_key.label("metric_value")), shape, mm)
    return _filtered(select(s.models.c.token_id), shape, s.models)


def _order_by(sort: SortKey, m: FromClause, metric_value: ColumnElement[Any] | None) -> list[ColumnElement[Any]]:
    """The page order of ``sort``; each matches one of the composite indexes in ``schema`` exactly (an
    expression that differs, e.g. ``NULLS LAST`` instead of ``price_usd IS NULL``, would make the database sort)."""
    token = m.c.token_id
    if sort == "oldest":
        return [m.c.minted_block.asc(), token.asc()]
    if sort == "price_asc":
        return [m.c.price_usd.is_(None), m.c.price_usd.asc(), token.asc()]
    if sort == "price_desc":
        return [m.c.price_usd.is_(None), m.c.price_usd.desc(), token.asc()]
    if sort == "token_id":
        return [token.asc()]
    if metric_value is not None and sort == "metric_asc":
        return [metric_value.asc(), token.asc()]
    if metric_value is not None and sort == "metric_desc":
        return [metric_value.desc(), token.asc()]
    return [m.c.minted_block.desc(), token.desc()]  # newest


def picking_statement(shape: ListingShape) -> Select[Any]:
    """The token ids (and ``metric_value``) of one page of ``shape``, in page order, from the indexes alone."""
    picked = _matching(shape)
    source = s.model_metrics if _metric_only(shape) else s.models
    return (
        picked.order_by(*_order_by(shape.sort, source, picked.selected_columns.get("metric_value")))
        .limit(bindparam("page_limit", type_=BigInteger))
        .offset(bindparam("page_offset", type_=BigInteger))
    )


@lru_cache(maxsize=1024)
def page_statement(shape: ListingShape) -> Select[Any]:
    """The page of ``shape`` (see the module docstring); parameters: the filters, ``page_limit``, ``page_offset``."""
    page = picking_statement(shape).subquery("page")
    row, md = s.models.alias("row"), s.nft_metadata
    return (
        select(
            row.c.token_id,
            row.c.listing_json,
            row.c.minted_block,
            row.c.sales,
            md.c.name_json,
            md.c.status,
            md.c.metrics_json,
        )
        .select_from(page.join(row, row.c.token_id == page.c.token_id))
        .outerjoin(md, md.c.cid == row.c.metadata_cid)
        .order_by(*_order_by(shape.sort, row, page.c.get("metric_value")))
    )


def kept_count(name: str) -> Select[Any]:
    """The row count the indexer keeps under ``name`` (``counts.py``; 0 when none is kept yet)."""
    kept = select(s.index_counts.c.value).where(s.index_counts.c.name == name).scalar_subquery()
    return select(func.coalesce(kept, 0))


@lru_cache(maxsize=1024)
def count_statement(shape: ListingShape) -> Select[Any]:
    """How many models match ``shape``'s filters, counted up to ``count_limit`` (index-only for every filter); with
    no filter, the number of models the indexer keeps (exact, nothing walked)."""
    if not shape.present:
        return kept_count("models")
    matches = _matching(shape).limit(bindparam("count_limit", type_=BigInteger))
    return select(func.count()).select_from(matches.subquery("matches"))


def count_limit(offset: int, page_size: int) -> int:
    """Matches worth counting for a page: to its end and :data:`COUNT_AHEAD` beyond."""
    return offset + page_size + COUNT_AHEAD


@lru_cache(maxsize=1024)
def counted_page_statement(shape: ListingShape) -> Select[Any]:
    """:func:`page_statement` with the capped count as a last column (an uncorrelated subquery: evaluated once), so
    a page and its total are one round trip."""
    return page_statement(shape).add_columns(count_statement(shape).scalar_subquery().label("total"))


def _page_params(f: ModelFilter) -> tuple[ListingShape, dict[str, Any], int]:
    """The shape of ``f``, its statements' parameters and its :func:`count_limit`."""
    shape = ListingShape.of(f)
    params: dict[str, Any] = {name: getattr(f, name) for name in shape.present}
    for bound in ("min_metric", "max_metric"):
        if bound in params:
            params[bound] = sort_key(params[bound])
    limit = count_limit(f.offset, f.page_size)
    params.update(count_limit=limit + 1, page_limit=f.page_size, page_offset=f.offset)
    return shape, params, limit


def _page_body(f: ModelFilter, shape: ListingShape, limit: int, counted: int, items: list[str]) -> bytes:
    if not shape.present:  # the kept count of every model: exact
        return page_json(counted, True, f.page, f.page_size, items)
    return page_json(min(counted, limit), counted <= limit, f.page, f.page_size, items)


def model_page_json(conn: Connection, f: ModelFilter) -> bytes:
    """The ``GET /models`` response body (a ``ModelPage``) for ``f``: one indexed statement, spliced JSON (a second
    one, the count alone, only for a page past the last match).

    ``total`` counts the matches up to :func:`count_limit` (``total_exact`` false when there are more): counting
    every match of a broad filter walked thousands of index entries per request, more than the page itself."""
    shape, params, limit = _page_params(f)
    rows = fetch_rows(conn, counted_page_statement(shape), params)
    # an empty page (past the last match) carries no count (the last column): ask for it alone
    counted = int(rows[0][-1] if rows else fetch_scalar(conn, count_statement(shape), params))
    items = [item_json(*_complete(conn, row)) for row in rows]
    return _page_body(f, shape, limit, counted, items)


async def model_page_json_async(reads: AsyncReads, f: ModelFilter) -> bytes | None:
    """:func:`model_page_json` on :class:`AsyncReads` (PostgreSQL); ``None`` when a row of the page lacks its
    pre-rendered fragments (see :func:`_complete`): the caller then reads the page with :func:`model_page_json`."""
    shape, params, limit = _page_params(f)
    async with reads.connection() as conn:
        rows = await reads.fetch_rows(conn, counted_page_statement(shape), params)
        if not rows:
            rows_count = await reads.fetch_rows(conn, count_statement(shape), params)
    if any(not _is_complete(row) for row in rows):
        return None
    counted = int(rows[0][-1] if rows else rows_count[0][0])
    return _page_body(f, shape, limit, counted, [item_json(*row[:7]) for row in rows])


def _is_complete(row: Sequence[Any]) -> bool:
    """Whether ``row`` carries every fragment its item needs (rows written by this version always do)."""
    model_json, name_json, status, metrics_json = row[1], row[4], row[5], row[6]
    return model_json is not None and (status is None or (name_json is not None and metrics_json is not None))


def _complete(conn: Connection, row: Sequence[Any]) -> tuple[Any, ...]:
    """``row``'s item fields with its fragments, rendered now if missing: a row written by an older version of the
    indexer or fetcher still running against this database (a rolling upgrade). Otherwise ``row`` as is."""
    token_id, model_json, minted_block, sales, name_json, status, metrics_json = tuple(row)[:7]
    if _is_complete(row):
        return token_id, model_json, minted_block, sales, name_json, status, metrics_json
    model = conn.execute(select(s.models).where(s.models.c.token_id == token_id)).mappings().one()
    if model_json is None:
        model_json = model_fragment(model)
    if status is not None:
        cid = model["metadata_cid"]
        name = conn.execute(select(s.nft_metadata.c.name).where(s.nft_metadata.c.cid == cid)).scalar()
        name_json, metrics_json = stored_metadata_fragments(conn, cid, name, status)
    return token_id, model_json, minted_block, sales, name_json, status, metrics_json


def runs_on_event_loop(engine: Engine, offset: int) -> bool:
    """Whether an index read skipping ``offset`` rows is cheap and bounded enough for the server's event loop.

    True for SQLite (in-process: the statements are a fraction of a millisecond of CPU) up to
    :data:`EVENT_LOOP_MAX_OFFSET`. False for a database across a socket — blocking the loop on a network round trip
    would stall every other request — and for deep pages, whose OFFSET walk grows with the page number.
    """
    return engine.dialect.name == "sqlite" and offset <= EVENT_LOOP_MAX_OFFSET
