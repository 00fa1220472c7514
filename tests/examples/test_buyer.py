"""examples/buyer.py against a real marketplace: the real contracts on anvil, the FastAPI service over real HTTP
(uvicorn on a free port, its indexer following the chain), the encrypted model on an embedded IPFS blockstore."""

from __future__ import annotations

import contextlib
import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from buyer_world import MODEL, PRICE, BuyerWorld, build_buyer_world
from example_loader import load_example

from anacostia_blockchain import buyer as buyer_client
from anacostia_blockchain import errors
from anacostia_blockchain.chain import ChainClient, Devnet, MarketplaceClient
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.crypto import DataKey
from anacostia_blockchain.ipfs import compute_cid
from anacostia_blockchain.service import BackgroundServer, RateLimit, ServiceConfig, create_app, free_port

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ipfs"))  # the Kubo RPC emulator of tests/ipfs
from emulators.kubo_emulator import KuboEmulator

buyer = load_example("buyer")


@pytest.fixture(scope="module")
def world(devnet: Devnet, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuyerWorld]:
    outer = devnet.snapshot()
    try:
        yield build_buyer_world(devnet, tmp_path_factory.mktemp("buyer-world"))
    finally:
        devnet.revert(outer)


@dataclass
class Market:
    api_url: str
    devnet: Devnet
    world: BuyerWorld

    def argv(self, token_id: int, *extra: str) -> list[str]:
        return [str(token_id), "--api", self.api_url, "--rpc-url", self.devnet.rpc_url, "--deployments",
                str(self.world.deployments), "--ipfs", f"embedded:{self.world.ipfs_path}", "--wait", "30", *extra]

    def sales(self, token_id: int) -> int:
        client = ChainClient(self.devnet.rpc_url)
        return len(MarketplaceClient(client, self.world.marketplace).contract.events("Purchased", 0, "latest"))


@pytest.fixture
def market(devnet: Devnet, world: BuyerWorld, tmp_path: Path) -> Iterator[Market]:
    """A fresh service (own index database) on the chain as the world left it; the chain is reverted afterwards."""
    snapshot = devnet.snapshot()
    port = free_port()
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'index.db'}", host="127.0.0.1", port=port, rpc_url=devnet.rpc_url,
        deployments=world.deployments, content_store=f"embedded:{world.ipfs_path}",
        siwe_domain=f"127.0.0.1:{port}", service_key=secrets.token_bytes(32), indexer_poll_seconds=0.2,
        rate_limit=RateLimit(per_second=1000, burst=1000),
    )
    app = create_app(config)
    keystore = app.state.service.keystore
    for listed in (world.honest, world.lying):
        keystore.put(listed.token_id, DataKey(bytes.fromhex(listed.data_key_hex)))
    server = BackgroundServer(app, port=port, startup_timeout=30).start()
    try:
        market = Market(server.url, devnet, world)
        wait_until_indexed(market, world.lying.token_id)
        yield market
    finally:
        server.stop()
        devnet.revert(snapshot)


def wait_until_indexed(market: Market, token_id: int) -> None:
    api = buyer_client.MarketplaceApi(market.api_url)
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(errors.NotFoundError):  # not indexed yet
            detail = api.model(token_id)
            if detail["listing"]["listed"] and detail["metadata"]["status"] == "verified":
                return
        assert time.monotonic() < deadline, "the indexer never caught up"
        time.sleep(0.1)


def test_quote_buy_login_key_decrypt_and_verify(market: Market, tmp_path: Path, capsys) -> None:
    key = market.devnet.accounts[1].private_key
    out = tmp_path / "model.json"
    assert buyer.main(market.argv(market.world.honest.token_id, "--out", str(out), "--json"),
                      env={"ANACOSTIA_BUYER_KEY": key}) == 0
    printed = capsys.readouterr()
    report = json.loads(printed.out)
    assert report["buyer"] == market.devnet.accounts[1].address and report["already_licensed"] is False
    assert report["price_usd"] == str(PRICE) and report["purchase_tx"].startswith("0x")
    assert int(report["paid_wei"]) == int(report["api_quote_wei"])  # the slippage margin came back as a refund
    assert int(report["refund_wei"]) > 0
    assert report["model_cid"] == market.world.honest.model_cid
    assert report["plaintext_cid"] == compute_cid(MODEL) and report["cid_verified"] is True
    assert out.read_bytes() == MODEL and report["size"] == len(MODEL)
    assert report["key_id"] == DataKey(bytes.fromhex(market.world.honest.data_key_hex)).key_id
    client = ChainClient(market.devnet.rpc_url)
    license_token = Contract.at(client, "LicenseToken", market.world.license_token)
    assert license_token.call("ownerOf", int(report["license_token_id"])) == market.devnet.accounts[1].address
    assert key[2:] not in printed.out + printed.err
    assert market.world.honest.data_key_hex not in printed.out + printed.err

    # a second run finds the license and buys nothing
    assert buyer.main(market.argv(market.world.honest.token_id), env={"ANACOSTIA_BUYER_KEY": key}) == 0
    text = capsys.readouterr().out
    assert "already licensed" in text and f"CID {compute_cid(MODEL)} verified" in text
    assert market.sales(market.world.honest.token_id) == 1


def test_the_encrypted_model_can_come_from_a_kubo_daemon(market: Market, tmp_path: Path, capsys) -> None:
    """The same blockstore served over Kubo's RPC API (the emulator of tests/ipfs), fetched with ``--ipfs URL``."""
    kubo = KuboEmulator(market.world.ipfs_path)
    kubo.start()
    try:
        argv = market.argv(market.world.honest.token_id, "--out", str(tmp_path / "m.json"), "--json")
        argv[argv.index("--ipfs") + 1] = kubo.url
        assert buyer.main(argv, env={"ANACOSTIA_BUYER_KEY": market.devnet.accounts[2].private_key}) == 0
    finally:
        kubo.stop()
    assert json.loads(capsys.readouterr().out)["cid_verified"] is True
    assert (tmp_path / "m.json").read_bytes() == MODEL


def test_a_model_that_does_not_hash_to_its_promised_cid_is_rejected(market: Market, tmp_path: Path, capsys) -> None:
    out = tmp_path / "downloads" / "model.json"
    code = buyer.main(market.argv(market.world.lying.token_id, "--out", str(out)),
                      env={"ANACOSTIA_BUYER_KEY": market.devnet.accounts[2].private_key})
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the decrypted model hashes to ") and compute_cid(MODEL + b" ") in err
    assert not out.parent.exists() or list(out.parent.iterdir()) == []  # nothing written, not even a partial file


def test_budget_is_enforced_before_paying(market: Market, capsys) -> None:
    code = buyer.main(market.argv(market.world.honest.token_id, "--max-eth", "0.000001"),
                      env={"ANACOSTIA_BUYER_KEY": market.devnet.accounts[2].private_key})
    assert code == 1
    assert "more than --max-eth 0.000001" in capsys.readouterr().err
    assert market.sales(market.world.honest.token_id) == 0


def test_errors_are_typed_one_liners(market: Market, capsys) -> None:
    env = {"ANACOSTIA_BUYER_KEY": market.devnet.accounts[2].private_key}
    assert buyer.main(market.argv(999), env=env) == 1
    assert capsys.readouterr().err.startswith("error: GET /models/999: ")
    assert buyer.main(market.argv(market.world.honest.token_id), env={}) == 1
    assert "set ANACOSTIA_BUYER_KEY" in capsys.readouterr().err
    dead = market.argv(market.world.honest.token_id)
    dead[dead.index("--api") + 1] = f"http://127.0.0.1:{free_port()}"
    assert buyer.main(dead, env=env) == 1
    assert "unreachable" in capsys.readouterr().err


def test_api_errors_map_to_the_library_types() -> None:
    import io
    import urllib.error

    def http_error(status: int, body: bytes, headers: dict[str, str] | None = None) -> urllib.error.HTTPError:
        from email.message import Message

        message = Message()
        for name, value in (headers or {}).items():
            message[name] = value
        return urllib.error.HTTPError("http://x/models/1/key", status, "x", message, io.BytesIO(body))

    license_error = buyer_client._api_error(
        http_error(403, b'{"error": {"type": "LicenseRequiredError", "message": "no"}}'), "GET", "/models/1/key"
    )
    assert type(license_error) is errors.LicenseRequiredError and str(license_error) == "GET /models/1/key: no"
    limited = buyer_client._api_error(http_error(429, b'{"error": {"type": "RateLimitedError", "message": "slow"}}',
                                          {"Retry-After": "3"}), "GET", "/models")
    assert isinstance(limited, errors.RateLimitedError) and limited.retry_after == 3.0
    opaque = buyer_client._api_error(http_error(502, b"<html>bad gateway</html>"), "GET", "/models")
    assert type(opaque) is errors.ServiceError and "HTTP 502" in str(opaque)


def test_the_buyer_client_loads_no_server_code() -> None:
    """``anacostia_blockchain.buyer`` is a client: importing it loads neither the service nor FastAPI/Starlette."""
    probe = (
        "import sys, anacostia_blockchain.buyer\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith(('anacostia_blockchain.service', 'fastapi', "
        "'starlette', 'uvicorn'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == []
