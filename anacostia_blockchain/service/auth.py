"""Wallet login: single-use nonces, SIWE verification and short-lived session tokens.

The flow is EIP-4361's: ``POST /auth/nonce`` hands out a random nonce; the wallet signs a SIWE message that carries
it; ``POST /auth/login`` checks the message fields (``siwe.check_fields``), recovers the signer from the signature
(``chain.personal_sign``) and *then* consumes the nonce — so a forged signature cannot burn someone else's nonce, and
a replayed message fails because its nonce is gone.

Session tokens are stateless: ``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))`` where the payload
holds the address, the recovered public key (needed to wrap data keys for the caller) and the expiry. Stateless
tokens survive a restart when ``ANACOSTIA_SESSION_SECRET`` is set and need no shared store between workers; the
price is that a token cannot be revoked before it expires, which is why the default lifetime is 15 minutes.

Nonces, by contrast, live in this process (:class:`NonceStore`): run one service process per SIWE domain, or route a
client's ``/auth/nonce`` and ``/auth/login`` to the same process. Smart-contract wallets (EIP-1271) cannot sign in:
key release needs the secp256k1 public key that only an EOA signature reveals.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..chain.personal_sign import recover_personal_signer
from ..errors import SessionError, SignerError, SiweError
from .siwe import SiweMessage, check_fields

Clock = Callable[[], float]


class NonceStore:
    """Issued nonces with a time-to-live; :meth:`consume` succeeds once per nonce. Thread-safe, in-process.

    Bounded: at most ``max_pending`` outstanding nonces (oldest evicted first), so a client hammering
    ``/auth/nonce`` cannot grow memory without limit (and the rate limiter slows it down first).
    """

    def __init__(self, ttl: timedelta, *, max_pending: int = 100_000, clock: Clock = time.time) -> None:
        self._ttl = ttl.total_seconds()
        self._max = max_pending
        self._clock = clock
        self._issued: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        nonce = secrets.token_hex(16)
        now = self._clock()
        with self._lock:
            self._purge(now)
            while len(self._issued) >= self._max:
                self._issued.pop(next(iter(self._issued)))
            self._issued[nonce] = now + self._ttl
        return nonce

    def consume(self, nonce: str) -> None:
        """Use a nonce up; :class:`SiweError` if it was never issued, already used or expired."""
        now = self._clock()
        with self._lock:
            expires = self._issued.pop(nonce, None)
        if expires is None:
            raise SiweError("unknown or already used nonce: request a new one")
        if expires < now:
            raise SiweError("nonce expired: request a new one")

    def peek(self, nonce: str) -> bool:
        with self._lock:
            expires = self._issued.get(nonce)
        return expires is not None and expires >= self._clock()

    def _purge(self, now: float) -> None:
        for nonce in [n for n, exp in self._issued.items() if exp < now]:
            del self._issued[nonce]

    def __len__(self) -> int:
        with self._lock:
            return len(self._issued)


@dataclass(frozen=True)
class Session:
    """A signed-in wallet: its address, the public key recovered from its SIWE signature, and the expiry."""

    address: str
    public_key: bytes
    expires_at: float

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


class SiweAuthenticator:
    """Turns a signed SIWE message into a :class:`Session` (or a :class:`SiweError` saying why not)."""

    def __init__(
        self,
        *,
        domain: str,
        uri_origin: str,
        chain_id: int,
        nonces: NonceStore,
        tokens: SessionTokens,
        max_age: timedelta = timedelta(minutes=10),
        clock: Clock = time.time,
    ) -> None:
        self.domain = domain
        self.uri_origin = uri_origin
        self.chain_id = chain_id
        self.nonces = nonces
        self.tokens = tokens
        self.max_age = max_age
        self._clock = clock

    def login(self, message_text: str, signature: str) -> tuple[str, Session]:
        message = SiweMessage.parse(message_text)
        check_fields(
            message,
            domain=self.domain,
            uri_origin=self.uri_origin,
            chain_id=self.chain_id,
            now=datetime.fromtimestamp(self._clock(), UTC),
            max_age=self.max_age,
        )
        try:
            signer = recover_personal_signer(message_text, signature)
        except SignerError as exc:
            raise SiweError(f"bad signature: {exc}") from exc
        if signer.address != message.address:
            raise SiweError("signature was not made by the message's address")
        self.nonces.consume(message.nonce)
        return self.tokens.issue(signer.address, signer.public_key)
