"""Deployments: a JSON manifest per chain id and idempotent ``ensure_deployed`` / ``deploy_all``.

Manifest file ``<dir>/<chainId>.json``::

    {"chainId": 31337,
     "contracts": {"RunRegistry": {"address": "0x..", "txHash": "0x..", "block": 12,
                                   "artifactHash": "0x..", "codeHash": "0x.."}}}

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

import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from ..errors import ConfigurationError, DeploymentError
from .client import ChainClient, checksum
from .compiler import load_artifact
from .contract import Contract

if TYPE_CHECKING:
    from .tx import TxSender


@dataclass(frozen=True)
class DeploymentRecord:
    address: str
    tx_hash: str
    block: int
    artifact_hash: str
    code_hash: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "txHash": self.tx_hash,
            "block": self.block,
            "artifactHash": self.artifact_hash,
            "codeHash": self.code_hash,
        }

    @classmethod
    def from_json(cls, name: str, data: dict[str, Any]) -> DeploymentRecord:
        try:
            return cls(
                address=checksum(data["address"]),
                tx_hash=str(data["txHash"]),
                block=int(data["block"]),
                artifact_hash=str(data["artifactHash"]),
                code_hash=str(data.get("codeHash", "")),
            )
        except (KeyError, TypeError, ValueError, ConfigurationError) as exc:
            raise DeploymentError(f"manifest entry {name!r} is malformed: {exc}") from exc


class DeploymentManifest:
    """Where each contract lives on one chain."""

    def __init__(self, path: Path, chain_id: int, records: dict[str, DeploymentRecord] | None = None) -> None:
        self.path = path
        self.chain_id = chain_id
        self.records: dict[str, DeploymentRecord] = dict(records or {})

    @classmethod
    def load(cls, path_or_dir: str | Path, chain_id: int) -> DeploymentManifest:
        """``path_or_dir`` is a directory (-> ``<dir>/<chain_id>.json``) or a ``.json`` file. Missing -> empty."""
        path = Path(path_or_dir)
        if path.suffix != ".json":
            path = path / f"{chain_id}.json"
        if not path.exists():
            return cls(path, chain_id)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DeploymentError(f"deployment manifest {path} is unreadable: {exc}") from exc
        if not isinstance(data, dict) or not isinstance(data.get("contracts"), dict):
            raise DeploymentError(f"deployment manifest {path} has no 'contracts' object")
        if data.get("chainId") != chain_id:
            raise DeploymentError(f"deployment manifest {path} is for chain {data.get('chainId')}, not {chain_id}")
        records = {name: DeploymentRecord.from_json(name, entry) for name, entry in data["contracts"].items()}
        return cls(path, chain_id, records)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"chainId": self.chain_id, "contracts": {n: r.to_json() for n, r in sorted(self.records.items())}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(payload, indent=2) + "\n")
        tmp.replace(self.path)

    def names(self) -> list[str]:
        return sorted(self.records)

    def entry(self, name: str) -> DeploymentRecord:
        record = self.records.get(name)
        if record is None:
            known = ", ".join(self.names()) or "nothing"
            raise DeploymentError(
                f"{name} is not deployed on chain {self.chain_id} according to {self.path} (it lists {known}); "
                "run `anacostia-chain deploy`"
            )
        return record

    def address(self, name: str) -> str:
        return self.entry(name).address

    def contract(self, client: ChainClient, name: str) -> Contract:
        """A handle on the deployed contract (checks the chain id and that code exists)."""
        if client.chain_id != self.chain_id:
            raise DeploymentError(f"manifest is for chain {self.chain_id}, client is on chain {client.chain_id}")
        return client.contract(name, self.address(name))

    def record(self, name: str, record: DeploymentRecord) -> None:
        self.records[name] = record
        self.save()


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
    artifact = load_artifact(name)
    existing = manifest.records.get(name)
    if existing is not None:
        code = client.get_code(existing.address)
        # A manifest without codeHash (hand-written, or from a tool that records only the architecture's four
        # fields) cannot be checked further than "there is code": that is accepted rather than redeployed.
        if code and (not existing.code_hash or "0x" + keccak(code).hex() == existing.code_hash):
            handle = Contract(client, name, artifact.abi, existing.address)
            if existing.artifact_hash == artifact.artifact_hash:
                return DeploymentResult(name, "reused", existing.address, handle)
            if not redeploy_changed:
                return DeploymentResult(name, "changed", existing.address, handle)
    contract = sender.deploy(artifact, *ctor_args)
    receipt = contract.deployment_receipt
    if receipt is None:
        raise DeploymentError(f"{name}: the sender returned no deployment receipt")
    code_hash = "0x" + keccak(client.get_code(contract.address)).hex()
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
