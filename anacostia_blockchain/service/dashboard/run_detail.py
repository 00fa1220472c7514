"""One run of a served pipeline as its page shows it, read from the pipeline's metadata store.

- the run row and each node's result with its timings (``duration`` in seconds) and code fingerprint;
- params, tags and per-metric summaries (the step series come from ``/metrics``, downsampled);
- the artifacts it consumed and produced, with their CIDs, and for every output the lineage the store records
  (``store.runs.lineage``: producing node, code fingerprint, inputs);
- the values copied from reused executions (``reused_logged`` per node, as the run's manifest records them: which
  metrics, params and tags, from which runs);
- quarantine reasons: inputs the store set aside (``quarantine_reason``) and files an action quarantined and listed
  in a ``<node>.quarantine`` tag (a JSON list of ``{"location", "reason"}``, as ``DataPrepNode`` records them);
- the anchor (the outbox entry: status, finality, transaction, block, root, manifest CID) of an anchoring store.

:func:`verify_stored_run` re-verifies such a run completely (archived manifest and a fresh export against the chain)
and turns the outcome into a :class:`~.verdicts.Verdict`.
"""

from __future__ import annotations

import json
from typing import Any

from ...errors import (
    AnacostiaError,
    ChainError,
    RunNotAnchoredError,
    StorageError,
    TamperedManifestError,
    VerificationError,
)
from .monitor import NODE_FIELDS, RUN_FIELDS, PipelineMonitor, plain
from .pipelines import ServedPipeline
from .verdicts import MISMATCH, NOT_ANCHORED, TAMPERED, UNCHECKED, VERIFIED, Verdict

QUARANTINE_TAG_SUFFIX = ".quarantine"


def _duration(row: dict[str, Any]) -> float | None:
    start, end = row.get("started_at"), row.get("ended_at")
    return None if start is None or end is None else float(end) - float(start)


def _nodes(store: Any, run_id: int) -> list[dict[str, Any]]:
    nodes = []
    for row in store.runs.get_node_runs(run_id):
        node = plain({k: row.get(k) for k in (*NODE_FIELDS, "code_fingerprint")})
        node["duration"] = _duration(row)
        nodes.append(node)
    return nodes


def _artifact(artifact: Any) -> dict[str, Any]:
    data = artifact.to_dict()
    keep = ("id", "resource", "location", "sha256", "size", "cid", "state", "produced_by_node", "quarantine_reason")
    return {k: data.get(k) for k in keep}


def _lineage(store: Any, produced: list[Any]) -> list[dict[str, Any]]:
    edges = []
    for artifact in produced:
        record = store.runs.lineage(artifact)
        if record is None:
            continue
        edges.append({
            "output": _artifact(record["artifact"]),
            "node": record["node"],
            "code_fingerprint": record.get("code_fingerprint"),
            "inputs": [_artifact(a) for a in record.get("inputs", [])],
        })
    return edges


def _reused_logged(store: Any, run_id: int) -> dict[str, Any]:
    """Per node, the metrics, params and tags the run copied from reused executions (empty when none)."""
    export = getattr(store.runs, "provenance_export", None)
    if export is None:
        return {}
    return {e["node"]: e["reused_logged"] for e in export(run_id)["executions"] if e.get("reused_logged")}


def _quarantine(tags: dict[str, Any], consumed: list[Any]) -> list[dict[str, Any]]:
    found = [
        {"location": a.location, "resource": a.resource, "reason": a.quarantine_reason, "source": "store"}
        for a in consumed
        if a.quarantine_reason
    ]
    for tag, value in sorted(tags.items()):
        if not tag.endswith(QUARANTINE_TAG_SUFFIX):
            continue
        node = tag[: -len(QUARANTINE_TAG_SUFFIX)]
        try:
            entries = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            entries = [{"location": "?", "reason": str(value)}]
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict):
                found.append({
                    "location": str(entry.get("location", "?")),
                    "resource": None,
                    "reason": str(entry.get("reason", "")),
                    "source": node,
                })
    return found


def anchor_info(served: ServedPipeline, run_id: int) -> dict[str, Any] | None:
    """The run's anchor as its store's outbox has it; ``None`` for a store that does not anchor."""
    anchoring = served.anchoring
    if anchoring is None:
        return None
    try:
        entry = anchoring.status(run_id)
    except AnacostiaError as exc:
        return {"status": "unknown", "error": f"{type(exc).__name__}: {exc}"}
    if entry is None:
        return {"status": "none", "key": served.run_key(run_id)}
    result, payload = entry.result or {}, entry.payload or {}
    return {
        "key": served.run_key(run_id),
        "status": entry.status,
        "finality": entry.finality,
        "attempts": entry.attempts,
        "last_error": entry.last_error,
        "tx_hash": result.get("txHash"),
        "block": result.get("block"),
        "root": payload.get("root"),
        "manifest_cid": payload.get("manifestCid"),
        "queued_at": entry.created_at,
        "updated_at": entry.updated_at,
    }


def run_detail(monitor: PipelineMonitor, run_id: int) -> dict[str, Any]:
    """Everything the run page shows of run ``run_id`` (see the module docstring); ``RunNotFoundError`` if none."""
    served, store = monitor.served, monitor.store
    run = store.runs.get_run(run_id)
    tags = store.runs.get_tags(run_id)
    artifacts = store.runs.run_artifacts(run_id)
    detail = plain({k: run.get(k) for k in RUN_FIELDS})
    detail.update(
        pipeline=served.name,
        pipeline_id=served.pipeline_id,
        key=served.run_key(run_id),
        duration=_duration(run),
        nodes=_nodes(store, run_id),
        params=store.runs.get_params(run_id),
        tags=tags,
        metrics=monitor.metric_summary(run),
        artifacts={kind: [_artifact(a) for a in items] for kind, items in artifacts.items()},
        lineage=_lineage(store, artifacts["produced"]),
        reused_logged=_reused_logged(store, run_id),
        quarantine=_quarantine(tags, artifacts["consumed"]),
        anchor=anchor_info(served, run_id),
    )
    return detail


def verify_stored_run(served: ServedPipeline, run_id: int) -> Verdict:
    """Re-verify an anchored run from its store (see the module docstring)."""
    key = served.run_key(run_id)
    anchoring = served.anchoring
    if anchoring is None or key is None:
        return Verdict.now(f"{served.name}-{run_id}", UNCHECKED, "store", "this pipeline's store does not anchor runs")
    try:
        report = anchoring.verify_run(run_id)
    except TamperedManifestError as exc:
        return Verdict.now(key, TAMPERED, "store", _one_line(exc))
    except RunNotAnchoredError as exc:
        return Verdict.now(key, NOT_ANCHORED, "store", _one_line(exc))
    except VerificationError as exc:  # e.g. the chain holds another root for the run
        return Verdict.now(key, MISMATCH, "store", _one_line(exc))
    except (ChainError, StorageError) as exc:  # could not check: not a verdict on the run
        return Verdict.now(key, UNCHECKED, "store", _one_line(exc))
    detail = f"{report.items} items, root 0x{bytes(report.root).hex()}, {report.finality}"
    return Verdict.now(key, VERIFIED, "store", detail)


def _one_line(exc: Exception) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
