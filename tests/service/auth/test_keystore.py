"""The key store: data keys sealed for the service key, rewrapped for a signed-in EOA, never for a contract account."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import create_engine

from anacostia_blockchain.crypto import DataKey, unwrap_key
from anacostia_blockchain.errors import NotFoundError, SessionError
from anacostia_blockchain.service.auth import KeyStore, Session

SERVICE_KEY = b"\x07" * 32


def test_a_key_is_released_to_an_eoa_session_and_never_to_a_contract_account(tmp_path: Path) -> None:
    store = KeyStore(create_engine(f"sqlite:///{tmp_path / 'keys.db'}"), SERVICE_KEY)
    data_key = DataKey.generate()
    store.put(1, data_key)
    buyer = Account.create()
    public_key = b"\x04" + buyer._key_obj.public_key.to_bytes()
    assert unwrap_key(store.wrap_for(1, public_key), buyer.key).key_id == data_key.key_id
    contract = Session(address="0x" + "ab" * 20, public_key=b"", expires_at=0.0)
    assert contract.contract_account
    with pytest.raises(SessionError, match=r"contract account's \(EIP-1271\): it has no public key"):
        store.wrap_for(1, contract.public_key)
    with pytest.raises(NotFoundError):
        store.wrap_for(2, public_key)
