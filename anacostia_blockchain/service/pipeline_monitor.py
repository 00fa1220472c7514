"""Watches a running pipeline's metadata store and publishes what changes (runs, node results) to the live feed.

The engine records everything a run does in its metadata store the moment it happens (run rows, node results,
metrics), so the store *is* the live state: this monitor polls it every ``interval`` seconds (cheap indexed reads)
and publishes only differences. Polling the store rather than hooking node threads keeps the dashboard out of the
engine's hot paths and works the same for a pipeline in this process or one writing to a shared database.

Only runs still in progress (or whose row changed) are re-read on a poll, so the cost does not grow with history.
It needs only the store's read API (``get_runs``, ``get_node_runs``, ``get_metrics``) and the graph
(``pipeline.nodes`` with ``name``, ``node_kind``, ``predecessors``).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..errors import AnacostiaError
from .background_loop import BackgroundLoop
from .live import LiveFeed

log = logging.getLogger(__name__)

RECENT_RUNS = 20


def describe_graph(pipeline: Any) -> dict[str, Any]:
    """Nodes and edges of a pipeline's DAG, JSON-able."""
    nodes = [
        {
            "name": node.name,
            "kind": getattr(node, "node_kind", "node"),
            "class": type(node).__name__,
            "predecessors": [p.name for p in getattr(node, "predecessors", [])],
        }
        for node in pipeline.nodes
    ]
    return {"nodes": nodes, "state": str(getattr(pipeline, "state", "unknown"))}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, int | float | str | bool) or v is None else str(v)) for k, v in row.items()}


class PipelineMonitor(BackgroundLoop):
    """Polls a pipeline's metadata store and publishes changes (see the module docstring)."""

    thread_name = "dashboard-monitor"
    stop_timeout = 5.0

    def __init__(self, pipeline: Any, live: LiveFeed, *, interval: float = 0.25) -> None:
        self.pipeline = pipeline
        self.store = pipeline.metadata_store
        self.live = live
        self.interval = interval
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._lock = threading.Lock()
        super().__init__()

    def snapshot(self) -> dict[str, Any]:
        """The DAG, the latest runs with their node results, and each node's status in the newest run."""
        runs = self.recent_runs()
        latest = runs[0] if runs else None
        statuses = {n["node_name"]: n["status"] for n in latest["nodes"]} if latest else {}
        return {"type": "snapshot", "graph": describe_graph(self.pipeline), "runs": runs, "statuses": statuses}

    def recent_runs(self) -> list[dict[str, Any]]:
        runs = self.store.get_runs()[-RECENT_RUNS:]
        result = []
        for run in reversed(runs):
            result.append(self.run_detail(run))
        return result

    def run_detail(self, run: dict[str, Any]) -> dict[str, Any]:
        run_id = int(run["id"])
        nodes = [
            {k: n.get(k) for k in ("node_name", "status", "started_at", "ended_at", "attempts", "error")}
            for n in self.store.get_node_runs(run_id)
        ]
        metrics = [
            {k: m.get(k) for k in ("node_name", "key", "value", "step", "timestamp")}
            for m in self.store.get_metrics(run_id)
        ]
        detail = _plain({k: run.get(k) for k in ("id", "status", "started_at", "ended_at", "trigger", "error")})
        detail["nodes"] = [_plain(n) for n in nodes]
        detail["metrics"] = [_plain(m) for m in metrics]
        return detail

    def poll_once(self) -> int:
        """Publish runs whose row or node results changed since the last poll; returns how many were published."""
        published = 0
        for run in self.store.get_runs()[-RECENT_RUNS:]:
            with self._lock:
                seen = self._seen.get(int(run["id"]))
            if seen is not None and run.get("ended_at") is not None and seen[:2] == (run["status"], run["ended_at"]):
                continue  # a finished run already published unchanged: nothing of it can change any more
            detail = self.run_detail(run)
            node_states = tuple((n["node_name"], n["status"]) for n in detail["nodes"])
            signature = (detail["status"], detail["ended_at"], node_states, len(detail["metrics"]))
            with self._lock:
                changed = self._seen.get(detail["id"]) != signature
                self._seen[detail["id"]] = signature
            if changed:
                self.live.publish({"type": "run", "run": detail})
                published += 1
        return published

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except AnacostiaError as exc:
                log.debug("pipeline monitor poll failed: %s", exc)
