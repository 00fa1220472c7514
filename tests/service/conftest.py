"""Fixtures of the service tests: the deployed world (service_world.py), index databases on SQLite and PostgreSQL,
an app factory wired to the real anvil chain and an embedded IPFS blockstore, and a SIWE login helper.

The world is deployed once per module inside a snapshot; every test runs in a further snapshot reverted afterwards,
with a fresh index database, so tests never see each other's chain or index state.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from service_helpers import AppFactory, state
from service_world import WorldSetup, build_world

from anacostia_blockchain.chain import ChainClient, Devnet
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.chain_gateway import ChainGateway

POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"


def service_key() -> bytes:
    return secrets.token_bytes(32)


@pytest.fixture(scope="module")
def ipfs(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBlockstore:
    return EmbeddedBlockstore(tmp_path_factory.mktemp("ipfs"), fsync=False)


@pytest.fixture(scope="module")
def world(devnet: Devnet, ipfs: EmbeddedBlockstore, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorldSetup]:
    outer = devnet.snapshot()
    try:
        yield build_world(devnet, ipfs, tmp_path_factory.mktemp("deployments"))
    finally:
        devnet.revert(outer)


@pytest.fixture
def chain(devnet: Devnet, world: WorldSetup) -> Iterator[Devnet]:
    snapshot = devnet.snapshot()
    try:
        yield devnet
    finally:
        devnet.revert(snapshot)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'index.db'}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    name = f"anacostia_svc_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs on SQLite and on PostgreSQL."""
    return str(request.getfixturevalue(f"{request.param}_url"))




@pytest.fixture
def make_app(chain: Devnet, world: WorldSetup, ipfs: EmbeddedBlockstore) -> AppFactory:
    """Build an app on the test chain; workers are driven by the tests (``state.indexer.sync_to_head()``)."""

    def factory(database_url: str, *, pipeline: Any = None, **overrides: Any) -> FastAPI:
        options: dict[str, Any] = {
            "database_url": database_url,
            "siwe_domain": "testserver",
            "siwe_uri": "http://testserver",
            "service_key": overrides.pop("service_key", None) or service_key(),
            "rate_limit": RateLimit(per_second=10_000, burst=10_000),
            "run_indexer": False,
        }
        options.update(overrides)
        gateway = ChainGateway(ChainClient(chain.rpc_url), world.addresses)
        app = create_app(ServiceConfig(**options), gateway=gateway, content_store=ipfs, pipeline=pipeline)
        state(app).indexer.start_block = world.deploy_block  # type: ignore[union-attr]
        return app

    return factory
