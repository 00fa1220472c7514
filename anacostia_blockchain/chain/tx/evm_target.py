"""Which shipped build of a contract a chain can run: the newest build target its EVM executes.

The contracts ship compiled for Cancun (the default) and for Shanghai (chains without MCOPY / transient storage,
e.g. Ganache 7). A deployment loads the contract from the set matching :attr:`ChainClient.evm_version` (probed
once per client). ABIs are identical across sets, so only deployments choose: reading and calling a contract never
depends on the set.

Two refusals, both :class:`UnsupportedEvmError` raised before anything is sent, built from the facts (the
contracts, the EVM version they need, the one the chain runs, the instructions it lacks):

- a chain older than Shanghai (no PUSH0) runs none of the sets;
- a contract shipped in the Cancun set alone (its source uses a Cancun instruction in assembly and has no Shanghai
  variant; none of the shipped contracts does) cannot run on a Shanghai chain. The instructions named are those
  :func:`opcodes_in` finds in the contract's Cancun build.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ...errors import UnsupportedEvmError
from ..abi.artifacts import ARTIFACT_EVM_VERSIONS, ContractArtifact, artifacts_dir, load_artifact

if TYPE_CHECKING:
    from ..rpc.client import ChainClient

#: Instructions each EVM version introduced (opcode -> mnemonic), for saying what a build needs.
INTRODUCED_OPCODES: dict[str, dict[int, str]] = {
    "cancun": {0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE"},
    "shanghai": {0x5F: "PUSH0"},
}
#: What the instructions named in messages are for.
OPCODE_FEATURES: dict[str, str] = {
    "TLOAD": "transient storage, EIP-1153",
    "TSTORE": "transient storage, EIP-1153",
    "MCOPY": "memory copy, EIP-5656",
    "BLOBHASH": "blob transactions, EIP-4844",
    "BLOBBASEFEE": "blob base fee, EIP-7516",
    "PUSH0": "EIP-3855",
}
_PUSH1, _PUSH32 = 0x60, 0x7F


def evm_target(client: ChainClient) -> str:
    """The build target to deploy on ``client``'s chain (one of :data:`ARTIFACT_EVM_VERSIONS`)."""
    version = client.evm_version
    if version in ARTIFACT_EVM_VERSIONS:
        return version
    oldest = ARTIFACT_EVM_VERSIONS[-1]
    raise UnsupportedEvmError(
        f"chain {client.chain_id} runs an EVM older than Shanghai (it does not execute PUSH0): the shipped contracts "
        f"are built for {' or '.join(ARTIFACT_EVM_VERSIONS)}; start the node with a newer hardfork "
        "(e.g. ganache --chain.hardfork shanghai)",
        required=oldest,
        available=version,
        opcodes=sorted(INTRODUCED_OPCODES[oldest].values()),
    )


def required_evm(name: str) -> str:
    """The oldest EVM version a shipped build of ``name`` runs on (``"cancun"`` for a Cancun-only contract)."""
    for version in reversed(ARTIFACT_EVM_VERSIONS):
        if (artifacts_dir(version) / f"{name}.json").is_file():
            return version
    load_artifact(name)  # CompilerError naming the known artifacts
    raise AssertionError("unreachable")  # pragma: no cover - load_artifact raises for an unknown name


def opcodes_in(code: bytes, evm_version: str) -> list[str]:
    """Instructions of ``code`` that ``evm_version`` introduced, in first-seen order. PUSH data and Solidity's
    trailing CBOR metadata are skipped, so only executable instructions count."""
    wanted = INTRODUCED_OPCODES.get(evm_version, {})
    end = len(code)
    if end >= 2:
        metadata = int.from_bytes(code[-2:], "big") + 2
        if metadata < end and 0xA1 <= code[end - metadata] <= 0xA5:  # a CBOR map: the metadata blob
            end -= metadata
    found: list[str] = []
    index = 0
    while index < end:
        opcode = code[index]
        name = wanted.get(opcode)
        if name is not None and name not in found:
            found.append(name)
        index += 1 + (opcode - _PUSH1 + 1 if _PUSH1 <= opcode <= _PUSH32 else 0)
    return found


def require_evm_for(client: ChainClient, names: Iterable[str], *, what: str | None = None) -> str:
    """The build target for ``client``'s chain, after checking that every contract in ``names`` has a build it runs;
    else :class:`UnsupportedEvmError` naming the contracts (``what``: the name of the group they form, e.g. "the
    Story suite"), the EVM version they need, the chain's, and the instructions it lacks."""
    target = evm_target(client)
    rank = ARTIFACT_EVM_VERSIONS.index
    names = list(names)
    needs = {name: required_evm(name) for name in names}
    missing = [name for name in names if rank(needs[name]) < rank(target)]  # newest first: a lower index is newer
    if not missing:
        return target
    required = min((needs[name] for name in missing), key=rank)
    used = {name: opcodes_in(_runtime(name, required), required) for name in missing}
    detail = "; ".join(f"{name} uses {_described(ops)}" for name, ops in used.items())
    subject = what or " and ".join(missing)
    raise UnsupportedEvmError(
        f"{subject} needs a {required.capitalize()} EVM and chain {client.chain_id} runs {target}: {detail}; "
        f"use a node with the {required.capitalize()} hardfork (anvil, Hardhat)",
        contracts=missing,
        required=required,
        available=target,
        opcodes=sorted({op for ops in used.values() for op in ops}),
    )


def artifact_for(client: ChainClient, name: str) -> ContractArtifact:
    """The shipped artifact ``name`` built for what ``client``'s chain runs; a contract shipped only for a newer EVM
    (on a Shanghai chain such as Ganache) is refused with :class:`UnsupportedEvmError`."""
    return load_artifact(name, require_evm_for(client, [name]))


def _runtime(name: str, evm_version: str) -> bytes:
    return bytes.fromhex(load_artifact(name, evm_version).deployed_bytecode.removeprefix("0x"))


def _described(opcodes: list[str]) -> str:
    """``TLOAD, TSTORE (transient storage, EIP-1153)``: the instructions and what they are for."""
    if not opcodes:
        return "its instructions"
    features = list(dict.fromkeys(OPCODE_FEATURES[op] for op in opcodes if op in OPCODE_FEATURES))
    return ", ".join(opcodes) + (f" ({'; '.join(features)})" if features else "")
