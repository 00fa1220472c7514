"""Helpers shared by the service tests (kept out of conftest.py so test modules can import them by a unique name)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from anacostia_blockchain.chain.tx import sign_personal_message
from anacostia_blockchain.service import ServiceConfig, create_app
from anacostia_blockchain.service.state import ServiceState
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339

AppFactory = Callable[..., FastAPI]


def state(app: FastAPI) -> ServiceState:
    return app.state.service  # type: ignore[no-any-return]


def offline_app(tmp_path: Path, **overrides: object) -> TestClient:
    """A client of an app without a chain (chain id 31337, so wallet login is configured), on a fresh SQLite index."""
    config = ServiceConfig(database_url=f"sqlite:///{tmp_path / 'offline.db'}", chain_id=31337, **overrides)  # type: ignore[arg-type]
    return TestClient(create_app(config))


def index_everything(app: FastAPI) -> None:
    s = state(app)
    assert s.indexer is not None and s.fetcher is not None
    s.indexer.sync_to_head()
    s.fetcher.fetch_once()


def siwe_text(client: TestClient, address: str, *, now: datetime | None = None, **overrides: Any) -> str:
    offer = client.post("/auth/nonce").json()
    issued = now or datetime.now(UTC)
    fields: dict[str, Any] = {
        "domain": offer["domain"],
        "address": address,
        "uri": offer["uri"] + "/login",
        "chain_id": offer["chain_id"],
        "nonce": offer["nonce"],
        "issued_at": format_rfc3339(issued),
        "statement": offer["statement"],
        "expiration_time": format_rfc3339(issued + timedelta(minutes=5)),
    }
    fields.update(overrides)
    return SiweMessage(**fields).to_text()


def login(client: TestClient, private_key: str, address: str) -> str:
    text = siwe_text(client, address)
    response = client.post("/auth/login", json={"message": text, "signature": sign_personal_message(private_key, text)})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])
