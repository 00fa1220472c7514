"""Merkle proofs of single manifest items, and checking them against a root that was not built from the proof.

A proof is only as good as the root it is checked against. :class:`ItemProof` carries the *anchored* root — the one
recorded when the run ended, never one recomputed from the (possibly tampered) archived manifest — and
:func:`check_proof` checks the proof against a reference root the caller looked up independently:

* **offline** (``against="recorded"``): the root recorded locally when the run ended (the manifest archive's root,
  agreeing with the run row's hash and the outbox's anchor request — :meth:`RunVerifier.recorded_root`);
* **online** (``against="chain"``): ``RunRegistry.runRoot``, plus the contract's own ``verifyProof`` and, for
  metrics, ``verifyMetric`` (which checks the value itself).

An item changed in the archive hashes to another leaf, whose path cannot reach the reference root: it is not proven
in either mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..chain.contracts import merkle
from ..chain.contracts.run_registry import RunRegistryClient
from .manifest import ManifestItem

#: What a proof is checked against: the root recorded locally when the run ended, or the root on chain.
ProofReference = Literal["recorded", "chain"]


@dataclass(frozen=True)
class ItemProof:
    """A Merkle proof of one manifest item: enough to check it against the chain without the manifest.

    ``root`` is the run's anchored root as recorded when the run ended (not recomputed from the archive), so a proof
    taken from a tampered archive does not lead to it.
    """

    pipeline: str
    run_id: int
    item: ManifestItem
    leaf: bytes
    proof: list[bytes] = field(default_factory=list)
    root: bytes = b""

    @property
    def pipeline_id(self) -> bytes:
        return merkle.pipeline_id(self.pipeline)

    def to_json(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "pipelineId": "0x" + self.pipeline_id.hex(),
            "runId": self.run_id,
            **self.item.to_json(),
            "leaf": "0x" + self.leaf.hex(),
            "proof": ["0x" + p.hex() for p in self.proof],
            "root": "0x" + self.root.hex(),
        }


@dataclass(frozen=True)
class ProofCheck:
    """Outcome of :func:`check_proof`; ``on_chain``/``metric_on_chain`` are ``None`` when the chain was not asked.

    ``off_chain``: the proof leads from the leaf to the reference ``root`` (``against`` says which root that is;
    ``root`` is ``None`` when there is none, and ``problem`` says why).
    """

    key: str
    leaf_matches_item: bool
    off_chain: bool
    on_chain: bool | None
    metric_on_chain: bool | None
    against: ProofReference = "chain"
    root: bytes | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        checks = [self.leaf_matches_item, self.off_chain, self.on_chain, self.metric_on_chain]
        return all(c for c in checks if c is not None)

    def marks(self) -> dict[str, bool]:
        """Each check that ran, by the name a report prints: ``leaf``, ``recorded root`` or ``anchored root``,
        ``verifyProof``, ``verifyMetric``."""
        named: dict[str, bool | None] = {
            "leaf": self.leaf_matches_item,
            "recorded root" if self.against == "recorded" else "anchored root": self.off_chain,
            "verifyProof": self.on_chain,
            "verifyMetric": self.metric_on_chain,
        }
        return {name: passed for name, passed in named.items() if passed is not None}

    def to_json(self) -> dict[str, Any]:
        return {
            "leafMatchesItem": self.leaf_matches_item,
            "offChain": self.off_chain,
            "verifyProof": self.on_chain,
            "verifyMetric": self.metric_on_chain,
            "against": self.against,
            "referenceRoot": None if self.root is None else "0x" + self.root.hex(),
            "problem": self.problem,
        }


def check_proof(
    proof: ItemProof,
    reference_root: bytes | None,
    *,
    registry: RunRegistryClient | None = None,
    problem: str | None = None,
) -> ProofCheck:
    """Check ``proof`` against ``reference_root`` (``None``: there is no root to check against; ``problem`` says
    why). With ``registry`` the reference is the chain's root and the contract checks the proof too."""
    leaf_ok = proof.item.leaf(proof.pipeline_id, proof.run_id) == proof.leaf
    off_ok = reference_root is not None and merkle.verify_proof(reference_root, proof.leaf, proof.proof)
    if registry is None:
        return ProofCheck(proof.item.key, leaf_ok, off_ok, None, None, "recorded", reference_root, problem)
    is_metric = proof.item.kind == "metric"
    if reference_root is None:  # the contract reverts RunNotAnchored: nothing can be proven
        return ProofCheck(proof.item.key, leaf_ok, False, False, False if is_metric else None, "chain", None, problem)
    chain_ok = registry.verify_proof(proof.pipeline_id, proof.run_id, proof.leaf, proof.proof)
    metric_ok: bool | None = None
    if is_metric:
        fields = proof.item.fields
        metric_ok = registry.verify_metric(
            proof.pipeline_id, proof.run_id, fields["name"], int(fields["value"]), int(fields["step"]), proof.proof
        )
    return ProofCheck(proof.item.key, leaf_ok, off_ok, chain_ok, metric_ok, "chain", reference_root, problem)
