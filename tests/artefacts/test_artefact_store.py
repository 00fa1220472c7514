"""Batches, checkpoints, cards and relationships saved by a real pipeline (watched folder, IPFS output, SQLite and
PostgreSQL, a real anvil): queryable through the catalog, loadable from IPFS alone, and anchored — a relationship is
a manifest leaf proven on chain, and editing it in SQL is named as tampering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sqlalchemy import update

from anacostia_blockchain.anchoring import RunManifest
from anacostia_blockchain.artefacts import (
    ArtefactStore,
    Catalog,
    ContentRef,
    DataSchema,
    DatasetBatch,
    Formula,
    ModelCard,
    ModelCheckpoint,
    load_document,
    serializer,
)
from anacostia_blockchain.chain import LocalSigner
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.engine import ArtifactState, BaseActionNode, Pipeline
from anacostia_blockchain.errors import ArtefactNotFoundError, TamperedManifestError
from anacostia_blockchain.metadata import BlockchainMetadataStore
from anacostia_blockchain.metadata.schema import tags
from anacostia_blockchain.outbox import Backoff
from anacostia_blockchain.resources import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode

PIPELINE = "artefact-store"
SCHEMA = DataSchema.of("points", [("x", "float"), ("y", "int")], kind="record")


class Train(BaseActionNode):
    """Trains on every CSV so far; records the batch, the checkpoint, a card and an evaluation."""

    def __init__(self, name: str, store: BlockchainMetadataStore, data: FilesystemStoreNode,
                 out: IPFSStoreNode) -> None:
        super().__init__(name, [data, out])
        self.store, self.data, self.out = store, data, out

    def execute(self) -> bool:
        files = sorted(self.data.list_artifacts(ArtifactState.OLD) + self.data.list_artifacts(ArtifactState.CURRENT),
                       key=lambda a: a.id)
        rows = [line.split(",") for a in files for line in self.data.read_bytes(a).decode().split()]
        x = np.array([[float(r[0])] for r in rows])
        y = np.array([int(r[1]) for r in rows])
        model = LogisticRegression().fit(x, y)
        artefacts = ArtefactStore(self.out, self.store)
        previous = Catalog(self.store.runs).artefacts("dataset_batch", "points")
        formula = Formula.of_node(self, parents=[previous[-1].ref] if previous else [])
        items = tuple(ContentRef.of_artifact(a, read=self.data.read_bytes) for a in files)
        batch = artefacts.save(DatasetBatch("points", items, formula, SCHEMA), "batch.json")
        weights = artefacts.save_content("model.skops", serializer("skops").dumps(model))
        checkpoint = artefacts.save(ModelCheckpoint.describe(
            "points-clf", model, "skops", weights, input_schema=DataSchema.of("features", [("x", "float")]),
            output_schema=DataSchema.of("label", [("y", "int")]), trained_on=batch.ref), "checkpoint.json")
        artefacts.save(ModelCard("points-clf card", checkpoint.ref, "# Points classifier"), "card.json")
        held_out = artefacts.save_content("held-out.csv", b"0.5,0\n9.5,1\n")
        evaluation = artefacts.save(DatasetBatch("points-held-out", (held_out,)), "held-out.json")
        artefacts.relate("evaluated_on", checkpoint.ref, evaluation.ref)
        return True


def drop(folder: Path, name: str, content: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f".tmp-{name}").write_text(content)
    (folder / f".tmp-{name}").rename(folder / name)


def run_pipeline(tmp_path: Path, url: str, devnet: Devnet, address: str) -> tuple[BlockchainMetadataStore, Any]:
    store = BlockchainMetadataStore(
        "metadata", url, signer=LocalSigner.from_key(devnet.accounts[0].private_key), rpc_url=devnet.rpc_url,
        registry_address=address, pipeline=PIPELINE, backoff=Backoff(base=0.1, factor=2.0, cap=0.5),
    )
    data = FilesystemStoreNode("data", tmp_path / "data", store, create=True)
    out = IPFSStoreNode("artefacts", store, store=tmp_path / "ipfs")
    pipeline = Pipeline([store, data, out, Train("train", store, data, out)], failure_backoff=0.01)
    with pipeline:
        drop(tmp_path / "data", "a.csv", "1,0\n2,0\n8,1\n9,1\n")
        assert pipeline.wait_for_runs(1, timeout=60)
        drop(tmp_path / "data", "b.csv", "0,0\n10,1\n")
        assert pipeline.wait_for_runs(2, timeout=60)
        assert store.flush_anchors(timeout=60)
    return store, out.store


def test_artefacts_are_catalogued_loadable_and_anchored(tmp_path: Path, store_url: str,
                                                        registry: tuple[Devnet, str]) -> None:
    store, blocks = run_pipeline(tmp_path, store_url, *registry)
    store.open_store()
    try:
        runs = store.runs
        assert [r["status"] for r in runs.get_runs()] == ["success", "success"]
        catalog = Catalog(runs)
        first, second = catalog.artefacts("dataset_batch", "points")
        assert catalog.latest("dataset_batch", "points") == second and second.run_id == 2
        assert catalog.schema("points") == SCHEMA and set(catalog.schemas()) >= {"points", "features", "label"}
        missing = r"no dataset_batch named 'pts' in the catalog; known: points, points-held-out$"
        with pytest.raises(ArtefactNotFoundError, match=missing):
            catalog.latest("dataset_batch", "pts")

        # the second batch lists both files, by CID, and was derived from the first
        batch = load_document(blocks.cat(second.ref.cid))
        assert [i.location for i in batch.items] == ["a.csv", "b.csv"]
        local = {item.cid: (tmp_path / "data" / str(item.location)).read_bytes() for item in batch.items}
        assert batch.fetch_items(local.__getitem__) == [b"1,0\n2,0\n8,1\n9,1\n", b"0,0\n10,1\n"]  # CIDs check
        assert batch.formula.node == "train" and batch.formula.parents == (first.ref,)
        [derived] = catalog.relationships(type="derived_from")
        assert (derived.run_id, derived.relationship.source, derived.relationship.target) == (2, second.ref,
                                                                                              first.ref)

        # the checkpoint loads from IPFS alone and names its training batch
        checkpoint_entry = catalog.latest("model_checkpoint", "points-clf")
        checkpoint = ModelCheckpoint.from_bytes(blocks.cat(checkpoint_entry.ref.cid))
        assert checkpoint.trained_on == second.ref and checkpoint.framework == "scikit-learn"
        model = checkpoint.load(blocks.cat)
        assert model.predict([[0.5], [9.5]]).tolist() == [0, 1]
        kinds = {r.relationship.type for r in catalog.related(checkpoint_entry.ref.cid)}
        assert kinds == {"trained_on", "evaluated_on"}
        [card] = catalog.relationships(type="card_of", target=checkpoint_entry.ref.id)
        assert card.run_id == 2
        # per-output lineage: the checkpoint document was made from what the node read (the two CSV files)
        saved = next(a for a in runs.list_artifacts("artefacts") if a.location == "checkpoint.json"
                     and a.produced_run_id == 2)
        assert sorted(a.location for a in runs.lineage(saved)["inputs"]) == ["a.csv", "b.csv"]

        # anchored: the relationship is a leaf of the run's manifest, proven against the chain's root
        key = f"tag:relationship:trained_on:{checkpoint_entry.ref.cid}->{second.ref.cid}"
        assert key in RunManifest.from_export(PIPELINE, 2, runs.export_run(2)).by_key
        assert store.verify_run(2).verdict == "verified"
        check = store.verify_proof(store.prove(2, key), on_chain=True)
        assert check.ok and check.on_chain

        forged = {**json.loads(json.dumps(derived.relationship.to_json())), "type": "trained_on"}
        with runs.engine.begin() as conn:  # someone rewrites a relationship in SQL
            conn.execute(update(tags).where(tags.c.run_id == 2, tags.c.key == derived.relationship.tag_key)
                         .values(value=json.dumps(forged)))
        with pytest.raises(TamperedManifestError) as caught:
            store.verify_run(2)
        assert caught.value.items == [f"tag:{derived.relationship.tag_key}"]
    finally:
        store.close_store()
