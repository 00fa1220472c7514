"""The ``anchoring`` section of ``benchmarks/chain.py`` (registered there): what anchoring a run costs.

Measured on a fresh anvil (automine) with a real :class:`BlockchainMetadataStore` on a SQLite file, side by side:

- ``gas_per_run``: gas of anchoring one run that logged 1, 100 and 1,000 metrics (one ``anchorRun`` carrying the
  Merkle root) vs. the naive approach of one transaction per metric (each metric written as its own
  ``anchorRun`` — one fresh storage slot and one event per metric, the cheapest per-metric on-chain write this
  contract offers), with the wall time of each.
- ``batched``: amortized gas per run when the outbox delivers 10 / 50 / 100 pending anchors in one ``anchorRuns``.
- ``latency``: time from a run's end (before ``end_run``) to its anchor being mined (the outbox entry's confirmation
  time), p50/p99 over ``--anchor-runs`` runs ended every ``--anchor-interval`` seconds while the background sender
  runs; next to it, how long ``on_run_end`` blocks the pipeline thread with the outbox vs. anchoring synchronously
  inside ``on_run_end`` (the same manifest work, then deliver and wait for the receipt in the pipeline thread).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts.merkle import metric_leaf, pipeline_id, scale_metric
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff

PIPELINE = "benchmark-pipeline"


def _store(db: Path, key: str, client: ChainClient, address: str, pipeline: str = PIPELINE) -> BlockchainMetadataStore:
    store = BlockchainMetadataStore(
        "metadata",
        f"sqlite:///{db}",
        signer=LocalSigner.from_key(key),
        client=client,
        registry_address=address,
        pipeline=pipeline,
        backoff=Backoff(base=0.05, cap=1.0),
        tx_options={"poll_interval": 0.01},
    )
    store.open_store()
    return store


def _run(store: BlockchainMetadataStore, metrics: int) -> int:
    run_id = store.runs.begin_run("benchmark", [])
    if metrics:
        store.log_batch(metrics=[("loss", 1.0 / (i + 1), i) for i in range(metrics)])
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def gas_per_run(store: BlockchainMetadataStore, naive: RunRegistryClient) -> dict[str, Any]:
    rows = {}
    for items in (1, 100, 1000):
        started = time.perf_counter()
        run_id = _run(store, items)
        store.flush_anchors(timeout=60)
        anchored_s = time.perf_counter() - started
        entry = store.anchor_status(run_id)
        assert entry is not None and entry.result is not None and entry.status == "confirmed"
        # naive: one transaction per metric, all sent before waiting (the fastest way to do it naively)
        sender = naive.sender
        assert sender is not None
        pid = pipeline_id(f"naive-{items}")
        started = time.perf_counter()
        pending = [
            sender.send(
                naive.contract,
                "anchorRun",
                pid,
                step,
                metric_leaf("loss", scale_metric(1.0 / (step + 1)), step),
                "bafkreinaive",
            )
            for step in range(items)
        ]
        naive_gas = sum(int(p.wait(120)["gasUsed"]) for p in pending)
        naive_s = time.perf_counter() - started
        rows[str(items)] = {
            "anchored": {"transactions": 1, "gas": entry.result["gasUsed"], "seconds": round(anchored_s, 3)},
            "naive_one_tx_per_metric": {"transactions": items, "gas": naive_gas, "seconds": round(naive_s, 3)},
            "gas_ratio_naive_over_anchored": round(naive_gas / entry.result["gasUsed"], 1),
        }
    return rows


def batched(store: BlockchainMetadataStore) -> dict[str, Any]:
    rows = {}
    for size in (10, 50, 100):
        store.anchoring.sender.batch_size = size
        runs = [_run(store, 5) for _ in range(size)]
        store.flush_anchors(timeout=120)
        results = [store.anchor_status(r) for r in runs]
        txs = {e.result["txHash"]: e.result["gasUsed"] for e in results if e is not None and e.result is not None}
        assert len(txs) == 1, f"expected one transaction for the batch of {size}, got {len(txs)}"
        (gas,) = txs.values()
        rows[str(size)] = {"transactions": 1, "gas": gas, "gas_per_run": round(gas / size)}
    return rows


def latency(
    store: BlockchainMetadataStore, runs: int, interval: float, sync: BlockchainMetadataStore
) -> dict[str, Any]:
    store.on_start()
    ends: dict[int, float] = {}
    blocked: list[float] = []
    try:
        for _ in range(runs):
            run_id = store.runs.begin_run("benchmark", [])
            store.log_batch(metrics=[("loss", 0.5, i) for i in range(20)])
            t0 = time.time()
            store.runs.end_run(run_id, RunStatus.SUCCESS)
            store.on_run_end(run_id, RunStatus.SUCCESS)
            blocked.append(time.time() - t0)
            ends[run_id] = t0
            time.sleep(interval)
        deadline = time.monotonic() + 120
        while any((e := store.anchor_status(r)) is None or e.status != "confirmed" for r in ends):
            if time.monotonic() > deadline:
                raise TimeoutError("anchors did not land")
            time.sleep(0.05)
    finally:
        store.on_stop()
    entries = {r: store.anchor_status(r) for r in ends}
    delays = [entry.updated_at - ends[r] for r, entry in entries.items() if entry is not None]
    batch_sizes = [entry.result["batchSize"] for entry in entries.values() if entry is not None and entry.result]
    # baseline: the same store work, but anchored synchronously inside on_run_end (the pipeline thread waits)
    sync_blocked = []
    for _ in range(runs):
        run_id = sync.runs.begin_run("benchmark", [])
        sync.log_batch(metrics=[("loss", 0.5, i) for i in range(20)])
        t0 = time.time()
        sync.runs.end_run(run_id, RunStatus.SUCCESS)
        sync.on_run_end(run_id, RunStatus.SUCCESS)
        sync.flush_anchors(timeout=60)
        sync_blocked.append(time.time() - t0)
    return {
        "runs": runs,
        "interval_s": interval,
        "run_end_to_anchor_mined_s": {
            "p50": round(_percentile(delays, 50), 4),
            "p99": round(_percentile(delays, 99), 4),
            "max": round(max(delays), 4),
        },
        "batch_size_mean": round(statistics.mean(batch_sizes), 2),
        "pipeline_blocked_in_on_run_end_s": {
            "outbox_p50": round(_percentile(blocked, 50), 4),
            "outbox_p99": round(_percentile(blocked, 99), 4),
            "synchronous_anchor_p50": round(_percentile(sync_blocked, 50), 4),
            "synchronous_anchor_p99": round(_percentile(sync_blocked, 99), 4),
        },
    }


def bench_anchoring(args: argparse.Namespace) -> dict[str, Any]:
    with Devnet(accounts=4) as chain, tempfile.TemporaryDirectory() as tmp:
        client = ChainClient(chain.rpc_url, expected_chain_id=chain.chain_id)
        admin = chain.accounts[0]
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            registry = deployer.deploy("RunRegistry", admin.address, admin.address)
            for account in chain.accounts[1:]:
                RunRegistryClient(client, registry.address, deployer).grant_anchorer(account.address)
        naive_sender = TxSender(client, LocalSigner.from_key(chain.accounts[1].private_key), poll_interval=0.01)
        sync_store = _store(
            Path(tmp) / "sync.db", chain.accounts[2].private_key, client, registry.address, pipeline="sync-baseline"
        )
        store = _store(Path(tmp) / "gas.db", chain.accounts[3].private_key, client, registry.address)
        try:
            result = {
                "gas_per_run": gas_per_run(store, RunRegistryClient(client, registry.address, naive_sender)),
                "batched": batched(store),
            }
            store.anchoring.sender.batch_size = 50
            result["latency"] = latency(store, args.anchor_runs, args.anchor_interval, sync_store)
        finally:
            store.close_store()
            sync_store.on_stop()
            sync_store.close_store()
            naive_sender.close()
    single = result["gas_per_run"]["1000"]["anchored"]["gas"]
    result["targets"] = {
        "single_anchor_gas_le_50k": single <= 50_000,
        "single_anchor_gas": single,
        "batched_gas_per_run_le_30k": {size: row["gas_per_run"] <= 30_000 for size, row in result["batched"].items()},
    }
    return result
