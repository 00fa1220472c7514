"""Short-lived session tokens for signed-in wallets: stateless, HMAC-signed.

A token is ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))`` where the payload holds the address,
the recovered public key (needed to wrap data keys for the caller; empty for a contract account) and the expiry.
Stateless tokens survive a restart
when ``ANACOSTIA_SESSION_SECRET`` is set and need no shared store between workers; the price is that a token cannot be
revoked before it expires, which is why the default lifetime is 15 minutes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from ...errors import SessionError
from .nonces import Clock


@dataclass(frozen=True)
class Session:
    """A signed-in wallet: its address, the public key recovered from its SIWE signature (``b""`` for a contract
    account, which has none), and the expiry."""

    address: str
    public_key: bytes
    expires_at: float

    @property
    def contract_account(self) -> bool:
        """Signed in by EIP-1271 (a contract account): no public key to wrap data keys for."""
        return not self.public_key

    def __repr__(self) -> str:
        return f"Session(address={self.address!r}, expires_at={self.expires_at})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionTokens:
    """Issue and check HMAC-signed session tokens (see the module docstring)."""

    def __init__(self, secret: bytes, ttl: timedelta, *, clock: Clock = time.time) -> None:
        self._secret = secret
        self._ttl = ttl.total_seconds()
        self._clock = clock

    def __repr__(self) -> str:
        return f"SessionTokens(ttl={self._ttl}s)"

    def issue(self, address: str, public_key: bytes) -> tuple[str, Session]:
        session = Session(address=address, public_key=public_key, expires_at=self._clock() + self._ttl)
        payload = json.dumps(
            {"addr": address, "pub": public_key.hex(), "exp": session.expires_at, "jti": secrets.token_hex(8)},
            separators=(",", ":"),
        ).encode()
        return f"{_b64(payload)}.{_b64(self._mac(payload))}", session

    def check(self, token: str) -> Session:
        """The session a token stands for; :class:`SessionError` when malformed, forged or expired."""
        body, dot, mac = token.partition(".")
        if not dot:
            raise SessionError("malformed session token")
        try:
            payload = _unb64(body)
            given = _unb64(mac)
        except (ValueError, TypeError) as exc:
            raise SessionError("malformed session token") from exc
        if not hmac.compare_digest(given, self._mac(payload)):
            raise SessionError("invalid session token")
        try:
            data = json.loads(payload)
            session = Session(address=str(data["addr"]), public_key=bytes.fromhex(data["pub"]), expires_at=data["exp"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SessionError("malformed session token") from exc
        if session.expires_at < self._clock():
            raise SessionError("session expired: sign in again")
        return session

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._secret, payload, hashlib.sha256).digest()
