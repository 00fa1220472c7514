"""Idempotent deployments recorded in a :class:`~anacostia_blockchain.chain.contracts.DeploymentManifest`:
``ensure_deployed`` for one contract, ``deploy_all`` for a plan (:mod:`.deploy_plan`).

Re-running is idempotent. For an entry already in the manifest:

- the address has the code recorded at deployment (``codeHash``, keccak of the runtime code — immutables make it
  differ from the artifact's bytecode, so the chain's own code is what is compared) -> reused;
- same, but the shipped artifact changed since (``artifactHash``) -> reported as ``changed`` and left alone unless
  ``redeploy_changed=True``;
- nothing (or other code) at the address — a fresh devnet, a reset chain -> deployed again.

The manifest is rewritten atomically after every deployment, so an interrupted ``deploy_all`` resumes where it
stopped. Role grants of the plan are checked with ``hasRole`` first and only sent when missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from ...errors import DeploymentError
from ..abi.contract import Contract
from ..contracts.deployments import DeploymentManifest, DeploymentRecord
from ..encoding import checksum, to_hex
from ..tx.evm_target import artifact_for

if TYPE_CHECKING:
    from ..tx.sender import TxSender

__all__ = [
    "DeployContext",
    "DeploymentManifest",
    "DeploymentRecord",
    "DeploymentResult",
    "PlannedContract",
    "RoleGrant",
    "deploy_all",
    "ensure_deployed",
]


@dataclass(frozen=True)
class DeploymentResult:
    name: str
    status: str  # "deployed" | "reused" | "changed" | "redeployed"
    address: str
    contract: Contract

    def __str__(self) -> str:
        notes = {
            "changed": " (the shipped artifact changed since; pass --redeploy-changed to replace it)",
            "redeployed": " (artifact changed: new deployment)",
        }
        return f"{self.name:<20} {self.status:<10} {self.address}{notes.get(self.status, '')}"


def ensure_deployed(
    sender: TxSender, manifest: DeploymentManifest, name: str, *ctor_args: Any, redeploy_changed: bool = False
) -> DeploymentResult:
    """Deploy ``name`` unless the manifest already points at its code on this chain (see module docs)."""
    client = sender.client
    if client.chain_id != manifest.chain_id:
        raise DeploymentError(f"manifest is for chain {manifest.chain_id}, the sender is on chain {client.chain_id}")
    artifact = artifact_for(client, name)
    existing = manifest.records.get(name)
    if existing is not None:
        code = client.get_code(existing.address)
        # A manifest without codeHash (hand-written, or from a tool that records only the architecture's four
        # fields) cannot be checked further than "there is code": that is accepted rather than redeployed.
        if code and (not existing.code_hash or to_hex(keccak(code)) == existing.code_hash):
            handle = Contract.from_artifact(client, artifact, existing.address, check_code=False)
            if existing.artifact_hash == artifact.artifact_hash:
                return DeploymentResult(name, "reused", existing.address, handle)
            if not redeploy_changed:
                return DeploymentResult(name, "changed", existing.address, handle)
    contract = sender.deploy(artifact, *ctor_args)
    receipt = contract.deployment_receipt
    if receipt is None:
        raise DeploymentError(f"{name}: the sender returned no deployment receipt")
    code_hash = to_hex(keccak(client.get_code(contract.address)))
    manifest.record(
        name,
        DeploymentRecord(
            address=contract.address,
            tx_hash=str(receipt["transactionHash"]),
            block=int(receipt["blockNumber"]),
            artifact_hash=artifact.artifact_hash,
            code_hash=code_hash,
        ),
    )
    status = "redeployed" if existing is not None and redeploy_changed else "deployed"
    return DeploymentResult(name, status, contract.address, contract)


# --- plans ------------------------------------------------------------------------------------------------------------
@dataclass
class DeployContext:
    """What plan callables see: the sender, the manifest and the contracts handled so far in this run."""

    sender: TxSender
    manifest: DeploymentManifest
    deployed: dict[str, Contract] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def deployer(self) -> str:
        return self.sender.signer.address

    def address_of(self, name: str) -> str:
        if name in self.deployed:
            return self.deployed[name].address
        return self.manifest.address(name)


@dataclass(frozen=True)
class RoleGrant:
    """``grantRole(keccak(role), to(ctx))`` on the planned contract, sent only when ``hasRole`` is false."""

    role: str
    to: Callable[[DeployContext], str]

    def role_id(self) -> bytes:
        return b"\x00" * 32 if self.role == "DEFAULT_ADMIN_ROLE" else keccak(text=self.role)


@dataclass(frozen=True)
class PlannedContract:
    """One entry of a deploy plan. ``args`` maps the context to constructor arguments."""

    name: str
    args: Callable[[DeployContext], Sequence[Any]] = lambda ctx: ()
    grants: tuple[RoleGrant, ...] = ()
    requires: tuple[str, ...] = ()
    #: Called after the deployment and grants (e.g. a one-time ``initialize``); must be idempotent.
    after: Callable[[DeployContext, Contract], None] | None = None


def deploy_all(
    sender: TxSender,
    manifest: DeploymentManifest,
    plan: Sequence[PlannedContract] | None = None,
    only: Iterable[str] | None = None,
    redeploy_changed: bool = False,
    settings: dict[str, Any] | None = None,
) -> list[DeploymentResult]:
    """Run a plan (default: :data:`deploy_plan.DEPLOY_PLAN`) in order; ``only`` restricts it to some names."""
    if plan is None:
        from .deploy_plan import DEPLOY_PLAN

        plan = DEPLOY_PLAN
    names = [entry.name for entry in plan]
    wanted = set(only) if only is not None else set(names)
    unknown = wanted - set(names)
    if unknown:
        raise DeploymentError(f"not in the deploy plan: {', '.join(sorted(unknown))} (plan: {', '.join(names)})")
    ctx = DeployContext(sender, manifest, settings=dict(settings or {}))
    results = []
    for entry in plan:
        if entry.name not in wanted:
            continue
        for dependency in entry.requires:
            ctx.address_of(dependency)  # DeploymentError when a dependency was neither deployed now nor before
        result = ensure_deployed(sender, manifest, entry.name, *entry.args(ctx), redeploy_changed=redeploy_changed)
        ctx.deployed[entry.name] = result.contract
        for grant in entry.grants:
            account = checksum(grant.to(ctx))
            if not result.contract.call("hasRole", grant.role_id(), account):
                sender.transact(result.contract, "grantRole", grant.role_id(), account)
        if entry.after is not None:
            entry.after(ctx, result.contract)
        results.append(result)
    return results
