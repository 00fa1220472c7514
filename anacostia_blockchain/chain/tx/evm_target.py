"""Which shipped artifact set a chain can run: the newest build target its EVM executes.

The contracts ship compiled for Cancun (the default) and for Shanghai (chains without MCOPY / transient storage,
e.g. Ganache 7). A deployment loads the contract from the set matching :attr:`ChainClient.evm_version` (probed
once per client); a chain older than Shanghai (no PUSH0) is refused with :class:`UnsupportedEvmError` before
anything is sent. ABIs are identical across sets, so only deployments choose: reading and calling a contract never
depends on the set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import UnsupportedEvmError
from ..abi.artifacts import ARTIFACT_EVM_VERSIONS, DEFAULT_EVM_VERSION, ContractArtifact, list_artifacts, load_artifact

if TYPE_CHECKING:
    from ..rpc.client import ChainClient


def evm_target(client: ChainClient) -> str:
    """The build target to deploy on ``client``'s chain (one of :data:`ARTIFACT_EVM_VERSIONS`)."""
    version = client.evm_version
    if version in ARTIFACT_EVM_VERSIONS:
        return version
    raise UnsupportedEvmError(
        f"chain {client.chain_id} runs an EVM older than Shanghai (it does not execute PUSH0): the shipped contracts "
        f"are built for {' or '.join(ARTIFACT_EVM_VERSIONS)}; start the node with a newer hardfork "
        "(e.g. ganache --chain.hardfork shanghai)"
    )


def artifact_for(client: ChainClient, name: str) -> ContractArtifact:
    """The shipped artifact ``name`` built for what ``client``'s chain runs; a Cancun-only contract (shipped in the
    Cancun set alone, e.g. Story's AccessController with its transient storage) on an older chain is refused with
    :class:`UnsupportedEvmError`."""
    target = evm_target(client)
    if target != DEFAULT_EVM_VERSION and name not in list_artifacts(target) and name in list_artifacts():
        raise UnsupportedEvmError(
            f"{name} needs a Cancun EVM (it uses Cancun opcodes such as transient storage) and chain "
            f"{client.chain_id} runs {target}: use a node with the Cancun hardfork (anvil, Hardhat)"
        )
    return load_artifact(name, target)
