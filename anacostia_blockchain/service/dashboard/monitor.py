"""Watches one served pipeline's metadata store and publishes what changes (runs, node results) to the live feed.

The engine records everything a run does in its metadata store the moment it happens (run rows, node results,
metrics), so the store *is* the live state: this monitor polls it (cheap indexed reads) and publishes only
differences. Polling the store rather than hooking node threads keeps the dashboard out of the engine's hot paths and
works the same for a pipeline in this process or one writing to a shared database.

What it publishes is a run *summary*: the run row, its node results and per-metric summaries (last, min, max, count),
never the metric points themselves — charts ask for downsampled series (``dashboard/api.py``), so an event stays small
however much a run logs. Summaries of ended runs are computed once and kept (an ended run cannot log any more); only
runs still in progress are re-read, and the wait between polls grows with what a poll cost, so a run logging hundreds
of thousands of points does not keep a core busy. It needs only the store's read API (``runs.get_runs``,
``runs.get_node_runs``, ``runs.get_metrics``) and the graph (``pipeline.nodes``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from ...errors import AnacostiaError
from ..background_loop import BackgroundLoop
from .live import LiveFeed
from .pipelines import ServedPipeline, describe_graph
from .series import summarize

log = logging.getLogger(__name__)

#: Runs in a snapshot and re-checked on each poll (the newest ones).
RECENT_RUNS = 20
#: A poll waits at least this many times what the previous poll took.
POLL_COST_FACTOR = 4.0

NODE_FIELDS = ("node_name", "status", "started_at", "ended_at", "attempts", "error")
RUN_FIELDS = ("id", "status", "started_at", "ended_at", "trigger", "error")


def plain(row: dict[str, Any]) -> dict[str, Any]:
    """A store row with every value JSON-able (anything unusual as its ``str``)."""
    return {k: (v if isinstance(v, int | float | str | bool) or v is None else str(v)) for k, v in row.items()}


class PipelineMonitor(BackgroundLoop):
    """Polls one pipeline's store and publishes changes (see the module docstring)."""

    thread_name = "dashboard-monitor"
    stop_timeout = 5.0

    def __init__(self, served: ServedPipeline, live: LiveFeed, *, interval: float = 0.25) -> None:
        self.served = served
        self.store = served.store
        self.live = live
        self.interval = interval
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._ended_summaries: dict[int, dict[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()
        super().__init__()

    @property
    def name(self) -> str:
        return self.served.name

    def snapshot(self) -> dict[str, Any]:
        """Name, DAG, the latest runs (summaries) and each node's status in the newest run."""
        runs = [self.run_summary(run) for run in reversed(self.store.runs.get_runs()[-RECENT_RUNS:])]
        latest = runs[0] if runs else None
        statuses = {n["node_name"]: n["status"] for n in latest["nodes"]} if latest else {}
        return {
            "name": self.name,
            "pipeline_id": self.served.pipeline_id,
            "graph": describe_graph(self.served.pipeline),
            "runs": runs,
            "statuses": statuses,
        }

    def metric_summary(self, run: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Per-metric summary of ``run`` (a run row); computed once for an ended run."""
        run_id = int(run["id"])
        with self._lock:
            cached = self._ended_summaries.get(run_id)
        if cached is not None:
            return cached
        summary = summarize(self.store.runs.get_metrics(run_id))
        if run.get("ended_at") is not None:
            with self._lock:
                self._ended_summaries[run_id] = summary
        return summary

    def run_summary(self, run: dict[str, Any]) -> dict[str, Any]:
        """The run row, its node results and metric summaries, JSON-able."""
        run_id = int(run["id"])
        summary = plain({k: run.get(k) for k in RUN_FIELDS})
        summary["key"] = self.served.run_key(run_id)
        summary["nodes"] = [
            plain({k: n.get(k) for k in NODE_FIELDS}) for n in self.store.runs.get_node_runs(run_id)
        ]
        summary["metrics"] = self.metric_summary(run)
        return summary

    def history(self) -> dict[str, Any]:
        """Every run's last value of every metric: ``{"runs": [ids], "statuses": [...], "metrics": {key: [...]}}``
        (``None`` where a run did not log that metric), oldest run first."""
        runs = self.store.runs.get_runs()
        summaries = [self.metric_summary(run) for run in runs]
        keys = sorted({key for summary in summaries for key in summary})
        return {
            "pipeline": self.name,
            "runs": [int(run["id"]) for run in runs],
            "statuses": [str(run["status"]) for run in runs],
            "metrics": {key: [s[key]["last"] if key in s else None for s in summaries] for key in keys},
        }

    def poll_once(self, *, publish: bool = True) -> int:
        """Publish runs whose row, node results or metrics changed since the last poll; returns how many.
        ``publish=False`` only records what the runs look like now (the loop's first poll: a client's stream starts
        with a snapshot, so runs as they were before the monitor started are not news)."""
        published = 0
        for run in self.store.runs.get_runs()[-RECENT_RUNS:]:
            run_id = int(run["id"])
            with self._lock:
                seen = self._seen.get(run_id)
            if seen is not None and run.get("ended_at") is not None and seen[:2] == (run["status"], run["ended_at"]):
                continue  # a finished run already published unchanged: nothing of it can change any more
            summary = self.run_summary(run)
            node_states = tuple((n["node_name"], n["status"]) for n in summary["nodes"])
            counts = tuple(sorted((k, m["count"]) for k, m in summary["metrics"].items()))
            signature = (summary["status"], summary["ended_at"], node_states, counts)
            with self._lock:
                changed = self._seen.get(run_id) != signature
                self._seen[run_id] = signature
            if changed and publish:
                self.live.publish({"type": "run", "pipeline": self.name, "run": summary})
                published += 1
        return published

    def _loop(self) -> None:
        first, wait = True, 0.0
        while not self._stop.wait(wait):
            started = time.monotonic()
            try:
                self.poll_once(publish=not first)
                first = False
            except AnacostiaError as exc:
                log.debug("pipeline monitor poll of %s failed: %s", self.name, exc)
            wait = max(self.interval, POLL_COST_FACTOR * (time.monotonic() - started))
