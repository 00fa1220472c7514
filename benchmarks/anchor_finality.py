"""What watching anchors for finality costs: one re-check round for W watched anchors, side by side.

On a fresh anvil with a real :class:`BlockchainMetadataStore` (SQLite file) whose anchors never become final
(``confirmations`` = 1,000, until the benchmark mines that deep), for W = 10 / 100 / 500 watched anchors:

- ``full_round_ms``: a round after the head moved — one ``eth_getBlockByNumber("latest")`` plus one batched RPC
  (the hash of every distinct anchor block and ``runRoot`` of every run) and the outbox query;
- ``idle_round_ms``: a round with an unchanged head — the head read and the outbox query only;
- ``naive_round_ms``: the same checks one RPC at a time (``runRoot`` and ``eth_getBlockByNumber`` per anchor);
- ``final_round_ms``: a round once every anchor is final (the outbox query; no RPC at all).

Also ``time_to_confirmed_ms`` p50 for 20 single runs anchored with ``confirmations=1`` (final on the receipt, no
watching) vs. the default devnet depth (watched), to show that watching adds nothing to the anchoring path.

Usage: ``python benchmarks/anchor_finality.py [--sizes 10,100,500] [--repeat 5]`` — prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from anacostia_blockchain.chain import ChainClient, Devnet, LocalSigner, TxSender
from anacostia_blockchain.engine import RunStatus
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff

DEPTH = 1_000  # confirmations of the watched stores: unreachable until the benchmark mines them on purpose


def _store(
    db: Path, key: str, client: ChainClient, address: str, pipeline: str, **options: Any
) -> BlockchainMetadataStore:
    store = BlockchainMetadataStore(
        "metadata", f"sqlite:///{db}", signer=LocalSigner.from_key(key), client=client, registry_address=address,
        pipeline=pipeline, backoff=Backoff(base=0.05, factor=2.0, cap=0.5), **options,
    )
    store.open_store()
    return store


def _end_run(store: BlockchainMetadataStore, value: float) -> int:
    run_id = store.runs.begin_run("bench", [])
    store.log_batch(metrics=[("acc", value, 0)])
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def watched_rounds(
    devnet: Devnet, client: ChainClient, address: str, workdir: Path, size: int, repeat: int
) -> dict[str, Any]:
    key = devnet.accounts[0].private_key
    store = _store(workdir / f"watch-{size}.db", key, client, address, f"finality-bench-{size}", confirmations=DEPTH)
    try:
        runs = [_end_run(store, i / (size + 1)) for i in range(size)]
        assert store.flush_anchors(timeout=120)
        full, idle, naive = [], [], []
        registry = store.anchoring.registry
        for _ in range(repeat):
            devnet.mine(1)
            started = time.perf_counter()
            assert store.anchoring.check_finality() == size
            full.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.anchoring.check_finality()
            idle.append(time.perf_counter() - started)
            started = time.perf_counter()
            for run_id in runs:
                entry = store.anchoring.outbox.get("run-anchor", f"0x{store.anchoring.pipeline_id.hex()}:{run_id}")
                assert entry is not None and entry.result is not None
                registry.run_root(store.anchoring.pipeline_id, run_id)
                client.get_block(int(entry.result["block"]))
            naive.append(time.perf_counter() - started)
        devnet.mine(DEPTH)  # every anchor is now deep enough: the next full round finalizes all
        assert store.anchoring.check_finality() == size and not store.anchoring.outbox.unfinalized("run-anchor")
        final = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert store.anchoring.check_finality() == 0
            final.append(time.perf_counter() - started)
        return {
            "watched": size,
            "full_round_ms": _ms(statistics.median(full)),
            "idle_round_ms": _ms(statistics.median(idle)),
            "naive_round_ms": _ms(statistics.median(naive)),
            "final_round_ms": _ms(statistics.median(final)),
        }
    finally:
        store.close_store()


def time_to_confirmed(client: ChainClient, key: str, address: str, db: Path, pipeline: str, **options: Any) -> float:
    store = _store(db, key, client, address, pipeline, **options)
    store.on_start()
    try:
        samples = []
        for i in range(20):
            started = time.perf_counter()
            run_id = _end_run(store, i / 100)
            while (entry := store.anchor_status(run_id)) is None or entry.status != "confirmed":
                time.sleep(0.0005)
            samples.append(time.perf_counter() - started)
        return _ms(statistics.median(samples))
    finally:
        store.on_stop()
        store.close_store()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with Devnet() as devnet, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        rounds = [
            watched_rounds(devnet, client, address, workdir, int(size), args.repeat) for size in args.sizes.split(",")
        ]
        latency = {
            "final_on_receipt": time_to_confirmed(
                client, admin.private_key, address, workdir / "l1.db", "latency-final", confirmations=1
            ),
            "watched_default_depth": time_to_confirmed(
                client, admin.private_key, address, workdir / "l2.db", "latency-watched"
            ),
        }
        print(json.dumps({"recheck_rounds": rounds, "time_to_confirmed_p50_ms": latency}, indent=2))


if __name__ == "__main__":
    main()
