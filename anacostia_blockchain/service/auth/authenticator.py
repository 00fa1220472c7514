"""Wallet login on the server: a signed SIWE message in, a session token out.

The flow is EIP-4361's: ``POST /auth/nonce`` hands out a random nonce (:class:`NonceStore`); the wallet signs a SIWE
message that carries it; ``POST /auth/login`` checks the message fields (``siwe.check_fields``), verifies the
signature (``siwe.verify_signature``) and *then* consumes the nonce — so a forged signature cannot burn someone
else's nonce, and a replayed message fails because its nonce is gone. The session is a stateless token
(:class:`SessionTokens`).

Externally owned accounts sign in by EIP-191 recovery; their session carries the recovered public key, which key
release wraps model data keys for. Contract accounts (EIP-1271 wallets such as Safe) sign in when the authenticator
has a ``chain`` to ask them on (``isValidSignature`` on the service's chain); their session has no public key, so
they can deposit keys for models they own but receive none (:class:`KeyStore` refuses).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ...chain.rpc import ChainClient
from ...siwe import SiweMessage, check_fields, verify_signature
from .nonces import Clock, NonceStore
from .sessions import Session, SessionTokens


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
        chain: ChainClient | None = None,
    ) -> None:
        self.domain = domain
        self.uri_origin = uri_origin
        self.chain_id = chain_id
        self.nonces = nonces
        self.tokens = tokens
        self.max_age = max_age
        #: Where contract accounts are asked about their signatures (``None``: externally owned accounts only).
        self.chain = chain
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
        signer = verify_signature(message, message_text, signature, chain=self.chain)
        self.nonces.consume(message.nonce)
        return self.tokens.issue(signer.address, signer.public_key)
