"""Signers: every way to load a key, and the key never leaking into reprs, logs or errors."""

from __future__ import annotations

import copy
import json
import logging
import pickle
import traceback
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.errors import SignerError

KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil dev account 1
ADDRESS = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
PASSWORD = "correct horse battery staple"


def _secrets() -> list[str]:
    return [KEY, KEY[2:], KEY[2:].upper(), PASSWORD]


def _assert_clean(text: str) -> None:
    for secret in _secrets():
        assert secret.lower() not in text.lower()


def _error_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + str(exc) + repr(exc)


def test_from_key_env_and_keystore_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    direct = LocalSigner.from_key(KEY)
    assert direct.address == ADDRESS
    assert LocalSigner.from_key(KEY[2:]).address == ADDRESS
    assert LocalSigner.from_key(bytes.fromhex(KEY[2:])).address == ADDRESS
    monkeypatch.setenv("ANACOSTIA_PRIVATE_KEY", f"  {KEY}\n")
    assert LocalSigner.from_env().address == ADDRESS
    path = direct.write_keystore(tmp_path / "key.json", PASSWORD, kdf="pbkdf2", iterations=2)
    assert path.stat().st_mode & 0o777 == 0o600
    assert json.loads(path.read_text())["address"].lower() == ADDRESS[2:].lower()
    assert LocalSigner.from_keystore(path, PASSWORD).address == ADDRESS


def test_scrypt_keystore_round_trip(tmp_path: Path) -> None:
    path = LocalSigner.from_key(KEY).write_keystore(tmp_path / "scrypt.json", PASSWORD)
    assert json.loads(path.read_text())["crypto"]["kdf"] == "scrypt"
    assert LocalSigner.from_keystore(path, PASSWORD).address == ADDRESS


def test_repr_str_and_pickle_never_show_the_key() -> None:
    signer = LocalSigner.from_key(KEY)
    assert repr(signer) == f"LocalSigner(address={ADDRESS})"
    _assert_clean(repr(signer) + str(signer) + f"{signer}" + repr([signer]))
    with pytest.raises(SignerError, match="cannot be pickled"):
        pickle.dumps(signer)
    assert copy.deepcopy(signer) is signer
    assert not hasattr(signer, "__dict__")  # no attribute dict to dump by accident


@pytest.mark.parametrize(
    "bad_key",
    [KEY[:-2], KEY + "00", "0x" + "zz" * 32, "", "0x" + "00" * 32, KEY[2:-1] + "g"],
)
def test_malformed_keys_are_rejected_without_echo(bad_key: str) -> None:
    with pytest.raises(SignerError, match="invalid private key") as info:
        LocalSigner.from_key(bad_key)
    text = _error_text(info.value)
    _assert_clean(text)
    if len(bad_key) > 8:
        assert bad_key[2:].lower() not in text.lower()


def test_env_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(SignerError, match="MY_KEY is not set"):
        LocalSigner.from_env("MY_KEY")
    monkeypatch.setenv("MY_KEY", KEY[:-4])
    with pytest.raises(SignerError, match="does not hold a valid private key") as info:
        LocalSigner.from_env("MY_KEY")
    assert KEY[2:-4].lower() not in _error_text(info.value).lower()


def test_keystore_errors_never_leak(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = LocalSigner.from_key(KEY).write_keystore(tmp_path / "key.json", PASSWORD, kdf="pbkdf2", iterations=2)
    wrong_password = "hunter2-wrong"
    with pytest.raises(SignerError, match="wrong password") as wrong:
        LocalSigner.from_keystore(path, wrong_password)
    _assert_clean(_error_text(wrong.value))
    assert "hunter2" not in _error_text(wrong.value)
    with pytest.raises(SignerError, match="does not exist"):
        LocalSigner.from_keystore(tmp_path / "missing.json", PASSWORD)
    (tmp_path / "garbage.json").write_text("{not json")
    with pytest.raises(SignerError, match="not readable JSON"):
        LocalSigner.from_keystore(tmp_path / "garbage.json", PASSWORD)
    (tmp_path / "odd.json").write_text(json.dumps({"version": 3, "crypto": {"kdf": "rot13"}}))
    with pytest.raises(SignerError, match="malformed"):
        LocalSigner.from_keystore(tmp_path / "odd.json", PASSWORD)
    _assert_clean(caplog.text)


def test_signing_and_sending_logs_no_key(fresh_chain: Devnet, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    signer = LocalSigner.from_key(KEY)
    client = ChainClient(fresh_chain.rpc_url)
    with TxSender(client, signer) as sender:
        receipt = sender.send_value(fresh_chain.accounts[5].address, 12345)
        assert receipt.status == 1 and receipt["from"].lower() == ADDRESS.lower()
        _assert_clean(repr(sender))
    with pytest.raises(SignerError, match="cannot sign") as info:
        signer.sign_transaction({"nonce": "x", "gas": 1})
    _assert_clean(_error_text(info.value) + caplog.text)


@pytest.mark.parametrize("to", ["0x5FbDB2315678afecb367f032d93F642f64180aa3", None])
def test_fast_eip1559_signing_is_byte_identical_to_eth_account(to: str | None) -> None:
    from eth_account import Account

    tx = {
        "type": 2, "chainId": 31337, "nonce": 17, "gas": 123_456, "maxFeePerGas": 3 * 10**9,
        "maxPriorityFeePerGas": 10**9, "value": 5, "data": bytes(range(200)),
    }  # fmt: skip
    if to is not None:
        tx["to"] = to
    fast = LocalSigner.from_key(KEY).sign_transaction(tx)
    reference = Account.sign_transaction(tx, KEY)
    assert fast.raw == bytes(reference.raw_transaction)
    assert fast.tx_hash == "0x" + bytes(reference.hash).hex()
    assert Account.recover_transaction(fast.raw) == ADDRESS


def test_other_transaction_kinds_go_through_eth_account() -> None:
    from eth_account import Account

    tx = {
        "type": 2, "chainId": 1, "nonce": 0, "gas": 50_000, "maxFeePerGas": 10**9, "maxPriorityFeePerGas": 1,
        "value": 0, "data": b"", "to": ADDRESS,
        "accessList": [{"address": ADDRESS, "storageKeys": ["0x" + "00" * 32]}],
    }  # fmt: skip
    signed = LocalSigner.from_key(KEY).sign_transaction(tx)
    assert signed.raw == bytes(Account.sign_transaction(tx, KEY).raw_transaction)
    plain = {k: v for k, v in tx.items() if k != "accessList"}
    with pytest.raises(SignerError, match=r"cannot sign transaction with fields \[chainId"):
        LocalSigner.from_key(KEY).sign_transaction({**plain, "nonce": -1})
    with pytest.raises(SignerError, match="20-byte address"):
        LocalSigner.from_key(KEY).sign_transaction({**plain, "to": "0x1234"})
