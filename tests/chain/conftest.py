"""Shared fixtures for the chain-layer tests: the test-only ChainProbe contract, clients, signers, senders."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Contract, LocalSigner, TxSender
from anacostia_blockchain.chain.abi import ContractArtifact
from anacostia_blockchain.chain.dev import DevNode
from anacostia_blockchain.chain.dev.compiler import compile_sources
from anacostia_blockchain.chain.rpc import NodeKind
from anacostia_blockchain.chain.tx import evm_target

PROBE_SOURCE = Path(__file__).parent / "solidity" / "ChainProbe.sol"

#: A fake node's behaviour: request body -> (HTTP status, response body).
Responder = Callable[[bytes], tuple[int, bytes]]


@pytest.fixture(scope="session")
def probe_artifact(devnet: DevNode) -> ContractArtifact:
    """ChainProbe built for what the session's node runs (Shanghai on Ganache)."""
    target = evm_target(ChainClient(devnet.rpc_url))
    return compile_sources([PROBE_SOURCE], evm_version=target)["ChainProbe"]


@pytest.fixture
def client(fresh_chain: DevNode) -> ChainClient:
    return ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)


@pytest.fixture
def signer(fresh_chain: DevNode) -> LocalSigner:
    return LocalSigner.from_key(fresh_chain.accounts[0].private_key)


@pytest.fixture
def sender(client: ChainClient, signer: LocalSigner) -> Iterator[TxSender]:
    with TxSender(client, signer) as tx_sender:
        yield tx_sender


@pytest.fixture
def probe(sender: TxSender, probe_artifact: ContractArtifact) -> Contract:
    return sender.deploy(probe_artifact, 5)


@pytest.fixture
def restore_base_fee(fresh_chain: DevNode) -> Iterator[DevNode]:
    """For tests that raise the base fee: anvil keeps the next block's base fee across ``evm_revert``. Ganache
    cannot set it: skipped there."""
    if fresh_chain.kind is NodeKind.GANACHE:
        pytest.skip("Ganache has no method to set the next block's base fee")
    history = fresh_chain.rpc("eth_feeHistory", [1, "latest", []])
    try:
        yield fresh_chain
    finally:
        fresh_chain.control.set_next_base_fee(int(history["baseFeePerGas"][-1], 16))


@pytest.fixture
def fake_node() -> Iterator[Callable[[Responder], str]]:
    """A real HTTP server on loopback whose answers the test decides (for failures anvil never produces)."""
    servers: list[ThreadingHTTPServer] = []

    def start(responder: Responder) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status, payload = responder(body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return None

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
