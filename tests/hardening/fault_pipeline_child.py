"""The pipeline process the kill test SIGKILLs: ``python fault_pipeline_child.py WORKDIR``.

A watched folder (``WORKDIR/incoming``) feeds a ``Train`` action that writes one model per run into a
``Web3StorageNode`` (embedded blockstore + Storacha upload outbox) and logs metrics; the metadata store is a
``BlockchainMetadataStore`` on ``WORKDIR/metadata.db`` anchoring in ``RunRegistry``. Everything secret or variable
comes from the environment, never the command line (``ps`` shows arguments): ``ANACOSTIA_PRIVATE_KEY``,
``STORACHA_SPACE_DID``/``STORACHA_AUTH_SECRET``/``STORACHA_AUTHORIZATION``/``STORACHA_BRIDGE_URL``,
``FAULT_RPC_URL``, ``FAULT_REGISTRY``.

With ``FAULT_HANG=1`` a run whose inputs include a file named ``hang-*`` saves its model, writes
``WORKDIR/hanging-run`` (the run id) and then blocks: the test kills the process there, mid-run. The process runs
until SIGTERM (``Pipeline.execute`` stops gracefully on it).
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.ipfs import EmbeddedBlockstore, StorachaClient
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.web3storage import Web3StorageNode

PIPELINE = "hardening-process-kill"


class Train(BaseActionNode):
    def __init__(self, name: str, predecessors: list[BaseNode], data: FilesystemStoreNode,
                 models: Web3StorageNode, store: BlockchainMetadataStore, hang_marker: Path | None) -> None:
        super().__init__(name, predecessors)
        self.data = data
        self.models = models
        self.store = store
        self.hang_marker = hang_marker

    def execute(self, *args: object, **kwargs: object) -> bool:
        inputs = sorted(self.data.current_inputs(), key=lambda artifact: artifact.location)
        digest = hashlib.sha256()
        for artifact in inputs:
            digest.update(self.data.artifact_path(artifact).read_bytes())
        names = ",".join(artifact.location for artifact in inputs)
        # The model depends only on the inputs: re-running them produces the same bytes, hence the same CID.
        self.models.save_artifact(f"model-{digest.hexdigest()[:12]}.bin", f"model trained on {names}\n".encode())
        self.store.log_metrics(inputs=len(inputs), accuracy=0.9)
        if self.hang_marker is not None and any(a.location.startswith("hang-") for a in inputs):
            self.hang_marker.write_text(str(self.store.current_run_id))
            threading.Event().wait()  # until SIGKILL
        return True


def build(workdir: Path) -> Pipeline:
    store = BlockchainMetadataStore(
        "metadata",
        f"sqlite:///{workdir / 'metadata.db'}",
        signer=LocalSigner.from_env(),
        rpc_url=os.environ["FAULT_RPC_URL"],
        registry_address=os.environ["FAULT_REGISTRY"],
        pipeline=PIPELINE,
        backoff=Backoff(base=0.1, factor=2.0, cap=0.5),
        receipt_timeout=10.0,
        tx_options={"submit_timeout": 2.0, "poll_interval": 0.05},
    )
    data = FilesystemStoreNode("data", workdir / "incoming", store, create=True)
    models = Web3StorageNode(
        "models",
        store,
        client=StorachaClient.from_env(retries=0, backoff=0.05, timeout=10.0),
        store=EmbeddedBlockstore(workdir / "blocks"),
        car_dir=workdir / "cars",
        backoff=Backoff(base=0.1, factor=2.0, cap=0.5),
    )
    hang = workdir / "hanging-run" if os.environ.get("FAULT_HANG") == "1" else None
    train = Train("train", [data], data, models, store, hang)
    return Pipeline([store, data, models, train], failure_backoff=0.05)


def main() -> None:
    workdir = Path(sys.argv[1])
    pipeline = build(workdir)
    pipeline.launch()
    (workdir / "launched").write_text(str(os.getpid()))
    pipeline.execute()


if __name__ == "__main__":
    main()
