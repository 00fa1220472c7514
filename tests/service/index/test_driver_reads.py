"""The hot reads on the database driver (``index.driver_reads``): the same rows as SQLAlchemy on both databases, and
on PostgreSQL the event loop's own connections — autocommit, generic plans, a failed connection never reused — with
the list endpoints and ``/status`` answered on them rather than on the listing threads."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import bindparam, insert, select

from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.index import open_index, queries
from anacostia_blockchain.service.index import schema as s
from anacostia_blockchain.service.index.counts import add_counts
from anacostia_blockchain.service.index.driver_reads import AsyncReads, fetch_rows, fetch_scalar

BY_PREFIX = select(s.index_counts.c.name, s.index_counts.c.value).where(
    s.index_counts.c.name.startswith(bindparam("prefix"))
).order_by(s.index_counts.c.name)


def test_fetch_rows_returns_what_sqlalchemy_returns(database_url: str) -> None:
    engine = open_index(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(s.index_cursor).values(id=1, chain_id=31337, next_block=5))
            add_counts(conn, {"models": 3, "runs": 2})
        with engine.connect() as conn:
            expected = [tuple(r) for r in conn.execute(BY_PREFIX, {"prefix": "r"})]
            assert [tuple(r) for r in fetch_rows(conn, BY_PREFIX, {"prefix": "r"})] == expected == [("runs", 2)]
            # a statement's own literals ('models') are bound too
            assert fetch_scalar(conn, queries.kept_count("models")) == 3
            assert queries.index_status(conn) == {"next_block": 5, "models": 3, "runs": 2, "events": 0}
            with pytest.raises(LookupError):
                fetch_scalar(conn, BY_PREFIX, {"prefix": "nothing"})
    finally:
        engine.dispose()


def test_async_reads_use_autocommit_generic_plans_and_drop_a_failed_connection(postgres_url: str) -> None:
    engine = open_index(postgres_url)

    async def scenario() -> dict[str, Any]:
        reads = AsyncReads(engine, size=2)
        seen: dict[str, Any] = {}
        try:
            async with reads.connection() as conn:
                seen["status"] = queries._status(await reads.fetch_rows(conn, queries.STATUS))
                seen["autocommit"] = conn.autocommit
                seen["plans"] = (await (await conn.execute("SHOW plan_cache_mode")).fetchone() or [None])[0]
                first = conn
            async with reads.connection() as conn:
                seen["reused"] = conn is first
            with pytest.raises(psycopg.errors.UndefinedTable):
                async with reads.connection() as conn:
                    await conn.execute("SELECT * FROM no_such_table")
            assert first.closed
            async with reads.connection() as conn:
                seen["replaced"] = conn is not first and not conn.closed
        finally:
            await reads.close()
        return seen

    try:
        seen = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert seen == {"status": {"next_block": None, "models": 0, "runs": 0, "events": 0}, "autocommit": True,
                    "plans": "force_generic_plan", "reused": True, "replaced": True}


def test_postgres_list_endpoints_read_on_the_event_loop(postgres_url: str) -> None:
    engine = open_index(postgres_url)
    with engine.begin() as conn:
        conn.execute(insert(s.index_cursor).values(id=1, chain_id=31337, next_block=7))
    engine.dispose()
    config = ServiceConfig(database_url=postgres_url, chain_id=31337, rate_limit=RateLimit(0, 1),
                           response_cache_seconds=0, run_indexer=False)
    app = create_app(config)
    with TestClient(app) as http:
        assert http.get("/models").json()["total"] == 0
        assert http.get("/runs").json()["items"] == []
        assert http.get("/status").json()["next_block"] == 7
        # answered by the loop's own connections: the listing threads were never needed
        assert getattr(app.state, "listing_threads", None) is None
        assert app.state.async_reads is not None
    assert app.state.async_reads is None  # closed with the app
