"""An anchor the RPC node accepted into its mempool, then lost when the node was killed, is sent again.

Deterministic version of the worst moment of :func:`fault_scenarios.run_chain_outage`: mining is switched off, the
store's sender broadcasts anchors (the node accepts them: ``sent``, tx hashes recorded, no receipt), the node is
SIGKILLed and restarted from its persisted chain, which never saw those transactions. The sender must notice (no
receipt, nonce behind the node's count) and anchor each run exactly once — not trust its own "sent".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fault_scenarios import kill_rpc_node, restart_rpc_node

from anacostia_blockchain.chain.contracts.merkle import pipeline_id
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.engine import RunStatus, executing
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff

pytestmark = pytest.mark.slow

PIPELINE = "hardening-lost-mempool"


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def produce_run(store: BlockchainMetadataStore, value: float) -> int:
    run_id = store.runs.begin_run("manual", [])
    with executing(run_id, "train"):
        store.log_metrics(accuracy=value)
    store.runs.end_run(run_id, RunStatus.SUCCESS)
    store.on_run_end(run_id, RunStatus.SUCCESS)
    return run_id


def test_anchors_lost_with_the_nodes_mempool_are_sent_again_exactly_once(tmp_path: Path) -> None:
    devnet = Devnet(state_path=tmp_path / "anvil-state.json").start()
    try:
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            registry_address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        store = BlockchainMetadataStore(
            "metadata", f"sqlite:///{tmp_path / 'metadata.db'}", signer=LocalSigner.from_key(admin.private_key),
            rpc_url=devnet.rpc_url, registry_address=registry_address, pipeline=PIPELINE,
            backoff=Backoff(base=0.1, factor=2.0, cap=0.5), receipt_timeout=2.0,
            tx_options={"submit_timeout": 1.0, "poll_interval": 0.05, "stuck_timeout": 2.0},
        )
        store.open_store()
        store.on_start()
        try:
            first = produce_run(store, 0.5)
            wait_until(lambda: store.anchor_status(first).status == "confirmed", 30, "the first anchor")  # type: ignore[union-attr]

            devnet.rpc("evm_setAutomine", [False])
            lost = [produce_run(store, 0.6), produce_run(store, 0.7)]
            wait_until(lambda: int(devnet.rpc("txpool_status")["pending"], 16) >= 1, 30, "anchors in the mempool")
            pool = devnet.rpc("txpool_content")["pending"]
            in_mempool = {tx["hash"] for per_sender in pool.values() for tx in per_sender.values()}
            kill_rpc_node(devnet, devnet.state_path)  # type: ignore[arg-type]
            time.sleep(1.5)  # down long enough for the sender's submit/receipt timeouts to fire
            restart_rpc_node(devnet)
            assert int(devnet.rpc("txpool_status")["pending"], 16) == 0  # the restarted node never saw them
            assert all(devnet.rpc("eth_getTransactionByHash", [tx]) is None for tx in in_mempool)

            later = produce_run(store, 0.8)
            runs = [first, *lost, later]
            wait_until(lambda: all(store.anchor_status(r).status == "confirmed" for r in runs), 60,  # type: ignore[union-attr]
                       "every anchor confirmed after the restart")
        finally:
            store.on_stop()
            store.close_store()

        registry = RunRegistryClient(ChainClient(devnet.rpc_url), registry_address)
        events = registry.contract.events("RunAnchored", pipelineId=pipeline_id(PIPELINE))
        assert Counter(int(e.args["runId"]) for e in events) == Counter({r: 1 for r in runs})
        for run_id in runs:
            assert registry.run_root(pipeline_id(PIPELINE), run_id) is not None
    finally:
        devnet.stop()
