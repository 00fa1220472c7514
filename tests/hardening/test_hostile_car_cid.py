"""Hostile storage input: corrupt and truncated CARs, CIDs with wrong codecs, digests and bases.

Every damaged input must end in a :class:`StorageError` subclass that says what is wrong — never an ``IndexError``,
``ValueError``, ``KeyError`` or a hang — and a damaged CAR imported into the embedded blockstore must leave nothing
behind (no root pinned, no block stored that does not hash to its CID).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from anacostia_blockchain.errors import (
    CarFormatError,
    CorruptBlockError,
    InvalidCIDError,
    NotAFileError,
    StorageError,
)
from anacostia_blockchain.ipfs import CID, EmbeddedBlockstore, import_bytes, read_car, write_car
from anacostia_blockchain.ipfs.car import MAX_SECTION, encode_header
from anacostia_blockchain.ipfs.multiformats import (
    RAW,
    SHA2_256,
    base32_encode,
    base58btc_encode,
    encode_varint,
    multihash_encode,
)

HELLO_V0 = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"


def _car_of(data: bytes, chunk: int = 200) -> tuple[CID, list[tuple[CID, bytes]], bytes]:
    blocks: list[tuple[CID, bytes]] = []

    class Sink:
        def put_block(self, cid: CID, block: bytes | memoryview) -> None:
            blocks.append((cid, bytes(block)))

    root = import_bytes(data, Sink(), chunker=f"size-{chunk}", max_links=3, cid_version=1, raw_leaves=False).cid
    out = io.BytesIO()
    write_car(out, [root], blocks)
    return root, blocks, out.getvalue()


ROOT, BLOCKS, CAR = _car_of(bytes(range(256)) * 5)
HEADER = encode_header([ROOT])
HEADER_END = len(encode_varint(len(HEADER))) + len(HEADER)


def _read_all(car: bytes) -> list[tuple[CID, bytes]]:
    with read_car(car) as reader:
        return list(reader)


def test_the_reference_car_is_well_formed() -> None:
    assert _read_all(CAR) == BLOCKS and len(BLOCKS) > 4


def test_every_truncation_is_a_typed_error_or_a_clean_prefix() -> None:
    """Cut at every byte: a cut on a section boundary is a shorter valid CAR; anywhere else is ``CarFormatError``."""
    boundaries = [HEADER_END]
    for cid, data in BLOCKS:
        section = len(bytes(cid)) + len(data)
        boundaries.append(boundaries[-1] + len(encode_varint(section)) + section)
    assert boundaries[-1] == len(CAR)
    for cut in range(len(CAR)):
        if cut in boundaries:
            assert [c for c, _ in _read_all(CAR[:cut])] == [c for c, _ in BLOCKS][: boundaries.index(cut)]
        else:
            with pytest.raises(CarFormatError):
                _read_all(CAR[:cut])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(position=st.integers(0, len(CAR) - 1), flip=st.integers(1, 255))
def test_any_flipped_byte_is_detected_with_a_storage_error(position: int, flip: int) -> None:
    damaged = bytearray(CAR)
    damaged[position] ^= flip
    try:
        blocks = _read_all(bytes(damaged))
    except StorageError:
        return
    # A flip the format cannot see (e.g. inside the header's CID bytes of a root) must still not pass off a
    # block whose bytes changed as valid: every block that came out hashes to its CID.
    assert all(cid.matches(data) for cid, data in blocks)


@settings(max_examples=150, deadline=None)
@given(garbage=st.binary(max_size=300))
def test_random_bytes_are_never_a_crash(garbage: bytes) -> None:
    try:
        blocks = _read_all(garbage)
    except StorageError:
        return
    # Random bytes that happen to form a CAR (a header with no sections) yield only blocks that verify.
    assert all(cid.matches(data) for cid, data in blocks)


@settings(max_examples=100, deadline=None)
@given(suffix=st.binary(min_size=1, max_size=64))
def test_garbage_after_a_valid_car_is_a_typed_error(suffix: bytes) -> None:
    with pytest.raises(StorageError):
        _read_all(CAR + suffix)


def test_a_block_that_does_not_match_its_cid_names_index_offset_and_cid() -> None:
    bad = list(BLOCKS)
    bad[1] = (bad[1][0], bad[1][1][:-1] + bytes([bad[1][1][-1] ^ 0xFF]))
    out = io.BytesIO()
    write_car(out, [ROOT], bad)
    with pytest.raises(CorruptBlockError) as info:
        _read_all(out.getvalue())
    assert info.value.block_index == 1 and info.value.cid == bad[1][0]
    assert str(bad[1][0]) in str(info.value)


@pytest.mark.parametrize(("name", "section"), [
    ("section length beyond the limit", encode_varint(MAX_SECTION + 1)),
    ("section length of zero", encode_varint(0)),
    ("varint that never ends", b"\xff" * 11),
    ("non-minimal varint", b"\x80\x00"),
    ("section shorter than its CID", encode_varint(3) + b"\x01\x55\x12"),
    ("CID with an unknown version", encode_varint(40) + b"\x07" + bytes(39)),
])
def test_damaged_section_headers_are_car_format_errors(name: str, section: bytes) -> None:
    with pytest.raises(StorageError) as info:
        _read_all(encode_varint(len(HEADER)) + HEADER + section)
    assert isinstance(info.value, CarFormatError | InvalidCIDError), name
    assert str(info.value)


@pytest.mark.parametrize(("name", "header"), [
    ("empty header", b""),
    ("not a map", b"\x80"),
    ("version 2", HEADER.replace(b"version\x01", b"version\x02")),
    ("no roots key", HEADER.replace(b"roots", b"rootz")),
    ("root that is not tag 42", HEADER.replace(b"\xd8\x2a", b"\xd8\x2b")),
    ("indefinite-length map", b"\xbf\xff"),
    ("float where a version belongs", HEADER.replace(b"version\x01", b"version\xfb")),
    ("declared longer than it is", HEADER[:-3]),
])
def test_damaged_headers_are_car_format_errors(name: str, header: bytes) -> None:
    with pytest.raises(StorageError) as info:
        read_car(encode_varint(len(HEADER)) + header + CAR[HEADER_END:])
    assert isinstance(info.value, CarFormatError | InvalidCIDError), name


def test_an_oversized_header_length_is_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(CarFormatError):
        read_car(encode_varint(2**40) + b"\xa2")


def test_a_corrupt_car_import_leaves_nothing_pinned_or_stored(tmp_path: Path) -> None:
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    bad = list(BLOCKS)
    bad[-1] = (bad[-1][0], b"not this block")
    out = io.BytesIO()
    write_car(out, [ROOT], bad)
    with pytest.raises(CorruptBlockError):
        store.import_car(out.getvalue())
    assert ROOT not in store.pins()
    assert not store.has(bad[-1][0])
    assert not store.has_dag(ROOT)
    # The good CAR afterwards imports completely.
    assert store.import_car(CAR) == [ROOT] and store.verify_dag(ROOT) == len(BLOCKS)


# --- CIDs ------------------------------------------------------------------------------------------------------------
SHA = bytes(range(32))
WRONG_CIDS = {
    "empty": "",
    "v0 with a digest one byte short": base58btc_encode(multihash_encode(SHA2_256, SHA[:31])),
    "v0 with a declared length that lies": base58btc_encode(b"\x12\x20" + SHA[:20]),
    "v0 that is not sha2-256": base58btc_encode(b"\x13\x20" + SHA),
    "v0 with trailing bytes": base58btc_encode(multihash_encode(SHA2_256, SHA) + b"\x00"),
    "v1 with an unknown hash function": "b" + base32_encode(b"\x01\x55" + encode_varint(0x9999) + b"\x20" + SHA),
    "v1 with a multihash length over the digest": "b" + base32_encode(b"\x01\x55\x12\x40" + SHA),
    "v1 sha2-256 with a 20-byte digest": "b" + base32_encode(b"\x01\x55\x12\x14" + SHA[:20]),
    "v1 with trailing bytes": "b" + base32_encode(b"\x01\x55" + multihash_encode(SHA2_256, SHA) + b"\x01"),
    "version 2": "b" + base32_encode(b"\x02\x55" + multihash_encode(SHA2_256, SHA)),
    "unknown multibase prefix": "m" + base32_encode(b"\x01\x55" + multihash_encode(SHA2_256, SHA)),
    "base32 with characters outside the alphabet": "bafy0000000018",
    "base58 with characters outside the alphabet": "Qm0OIl" + HELLO_V0[6:],
    "v0 CID one character short": HELLO_V0[:-1],
    "base16 with an odd length": "f01551",
    "a URL instead of a CID": "https://ipfs.io/ipfs/" + HELLO_V0,
    "only a multibase prefix": "b",
}


@pytest.mark.parametrize("name", list(WRONG_CIDS))
def test_malformed_cid_text_is_an_invalid_cid_error(name: str) -> None:
    with pytest.raises(InvalidCIDError) as info:
        CID.parse(WRONG_CIDS[name])
    assert str(info.value), name


@pytest.mark.parametrize(("text", "reason"), [
    (HELLO_V0[:-1], "46 characters"),
    (HELLO_V0 + "a", "46 characters"),
    ("m" + HELLO_V0, "multibase prefix 'm'"),
    ("b" + "A" * 10, "base32"),
    ("z" + "0" * 10, "base58"),
])
def test_cid_errors_say_what_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(InvalidCIDError, match=reason):
        CID.parse(text)


@pytest.mark.parametrize("raw", [
    b"", b"\x01", b"\x01\x55", b"\x01\x55\x12", b"\x12\x20" + SHA[:5], b"\x01\x55\x12\x20" + SHA[:31],
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
])
def test_malformed_binary_cids_are_invalid_cid_errors(raw: bytes) -> None:
    with pytest.raises(InvalidCIDError):
        CID.parse(raw)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_any_text_parses_or_is_an_invalid_cid_error(text: str) -> None:
    try:
        cid = CID.parse(text)
    except InvalidCIDError:
        return
    assert CID.parse(str(cid)) == cid


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=80))
def test_any_bytes_parse_or_are_an_invalid_cid_error(raw: bytes) -> None:
    try:
        cid = CID.parse(raw)
    except InvalidCIDError:
        return
    assert bytes(cid) == raw


def test_a_cid_with_an_unknown_codec_parses_but_its_content_is_refused(tmp_path: Path) -> None:
    """Like go-cid, an unknown codec is a valid CID; reading it as a file is a typed ``NotAFileError``."""
    store = EmbeddedBlockstore(tmp_path / "repo", fsync=False)
    stored = store.add_bytes(b"hello world", cid_version=1).cid
    alien = CID.parse("b" + base32_encode(b"\x01" + encode_varint(0x7777) + stored.multihash))
    assert alien.codec == 0x7777 and alien.same_block(stored)
    with pytest.raises(NotAFileError, match="0x7777"):
        store.cat(alien)
    with pytest.raises(NotAFileError, match="dag-cbor"):
        store.cat(CID(1, 0x71, stored.multihash))


def test_a_right_cid_with_the_wrong_codec_is_not_the_same_block_content() -> None:
    """The raw and dag-pb CIDs of one digest are different CIDs; verify() refuses data that does not hash."""
    raw_cid = CID.from_data(b"hello", codec=RAW)
    assert raw_cid.matches(b"hello") and not raw_cid.matches(b"hellp")
    with pytest.raises(CorruptBlockError):
        raw_cid.verify(b"hellp")
    pb_cid = CID.from_digest(raw_cid.digest, codec=0x70)
    assert pb_cid != raw_cid and pb_cid.same_block(raw_cid)
