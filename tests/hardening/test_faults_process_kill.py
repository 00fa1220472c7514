"""The pipeline *process* SIGKILLed in the middle of a run, then restarted on the same database.

A real subprocess (``fault_pipeline_child.py``) runs a watched folder -> ``Train`` -> ``Web3StorageNode`` pipeline on
a ``BlockchainMetadataStore`` (SQLite file). Before the kill both outboxes are made to hold undelivered entries: the
signer has no ``ANCHOR_ROLE`` yet (every anchor reverts and is retried) and the Storacha emulator answers 503. The
process is killed while an action is executing. The test then reads the database with plain ``sqlite3`` (no library
code that could "repair" it), fixes both causes, restarts the process and checks:

- the interrupted run is ``aborted``, its input went back to ``new`` and was consumed by exactly one later,
  successful run; no run is lost or duplicated;
- both outboxes resumed at once (claims the dead process held are taken back, not waited out): every run
  (including the aborted one) is anchored exactly once (``RunAnchored`` events per run id), every model is uploaded
  exactly once (one shard per root in the emulator, one confirmed entry per root).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_emulators import TEST_SPACE, StorachaEmulator

from anacostia_blockchain.chain.contracts.merkle import pipeline_id
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner

pytestmark = pytest.mark.slow

CHILD = Path(__file__).resolve().parent / "fault_pipeline_child.py"
PIPELINE = "hardening-process-kill"  # fault_pipeline_child.PIPELINE


def wait_until(condition: Callable[[], bool], timeout: float, what: str,
               describe: Callable[[], str] = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{describe()}")
        time.sleep(0.05)


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute(sql, args).fetchall()


def drop(folder: Path, name: str) -> None:
    tmp = folder / f".incoming-{name}"
    tmp.write_text(f"rows of {name}\n")
    tmp.rename(folder / name)


class Child:
    def __init__(self, workdir: Path, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / "child.log"

    def start(self, *, hang: bool) -> None:
        (self.workdir / "launched").unlink(missing_ok=True)
        env = {**self.env, "FAULT_HANG": "1" if hang else "0"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([sys.executable, str(CHILD), str(self.workdir)], env=env,
                                            stdout=log, stderr=subprocess.STDOUT)
        wait_until(lambda: (self.workdir / "launched").exists() or self.process.poll() is not None, 60,
                   "the pipeline process to launch")
        assert self.process.poll() is None, self.log.read_text()[-3000:]

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def ensure_dead(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Devnet]:
    with Devnet() as devnet:
        yield devnet


def test_pipeline_process_sigkilled_mid_run_resumes_without_loss_or_duplicates(tmp_path: Path, chain: Devnet) -> None:
    admin, worker = chain.accounts[0], chain.accounts[1]
    client = ChainClient(chain.rpc_url, expected_chain_id=chain.chain_id)
    with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
        registry_address = deployer.deploy("RunRegistry", admin.address, admin.address).address
    storacha = StorachaEmulator(space_did=TEST_SPACE, auth_secret="bridge-secret", authorization="bridge-ucan")
    storacha.start()
    workdir = tmp_path / "pipeline"
    (workdir / "incoming").mkdir(parents=True)
    db = workdir / "metadata.db"
    env = {
        **os.environ,
        "ANACOSTIA_PRIVATE_KEY": worker.private_key,  # worker: ANCHOR_ROLE is granted only after the kill
        "FAULT_RPC_URL": chain.rpc_url,
        "FAULT_REGISTRY": registry_address,
        "STORACHA_SPACE_DID": TEST_SPACE,
        "STORACHA_AUTH_SECRET": "bridge-secret",
        "STORACHA_AUTHORIZATION": "bridge-ucan",
        "STORACHA_BRIDGE_URL": storacha.url,
    }
    child = Child(workdir, env)
    try:
        storacha.unavailable["bridge"] = 10**6  # uploads pile up in the outbox
        child.start(hang=True)
        for i in range(3):
            drop(workdir / "incoming", f"batch-{i}.csv")
            wait_until(lambda i=i: query(db, "SELECT count(*) FROM runs WHERE status='success'")[0][0] > i, 60,
                       f"run {i + 1}")
        drop(workdir / "incoming", "hang-3.csv")
        wait_until(lambda: (workdir / "hanging-run").exists(), 60, "the hanging run to start")
        hanging_run = int((workdir / "hanging-run").read_text())
        wait_until(lambda: query(db, "SELECT count(*) FROM anacostia_outbox WHERE kind='run-anchor' AND attempts>0")
                   [0][0] >= 1, 30, "a failed anchor attempt (no ANCHOR_ROLE yet)")
        child.kill()

        # --- what the dead process left behind --------------------------------------------------------------------
        assert query(db, "SELECT status FROM runs WHERE id=?", hanging_run) == [("running",)]
        assert query(db, "SELECT state FROM artifacts WHERE location='hang-3.csv'") == [("current",)]
        left = Counter(query(db, "SELECT kind, status FROM anacostia_outbox"))
        assert left[("run-anchor", "confirmed")] == 0 and sum(n for (k, _), n in left.items() if k == "run-anchor") >= 3
        uploads_left = sum(n for (k, s), n in left.items() if k == "web3storage:models" and s != "confirmed")
        assert uploads_left >= 4, left  # 3 finished runs + the model the hanging run saved before blocking
        assert storacha.shards == {}
        # A delivering worker holds a claim (a 2-minute lease) for most of each attempt, so a kill usually leaves
        # some entries claimed; make sure every undelivered entry is, as the dead process would have left it.
        with sqlite3.connect(db, timeout=30) as conn:
            conn.execute("UPDATE anacostia_outbox SET status='claimed', lease_until=?, claimed_by='dead-process' "
                         "WHERE status='pending'", (time.time() + 120,))

        # --- fix both causes and restart on the same database -------------------------------------------------
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as granter:
            RunRegistryClient(client, registry_address, granter).grant_anchorer(worker.address)
        storacha.unavailable["bridge"] = 0
        child.start(hang=False)

        def settled() -> bool:
            pending = query(db, "SELECT count(*) FROM anacostia_outbox WHERE status!='confirmed'")[0][0]
            running = query(db, "SELECT count(*) FROM runs WHERE status='running'")[0][0]
            unconsumed = query(db, "SELECT count(*) FROM artifacts WHERE resource='data' AND state!='old'")[0][0]
            return pending == 0 and running == 0 and unconsumed == 0

        def describe() -> str:
            return "\n".join([
                f"runs: {query(db, 'SELECT id, status FROM runs')}",
                f"outbox: {query(db, 'SELECT kind, key, status, attempts, last_error FROM anacostia_outbox')}",
                f"inputs: {query(db, 'SELECT location, state, attempts FROM artifacts WHERE resource=?', 'data')}",
                "child log:\n" + child.log.read_text()[-4000:],
            ])

        # well within the dead process's 120 s leases: claims it held are taken back at start-up, not waited out
        wait_until(settled, 60, "every run ended and both outboxes delivered after the restart", describe)
        assert child.stop() == 0, child.log.read_text()[-3000:]
    finally:
        child.ensure_dead()
        storacha.stop()

    # --- the runs: the interrupted one aborted, its input re-run exactly once -----------------------------------
    runs = dict(query(db, "SELECT id, status FROM runs ORDER BY id"))
    assert runs[hanging_run] == "aborted"
    assert list(runs) == list(range(1, len(runs) + 1))
    assert [r for r, s in runs.items() if s not in ("success", "aborted")] == []
    consumed = query(
        db,
        "SELECT a.location, l.run_id, r.status FROM lineage l JOIN artifacts a ON a.id = l.artifact_id "
        "JOIN runs r ON r.id = l.run_id WHERE l.relation='consumed' AND a.resource='data'",
    )
    successful = Counter(location for location, _, status in consumed if status == "success")
    assert successful == Counter({f"batch-{i}.csv": 1 for i in range(3)} | {"hang-3.csv": 1})
    rerun = [run for location, run, status in consumed if location == "hang-3.csv" and status == "success"]
    assert rerun[0] > hanging_run
    assert query(db, "SELECT state, attempts FROM artifacts WHERE location='hang-3.csv'") == [("old", 0)]

    # --- anchors: one RunAnchored event per run id, aborted run included ----------------------------------------
    registry = RunRegistryClient(client, registry_address)
    events = registry.contract.events("RunAnchored", pipelineId=pipeline_id(PIPELINE))
    assert Counter(int(e.args["runId"]) for e in events) == Counter({run: 1 for run in runs})
    roots = dict(query(db, "SELECT id, hash FROM runs"))
    assert {int(e.args["runId"]): e.args["merkleRoot"] for e in events} == roots

    # --- uploads: each model root stored once; the re-run's identical model did not upload twice ----------------
    models = query(db, "SELECT DISTINCT cid FROM artifacts WHERE resource='models'")
    confirmed = query(db, "SELECT key FROM anacostia_outbox WHERE kind='web3storage:models' AND status='confirmed'")
    assert sorted(k for (k,) in confirmed) == sorted(c for (c,) in models)
    assert len(models) == 4  # 3 models + the hang-3 model (saved by the aborted run and again by its re-run)
    assert set(storacha.uploads) == {c for (c,) in models}
    assert storacha.puts == len(storacha.shards) == 4
