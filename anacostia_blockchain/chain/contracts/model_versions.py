"""``ModelVersionsClient``: model families, ordered versions and the verifiable promotion gate.

``contracts/ModelVersions.sol`` lets a family owner set, per stage, one gate (metric name, threshold, direction).
:meth:`ModelVersionsClient.promote` moves a version into a stage with a Merkle proof that the version's anchored run
logged that metric; the contract re-checks the proof against RunRegistry and the threshold, so a failing model cannot
be promoted by anyone. Reverts arrive decoded: ``ThresholdNotMet``, ``MetricNotProven``, ``NotFamilyOwnerOrOperator``,
``MetricNotGated``, ``RunNotAnchored``, ``AnchorMismatch``, ...

Stages are ``bytes32`` on chain; :func:`stage_id` turns a short name into the same value Solidity's
``bytes32("production")`` gives (left-aligned ASCII, zero padded), so events stay human-readable. Metric values and
thresholds are the 1e18-scaled integers of :func:`anacostia_blockchain.chain.contracts.merkle.scale_metric`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...errors import ConfigurationError
from ..abi.contract import Contract
from ..abi.events import single_event
from ..encoding import checksum, hex_to_bytes
from ..rpc.client import ChainClient

if TYPE_CHECKING:
    from ..tx.sender import TxSender


def stage_id(name: str) -> bytes:
    """``bytes32("<name>")``: 1..32 printable ASCII characters, left-aligned and zero padded."""
    if not name or len(name) > 32 or not name.isascii() or not name.isprintable():
        raise ConfigurationError(f"a stage name must be 1-32 printable ASCII characters, got {name!r}")
    return name.encode("ascii").ljust(32, b"\0")


def stage_name(stage: bytes | str) -> str:
    """The inverse of :func:`stage_id` (``""`` for the empty stage); takes bytes or, as in events, ``0x`` hex."""
    raw = hex_to_bytes(stage) if isinstance(stage, str) else bytes(stage)
    return raw.rstrip(b"\0").decode("ascii", errors="replace")


@dataclass(frozen=True)
class Gate:
    metric_name: str
    threshold: int
    higher_is_better: bool

    def admits(self, value: int) -> bool:
        """The contract's comparison, for checking before paying gas."""
        return value >= self.threshold if self.higher_is_better else value <= self.threshold


@dataclass(frozen=True)
class Promotion:
    family_id: int
    version: int
    stage: str
    token_id: int
    metric_name: str
    value: int
    step: int
    replaced_version: int
    tx_hash: str
    gas_used: int


class ModelVersionsClient:
    """Typed access to one deployed ModelVersions. ``sender`` may be ``None`` for read-only use."""

    def __init__(self, client: ChainClient, address: str, sender: TxSender | None = None) -> None:
        self.client = client
        self.contract = Contract.at(client, "ModelVersions", address)
        self.sender = sender

    def __repr__(self) -> str:
        return f"ModelVersionsClient({self.contract.address})"

    @property
    def address(self) -> str:
        return self.contract.address

    # --- writes ------------------------------------------------------------------------------------------------------
    def create_family(self, name: str) -> int:
        receipt = self._sender().transact(self.contract, "createFamily", name)
        return int(single_event(self.contract, receipt, "FamilyCreated").args["familyId"])

    def add_version(self, family_id: int, token_id: int) -> int:
        receipt = self._sender().transact(self.contract, "addVersion", family_id, token_id)
        return int(single_event(self.contract, receipt, "VersionAdded").args["version"])

    def set_gate(self, family_id: int, stage: str, metric_name: str, threshold: int, *, higher_is_better: bool) -> None:
        self._sender().transact(
            self.contract, "setGate", family_id, stage_id(stage), metric_name, threshold, higher_is_better
        )

    def set_operator(self, family_id: int, operator: str, approved: bool = True) -> None:
        self._sender().transact(self.contract, "setOperator", family_id, checksum(operator), approved)

    def promote(
        self,
        family_id: int,
        version: int,
        stage: str,
        metric_name: str,
        value: int,
        step: int,
        proof: Sequence[bytes],
    ) -> Promotion:
        """Promote with a RunRegistry Merkle proof; raises the decoded revert when the gate refuses."""
        receipt = self._sender().transact(
            self.contract, "promote", family_id, version, stage_id(stage), metric_name, value, step, list(proof)
        )
        event = single_event(self.contract, receipt, "VersionPromoted")
        return Promotion(
            family_id=family_id,
            version=version,
            stage=stage,
            token_id=int(event.args["tokenId"]),
            metric_name=metric_name,
            value=value,
            step=step,
            replaced_version=int(event.args["replacedVersion"]),
            tx_hash=str(receipt["transactionHash"]),
            gas_used=int(receipt["gasUsed"]),
        )

    # --- reads -------------------------------------------------------------------------------------------------------
    def family(self, family_id: int) -> tuple[str, str, int]:
        """``(owner, name, version_count)``."""
        owner, name, count = self.contract.call("family", family_id)
        return checksum(owner), str(name), int(count)

    def version_token(self, family_id: int, version: int) -> int:
        return int(self.contract.call("versionToken", family_id, version))

    def version_of_token(self, family_id: int, token_id: int) -> int | None:
        """The version number ``token_id`` was added as (from ``VersionAdded``), or ``None``."""
        logs = self.contract.events("VersionAdded", familyId=family_id, tokenId=token_id)
        return int(logs[0].args["version"]) if logs else None

    def family_of_token(self, token_id: int) -> int:
        """The family a token is a version of (0 = none)."""
        return int(self.contract.call("familyOfToken", token_id))

    def stage_of(self, family_id: int, version: int) -> str:
        return stage_name(self.contract.call("stageOf", family_id, version))

    def version_in_stage(self, family_id: int, stage: str) -> int:
        return int(self.contract.call("versionInStage", family_id, stage_id(stage)))

    def gate(self, family_id: int, stage: str) -> Gate | None:
        metric, threshold, higher, exists = self.contract.call("gateOf", family_id, stage_id(stage))
        return Gate(str(metric), int(threshold), bool(higher)) if exists else None

    def _sender(self) -> TxSender:
        if self.sender is None:
            raise ConfigurationError("this ModelVersionsClient is read-only: pass a TxSender to send transactions")
        return self.sender
