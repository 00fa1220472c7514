"""Where the marketplace keeps model data keys: sealed at rest for the service's own secp256k1 key.

The service key (32 bytes, ``ANACOSTIA_SERVICE_KEY``) is used as a secp256k1 private key. A model's data key is
stored only as an ECIES-wrapped key *for the service's public key* (``crypto.wrap_key_for_public_key``), so a copy of
the database alone reveals nothing. Releasing a key to a licensed buyer is one ``crypto.rewrap_key``: open with the
service key, seal for the buyer's public key (recovered from their SIWE signature). The plain data key exists only
inside that call.

A model owner hands a key to the service in either of two ways, both ending in :meth:`KeyStore.put_wrapped`:
wrapping it for :attr:`KeyStore.public_key` themselves (``PUT /models/{id}/key``; the service never sees it in
transit), or, on the pipeline side, :meth:`KeyStore.put` with a :class:`DataKey`.

Nothing here logs or echoes key material; errors say *which* model and *what* failed, never the bytes.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete, insert, select

from ...crypto import DataKey, WrappedKey, public_key_for_private_key, rewrap_key, unwrap_key, wrap_key_for_public_key
from ...errors import ConfigurationError, CryptoError, NotFoundError, SessionError, ValidationError
from ...sql import translate_errors
from ..index import schema as s


class KeyStore:
    """Model data keys sealed for the service key (see the module docstring)."""

    def __init__(self, engine: Engine, service_key: bytes) -> None:
        try:
            self.public_key = public_key_for_private_key(service_key)
        except CryptoError as exc:
            raise ConfigurationError("the service key is not a valid secp256k1 private key") from exc
        self._service_key = service_key
        self.engine = engine
        with translate_errors("cannot create the key table", detail=False):
            s.metadata.create_all(engine, tables=[s.model_keys])

    def __repr__(self) -> str:
        return f"KeyStore(public_key={self.public_key.hex()})"

    def put(self, token_id: int, data_key: DataKey) -> str:
        """Store ``data_key`` for a model (replacing any earlier one); returns its ``key_id`` fingerprint."""
        return self.put_wrapped(token_id, wrap_key_for_public_key(data_key, self.public_key).to_bytes())

    def put_wrapped(self, token_id: int, wrapped: bytes) -> str:
        """Store a data key already wrapped for :attr:`public_key`; it is opened once to prove it is intact."""
        try:
            parsed = WrappedKey.from_bytes(wrapped)
            key_id = unwrap_key(parsed, self._service_key).key_id
        except CryptoError as exc:
            raise ValidationError(f"wrapped key for model {token_id} does not open with the service key: {exc}") from (
                exc
            )
        row = {"token_id": token_id, "sealed_key": parsed.to_hex(), "key_id": key_id, "created_at": time.time()}
        with translate_errors(f"cannot store the key of model {token_id}", detail=False), self.engine.begin() as conn:
            conn.execute(delete(s.model_keys).where(s.model_keys.c.token_id == token_id))
            conn.execute(insert(s.model_keys).values(**row))
        return key_id

    def has(self, token_id: int) -> bool:
        return self._sealed(token_id) is not None

    def key_id(self, token_id: int) -> str:
        row = self._sealed(token_id)
        if row is None:
            raise NotFoundError(f"no data key stored for model {token_id}")
        return str(row[1])

    def wrap_for(self, token_id: int, public_key: bytes) -> WrappedKey:
        """The model's data key sealed for ``public_key``; :class:`NotFoundError` when no key is stored,
        :class:`SessionError` for a contract account's session (it has no public key)."""
        if not public_key:
            raise SessionError(
                "this session is a contract account's (EIP-1271): it has no public key to wrap a data key for; "
                "sign in with an externally owned account that holds a license"
            )
        row = self._sealed(token_id)
        if row is None:
            raise NotFoundError(f"no data key stored for model {token_id}")
        return rewrap_key(WrappedKey.from_hex(row[0]), self._service_key, public_key)

    def _sealed(self, token_id: int) -> tuple[str, str] | None:
        query = select(s.model_keys.c.sealed_key, s.model_keys.c.key_id).where(s.model_keys.c.token_id == token_id)
        with translate_errors(f"cannot read the key of model {token_id}", detail=False), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (str(row[0]), str(row[1]))
