"""Streaming envelope encryption: round trips at the chunk boundaries and every kind of tampering detected."""

from __future__ import annotations

import io
import os
import struct
import tracemalloc
from pathlib import Path

import pytest

from anacostia_blockchain.crypto import (
    DataKey,
    decrypt_bytes,
    decrypt_file,
    decrypt_stream,
    encrypt_bytes,
    encrypt_file,
    encrypt_stream,
    iter_plaintext,
    read_header,
    reencrypt_stream,
)
from anacostia_blockchain.crypto.envelope import DEFAULT_CHUNK_SIZE, MIN_CHUNK_SIZE, TAG_LENGTH
from anacostia_blockchain.errors import ArtifactNotFoundError, ConfigurationError, DecryptionError

CS = MIN_CHUNK_SIZE  # small chunks keep the boundary tests fast and multi-chunk
CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"


def _split(envelope: bytes, chunk_size: int = CS) -> tuple[bytes, list[bytes]]:
    header_len = len(read_header(io.BytesIO(envelope)).to_bytes())
    body = envelope[header_len:]
    block = chunk_size + TAG_LENGTH
    return envelope[:header_len], [body[i : i + block] for i in range(0, len(body), block)]


@pytest.mark.parametrize("size", [0, 1, CS - 1, CS, CS + 1, 3 * CS, 3 * CS + 7])
def test_round_trip_at_chunk_boundaries(size: int) -> None:
    key = DataKey.generate()
    plaintext = os.urandom(size)
    envelope = encrypt_bytes(plaintext, key, plaintext_cid=CID, chunk_size=CS)
    assert decrypt_bytes(envelope, key) == plaintext
    header, chunks = _split(envelope)
    expected_chunks = max(1, -(-size // CS))
    assert len(chunks) == expected_chunks
    assert len(envelope) == len(header) + size + expected_chunks * TAG_LENGTH
    assert len(plaintext) < 16 or plaintext[:16] not in envelope


def test_multi_mib_file_round_trip_with_default_chunks(tmp_path: Path) -> None:
    key = DataKey.generate()
    src, enc, out = tmp_path / "model.bin", tmp_path / "model.bin.enc", tmp_path / "model.out"
    data = os.urandom(5 * 1024 * 1024 + 123)
    src.write_bytes(data)
    info = encrypt_file(src, enc, key, plaintext_cid=CID)
    assert info.chunks == -(-len(data) // DEFAULT_CHUNK_SIZE)
    assert info.plaintext_size == len(data)
    assert enc.stat().st_size == info.ciphertext_size
    back = decrypt_file(enc, out, key)
    assert out.read_bytes() == data
    assert back.plaintext_cid == CID and back.plaintext_size == len(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.bin", "model.bin.enc", "model.out"]


def test_header_is_readable_without_the_key_and_binds_the_cid() -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(b"weights", key, plaintext_cid=CID, chunk_size=CS)
    header = read_header(io.BytesIO(envelope))
    assert header.plaintext_cid == CID
    assert header.chunk_size == CS
    header.verify(key)
    with pytest.raises(DecryptionError, match="wrong data key"):
        header.verify(DataKey.generate())


def test_wrong_key_is_detected_before_any_plaintext() -> None:
    envelope = encrypt_bytes(os.urandom(3 * CS), DataKey.generate(), plaintext_cid=CID, chunk_size=CS)
    chunks = iter_plaintext(io.BytesIO(envelope), DataKey.generate())
    with pytest.raises(DecryptionError, match="header failed authentication"):
        next(chunks)


@pytest.mark.parametrize("region", ["magic", "cid", "chunk_size", "nonce_prefix", "mac", "first_chunk", "tag", "last"])
def test_a_flipped_byte_anywhere_is_detected(region: str) -> None:
    key = DataKey.generate()
    envelope = bytearray(encrypt_bytes(os.urandom(2 * CS + 5), key, plaintext_cid=CID, chunk_size=CS))
    header_len = len(read_header(io.BytesIO(bytes(envelope))).to_bytes())
    position = {
        "magic": 0,
        "chunk_size": 8,
        "nonce_prefix": 12,
        "cid": 22,
        "mac": header_len - 1,
        "first_chunk": header_len,
        "tag": header_len + CS + TAG_LENGTH - 1,
        "last": len(envelope) - 1,
    }[region]
    envelope[position] ^= 0x01
    with pytest.raises(DecryptionError):
        decrypt_bytes(bytes(envelope), key)


def test_truncation_at_a_chunk_boundary_is_reported_as_truncation() -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(os.urandom(3 * CS), key, plaintext_cid=CID, chunk_size=CS)
    header, chunks = _split(envelope)
    for keep in (1, 2):
        with pytest.raises(DecryptionError, match="truncated envelope"):
            decrypt_bytes(header + b"".join(chunks[:keep]), key)
    with pytest.raises(DecryptionError, match="truncated"):
        decrypt_bytes(header, key)


@pytest.mark.parametrize("cut", [1, TAG_LENGTH, CS])
def test_truncation_inside_a_chunk_or_the_header_is_detected(cut: int) -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(os.urandom(2 * CS + 9), key, plaintext_cid=CID, chunk_size=CS)
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope[:-cut], key)
    with pytest.raises(DecryptionError, match="header is incomplete"):
        decrypt_bytes(envelope[:30], key)


def test_appended_chunk_or_bytes_are_detected() -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(os.urandom(2 * CS), key, plaintext_cid=CID, chunk_size=CS)
    _, chunks = _split(envelope)
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope + chunks[0], key)
    with pytest.raises(DecryptionError):
        decrypt_bytes(envelope + b"\x00", key)


def test_reordered_and_duplicated_chunks_are_detected() -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(os.urandom(3 * CS + 1), key, plaintext_cid=CID, chunk_size=CS)
    header, chunks = _split(envelope)
    swapped = [chunks[1], chunks[0], *chunks[2:]]
    with pytest.raises(DecryptionError, match="chunk 0 failed authentication"):
        decrypt_bytes(header + b"".join(swapped), key)
    duplicated = [chunks[0], chunks[0], *chunks[2:]]
    with pytest.raises(DecryptionError, match="chunk 1 failed authentication"):
        decrypt_bytes(header + b"".join(duplicated), key)


def test_a_swapped_header_is_detected_even_under_the_same_key() -> None:
    key = DataKey.generate()
    plaintext = os.urandom(2 * CS)
    first = encrypt_bytes(plaintext, key, plaintext_cid=CID, chunk_size=CS)
    other_cid = encrypt_bytes(
        plaintext, key, plaintext_cid="QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", chunk_size=CS
    )
    same_cid = encrypt_bytes(plaintext, key, plaintext_cid=CID, chunk_size=CS)
    _, chunks = _split(first)
    for donor in (other_cid, same_cid):
        donor_header, _ = _split(donor)
        with pytest.raises(DecryptionError, match="chunk 0 failed authentication"):
            decrypt_bytes(donor_header + b"".join(chunks), key)


def test_a_header_edited_to_claim_another_cid_is_detected() -> None:
    key = DataKey.generate()
    envelope = encrypt_bytes(b"data", key, plaintext_cid=CID, chunk_size=CS)
    forged = envelope.replace(CID.encode(), CID[:-1].encode() + b"a", 1)
    assert forged != envelope
    with pytest.raises(DecryptionError, match="header failed authentication"):
        decrypt_bytes(forged, key)


def test_not_an_envelope_and_unknown_version_are_clear_errors() -> None:
    key = DataKey.generate()
    with pytest.raises(DecryptionError, match="bad magic"):
        decrypt_bytes(b"PK\x03\x04" + bytes(60), key)
    envelope = bytearray(encrypt_bytes(b"x", key, plaintext_cid=CID, chunk_size=CS))
    envelope[6] = 9
    with pytest.raises(DecryptionError, match="unsupported envelope version 9"):
        decrypt_bytes(bytes(envelope), key)
    struct.pack_into(">I", envelope, 7, 1)
    envelope[6] = 1
    with pytest.raises(DecryptionError, match="out of range"):
        decrypt_bytes(bytes(envelope), key)


def test_failed_decryption_leaves_no_output_file(tmp_path: Path) -> None:
    key = DataKey.generate()
    src, enc, out = tmp_path / "a", tmp_path / "a.enc", tmp_path / "a.out"
    src.write_bytes(os.urandom(4 * CS))
    encrypt_file(src, enc, key, plaintext_cid=CID, chunk_size=CS)
    enc.write_bytes(enc.read_bytes()[: -(CS + TAG_LENGTH)])
    with pytest.raises(DecryptionError, match="truncated"):
        decrypt_file(enc, out, key)
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "a.enc"]


def test_missing_source_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactNotFoundError):
        encrypt_file(tmp_path / "nope", tmp_path / "out", DataKey.generate(), plaintext_cid=CID)
    assert not (tmp_path / "out").exists()


def test_bad_parameters_are_configuration_errors() -> None:
    key = DataKey.generate()
    with pytest.raises(ConfigurationError, match="chunk_size"):
        encrypt_bytes(b"x", key, plaintext_cid=CID, chunk_size=MIN_CHUNK_SIZE - 1)
    for cid in ("", "with space\n", "é"):
        with pytest.raises(ConfigurationError, match="plaintext_cid"):
            encrypt_bytes(b"x", key, plaintext_cid=cid)
    with pytest.raises(ConfigurationError, match="DataKey"):
        encrypt_bytes(b"x", os.urandom(32), plaintext_cid=CID)  # type: ignore[arg-type]


class _TrickleReader(io.RawIOBase):
    """A pipe-like source: returns at most 100 bytes per read, like a socket would."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        take = min(100, len(self._data) if size < 0 else size)
        out, self._data = bytes(self._data[:take]), self._data[take:]
        return out


def test_short_reads_from_pipes_are_handled_both_ways() -> None:
    key = DataKey.generate()
    data = os.urandom(5 * CS + 3)
    sink = io.BytesIO()
    encrypt_stream(_TrickleReader(data), sink, key, plaintext_cid=CID, chunk_size=CS)  # type: ignore[arg-type]
    assert read_header(io.BytesIO(sink.getvalue())).plaintext_cid == CID
    out = io.BytesIO()
    decrypt_stream(_TrickleReader(sink.getvalue()), out, key)  # type: ignore[arg-type]
    assert out.getvalue() == data


class _PatternReader(io.RawIOBase):
    """A large synthetic file that never exists in memory as a whole."""

    def __init__(self, size: int) -> None:
        self.remaining = size
        self.block = bytes(range(256)) * 1024

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        take = min(self.remaining, len(self.block), size if size >= 0 else self.remaining)
        self.remaining -= take
        return self.block[:take]


class _CountingSink(io.RawIOBase):
    def __init__(self) -> None:
        self.written = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.written += len(data)
        return len(data)


def test_memory_stays_bounded_while_streaming_64_mib() -> None:
    key = DataKey.generate()
    size = 64 * 1024 * 1024
    sink = _CountingSink()
    tracemalloc.start()
    try:
        info = encrypt_stream(_PatternReader(size), sink, key, plaintext_cid=CID)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.plaintext_size == size
    assert sink.written == info.ciphertext_size
    assert peak < 16 * DEFAULT_CHUNK_SIZE, f"peak {peak} bytes: the stream is being buffered"


def test_reencrypt_rotates_the_data_key_and_keeps_the_cid() -> None:
    old, new = DataKey.generate(), DataKey.generate()
    data = os.urandom(3 * CS + 11)
    envelope = encrypt_bytes(data, old, plaintext_cid=CID, chunk_size=CS)
    out = io.BytesIO()
    info = reencrypt_stream(io.BytesIO(envelope), out, old, new)
    assert info.plaintext_cid == CID and info.plaintext_size == len(data) and info.chunks == 4
    assert decrypt_bytes(out.getvalue(), new) == data
    with pytest.raises(DecryptionError):
        decrypt_bytes(out.getvalue(), old)


def test_reencrypt_refuses_a_tampered_source() -> None:
    old = DataKey.generate()
    envelope = bytearray(encrypt_bytes(os.urandom(2 * CS), old, plaintext_cid=CID, chunk_size=CS))
    envelope[-1] ^= 0xFF
    with pytest.raises(DecryptionError):
        reencrypt_stream(io.BytesIO(bytes(envelope)), io.BytesIO(), old, DataKey.generate())
