"""Pre-rendered JSON for ``GET /models``: how index rows carry their part of the response, and how a page is spliced.

A listing item (:class:`~anacostia_blockchain.service.api.bodies.ModelSummary`) mixes fields owned by two kinds of
rows: the model (owner, listing, price, ...) changes with chain events, the metadata (name, verification status,
metrics) is content-addressed and shared by every model pointing at the same CID. So each kind renders its own part
when it is *written* — the indexer renders :func:`model_fragment` into ``models.listing_json``, the metadata fetcher
renders :func:`metadata_name_json` and ``metric_values.metrics_json`` into ``nft_metadata`` — and a request only
splices strings (:func:`item_json`, :func:`page_json`). Re-rendering a model whenever its metadata is fetched would
fan one document out to every model sharing it; splicing at read time costs one string format per item.

Everything is rendered with ``pydantic_core.to_json``, the serializer behind ``ModelPage.model_dump_json``, so the
bytes are what validating the rows into the Pydantic models and dumping them would produce (the service tests
compare the two on every filter and sort) — without building a Pydantic object per item on the hot path. Metric
values are the one exception: they are the exact decimals of the metadata, written as JSON number literals digit for
digit (``metric_values.py``), where Pydantic would round them to doubles.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic_core import to_json

#: The ``ModelSummary`` fields a model row renders itself, in the schema's order (between ``name`` and
#: ``metadata_status``; ``token_id``, ``minted_block`` and ``sales`` are integers spliced directly).
MODEL_FIELDS = ("owner", "ip_id", "listed", "price_usd", "price_usd_units", "metadata_cid")

_NULL = "null"
_NO_METRICS = "{}"
_STATUS_JSON: dict[str | None, str] = {None: _NULL}


def _json(value: Any) -> str:
    return to_json(value).decode()


def model_fragment(row: Mapping[Any, Any]) -> str:
    """``"owner":…,"ip_id":…,…,"metadata_cid":…`` for a model row (or projection state), without braces."""
    return _json({name: row[name] for name in MODEL_FIELDS})[1:-1]


def metadata_name_json(name: str | None) -> str:
    return _json(name)


def _status_json(status: str | None) -> str:
    rendered = _STATUS_JSON.get(status)
    if rendered is None:
        rendered = _STATUS_JSON[status] = _json(status)  # a handful of distinct values: memoised
    return rendered


def item_json(
    token_id: int,
    model_json: str,
    minted_block: int,
    sales: int,
    name_json: str | None,
    metadata_status: str | None,
    metrics_json: str | None,
) -> str:
    """One ``ModelSummary`` object. ``name_json``/``metrics_json`` are ``None`` when no metadata row exists yet;
    metrics count only once the document is verified."""
    metrics = metrics_json if metadata_status == "verified" and metrics_json else _NO_METRICS
    return (
        f'{{"token_id":{int(token_id)},"name":{name_json or _NULL},{model_json},'
        f'"metadata_status":{_status_json(metadata_status)},"minted_block":{int(minted_block)},'
        f'"sales":{int(sales)},"metrics":{metrics}}}'
    )


def page_json(total: int, total_exact: bool, page: int, page_size: int, items: Iterable[str]) -> bytes:
    """A whole ``ModelPage`` body from rendered items."""
    exact = "true" if total_exact else "false"
    head = f'{{"total":{int(total)},"total_exact":{exact},"page":{int(page)},"page_size":{int(page_size)},"items":['
    return (head + ",".join(items) + "]}").encode()
