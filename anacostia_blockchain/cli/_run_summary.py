"""What ``anacostia-chain run`` reports after the pipeline stopped: the runs of this invocation and their anchors.

Everything is read back from the metadata database after the store closed (no chain access): each run's status,
duration, trigger, error, the last value of every metric, each node's result, the run hash and — when the store
anchors runs — its anchor as the outbox recorded it (:func:`anchor_summary`). :func:`failures` lists what makes the
command exit 1: a run that did not succeed, an anchor that failed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..chain.abi import name_roles
from ..engine import Pipeline
from ..errors import MetadataStoreError

#: Run statuses that are not a failure of the run.
GOOD_RUN_STATUSES = ("success",)


@dataclass
class RunOutcome:
    """How an invocation went: when it started, how long it ran, why it stopped, and the crash if any."""

    started_at: float
    duration: float = 0.0
    stopped_by: str = "signal"  # "deadline", "signal" (SIGINT/SIGTERM or the pipeline's own terminate()), "crash"
    error: str | None = None
    runs_finished: int = 0
    runs: list[dict[str, Any]] | None = None
    note: str | None = None
    nodes: list[str] = field(default_factory=list)


def collect_runs(pipeline: Pipeline, outcome: RunOutcome) -> None:
    """Fill ``outcome.runs`` from the (closed) store: the runs that started during this invocation."""
    store: Any = pipeline.metadata_store
    if not hasattr(store.runs, "get_runs"):
        outcome.note = f"{type(store).__name__} cannot list runs; only the count is known"
        return
    try:
        rows = [row for row in store.runs.get_runs() if (row.get("started_at") or 0) >= outcome.started_at]
        outcome.runs = [_run_summary(store, row) for row in rows]
    except MetadataStoreError as exc:
        outcome.note = f"run details unavailable after the store closed (an in-memory database?): {exc}"


def _run_summary(store: Any, row: dict[str, Any]) -> dict[str, Any]:
    metrics: dict[str, float] = {}
    for metric in store.runs.get_metrics(row["id"]):
        metrics[metric["key"]] = metric["value"]  # rows come in logging order: the last value wins
    nodes = {node["node_name"]: str(node["status"]) for node in store.runs.get_node_runs(row["id"])}
    started, ended = row.get("started_at"), row.get("ended_at")
    return {
        "id": row["id"],
        "status": str(row["status"]),
        "trigger": row.get("trigger"),
        "started_at": started,
        "ended_at": ended,
        "duration": round(ended - started, 6) if started is not None and ended is not None else None,
        "error": row.get("error"),
        "hash": row.get("hash"),
        "metrics": metrics,
        "nodes": nodes,
        "anchor": _anchor(store, int(row["id"])),
    }


def _anchor(store: Any, run_id: int) -> dict[str, Any] | None:
    """The run's anchor from the store's outbox; ``None`` when the store does not anchor runs."""
    anchoring = getattr(store, "anchoring", None)
    if anchoring is None:
        return None
    from ..anchoring import ANCHOR_KIND, anchor_key

    return anchor_summary(anchoring.outbox.get(ANCHOR_KIND, anchor_key(anchoring.pipeline_id, run_id)))


def anchor_summary(entry: Any) -> dict[str, Any]:
    """``anchored`` (tx, block, final), ``pending`` (not attempted yet: delivered the next time the pipeline runs) or
    ``failed`` (attempts, the last error with role hashes by name) for an anchor outbox entry (``None``: never
    queued)."""
    if entry is None:
        return {"status": "failed", "attempts": 0, "error": "no anchor was queued for this run"}
    if entry.status == "confirmed":
        result = entry.result or {}
        return {"status": "anchored", "tx": result.get("txHash"), "block": result.get("block"), "final": entry.final}
    if entry.status == "failed" or entry.last_error:
        return {"status": "failed", "attempts": entry.attempts, "error": name_roles(entry.last_error or "")}
    return {"status": "pending"}


def failures(outcome: RunOutcome) -> list[str]:
    """Why the command fails although the pipeline stopped gracefully: failed runs and failed anchors."""
    found = []
    for run in outcome.runs or []:
        if run["status"] not in GOOD_RUN_STATUSES:
            found.append(f"run {run['id']} {run['status']}" + (f": {run['error']}" if run["error"] else ""))
        anchor = run.get("anchor")
        if anchor is not None and anchor["status"] == "failed":
            found.append(f"the anchor of run {run['id']} failed: {anchor['error']}")
    return found


# --- output ----------------------------------------------------------------------------------------------------------
def summary_json(target: str, outcome: RunOutcome) -> dict[str, Any]:
    statuses = Counter(run["status"] for run in outcome.runs or [])
    return {
        "target": target,
        "nodes": outcome.nodes,
        "started_at": outcome.started_at,
        "duration": round(outcome.duration, 3),
        "stopped_by": outcome.stopped_by,
        "error": outcome.error,
        "runs_finished": outcome.runs_finished,
        "runs_by_status": dict(sorted(statuses.items())),
        "runs": outcome.runs,
        "failures": failures(outcome),
        "note": outcome.note,
    }


_STOP_TEXT = {
    "deadline": "stopped after --for",
    "signal": "stopped by SIGINT/SIGTERM (or the pipeline itself)",
    "crash": "stopped by a crashed node",
}


def summary_text(target: str, outcome: RunOutcome) -> str:
    lines = [
        f"pipeline {target}: {len(outcome.nodes)} nodes ({', '.join(outcome.nodes)})",
        f"ran {outcome.duration:.1f} s, {_STOP_TEXT[outcome.stopped_by]}",
    ]
    if outcome.runs is None:
        lines.append(f"runs finished: {outcome.runs_finished}" + (f" ({outcome.note})" if outcome.note else ""))
        return "\n".join(lines)
    statuses = Counter(run["status"] for run in outcome.runs)
    counts = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    lines.append(f"runs: {len(outcome.runs)}" + (f" ({counts})" if counts else ""))
    for run in outcome.runs:
        took = f"{run['duration']:.2f} s" if run["duration"] is not None else "-"
        line = f"  run {run['id']:<5} {run['status']:<9} {took:>9}"
        if run["metrics"]:
            line += "  " + " ".join(f"{key}={value:g}" for key, value in run["metrics"].items())
        if run["error"]:
            line += f"  error: {run['error']}"
        lines.append(line)
        if run.get("anchor") is not None:
            lines.append(f"            anchor: {anchor_text(run['anchor'])}")
    return "\n".join(lines)


def anchor_text(anchor: dict[str, Any]) -> str:
    if anchor["status"] == "anchored":
        final = ", final" if anchor.get("final") else ""
        return f"anchored in block {anchor.get('block')} (tx {anchor.get('tx')}{final})"
    if anchor["status"] == "pending":
        return "pending (not sent yet: delivered the next time the pipeline runs)"
    return f"FAILED after {anchor['attempts']} attempt(s): {anchor['error']}"
