"""Wallet login on the server: a signed SIWE message in, a session token out.

The flow is EIP-4361's: ``POST /auth/nonce`` hands out a random nonce (:class:`NonceStore`); the wallet signs a SIWE
message that carries it; ``POST /auth/login`` checks the message fields (``siwe.check_fields``), recovers the signer
from the signature (``siwe.recover_signer``) and *then* consumes the nonce — so a forged signature cannot burn someone
else's nonce, and a replayed message fails because its nonce is gone. The session is a stateless token
(:class:`SessionTokens`).

Smart-contract wallets (EIP-1271) cannot sign in: key release needs the secp256k1 public key that only an EOA
signature reveals.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from ...siwe import SiweMessage, check_fields, recover_signer
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
        signer = recover_signer(message, message_text, signature)
        self.nonces.consume(message.nonce)
        return self.tokens.issue(signer.address, signer.public_key)
