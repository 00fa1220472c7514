"""End to end on a real anvil with the real contracts: index -> list -> quote -> buy -> login -> key -> decrypt."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from service_helpers import AppFactory, index_everything, login, siwe_text, state
from service_world import LIST_PRICE, MODEL_WEIGHTS, RUN_ID, WorldSetup, sender_for

from anacostia_blockchain.chain import ChainClient, Devnet, MarketplaceClient
from anacostia_blockchain.chain.abi import Contract
from anacostia_blockchain.chain.tx import sign_personal_message
from anacostia_blockchain.crypto import DataKey, decrypt_bytes, unwrap_key, wrap_key_for_public_key


def test_index_list_quote_buy_login_key_decrypt(make_app: AppFactory, database_url: str, world: WorldSetup,
                                                chain: Devnet) -> None:
    app = make_app(database_url)
    state(app).keystore.put(world.listed_token, DataKey(bytes.fromhex(world.data_key_hex)))  # type: ignore[union-attr]
    seller, buyer, stranger = chain.accounts[0], chain.accounts[1], chain.accounts[2]
    with TestClient(app) as http:
        index_everything(app)

        page = http.get("/models", params={"sort": "token_id"}).json()
        assert page["total"] == 2
        listed = page["items"][0]
        assert listed["token_id"] == world.listed_token
        assert listed["name"] == "mnist-cnn" and listed["metadata_status"] == "verified"
        assert listed["owner"] == seller.address
        assert listed["listed"] is True and listed["price_usd_units"] == str(LIST_PRICE)
        assert listed["ip_id"] == world.ip_id
        assert listed["metrics"] == {"accuracy": 0.9731, "loss": 0.081, "f1": 0.97}
        assert page["items"][1]["listed"] is False and page["items"][1]["ip_id"] is None

        detail = http.get(f"/models/{world.listed_token}").json()
        assert detail["metadata"]["status"] == "verified" and detail["metadata"]["cid"] == world.metadata_cid
        root = "0x" + world.merkle_root.hex()
        assert detail["lineage"]["run_id"] == RUN_ID and detail["lineage"]["manifest_cid"] == world.manifest_cid
        assert detail["anchor"]["indexed"] is True and detail["anchor"]["merkle_root"] == root
        assert detail["lineage"]["family_id"] == world.family_id and detail["lineage"]["version"] == 2
        assert [(v["token_id"], v["version"]) for v in detail["lineage"]["versions"]] == [
            (world.plain_token, 1), (world.listed_token, 2)
        ]
        assert detail["verification"] == {
            "checked": True, "anchored": True, "onchain_root": root, "matches_token": True,
            "manifest_matches": True, "error": None,
        }
        assert detail["license"]["ip_id"] == world.ip_id
        assert detail["license"]["license_terms_ids"] == [str(world.terms_id)]
        assert detail["has_key"] is True

        quote = http.get(f"/models/{world.listed_token}/quote").json()
        client = ChainClient(chain.rpc_url)
        onchain_wei = MarketplaceClient(client, world.addresses["ModelMarketplace"]).quote(world.listed_token)
        assert quote["wei"] == str(onchain_wei)
        assert Decimal(quote["price_usd_units"]) == LIST_PRICE and quote["price_usd"] == pytest.approx(49.99)
        assert quote["feed_answer"] == "200000000000" and quote["feed_decimals"] == 8
        assert 0 < quote["feed_updated_at"] <= quote["block_timestamp"]
        assert http.get(f"/models/{world.plain_token}/quote").status_code == 404

        buyer_token = login(http, buyer.private_key, buyer.address)
        auth = {"Authorization": f"Bearer {buyer_token}"}
        refused = http.get(f"/models/{world.listed_token}/key", headers=auth)
        assert refused.status_code == 403 and refused.json()["error"]["type"] == "LicenseRequiredError"

        purchaser = sender_for(client, chain, 1)
        try:
            purchase = MarketplaceClient(client, world.addresses["ModelMarketplace"], purchaser).buy(
                world.listed_token, int(quote["wei"])
            )
        finally:
            purchaser.close()
        index_everything(app)
        assert http.get(f"/models/{world.listed_token}").json()["listing"]["sales"] == 1

        released = http.get(f"/models/{world.listed_token}/key", headers=auth)
        assert released.status_code == 200, released.text
        body = released.json()
        assert body["license_token_id"] == str(purchase.license_token_id)
        data_key = unwrap_key(bytes.fromhex(body["wrapped_key"]), bytes.fromhex(buyer.private_key[2:]))
        assert body["key_id"] == data_key.key_id
        assert decrypt_bytes(world.encrypted_model, data_key) == MODEL_WEIGHTS

        stranger_auth = {"Authorization": f"Bearer {login(http, stranger.private_key, stranger.address)}"}
        assert http.get(f"/models/{world.listed_token}/key", headers=stranger_auth).status_code == 403
        assert http.get(f"/models/{world.listed_token}/key").status_code == 401
        forged = buyer_token[:-4] + ("AAAA" if not buyer_token.endswith("AAAA") else "BBBB")
        assert http.get(f"/models/{world.listed_token}/key", headers={"Authorization": f"Bearer {forged}"}
                        ).status_code == 401


def test_license_transferred_away_is_no_longer_honoured(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                                        chain: Devnet) -> None:
    """The index still lists the buyer as the license receiver; the on-chain ownership check must win."""
    app = make_app(sqlite_url)
    state(app).keystore.put(world.listed_token, DataKey.generate())  # type: ignore[union-attr]
    buyer = chain.accounts[1]
    client = ChainClient(chain.rpc_url)
    market = world.addresses["ModelMarketplace"]
    purchaser = sender_for(client, chain, 1)
    try:
        purchase = MarketplaceClient(client, market, purchaser).buy(
            world.listed_token, MarketplaceClient(client, market).quote(world.listed_token)
        )
        token = Contract.at(client, "LicenseToken", world.story.license_token)
        purchaser.transact(token, "transferFrom", buyer.address, chain.accounts[3].address, purchase.license_token_id)
    finally:
        purchaser.close()
    with TestClient(app) as http:
        index_everything(app)
        auth = {"Authorization": f"Bearer {login(http, buyer.private_key, buyer.address)}"}
        assert http.get(f"/models/{world.listed_token}/key", headers=auth).status_code == 403
        receiver = chain.accounts[3]
        receiver_auth = {"Authorization": f"Bearer {login(http, receiver.private_key, receiver.address)}"}
        assert http.get(f"/models/{world.listed_token}/key", headers=receiver_auth).status_code == 200


def test_owner_deposits_a_key_wrapped_for_the_service(make_app: AppFactory, sqlite_url: str, world: WorldSetup,
                                                      chain: Devnet) -> None:
    app = make_app(sqlite_url)
    seller, stranger = chain.accounts[0], chain.accounts[2]
    with TestClient(app) as http:
        index_everything(app)
        service_public = bytes.fromhex(http.get("/service/key").json()["public_key"])
        data_key = DataKey.generate()
        wrapped = wrap_key_for_public_key(data_key, service_public).to_hex()
        stranger_auth = {"Authorization": f"Bearer {login(http, stranger.private_key, stranger.address)}"}
        denied = http.put(f"/models/{world.listed_token}/key", json={"wrapped_key": wrapped}, headers=stranger_auth)
        assert denied.status_code == 403
        assert state(app).keystore.has(world.listed_token) is False  # type: ignore[union-attr]
        owner_auth = {"Authorization": f"Bearer {login(http, seller.private_key, seller.address)}"}
        stored = http.put(f"/models/{world.listed_token}/key", json={"wrapped_key": wrapped}, headers=owner_auth)
        assert stored.status_code == 200 and stored.json()["key_id"] == data_key.key_id
        garbage = http.put(f"/models/{world.listed_token}/key", json={"wrapped_key": "00" * 127}, headers=owner_auth)
        assert garbage.status_code == 422
        assert state(app).keystore.key_id(world.listed_token) == data_key.key_id  # type: ignore[union-attr]


def test_expired_replayed_and_forged_logins_are_refused(make_app: AppFactory, sqlite_url: str, chain: Devnet) -> None:
    from datetime import UTC, datetime, timedelta

    app = make_app(sqlite_url)
    buyer, stranger = chain.accounts[1], chain.accounts[2]
    with TestClient(app) as http:
        text = siwe_text(http, buyer.address)
        signature = sign_personal_message(buyer.private_key, text)
        forged = http.post("/auth/login", json={"message": text,
                                                "signature": sign_personal_message(stranger.private_key, text)})
        assert forged.status_code == 401 and forged.json()["error"]["type"] == "SiweError"
        assert http.post("/auth/login", json={"message": text, "signature": signature}).status_code == 200
        replay = http.post("/auth/login", json={"message": text, "signature": signature})
        assert replay.status_code == 401 and "nonce" in replay.json()["error"]["message"]

        past = datetime.now(UTC) - timedelta(minutes=3)
        expired = siwe_text(http, buyer.address, now=past, expiration_time=(past + timedelta(minutes=1)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"))
        response = http.post("/auth/login",
                             json={"message": expired, "signature": sign_personal_message(buyer.private_key, expired)})
        assert response.status_code == 401 and "expired" in response.json()["error"]["message"]

        wrong_domain = siwe_text(http, buyer.address, domain="phishing.example")
        response = http.post("/auth/login", json={"message": wrong_domain,
                                                  "signature": sign_personal_message(buyer.private_key, wrong_domain)})
        assert response.status_code == 401 and "domain" in response.json()["error"]["message"]
        assert response.headers["www-authenticate"] == "Bearer"
