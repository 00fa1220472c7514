"""Chain benchmarks, printed as one JSON document; each section measures against its baseline in the same run.

Sections are named and independent (``--section NAME`` runs one, repeatable; default: all). Each section is a function
``(args) -> dict`` registered in :data:`SECTIONS`; the anchoring-gas section registers next to ``txsender``.

    .venv/bin/python benchmarks/chain.py --section txsender --writes 1600

``txsender``: contract writes mined per second on a fresh anvil (automine), all of the same write —
``RunRegistry.anchorRun`` with distinct run ids — measured three ways in the same run:

Each measurement runs on its own new anvil (anvil slows down as its chain grows, so sharing one chain would favour
whatever runs first); ceiling and txsender alternate ``--repeats`` times and the best of each is compared, so that
load from other processes on the machine hits both sides alike (all runs are listed).

- ``ceiling``: anvil's own limit. Every transaction is signed before the clock starts and sent as JSON-RPC batches
  of ``--batch`` raw transactions; the clock stops when the last one is mined. Nothing client-side is left to do.
- ``txsender``: 16 threads share one :class:`TxSender` (one account); each thread queues its writes with ``send`` and
  then waits for all its receipts. Encoding, gas, fees, nonces, signing, submission and receipts are all inside
  the clock. ``txsender_transact_loop`` is the same with each thread calling ``transact`` (send + wait) one write
  at a time, i.e. latency-bound.
- ``naive_web3``: web3.py ``build_transaction`` + sign + ``send_raw_transaction`` + ``wait_for_transaction_receipt``
  per write, one thread (the reference point from the issue).

``ratio_vs_ceiling`` is txsender / ceiling (target >= 0.70).

``--compare-tree PATH`` also runs the same sections of another checkout (e.g. the tree before a change) in a
subprocess, right before this tree's, and adds its JSON as ``compare_tree`` — before/after measured in one run on
the same machine load. For ``anchoring`` the two latency lines are put side by side under ``anchoring_latency``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from eth_utils import keccak

from anacostia_blockchain.chain import ChainClient, Contract, Devnet, LocalSigner, TxSender

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chain_anchoring import bench_anchoring  # a sibling module of this script

CID = "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"


def _anchor_args(pipeline: bytes, run_id: int) -> tuple[bytes, int, bytes, str]:
    return (pipeline, run_id, keccak(pipeline + run_id.to_bytes(8, "big")), CID)


def _registry(chain: Devnet) -> tuple[ChainClient, Contract]:
    client = ChainClient(chain.rpc_url)
    admin = LocalSigner.from_key(chain.accounts[0].private_key)
    with TxSender(client, admin) as sender:
        registry = sender.deploy("RunRegistry", admin.address, admin.address)
        for account in chain.accounts[1:]:
            sender.transact(registry, "grantRole", keccak(text="ANCHOR_ROLE"), account.address)
    return client, registry


def _wait_mined(client: ChainClient, address: str, nonce_target: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while client.nonce(address, "latest") < nonce_target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} did not reach nonce {nonce_target}")
        time.sleep(0.001)


def measure_ceiling(client: ChainClient, registry: Contract, key: str, writes: int, batch: int) -> dict[str, Any]:
    signer = LocalSigner.from_key(key)
    pipeline = keccak(text="ceiling")
    nonce = client.nonce(signer.address)
    gas_probe = TxSender(client, signer)
    fees = gas_probe.fees.current()
    gas = gas_probe.estimate_gas(registry.address, registry.encode("anchorRun", *_anchor_args(pipeline, 10**9)))
    gas_probe.close()
    raws = []
    for i in range(writes):
        tx = {
            "type": 2, "chainId": client.chain_id, "nonce": nonce + i, "to": registry.address, "value": 0,
            "gas": gas, "maxFeePerGas": fees.max_fee_per_gas, "maxPriorityFeePerGas": fees.max_priority_fee_per_gas,
            "data": registry.encode("anchorRun", *_anchor_args(pipeline, i + 1)),
        }  # fmt: skip
        raws.append("0x" + signer.sign_transaction(tx).raw.hex())
    start = time.perf_counter()
    for offset in range(0, writes, batch):
        replies = client.rpc_batch([("eth_sendRawTransaction", [raw]) for raw in raws[offset : offset + batch]])
        failures = [r for r in replies if isinstance(r, Exception)]
        if failures:
            raise RuntimeError(f"ceiling batch rejected: {failures[0]}")
    _wait_mined(client, signer.address, nonce + writes)
    elapsed = time.perf_counter() - start
    return {"writes": writes, "batch": batch, "seconds": round(elapsed, 3), "writes_per_s": round(writes / elapsed, 1)}


def measure_txsender(
    client: ChainClient, registry: Contract, key: str, writes: int, threads: int, pipelined: bool
) -> dict[str, Any]:
    signer = LocalSigner.from_key(key)
    pipeline = keccak(text=f"txsender-{pipelined}")
    per_thread = writes // threads
    errors: list[BaseException] = []
    with TxSender(client, signer) as sender:
        sender.transact(registry, "anchorRun", *_anchor_args(pipeline, 10**9))  # warm: gas shape, fees, nonce
        barrier = threading.Barrier(threads + 1)

        def worker(index: int) -> None:
            barrier.wait()
            try:
                ids = range(index * per_thread + 1, (index + 1) * per_thread + 1)
                if pipelined:
                    pendings = [sender.send(registry, "anchorRun", *_anchor_args(pipeline, i)) for i in ids]
                    receipts = [p.wait(300) for p in pendings]
                else:
                    receipts = [sender.transact(registry, "anchorRun", *_anchor_args(pipeline, i)) for i in ids]
                if not all(r.status == 1 for r in receipts):
                    raise RuntimeError("a write failed")
            except BaseException as exc:  # reported in the JSON
                errors.append(exc)

        workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in workers:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in workers:
            thread.join()
        elapsed = time.perf_counter() - start
        stats = dict(sender.stats)
    total = per_thread * threads
    return {
        "writes": total,
        "threads": threads,
        "seconds": round(elapsed, 3),
        "writes_per_s": round(total / elapsed, 1),
        "errors": [repr(e) for e in errors[:3]],
        "gas_estimates": stats["estimates"],
        "nonce_repairs": stats["repairs"],
    }


def measure_naive_web3(client: ChainClient, registry: Contract, key: str, writes: int) -> dict[str, Any]:
    # The reference the issue asks for: plain web3.py, as a user without TxSender would write it.
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(client.rpc_url))
    account = w3.eth.account.from_key(key)
    contract = w3.eth.contract(address=registry.address, abi=registry.abi)
    pipeline = keccak(text="naive")
    start = time.perf_counter()
    for i in range(1, writes + 1):
        tx = contract.functions.anchorRun(*_anchor_args(pipeline, i)).build_transaction(
            {"from": account.address, "nonce": w3.eth.get_transaction_count(account.address)}
        )
        signed = account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        w3.eth.wait_for_transaction_receipt(tx_hash)
    elapsed = time.perf_counter() - start
    return {"writes": writes, "seconds": round(elapsed, 3), "writes_per_s": round(writes / elapsed, 1)}


def _on_fresh_chain(measure: Callable[[ChainClient, Contract, str], dict[str, Any]]) -> dict[str, Any]:
    """Run one measurement on its own new anvil: every measurement starts from the same chain length and state."""
    with Devnet(accounts=2) as chain:
        client, registry = _registry(chain)
        return measure(client, registry, chain.accounts[1].private_key)


def bench_txsender(args: argparse.Namespace) -> dict[str, Any]:
    ceilings: list[dict[str, Any]] = []
    senders: list[dict[str, Any]] = []
    for _ in range(args.repeats):  # alternate, so that load changes on the machine hit both sides alike
        ceilings.append(_on_fresh_chain(lambda c, r, k: measure_ceiling(c, r, k, args.writes, args.batch)))
        senders.append(
            _on_fresh_chain(lambda c, r, k: measure_txsender(c, r, k, args.writes, args.threads, pipelined=True))
        )
    ceiling = max(ceilings, key=lambda m: m["writes_per_s"])
    pipelined = max(senders, key=lambda m: m["writes_per_s"])
    loop = _on_fresh_chain(lambda c, r, k: measure_txsender(c, r, k, args.writes // 2, args.threads, pipelined=False))
    naive = _on_fresh_chain(lambda c, r, k: measure_naive_web3(c, r, k, args.naive_writes))
    ratio = pipelined["writes_per_s"] / ceiling["writes_per_s"]
    return {
        "write": "RunRegistry.anchorRun",
        "repeats": args.repeats,
        "ceiling_batched_raw": {**ceiling, "all_writes_per_s": [m["writes_per_s"] for m in ceilings]},
        "txsender": {**pipelined, "all_writes_per_s": [m["writes_per_s"] for m in senders]},
        "txsender_transact_loop": loop,
        "naive_web3": naive,
        "ratio_vs_ceiling": round(ratio, 3),
        "target_ratio": 0.70,
        "meets_target": ratio >= 0.70,
        "speedup_vs_naive": round(pipelined["writes_per_s"] / naive["writes_per_s"], 1),
    }


#: Options passed on to the other tree's benchmark by ``--compare-tree`` (its script takes the same ones).
FORWARDED = ("writes", "threads", "batch", "naive_writes", "repeats", "anchor_runs", "anchor_interval")


def run_other_tree(tree: str, sections: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """The JSON of ``tree``'s own ``benchmarks/chain.py`` for ``sections`` (same options, its own package)."""
    command = [sys.executable, os.path.join(tree, "benchmarks", "chain.py")]
    for name in sections:
        command += ["--section", name]
    for option in FORWARDED:
        command += ["--" + option.replace("_", "-"), str(getattr(args, option))]
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the benchmark of {tree} failed:\n{done.stderr[-2000:]}")
    return {"tree": os.path.abspath(tree), **json.loads(done.stdout)}


#: Every section, by name. Add a section by writing ``bench_<name>(args) -> dict`` and registering it here.
SECTIONS: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
    "txsender": bench_txsender,
    "anchoring": bench_anchoring,  # benchmarks/chain_anchoring.py
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--section", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--writes", type=int, default=1600, help="writes per txsender/ceiling measurement")
    parser.add_argument("--threads", type=int, default=16, help="sender threads (default 16)")
    parser.add_argument("--batch", type=int, default=200, help="raw transactions per JSON-RPC batch (ceiling)")
    parser.add_argument("--naive-writes", type=int, default=100, help="writes for the naive web3.py reference")
    parser.add_argument("--repeats", type=int, default=3, help="ceiling/txsender pairs, best of each (default 3)")
    parser.add_argument("--anchor-runs", type=int, default=100, help="runs for the anchoring latency measurement")
    parser.add_argument("--anchor-interval", type=float, default=0.05, help="seconds between run ends (latency)")
    parser.add_argument("--compare-tree", metavar="PATH",
                        help="also run these sections of the checkout at PATH (before this tree's) and compare")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
    }
    sections = args.section or list(SECTIONS)
    if args.compare_tree:
        results["compare_tree"] = run_other_tree(args.compare_tree, sections, args)
    for name in sections:
        results[name] = SECTIONS[name](args)
    if args.compare_tree and "anchoring" in sections:
        results["anchoring_latency"] = {
            "compare_tree": results["compare_tree"]["anchoring"]["latency"]["run_end_to_anchor_mined_s"],
            "this_tree": results["anchoring"]["latency"]["run_end_to_anchor_mined_s"],
        }
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
