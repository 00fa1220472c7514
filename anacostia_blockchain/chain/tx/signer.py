"""``LocalSigner``: an eth-account key that signs transactions in-process (coincurve makes signing fast).

Key hygiene, by construction:
- the key lives only inside an eth-account ``LocalAccount`` held in a private slot; ``repr``/``str`` show the
  address, and the object refuses to be pickled (so it cannot leak into a cache, a queue or a crash dump);
- errors about keys are raised ``from None``: the third-party exception (whose message or traceback locals may
  echo the key material) is deliberately *not* chained, unlike everywhere else in the library;
- nothing here logs.

Speed: EIP-1559 transactions with the plain fields the sender uses (no access list) are RLP-encoded here and signed
with coincurve directly (~4x faster than ``Account.sign_transaction``, which validates and re-formats the dict on
every call). The result is byte-identical — same RFC 6979 nonce, same low-s normalisation (tested against
eth-account). Anything else (legacy, access lists, blobs) goes through eth-account.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from coincurve import PrivateKey as CoincurvePrivateKey
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from ...errors import SignerError
from ..encoding import hex_to_bytes, to_hex
from ..recursion_guard import restore_recursion_limit
from . import rlp_encoding

restore_recursion_limit()  # eth-account imported py_ecc, which raised the interpreter's recursion limit

DEFAULT_KEY_ENV = "ANACOSTIA_PRIVATE_KEY"

#: Fields of an EIP-1559 transaction the fast path signs; any other key sends the dict through eth-account.
FAST_1559_FIELDS = frozenset(
    {"type", "chainId", "nonce", "maxPriorityFeePerGas", "maxFeePerGas", "gas", "to", "value", "data"}
)


def checked_key_text(key: str | bytes) -> str | bytes:
    """``key`` stripped; :class:`ValueError` unless a hex key has exactly 64 digits (after an optional ``0x``).

    eth-account left-pads an odd-length hex string, so a key missing a digit would silently become another account.
    The ValueError names no key material.
    """
    if not isinstance(key, str):
        return key
    key = key.strip()
    if len(key[2:] if key[:2] in ("0x", "0X") else key) != 64:
        raise ValueError("a hex private key has exactly 64 digits")
    return key


def decrypt_keystore(path: str | Path, password: str) -> bytes:
    """The 32-byte private key of an encrypted JSON keystore (Ethereum v3), for a key that is used in-process rather
    than for signing transactions (the marketplace service's key). Errors name the file, never the key."""
    path = Path(path)
    try:
        keystore = json.loads(path.read_text())
    except FileNotFoundError:
        raise SignerError(f"keystore {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise SignerError(f"keystore {path} is not readable JSON ({type(exc).__name__})") from None
    try:
        return bytes(Account.decrypt(keystore, password))
    except ValueError as exc:
        if "mac mismatch" in str(exc).lower():
            raise SignerError(f"wrong password for keystore {path}") from None
        raise SignerError(f"keystore {path} is malformed or uses an unsupported format") from None
    except (KeyError, TypeError):
        raise SignerError(f"keystore {path} is malformed or uses an unsupported format") from None


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: str


class LocalSigner:
    """Signs with a private key held in memory. Build it with one of the ``from_*`` constructors."""

    __slots__ = ("__account", "__fast_key", "address")

    def __init__(self, account: LocalAccount) -> None:
        self.__account = account
        self.__fast_key = CoincurvePrivateKey(bytes(account.key))
        self.address: str = account.address

    # --- constructors -------------------------------------------------------------------------------------------------
    @classmethod
    def from_key(cls, key: str | bytes) -> LocalSigner:
        """From a 32-byte key (hex with or without ``0x``, or raw bytes)."""
        try:
            account = Account.from_key(checked_key_text(key))
        except (ValueError, TypeError, AttributeError):
            raise SignerError(
                "invalid private key: expected 32 bytes as 64 hex characters (optionally 0x-prefixed)"
            ) from None
        return cls(account)

    @classmethod
    def from_env(cls, var: str = DEFAULT_KEY_ENV) -> LocalSigner:
        value = os.environ.get(var, "").strip()
        if not value:
            raise SignerError(f"environment variable {var} is not set (it should hold a hex private key)")
        try:
            return cls.from_key(value)
        except SignerError:
            raise SignerError(f"environment variable {var} does not hold a valid private key") from None

    @classmethod
    def from_keystore(cls, path: str | Path, password: str) -> LocalSigner:
        """From an encrypted JSON keystore (Ethereum v3, as written by ``Account.encrypt`` / geth / Foundry)."""
        return cls(Account.from_key(decrypt_keystore(path, password)))

    def write_keystore(
        self,
        path: str | Path,
        password: str,
        kdf: Literal["pbkdf2", "scrypt"] = "scrypt",
        iterations: int | None = None,
    ) -> Path:
        """Write this key as an encrypted v3 keystore (file mode 0600)."""
        path = Path(path)
        keystore = Account.encrypt(self.__account.key, password, kdf=kdf, iterations=iterations)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(keystore, handle)
        return path

    # --- signing ------------------------------------------------------------------------------------------------------
    def sign_transaction(self, tx: dict[str, Any]) -> SignedTx:
        """Sign a transaction dict (EIP-1559 when it has ``maxFeePerGas``); returns raw bytes and the hash."""
        if tx.get("type") == 2 and tx.keys() <= FAST_1559_FIELDS:
            return self._sign_1559(tx)
        try:
            signed = self.__account.sign_transaction(tx)
        except (ValueError, TypeError, KeyError) as exc:
            fields = ", ".join(sorted(tx))
            raise SignerError(f"cannot sign transaction with fields [{fields}]: {type(exc).__name__}") from None
        return SignedTx(raw=bytes(signed.raw_transaction), tx_hash=to_hex(signed.hash))

    def _sign_1559(self, tx: dict[str, Any]) -> SignedTx:
        try:
            to = tx.get("to")
            data = tx.get("data", b"")
            fields: list[Any] = [
                _uint(tx["chainId"]),
                _uint(tx["nonce"]),
                _uint(tx["maxPriorityFeePerGas"]),
                _uint(tx["maxFeePerGas"]),
                _uint(tx["gas"]),
                hex_to_bytes(to) if to else b"",
                _uint(tx.get("value", 0)),
                hex_to_bytes(data) if isinstance(data, str) else bytes(data),
                [],  # access list
            ]
        except (KeyError, TypeError, ValueError) as exc:
            fields_seen = ", ".join(sorted(tx))
            raise SignerError(f"cannot sign transaction with fields [{fields_seen}]: {type(exc).__name__}") from None
        if len(fields[5]) not in (0, 20):
            raise SignerError("cannot sign transaction: 'to' is not a 20-byte address")
        items = b"".join(rlp_encoding.encode(field) for field in fields)  # shared by the unsigned and signed lists
        signature = self.__fast_key.sign_recoverable(keccak(b"\x02" + rlp_encoding.wrap_list(items)), hasher=None)
        v, r, s = signature[64], int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
        signed_items = items + rlp_encoding.encode(v) + rlp_encoding.encode(r) + rlp_encoding.encode(s)
        raw = b"\x02" + rlp_encoding.wrap_list(signed_items)
        return SignedTx(raw=raw, tx_hash=to_hex(keccak(raw)))

    # --- hygiene ------------------------------------------------------------------------------------------------------
    def __repr__(self) -> str:
        return f"LocalSigner(address={self.address})"

    __str__ = __repr__

    def __reduce__(self) -> NoReturn:
        raise SignerError("a LocalSigner cannot be pickled (it would serialize the private key)")

    def __copy__(self) -> LocalSigner:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> LocalSigner:
        return self


def _uint(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("transaction quantities must be non-negative ints")
    return value
