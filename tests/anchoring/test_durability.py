"""Outages and restarts: every run is anchored exactly once, none is lost (real anvil stopped and restarted)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import AnchorRequest, RunRegistryClient, pipeline_id
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.errors import AnchorConflictError
from anacostia_blockchain.metadata import BlockchainMetadataStore

from .conftest import RegistryEnv
from .store_helpers import PIPELINE, make_store, produce_run

pytestmark = pytest.mark.slow


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def all_confirmed(store: BlockchainMetadataStore, runs: list[int]) -> bool:
    return all((entry := store.anchor_status(r)) is not None and entry.status == "confirmed" for r in runs)


def anchored_events_per_run(registry: RunRegistryClient) -> Counter[int]:
    pid = pipeline_id(PIPELINE)
    return Counter(int(log.args["runId"]) for log in registry.contract.events("RunAnchored", pipelineId=pid))


@pytest.fixture
def own_devnet(tmp_path: Path) -> Iterator[Devnet]:
    devnet = Devnet(state_path=tmp_path / "anvil-state.json")
    devnet.start()
    try:
        yield devnet
    finally:
        devnet.stop()


@pytest.mark.anvil_only
def test_chain_outage_mid_pipeline_every_run_is_anchored_exactly_once(own_devnet: Devnet, tmp_path: Path) -> None:
    admin = own_devnet.accounts[0]
    client = ChainClient(own_devnet.rpc_url, expected_chain_id=own_devnet.chain_id)
    with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
        address = deployer.deploy("RunRegistry", admin.address, admin.address).address
    store = make_store(
        tmp_path / "metadata.db",
        admin.private_key,
        address,
        rpc_url=own_devnet.rpc_url,
        tx_options={"submit_timeout": 1.0, "poll_interval": 0.05},
    )
    store.on_start()
    try:
        before = [produce_run(store, 20, seed=i) for i in range(3)]
        wait_until(lambda: all_confirmed(store, before), 30, "anchors before the outage")

        own_devnet.stop()  # SIGTERM: anvil dumps its state
        started = time.monotonic()
        during = [produce_run(store, 20, seed=10 + i) for i in range(5)]
        assert time.monotonic() - started < 5, "the pipeline must not wait for the chain"
        wait_until(
            lambda: all((e := store.anchor_status(r)) is not None and e.attempts >= 1 for r in during),
            30,
            "failed delivery attempts while the chain is down",
        )
        assert not all_confirmed(store, during)

        own_devnet.restart()  # same port, state loaded from the dump
        after = [produce_run(store, 20, seed=20 + i) for i in range(2)]
        runs = before + during + after
        wait_until(lambda: all_confirmed(store, runs), 60, "every anchor after the chain came back")
    finally:
        store.on_stop()

    registry = RunRegistryClient(ChainClient(own_devnet.rpc_url), address)
    assert anchored_events_per_run(registry) == Counter({r: 1 for r in runs})
    for run_id in runs:
        assert store.verify_run(run_id).verdict == "verified"
    store.close_store()


def test_process_restart_resumes_pending_anchors(registry_env: RegistryEnv, tmp_path: Path) -> None:
    key = registry_env.devnet.accounts[0].private_key
    db = tmp_path / "metadata.db"
    first = make_store(db, key, registry_env.registry.address, client=registry_env.client)
    runs = [produce_run(first, 8, seed=i) for i in range(4)]
    # the process dies: its sender never ran, one anchor was even half-delivered (claimed, then the crash)
    first.anchoring.outbox.lease_seconds = 0.5  # the dead process's claim expires quickly in this test
    first.anchoring.outbox.claim("run-anchor", limit=1)
    first.close_store()

    second = make_store(db, key, registry_env.registry.address, client=registry_env.client)
    second.on_start()
    try:
        wait_until(lambda: all_confirmed(second, runs), 30, "anchors after the restart")
    finally:
        second.on_stop()
    assert anchored_events_per_run(registry_env.registry) == Counter({r: 1 for r in runs})
    for run_id in runs:
        assert second.verify_run(run_id).verdict == "verified"
    second.close_store()


def test_a_lost_receipt_is_recognised_on_chain_and_not_sent_again(registry_env: RegistryEnv, tmp_path: Path) -> None:
    key = registry_env.devnet.accounts[0].private_key
    store = make_store(tmp_path / "m.db", key, registry_env.registry.address, client=registry_env.client)
    try:
        run_id = produce_run(store, 3)
        stored = store.anchoring.archive.load(store.anchoring.pipeline_id, run_id)
        assert stored is not None
        # the anchor landed (e.g. sent by a process that crashed before recording the receipt) ...
        (entry,) = store.anchoring.outbox.claim("run-anchor")
        registry_env.registry.anchor_run(AnchorRequest(store.anchoring.pipeline_id, run_id, stored.root, stored.cid))
        store.anchoring.outbox.mark_sent(entry.id, {"txHash": "0xlost"}, confirm_within=0)
        # ... so the sender confirms it from the chain without another transaction
        block_before = registry_env.client.block_number()
        assert store.flush_anchors(timeout=10)
        assert registry_env.client.block_number() == block_before
        entry_after = store.anchor_status(run_id)
        assert entry_after is not None and entry_after.status == "confirmed"
        assert entry_after.result is not None and entry_after.result["alreadyAnchored"] is True
    finally:
        store.on_stop()
        store.close_store()


def test_a_conflicting_root_on_chain_is_parked_not_overwritten(registry_env: RegistryEnv, tmp_path: Path) -> None:
    key = registry_env.devnet.accounts[0].private_key
    store = make_store(tmp_path / "m.db", key, registry_env.registry.address, client=registry_env.client)
    try:
        run_id = produce_run(store, 3)
        other_root = b"\x42" * 32
        registry_env.registry.anchor_run(AnchorRequest(store.anchoring.pipeline_id, run_id, other_root, "bafkreiother"))
        store.anchoring.sender.run_once()
        entry = store.anchor_status(run_id)
        assert entry is not None and entry.status == "failed"
        assert entry.last_error is not None and "AnchorConflict" in entry.last_error
        assert registry_env.registry.run_root(store.anchoring.pipeline_id, run_id) == other_root
        with pytest.raises(AnchorConflictError, match="another anchor"):
            store.verify_run(run_id)
    finally:
        store.on_stop()
        store.close_store()
