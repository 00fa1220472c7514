"""Marketplace benchmarks, printed as one JSON document; each number is measured next to its baseline in the same run.

Setup (timed and reported, not a goal): a fresh anvil (automine) with RunRegistry and a ModelNFT checking anchors
against it, and ``--models`` (default 10,000) models as a publishing pipeline makes them: each from its own anchored
run, whose manifest (metrics, params) is on an embedded IPFS blockstore, with NFT metadata written by the project's
own writer (``actions.model_metadata``: metrics as exact decimal strings under ``properties.metrics``). Runs are
anchored 100 per ``anchorRuns`` transaction and models minted as fast as the node takes them, all through
:class:`TxSender`.

Sections:

- ``indexer``: catch-up throughput (events/s) of :class:`Indexer` over the whole chain into a fresh SQLite index,
  ``batch_blocks=2000`` (``batched``), against the same indexer reading one block per step (``block_at_a_time``, what a
  naive poller does) over the first 1,500 blocks of the same chain. PostgreSQL is measured too
  (``batched_postgres``). The metadata fetcher then resolves every document (``metadata_fetch_seconds``), and
  PostgreSQL is vacuumed and its statistics gathered (``VACUUM ANALYZE``, as autovacuum would).
- ``api``: each list query and ``/status`` served by ``anacostia-chain serve`` (uvicorn, one process, rate limit off)
  on the index, hammered by ``--clients`` (50) closed-loop keep-alive HTTP/1.1 clients: requests/s, p50, p99 and max
  for ``GET /models`` newest first, sorted by token id, filtered and sorted by a metric
  (``metric=accuracy&min_metric=0.6&sort=metric_desc``: 80 % of the models match), one owner's models oldest first
  (all of them match) and ``GET /runs``, each rotating over pages 1..50, and ``GET /status``. Target: every p99 <= 50
  ms **without the response cache** (``uncached``: every request runs its SQL), on SQLite and on PostgreSQL
  (``uncached_postgres``). With ``--baseline-src DIR`` the package found in ``DIR`` (the code before a change, e.g.
  ``git archive <commit> | tar -x -C DIR``) serves a copy of the same two indexes (``baseline_uncached``,
  ``baseline_uncached_postgres``), measured in the same run; ``with_response_cache`` is this tree with the cache on.
  Servers are measured interleaved per scenario (two turns of ``--seconds / 2``, the order reversed in the second)
  so a shared machine's drifting load hits all alike; each result also gives the CPU time the API process spent per
  request (``server_cpu_ms_per_request``), the one number other work on the machine hardly changes. The client is
  this process (asyncio, on the same cores as the server and the database); the load average before and after the
  section says how busy the machine was. ``p99_ms_side_by_side`` lists, per scenario, the baseline's and this tree's
  p99 on both databases.

    .venv/bin/python benchmarks/marketplace.py --baseline-src /path/to/baseline
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from anacostia_blockchain.actions.anchored_run import VerifiedRun
from anacostia_blockchain.actions.model_metadata import ModelMetadataOptions, build_model_metadata, metadata_bytes
from anacostia_blockchain.anchoring import RunManifest
from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import AnchorRecord, AnchorRequest, RunRegistryClient, pipeline_id
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import free_port
from anacostia_blockchain.service.chain_gateway import ChainGateway
from anacostia_blockchain.service.index import Indexer, MetadataFetcher, create_index_engine

TARGET_P99_MS = 50
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PIPELINE = "benchmark-training"
ANCHORS_PER_TX = 100
MINTS_IN_FLIGHT = 10_000  # mints sent before waiting for their receipts (the node packs them into few blocks)


# --- setup ---------------------------------------------------------------------------------------------------------
def run_export(run_id: int) -> dict[str, Any]:
    """What a training run's metadata store exports: a status, three metrics, two params."""
    accuracy = Decimal(500_000 + (run_id * 7919) % 500_000) / Decimal(1_000_000)  # 0.5 .. 1.0, six decimals
    return {
        "run": {"id": run_id, "status": "success"},
        "metrics": [
            {"key": "accuracy", "value": accuracy, "step": 0},
            {"key": "loss", "value": Decimal(1) - accuracy, "step": 0},
            {"key": "epochs", "value": 10 + run_id % 5, "step": 0},
        ],
        "params": {"learning_rate": 0.001, "batch_size": 64},
    }


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def anchor_runs(registry: RunRegistryClient, manifests: list[RunManifest], ipfs: EmbeddedBlockstore
                ) -> list[AnchorRecord]:
    """Store each manifest, anchor them all, and return each run's anchor record (from the anchoring receipts)."""
    pid = pipeline_id(PIPELINE)
    # unpinned: the blockstore rewrites its pin list on every pinned add, quadratic over 10,000 documents
    requests = [
        AnchorRequest(pid, m.run_id, m.root, str(ipfs.add_bytes(m.to_bytes(), cid_version=1, pin=False).cid))
        for m in manifests
    ]
    pending = [(batch, registry.send_anchor_runs(batch)) for batch in _chunks(requests, ANCHORS_PER_TX)]
    records = []
    for batch, tx in pending:
        outcome = registry.outcome(tx.wait(600))
        records += [AnchorRecord(pid, r.run_id, r.merkle_root, r.manifest_cid, outcome.block_number, outcome.tx_hash,
                                 timestamp=0) for r in batch]
    return records


def seed_chain(chain: Devnet, models: int, ipfs: EmbeddedBlockstore) -> dict[str, Any]:
    client = ChainClient(chain.rpc_url)
    # thousands of transactions in flight on a busy machine wait longer than the 3 s automining counts as stuck
    sender = TxSender(client, LocalSigner.from_key(chain.accounts[0].private_key), max_batch=512, stuck_timeout=300)
    admin = sender.signer.address
    started = time.perf_counter()
    try:
        registry = sender.deploy("RunRegistry", admin, admin)
        nft = sender.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, registry.address)
        sender.transact(nft, "grantRole", nft.call("MINTER_ROLE"), admin)
        manifests = [RunManifest.from_export(PIPELINE, run_id, run_export(run_id)) for run_id in range(1, models + 1)]
        records = anchor_runs(RunRegistryClient(client, registry.address, sender), manifests, ipfs)
        anchored = time.perf_counter()
        for batch in _chunks(list(zip(manifests, records, strict=True)), MINTS_IN_FLIGHT):
            pending = []
            for manifest, record in batch:
                run = VerifiedRun(PIPELINE, manifest.run_id, record, manifest)
                document = build_model_metadata(run, ModelMetadataOptions(f"{PIPELINE}-model-{manifest.run_id}"))
                cid = str(ipfs.add_bytes(metadata_bytes(document), cid_version=1, pin=False).cid)
                pending.append(sender.send(nft, "mint", admin, f"ipfs://{cid}", record.pipeline_id, record.run_id,
                                           record.merkle_root, record.manifest_cid, gas=400_000))
            for tx in pending:
                tx.wait(1800)
    finally:
        sender.close()
    elapsed = time.perf_counter() - started
    return {"run_registry": registry.address, "nft": nft.address, "owner": admin, "models": models,
            "seconds": round(elapsed, 2), "anchoring_seconds": round(anchored - started, 2),
            "mints_per_s": round(models / (elapsed - (anchored - started)), 1), "head_block": client.block_number()}


def make_indexer(rpc_url: str, seeded: dict[str, Any], database_url: str, batch_blocks: int) -> Indexer:
    # headroom over the default 30 s: an anvil holding 10,000 models on a busy machine answers some batches slowly
    addresses = {"ModelNFT": seeded["nft"], "RunRegistry": seeded["run_registry"]}
    gateway = ChainGateway(ChainClient(rpc_url, timeout=300), addresses)
    return Indexer(create_index_engine(database_url), gateway.event_reader(), chain_id=gateway.chain_id,
                   nft=gateway.model_nft(), batch_blocks=batch_blocks)


def timed_catch_up(indexer: Indexer, max_blocks: int | None = None) -> dict[str, Any]:
    started = time.perf_counter()
    events = 0
    while (result := indexer.sync_once()) is not None:
        events += result.events
        if max_blocks is not None and result.last_block >= max_blocks:
            break
    elapsed = time.perf_counter() - started
    return {"events": events, "seconds": round(elapsed, 3), "events_per_s": round(events / elapsed, 1)}


# --- sections ------------------------------------------------------------------------------------------------------
def fetch_all(fetcher: MetadataFetcher) -> float:
    started = time.perf_counter()
    while fetcher.fetch_once(limit=500):
        continue  # until nothing is left to fetch
    return round(time.perf_counter() - started, 3)


def bench_indexer(chain: Devnet, seeded: dict[str, Any], workdir: Path, ipfs: EmbeddedBlockstore,
                  postgres_url: str) -> dict[str, Any]:
    batched_url = f"sqlite:///{workdir / 'index.db'}"
    batched = timed_catch_up(make_indexer(chain.rpc_url, seeded, batched_url, 2000))
    naive_blocks = min(seeded["head_block"], 1500)
    naive = timed_catch_up(make_indexer(chain.rpc_url, seeded, f"sqlite:///{workdir / 'naive.db'}", 1),
                           max_blocks=naive_blocks)
    result: dict[str, Any] = {
        "batched_sqlite": batched,
        "block_at_a_time_sqlite": {**naive, "blocks": naive_blocks},
        "speedup_vs_block_at_a_time": round(batched["events_per_s"] / max(naive["events_per_s"], 1e-9), 2),
        "metadata_fetch_seconds": fetch_all(MetadataFetcher(create_index_engine(batched_url), ipfs)),
    }
    pg_indexer = make_indexer(chain.rpc_url, seeded, postgres_url, 2000)
    result["batched_postgres"] = timed_catch_up(pg_indexer)
    result["metadata_fetch_seconds_postgres"] = fetch_all(MetadataFetcher(pg_indexer.engine, ipfs))
    pg_indexer.engine.dispose()
    # What autovacuum does within a minute of a bulk load (the test server runs with autovacuum off; PostgreSQL >= 13
    # also vacuums insert-only tables): without statistics the planner guesses, and without the visibility map every
    # index-only scan reads the table rows too — plans and costs no running deployment would have.
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return result


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A scratch PostgreSQL database (a copy of ``template`` when given; dropped afterwards); yields its URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _client(port: int, paths: list[str], deadline: float, latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = 0
    try:
        while time.perf_counter() < deadline:
            path = paths[i % len(paths)]
            i += 1
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            await writer.drain()
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(str(status))
    finally:
        writer.close()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """What one server answered in one scenario (summed over turns)."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    server_cpu: float = 0.0


async def _load(server: Served, paths: list[str], clients: int, seconds: float, sample: Sample) -> None:
    """``clients`` closed-loop clients for ``seconds`` (after a 1 s warm-up), added to ``sample``."""
    warm: list[float] = []
    await asyncio.gather(*(_client(server.port, paths, time.perf_counter() + 1.0, warm, []) for _ in range(clients)))
    cpu = cpu_seconds(server.pid)
    started = time.perf_counter()
    await asyncio.gather(
        *(_client(server.port, paths, started + seconds, sample.latencies, sample.errors) for _ in range(clients))
    )
    sample.elapsed += time.perf_counter() - started
    sample.server_cpu += cpu_seconds(server.pid) - cpu


def _summary(sample: Sample) -> dict[str, Any]:
    ordered = sorted(sample.latencies)
    return {
        "requests": len(ordered),
        "errors": len(sample.errors),
        "requests_per_s": round(len(ordered) / sample.elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        # CPU the API process spent per request: what a request costs, whatever else the machine is doing
        "server_cpu_ms_per_request": round(sample.server_cpu / len(ordered) * 1000, 3),
    }


@dataclass(frozen=True)
class Served:
    port: int
    pid: int


@contextmanager
def api_server(database_url: str, cache_seconds: float, source: Path | None = None) -> Iterator[Served]:
    """``anacostia-chain serve`` on ``database_url`` (rate limit off, no indexer); yields its port and process id.
    ``source``: run the package found in that tree instead of this one (the baseline of a comparison)."""
    port = free_port()
    env = {**os.environ, "ANACOSTIA_RATE_LIMIT": "0:1", "ANACOSTIA_CHAIN_ID": "31337",
           "ANACOSTIA_RESPONSE_CACHE_SECONDS": str(cache_seconds)}
    cwd = None
    if source is not None:  # ``python -m`` puts the working directory first on sys.path: run from the source tree
        cwd, env["PYTHONPATH"] = source.resolve(), str(source.resolve())
        served = subprocess.run([sys.executable, "-c", "import anacostia_blockchain as p; print(p.__file__)"],
                                env=env, cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()
        if not Path(served).resolve().is_relative_to(cwd):
            raise RuntimeError(f"--baseline-src {source} would serve {served}, not its own package")
    server = subprocess.Popen(
        [sys.executable, "-m", "anacostia_blockchain.cli.main", "serve", "--port", str(port), "--db", database_url,
         "--no-indexer"],
        env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    server.kill()
                    detail = server.stderr.read().decode(errors="replace") if server.stderr else ""
                    raise RuntimeError(f"the API server did not start: {detail[-2000:]}") from None
                time.sleep(0.1)
        yield Served(port, server.pid)
    finally:
        server.terminate()
        server.wait(15)


def scenarios(owner: str) -> dict[str, list[str]]:
    """Every list query of the API, each over pages 1..50, and ``/status``."""
    pages = range(1, 51)
    return {
        "models_newest": [f"/models?page={p}&page_size=20" for p in pages],
        "models_token_id": [f"/models?sort=token_id&page={p}" for p in pages],
        "models_metric_filter": [f"/models?metric=accuracy&min_metric=0.6&sort=metric_desc&page={p}" for p in pages],
        "models_owner_oldest": [f"/models?owner={owner}&sort=oldest&page={p}" for p in pages],
        "runs_newest": [f"/runs?page={p}" for p in pages],
        "status": ["/status"],
    }


def bench_api(servers: dict[str, Served], paths: dict[str, list[str]], clients: int, seconds: float,
              rounds: int = 2) -> dict[str, dict[str, Any]]:
    """Every scenario against every server, interleaved: ``rounds`` turns of ``seconds / rounds`` each, the server
    order reversed every round, so drifting load on a shared machine affects all servers alike."""
    samples = {(name, label): Sample() for name in paths for label in servers}
    for name, scenario in paths.items():
        for turn in range(rounds):
            order = list(servers) if turn % 2 == 0 else list(reversed(servers))
            for label in order:
                asyncio.run(_load(servers[label], scenario, clients, seconds / rounds, samples[(name, label)]))
    return {label: {name: _summary(samples[(name, label)]) for name in paths} for label in servers}


def copy_sqlite(database: Path, copy: Path) -> str:
    """A copy of an SQLite index (its WAL checkpointed first), as a URL: the baseline gets an index of its own."""
    import sqlite3

    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(database, copy)
    return f"sqlite:///{copy}"


def side_by_side(measured: dict[str, dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per scenario, the uncached p99 of the baseline and of this tree on each database, next to each other."""
    columns = {"sqlite_baseline": "baseline_uncached", "sqlite": "uncached",
               "postgres_baseline": "baseline_uncached_postgres", "postgres": "uncached_postgres"}
    return {name: {column: measured[label][name]["p99_ms"] for column, label in columns.items()}
            for name in measured["uncached"]}


def meets_target(measured: dict[str, dict[str, Any]], label: str) -> dict[str, bool]:
    return {name: result["p99_ms"] <= TARGET_P99_MS for name, result in measured[label].items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--baseline-src", type=Path, help="also serve the indexes with the package found in this tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Devnet() as chain, postgres_database() as postgres_url:
        workdir = Path(tmp)
        ipfs = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
        seeded = seed_chain(chain, args.models, ipfs)
        indexer = bench_indexer(chain, seeded, workdir, ipfs, postgres_url)
        database = f"sqlite:///{workdir / 'index.db'}"
        with ExitStack() as stack:
            copies = {}
            if args.baseline_src is not None:  # copied before any server holds a connection to the originals
                copies["baseline_uncached"] = copy_sqlite(workdir / "index.db", workdir / "baseline.db")
                copies["baseline_uncached_postgres"] = stack.enter_context(
                    postgres_database(template=postgres_url.rsplit("/", 1)[1]))
            servers = {
                "uncached": stack.enter_context(api_server(database, cache_seconds=0.0)),
                "uncached_postgres": stack.enter_context(api_server(postgres_url, cache_seconds=0.0)),
                "with_response_cache": stack.enter_context(api_server(database, cache_seconds=2.0)),
            }
            for label, url in copies.items():
                servers[label] = stack.enter_context(api_server(url, cache_seconds=0.0, source=args.baseline_src))
            load_before = [round(x, 2) for x in os.getloadavg()]
            measured = bench_api(servers, scenarios(seeded["owner"]), args.clients, args.seconds)
        api: dict[str, Any] = {
            "clients": args.clients,
            "seconds_per_scenario": args.seconds,
            "load_average_1_5_15_before": load_before,
            "target_p99_ms": TARGET_P99_MS,
            "meets_target": {label: meets_target(measured, label) for label in ("uncached", "uncached_postgres")},
            "p99_ms": {label: {name: r["p99_ms"] for name, r in result.items()} for label, result in measured.items()},
            "server_cpu_ms_per_request": {label: {name: r["server_cpu_ms_per_request"] for name, r in result.items()}
                                          for label, result in measured.items()},
            **measured,
        }
        if args.baseline_src is not None:
            api["baseline_src"] = str(args.baseline_src)
            api["p99_ms_side_by_side"] = side_by_side(measured)
    print(json.dumps({
        "benchmark": "marketplace",
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],  # other work on the machine while measuring
        "setup": seeded,
        "indexer": indexer,
        "api": api,
    }, indent=2))


if __name__ == "__main__":
    main()
