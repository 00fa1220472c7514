"""Every address Story's official SDKs know on Aeneid (1315) holds code on the story-compat devnet: a working contract
of the local suite, or StoryUnsupported code that reverts ``StoryCompat__Unsupported(name, selector)``. No address an
SDK calls is empty (a call to an empty address "succeeds" doing nothing), and none accepts a call it does not
implement.

The SDKs' address tables are read from the installed registry packages: the Python SDK's ``scripts/config.json`` and
``utils/constants.py`` (in .venv-story), the TypeScript SDK's bundled ``dist`` (its generated ``{1315: ...}`` maps and
exported constants).
"""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.story import StoryAddresses
from anacostia_blockchain.chain.story.addresses import AENEID_CONTRACTS, UNSUPPORTED, aeneid

from .sdk_runs import PROJECT

ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
ZERO = "0x" + "0" * 40
UNSUPPORTED_ERROR = keccak(text="StoryCompat__Unsupported(bytes32,bytes4)")[:4]


def python_sdk_addresses() -> set[str]:
    packages = sorted((PROJECT / ".venv-story" / "lib").glob("python3*/site-packages/story_protocol_python_sdk"))
    if not packages:
        pytest.skip("Story's Python SDK is not installed (run `make setup`)")
    package = packages[0]
    config = json.loads((package / "scripts" / "config.json").read_text())
    found = {entry["contract_address"] for entry in config["contracts"]}
    found |= set(ADDRESS.findall((package / "utils" / "constants.py").read_text()))
    return {to_checksum_address(a) for a in found} - {ZERO}


def typescript_sdk_addresses() -> set[str]:
    dist = PROJECT / "node_modules" / "@story-protocol" / "core-sdk" / "dist" / "story-protocol-core-sdk.cjs.dev.js"
    if not dist.is_file():
        pytest.skip("Story's TypeScript SDK is not installed (run `make setup`)")
    text = dist.read_text()
    found = set(re.findall(r'1315:\s*"(0x[0-9a-fA-F]{40})"', text))
    found |= set(re.findall(r'var WIP_TOKEN_ADDRESS\s*=\s*"(0x[0-9a-fA-F]{40})"', text))
    assert len(found) > 25, "the TypeScript SDK's address maps were not found in its dist bundle"
    return {to_checksum_address(a) for a in found}


def _table() -> set[str]:
    return {to_checksum_address(a) for a in AENEID_CONTRACTS.values()}


@pytest.mark.parametrize(
    "sdk_addresses", [python_sdk_addresses, typescript_sdk_addresses], ids=["python", "typescript"]
)
def test_every_address_the_sdk_knows_is_in_the_table(sdk_addresses: object) -> None:
    known = sdk_addresses()  # type: ignore[operator]
    assert known - _table() == set(), "addresses the SDK uses on 1315 that the story-compat devnet does not cover"


def _call(devnet: Devnet, address: str, data: str, value: int = 0) -> dict[str, Any]:
    """The raw JSON-RPC reply of an ``eth_call`` (``result``, or ``error`` with the revert ``data``)."""
    params = [{"to": address, "data": data, "value": hex(value)}, "latest"]
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": params}).encode()
    request = urllib.request.Request(devnet.rpc_url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return dict(json.loads(response.read()))


def test_every_table_address_holds_code_and_refuses_calls_it_does_not_implement(
    story_devnet: tuple[Devnet, StoryAddresses],
) -> None:
    devnet, _ = story_devnet
    for name, address in AENEID_CONTRACTS.items():
        assert devnet.rpc("eth_getCode", [address, "latest"]) not in (None, "0x"), f"{name} {address} has no code"
        outcome = _call(devnet, address, "0xdeadbeef")
        assert "error" in outcome, f"{name} {address} accepted an unknown function: {outcome}"


@pytest.mark.parametrize("name", UNSUPPORTED)
def test_unsupported_contracts_revert_with_their_name_and_the_selector(
    story_devnet: tuple[Devnet, StoryAddresses], name: str
) -> None:
    devnet, _ = story_devnet
    for data, selector, value in (("0x12345678", b"\x12\x34\x56\x78", 0), ("0x", b"\0\0\0\0", 1)):
        outcome = _call(devnet, aeneid(name), data, value)
        assert "error" in outcome, f"{name} accepted a call: {outcome}"
        revert = bytes.fromhex(str(outcome["error"]["data"]).removeprefix("0x"))
        assert revert[:4] == UNSUPPORTED_ERROR
        contract_name, reported = abi_decode(["bytes32", "bytes4"], revert[4:])
        assert contract_name.rstrip(b"\0").decode() == name and reported == selector


def test_supported_contracts_are_not_the_unsupported_stub(story_devnet: tuple[Devnet, StoryAddresses]) -> None:
    devnet, _ = story_devnet
    stubs = {devnet.rpc("eth_getCode", [aeneid(name), "latest"]) for name in UNSUPPORTED}
    for name, address in AENEID_CONTRACTS.items():
        if name not in UNSUPPORTED:
            assert devnet.rpc("eth_getCode", [address, "latest"]) not in stubs, name


def test_multicall3_answers_at_its_canonical_address(story_devnet: tuple[Devnet, StoryAddresses]) -> None:
    devnet, _ = story_devnet
    assert int(_call(devnet, aeneid("Multicall3"), "0x3408e470")["result"], 16) == 1315  # getChainId()
