"""Contract accounts sign in by EIP-1271 on a real anvil: Safe-like wallets (1 of 1, 2 of 3), wrong owners, wallets
that answer wrongly or revert, EIP-6492 wrapped signatures; and npm ``siwe`` / PyPI ``siwe`` reach the same verdicts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_abi import encode as abi_encode
from siwe_peers import Peer, ask_both
from siwe_wallets import Wallets

from anacostia_blockchain.chain.contracts import ERC1271Client, personal_message_hash, unwrap_erc6492
from anacostia_blockchain.chain.contracts.erc1271 import ERC6492_MAGIC_SUFFIX
from anacostia_blockchain.chain.tx import sign_personal_message
from anacostia_blockchain.errors import SiweError, ValidationError
from anacostia_blockchain.siwe import SiweMessage, format_rfc3339, verify_signature

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def text_for(address: str, chain_id: int = 31337) -> str:
    return SiweMessage(
        domain="market.example", address=address, uri="https://market.example/login", chain_id=chain_id,
        nonce="abcdefgh12345678", issued_at=format_rfc3339(NOW), statement="Sign in to the marketplace",
        expiration_time=format_rfc3339(NOW + timedelta(minutes=5)),
    ).to_text()  # fmt: skip


def verify(wallets: Wallets | None, text: str, signature: str) -> Any:
    return verify_signature(SiweMessage.parse(text), text, signature, chain=wallets.client if wallets else None)


def wrap_6492(factory: str, calldata: bytes, signature: str) -> str:
    inner = bytes.fromhex(signature[2:])
    return "0x" + (abi_encode(["address", "bytes", "bytes"], [factory, calldata, inner]) + ERC6492_MAGIC_SUFFIX).hex()


def test_a_safe_like_wallet_signs_in_by_eip1271_without_a_public_key(wallets: Wallets) -> None:
    text = text_for(wallets.safe.address)
    signer = verify(wallets, text, wallets.sign(text, wallets.owners[0]))
    assert (signer.address, signer.public_key, signer.contract) == (wallets.safe.address, b"", True)
    answer = ERC1271Client(wallets.client).is_valid_signature(
        wallets.safe.address, personal_message_hash(text), bytes.fromhex(wallets.sign(text, wallets.owners[0])[2:])
    )
    assert answer.valid and answer.value == bytes.fromhex("1626ba7e")


def test_an_eoa_keeps_the_recovery_path_and_its_public_key(wallets: Wallets) -> None:
    owner = wallets.owners[0]
    text = text_for(owner.address)
    signer = verify(wallets, text, sign_personal_message(owner.private_key, text))
    assert signer.address == owner.address and len(signer.public_key) == 65 and not signer.contract
    with pytest.raises(SiweError, match="not made by"):  # an EOA has no code to ask
        verify(wallets, text, sign_personal_message(wallets.owners[1].private_key, text))


def test_a_multisig_needs_its_threshold_of_owners(wallets: Wallets) -> None:
    text = text_for(wallets.multisig.address)
    first, second, third = wallets.owners
    assert verify(wallets, text, wallets.sign(text, first, third)).address == wallets.multisig.address
    with pytest.raises(SiweError, match=r"answered 0xffffffff to isValidSignature, not the EIP-1271 magic value"):
        verify(wallets, text, wallets.sign(text, second))
    with pytest.raises(SiweError, match="answered 0xffffffff"):  # the same owner twice
        verify(wallets, text, wallets.sign(text, second, second))


def test_a_wrong_owner_is_refused_and_without_a_chain_no_contract_signs_in(wallets: Wallets) -> None:
    text = text_for(wallets.safe.address)
    with pytest.raises(SiweError, match=f"contract wallet {wallets.safe.address} answered 0xffffffff"):
        verify(wallets, text, wallets.sign(text, wallets.owners[1]))
    with pytest.raises(SiweError, match="not made by"):
        verify(None, text, wallets.sign(text, wallets.owners[0]))


def test_a_wallet_is_asked_on_the_messages_chain_only(wallets: Wallets) -> None:
    text = text_for(wallets.safe.address, chain_id=1)
    with pytest.raises(SiweError, match="message is for chain 1, contract accounts are read on chain 31337"):
        verify(wallets, text, wallets.sign(text, wallets.owners[0]))


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (0, r"answered 0xdeadbeef to isValidSignature, not the EIP-1271 magic value 0x1626ba7e"),
        (1, r"reverted isValidSignature: .*NotMySignature|reverted isValidSignature"),
        (2, r"gave no EIP-1271 answer: .*returned no data"),
        (3, r"gave no EIP-1271 answer: .*undecodable"),
    ],
)
def test_wallets_that_answer_wrongly_or_revert_are_refused_clearly(wallets: Wallets, mode: int, reason: str) -> None:
    faulty = wallets.deploy("FaultyWallet", mode)
    text = text_for(faulty.address)
    with pytest.raises(SiweError, match=reason) as refused:
        verify(wallets, text, wallets.sign(text, wallets.owners[0]))
    assert "\n" not in str(refused.value)


def test_eip6492_wrapped_signatures_of_deployed_wallets_are_unwrapped(wallets: Wallets) -> None:
    factory = wallets.deploy("WalletFactory")
    owners, salt = [wallets.owners[0].address], b"\x01" * 32
    predicted = factory.call("predict", owners, 1, salt)
    calldata = factory.encode("deploy", owners, 1, salt)
    text = text_for(predicted)
    wrapped = wrap_6492(factory.address, calldata, wallets.sign(text, wallets.owners[0]))
    with pytest.raises(SiweError, match=f"contract wallet {predicted} is not deployed: EIP-6492"):
        verify(wallets, text, wrapped)
    wallets.sender.transact(factory, "deploy", owners, 1, salt)
    assert verify(wallets, text, wrapped).address == predicted
    parts = unwrap_erc6492(bytes.fromhex(wrapped[2:]))
    assert parts is not None and parts.factory == factory.address and parts.factory_calldata == calldata
    with pytest.raises(SiweError, match="bad signature: malformed EIP-6492"):
        verify(wallets, text, "0x" + "00" * 40 + ERC6492_MAGIC_SUFFIX.hex())
    with pytest.raises(ValidationError, match="malformed EIP-6492"):
        unwrap_erc6492(b"\x01" + ERC6492_MAGIC_SUFFIX)


def test_the_reference_libraries_reach_the_same_verdicts(wallets: Wallets, npm_siwe: Peer, pypi_siwe: Peer) -> None:
    first, second, third = wallets.owners
    faulty = {mode: wallets.deploy("FaultyWallet", mode) for mode in (0, 1, 2)}
    cases: list[tuple[str, str, Any]] = []  # (name, address, signers or a raw signature)
    cases += [("EOA", first.address, "eoa-first"), ("EOA, another key", first.address, "eoa-second")]
    cases += [("safe 1/1", wallets.safe.address, [first]), ("safe, wrong owner", wallets.safe.address, [second])]
    cases += [("multisig 2/3", wallets.multisig.address, [second, third])]
    cases += [("multisig 1/3", wallets.multisig.address, [third])]
    cases += [(f"faulty mode {mode}", contract.address, [first]) for mode, contract in faulty.items()]
    items, mine = [], []
    for _name, address, how in cases:
        text = text_for(address)
        if how == "eoa-first":
            signature = sign_personal_message(first.private_key, text)
        elif how == "eoa-second":
            signature = sign_personal_message(second.private_key, text)
        else:
            signature = wallets.sign(text, *how)
        items.append({"message": text, "signature": signature, "time": format_rfc3339(NOW + timedelta(seconds=1))})
        try:
            verify(wallets, text, signature)
            mine.append(True)
        except SiweError:
            mine.append(False)
    npm, pypi = ask_both(npm_siwe, pypi_siwe, {"op": "verify", "rpc_url": wallets.client.rpc_url, "items": items})
    table = {name: (ours, n["ok"], p["ok"]) for (name, _, _), ours, n, p in zip(cases, mine, npm, pypi, strict=True)}
    assert table == {  # (this package, npm siwe, PyPI siwe)
        "EOA": (True, True, True),
        "EOA, another key": (False, False, False),
        "safe 1/1": (True, True, True),
        "safe, wrong owner": (False, False, False),
        # PyPI siwe refuses any signature that is not 65 bytes before it asks the contract (its EOA recovery raises
        # InvalidSignature), so multi-owner signatures never reach isValidSignature there: a known limitation.
        "multisig 2/3": (True, True, False),
        "multisig 1/3": (False, False, False),
        "faulty mode 0": (False, False, False),
        "faulty mode 1": (False, False, False),
        "faulty mode 2": (False, False, False),
    }
