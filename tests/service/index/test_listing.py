"""``GET /models`` served from pre-rendered JSON: byte-identical to validating rows into the Pydantic models (metric
values excepted: they are the metadata's exact decimals, written digit for digit), correct for every filter and sort,
index-ordered on SQLite, and able to upgrade an index of an older schema.

The index here is written by the real write paths — metadata produced by the project's NFT metadata writer, fetched
by the metadata fetcher over a real embedded IPFS blockstore, and model rows rendered by the schema upgrade exactly as
an older version's rows would be — on SQLite and PostgreSQL. The expected body of every request is computed
independently: raw rows filtered and sorted in Python (metrics as read from the documents themselves, compared as
decimals), validated into ``ModelSummary`` and dumped by Pydantic.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, state
from service_world import WorldSetup
from sqlalchemy import Engine, insert, select, text, update
from writer_metadata import writer_document

from anacostia_blockchain.chain.encoding import checksum
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.api.bodies import ModelPage, ModelSummary
from anacostia_blockchain.service.index import (
    MetadataFetcher,
    ModelFilter,
    create_index_engine,
    create_or_upgrade,
    listing,
    sort_key,
)
from anacostia_blockchain.service.index import schema as s
from anacostia_blockchain.service.index.counts import add_counts
from anacostia_blockchain.service.index.listing import ListingShape, picking_statement
from anacostia_blockchain.service.index.projection import new_model_state

OWNERS = [checksum("0x" + f"{i:02x}" * 20) for i in (0x11, 0x22, 0x33)]
MODELS = 240
#: (name, logged metrics) of each document the writer produces: escapes and non-ASCII in names, ties, a value with
#: more digits than a double holds, negative values, huge and tiny exponents, no metrics at all.
DOCUMENTS: list[tuple[str, dict[str, Decimal | int]]] = [
    ('mnist "cnn" \\ ✓\n\t', {"accuracy": Decimal("0.91"), "f1": Decimal("0.5"), "epochs": 10}),
    ("résumé-bert", {"accuracy": Decimal("0.91"), "loss": Decimal("1E-7")}),  # an accuracy tie with the first
    ("big", {"accuracy": Decimal("0.970000000000000001"), "f1": Decimal("1E+40")}),
    ("close", {"accuracy": Decimal("0.97"), "delta": Decimal("-0.003"), "loss": Decimal("-12.5")}),
    ("below", {"accuracy": Decimal("0.42"), "delta": Decimal("-0.0031")}),
    ("no metrics at all", {}),
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


def _populate(engine: Engine, workdir: Path) -> dict[str, dict[str, str]]:
    """Metadata through the real fetcher; model rows written without fragments, as an older version wrote them.
    Returns the metrics each verified document states (``properties.metrics``, read from the document itself)."""
    store = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
    documents = [writer_document(name, metrics, run_id=i) for i, (name, metrics) in enumerate(DOCUMENTS, start=1)]
    verified = [str(store.add_bytes(doc, cid_version=1).cid) for doc in documents]
    invalid = str(store.add_bytes(b"not json {", cid_version=1).cid)
    elsewhere = EmbeddedBlockstore(workdir / "elsewhere", fsync=False)
    unavailable = str(elsewhere.add_bytes(writer_document("never fetched", {}), cid_version=1).cid)
    never_fetched = str(elsewhere.add_bytes(writer_document("not yet", {}), cid_version=1).cid)
    cids: list[str | None] = [*verified, invalid, unavailable, None]
    rows = [_model_row(t, cids[t % len(cids)]) for t in range(1, MODELS + 1)]
    create_or_upgrade(engine)
    with engine.begin() as conn:  # the indexer keeps the count of models with the rows it writes
        conn.execute(insert(s.models), rows[:-20])
        add_counts(conn, {"models": len(rows) - 20})
    fetcher = MetadataFetcher(engine, store)
    fetcher.fetch_once(limit=100)
    with engine.begin() as conn:  # models whose metadata has not been fetched yet (no nft_metadata row at all)
        conn.execute(insert(s.models), [{**r, "metadata_cid": never_fetched} for r in rows[-20:]])
        add_counts(conn, {"models": 20})
        conn.execute(update(s.models).values(listing_json=None))  # as written before listing_json existed
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    create_or_upgrade(engine)
    return {cid: json.loads(doc)["properties"]["metrics"] for cid, doc in zip(verified, documents, strict=True)}


def _item_json(summary: ModelSummary, metrics: dict[str, str]) -> str:
    """``summary`` dumped by Pydantic, its (last) ``metrics`` field written with the documents' exact decimals."""
    dumped = summary.model_dump_json()
    assert dumped.endswith(',"metrics":{}}')
    exact = ",".join(f"{json.dumps(name)}:{metrics[name]}" for name in sorted(metrics))
    return dumped[: -len("{}}")] + "{" + exact + "}}"


def _expected(engine: Engine, stated: dict[str, dict[str, str]], f: ModelFilter) -> bytes:
    """The reference answer: raw rows, filtered and sorted in Python, validated and dumped by Pydantic."""
    with engine.connect() as conn:
        models = [dict(r) for r in conn.execute(select(s.models)).mappings()]
        docs = {r.cid: r for r in conn.execute(select(s.nft_metadata))}
    verified = {cid: stated.get(cid, {}) for cid, doc in docs.items() if doc.status == "verified"}
    chosen = []
    for m in models:
        text_value = verified.get(m["metadata_cid"], {}).get(f.metric or "")
        value = Decimal(text_value) if text_value is not None else None
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
        summary = ModelSummary(
            **{k: m[k] for k in ("token_id", "owner", "ip_id", "listed", "price_usd", "price_usd_units")},
            metadata_cid=m["metadata_cid"],
            name=doc.name if doc is not None else None,
            metadata_status=doc.status if doc is not None else None,
            minted_block=m["minted_block"],
            sales=m["sales"],
            metrics={},
        )
        items.append(_item_json(summary, verified.get(m["metadata_cid"], {})))
    unfiltered = ListingShape.of(f).present == frozenset()
    cap = len(chosen) if unfiltered else f.offset + f.page_size + listing.COUNT_AHEAD  # unfiltered: every model
    page = ModelPage(total=min(len(chosen), cap), total_exact=len(chosen) <= cap, page=f.page, page_size=f.page_size,
                     items=[]).model_dump_json()
    assert page.endswith('"items":[]}')
    return (page[: -len("[]}")] + "[" + ",".join(items) + "]}").encode()


FILTERS: list[dict[str, Any]] = [
    {},
    {"owner": OWNERS[1]},
    {"listed": True},
    {"listed": False},
    {"min_price_usd": 4.5, "max_price_usd": 9.0},
    {"listed": True, "max_price_usd": 7.5},
    {"owner": OWNERS[2], "min_price_usd": 1.0},
    {"metric": "accuracy"},
    {"metric": "accuracy", "min_metric": Decimal("0.5"), "max_metric": Decimal("0.95")},
    {"metric": "accuracy", "min_metric": Decimal("0.970000000000000001")},  # excludes 0.97, a double would not
    {"metric": "delta", "max_metric": Decimal("-0.003")},
    {"metric": "loss", "min_metric": Decimal("-13"), "max_metric": Decimal("1E-7")},
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
            params[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return params


@pytest.fixture
def listing_index(database_url: str, tmp_path: Path) -> tuple[Engine, dict[str, dict[str, str]]]:
    engine = create_index_engine(database_url)
    return engine, _populate(engine, tmp_path)


def test_every_filter_and_sort_matches_the_pydantic_reference_byte_for_byte(
    listing_index: tuple[Engine, dict[str, dict[str, str]]], database_url: str
) -> None:
    engine, stated = listing_index
    config = ServiceConfig(database_url=database_url, chain_id=31337, rate_limit=RateLimit(0, 1),
                           response_cache_seconds=0)
    cases = _cases()
    nonempty = 0
    with TestClient(create_app(config)) as http:
        for f in cases:
            response = http.get("/models", params=_query(f))
            assert response.status_code == 200, (f, response.text)
            assert response.headers["content-type"] == "application/json"
            assert response.content == _expected(engine, stated, f), f
            nonempty += bool(response.json()["items"])
        # The data exercises what the splice must get right: escapes, non-ASCII, no name, no metadata row, floats.
        http_page = http.get("/models", params={"sort": "token_id", "page_size": 100}).content
        page = json.loads(http_page)["items"]
    assert nonempty > len(cases) // 3  # the deep pages past the end (empty) are part of the contract too
    assert {item["metadata_status"] for item in page} == {"verified", "invalid", "unavailable", None}
    assert any(item["name"] == DOCUMENTS[0][0] for item in page)
    assert any(item["metrics"].get("epochs") == 10 for item in page)
    exact = json.loads(http_page, parse_float=Decimal)["items"]
    assert any(item["metrics"].get("accuracy") == Decimal("0.970000000000000001") for item in exact)
    engine.dispose()


def test_totals_are_counted_to_a_bound_past_the_page(listing_index: tuple[Engine, dict[str, dict[str, str]]],
                                                     database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, stated = listing_index
    monkeypatch.setattr(listing, "COUNT_AHEAD", 7)
    config = ServiceConfig(database_url=database_url, chain_id=31337, response_cache_seconds=0)
    owner = OWNERS[1]  # a third of the models
    with TestClient(create_app(config)) as http:
        for f in (ModelFilter(), ModelFilter(owner=owner, page=2, page_size=30), ModelFilter(owner=owner, page=3,
                  page_size=30), ModelFilter(metric="accuracy", sort="metric_desc", page=3, page_size=10)):
            body = http.get("/models", params=_query(f))
            assert body.content == _expected(engine, stated, f), f
        first, last = (http.get("/models", params={"owner": owner, "page": p, "page_size": 30}).json() for p in (1, 3))
        every = http.get("/models", params={"page_size": 30}).json()
        runs = http.get("/runs", params={"page_size": 1}).json()
    assert (first["total"], first["total_exact"]) == (30 + 7, False)  # more than that match
    assert (last["total"], last["total_exact"]) == (MODELS // 3, True) and len(last["items"]) == 20
    # without a filter the total is the count the indexer keeps: exact however many there are
    assert (every["total"], every["total_exact"]) == (MODELS, True)
    assert (runs["total"], runs["total_exact"]) == (0, True)
    engine.dispose()


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
                values.update({n: sort_key(values[n]) for n in ("min_metric", "max_metric") if n in values})
                bound = [values[name] for name in compiled.positiontup or ()]
                steps = [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + str(compiled), bound)]
                tables = [step for step in steps if step.startswith(("SCAN", "SEARCH"))]
                assert tables and all("INDEX" in step for step in tables), (filters, sort, steps)
                sorts = [step for step in steps if "TEMP B-TREE" in step]
                # Without a metric the index yields page order: nothing is sorted. A metric alone, sorted by the
                # metric or by token, is one walk of a model_metrics index. A metric with other filters is a join,
                # and the planner picks its side by selectivity, so those matches may be sorted.
                if "metric" not in filters:
                    assert sorts == [], (filters, sort, steps)
                elif set(filters) <= {"metric", "min_metric", "max_metric"} and sort.startswith(("metric", "token")):
                    assert sorts == [] and tables == [tables[0]] and "model_metrics" in tables[0], (filters, sort)
    engine.dispose()


#: Tables and columns the first release of the schema did not have.
LATER_TABLES = ("model_metrics", "index_counts")
LATER_COLUMNS = ("listing_json", "name_json", "metrics_json", "metrics_version", "exact", "sort_key")


def test_an_index_from_an_older_version_is_upgraded_in_place(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_index_engine(url)
    with engine.begin() as conn:  # the tables as the first release created them: no fragment columns or new indexes
        for table in (t for t in s.metadata.sorted_tables if t.name not in LATER_TABLES):
            columns = [c for c in table.columns if c.name not in LATER_COLUMNS]
            conn.execute(text(_create_table_sql(engine, table.name, columns)))
        conn.execute(text("CREATE INDEX ix_models_owner ON models (owner)"))
        conn.execute(text("CREATE INDEX ix_nft_metrics_name_value ON nft_metrics (name, value)"))
    # A verified document of the project's writer, stored by a version that indexed JSON numbers only: no metrics.
    document = writer_document("old", {"accuracy": Decimal("0.970000000000000001")})
    cid = str(compute_cid(document, cid_version=1))
    old_row = {k: v for k, v in _model_row(7, cid).items() if k != "listing_json"}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO models (" + ",".join(old_row) + ") VALUES (" + ",".join(f":{k}" for k in old_row) + ")"
        ), old_row)
        conn.execute(text("INSERT INTO nft_metadata (cid, status, name, document, attempts, fetched_at) "
                          "VALUES (:cid, 'verified', 'old', :document, 1, 0)"),
                     {"cid": cid, "document": json.dumps(json.loads(document))})
    create_or_upgrade(engine)
    create_or_upgrade(engine)  # idempotent
    with engine.connect() as conn:
        indexes = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))}
        fragment = conn.execute(select(s.models.c.listing_json)).scalar_one()
    assert {i.name for i in s.models.indexes} <= indexes and "ix_models_owner" not in indexes
    assert "ix_nft_metrics_name_value" not in indexes
    assert json.loads("{" + fragment + "}")["owner"] == OWNERS[7 % 3]
    engine.dispose()
    config = ServiceConfig(database_url=url, chain_id=31337, response_cache_seconds=0)
    stated = {cid: json.loads(document)["properties"]["metrics"]}
    with TestClient(create_app(config)) as http:
        assert http.get("/models").content == _expected(create_index_engine(url), stated, ModelFilter())
        found = http.get("/models", params={"metric": "accuracy", "min_metric": "0.970000000000000001"}).json()
        assert [item["token_id"] for item in found["items"]] == [7]


def _create_table_sql(engine: Engine, name: str, columns: list[Any]) -> str:
    from sqlalchemy import Column, MetaData, Table
    from sqlalchemy.schema import CreateTable

    table = Table(name, MetaData(), *(Column(c.name, c.type, primary_key=c.primary_key) for c in columns))
    return str(CreateTable(table).compile(engine))


def test_the_indexer_writes_the_fragments_the_listing_serves(make_app: AppFactory, database_url: str,
                                                              world: WorldSetup, ipfs: EmbeddedBlockstore) -> None:
    app = make_app(database_url, response_cache_seconds=0)
    stated = {cid: json.loads(ipfs.cat(cid))["properties"]["metrics"]
              for cid in (world.metadata_cid, world.plain_metadata_cid)}
    with TestClient(app) as http:
        index_everything(app)
        engine = state(app).engine
        for f in (ModelFilter(sort="token_id"), ModelFilter(listed=True), ModelFilter(metric="accuracy"),
                  ModelFilter(metric="f1", sort="metric_asc"), ModelFilter(sort="price_desc", page_size=1, page=2)):
            assert http.get("/models", params=_query(f)).content == _expected(engine, stated, f)
        with engine.connect() as conn:
            fragments = conn.execute(select(s.models.c.listing_json)).scalars().all()
        assert len(fragments) == 2 and all(fragment for fragment in fragments)


def test_rows_without_fragments_are_rendered_on_the_fly(listing_index: tuple[Engine, dict[str, dict[str, str]]],
                                                        database_url: str) -> None:
    """An indexer or fetcher of an older version still writing the database (a rolling upgrade) leaves rows without
    fragments; the listing renders those from their columns instead of serving broken JSON."""
    engine, stated = listing_index
    with engine.begin() as conn:
        conn.execute(update(s.models).where(s.models.c.token_id % 2 == 0).values(listing_json=None))
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    config = ServiceConfig(database_url=database_url, chain_id=31337, response_cache_seconds=0, run_indexer=False)
    app = create_app(config)
    with engine.begin() as conn:  # create_app upgraded them: strip them again, as the old writer would
        conn.execute(update(s.models).where(s.models.c.token_id % 2 == 0).values(listing_json=None))
        conn.execute(update(s.nft_metadata).values(name_json=None, metrics_json=None))
    with TestClient(app) as http:
        for f in (ModelFilter(sort="token_id", page_size=100), ModelFilter(metric="accuracy", sort="metric_desc")):
            assert http.get("/models", params=_query(f)).content == _expected(engine, stated, f)
    engine.dispose()
