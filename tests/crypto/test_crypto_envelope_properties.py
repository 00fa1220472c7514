"""Property tests: any plaintext and chunk size round-trip, and any single-byte change is detected."""

from __future__ import annotations

import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anacostia_blockchain.crypto import DataKey, decrypt_bytes, encrypt_bytes, read_header
from anacostia_blockchain.crypto.envelope import MIN_CHUNK_SIZE
from anacostia_blockchain.errors import DecryptionError

KEY = DataKey(bytes(range(32)))
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=6 * MIN_CHUNK_SIZE), chunk_size=st.integers(MIN_CHUNK_SIZE, 3 * MIN_CHUNK_SIZE))
def test_any_plaintext_round_trips(data: bytes, chunk_size: int) -> None:
    envelope = encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=chunk_size)
    assert decrypt_bytes(envelope, KEY) == data
    assert read_header(io.BytesIO(envelope)).chunk_size == chunk_size


@settings(max_examples=80, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=3 * MIN_CHUNK_SIZE),
    where=st.floats(0, 1, exclude_max=True),
    flip=st.integers(1, 255),
)
def test_any_single_byte_change_is_detected(data: bytes, where: float, flip: int) -> None:
    envelope = bytearray(encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=MIN_CHUNK_SIZE))
    envelope[int(where * len(envelope))] ^= flip
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(envelope), KEY)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3 * MIN_CHUNK_SIZE), cut=st.integers(1, 3 * MIN_CHUNK_SIZE))
def test_any_truncation_is_detected(data: bytes, cut: int) -> None:
    envelope = encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=MIN_CHUNK_SIZE)
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope[: max(0, len(envelope) - cut)], KEY)
