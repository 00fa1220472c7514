"""ECIES on secp256k1: data keys wrapped for Ethereum-style key pairs, and recipient rotation without re-encryption."""

from __future__ import annotations

import io
import os
import secrets

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys import keys as eth_keys

from anacostia_blockchain.crypto import (
    DataKey,
    WrappedKey,
    decrypt_bytes,
    encrypt_bytes,
    key_for_private_key,
    normalize_public_key,
    public_key_for_private_key,
    read_header,
    rewrap_envelope,
    rewrap_file,
    rewrap_key,
    unwrap_key,
    wrap_key_for_public_key,
)
from anacostia_blockchain.crypto.envelope import MIN_CHUNK_SIZE
from anacostia_blockchain.crypto.keywrap import WRAPPED_KEY_LENGTH
from anacostia_blockchain.errors import DecryptionError, KeyWrapError

CID = "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _keypair() -> tuple[bytes, bytes]:
    private = secrets.token_bytes(32)
    return private, public_key_for_private_key(private)


def test_wrap_and_unwrap_round_trip() -> None:
    private, public = _keypair()
    key = DataKey.generate()
    wrapped = wrap_key_for_public_key(key, public)
    assert unwrap_key(wrapped, private) == key
    assert len(wrapped.to_bytes()) == WRAPPED_KEY_LENGTH
    assert unwrap_key(wrapped.to_bytes(), private) == key
    assert WrappedKey.from_hex(wrapped.to_hex()) == wrapped
    assert key.secret_bytes() not in wrapped.to_bytes()


def test_each_wrap_is_fresh() -> None:
    _, public = _keypair()
    key = DataKey.generate()
    first, second = wrap_key_for_public_key(key, public), wrap_key_for_public_key(key, public)
    assert first.ephemeral_public_key != second.ephemeral_public_key
    assert first.ciphertext != second.ciphertext


def test_every_public_key_encoding_is_accepted() -> None:
    private, compressed = _keypair()
    uncompressed = eth_keys.PrivateKey(private).public_key.to_bytes()  # 64-byte x || y, Ethereum's form
    assert normalize_public_key(uncompressed) == compressed
    assert normalize_public_key(b"\x04" + uncompressed) == compressed
    key = DataKey.generate()
    for form in (compressed, uncompressed, b"\x04" + uncompressed):
        assert unwrap_key(wrap_key_for_public_key(key, form), private) == key


def test_an_ethereum_account_receives_a_key_through_its_recovered_public_key() -> None:
    """The marketplace flow: recover the buyer's public key from a signature, wrap for it, buyer unwraps."""
    buyer = Account.create()
    signed = Account.sign_message(encode_defunct(text="Sign in to the model marketplace"), buyer.key)
    recovered = eth_keys.Signature(
        signed.signature[:64] + bytes([signed.signature[64] - 27])
    ).recover_public_key_from_msg_hash(signed.message_hash)
    assert recovered.to_checksum_address() == buyer.address
    model_key = DataKey.generate()
    wrapped = wrap_key_for_public_key(model_key, recovered.to_bytes())
    assert unwrap_key(wrapped, bytes(buyer.key)) == model_key


def test_the_wrong_private_key_cannot_unwrap() -> None:
    _, public = _keypair()
    other_private, _ = _keypair()
    wrapped = wrap_key_for_public_key(DataKey.generate(), public)
    with pytest.raises(KeyWrapError, match="another recipient"):
        unwrap_key(wrapped, other_private)


@pytest.mark.parametrize("position", [34 + 5, 67 + 3, 70, WRAPPED_KEY_LENGTH - 1])
def test_tampered_wrapped_keys_are_rejected(position: int) -> None:
    private, public = _keypair()
    raw = bytearray(wrap_key_for_public_key(DataKey.generate(), public).to_bytes())
    raw[position] ^= 0x01
    with pytest.raises(KeyWrapError):
        unwrap_key(bytes(raw), private)


def test_malformed_inputs_are_typed_errors_without_key_material() -> None:
    private, public = _keypair()
    key = DataKey.generate()
    with pytest.raises(KeyWrapError, match="33, 64 or 65 bytes"):
        wrap_key_for_public_key(key, public[:20])
    with pytest.raises(KeyWrapError, match="not on the curve"):
        wrap_key_for_public_key(key, b"\x02" + b"\xff" * 32)
    with pytest.raises(KeyWrapError, match="only a DataKey"):
        wrap_key_for_public_key(key.secret_bytes(), public)  # type: ignore[arg-type]
    wrapped = wrap_key_for_public_key(key, public)
    for bad in (bytes(32), SECP256K1_N.to_bytes(32, "big"), private[:31]):
        with pytest.raises(KeyWrapError) as caught:
            unwrap_key(wrapped, bad)
        assert bad.hex() not in str(caught.value) or bad == bytes(32)
    with pytest.raises(KeyWrapError, match="127 bytes"):
        WrappedKey.from_bytes(b"\x01" * 10)
    with pytest.raises(KeyWrapError, match="version 7"):
        WrappedKey.from_bytes(b"\x07" + wrapped.to_bytes()[1:])
    with pytest.raises(KeyWrapError, match="hex digits"):
        WrappedKey.from_hex("zz")
    with pytest.raises(KeyWrapError) as caught:
        unwrap_key(wrapped, private[:31])
    assert private.hex() not in str(caught.value) and private[:31].hex() not in str(caught.value)


def test_rewrap_key_moves_a_key_to_a_new_recipient() -> None:
    old_private, old_public = _keypair()
    new_private, new_public = _keypair()
    key = DataKey.generate()
    moved = rewrap_key(wrap_key_for_public_key(key, old_public), old_private, new_public)
    assert moved.is_for(new_public)
    assert unwrap_key(moved, new_private) == key


def test_envelope_recipients_open_it_with_their_private_key() -> None:
    alice_private, alice = _keypair()
    bob_private, bob = _keypair()
    data = os.urandom(3 * MIN_CHUNK_SIZE)
    key = DataKey.generate()
    envelope = encrypt_bytes(data, key, plaintext_cid=CID, recipient_public_keys=[alice, bob, alice])
    header = read_header(io.BytesIO(envelope))
    assert header.recipient_public_keys == (alice, bob)  # duplicates collapse
    for private in (alice_private, bob_private):
        assert decrypt_bytes(envelope, key_for_private_key(header, private)) == data
    stranger_private, _ = _keypair()
    with pytest.raises(KeyWrapError, match="no wrapped key"):
        key_for_private_key(header, stranger_private)


def test_rewrap_envelope_adds_and_removes_recipients_without_touching_the_chunks() -> None:
    owner_private, owner = _keypair()
    buyer_private, buyer = _keypair()
    revoked_private, revoked = _keypair()
    data = os.urandom(5 * MIN_CHUNK_SIZE + 17)
    key = DataKey.generate()
    envelope = encrypt_bytes(
        data, key, plaintext_cid=CID, recipient_public_keys=[owner, revoked], chunk_size=MIN_CHUNK_SIZE
    )
    old_header = read_header(io.BytesIO(envelope))

    owner_key = key_for_private_key(old_header, owner_private)
    out = io.BytesIO()
    new_header = rewrap_envelope(io.BytesIO(envelope), out, owner_key, [owner, buyer])
    rewrapped = out.getvalue()

    old_header_len, new_header_len = len(old_header.to_bytes()), len(new_header.to_bytes())
    assert rewrapped[new_header_len:] == envelope[old_header_len:]  # data not re-encrypted
    assert new_header.plaintext_cid == CID
    header = read_header(io.BytesIO(rewrapped))
    assert decrypt_bytes(rewrapped, key_for_private_key(header, buyer_private)) == data
    assert decrypt_bytes(rewrapped, key_for_private_key(header, owner_private)) == data
    with pytest.raises(KeyWrapError):
        key_for_private_key(header, revoked_private)


def test_rewrap_requires_the_data_key() -> None:
    _, owner = _keypair()
    envelope = encrypt_bytes(b"secret weights", DataKey.generate(), plaintext_cid=CID, recipient_public_keys=[owner])
    with pytest.raises(DecryptionError, match="wrong data key"):
        rewrap_envelope(io.BytesIO(envelope), io.BytesIO(), DataKey.generate(), [owner])


def test_a_recipient_entry_smuggled_into_the_header_is_detected() -> None:
    """Someone without the data key appends their own wrapped key: the header MAC no longer matches."""
    _, owner = _keypair()
    attacker_private, attacker = _keypair()
    key = DataKey.generate()
    envelope = encrypt_bytes(b"payload", key, plaintext_cid=CID, recipient_public_keys=[owner])
    header = read_header(io.BytesIO(envelope))
    forged_entry = wrap_key_for_public_key(DataKey.generate(), attacker)
    forged = type(header)(
        header.chunk_size, header.nonce_prefix, CID, (*header.recipients, forged_entry), header.header_mac
    )
    tampered = forged.to_bytes() + envelope[len(header.to_bytes()) :]
    with pytest.raises(DecryptionError, match="header failed authentication"):
        key_for_private_key(read_header(io.BytesIO(tampered)), attacker_private)
    with pytest.raises(DecryptionError):
        decrypt_bytes(tampered, key)


def test_rewrap_file_replaces_in_place(tmp_path) -> None:
    owner_private, owner = _keypair()
    buyer_private, buyer = _keypair()
    key = DataKey.generate()
    path = tmp_path / "model.enc"
    path.write_bytes(encrypt_bytes(b"model bytes", key, plaintext_cid=CID, recipient_public_keys=[owner]))
    rewrap_file(path, path, key, [buyer])
    header = read_header(io.BytesIO(path.read_bytes()))
    assert header.recipient_public_keys == (buyer,)
    assert decrypt_bytes(path.read_bytes(), key_for_private_key(header, buyer_private)) == b"model bytes"
    with pytest.raises(KeyWrapError):
        key_for_private_key(header, owner_private)
    assert [p.name for p in tmp_path.iterdir()] == ["model.enc"]
