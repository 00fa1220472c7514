"""Fixtures of the SIWE tests: the reference libraries (started once per session) and contract wallets on anvil."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from siwe_peers import Peer, PeerError, start_npm_siwe, start_pypi_siwe
from siwe_wallets import Wallets

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.chain.dev.compiler import compile_sources

WALLET_SOURCES = sorted((Path(__file__).parent / "solidity").glob("*.sol"))


def _start(starter: Callable[[], Peer]) -> Peer:
    try:
        return starter()
    except PeerError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def npm_siwe() -> Iterator[Peer]:
    peer = _start(start_npm_siwe)
    yield peer
    peer.close()


@pytest.fixture(scope="session")
def pypi_siwe() -> Iterator[Peer]:
    peer = _start(start_pypi_siwe)
    yield peer
    peer.close()


@pytest.fixture(scope="session")
def wallet_artifacts() -> dict[str, ContractArtifact]:
    """The test-only contract accounts (tests/siwe/solidity), compiled by the project's compiler; never shipped."""
    return compile_sources(WALLET_SOURCES)


@pytest.fixture
def wallets(fresh_chain: Devnet, wallet_artifacts: dict[str, ContractArtifact]) -> Iterator[Wallets]:
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    owners = list(fresh_chain.accounts[1:4])
    with TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key)) as sender:
        safe = sender.deploy(wallet_artifacts["SafeLikeWallet"], [owners[0].address], 1)
        multisig = sender.deploy(wallet_artifacts["SafeLikeWallet"], [o.address for o in owners], 2)
        yield Wallets(client, sender, wallet_artifacts, owners, safe, multisig)
