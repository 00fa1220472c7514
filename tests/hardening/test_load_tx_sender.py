"""16 threads x 100 transactions from one account through one ``TxSender``: no nonce error, every one mined once.

Every transaction is a real ``RunRegistry.anchorRun`` with its own run id, so the chain itself says whether each
one executed exactly once (one ``RunAnchored`` event per run id, no revert) — not only that some transaction with
that nonce was mined.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from anacostia_blockchain.chain.contracts.merkle import pipeline_id
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.errors import NonceError

pytestmark = pytest.mark.slow

THREADS = 16
PER_THREAD = 100
PIPELINE = pipeline_id("hardening-load")


def root_for(run_id: int) -> bytes:
    return run_id.to_bytes(32, "big")


@pytest.fixture
def own_chain() -> Iterator[Devnet]:
    """A node of its own: the session's shared anvil carries every earlier test's state and blocks, and anvil's
    automine can stall on a burst of this size there (a 256-transaction batch then waits past the client timeout)."""
    with Devnet() as chain:
        yield chain


def test_sixteen_threads_share_one_account_without_nonce_errors(own_chain: Devnet) -> None:
    fresh_chain = own_chain
    admin = fresh_chain.accounts[0]
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    signer = LocalSigner.from_key(admin.private_key)
    with TxSender(client, signer) as sender:
        registry = sender.deploy("RunRegistry", admin.address, admin.address)
        start_nonce = int(client.rpc("eth_getTransactionCount", [admin.address, "pending"]), 16)
        start_block = client.block_number()
        pending: list[list[Any]] = [[] for _ in range(THREADS)]
        errors: list[BaseException] = []
        barrier = threading.Barrier(THREADS)

        def worker(index: int) -> None:
            try:
                barrier.wait()  # all threads start sending at the same moment
                for i in range(PER_THREAD):
                    run_id = 1 + index * PER_THREAD + i
                    pending[index].append(
                        sender.send(registry, "anchorRun", PIPELINE, run_id, root_for(run_id), f"bafy-run-{run_id}")
                    )
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,), name=f"load-{n}") for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert errors == []
        sent = [tx for per_thread in pending for tx in per_thread]
        assert len(sent) == THREADS * PER_THREAD
        receipts = [tx.wait(timeout=120) for tx in sent]  # raises NonceError / the revert / a timeout if any
        stats = dict(sender.stats)

    assert not any(isinstance(e, NonceError) for e in errors)
    assert all(receipt.status == 1 for receipt in receipts)
    assert sorted(tx.nonce for tx in sent) == list(range(start_nonce, start_nonce + THREADS * PER_THREAD))
    assert len({receipt.transactionHash for receipt in receipts}) == len(receipts)
    assert int(client.rpc("eth_getTransactionCount", [admin.address, "latest"]), 16) == start_nonce + len(sent)
    # no nonce gap had to be filled or repaired (re-signing for a base fee that rose under the burst is fine)
    assert stats["fillers"] == 0 and stats["nonce_repairs"] == 0

    events = registry.events("RunAnchored", from_block=start_block + 1, pipelineId=PIPELINE)
    per_run = Counter(int(event.args["runId"]) for event in events)
    assert per_run == Counter({run_id: 1 for run_id in range(1, THREADS * PER_THREAD + 1)})
    assert all(event.args["merkleRoot"] == "0x" + root_for(int(event.args["runId"])).hex() for event in events)
