"""The listing cache: answers follow this process's index at once and another process's writes within the TTL."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, state
from service_world import WorldSetup
from sqlalchemy import delete

from anacostia_blockchain.service.index import schema as s
from anacostia_blockchain.service.index.counts import add_counts


def test_listing_cache_follows_the_index_and_expires(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                                     chain: object) -> None:
    app = make_app(sqlite_url, response_cache_seconds=0.3)
    with TestClient(app) as http:
        assert http.get("/models").json()["total"] == 0
        index_everything(app)  # a commit in this process invalidates at once
        assert http.get("/models").json()["total"] == 2
        with state(app).engine.begin() as conn:  # another process deleting a row: visible once the TTL passed
            conn.execute(delete(s.models).where(s.models.c.token_id == world.plain_token))
            add_counts(conn, {"models": -1})  # as an indexer does with the rows it deletes
        assert http.get("/models").json()["total"] == 2
        time.sleep(0.35)
        assert http.get("/models").json()["total"] == 1
        assert http.get("/models", params={"page_size": 5}).json()["page_size"] == 5  # the query string is the key
