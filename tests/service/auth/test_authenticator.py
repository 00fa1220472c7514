"""Wallet login on the server: sessions for valid signatures, no replay, no forgery burning a nonce, expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account

from anacostia_blockchain.chain.tx import sign_personal_message
from anacostia_blockchain.errors import SessionError, SiweError
from anacostia_blockchain.service.auth import NonceStore, SessionTokens, SiweAuthenticator
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339

DOMAIN = "127.0.0.1:8000"
URI = "http://127.0.0.1:8000"
NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def make_message(address: str, nonce: str, **overrides: object) -> SiweMessage:
    fields: dict[str, object] = {
        "domain": DOMAIN,
        "address": address,
        "uri": URI + "/login",
        "chain_id": 31337,
        "nonce": nonce,
        "issued_at": format_rfc3339(NOW),
        "expiration_time": format_rfc3339(NOW + timedelta(minutes=5)),
    }
    fields.update(overrides)
    return SiweMessage(**fields)  # type: ignore[arg-type]


class Clock:
    def __init__(self) -> None:
        self.now = NOW.timestamp()

    def __call__(self) -> float:
        return self.now


def make_authenticator(clock: Clock) -> SiweAuthenticator:
    return SiweAuthenticator(
        domain=DOMAIN,
        uri_origin=URI,
        chain_id=31337,
        nonces=NonceStore(timedelta(minutes=5), clock=clock),
        tokens=SessionTokens(b"s" * 32, timedelta(minutes=15), clock=clock),
        clock=clock,
    )


def test_login_issues_a_session_and_refuses_replay_forgery_and_expiry() -> None:
    clock = Clock()
    auth = make_authenticator(clock)
    account = Account.create()
    nonce = auth.nonces.issue()
    text = make_message(account.address, nonce).to_text()
    signature = sign_personal_message(account.key, text)

    # forged: signed by someone else -> refused, and the nonce is *not* burned by the forgery
    forged = sign_personal_message(Account.create().key, text)
    with pytest.raises(SiweError, match="not made by"):
        auth.login(text, forged)
    assert auth.nonces.peek(nonce)

    token, session = auth.login(text, signature)
    assert session.address == account.address
    assert auth.tokens.check(token).public_key == session.public_key

    with pytest.raises(SiweError, match="already used"):
        auth.login(text, signature)  # replay

    # tampered token and expired session
    body, _, mac = token.partition(".")
    with pytest.raises(SessionError):
        auth.tokens.check(body + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"))
    clock.now += 16 * 60
    with pytest.raises(SessionError, match="expired"):
        auth.tokens.check(token)


def test_nonce_expires_and_unknown_nonce_is_refused() -> None:
    clock = Clock()
    auth = make_authenticator(clock)
    account = Account.create()
    with pytest.raises(SiweError, match="unknown"):
        text = make_message(account.address, "neverissued1").to_text()
        auth.login(text, sign_personal_message(account.key, text))
    nonce = auth.nonces.issue()
    clock.now += 6 * 60  # past the nonce TTL, message still fresh (issued "now")
    issued = datetime.fromtimestamp(clock.now, UTC)
    text = make_message(
        account.address, nonce, issued_at=format_rfc3339(issued), expiration_time=format_rfc3339(issued + timedelta(1))
    ).to_text()
    with pytest.raises(SiweError, match="nonce expired"):
        auth.login(text, sign_personal_message(account.key, text))


def test_session_repr_and_token_never_contain_key_material() -> None:
    clock = Clock()
    tokens = SessionTokens(b"k" * 32, timedelta(minutes=1), clock=clock)
    assert "k" * 8 not in repr(tokens)
    _token, session = tokens.issue("0x" + "ab" * 20, b"\x04" + b"\x01" * 64)
    assert "0101" not in repr(session)
