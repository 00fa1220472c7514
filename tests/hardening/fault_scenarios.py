"""Fault scenarios shared by the hardening tests and ``benchmarks/soak.py``.

:func:`run_chain_outage` runs a real pipeline (watched folder -> an action logging metrics -> a
``BlockchainMetadataStore`` anchoring every run in ``RunRegistry`` on a real anvil) while a producer thread keeps
dropping files into the watched folder, kills the RPC node in the middle, keeps it down for ``outage_seconds`` and
brings it back. It returns the facts (:class:`ChainOutageReport`); the caller decides what to assert (the test) or
print (the soak benchmark).

The outage is modelled as the *RPC node process* dying while the chain itself persists: ``anvil_dumpState`` just
before ``SIGKILL`` (no graceful shutdown, no state dump by anvil itself), then a new anvil on the same port loading
that state. Mining stops just before the dump, so whatever the node accepted between the dump and the kill is lost
with it, exactly like transactions in the mempool of a crashed node — the anchoring outbox has to notice and resend
them.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from anacostia_blockchain.chain.contracts.merkle import pipeline_id
from anacostia_blockchain.chain.contracts.run_registry import RunRegistryClient
from anacostia_blockchain.chain.dev.devnet import Devnet
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode

OUTAGE_PIPELINE = "hardening-chain-outage"


class LogTraining(BaseActionNode):
    """Logs a small, run-specific set of metrics and params (what every run anchors)."""

    def __init__(self, name: str, predecessors: list[BaseNode], store: BlockchainMetadataStore) -> None:
        super().__init__(name, predecessors)
        self.store = store

    def execute(self, *args: object, **kwargs: object) -> bool:
        run_id = self.store.current_run_id or 0
        for step in range(5):
            self.store.log_metrics(step=step, loss=1.0 / (step + 1 + run_id), accuracy=0.5 + step / 20)
        self.store.log_params(run_marker=run_id)
        return True


def kill_rpc_node(devnet: Devnet, state_file: Path) -> None:
    """Save the chain with ``anvil_dumpState`` (gzip JSON, unpacked for ``--load-state``), then SIGKILL anvil.

    Mining stops first, so no block is mined between the dump and the kill that the restarted node would not have
    (a persisted chain does not lose mined blocks); transactions accepted in that window stay in the mempool, which
    is not part of the dump and dies with the process — as in a real crash.
    """
    devnet.rpc("evm_setAutomine", [False])
    dumped = str(devnet.rpc("anvil_dumpState"))
    state_file.write_bytes(gzip.decompress(bytes.fromhex(dumped.removeprefix("0x"))))
    devnet.kill()  # SIGKILL: anvil gets no chance to dump anything itself


def restart_rpc_node(devnet: Devnet) -> None:
    """Start anvil again on the same port from the state saved by :func:`kill_rpc_node` (``devnet.state_path``)."""
    devnet.restart()


def drop_file(folder: Path, name: str, text: str) -> None:
    """Write a file next to the folder's contents and rename it in (the watcher sees one complete file)."""
    tmp = folder / f".incoming-{name}"
    tmp.write_text(text)
    tmp.rename(folder / name)


@dataclass
class ChainOutageReport:
    outage_seconds: float
    runs: list[int]  # every run in the database at the end
    run_statuses: Counter[str]
    runs_during_outage: int  # runs that *finished* while the RPC node was down
    files_dropped: int
    anchored_events: Counter[int]  # RunAnchored events per run id (all blocks)
    skipped_events: int  # AnchorSkipped events (a resend met an anchored run: proof of dedupe, not an error)
    outbox_statuses: Counter[str]
    seconds_to_all_anchored_after_restart: float
    anchor_attempts: dict[int, int] = field(default_factory=dict)
    inputs_recorded: int = 0  # artifacts the watched folder recorded (one per dropped file when nothing is lost)
    inputs_consumed_once: int = 0  # of those, consumed (state old) by exactly one run


    @property
    def duplicated(self) -> list[int]:
        return sorted(run for run, count in self.anchored_events.items() if count > 1)

    @property
    def missing(self) -> list[int]:
        return sorted(run for run in self.runs if self.anchored_events.get(run, 0) == 0)

    def as_json(self) -> dict[str, object]:
        return {
            "outage_seconds": self.outage_seconds,
            "runs": len(self.runs),
            "runs_during_outage": self.runs_during_outage,
            "files_dropped": self.files_dropped,
            "run_statuses": dict(self.run_statuses),
            "anchored_exactly_once": sum(1 for run in self.runs if self.anchored_events.get(run) == 1),
            "duplicated": self.duplicated,
            "missing": self.missing,
            "anchor_skipped_events": self.skipped_events,
            "outbox_statuses": dict(self.outbox_statuses),
            "max_anchor_attempts": max(self.anchor_attempts.values(), default=0),
            "seconds_to_all_anchored_after_restart": round(self.seconds_to_all_anchored_after_restart, 3),
            "inputs_recorded": self.inputs_recorded,
            "inputs_consumed_once": self.inputs_consumed_once,
        }


def _wait(condition: object, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


def run_chain_outage(
    workdir: Path,
    *,
    outage_seconds: float,
    file_interval: float = 0.25,
    files_before: int = 3,
    files_after: int = 3,
    settle_timeout: float = 120.0,
) -> ChainOutageReport:
    """The whole scenario (see the module docstring). ``workdir`` must be empty; everything lives under it."""
    workdir.mkdir(parents=True, exist_ok=True)
    devnet = Devnet(state_path=workdir / "anvil-state.json").start()
    try:
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            registry_address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        store = BlockchainMetadataStore(
            "metadata",
            f"sqlite:///{workdir / 'metadata.db'}",
            signer=LocalSigner.from_key(admin.private_key),
            rpc_url=devnet.rpc_url,
            registry_address=registry_address,
            pipeline=OUTAGE_PIPELINE,
            backoff=Backoff(base=0.1, factor=2.0, cap=1.0),
            receipt_timeout=5.0,
            tx_options={"submit_timeout": 1.0, "poll_interval": 0.05, "stuck_timeout": 3.0},
        )
        folder = workdir / "incoming"
        folder.mkdir()
        data = FilesystemStoreNode("data", folder, store, create=True)
        train = LogTraining("train", [data], store)
        pipeline = Pipeline([store, data, train], failure_backoff=0.01)
        dropped = 0
        stop_producing = threading.Event()

        def produce() -> None:
            nonlocal dropped
            while not stop_producing.wait(file_interval):
                drop_file(folder, f"batch-{dropped:05d}.csv", f"rows of batch {dropped}\n")
                dropped += 1

        pipeline.launch()
        try:
            for _ in range(files_before):
                drop_file(folder, f"batch-{dropped:05d}.csv", f"rows of batch {dropped}\n")
                dropped += 1
                time.sleep(file_interval)
            producer = threading.Thread(target=produce, name="outage-producer", daemon=True)
            producer.start()
            _wait(lambda: pipeline.runs_finished >= 2, 60, "runs before the outage")
            kill_rpc_node(devnet, devnet.state_path)  # type: ignore[arg-type]
            down_at = pipeline.runs_finished
            time.sleep(outage_seconds)
            runs_during_outage = pipeline.runs_finished - down_at
            restart_rpc_node(devnet)
            restarted = time.monotonic()
            time.sleep(file_interval * files_after)
            stop_producing.set()
            producer.join()

            def settled() -> bool:
                if data.get_num_artifacts("new") or data.get_num_artifacts("current"):
                    return False
                runs = store.runs.get_runs()
                return all(run["status"] != "running" for run in runs) and all(
                    (entry := store.anchor_status(int(run["id"]))) is not None and entry.status == "confirmed"
                    for run in runs
                )

            _wait(settled, settle_timeout, "every run ended and anchored after the restart")
            seconds_to_anchored = time.monotonic() - restarted
            runs = store.runs.get_runs()
            statuses = Counter(str(run["status"]) for run in runs)
            outbox = Counter(entry.status for entry in store.anchoring.outbox.entries("run-anchor"))
            attempts = {int(run["id"]): store.anchor_status(int(run["id"])).attempts for run in runs}  # type: ignore[union-attr]
            inputs = data.list_artifacts()
            consumed = Counter(
                artifact.id for run in runs for artifact in store.runs.run_artifacts(int(run["id"]))["consumed"]
            )
            consumed_once = sum(1 for a in inputs if a.state == "old" and consumed[a.id] == 1)
        finally:
            stop_producing.set()
            pipeline.terminate()
        registry = RunRegistryClient(ChainClient(devnet.rpc_url), registry_address)
        pid = pipeline_id(OUTAGE_PIPELINE)
        anchored = Counter(int(log.args["runId"]) for log in registry.contract.events("RunAnchored", pipelineId=pid))
        skipped = len(registry.contract.events("AnchorSkipped", pipelineId=pid))
        return ChainOutageReport(
            outage_seconds=outage_seconds,
            runs=[int(run["id"]) for run in runs],
            run_statuses=statuses,
            runs_during_outage=runs_during_outage,
            files_dropped=dropped,
            anchored_events=anchored,
            skipped_events=skipped,
            outbox_statuses=outbox,
            seconds_to_all_anchored_after_restart=seconds_to_anchored,
            anchor_attempts=attempts,
            inputs_recorded=len(inputs),
            inputs_consumed_once=consumed_once,
        )
    finally:
        devnet.stop()
