"""Hex, quantity and address helpers: the one place chain/ converts JSON-RPC text."""

from __future__ import annotations

import pytest

from anacostia_blockchain.chain.encoding import (
    block_tag,
    checksum,
    checksummed,
    hex_to_bytes,
    is_checksum_address,
    quantity,
    to_hex,
    to_quantity,
)
from anacostia_blockchain.errors import ConfigurationError

ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def test_quantities_and_block_tags() -> None:
    assert quantity("0x1a") == 26 and quantity(26) == 26 and quantity(None) == 0
    assert to_quantity(26) == "0x1a" and block_tag(26) == "0x1a" and block_tag("latest") == "latest"


def test_data() -> None:
    assert hex_to_bytes("0x0102") == b"\x01\x02" == hex_to_bytes("0102") == hex_to_bytes("0X0102")
    assert to_hex(b"\x01\x02") == "0x0102" and to_hex(bytearray(b"\xff")) == "0xff"
    with pytest.raises(ValueError):
        hex_to_bytes("0xzz")


def test_addresses() -> None:
    assert checksum(ADDRESS.lower()) == ADDRESS == checksummed(ADDRESS.lower())
    assert is_checksum_address(ADDRESS) and not is_checksum_address(ADDRESS.lower())
    assert checksum(ADDRESS.upper().replace("0X", "0x")) == ADDRESS
    for bad in ("0x1234", 42, None):
        with pytest.raises(ConfigurationError):
            checksum(bad)  # type: ignore[arg-type]
