"""Hostile wallet logins against the real app over HTTP: every refusal is a 401 with a typed JSON error, and no
refused attempt costs the rightful owner anything (the nonce survives a forged signature).

Covers wrong domain / URI / chain id, expired, not-yet-valid, stale and future-dated messages, replays, signatures
by another key, malleable (high-s) and garbled signatures, malformed message text (control characters in the
statement, spaces or control characters in the request ID, ...), oversized bodies, and forged, tampered or expired
session tokens on the key-release endpoint.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from anacostia_blockchain.chain.tx.personal_sign import sign_personal_message
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import SiweError
from anacostia_blockchain.service import RateLimit, ServiceConfig, create_app
from anacostia_blockchain.service.auth import SessionTokens
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339

OWNER_KEY = "0x" + "11" * 32
OTHER_KEY = "0x" + "22" * 32
OWNER = LocalSigner.from_key(OWNER_KEY).address
OTHER = LocalSigner.from_key(OTHER_KEY).address
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


SESSION_SECRET = bytes(range(32))


@pytest.fixture
def http(tmp_path: Path) -> Iterator[TestClient]:
    config = ServiceConfig(
        database_url=f"sqlite:///{tmp_path / 'index.db'}", chain_id=31337, siwe_domain="market.example",
        siwe_uri="https://market.example", rate_limit=RateLimit(per_second=10_000, burst=10_000),
        session_secret=SESSION_SECRET,
    )
    with TestClient(create_app(config)) as client:
        yield client


def _message(http: TestClient, *, now: datetime | None = None, **overrides: Any) -> str:
    offer = http.post("/auth/nonce").json()
    issued = now or datetime.now(UTC)
    fields: dict[str, Any] = {
        "domain": offer["domain"], "address": OWNER, "uri": offer["uri"] + "/login", "chain_id": offer["chain_id"],
        "nonce": offer["nonce"], "issued_at": format_rfc3339(issued), "statement": offer["statement"],
        "expiration_time": format_rfc3339(issued + timedelta(minutes=5)),
    }
    fields.update(overrides)
    return SiweMessage(**fields).to_text()


def _login(http: TestClient, text: str, signature: str | None = None, key: str = OWNER_KEY) -> Any:
    return http.post("/auth/login", json={"message": text,
                                          "signature": signature or sign_personal_message(key, text)})


def _refused(response: Any, error_type: str, *words: str) -> None:
    assert response.status_code == 401, response.text
    body = response.json()["error"]
    assert body["type"] == error_type, body
    assert response.headers["www-authenticate"] == "Bearer"
    for word in words:
        assert word in body["message"].lower(), body


def _field_attacks(now: datetime) -> dict[str, tuple[dict[str, Any], str]]:
    """Each attack's field overrides, with times relative to ``now`` (read when the test runs, not at import)."""
    return {
        "wrong domain": ({"domain": "phishing.example"}, "domain"),
        "wrong URI origin": ({"uri": "https://phishing.example/login"}, "uri"),
        "wrong chain id": ({"chain_id": 1}, "chain"),
        "expired": ({"expiration_time": format_rfc3339(now - timedelta(seconds=1))}, "expired"),
        "not yet valid": ({"not_before": format_rfc3339(now + timedelta(minutes=3))}, "not"),
        "issued in the future": ({"issued_at": format_rfc3339(now + timedelta(minutes=10)),
                                  "expiration_time": format_rfc3339(now + timedelta(minutes=20))}, "future"),
        "issued too long ago": ({"issued_at": format_rfc3339(now - timedelta(hours=2)),
                                 "expiration_time": format_rfc3339(now + timedelta(minutes=5))}, "old"),
        "unknown nonce": ({"nonce": "zzzzzzzzzzzzzzzz"}, "nonce"),
    }


@pytest.mark.parametrize("attack", list(_field_attacks(datetime.now(UTC))))
def test_messages_that_do_not_bind_to_this_service_are_refused(http: TestClient, attack: str) -> None:
    overrides, word = _field_attacks(datetime.now(UTC))[attack]
    _refused(_login(http, _message(http, **overrides)), "SiweError", word)


def test_a_replayed_login_is_refused(http: TestClient) -> None:
    text = _message(http)
    signature = sign_personal_message(OWNER_KEY, text)
    assert _login(http, text, signature).status_code == 200
    _refused(_login(http, text, signature), "SiweError", "nonce")


def test_a_signature_by_another_key_is_refused_and_does_not_burn_the_owners_nonce(http: TestClient) -> None:
    text = _message(http)
    _refused(_login(http, text, key=OTHER_KEY), "SiweError", "signature")
    # the same message claiming the attacker's own address does not verify either
    _refused(_login(http, text.replace(OWNER, OTHER), key=OWNER_KEY), "SiweError")
    assert _login(http, text).status_code == 200  # the owner can still use the nonce


@pytest.mark.parametrize("name", ["not hex", "short", "long", "zero", "bad v", "high s"])
def test_garbled_and_malleable_signatures_are_refused(http: TestClient, name: str) -> None:
    text = _message(http)
    good = bytes.fromhex(sign_personal_message(OWNER_KEY, text)[2:])
    r, s, v = good[:32], int.from_bytes(good[32:64], "big"), good[64]
    signature = {
        "not hex": "0x" + "zz" * 65,
        "short": "0x" + good[:64].hex(),
        "long": "0x" + (good + b"\x00").hex(),
        "zero": "0x" + "00" * 65,
        "bad v": "0x" + (good[:64] + bytes([v + 7])).hex(),
        "high s": "0x" + (r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([((v - 27) ^ 1) + 27])).hex(),
    }[name]
    _refused(_login(http, text, signature), "SiweError")
    assert _login(http, text).status_code == 200  # none of them consumed the nonce


MALFORMED = {
    "empty": lambda t: "",
    "lines reordered": lambda t: "\n".join([t.splitlines()[0], *reversed(t.splitlines()[1:])]),
    "lower-case address (not EIP-55)": lambda t: t.replace(OWNER, OWNER.lower()),
    "unknown extra line": lambda t: t + "\nFoo: bar",
    "missing the Version line": lambda t: "\n".join(x for x in t.splitlines() if not x.startswith("Version")),
    "version 2": lambda t: t.replace("Version: 1", "Version: 2"),
    "invalid timestamp": lambda t: t.replace("Issued At: ", "Issued At: yesterday-"),
    "CRLF line ends": lambda t: t.replace("\n", "\r\n"),
    "NUL byte": lambda t: t.replace("Nonce: ", "Nonce: \x00"),
    "short nonce": lambda t: "\n".join("Nonce: abc" if x.startswith("Nonce") else x for x in t.splitlines()),
    "control character in the statement": lambda t: "\n".join(
        x.replace(" ", " \x1b[2J", 1) if i == 3 else x for i, x in enumerate(t.split("\n"))
    ),
    "DEL in the statement": lambda t: "\n".join(x + "\x7f" if i == 3 else x for i, x in enumerate(t.split("\n"))),
    "space in the request ID": lambda t: t + "\nRequest ID: abc def",
    "control character in the request ID": lambda t: t + "\nRequest ID: abc\x00def",
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_malformed_messages_are_refused_with_a_siwe_error(http: TestClient, name: str) -> None:
    valid = _message(http)
    assert valid.split("\n")[3], "the service's offer carries a statement"
    text = MALFORMED[name](valid)
    _refused(_login(http, text), "SiweError")


def test_oversized_and_pathological_bodies_are_typed_errors_not_a_crash(http: TestClient) -> None:
    text = _message(http)
    response = _login(http, text + "\n" + "x" * 10_000)  # over the model's 4,096 characters, under the body limit
    assert response.status_code == 422 and response.json()["error"]["type"] == "ValidationError"
    response = http.post("/auth/login", json={"message": text, "signature": "0x" + "ab" * 5000})
    assert response.status_code == 422 and response.json()["error"]["type"] == "ValidationError"
    declared = http.post("/auth/login", content=b"{" * (1 << 20), headers={"content-type": "application/json"})
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "RequestTooLargeError"

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted while it streams, cut off past the limit
        for _ in range(200):
            yield b" " * 10_000

    chunked = http.post("/auth/login", content=streamed(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413 and chunked.json()["error"]["type"] == "RequestTooLargeError"
    key_body = http.put("/models/1/key", content=b"0" * 200_000, headers={"content-type": "application/json"})
    assert key_body.status_code == 413  # refused before authentication or parsing
    # 30,000 nested arrays fit under the limit: the parser's recursion guard answers, the process survives
    nested = http.post("/auth/login", content=b"[" * 30_000 + b"]" * 30_000,
                       headers={"content-type": "application/json"})
    assert nested.status_code in (400, 422) and "error" in nested.json()
    assert _login(http, text).status_code == 200  # and the service still works


def test_forged_tampered_and_missing_session_tokens_are_refused(http: TestClient) -> None:
    text = _message(http)
    token = _login(http, text).json()["token"]
    payload, mac = token.split(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    for bad in ["", "garbage", f"{flipped}.{mac}", f"{payload}.{mac[:-2]}AA", f"{payload}.", token + "x"]:
        response = http.get("/models/1/key", headers={"Authorization": f"Bearer {bad}"})
        _refused(response, "SessionError")
    _refused(http.get("/models/1/key"), "SessionError")
    _refused(http.get("/models/1/key", headers={"Authorization": f"Basic {token}"}), "SessionError")


def test_an_expired_session_token_is_refused(http: TestClient) -> None:
    """Genuinely signed with the service's secret, issued an hour ago with the 15-minute lifetime."""
    issued_earlier = SessionTokens(SESSION_SECRET, timedelta(minutes=15), clock=lambda: time.time() - 3600)
    expired, _ = issued_earlier.issue(OWNER, bytes.fromhex("02" + "11" * 32))
    _refused(http.get("/models/1/key", headers={"Authorization": f"Bearer {expired}"}), "SessionError", "expired")


VALID_TEXT = SiweMessage(
    domain="market.example", address=OWNER, uri="https://market.example/login", chain_id=31337,
    nonce="abcdefgh12345678", issued_at="2026-01-01T00:00:00Z", statement="Sign in to the marketplace",
    expiration_time="2026-01-01T00:05:00Z",
).to_text()


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=400), st.builds(
    lambda cut, insert, at: VALID_TEXT[:at % len(VALID_TEXT)] + insert + VALID_TEXT[at % len(VALID_TEXT) + cut:],
    st.integers(0, 20), st.text(max_size=20), st.integers(0, 10_000))))
def test_the_message_parser_only_ever_answers_with_a_siwe_error(text: str) -> None:
    try:
        parsed = SiweMessage.parse(text)
    except SiweError:
        return
    assert parsed.to_text() == text  # whatever parses is exactly what was signed, nothing reinterpreted
