"""From a minted demo model NFT, with nothing but the chain (a real anvil) and IPFS (the demo's blockstore): find the
anchored run, the checkpoint and the exact training batch, rebuild the training set, retrain to the same bytes, and
load the published model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from anacostia_blockchain.actions.anchored_run import AnchoredRunReader
from anacostia_blockchain.actions.classifier import decrypt_envelope, model_to_bytes
from anacostia_blockchain.actions.model_metadata import training_artefacts
from anacostia_blockchain.artefacts import ContentRef, DatasetBatch, LinearModel, ModelCheckpoint
from anacostia_blockchain.chain import ChainClient, DeploymentManifest, RunRegistryClient
from anacostia_blockchain.chain.contracts.model_nft import ModelNFTClient, cid_from_token_uri
from anacostia_blockchain.chain.dev import Devnet
from anacostia_blockchain.demo.digits_data import load_split
from anacostia_blockchain.demo.pipelines import TRAINING_PIPELINE
from anacostia_blockchain.ipfs import EmbeddedBlockstore, compute_cid


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Devnet]]:
    workdir = tmp_path_factory.mktemp("rebuild") / "demo"
    result = subprocess.run([sys.executable, "-m", "anacostia_blockchain.cli.main", "demo", "--workdir",
                             str(workdir), "--batches", "2", "--json"],
                            capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    state = workdir.parent / "anvil-state.json"
    shutil.copy(workdir / "anvil-state.json", state)
    node = Devnet(state_path=state).start()
    yield workdir, node
    node.stop()


def test_the_training_set_and_model_are_rebuilt_from_a_minted_nft(demo) -> None:
    workdir, node = demo
    client = ChainClient(node.rpc_url)
    contracts = DeploymentManifest.load(workdir / "deployments", client.chain_id)
    nft = ModelNFTClient(client, contracts.address("ModelNFT"))
    blocks = EmbeddedBlockstore(workdir / "ipfs")
    token_id = nft.total_minted()  # the newest model: trained on both good batches
    metadata = json.loads(blocks.cat(cid_from_token_uri(nft.token_uri(token_id))))
    properties = metadata["properties"]

    # the token's run, its manifest checked against the root anchored on chain
    provenance = nft.provenance(token_id)
    reader = AnchoredRunReader(RunRegistryClient(client, contracts.address("RunRegistry")), blocks,
                               TRAINING_PIPELINE)
    run = reader.load(provenance.run_id)
    assert run.anchor.merkle_root == provenance.anchor_root and properties["run_id"] == provenance.run_id
    anchored = training_artefacts(run, blocks)  # the anchored tags name the checkpoint by CID and sha256
    assert anchored is not None and anchored.checkpoint_ref.cid == properties["checkpoint"]["cid"]

    # the checkpoint and the exact batch it was trained on: every prepared batch so far, not only the newest
    checkpoint = ModelCheckpoint.from_bytes(blocks.cat(properties["checkpoint"]["cid"]))
    assert checkpoint.trained_on is not None and checkpoint.trained_on.cid == properties["training_batch"]["cid"]
    batch = DatasetBatch.from_bytes(checkpoint.trained_on.fetch(blocks.cat))
    assert properties["dataset_cids"] == batch.cids and len(batch.cids) == 2
    assert [item.location for item in batch.items] == ["batch-01.jsonl.enc", "batch-02.jsonl.enc"]
    assert batch.schema is not None and batch.schema.column_names[-1] == "label"
    assert batch.formula is not None and batch.formula.node == "train" and len(batch.formula.parents) == 1
    assert run.params()["training_batches"] == len(batch.items)

    # rebuild the training set from IPFS (the operator holds the data key) and retrain: the same model, byte for byte
    operator_key = bytes.fromhex(node.accounts[0].private_key.removeprefix("0x"))
    records = [json.loads(line) for envelope in batch.fetch_items(blocks.cat)
               for line in decrypt_envelope(envelope, operator_key).decode().splitlines() if line.strip()]
    features = [column.name for column in checkpoint.input_schema.columns]
    x = np.array([[r[f] for f in features] for r in records], dtype=float)
    y = np.array([r["label"] for r in records])
    retrained = LogisticRegression(C=batch.formula.params["regularization"], max_iter=2000).fit(x, y)
    published = checkpoint.model_bytes(blocks.cat, decrypt=lambda data: decrypt_envelope(data, operator_key))
    assert model_to_bytes(retrained.classes_, retrained.coef_, retrained.intercept_) == published
    assert checkpoint.plaintext == ContentRef.of_bytes(published, cid=compute_cid(published))

    # load the published model with its recorded serializer and reproduce the anchored accuracy
    model = checkpoint.load(blocks.cat, decrypt=lambda data: decrypt_envelope(data, operator_key))
    assert isinstance(model, LinearModel) and checkpoint.serializer == "linear-json"
    split = load_split()
    accuracy = float((model.predict(split.eval_x) == split.eval_y).mean())
    assert abs(accuracy - float(run.metrics()["accuracy"])) < 1e-6
