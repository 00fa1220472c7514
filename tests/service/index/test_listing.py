"""``GET /models`` served from pre-rendered JSON: byte-identical to validating rows into the Pydantic models, correct
for every filter and sort, index-ordered on SQLite, and able to upgrade an index of an older schema.

The index here is written by the real write paths — the metadata fetcher over a real embedded IPFS blockstore, and
model rows rendered by the schema upgrade exactly as an older version's rows would be — on SQLite and PostgreSQL.
The expected body of every request is computed independently: raw rows filtered and sorted in Python, validated into
``ModelPage`` and dumped by Pydantic (the reference the pre-rendered JSON must equal byte for byte).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, state
from service_world import WorldSetup
from sqlalchemy import Engine, insert, select, text, update

from anacostia_blockchain.chain.encoding import checksum
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.api.bodies import ModelPage, ModelSummary
from anacostia_blockchain.service.index import MetadataFetcher, ModelFilter, create_index_engine, create_or_upgrade
from anacostia_blockchain.service.index import schema as s
from anacostia_blockchain.service.index.listing import ListingShape, picking_statement
from anacostia_blockchain.service.index.projection import new_model_state

OWNERS = [checksum("0x" + f"{i:02x}" * 20) for i in (0x11, 0x22, 0x33)]
MODELS = 240
DOCUMENTS: list[dict[str, Any]] = [
    {"name": 'mnist "cnn" \\ ✓\n\t', "metrics": {"accuracy": 0.91, "f1": 0.5, "epochs": 10}},
    {"name": "résumé-bert", "metrics": {"accuracy": 0.91, "loss": 1e-07}},  # an accuracy tie with the first
    {"name": "big", "attributes": [{"trait_type": "accuracy", "value": 0.97}, {"trait_type": "f1", "value": 1e300}]},
    {"metrics": {"accuracy": 0.42}},  # no name
    {"name": "no metrics at all"},
]


def _model_row(token_id: int, cid: str | None) -> dict[str, Any]:
    """A model row as the projection shapes it, with ties in block and price to exercise the tie-breakers."""
    row = new_model_state(token_id)
    listed = token_id % 3 == 0
    priced = listed or token_id % 5 == 1  # delisted models keep their last price
    price_units = ((token_id * 7) % 10 + 1) * 15 * 10**17 if priced else None
    row.update(
        owner=OWNERS[token_id % 3],
        minter=OWNERS[0],
        pipeline_id="0x" + f"{token_id % 4 + 1:064x}",
        run_id=token_id,
        anchor_root="0x" + f"{token_id:064x}",
        manifest_cid="bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
        token_uri=f"ipfs://{cid}" if cid else None,
        metadata_cid=cid,
        listed=listed,
        seller=OWNERS[0] if listed else None,
        price_usd_units=str(price_units) if price_units is not None else None,
        price_usd=price_units / 10**18 if price_units is not None else None,
        sales=token_id % 4,
        minted_block=100 + token_id // 3,
        minted_tx="0x" + "ab" * 32,
        updated_block=100 + token_id // 3,
    )
    return row


def _populate(engine: Engine, workdir: Path) -> None:
    """Metadata through the real fetcher; model rows written without fragments, as an older version wrote them."""
    store = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
    verified = [str(store.add_bytes(json.dumps(doc).encode(), cid_version=1).cid) for doc in DOCUMENTS]
    invalid = str(store.add_bytes(b"not json {", cid_version=1).cid)
    elsewhere = EmbeddedBlockstore(workdir / "elsewhere", fsync=False)
    unavailable = str(elsewhere.add_bytes(b'{"name": "never fetched"}', cid_version=1).cid)
    never_fetched = str(elsewhere.add_bytes(b'{"name": "not yet"}', cid_version=1).cid)
    cids: list[str | None] = [*verified, invalid, unavailable, None]
    rows = [_model_row(t, cids[t % len(cids)]) for t in range(1, MODELS + 1)]
    create_or_upgrade(engine)
    with engine.begin() as conn:
        conn.execute(insert(s.models), rows[:-20])
    fetcher = MetadataFetcher(engine, store)
    fetcher.fetch_once(limit=100)
    with engine.begin() as conn:  # models whose metadata has not been fetched yet (no nft_metadata row at all)
        conn.execute(insert(s.models), [{**r, "metadata_cid": never_fetched} for r in rows[-20:]])
        conn.execute(update(s.models).values(listing_json=None))  # as written before listing_json existed
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    create_or_upgrade(engine)


def _expected(engine: Engine, f: ModelFilter) -> bytes:
    """The reference answer: raw rows, filtered and sorted in Python, validated and dumped by Pydantic."""
    with engine.connect() as conn:
        models = [dict(r) for r in conn.execute(select(s.models)).mappings()]
        docs = {r.cid: r for r in conn.execute(select(s.nft_metadata))}
        metrics: dict[str, dict[str, float]] = {}
        for r in conn.execute(select(s.nft_metrics)):
            metrics.setdefault(r.cid, {})[r.name] = r.value
    chosen = []
    for m in models:
        value = metrics.get(m["metadata_cid"], {}).get(f.metric) if f.metric is not None else None
        price = m["price_usd"]
        if f.metric is not None and (
            value is None
            or (f.min_metric is not None and value < f.min_metric)
            or (f.max_metric is not None and value > f.max_metric)
        ):
            continue
        if (f.owner is not None and m["owner"] != f.owner) or (f.listed is not None and m["listed"] != f.listed):
            continue
        if f.min_price_usd is not None and (price is None or price < f.min_price_usd):
            continue
        if f.max_price_usd is not None and (price is None or price > f.max_price_usd):
            continue
        chosen.append((m, value))
    keys = {
        "newest": lambda mv: (-mv[0]["minted_block"], -mv[0]["token_id"]),
        "oldest": lambda mv: (mv[0]["minted_block"], mv[0]["token_id"]),
        "price_asc": lambda mv: (mv[0]["price_usd"] is None, mv[0]["price_usd"] or 0, mv[0]["token_id"]),
        "price_desc": lambda mv: (mv[0]["price_usd"] is None, -(mv[0]["price_usd"] or 0), mv[0]["token_id"]),
        "token_id": lambda mv: mv[0]["token_id"],
        "metric_asc": lambda mv: (mv[1], mv[0]["token_id"]),
        "metric_desc": lambda mv: (-mv[1], mv[0]["token_id"]),
    }
    chosen.sort(key=keys[f.sort])
    items = []
    for m, _value in chosen[f.offset : f.offset + f.page_size]:
        doc = docs.get(m["metadata_cid"])
        status = doc.status if doc is not None else None
        items.append(
            ModelSummary(
                **{k: m[k] for k in ("token_id", "owner", "ip_id", "listed", "price_usd", "price_usd_units")},
                metadata_cid=m["metadata_cid"],
                name=doc.name if doc is not None else None,
                metadata_status=status,
                minted_block=m["minted_block"],
                sales=m["sales"],
                metrics=dict(sorted(metrics.get(m["metadata_cid"], {}).items())) if status == "verified" else {},
            )
        )
    return ModelPage(total=len(chosen), page=f.page, page_size=f.page_size, items=items).model_dump_json().encode()


FILTERS: list[dict[str, Any]] = [
    {},
    {"owner": OWNERS[1]},
    {"listed": True},
    {"listed": False},
    {"min_price_usd": 4.5, "max_price_usd": 9.0},
    {"listed": True, "max_price_usd": 7.5},
    {"owner": OWNERS[2], "min_price_usd": 1.0},
    {"metric": "accuracy"},
    {"metric": "accuracy", "min_metric": 0.5, "max_metric": 0.95},
    {"metric": "f1", "listed": True},
    {"metric": "epochs", "owner": OWNERS[0], "max_price_usd": 12.0},
    {"metric": "no-such-metric"},
]
SORTS = ["newest", "oldest", "price_asc", "price_desc", "token_id"]


def _cases() -> list[ModelFilter]:
    cases = []
    for filters in FILTERS:
        sorts = SORTS + (["metric_asc", "metric_desc"] if "metric" in filters else [])
        for sort in sorts:
            for page, page_size in ((1, 20), (2, 7), (3, 100), (40, 5)):
                cases.append(ModelFilter(**filters, sort=sort, page=page, page_size=page_size))
    return cases


def _query(f: ModelFilter) -> dict[str, Any]:
    params: dict[str, Any] = {"sort": f.sort, "page": f.page, "page_size": f.page_size}
    for name in ("owner", "listed", "min_price_usd", "max_price_usd", "metric", "min_metric", "max_metric"):
        value = getattr(f, name)
        if value is not None:
            params[name] = str(value).lower() if isinstance(value, bool) else value
    return params


@pytest.fixture
def listing_index(database_url: str, tmp_path: Path) -> Engine:
    engine = create_index_engine(database_url)
    _populate(engine, tmp_path)
    return engine


def test_every_filter_and_sort_matches_the_pydantic_reference_byte_for_byte(
    listing_index: Engine, database_url: str
) -> None:
    config = ServiceConfig(database_url=database_url, chain_id=31337, rate_limit=RateLimit(0, 1),
                           response_cache_seconds=0)
    cases = _cases()
    nonempty = 0
    with TestClient(create_app(config)) as http:
        for f in cases:
            response = http.get("/models", params=_query(f))
            assert response.status_code == 200, (f, response.text)
            assert response.headers["content-type"] == "application/json"
            assert response.content == _expected(listing_index, f), f
            nonempty += bool(response.json()["items"])
        # The data exercises what the splice must get right: escapes, non-ASCII, no name, no metadata row, floats.
        page = http.get("/models", params={"sort": "token_id", "page_size": 100}).json()["items"]
    assert nonempty > len(cases) // 3  # the deep pages past the end (empty) are part of the contract too
    assert {item["metadata_status"] for item in page} == {"verified", "invalid", "unavailable", None}
    assert any(item["name"] == DOCUMENTS[0]["name"] for item in page)
    assert any(item["metrics"].get("epochs") == 10.0 for item in page)
    listing_index.dispose()


def test_every_sort_and_filter_is_an_index_walk_on_sqlite(tmp_path: Path) -> None:
    engine = create_index_engine(f"sqlite:///{tmp_path / 'plans.db'}")
    _populate(engine, tmp_path)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert raw is not None
        for filters in FILTERS:
            for sort in SORTS + (["metric_asc", "metric_desc"] if "metric" in filters else []):
                shape = ListingShape.of(ModelFilter(**filters, sort=sort))  # type: ignore[arg-type]
                compiled = picking_statement(shape).compile(engine)
                values = {**{n: filters[n] for n in shape.present}, "page_limit": 20, "page_offset": 40}
                bound = [values[name] for name in compiled.positiontup or ()]
                steps = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + str(compiled), bound)]
                tables = [step for step in steps if step.startswith(("SCAN", "SEARCH"))]
                assert tables and all("INDEX" in step for step in tables), (filters, sort, steps)
                sorts = [step for step in steps if "TEMP B-TREE" in step]
                # Without a metric the index yields page order: nothing is sorted. A metric filter is a join, and
                # the planner picks its side by selectivity, so the matches of a metric filter may be sorted.
                if "metric" not in filters:
                    assert sorts == [], (filters, sort, steps)
                elif filters == {"metric": "accuracy"} and sort.startswith("metric"):
                    assert sorts == ["USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"], (filters, sort, steps)
    engine.dispose()


def test_an_index_from_an_older_version_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_index_engine(url)
    with engine.begin() as conn:  # the tables as the first release created them: no fragment columns or new indexes
        for table in s.metadata.sorted_tables:
            columns = [c for c in table.columns if c.name not in ("listing_json", "name_json", "metrics_json")]
            conn.execute(text(_create_table_sql(engine, table.name, columns)))
        conn.execute(text("CREATE INDEX ix_models_owner ON models (owner)"))
    old_row = {k: v for k, v in _model_row(7, None).items() if k != "listing_json"}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO models (" + ",".join(old_row) + ") VALUES (" + ",".join(f":{k}" for k in old_row) + ")"
        ), old_row)
    create_or_upgrade(engine)
    create_or_upgrade(engine)  # idempotent
    with engine.connect() as conn:
        indexes = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        fragment = conn.execute(select(s.models.c.listing_json)).scalar_one()
    assert {i.name for i in s.models.indexes} <= indexes and "ix_models_owner" not in indexes
    assert json.loads("{" + fragment + "}")["owner"] == OWNERS[7 % 3]
    engine.dispose()
    config = ServiceConfig(database_url=url, chain_id=31337, response_cache_seconds=0)
    with TestClient(create_app(config)) as http:
        assert http.get("/models").content == _expected(create_index_engine(url), ModelFilter())


def _create_table_sql(engine: Engine, name: str, columns: list[Any]) -> str:
    from sqlalchemy import Column, MetaData, Table
    from sqlalchemy.schema import CreateTable

    table = Table(name, MetaData(), *(Column(c.name, c.type, primary_key=c.primary_key) for c in columns))
    return str(CreateTable(table).compile(engine))


def test_the_indexer_writes_the_fragments_the_listing_serves(make_app: AppFactory, database_url: str,
                                                              world: WorldSetup) -> None:
    app = make_app(database_url, response_cache_seconds=0)
    with TestClient(app) as http:
        index_everything(app)
        engine = state(app).engine
        for f in (ModelFilter(sort="token_id"), ModelFilter(listed=True), ModelFilter(metric="accuracy"),
                  ModelFilter(sort="price_desc", page_size=1, page=2)):
            assert http.get("/models", params=_query(f)).content == _expected(engine, f)
        with engine.connect() as conn:
            fragments = conn.execute(select(s.models.c.listing_json)).scalars().all()
        assert len(fragments) == 2 and all(fragment for fragment in fragments)


def test_rows_without_fragments_are_rendered_on_the_fly(listing_index: Engine, database_url: str) -> None:
    """An indexer or fetcher of an older version still writing the database (a rolling upgrade) leaves rows without
    fragments; the listing renders those from their columns instead of serving broken JSON."""
    with listing_index.begin() as conn:
        conn.execute(update(s.models).where(s.models.c.token_id % 2 == 0).values(listing_json=None))
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    config = ServiceConfig(database_url=database_url, chain_id=31337, response_cache_seconds=0, run_indexer=False)
    app = create_app(config)
    with listing_index.begin() as conn:  # create_app upgraded them: strip them again, as the old writer would
        conn.execute(update(s.models).where(s.models.c.token_id % 2 == 0).values(listing_json=None))
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    with TestClient(app) as http:
        for f in (ModelFilter(sort="token_id", page_size=100), ModelFilter(metric="accuracy", sort="metric_desc")):
            assert http.get("/models", params=_query(f)).content == _expected(listing_index, f)
    listing_index.dispose()
