"""The promotion policy of ``PromoteModelNode`` on a real anvil: the bar, no regression, ``allow_regression``.

Each model is a real training run (SQLite run store) whose manifest is stored by CID, anchored in RunRegistry and
minted as a ModelNFT; the promote node runs in a real pipeline (watched folder, node threads) once per model.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from anacostia_blockchain import FilesystemStoreNode, Pipeline, SqliteMetadataStore
from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.actions.promote import PromoteModelNode, promotion_summary
from anacostia_blockchain.anchoring.manifest import RunManifest
from anacostia_blockchain.chain.contracts.merkle import scale_metric
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient
from anacostia_blockchain.chain.contracts.model_versions import ModelVersionsClient
from anacostia_blockchain.chain.contracts.run_registry import AnchorRequest, RunRegistryClient
from anacostia_blockchain.chain.rpc.client import ChainClient
from anacostia_blockchain.chain.tx import TxSender
from anacostia_blockchain.chain.tx.signer import LocalSigner
from anacostia_blockchain.engine import ExecutionContext, RunStatus
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import RunStore

TRAINING = "digits-training"
BAR = Decimal("0.85")


@dataclass
class Models:
    """Trains (logs), anchors and mints models of the ``TRAINING`` pipeline; one family gated at ``BAR``."""

    training: RunStore
    blocks: EmbeddedBlockstore
    registry: RunRegistryClient
    nft: ModelNFTClient
    versions: ModelVersionsClient
    family_id: int
    owner: str

    def publish(self, accuracy: str) -> int:
        run_id = self.training.begin_run("batch", [])
        self.training.log_metrics(ExecutionContext(run_id, "evaluate"), {"accuracy": float(accuracy)})
        self.training.end_run(run_id, RunStatus.SUCCESS)
        manifest = RunManifest.from_export(TRAINING, run_id, self.training.export_run(run_id))
        cid = str(self.blocks.add_bytes(manifest.to_bytes(), cid_version=1).cid)
        self.registry.anchor_run(AnchorRequest(manifest.pipeline_id, run_id, manifest.root, cid))
        return self.nft.mint(self.owner, f"ipfs://{cid}", pipeline_id=manifest.pipeline_id, run_id=run_id,
                             anchor_root=manifest.root, manifest_cid=cid).token_id

    def in_production(self) -> int:
        return self.versions.version_in_stage(self.family_id, "production")


@pytest.fixture
def models(fresh_chain: Any, tmp_path: Path) -> Iterator[Models]:
    client = ChainClient(fresh_chain.rpc_url)
    sender = TxSender(client, LocalSigner.from_key(fresh_chain.accounts[0].private_key))
    admin = sender.signer.address
    registry = sender.deploy("RunRegistry", admin, admin)
    nft = sender.deploy("ModelNFT", "Anacostia Models", "AMODEL", admin, registry.address)
    versions = ModelVersionsClient(client, sender.deploy("ModelVersions", nft.address, registry.address).address,
                                   sender)
    nft_client = ModelNFTClient(client, nft.address, sender)
    nft_client.grant_minter(admin)
    family_id = versions.create_family("digits-classifier")
    versions.set_gate(family_id, "production", "accuracy", scale_metric(BAR), higher_is_better=True)
    training = RunStore(f"sqlite:///{tmp_path}/training.db", name="training")
    training.open()
    yield Models(training, EmbeddedBlockstore(tmp_path / "blocks"), RunRegistryClient(client, registry.address, sender),
                 nft_client, versions, family_id, admin)
    training.close()
    sender.close()


class Promoting:
    """A pipeline whose only action is the promote node: one run per dropped file."""

    def __init__(self, models: Models, folder: Path, **policy: Any) -> None:
        self.store = SqliteMetadataStore("publishing_store", f"sqlite:///{folder}/publishing.db")
        self.folder = folder / "anchored"
        self.folder.mkdir(parents=True)
        data = FilesystemStoreNode("anchored", self.folder, self.store, create=True)
        reader = AnchoredRunReader(models.registry, models.blocks, TRAINING)
        promote = PromoteModelNode("promote", [data], reader=reader, nft=models.nft, versions=models.versions,
                                   family_id=models.family_id, stage="production", **policy)
        self.pipeline = Pipeline([self.store, data, promote], failure_backoff=0.01)
        self.runs = 0

    def run(self) -> dict[str, Any]:
        """Promote the newest model once; the run's status, the promote node's status and its tags."""
        self.runs += 1
        partial = self.folder / f".run-{self.runs}"
        partial.write_text(str(self.runs))
        os.replace(partial, self.folder / f"run-{self.runs}.txt")
        assert self.pipeline.wait_for_runs(self.runs, timeout=60)
        run = self.store.runs.get_runs()[-1]
        export = self.store.runs.export_run(run["id"])
        (node,) = export["nodes"]
        return {"run": run["status"], "node": node["status"], "tags": export["tags"]}

    def __enter__(self) -> Promoting:
        self.pipeline.launch()
        return self

    def __exit__(self, *exc: object) -> None:
        self.pipeline.terminate()


def test_a_newer_model_never_regresses_production(models: Models, tmp_path: Path) -> None:
    with Promoting(models, tmp_path, fail_on_refusal=False) as promoting:
        models.publish("0.95")
        first = promoting.run()
        assert first["tags"]["promotion_outcome"] == "promoted" and models.in_production() == 1
        models.publish("0.93")  # above the bar, below production
        worse = promoting.run()
        assert (worse["run"], worse["node"]) == ("success", "success")  # published, not promoted, run goes on
        assert worse["tags"]["promotion_outcome"] == "regression"
        assert worse["tags"]["promotion_reason"] == (
            "accuracy=0.93 would regress production, which holds version 1 with accuracy=0.95")
        assert models.in_production() == 1
        models.publish("0.95")  # as good as production: the newer one takes the stage
        assert promoting.run()["tags"]["promotion_outcome"] == "promoted" and models.in_production() == 3
    promoted = models.versions.contract.events("VersionPromoted", familyId=models.family_id)
    assert [int(log.args["version"]) for log in promoted] == [1, 3]


def test_allow_regression_promotes_the_newest_model_over_a_better_one(models: Models, tmp_path: Path) -> None:
    with Promoting(models, tmp_path, allow_regression=True) as promoting:
        models.publish("0.95")
        promoting.run()
        models.publish("0.90")
        outcome = promoting.run()
    assert outcome["tags"]["promotion_outcome"] == "promoted" and models.in_production() == 2
    assert promotion_summary(outcome["tags"]) == "promoted to production (accuracy=0.9)"


def test_a_model_below_the_bar_is_refused_and_fails_the_run_unless_told(models: Models, tmp_path: Path) -> None:
    models.publish("0.80")
    with Promoting(models, tmp_path / "recorded", fail_on_refusal=False) as promoting:
        recorded = promoting.run()
    assert (recorded["run"], recorded["tags"]["promotion_outcome"]) == ("success", "below_bar")
    assert promotion_summary(recorded["tags"]) == (
        "not promoted: accuracy=0.8 does not meet the production bar (>= 0.85)")
    with Promoting(models, tmp_path / "failing") as promoting:  # fail_on_refusal=True: the run fails
        failed = promoting.run()
    assert (failed["run"], failed["node"], failed["tags"]["promotion_outcome"]) == ("failed", "failure", "below_bar")
    assert models.in_production() == 0 and models.versions.contract.events("VersionPromoted") == []
