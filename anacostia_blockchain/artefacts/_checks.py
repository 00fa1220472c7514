"""``verify_graph``: check a lineage graph step by step — runs against their anchors, content against its CID.

Checks, each ``{"subject", "check", "ok", "detail"}``:

- ``anchor`` — every run in the graph verifies (:class:`~anacostia_blockchain.anchoring.RunVerifier`: the re-exported
  run, its archived manifest and the root on chain, or offline the root recorded when it ended, all agree). The
  manifest holds every artifact's sha256 and CID, every output's lineage, execution, code fingerprint, reuse and
  the artefact tags, so each of those facts is checked with it;
- ``content`` — every artifact with a CID is fetched from the content store (which checks each block against its
  CID) and its sha256 and size compared with what the run recorded;
- ``batch`` — every item of a dataset batch is among what the step that saved the batch had read or itself made
  (the batch lists exactly the content its producer used).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from ..errors import AnacostiaError
from .provenance import Cat, LineageGraph

#: ``run_id -> report`` (raising a VerificationError when the run does not verify).
RunCheck = Callable[[int], Any]


def verify_graph(graph: LineageGraph, *, verify_run: RunCheck | None, cat: Cat | None) -> LineageGraph:
    """Fill ``graph.checks`` (see the module docstring) and return the graph. Without ``verify_run`` no run is
    checked, without ``cat`` no content: those checks are recorded as failed, so a graph verifies only when every
    step was checked."""
    checks: list[dict[str, Any]] = []
    for run_id in sorted(graph.runs):
        checks.append(_run_check(run_id, verify_run))
    for artifact in graph.artifacts.values():
        if artifact.cid is not None:
            checks.append(_content_check(artifact.id, artifact.cid, artifact.sha256, artifact.size, cat))
    checks += _batch_checks(graph)
    graph.checks = checks
    return graph


def _check(subject: str, check: str, ok: bool, detail: str) -> dict[str, Any]:
    return {"subject": subject, "check": check, "ok": ok, "detail": detail}


def _run_check(run_id: int, verify_run: RunCheck | None) -> dict[str, Any]:
    subject = f"run {run_id}"
    if verify_run is None:
        return _check(subject, "anchor", False, "not checked: no chain or recorded root to check against")
    try:
        report = verify_run(run_id)
    except AnacostiaError as exc:
        return _check(subject, "anchor", False, f"{type(exc).__name__}: {exc}")
    against = "the recorded root" if getattr(report, "against", "chain") == "recorded" else "the chain"
    return _check(subject, "anchor", True, f"verified against {against}: root 0x{report.root.hex()}, "
                                           f"{report.items} items, manifest {report.manifest_cid}")


def _content_check(artifact_id: int, cid: str, sha256: str, size: int, cat: Cat | None) -> dict[str, Any]:
    subject = f"artifact {artifact_id} ({cid})"
    if cat is None:
        return _check(subject, "content", False, "not checked: no content store")
    try:
        data = cat(cid)
    except (AnacostiaError, OSError) as exc:
        return _check(subject, "content", False, f"not available: {exc}")
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256 or len(data) != size:
        return _check(subject, "content", False, f"sha256 {digest} ({len(data)} bytes) differs from the recorded "
                                                  f"{sha256} ({size} bytes)")
    return _check(subject, "content", True, f"content matches its CID and the recorded sha256 ({size} bytes)")


def _batch_checks(graph: LineageGraph) -> list[dict[str, Any]]:
    checks = []
    for artifact_id, facts in sorted(graph.artefacts.items()):
        if facts["kind"] != "dataset_batch":
            continue
        items = [e["to"] for e in graph.edges if e["from"] == artifact_id and e["type"] == "contains"]
        if not items:
            continue
        read = {graph.artifacts[i].sha256 for i in graph.inputs_of(artifact_id)}
        read |= {graph.artifacts[i].sha256 for i in items if _same_step(graph, i, artifact_id)}
        outside = [graph.artifacts[i].location for i in items if graph.artifacts[i].sha256 not in read]
        subject = f"batch {facts['name']} (artifact {artifact_id})"
        checks.append(_check(subject, "batch", not outside,
                             f"all {len(items)} items were read (or made) by the step that saved it" if not outside
                             else f"items neither read nor made by its producer: {', '.join(outside[:5])}"))
    return checks


def _same_step(graph: LineageGraph, item_id: int, batch_id: int) -> bool:
    """Whether the item was produced by the step (run and node) that saved the batch."""
    item, batch = graph.steps.get(item_id), graph.steps.get(batch_id)
    return item is not None and batch is not None and (item["run"], item["node"]) == (batch["run"], batch["node"])
