"""A Safe-like contract wallet signs in through the real service over HTTP (``POST /auth/nonce``, ``/auth/login``) on a
real anvil; a wrong owner and wallets that answer wrongly are refused with a typed 401, and none of them burns the
nonce. A contract account's session has no public key.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from siwe_wallets import Wallets

from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.auth import SiweAuthenticator
from anacostia_blockchain.service.chain_gateway import ChainGateway
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339


@pytest.fixture
def http(wallets: Wallets, tmp_path: Path) -> Iterator[TestClient]:
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'index.db'}", chain_id=31337, siwe_domain="market.example",
        siwe_uri="https://market.example", rate_limit=RateLimit(per_second=10_000, burst=10_000),
        session_secret=bytes(range(32)),
    )  # fmt: skip
    app = create_app(config, gateway=ChainGateway(wallets.client, {}), start_workers=False)
    authenticator: SiweAuthenticator = app.state.service.require_authenticator()
    assert authenticator.chain is wallets.client  # contract accounts are asked on the chain the service reads
    with TestClient(app) as client:
        yield client


def _message(http: TestClient, address: str) -> str:
    offer = http.post("/auth/nonce").json()
    issued = datetime.now(UTC)
    return SiweMessage(
        domain=offer["domain"], address=address, uri=offer["uri"] + "/login", chain_id=offer["chain_id"],
        nonce=offer["nonce"], issued_at=format_rfc3339(issued), statement=offer["statement"],
        expiration_time=format_rfc3339(issued + timedelta(minutes=5)),
    ).to_text()  # fmt: skip


def _login(http: TestClient, text: str, signature: str) -> Any:
    return http.post("/auth/login", json={"message": text, "signature": signature})


def _refused(response: Any, *words: str) -> None:
    assert response.status_code == 401, response.text
    error = response.json()["error"]
    assert error["type"] == "SiweError", error
    for word in words:
        assert word in error["message"], error


def test_a_safe_like_wallet_signs_in_through_the_service(http: TestClient, wallets: Wallets) -> None:
    text = _message(http, wallets.safe.address)
    _refused(_login(http, text, wallets.sign(text, wallets.owners[1])), "answered 0xffffffff", "magic value")
    response = _login(http, text, wallets.sign(text, wallets.owners[0]))  # the nonce survived the refusal
    assert response.status_code == 200, response.text
    assert response.json()["address"] == wallets.safe.address
    _refused(_login(http, text, wallets.sign(text, wallets.owners[0])), "nonce")  # replay


@pytest.mark.parametrize(("mode", "words"), [(0, ["answered 0xdeadbeef"]), (1, ["reverted isValidSignature"]),
                                             (2, ["gave no EIP-1271 answer"])])  # fmt: skip
def test_wallets_that_answer_wrongly_are_refused(
    http: TestClient, wallets: Wallets, mode: int, words: list[str]
) -> None:
    faulty = wallets.deploy("FaultyWallet", mode)
    text = _message(http, faulty.address)
    _refused(_login(http, text, wallets.sign(text, wallets.owners[0])), *words)


def test_a_contract_accounts_session_carries_no_public_key(http: TestClient, wallets: Wallets) -> None:
    text = _message(http, wallets.safe.address)
    token = _login(http, text, wallets.sign(text, wallets.owners[0])).json()["token"]
    session = http.app.state.service.require_authenticator().tokens.check(token)  # type: ignore[attr-defined]
    assert session.address == wallets.safe.address
    assert session.contract_account and session.public_key == b""
