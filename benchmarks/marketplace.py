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
- ``api``: ``GET /models`` served by uvicorn (one process, ``anacostia-chain serve`` equivalent, rate limit off) on
  the 10,000-model index, hammered by ``--clients`` (50) closed-loop keep-alive HTTP/1.1 clients for
  ``--seconds``: p50/p99 latency and requests/s, for the default listing (``newest``) and for a metric filter +
  sort (``metric_desc``) rotating over pages 1..50. Target: p99 <= 50 ms. Measured with the response cache (the
  default, ``with_response_cache``) and with it disabled (``baseline_no_cache``: every request runs its SQL);
  ``/status`` (uncached, a few COUNT queries) shows what one round through the server stack costs under this load.

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
from pathlib import Path
from typing import Any

import psycopg

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.chain.devnet import free_port
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.service.app import create_index_engine
from anacostia_blockchain.service.chain_gateway import ChainGateway
from anacostia_blockchain.service.indexer import Indexer
from anacostia_blockchain.service.metadata_fetcher import MetadataFetcher

ZERO = "0x" + "00" * 20
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
    return {"nft": nft.address, "models": models, "seconds": round(elapsed, 2),
            "mints_per_s": round(models / elapsed, 1), "head_block": client.block_number()}


def make_indexer(rpc_url: str, nft: str, database_url: str, batch_blocks: int) -> Indexer:
    gateway = ChainGateway(ChainClient(rpc_url), {"ModelNFT": nft})
    return Indexer(create_index_engine(database_url), gateway.event_reader(), chain_id=gateway.chain_id,
                   nft=gateway.contract("ModelNFT"), batch_blocks=batch_blocks)


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
def bench_indexer(chain: Devnet, seeded: dict[str, Any], workdir: Path, ipfs: EmbeddedBlockstore) -> dict[str, Any]:
    batched_url = f"sqlite:///{workdir / 'index.db'}"
    batched = timed_catch_up(make_indexer(chain.rpc_url, seeded["nft"], batched_url, 2000))
    naive_blocks = min(seeded["head_block"], 1500)
    naive = timed_catch_up(make_indexer(chain.rpc_url, seeded["nft"], f"sqlite:///{workdir / 'naive.db'}", 1),
                           max_blocks=naive_blocks)
    fetch_started = time.perf_counter()
    fetcher = MetadataFetcher(create_index_engine(batched_url), ipfs)
    while fetcher.fetch_once(limit=500):
        pass
    result: dict[str, Any] = {
        "batched_sqlite": batched,
        "block_at_a_time_sqlite": {**naive, "blocks": naive_blocks},
        "speedup_vs_block_at_a_time": round(batched["events_per_s"] / max(naive["events_per_s"], 1e-9), 2),
        "metadata_fetch_seconds": round(time.perf_counter() - fetch_started, 3),
    }
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        pg_indexer = make_indexer(chain.rpc_url, seeded["nft"], f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
                                  2000)
        result["batched_postgres"] = timed_catch_up(pg_indexer)
        pg_indexer.engine.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return result


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


async def _load(port: int, paths: list[str], clients: int, seconds: float) -> dict[str, Any]:
    warm: list[float] = []
    await asyncio.gather(*(_client(port, paths, time.perf_counter() + 1.0, warm, []) for _ in range(clients)))
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_client(port, paths, started + seconds, latencies, errors) for _ in range(clients)))
    elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "errors": len(errors),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def bench_api(database_url: str, clients: int, seconds: float, cache_seconds: float) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "ANACOSTIA_RATE_LIMIT": "0:1", "ANACOSTIA_CHAIN_ID": "31337",
           "ANACOSTIA_RESPONSE_CACHE_SECONDS": str(cache_seconds)}
    server = subprocess.Popen(
        [sys.executable, "-m", "anacostia_blockchain.cli.main", "serve", "--port", str(port), "--db", database_url,
         "--no-indexer"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
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
        pages = [f"/models?page={p}&page_size=20" for p in range(1, 51)]
        metric = [f"/models?metric=accuracy&min_metric=0.6&sort=metric_desc&page={p}" for p in range(1, 51)]
        result = {
            "models_newest": asyncio.run(_load(port, pages, clients, seconds)),
            "models_metric_filter": asyncio.run(_load(port, metric, clients, seconds)),
        }
        if cache_seconds > 0:
            result["status_endpoint_uncached"] = asyncio.run(_load(port, ["/status"], clients, seconds))
        return result
    finally:
        server.terminate()
        server.wait(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Devnet() as chain:
        workdir = Path(tmp)
        ipfs = EmbeddedBlockstore(workdir / "ipfs", fsync=False)
        seeded = seed_chain(chain, args.models, args.documents, ipfs)
        indexer = bench_indexer(chain, seeded, workdir, ipfs)
        database = f"sqlite:///{workdir / 'index.db'}"
        api = {
            "clients": args.clients,
            "seconds_per_scenario": args.seconds,
            "target_p99_ms": 50,
            "with_response_cache": bench_api(database, args.clients, args.seconds, cache_seconds=2.0),
            "baseline_no_cache": bench_api(database, args.clients, args.seconds, cache_seconds=0.0),
        }
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
