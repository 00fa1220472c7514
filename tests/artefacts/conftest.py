"""Fixtures for the artefact tests: the metadata database on SQLite and on PostgreSQL, and a RunRegistry on a
fresh anvil."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.dev import Devnet


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/meta.db"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def registry(fresh_chain: Devnet) -> Iterator[tuple[Devnet, str]]:
    """A RunRegistry deployed on a fresh anvil state: ``(devnet, address)``."""
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    signer = LocalSigner.from_key(fresh_chain.accounts[0].private_key)
    with TxSender(client, signer) as sender:
        address = sender.deploy("RunRegistry", signer.address, signer.address).address
    yield fresh_chain, address
