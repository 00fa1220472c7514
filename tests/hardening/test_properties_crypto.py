"""Encryption properties beyond single-byte flips and truncation (``tests/crypto/test_crypto_envelope_properties.py``):
chunks reordered, dropped, duplicated or spliced in from another envelope under the same key, a wrong key, appended
bytes; failed decryption to a file leaves no output; ECIES key wrapping round-trips for any secp256k1 key and
detects any change to a wrapped key or an attempt to open it with another key.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anacostia_blockchain.crypto import DataKey, decrypt_bytes, decrypt_file, encrypt_bytes, read_header
from anacostia_blockchain.crypto.envelope import MIN_CHUNK_SIZE, TAG_LENGTH
from anacostia_blockchain.crypto.keywrap import (
    WrappedKey,
    public_key_for_private_key,
    rewrap_key,
    unwrap_key,
    wrap_key_for_public_key,
)
from anacostia_blockchain.errors import CryptoError, DecryptionError, KeyWrapError

KEY = DataKey(bytes(range(32)))
CID = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
CHUNK = MIN_CHUNK_SIZE


def _split(envelope: bytes) -> tuple[bytes, list[bytes]]:
    """Header bytes and the sealed chunks (each ``CHUNK + TAG_LENGTH`` bytes, the last one shorter)."""
    header_size = len(read_header(io.BytesIO(envelope)).to_bytes())
    body = envelope[header_size:]
    step = CHUNK + TAG_LENGTH
    return envelope[:header_size], [body[i:i + step] for i in range(0, len(body), step)]


#: 2..5 chunks of seeded random bytes (a small natural input for Hypothesis, however long the plaintext)
multi_chunk = st.tuples(st.integers(2 * CHUNK + 1, 5 * CHUNK), st.integers(0, 2**32)).map(
    lambda size_seed: random.Random(size_seed[1]).randbytes(size_seed[0]))


@settings(max_examples=40, deadline=None)
@given(data=multi_chunk, shuffle_seed=st.integers(0, 2**32))
def test_reordered_dropped_or_duplicated_chunks_are_detected(data: bytes, shuffle_seed: int) -> None:
    header, chunks = _split(encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=CHUNK))
    assert len(chunks) >= 3
    order = list(range(len(chunks)))
    shuffler = random.Random(shuffle_seed)
    while order == sorted(order):
        shuffler.shuffle(order)
    attacks = {
        "reordered": [chunks[i] for i in order],
        "first dropped": chunks[1:],
        "middle dropped": chunks[:1] + chunks[2:],
        "last dropped": chunks[:-1],
        "duplicated": chunks[:1] + chunks,
        "final chunk repeated": chunks + chunks[-1:],
    }
    for name, body in attacks.items():
        try:
            decrypt_bytes(header + b"".join(body), KEY)
        except DecryptionError:
            continue
        pytest.fail(f"{name} chunks decrypted without an error")


@settings(max_examples=30, deadline=None)
@given(first=multi_chunk, second=multi_chunk, cut=st.integers(1, 2))
def test_chunks_spliced_from_another_envelope_under_the_same_key_are_detected(first: bytes, second: bytes,
                                                                               cut: int) -> None:
    header_a, chunks_a = _split(encrypt_bytes(first, KEY, plaintext_cid=CID, chunk_size=CHUNK))
    header_b, chunks_b = _split(encrypt_bytes(second, KEY, plaintext_cid=CID, chunk_size=CHUNK))
    with pytest.raises(DecryptionError):
        decrypt_bytes(header_a + b"".join(chunks_a[:cut] + chunks_b[cut:]), KEY)
    with pytest.raises(DecryptionError):  # another envelope's header over these chunks
        decrypt_bytes(header_b + b"".join(chunks_a), KEY)


@settings(max_examples=40, deadline=None)
@given(data=st.binary(max_size=3 * CHUNK), other=st.binary(min_size=32, max_size=32), extra=st.binary(min_size=1,
                                                                                                       max_size=64))
def test_a_wrong_key_or_appended_bytes_are_detected(data: bytes, other: bytes, extra: bytes) -> None:
    envelope = encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=CHUNK)
    if other != KEY.secret_bytes():
        with pytest.raises(DecryptionError):
            decrypt_bytes(envelope, DataKey(other))
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope + extra, KEY)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("crypto-properties")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=3 * CHUNK), where=st.floats(0, 1, exclude_max=True),
       flip=st.integers(1, 255))
def test_a_tampered_envelope_never_produces_an_output_file(scratch: Path, data: bytes, where: float,
                                                           flip: int) -> None:
    envelope = bytearray(encrypt_bytes(data, KEY, plaintext_cid=CID, chunk_size=CHUNK))
    envelope[int(where * len(envelope))] ^= flip
    source, target = scratch / "in.enc", scratch / "out.bin"
    source.write_bytes(bytes(envelope))
    target.unlink(missing_ok=True)
    with pytest.raises(DecryptionError):
        decrypt_file(source, target, KEY)
    assert not target.exists()
    assert not [p for p in scratch.iterdir() if p.name not in ("in.enc",)]  # no temp file left either


private_keys = st.integers(1, SECP256K1_N - 1).map(lambda k: k.to_bytes(32, "big"))


@settings(max_examples=40, deadline=None)
@given(owner=private_keys, other=private_keys, secret=st.binary(min_size=32, max_size=32),
       where=st.integers(0, 126), flip=st.integers(1, 255))
def test_key_wrapping_round_trips_and_detects_any_change(owner: bytes, other: bytes, secret: bytes, where: int,
                                                         flip: int) -> None:
    key = DataKey(secret)
    wrapped = wrap_key_for_public_key(key, public_key_for_private_key(owner))
    assert unwrap_key(wrapped, owner) == key
    assert unwrap_key(WrappedKey.from_bytes(wrapped.to_bytes()), owner) == key
    if other != owner:
        with pytest.raises(KeyWrapError):
            unwrap_key(wrapped, other)
        moved = rewrap_key(wrapped, owner, public_key_for_private_key(other))
        assert unwrap_key(moved, other) == key
    damaged = bytearray(wrapped.to_bytes())
    damaged[where] ^= flip
    with pytest.raises(CryptoError):  # KeyWrapError, or a parse error for a broken version/point
        unwrap_key(bytes(damaged), owner)
    assert secret.hex() not in repr(wrapped) and secret.hex() not in repr(key)
