"""A real Pipeline (watched folder -> training action) on a BlockchainMetadataStore, with the chain going down and
coming back mid-pipeline: the pipeline never stalls and every run is anchored exactly once."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain import ChainClient, LocalSigner, TxSender
from anacostia_blockchain.chain.contracts import RunRegistryClient, pipeline_id
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.engine import BaseActionNode, BaseNode, Pipeline
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode

from .test_durability import all_confirmed, wait_until

pytestmark = pytest.mark.slow
PIPELINE = "pipeline-anchoring-e2e"


class Train(BaseActionNode):
    def __init__(self, name: str, predecessors: list[BaseNode], store: BlockchainMetadataStore) -> None:
        super().__init__(name, predecessors)
        self.store = store

    def execute(self, *args: object, **kwargs: object) -> bool:
        for step in range(10):
            self.store.log_metrics(step=step, loss=1.0 / (step + 1), accuracy=0.5 + step / 40)
        self.store.log_params(learning_rate=0.01, layers=[64, 32])
        self.store.set_tags(stage="test")
        return True


def drop_file(folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{name}"
    tmp.write_text(f"rows for {name} {time.time()}")
    tmp.rename(folder / name)


@pytest.mark.anvil_only
def test_pipeline_keeps_running_through_a_chain_outage_and_every_run_lands_once(tmp_path: Path) -> None:
    devnet = Devnet(state_path=tmp_path / "anvil-state.json").start()
    try:
        admin = devnet.accounts[0]
        client = ChainClient(devnet.rpc_url, expected_chain_id=devnet.chain_id)
        with TxSender(client, LocalSigner.from_key(admin.private_key)) as deployer:
            address = deployer.deploy("RunRegistry", admin.address, admin.address).address
        blocks = EmbeddedBlockstore(tmp_path / "blocks")
        store = BlockchainMetadataStore(
            "metadata",
            f"sqlite:///{tmp_path / 'meta.db'}",
            signer=LocalSigner.from_key(admin.private_key),
            rpc_url=devnet.rpc_url,
            registry_address=address,
            pipeline=PIPELINE,
            content_store=blocks,
            backoff=Backoff(base=0.1, cap=0.5),
            tx_options={"submit_timeout": 1.0, "poll_interval": 0.05},
        )
        data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
        train = Train("train", [data], store)
        pipeline = Pipeline([store, data, train], failure_backoff=0.01)
        pipeline.launch()
        try:
            for i in range(2):
                drop_file(tmp_path / "data", f"batch-{i}.csv")
                assert pipeline.wait_for_runs(i + 1, timeout=60)
            wait_until(lambda: all_confirmed(store, [1, 2]), 30, "anchors before the outage")

            devnet.stop()  # state dumped
            for i in range(2, 5):
                drop_file(tmp_path / "data", f"batch-{i}.csv")
                assert pipeline.wait_for_runs(i + 1, timeout=30), "the pipeline stalled while the chain was down"
            assert not all_confirmed(store, [3, 4, 5])

            devnet.restart()
            wait_until(lambda: all_confirmed(store, [1, 2, 3, 4, 5]), 60, "anchors after the chain came back")
        finally:
            pipeline.terminate()

        store.open_store()  # terminate() closed it; the same database, as a restarted process would see it
        try:
            runs = [int(r["id"]) for r in store.runs.get_runs()]  # every run that ended, however it ended
            assert runs[:5] == [1, 2, 3, 4, 5]
            store.anchoring.reconcile()  # as on_start after a restart: a run aborted by terminate() gets its anchor
            assert store.flush_anchors(timeout=30)
            registry = RunRegistryClient(ChainClient(devnet.rpc_url), address)
            anchored = registry.anchored_runs(pipeline_id(PIPELINE))
            assert Counter(a.run_id for a in anchored) == Counter({r: 1 for r in runs})
            for anchor in anchored:  # the manifest is fetchable by the anchored CID and hashes to the anchored root
                manifest = RunManifest.from_bytes(blocks.cat(anchor.manifest_cid))
                assert manifest.root == anchor.merkle_root
                if manifest.run_id <= 5:
                    assert "metric:accuracy@9" in manifest.by_key and "param:layers" in manifest.by_key
            for run_id in runs:
                assert store.verify_run(run_id).verdict == "verified"
        finally:
            store.on_stop()
            store.close_store()
    finally:
        devnet.stop()
