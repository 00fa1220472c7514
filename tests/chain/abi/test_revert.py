"""Revert decoding: Error(string), Panic(uint256), custom errors from the shipped ABIs — offline and on chain."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Contract, Devnet, LocalSigner, TxSender, decode_revert, register_abi
from anacostia_blockchain.chain.abi import PANIC_CODES, ErrorTable, name_roles, role_name
from anacostia_blockchain.chain.encoding import to_hex
from anacostia_blockchain.errors import (
    ContractRevertError,
    CustomContractError,
    PanicError,
    RevertWithReason,
)

ANCHOR_ROLE = keccak(text="ANCHOR_ROLE")


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def test_error_string() -> None:
    data = _selector("Error(string)") + encode(["string"], ["not today"])
    error = decode_revert(data)
    assert type(error) is RevertWithReason
    assert error.error_name == "Error" and error.error_args == ("not today",)
    assert str(error) == "execution reverted: not today"
    assert decode_revert("0x" + data.hex()).error_args == ("not today",)  # hex input too


@pytest.mark.parametrize("code", sorted(PANIC_CODES))
def test_every_panic_code_has_a_meaning(code: int) -> None:
    error = decode_revert(_selector("Panic(uint256)") + encode(["uint256"], [code]))
    assert type(error) is PanicError
    assert error.error_args == (code,) and PANIC_CODES[code] in str(error)


def test_unknown_panic_code() -> None:
    error = decode_revert(_selector("Panic(uint256)") + encode(["uint256"], [0x99]))
    assert isinstance(error, PanicError) and "unknown panic code" in str(error)


def test_custom_error_from_shipped_abi_with_a_fresh_table() -> None:
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    data = _selector("AccessControlUnauthorizedAccount(address,bytes32)") + encode(
        ["address", "bytes32"], [stranger, ANCHOR_ROLE]
    )
    spec = ErrorTable().lookup(data[:4])  # a new table reads chain/artifacts/*.json itself
    assert spec is not None and spec.name == "AccessControlUnauthorizedAccount"
    error = decode_revert(data)
    assert type(error) is CustomContractError
    assert error.error_name == "AccessControlUnauthorizedAccount"
    assert error.error_args == (stranger.lower(), ANCHOR_ROLE)
    assert error.selector == "0x" + data[:4].hex()
    assert str(error) == f"AccessControlUnauthorizedAccount(account={stranger}, neededRole=ANCHOR_ROLE)"


def test_roles_are_named_from_the_abis_role_getters_and_unknown_ones_stay_hex() -> None:
    stranger = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
    signature = "AccessControlUnauthorizedAccount(address,bytes32)"
    auditor = keccak(text="AUDITOR_ROLE")
    data = _selector(signature) + encode(["address", "bytes32"], [stranger, auditor])
    assert str(decode_revert(data)).endswith(f"neededRole={to_hex(auditor)})")  # no known contract has it
    assert role_name(auditor) is None and role_name(b"\x00" * 32) == "DEFAULT_ADMIN_ROLE"
    getter = {"type": "function", "name": "AUDITOR_ROLE", "inputs": [], "outputs": [{"type": "bytes32"}]}
    register_abi([getter], source="Audited")
    assert role_name(to_hex(auditor)) == "AUDITOR_ROLE"
    assert str(decode_revert(data)).endswith("neededRole=AUDITOR_ROLE)")
    minter = to_hex(keccak(text="MINTER_ROLE"))
    assert name_roles(f"failed: neededRole={minter}, salt={minter}") == f"failed: neededRole=MINTER_ROLE, salt={minter}"


def test_unknown_selector_and_registration() -> None:
    data = _selector("Weird(uint8,string)") + encode(["uint8", "string"], [3, "x"])
    error = decode_revert(data)
    assert type(error) is ContractRevertError and error.selector == "0x" + data[:4].hex()
    assert "unknown custom error" in str(error)
    inputs = [{"name": "n", "type": "uint8"}, {"name": "s", "type": "string"}]
    abi = [{"type": "error", "name": "Weird", "inputs": inputs}]
    assert register_abi(abi) == 1
    assert register_abi(abi) == 0  # idempotent
    decoded = decode_revert(data)
    assert type(decoded) is CustomContractError and str(decoded) == "Weird(n=3, s='x')"


def test_empty_and_malformed_data() -> None:
    bare = decode_revert(b"")
    assert type(bare) is ContractRevertError and bare.data == b"" and "no revert data" in str(bare)
    assert type(decode_revert(None)) is ContractRevertError
    truncated = decode_revert(_selector("Error(string)") + b"\x00" * 5)
    assert type(truncated) is ContractRevertError and "malformed" in str(truncated)
    assert decode_revert(b"", fallback_reason="from the message").args[0].endswith("from the message")


def test_tuple_arguments_decode() -> None:
    abi = [
        {
            "type": "error",
            "name": "BadPair",
            "inputs": [
                {
                    "name": "pair",
                    "type": "tuple",
                    "components": [{"name": "a", "type": "uint256"}, {"name": "b", "type": "address[]"}],
                }
            ],
        }
    ]
    register_abi(abi)
    data = _selector("BadPair((uint256,address[]))") + encode(["(uint256,address[])"], [(7, [])])
    error = decode_revert(data)
    assert isinstance(error, CustomContractError) and error.error_args == ((7, ()),)


# --- on chain --------------------------------------------------------------------------------------------------------
def test_call_reverts_decode(probe: Contract) -> None:
    with pytest.raises(RevertWithReason, match="bad input"):
        probe.call("failWith", "bad input")
    with pytest.raises(PanicError, match="division or modulo by zero"):
        probe.call("divide", 1, 0)
    with pytest.raises(CustomContractError) as info:
        probe.call("failExactly", "tag")
    assert info.value.error_name == "Exactly" and info.value.error_args == ("tag", keccak(text="tag"))


def test_stranger_without_anchor_role(sender: TxSender, fresh_chain: Devnet) -> None:
    admin = sender.signer.address
    registry = sender.deploy("RunRegistry", admin, admin)
    stranger = LocalSigner.from_key(fresh_chain.accounts[4].private_key)
    client = ChainClient(fresh_chain.rpc_url)
    handle = Contract.at(client, "RunRegistry", registry.address)
    args = (keccak(text="pipeline"), 1, keccak(text="root"), "bafy-manifest")
    with TxSender(client, stranger) as theirs:
        # Caught by gas estimation before anything is sent ...
        with pytest.raises(CustomContractError) as at_estimate:
            theirs.transact(handle, "anchorRun", *args)
        # ... and decoded from the mined, reverted receipt when the gas is given (no estimation).
        with pytest.raises(CustomContractError) as at_receipt:
            theirs.transact(handle, "anchorRun", *args, gas=200_000)
    for error in (at_estimate.value, at_receipt.value):
        assert error.error_name == "AccessControlUnauthorizedAccount"
        assert error.error_args == (stranger.address.lower(), ANCHOR_ROLE)
    receipt = at_receipt.value.receipt
    assert receipt.status == 0 and receipt.blockNumber > 0
    assert handle.call("isAnchored", args[0], 1) is False


def test_reverted_receipt_with_reason_and_panic(sender: TxSender, probe: Contract) -> None:
    with pytest.raises(RevertWithReason, match="mined and failed"):
        sender.transact(probe, "failWith", "mined and failed", gas=100_000)
    with pytest.raises(PanicError, match="division"):
        sender.transact(probe, "divide", 5, 0, gas=100_000)
    assert sender.transact(probe, "bump", 1).status == 1  # the sender keeps working afterwards
