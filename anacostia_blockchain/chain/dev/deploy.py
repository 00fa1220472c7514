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

A chain whose EVM cannot run an entry (one shipped for a newer EVM than the chain runs, :mod:`~..tx.evm_target`):
running the whole plan, the entry is *skipped* — a :class:`DeploymentResult` with status ``"skipped"`` and the
:class:`UnsupportedEvmError` saying which contract needs which EVM and instructions — and the rest of the plan goes
on. Entries of one :class:`Suite` (contracts that only work together, such as the Story suite) are skipped together
when any member cannot run, so no half suite is deployed. An entry the caller named (``only=``) is never skipped:
the error is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from ...errors import DeploymentError, UnsupportedEvmError
from ..abi.contract import Contract
from ..abi.roles import role_id
from ..contracts.deployments import DeploymentManifest, DeploymentRecord
from ..encoding import checksum, to_hex
from ..tx.evm_target import artifact_for, require_evm_for

if TYPE_CHECKING:
    from ..rpc.client import ChainClient
    from ..tx.sender import TxSender

__all__ = [
    "DeployContext",
    "DeploymentManifest",
    "DeploymentRecord",
    "DeploymentResult",
    "PlannedContract",
    "RoleGrant",
    "Suite",
    "deploy_all",
    "ensure_deployed",
]


@dataclass(frozen=True)
class DeploymentResult:
    """What happened to one plan entry. A skipped entry has no address and no contract; ``skipped`` says why."""

    name: str
    status: str  # "deployed" | "reused" | "changed" | "redeployed" | "skipped"
    address: str
    contract: Contract | None
    skipped: UnsupportedEvmError | None = None

    @classmethod
    def skip(cls, name: str, reason: UnsupportedEvmError) -> DeploymentResult:
        return cls(name, "skipped", "", None, reason)

    def __str__(self) -> str:
        if self.skipped is not None:
            return f"{self.name:<20} {self.status:<10} {self.skipped}"
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
    #: Entries skipped in this run, with why (their dependents are skipped with the same reason).
    skipped: dict[str, UnsupportedEvmError] = field(default_factory=dict)

    @property
    def deployer(self) -> str:
        return self.sender.signer.address

    def address_of(self, name: str) -> str:
        if name in self.deployed:
            return self.deployed[name].address
        if name in self.skipped and name not in self.manifest.records:
            raise needing(name, self.skipped[name])
        return self.manifest.address(name)


def needing(what: str, reason: UnsupportedEvmError) -> UnsupportedEvmError:
    """The error of an entry that needs ``what``, which this chain cannot run for ``reason`` (same facts)."""
    return UnsupportedEvmError(
        f"it needs {what}, which this chain cannot run: {reason}",
        contracts=reason.contracts, required=reason.required, available=reason.available, opcodes=reason.opcodes,
    )  # fmt: skip


@dataclass(frozen=True)
class RoleGrant:
    """``grantRole(keccak(role), to(ctx))`` on the planned contract, sent only when ``hasRole`` is false."""

    role: str
    to: Callable[[DeployContext], str]

    def role_id(self) -> bytes:
        return role_id(self.role)


@dataclass(frozen=True)
class Suite:
    """Contracts that only work together: on a chain whose EVM cannot run one of them, none is deployed."""

    name: str
    members: tuple[str, ...]

    def require_runs_on(self, client: ChainClient) -> None:
        """:class:`UnsupportedEvmError` naming the suite and the members this chain cannot run, if any."""
        require_evm_for(client, self.members, what=self.name)


@dataclass(frozen=True)
class PlannedContract:
    """One entry of a deploy plan. ``args`` maps the context to constructor arguments."""

    name: str
    args: Callable[[DeployContext], Sequence[Any]] = lambda ctx: ()
    grants: tuple[RoleGrant, ...] = ()
    requires: tuple[str, ...] = ()
    #: Called after the deployment and grants (e.g. a one-time ``initialize``); must be idempotent.
    after: Callable[[DeployContext, Contract], None] | None = None
    #: The suite this entry belongs to: deployed only on a chain that runs every member.
    suite: Suite | None = None

    def require_runs_on(self, client: ChainClient) -> None:
        """:class:`UnsupportedEvmError` when the chain cannot run this contract (or a member of its suite)."""
        if self.suite is not None:
            self.suite.require_runs_on(client)
        require_evm_for(client, [self.name])


def deploy_all(
    sender: TxSender,
    manifest: DeploymentManifest,
    plan: Sequence[PlannedContract] | None = None,
    only: Iterable[str] | None = None,
    redeploy_changed: bool = False,
    settings: dict[str, Any] | None = None,
    skip_unsupported: bool | None = None,
) -> list[DeploymentResult]:
    """Run a plan (default: :data:`deploy_plan.DEPLOY_PLAN`) in order; ``only`` restricts it to some names.

    ``skip_unsupported`` (default: when ``only`` is not given) skips the entries this chain's EVM cannot run, with a
    ``"skipped"`` result each (see the module docs); otherwise they raise :class:`UnsupportedEvmError`."""
    if plan is None:
        from .deploy_plan import DEPLOY_PLAN

        plan = DEPLOY_PLAN
    names = [entry.name for entry in plan]
    wanted = set(only) if only is not None else set(names)
    unknown = wanted - set(names)
    if unknown:
        raise DeploymentError(f"not in the deploy plan: {', '.join(sorted(unknown))} (plan: {', '.join(names)})")
    if skip_unsupported is None:
        skip_unsupported = only is None
    ctx = DeployContext(sender, manifest, settings=dict(settings or {}))
    results = []
    for entry in plan:
        if entry.name not in wanted:
            continue
        try:
            entry.require_runs_on(sender.client)
            for dependency in entry.requires:
                ctx.address_of(dependency)  # DeploymentError when a dependency was neither deployed now nor before
            args = entry.args(ctx)  # UnsupportedEvmError when it needs what this chain cannot run
        except UnsupportedEvmError as exc:
            if not skip_unsupported:
                raise
            ctx.skipped[entry.name] = exc
            results.append(DeploymentResult.skip(entry.name, exc))
            continue
        result = ensure_deployed(sender, manifest, entry.name, *args, redeploy_changed=redeploy_changed)
        assert result.contract is not None  # ensure_deployed never skips
        ctx.deployed[entry.name] = result.contract
        for grant in entry.grants:
            account = checksum(grant.to(ctx))
            if not result.contract.call("hasRole", grant.role_id(), account):
                sender.transact(result.contract, "grantRole", grant.role_id(), account)
        if entry.after is not None:
            entry.after(ctx, result.contract)
        results.append(result)
    return results
