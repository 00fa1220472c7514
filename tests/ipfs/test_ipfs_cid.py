from __future__ import annotations

import hashlib

import pytest

from anacostia_blockchain.errors import CorruptBlockError, InvalidCIDError
from anacostia_blockchain.ipfs import CID, compute_cid
from anacostia_blockchain.ipfs.multiformats import (
    CAR,
    DAG_PB,
    RAW,
    SHA2_256,
    base58btc_decode,
    base58btc_encode,
    decode_varint,
    encode_varint,
)

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
HELLO_V1 = "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby"
HELLO_LEAF = b"\x0a\x12\x08\x02\x12\x0chello world\n\x18\x0c"


def test_known_vectors() -> None:
    assert compute_cid(b"hello world\n") == HELLO_V0
    assert compute_cid(b"") == "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"
    assert compute_cid(b"", cid_version=1) == "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
    cid = CID.parse(HELLO_V0)
    assert cid.digest == hashlib.sha256(HELLO_LEAF).digest()
    assert cid.matches(HELLO_LEAF)


def test_v0_and_v1_round_trip_and_convert() -> None:
    v0 = CID.parse(HELLO_V0)
    assert (v0.version, v0.codec, v0.hash_code) == (0, DAG_PB, SHA2_256)
    assert str(v0) == HELLO_V0 and bytes(v0) == v0.multihash
    v1 = v0.to_v1()
    assert str(v1) == HELLO_V1
    assert CID.parse(HELLO_V1) == v1 and v1 != v0 and v1.same_block(v0)
    assert v1.to_v0() == v0
    for base in ("base58btc", "base16", "base32"):
        assert CID.parse(v1.encode(base)) == v1
    assert CID.parse(HELLO_V1.upper()) == v1  # multibase "B" = base32upper
    assert CID.parse(bytes(v1)) == v1 and CID.parse(bytes(v0)) == v0
    assert {v0, CID.parse(HELLO_V0)} == {v0}


def test_from_data_codecs() -> None:
    raw = CID.from_data(b"abc", codec=RAW)
    assert str(raw).startswith("bafkrei") and raw.codec_name == "raw"
    car = CID.from_data(b"car bytes", codec=CAR)
    assert str(car).startswith("bagbaiera") and car.codec == 0x0202


@pytest.mark.parametrize("text", [
    "", "   ", "Qm", "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5O0",  # '0' is not base58
    "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5", "bafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mb",
    "xafybeicg2rebjoofv4kbyovkw7af3rpiitvnl6i7ckcywaq6xjcxnc2mby", "bAFYbeicg", "f0270122046",
    "zQmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", "not a cid", "b" + "a" * 10,
])
def test_invalid_cids_raise_with_reason(text: str) -> None:
    with pytest.raises(InvalidCIDError) as info:
        CID.parse(text)
    assert str(info.value)


def test_invalid_structures() -> None:
    with pytest.raises(InvalidCIDError, match="CIDv0 must be dag-pb"):
        CID(0, RAW, CID.parse(HELLO_V0).multihash)
    with pytest.raises(InvalidCIDError, match="version"):
        CID(2, RAW, CID.parse(HELLO_V0).multihash)
    with pytest.raises(InvalidCIDError, match="digest must be 32"):
        CID(1, RAW, b"\x12\x10" + bytes(16))
    with pytest.raises(InvalidCIDError, match="unsupported multihash"):
        CID(1, RAW, b"\x99\x01\x01" + bytes(1))
    with pytest.raises(InvalidCIDError, match="trailing"):
        CID.from_bytes(bytes(CID.parse(HELLO_V1)) + b"\x00")


def test_verify_detects_other_bytes() -> None:
    cid = CID.parse(HELLO_V0)
    cid.verify(HELLO_LEAF)
    with pytest.raises(CorruptBlockError, match=HELLO_V0):
        cid.verify(HELLO_LEAF + b"x")


@pytest.mark.parametrize("value", [0, 1, 127, 128, 300, 2**32, 2**63 - 1])
def test_varint_round_trip(value: int) -> None:
    encoded = encode_varint(value)
    assert decode_varint(encoded) == (value, len(encoded))


def test_varint_rejects_non_minimal_and_truncated() -> None:
    with pytest.raises(InvalidCIDError):
        decode_varint(b"\x80\x00")
    with pytest.raises(InvalidCIDError):
        decode_varint(b"\x80")


def test_base58_leading_zeros() -> None:
    for data in (b"", b"\0", b"\0\0\x01", bytes(range(40))):
        assert base58btc_decode(base58btc_encode(data)) == data
