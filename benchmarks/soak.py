"""Soak benchmark: the system under sustained load and through an RPC outage, printed as one JSON document.

Sections (each measured next to its baseline in the same run, on the same machine):

- ``marketplace``: 50 closed-loop keep-alive clients for 60 s against the real service (uvicorn on loopback, real
  anvil, the indexer following new blocks) while a publisher anchors, mints, registers and lists a new model every
  0.5 s — requests/s, p50/p99/max overall and per endpoint, 5xx count, transport errors, and how long the index
  took to show the last published model after the load. Baseline: the same load with the chain idle (nothing
  published), so the cost of indexing while serving is visible. Setup and clients are
  ``tests/hardening/test_marketplace_load.py``'s :class:`MarketUnderLoad` (the test runs it for 10 s).
- ``pipeline``: a watched folder -> an action logging metrics and params -> ``BlockchainMetadataStore`` anchoring
  every run in ``RunRegistry`` on anvil; files keep landing every ``--file-interval`` s until ``--runs`` runs
  have finished: runs/min, anchor latency (run end -> anchor confirmed, from the outbox entry) p50/p99/max, the
  largest outbox backlog seen (entries not yet confirmed, sampled every 50 ms), RSS of this process at the start
  and the end (growth in MB and per 100 runs) and every run anchored exactly once (``RunAnchored`` events). Baseline:
  the same pipeline on a plain ``SqliteMetadataStore`` (no anchoring).
- ``outage``: ``tests/hardening/fault_scenarios.run_chain_outage`` — anvil SIGKILLed in the middle of a producing
  pipeline, down for ``--outage-seconds`` (30), restarted from its state: runs during the outage, seconds from the
  chain's return to every anchor landed (this includes the 0.75 s the producer keeps dropping files after the
  restart), duplicated/missing anchors (the exactly-once check). The baseline for its anchor latency is the
  ``pipeline`` section's, measured without an outage.

Everything runs in this process (server, indexer, publisher, pipelines, load clients) next to anvil, on a machine
that may be shared: ``load_average_1_5_15`` says how busy it was.

    .venv/bin/python benchmarks/soak.py                       # full: ~4 minutes
    .venv/bin/python benchmarks/soak.py --quick               # 10 s load, 60 runs, 5 s outage
    .venv/bin/python benchmarks/soak.py --only pipeline --runs 1000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

HARDENING = Path(__file__).resolve().parent.parent / "tests" / "hardening"
sys.path.insert(0, str(HARDENING))

from fault_scenarios import LogTraining, drop_file, run_chain_outage  # noqa: E402
from test_marketplace_load import MarketUnderLoad  # noqa: E402

from anacostia_blockchain.chain.contracts.merkle import pipeline_id  # noqa: E402
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient  # noqa: E402
from anacostia_blockchain.chain.dev.devnet import Devnet  # noqa: E402
from anacostia_blockchain.chain.rpc.client import ChainClient  # noqa: E402
from anacostia_blockchain.chain.tx import TxSender  # noqa: E402
from anacostia_blockchain.chain.tx.signer import LocalSigner  # noqa: E402
from anacostia_blockchain.engine import Pipeline  # noqa: E402
from anacostia_blockchain.metadata import (  # noqa: E402
    BlockchainMetadataStore,
    SqliteMetadataStore,
)
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode  # noqa: E402

SOAK_PIPELINE = "soak-pipeline"
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    """Resident set size of this process now (``/proc/self/statm``)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


def percentiles(values: list[float], scale: float = 1000.0) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {
        "p50_ms": round(statistics.median(ordered) * scale, 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * scale, 2),
        "max_ms": round(ordered[-1] * scale, 2),
    }


# --- marketplace -----------------------------------------------------------------------------------------------------
def bench_marketplace(workdir: Path, clients: int, seconds: float, baseline_seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"clients": clients}
    with MarketUnderLoad(workdir / "market-idle") as market:
        result["baseline_idle_chain"] = market.run_load(clients=clients, seconds=baseline_seconds,
                                                        publish=False).as_json()
    with MarketUnderLoad(workdir / "market", publish_interval=0.5) as market:
        rss_before = rss_mb()
        report = market.run_load(clients=clients, seconds=seconds)
        assert market.publisher is not None
        published = market.publisher.published
        catch_up = market.wait_listed(published, timeout=120)
        result["while_publishing"] = {
            **report.as_json(),
            "models_published_during_load": len(published) - market.initial_models,
            "seconds_until_last_model_listed_after_load": round(catch_up, 3),
            "publisher_errors": [repr(e) for e in market.publisher.errors],
            "rss_mb_before_after": [round(rss_before, 1), round(rss_mb(), 1)],
        }
    return result


# --- pipeline soak ---------------------------------------------------------------------------------------------------
class BacklogSampler(threading.Thread):
    """Samples the anchoring outbox every 50 ms: the largest number of entries not yet confirmed."""

    def __init__(self, store: BlockchainMetadataStore) -> None:
        super().__init__(name="backlog-sampler", daemon=True)
        self.store = store
        self.max_backlog = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            counts = self.store.anchoring.outbox.counts("run-anchor")
            self.max_backlog = max(self.max_backlog, sum(n for status, n in counts.items() if status != "confirmed"))
            self.samples += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def wait_idle(store: SqliteMetadataStore, data: FilesystemStoreNode, timeout: float = 120.0) -> None:
    """Until every dropped file was consumed by a run that has ended."""
    deadline = time.monotonic() + timeout
    while (data.get_num_artifacts("new") or data.get_num_artifacts("current")
           or any(run["status"] == "running" for run in store.runs.get_runs())):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the pipeline did not go idle within {timeout}s")
        time.sleep(0.01)


def soak_pipeline(
    store: SqliteMetadataStore, folder: Path, runs: int, file_interval: float,
    settle: Callable[[], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Drop files every ``file_interval`` s until ``runs`` runs finished (after one warm-up run), then wait until
    the files already dropped are consumed too; ``settle`` runs before the pipeline is terminated and adds its
    figures. The shared part of both soak variants."""
    folder.mkdir(parents=True)
    data = FilesystemStoreNode("data", folder, store, create=True)
    pipeline = Pipeline([store, data, LogTraining("train", [data], store)], failure_backoff=0.01)  # type: ignore[arg-type]
    pipeline.launch()
    try:
        drop_file(folder, "warm-up.csv", "warm up\n")
        if not pipeline.wait_for_runs(1, timeout=60):
            raise RuntimeError("the pipeline did not finish its warm-up run")
        rss_start, started, dropped = rss_mb(), time.perf_counter(), 0
        while pipeline.runs_finished < runs + 1:
            drop_file(folder, f"batch-{dropped:06d}.csv", f"rows of batch {dropped}\n")
            dropped += 1
            time.sleep(file_interval)
        wait_idle(store, data)  # the files already dropped still become runs: count them all
        elapsed = time.perf_counter() - started
        rss_end = rss_mb()
        finished = pipeline.runs_finished - 1
        figures: dict[str, Any] = {
            "runs": finished,
            "files_dropped": dropped,
            "seconds": round(elapsed, 2),
            "runs_per_min": round(finished / elapsed * 60, 1),
            "run_statuses": dict(Counter(str(run["status"]) for run in store.runs.get_runs())),
            "rss_mb_start": round(rss_start, 1),
            "rss_mb_end": round(rss_end, 1),
            "rss_growth_mb": round(rss_end - rss_start, 2),
            "rss_growth_mb_per_100_runs": round((rss_end - rss_start) / max(finished, 1) * 100, 3),
        }
        if settle is not None:
            figures.update(settle())
        return figures
    finally:
        pipeline.terminate()


def bench_pipeline(workdir: Path, runs: int, file_interval: float) -> dict[str, Any]:
    baseline = soak_pipeline(
        SqliteMetadataStore("metadata", f"sqlite:///{workdir / 'plain.db'}"), workdir / "plain", runs, file_interval
    )
    with Devnet() as devnet:
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            registry_address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        store = BlockchainMetadataStore(
            "metadata", f"sqlite:///{workdir / 'anchored.db'}", signer=LocalSigner.from_key(admin.private_key),
            client=client, registry_address=registry_address, pipeline=SOAK_PIPELINE,
        )
        sampler = BacklogSampler(store)

        def settle() -> dict[str, Any]:
            """Wait for the outbox to drain, then read latencies from it and count events on chain."""
            drained_started = time.perf_counter()
            drained = store.flush_anchors(timeout=120)
            drain_seconds = time.perf_counter() - drained_started
            sampler.stop()
            entries = store.anchoring.outbox.entries("run-anchor")
            confirmed = [e for e in entries if e.status == "confirmed"]
            registry = RunRegistryClient(client, registry_address)
            events = Counter(int(log.args["runId"]) for log in
                             registry.contract.events("RunAnchored", pipelineId=pipeline_id(SOAK_PIPELINE)))
            run_ids = [int(run["id"]) for run in store.runs.get_runs()]
            return {
                "anchor_latency": percentiles([e.updated_at - e.created_at for e in confirmed]),
                "anchors_confirmed": len(confirmed),
                "anchors_not_confirmed": len(entries) - len(confirmed),
                "outbox_drained": drained,
                "seconds_to_drain_after_last_run": round(drain_seconds, 3),
                "outbox_backlog_max": sampler.max_backlog,
                "backlog_samples": sampler.samples,
                "anchored_exactly_once": sum(1 for run in run_ids if events.get(run) == 1),
                "duplicated": sorted(run for run, n in events.items() if n > 1),
                "missing": sorted(run for run in run_ids if run not in events),
            }

        sampler.start()
        try:
            anchored = soak_pipeline(store, workdir / "anchored", runs, file_interval, settle)
        finally:
            if sampler.is_alive():
                sampler.stop()
    return {
        "file_interval_s": file_interval,
        "anchored": anchored,
        "baseline_no_anchoring": baseline,
        "runs_per_min_ratio_vs_baseline": round(anchored["runs_per_min"] / max(baseline["runs_per_min"], 1e-9), 3),
    }


# --- outage ----------------------------------------------------------------------------------------------------------
def bench_outage(workdir: Path, outage_seconds: float) -> dict[str, Any]:
    report = run_chain_outage(workdir, outage_seconds=outage_seconds)
    figures = report.as_json()
    # every run anchored once, and every dropped file consumed by exactly one run
    figures["exactly_once"] = (not report.duplicated and not report.missing
                               and report.inputs_consumed_once == report.inputs_recorded == report.files_dropped)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["marketplace", "pipeline", "outage"], action="append",
                        help="run only these sections (repeatable; default: all)")
    parser.add_argument("--quick", action="store_true", help="short everything: 10 s load, 60 runs, 5 s outage")
    parser.add_argument("--clients", type=int, default=50, help="concurrent API clients (default 50)")
    parser.add_argument("--market-seconds", type=float, default=60.0, help="load duration (default 60)")
    parser.add_argument("--baseline-seconds", type=float, default=None, help="idle-chain baseline (default: same)")
    parser.add_argument("--runs", type=int, default=2000, help="pipeline soak runs (default 2000)")
    parser.add_argument("--file-interval", type=float, default=0.01,
                        help="seconds between dropped files (faster than runs finish: the pipeline is the limit)")
    parser.add_argument("--outage-seconds", type=float, default=30.0, help="anvil down for (default 30)")
    args = parser.parse_args()
    if args.quick:
        args.market_seconds, args.runs, args.outage_seconds = 10.0, 60, 5.0
    sections = args.only or ["marketplace", "pipeline", "outage"]
    result: dict[str, Any] = {
        "benchmark": "soak",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="anacostia-soak-") as tmp:
        workdir = Path(tmp)
        if "marketplace" in sections:
            result["marketplace"] = bench_marketplace(
                workdir / "marketplace", args.clients, args.market_seconds, args.baseline_seconds or args.market_seconds
            )
        if "pipeline" in sections:
            result["pipeline"] = bench_pipeline(workdir / "pipeline", args.runs, args.file_interval)
        if "outage" in sections:
            result["outage"] = bench_outage(workdir / "outage", args.outage_seconds)
    result["max_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    result["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
