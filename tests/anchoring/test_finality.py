"""Anchor finality on a real anvil: a rolled back anchor is anchored again exactly once; a final one costs nothing.

Rollbacks are real chain operations: ``evm_snapshot``/``evm_revert`` (a node restored from older state) and
``anvil_reorg`` (a reorg that replaces the newest blocks, optionally re-including transactions).
"""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from anacostia_blockchain.anchoring.finality import CHAIN_CONFIRMATIONS, DEVNET_CONFIRMATIONS, AnchorEntry
from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import RunRegistryClient, merkle
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.cli.main import main
from anacostia_blockchain.errors import ConfigurationError
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Outbox

from .conftest import RegistryEnv
from .store_helpers import PIPELINE, make_store, produce_run

PIPELINE_ID = merkle.pipeline_id(PIPELINE)
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def open_stores(registry_env: RegistryEnv, tmp_path: Path) -> Iterator[Callable[..., BlockchainMetadataStore]]:
    made: list[BlockchainMetadataStore] = []

    def build(**options: object) -> BlockchainMetadataStore:
        options.setdefault("recheck_interval", 0.05)
        store = make_store(
            tmp_path / f"metadata-{len(made)}.db",
            registry_env.devnet.accounts[0].private_key,
            registry_env.registry.address,
            client=registry_env.client,
            **options,
        )
        made.append(store)
        return store

    try:
        yield build
    finally:
        for store in made:
            store.on_stop()
            store.close_store()


def status(store: BlockchainMetadataStore, run_id: int) -> AnchorEntry:
    entry = store.anchor_status(run_id)
    assert entry is not None
    return entry


def anchored_events(env: RegistryEnv, run_id: int) -> int:
    """RunAnchored events of the run on the canonical chain (what a rollback removes, what a resend adds)."""
    return len(env.registry.contract.events("RunAnchored", pipelineId=PIPELINE_ID, runId=run_id))


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def test_an_anchor_rolled_back_by_a_state_revert_is_anchored_again_exactly_once(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    devnet = registry_env.devnet
    store = open_stores(confirmations=3)
    before_anchor = devnet.snapshot()
    run_id = produce_run(store, 5)
    assert store.flush_anchors(timeout=30)
    first = status(store, run_id)
    assert first.status == "confirmed" and not first.final
    assert first.finality == "confirmed (1 confirmation)" and first.required_confirmations == 3
    assert first.result is not None and first.result["blockHash"].startswith("0x")
    report = store.verify_run(run_id)
    assert report.verdict == "verified" and report.finality == "confirmed (1 confirmation)" and not report.final

    assert devnet.revert(before_anchor)  # the node comes back from a state without the anchor
    devnet.mine(2)  # ... and mines on
    assert registry_env.registry.run_root(PIPELINE_ID, run_id) is None
    assert store.anchoring.check_finality() == 1
    reopened = status(store, run_id)
    assert reopened.status == "pending" and reopened.attempts == 1
    assert reopened.last_error is not None and reopened.last_error.startswith("RolledBack:")

    assert store.flush_anchors(timeout=30)
    again = status(store, run_id)
    assert again.status == "confirmed" and again.result is not None
    assert again.result["blockHash"] != first.result["blockHash"]  # (same nonce and fees: maybe the same tx hash)
    assert "alreadyAnchored" not in again.result  # really sent again, not found on chain
    assert anchored_events(registry_env, run_id) == 1
    assert store.verify_run(run_id).verdict == "verified"

    devnet.mine(2)  # the anchor's block is now 3 deep
    assert store.anchoring.check_finality() == 1
    final = status(store, run_id)
    assert final.final and final.finality == "final"
    assert store.verify_run(run_id).finality == "final"
    assert store.anchoring.outbox.unfinalized("run-anchor") == []
    assert anchored_events(registry_env, run_id) == 1


@pytest.mark.anvil_only
def test_the_background_sender_reanchors_after_an_anvil_reorg(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    devnet = registry_env.devnet
    store = open_stores(confirmations=4)
    store.on_start()
    runs = [produce_run(store, 3, seed=i) for i in range(3)]
    wait_until(lambda: all(status(store, r).status == "confirmed" for r in runs), 30, "the anchors")
    blocks = {status(store, r).result["block"] for r in runs}  # type: ignore[index]
    depth = devnet.block_number() - min(blocks) + 1
    devnet.rpc("anvil_reorg", [depth, []])  # replace every block holding one of the anchors with empty blocks
    wait_until(
        lambda: all(
            (s := status(store, r)).status == "confirmed" and s.attempts >= 1 and s.result["block"] >= min(blocks)  # type: ignore[index]
            for r in runs
        ),
        30,
        "the anchors to be re-sent after the reorg",
    )
    for run_id in runs:
        assert anchored_events(registry_env, run_id) == 1
        assert registry_env.registry.run_root(PIPELINE_ID, run_id) is not None
        assert store.verify_run(run_id).verdict == "verified"
    devnet.mine(4)
    wait_until(lambda: all(status(store, r).final for r in runs), 30, "finality")
    assert all(anchored_events(registry_env, r) == 1 for r in runs)


@pytest.mark.anvil_only
def test_a_reorg_that_reincludes_the_anchor_transaction_is_relocated_without_a_new_transaction(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    devnet = registry_env.devnet
    store = open_stores(confirmations=5)
    run_id = produce_run(store, 4)
    assert store.flush_anchors(timeout=30)
    first = status(store, run_id).result
    assert first is not None
    raw = devnet.rpc("eth_getRawTransactionByHash", [first["txHash"]])
    devnet.rpc("anvil_reorg", [1, [[raw, 0]]])  # the same signed transaction, in a new block 1 deep
    assert registry_env.registry.run_root(PIPELINE_ID, run_id) is not None
    sent_before = store.anchoring.sender.registry.sender.stats["sent"]  # type: ignore[union-attr]

    assert store.anchoring.check_finality() == 1
    reopened = status(store, run_id)  # reopened: the background delivery may relocate it at once
    assert reopened.status == "pending" or (
        reopened.result is not None and reopened.result["blockHash"] != first["blockHash"]
    ), reopened
    assert store.flush_anchors(timeout=30)
    moved = status(store, run_id)
    assert moved.status == "confirmed" and moved.result is not None and moved.result["alreadyAnchored"] is True
    assert moved.result["txHash"] == first["txHash"] and moved.result["blockHash"] != first["blockHash"]
    assert store.anchoring.sender.registry.sender.stats["sent"] == sent_before  # type: ignore[union-attr]
    assert anchored_events(registry_env, run_id) == 1


def test_a_final_anchor_is_never_rechecked_and_an_unchanged_head_costs_one_read(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    devnet = registry_env.devnet
    store = open_stores(confirmations=2)
    before = devnet.snapshot()
    run_id = produce_run(store, 3)
    assert store.flush_anchors(timeout=30)
    stats = store.anchoring.sender.finality.stats
    assert store.anchoring.check_finality() == 1 and stats["batches"] == 1  # 1 confirmation: still watched
    assert store.anchoring.check_finality() == 1 and stats["batches"] == 1 and stats["headReads"] == 2  # head unchanged
    last = store.anchoring.sender.last_recheck
    assert last is not None and last.skipped_unchanged_head

    devnet.mine(1)
    assert store.anchoring.check_finality() == 1 and stats["batches"] == 2
    assert status(store, run_id).finality == "final" and stats["finalized"] == 1
    checked = dict(stats)
    for _ in range(3):
        assert store.anchoring.check_finality() == 0
    assert stats == checked  # nothing read from the chain for a final anchor

    # A rollback deeper than `confirmations` is, by definition, not seen: the final entry is not reopened.
    assert devnet.revert(before)
    assert store.anchoring.check_finality() == 0 and status(store, run_id).final
    assert stats == checked


def test_the_background_thread_finalizes_while_otherwise_idle(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    store = open_stores(confirmations=3)
    store.on_start()
    run_id = produce_run(store, 2)
    wait_until(lambda: status(store, run_id).status == "confirmed", 30, "the anchor")
    assert not status(store, run_id).final
    registry_env.devnet.mine(2)  # nothing is enqueued: only the recheck timer can notice
    wait_until(lambda: status(store, run_id).final, 10, "the idle sender to finalize the anchor")


@pytest.mark.parametrize("confirmations", [0, 1])
def test_zero_or_one_confirmation_is_final_on_the_receipt(
    open_stores: Callable[..., BlockchainMetadataStore], confirmations: int
) -> None:
    store = open_stores(confirmations=confirmations)
    run_id = produce_run(store, 1)
    assert store.flush_anchors(timeout=30)
    assert status(store, run_id).finality == "final"
    assert store.anchoring.outbox.unfinalized("run-anchor") == []
    assert store.anchoring.check_finality() == 0


def test_the_default_depth_depends_on_whether_the_node_automines(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv
) -> None:
    store = open_stores()
    assert store.anchoring.sender.finality.required == DEVNET_CONFIRMATIONS
    registry_env.devnet.set_automine(False)  # miner_stop on Ganache
    try:
        interval_mined = open_stores()
        assert interval_mined.anchoring.sender.finality.required == CHAIN_CONFIRMATIONS
    finally:
        registry_env.devnet.set_automine(True)
    with pytest.raises(ConfigurationError, match="confirmations"):
        open_stores(confirmations=-1)


def test_outbox_reopen_and_finality_transitions(tmp_path: Path) -> None:
    outbox = Outbox(create_engine(f"sqlite:///{tmp_path / 'outbox.db'}"))
    watched = outbox.enqueue("k", "watched", {"n": 1})
    done = outbox.enqueue("k", "done", {"n": 2})
    for entry in outbox.claim("k"):
        outbox.mark_confirmed(entry.id, {"block": 1}, final=entry.key == "done")
    assert [e.key for e in outbox.unfinalized("k")] == ["watched"]
    assert not outbox.reopen(done.id, "RolledBack: test")  # final: never reopened
    assert outbox.reopen(watched.id, "RolledBack: test")
    again = outbox.get("k", "watched")
    assert again is not None and again.status == "pending" and again.attempts == 1 and not again.final
    assert not outbox.reopen(watched.id, "twice")  # only confirmed entries can be reopened
    assert [e.key for e in outbox.claim("k")] == ["watched"]
    outbox.mark_confirmed(watched.id, {"block": 2}, final=False)
    assert outbox.mark_final([watched.id, done.id]) == 1  # the final one is left alone
    assert outbox.unfinalized("k") == []


OLD_OUTBOX_COLUMNS = (
    "kind VARCHAR(64) NOT NULL, key VARCHAR(255) NOT NULL, payload TEXT NOT NULL, status VARCHAR(16) NOT NULL, "
    "attempts INTEGER NOT NULL, next_attempt_at FLOAT NOT NULL, lease_until FLOAT, claimed_by VARCHAR(32), "
    "last_error TEXT, result TEXT, created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL, UNIQUE (kind, key)"
)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_an_outbox_table_from_before_finality_is_upgraded_and_its_confirmed_rows_count_as_final(
    tmp_path: Path, backend: str
) -> None:
    table = f"old_outbox_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
        id_column = "id INTEGER PRIMARY KEY AUTOINCREMENT"
    else:
        engine = create_engine(POSTGRES_URL)
        id_column = "id SERIAL PRIMARY KEY"
    try:
        with engine.begin() as conn:  # the table as the previous release created it
            conn.execute(text(f"CREATE TABLE {table} ({id_column}, {OLD_OUTBOX_COLUMNS})"))
            conn.execute(text(
                f"INSERT INTO {table} (kind, key, payload, status, attempts, next_attempt_at, created_at, updated_at) "
                "VALUES ('run-anchor', 'a', '{}', 'confirmed', 0, 1, 1, 5), "
                "('run-anchor', 'b', '{}', 'pending', 0, 1, 1, 1)"
            ))
        outbox = Outbox(engine, table_name=table)
        old = outbox.get("run-anchor", "a")
        assert old is not None and old.final and old.final_at == 5
        pending = outbox.get("run-anchor", "b")
        assert pending is not None and not pending.final
        assert outbox.unfinalized("run-anchor") == []
        Outbox(engine, table_name=table)  # a second start finds the column and changes nothing
        assert outbox.get("run-anchor", "a") == old
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def test_the_verify_cli_reports_confirmations_then_final(
    open_stores: Callable[..., BlockchainMetadataStore], registry_env: RegistryEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    store = open_stores()  # the default depth on this automining devnet: 2
    run_id = produce_run(store, 3)
    assert store.flush_anchors(timeout=30)
    args = [
        "verify", str(run_id), "--db", store.runs.url, "--pipeline", PIPELINE, "--rpc-url", registry_env.devnet.rpc_url,
        "--registry", registry_env.registry.address,
    ]
    assert main(args) == 0
    assert capsys.readouterr().out.rstrip().endswith(", confirmed (1 confirmation)")
    registry_env.devnet.mine(1)
    assert main([*args, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["verdict"] == "verified" and result["finality"] == "final" and result["confirmations"] == 2


@pytest.mark.anvil_only
@pytest.mark.slow
def test_anchors_lost_when_the_rpc_node_is_restored_from_older_state_are_anchored_again(tmp_path: Path) -> None:
    """The node is SIGKILLed and restarted from a dump taken before two anchors were mined, while the store's
    background sender runs: their blocks are gone, the sender notices and anchors each run again, exactly once."""
    devnet = Devnet(state_path=tmp_path / "anvil-state.json").start()
    try:
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        store = make_store(
            tmp_path / "metadata.db", admin.private_key, address, rpc_url=devnet.rpc_url, confirmations=3,
            recheck_interval=0.05, tx_options={"submit_timeout": 1.0, "poll_interval": 0.05, "stuck_timeout": 2.0},
        )
        store.on_start()
        try:
            first = produce_run(store, 2)
            wait_until(lambda: status(store, first).status == "confirmed", 30, "the first anchor")
            older = str(devnet.rpc("anvil_dumpState"))
            (tmp_path / "anvil-state.json").write_bytes(gzip.decompress(bytes.fromhex(older.removeprefix("0x"))))
            lost = [produce_run(store, 2, seed=1), produce_run(store, 2, seed=2)]
            wait_until(lambda: all(status(store, r).status == "confirmed" for r in lost), 30, "the later anchors")
            devnet.kill()
            devnet.restart()  # from the older dump: the later anchors' blocks never happened
            later = produce_run(store, 2, seed=3)
            runs = [first, *lost, later]
            wait_until(
                lambda: all(status(store, r).status == "confirmed" for r in runs)
                and all(status(store, r).attempts >= 1 for r in lost),
                60,
                "every anchor confirmed on the restored chain",
            )
        finally:
            store.on_stop()
            store.close_store()
        registry = RunRegistryClient(ChainClient(devnet.rpc_url), address)
        for run_id in runs:
            assert len(registry.contract.events("RunAnchored", pipelineId=PIPELINE_ID, runId=run_id)) == 1
            assert registry.run_root(PIPELINE_ID, run_id) is not None
    finally:
        devnet.stop()
