"""Active/standby processes of one anchored pipeline: the active one is SIGKILLed mid-run, the standby takes over.

A real anvil with a deployed ``RunRegistry``, a SQLite file or a PostgreSQL schema, two real processes. After the
kill the standby recovers the killed run (``aborted``, its input back to ``new``), processes that input in a run of
its own, and anchors every ended run — the killed one included — exactly once: nothing lost, nothing twice.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from anacostia_blockchain.anchoring import ANCHOR_KIND
from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import RunRegistryClient, pipeline_id
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.metadata import RunStore
from anacostia_blockchain.outbox import Outbox

from .processes import PipelineProcess, drop, start, wait_for

pytestmark = pytest.mark.slow
PIPELINE = "takeover-pipeline"
TTL = 3.0


def ended_with(process: PipelineProcess, name: str) -> bool:
    return any(name in record["inputs"] for record in process.events("end"))


def test_a_standby_takes_over_after_sigkill_without_losing_or_duplicating_a_run_or_an_anchor(
    tmp_path: Path, db_url: str, fresh_chain: Devnet
) -> None:
    admin = fresh_chain.accounts[0]
    client = ChainClient(fresh_chain.rpc_url, expected_chain_id=fresh_chain.chain_id)
    sender = TxSender(client, LocalSigner.from_key(admin.private_key))
    registry = RunRegistryClient(client, sender.deploy("RunRegistry", admin.address, admin.address).address, sender)
    folder, journal = tmp_path / "data", tmp_path / "journal.jsonl"
    folder.mkdir()
    options = {"db": db_url, "pipeline": PIPELINE, "folder": folder, "journal": journal, "work": 2.0,
               "lease_ttl": TTL, "anchor": (fresh_chain.rpc_url, registry.address),
               "env": {"ANCHOR_KEY": admin.private_key}}
    active = start(tmp_path, "active", **options)  # type: ignore[arg-type]
    standby = None
    try:
        wait_for(lambda: active.events("active"), 90, "the active process to launch", check=[active])
        standby = start(tmp_path, "standby", standby=True, **options)  # type: ignore[arg-type]
        wait_for(lambda: "waiting as its standby" in standby.output(), 90, "the standby to wait", check=[standby])
        drop(folder, "first.csv", "1\n")
        wait_for(lambda: ended_with(active, "first.csv"), 90, "the first run", check=[active])
        drop(folder, "second.csv", "2\n")
        wait_for(lambda: any("second.csv" in r["inputs"] for r in active.events("start")), 90,
                 "the second run to start", check=[active])
        active.kill()  # mid-run: its run stays `running`, its lease stays in the table until it expires
        killed_run = next(r["run"] for r in active.events("start") if "second.csv" in r["inputs"])
        wait_for(lambda: standby.events("active"), 90, "the standby to take over", check=[standby])
        wait_for(lambda: ended_with(standby, "second.csv"), 90, "the standby to process the input", check=[standby])
        drop(folder, "third.csv", "3\n")
        wait_for(lambda: ended_with(standby, "third.csv"), 90, "the third run", check=[standby])
        store = RunStore(db_url, pipeline=PIPELINE)
        try:
            runs = {int(run["id"]): run for run in store.get_runs()}
            wait_for(lambda: all_anchored(store, runs, registry), 120, "every run to be anchored", check=[standby])
            assert runs[killed_run]["status"] == "aborted" and "interrupted" in runs[killed_run]["error"]
            successes = [run_id for run_id, run in runs.items() if run["status"] == "success"]
            inputs = Counter(a.location for run_id in successes for a in store.run_artifacts(run_id)["consumed"])
            assert inputs == {"first.csv": 1, "second.csv": 1, "third.csv": 1}
            assert set(runs) == {*successes, killed_run}
            events = Counter(int(log.args["runId"]) for log in
                             registry.contract.events("RunAnchored", pipelineId=pipeline_id(PIPELINE)))
            assert events == {run_id: 1 for run_id in runs}  # every run anchored, none twice
        finally:
            store.close()
        assert standby.stop() == 0
    finally:
        active.kill()
        if standby is not None:
            standby.kill()
        sender.close()


def all_anchored(store: RunStore, runs: dict[int, dict[str, object]], registry: RunRegistryClient) -> bool:
    """Every run has a confirmed anchor entry whose root is on chain and equals the run's recorded hash."""
    outbox = Outbox(store.engine)
    entries = [entry for entry in outbox.entries(ANCHOR_KIND) if entry.status == "confirmed"]
    confirmed = {int(entry.payload["runId"]) for entry in entries}
    if confirmed != set(runs):
        return False
    recorded = {int(run["id"]): run["hash"] for run in store.get_runs()}
    roots = {run_id: registry.run_root(pipeline_id(PIPELINE), run_id) for run_id in runs}
    return all(root is not None and "0x" + root.hex() == recorded[run_id] for run_id, root in roots.items())
