"""Every custom error declared by a shipped contract decodes from any revert data carrying it: ``decode_revert``
returns a :class:`CustomContractError` with the declared name and exactly the encoded arguments, and the message
names the error. Truncated or garbled revert data never raises anything but a typed ``ContractRevertError``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from anacostia_blockchain.chain.abi.revert import decode_revert
from anacostia_blockchain.errors import ContractRevertError, CustomContractError

ARTIFACTS = Path(__file__).resolve().parents[2] / "anacostia_blockchain" / "chain" / "artifacts"


def _declared_errors() -> dict[str, list[str]]:
    """Signature -> input types, for every custom error in every shipped ABI."""
    found: dict[str, list[str]] = {}
    for path in sorted(ARTIFACTS.glob("*.json")):
        for item in json.loads(path.read_text())["abi"]:
            if item["type"] == "error":
                types = [i["type"] for i in item["inputs"]]
                found[f"{item['name']}({','.join(types)})"] = types
    return found


ERRORS = _declared_errors()

VALUES: dict[str, st.SearchStrategy[Any]] = {
    "address": st.binary(min_size=20, max_size=20).map(to_checksum_address),
    "bool": st.booleans(),
    "string": st.text(max_size=40),
    "bytes4": st.binary(min_size=4, max_size=4),
    "bytes32": st.binary(min_size=32, max_size=32),
    "int256": st.integers(-(2**255), 2**255 - 1),
    **{f"uint{bits}": st.integers(0, 2**bits - 1) for bits in (8, 32, 64, 256)},
    "uint256[]": st.lists(st.integers(0, 2**256 - 1), max_size=4).map(tuple),  # decoded arrays are tuples
}


def test_every_declared_error_uses_types_this_test_can_generate() -> None:
    assert len(ERRORS) > 50
    assert {t for types in ERRORS.values() for t in types} <= set(VALUES)


@st.composite
def encoded_errors(draw: st.DrawFn) -> tuple[str, tuple[Any, ...], bytes]:
    signature = draw(st.sampled_from(sorted(ERRORS)))
    types = ERRORS[signature]
    args = tuple(draw(VALUES[t]) for t in types)
    return signature, args, keccak(text=signature)[:4] + abi_encode(types, list(args))


def _same(decoded: Any, given_value: Any) -> bool:
    if isinstance(given_value, str) and given_value.startswith("0x") and len(given_value) == 42:
        return str(decoded).lower() == given_value.lower()
    return bool(decoded == given_value)


@settings(max_examples=300, deadline=None)
@given(case=encoded_errors())
def test_any_declared_error_decodes_to_its_name_and_arguments(case: tuple[str, tuple[Any, ...], bytes]) -> None:
    signature, args, data = case
    error = decode_revert(data)
    assert isinstance(error, CustomContractError)
    assert error.error_name == signature.split("(")[0] and error.error_name in str(error)
    assert len(error.error_args) == len(args)
    assert all(_same(d, g) for d, g in zip(error.error_args, args, strict=True)), (error.error_args, args)
    assert error.data == data and error.selector is not None


@settings(max_examples=300, deadline=None)
@given(case=encoded_errors(), cut=st.integers(0, 200), noise=st.binary(max_size=40))
def test_truncated_or_garbled_revert_data_is_still_a_typed_revert(case: tuple[str, tuple[Any, ...], bytes],
                                                                  cut: int, noise: bytes) -> None:
    _, _, data = case
    for damaged in (data[: max(0, len(data) - cut)], data[:4] + noise, noise):
        assert isinstance(decode_revert(damaged), ContractRevertError)
        assert isinstance(decode_revert("0x" + damaged.hex()), ContractRevertError)
