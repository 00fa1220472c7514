"""Marketplace benchmarks, printed as one JSON document; each number is measured next to its baseline in the same run.

Setup (timed and reported, not a goal): a fresh anvil (automine) with a ModelNFT and ``--models`` (default 10,000)
minted models — three events each (Transfer, MetadataUpdate, ModelMinted), one mint per block as a pipeline minting
as it goes would produce — sent through :class:`TxSender`. Token URIs point at ``--documents`` distinct metadata JSON
documents in an embedded IPFS blockstore, each with an ``accuracy`` metric.

Sections:

- ``indexer``: catch-up throughput (events/s) of :class:`Indexer` over the whole chain into a fresh SQLite index,
  ``batch_blocks=2000`` (``batched``), against the same indexer reading one block per step (``block_at_a_time``, what a
  naive poller does) over the first 1,500 blocks of the same chain. PostgreSQL is measured too
  (``batched_postgres``).
- ``api``: ``GET /models`` served by uvicorn (one process each, ``anacostia-chain serve`` equivalent, rate limit off)
  on the 10,000-model index, hammered by ``--clients`` (50) closed-loop keep-alive HTTP/1.1 clients: p50/p99 latency
  and requests/s for the default listing (``newest``), a metric filter + sort (``metric_desc``) and one owner's models
  (``owner=…&sort=oldest``), each rotating over pages 1..50, and ``/status`` (a few COUNTs: one round through the
  server stack). Target: p99 <= 50 ms **without the response cache** (``uncached``: every request runs its SQL —
  pages a dApp does not request again within the cache TTL never hit it). Measured side by side, interleaved per
  scenario (two turns of ``--seconds / 2``, the order reversed in the second) so a shared machine's drifting load hits
  all alike: ``uncached``, ``with_response_cache``, ``uncached_postgres`` (the PostgreSQL index) and, with
  ``--baseline-src DIR``, ``uncached_baseline_src``: the same SQLite index served by the package found in ``DIR``
  (e.g. an earlier commit: ``git archive <commit> anacostia_blockchain | tar -x -C DIR``).

    .venv/bin/python benchmarks/marketplace.py --models 10000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service import free_port
from anacostia_blockchain.service.chain_gateway import ChainGateway
from anacostia_blockchain.service.index import Indexer, MetadataFetcher, create_index_engine

ZERO = "0x" + "00" * 20
TARGET_P99_MS = 50
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


# --- setup ---------------------------------------------------------------------------------------------------------
def seed_chain(chain: Devnet, models: int, documents: int, ipfs: EmbeddedBlockstore) -> dict[str, Any]:
    client = ChainClient(chain.rpc_url)
    sender = TxSender(client, LocalSigner.from_key(chain.accounts[0].private_key), max_batch=512)
    admin = sender.signer.address
    nft = sender.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, ZERO)
    sender.transact(nft, "grantRole", nft.call("MINTER_ROLE"), admin)
    cids = []
    for i in range(documents):
        doc = {"name": f"model-family-{i}", "metrics": {"accuracy": round(0.5 + i / (2 * documents), 6)}}
        cids.append(str(ipfs.add_bytes(json.dumps(doc).encode(), cid_version=1).cid))
    started = time.perf_counter()
    try:
        pending = [
            sender.send(nft, "mint", admin, f"ipfs://{cids[i % documents]}", (i % 251 + 1).to_bytes(32, "big"), i,
                        (i + 1).to_bytes(32, "big"), "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy",
                        gas=400_000)
            for i in range(models)
        ]
        for tx in pending:
            tx.wait(600)
    finally:
        sender.close()
    elapsed = time.perf_counter() - started
    return {"nft": nft.address, "owner": admin, "models": models, "seconds": round(elapsed, 2),
            "mints_per_s": round(models / elapsed, 1), "head_block": client.block_number()}


def make_indexer(rpc_url: str, nft: str, database_url: str, batch_blocks: int) -> Indexer:
    gateway = ChainGateway(ChainClient(rpc_url), {"ModelNFT": nft})
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
def bench_indexer(chain: Devnet, seeded: dict[str, Any], workdir: Path, ipfs: EmbeddedBlockstore,
                  postgres_url: str) -> dict[str, Any]:
    batched_url = f"sqlite:///{workdir / 'index.db'}"
    batched = timed_catch_up(make_indexer(chain.rpc_url, seeded["nft"], batched_url, 2000))
    naive_blocks = min(seeded["head_block"], 1500)
    naive = timed_catch_up(make_indexer(chain.rpc_url, seeded["nft"], f"sqlite:///{workdir / 'naive.db'}", 1),
                           max_blocks=naive_blocks)
    fetch_started = time.perf_counter()
    fetcher = MetadataFetcher(create_index_engine(batched_url), ipfs)
    while fetcher.fetch_once(limit=500):
        continue  # until nothing is left to fetch
    result: dict[str, Any] = {
        "batched_sqlite": batched,
        "block_at_a_time_sqlite": {**naive, "blocks": naive_blocks},
        "speedup_vs_block_at_a_time": round(batched["events_per_s"] / max(naive["events_per_s"], 1e-9), 2),
        "metadata_fetch_seconds": round(time.perf_counter() - fetch_started, 3),
    }
    pg_indexer = make_indexer(chain.rpc_url, seeded["nft"], postgres_url, 2000)
    result["batched_postgres"] = timed_catch_up(pg_indexer)
    pg_fetcher = MetadataFetcher(pg_indexer.engine, ipfs)
    while pg_fetcher.fetch_once(limit=500):
        continue  # until nothing is left to fetch
    pg_indexer.engine.dispose()
    return result


@contextmanager
def postgres_database() -> Iterator[str]:
    """A scratch PostgreSQL database (dropped afterwards); yields its SQLAlchemy URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
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


async def _load(port: int, paths: list[str], clients: int, seconds: float) -> tuple[list[float], list[str], float]:
    """``clients`` closed-loop clients for ``seconds`` (after a 1 s warm-up): latencies, error statuses, elapsed."""
    warm: list[float] = []
    await asyncio.gather(*(_client(port, paths, time.perf_counter() + 1.0, warm, []) for _ in range(clients)))
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, paths, started + seconds, latencies, errors) for _ in range(clients)))
    return latencies, errors, time.perf_counter() - started


def _summary(latencies: list[float], errors: list[str], elapsed: float) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


@contextmanager
def api_server(database_url: str, cache_seconds: float, source: Path | None = None) -> Iterator[int]:
    """``anacostia-chain serve`` on ``database_url`` (rate limit off, no indexer); yields its port. ``source``: run
    the package found in that tree instead of this one (the baseline of a comparison)."""
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
        yield port
    finally:
        server.terminate()
        server.wait(15)


def scenarios(owner: str) -> dict[str, list[str]]:
    pages = range(1, 51)
    return {
        "models_newest": [f"/models?page={p}&page_size=20" for p in pages],
        "models_metric_filter": [f"/models?metric=accuracy&min_metric=0.6&sort=metric_desc&page={p}" for p in pages],
        "models_owner_oldest": [f"/models?owner={owner}&sort=oldest&page={p}" for p in pages],
        "status_endpoint": ["/status"],  # a few COUNT queries: one round through the server stack
    }


def bench_api(servers: dict[str, int], paths: dict[str, list[str]], clients: int, seconds: float,
              rounds: int = 2) -> dict[str, dict[str, Any]]:
    """Every scenario against every server, interleaved: ``rounds`` turns of ``seconds / rounds`` each, the server
    order reversed every round, so drifting load on a shared machine affects all servers alike."""
    samples = {(name, label): ([], [], 0.0) for name in paths for label in servers}
    for name, scenario in paths.items():
        for turn in range(rounds):
            order = list(servers) if turn % 2 == 0 else list(reversed(servers))
            for label in order:
                latencies, errors, elapsed = asyncio.run(_load(servers[label], scenario, clients, seconds / rounds))
                seen = samples[(name, label)]
                samples[(name, label)] = (seen[0] + latencies, seen[1] + errors, seen[2] + elapsed)
    return {label: {name: _summary(*samples[(name, label)]) for name in paths} for label in servers}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--baseline-src", type=Path, help="also serve the index with the package found in this tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Devnet() as chain, postgres_database() as postgres_url:
        workdir = Path(tmp)
        ipfs = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
        seeded = seed_chain(chain, args.models, args.documents, ipfs)
        indexer = bench_indexer(chain, seeded, workdir, ipfs, postgres_url)
        database = f"sqlite:///{workdir / 'index.db'}"
        with ExitStack() as stack:
            servers = {
                "uncached": stack.enter_context(api_server(database, cache_seconds=0.0)),
                "with_response_cache": stack.enter_context(api_server(database, cache_seconds=2.0)),
                "uncached_postgres": stack.enter_context(api_server(postgres_url, cache_seconds=0.0)),
            }
            if args.baseline_src is not None:
                servers["uncached_baseline_src"] = stack.enter_context(
                    api_server(database, cache_seconds=0.0, source=args.baseline_src)
                )
            measured = bench_api(servers, scenarios(seeded["owner"]), args.clients, args.seconds)
        api: dict[str, Any] = {
            "clients": args.clients,
            "seconds_per_scenario": args.seconds,
            "target_p99_ms": TARGET_P99_MS,
            "uncached_meets_target": {
                name: result["p99_ms"] <= TARGET_P99_MS
                for name, result in measured["uncached"].items()
                if name.startswith("models")
            },
            **measured,
        }
        if args.baseline_src is not None:
            api["baseline_src"] = str(args.baseline_src)
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
