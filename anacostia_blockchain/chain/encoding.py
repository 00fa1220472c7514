"""Hex, quantity and address helpers: the one place chain/ converts between JSON-RPC text and Python values.

JSON-RPC carries numbers as hex *quantities* (``"0x1a"``), byte strings as ``0x`` hex *data* and addresses in any
letter case. Everything in chain/ goes through these functions:

- :func:`quantity` / :func:`to_quantity` / :func:`block_tag` for numbers and block selectors;
- :func:`hex_to_bytes` / :func:`to_hex` for data;
- :func:`checksum` (validating, raises :class:`ConfigurationError`) and :func:`checksummed` (cached, for addresses a
  node or an ABI decoder produced: a log stream repeats the same few addresses and EIP-55 costs a keccak each).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eth_utils import is_address, to_checksum_address
from eth_utils import is_checksum_address as _is_checksum_address

from ..errors import ConfigurationError


def quantity(value: Any) -> int:
    """A JSON-RPC quantity (``"0x1a"``) or an int as an int; ``None`` counts as 0."""
    if isinstance(value, str):
        return int(value, 16)
    return int(value or 0)


def to_quantity(value: int) -> str:
    """An int as a JSON-RPC quantity."""
    return hex(value)


def block_tag(block: int | str) -> str:
    """A block number as a quantity; tags (``"latest"``, ``"pending"``, ...) pass through."""
    return hex(block) if isinstance(block, int) else block


def hex_to_bytes(value: str) -> bytes:
    """``0x``-prefixed (or bare) hex data as bytes; :class:`ValueError` when it is not hex."""
    return bytes.fromhex(value[2:] if value.startswith(("0x", "0X")) else value)


def to_hex(value: bytes | bytearray) -> str:
    """Bytes as lower-case ``0x`` hex data."""
    return "0x" + bytes(value).hex()


def checksum(address: str) -> str:
    """A checksummed address or :class:`ConfigurationError` (never a bare ValueError)."""
    if not isinstance(address, str) or not is_address(address):
        raise ConfigurationError(f"not an Ethereum address: {address!r}")
    return str(to_checksum_address(address))


@lru_cache(maxsize=65536)
def checksummed(address: str) -> str:
    """The EIP-55 form of an address known to be well-formed (from a node or the ABI decoder), cached."""
    return str(to_checksum_address(address))


def is_checksum_address(address: str) -> bool:
    """True for a 0x-prefixed, EIP-55 mixed-case address."""
    return bool(_is_checksum_address(address))
