"""A training pipeline built from the project's real nodes, without a chain: watched CSV folder -> ``DataPrepNode``
(validate, clean, encrypt into an embedded IPFS store) -> ``TrainClassifierNode`` (dataset batch, checkpoint, encrypted
weights) -> ``EvaluateClassifierNode``, on a SQLite store. Its runs are what the lineage graph is drawn from."""

from __future__ import annotations

import secrets
from pathlib import Path

from anacostia_blockchain.actions.classifier import EvaluateClassifierNode, TrainClassifierNode
from anacostia_blockchain.actions.data_prep import DataPrepNode
from anacostia_blockchain.actions.data_prep_schema import FieldSpec, RecordSchema
from anacostia_blockchain.artefacts import DataSchema
from anacostia_blockchain.crypto import public_key_for_private_key
from anacostia_blockchain.demo.digits_data import FIELD_NAMES, PIXELS, load_split, training_batches, write_batch
from anacostia_blockchain.engine import Pipeline
from anacostia_blockchain.ipfs import EmbeddedBlockstore
from anacostia_blockchain.metadata import SqliteMetadataStore
from anacostia_blockchain.resources.filesystem import FilesystemStoreNode
from anacostia_blockchain.resources.ipfs_store import IPFSStoreNode


class TrainingWorld:
    """The pipeline ``digits`` (named after its store) and CSV batches of the digits training pool for it."""

    def __init__(self, root: Path, batches: int = 2) -> None:
        key = secrets.token_bytes(32)
        public = public_key_for_private_key(key)
        self.incoming = root / "incoming"
        self.store = SqliteMetadataStore("digits", f"sqlite:///{root / 'digits.db'}")
        self.blocks = EmbeddedBlockstore(root / "ipfs", fsync=False)
        incoming = FilesystemStoreNode("incoming", self.incoming, self.store, create=True)
        prepared = IPFSStoreNode("prepared_data", self.store, store=self.blocks)
        models = IPFSStoreNode("models", self.store, store=self.blocks)
        schema = RecordSchema(tuple(FieldSpec(name, "int") for name in FIELD_NAMES))
        prep = DataPrepNode("prepare", incoming, prepared, schema=schema, recipient_public_keys=[public],
                            quarantine_dir=root / "quarantine")
        train = TrainClassifierNode(
            "train", [prep], metadata_store=self.store, data_resource=prepared, model_resource=models,
            operator_private_key=key, recipient_public_keys=[public], feature_fields=[f"p{i}" for i in range(PIXELS)],
            dataset_name="digits-training",
            record_schema=DataSchema.of("digits-records", [(f.name, f.type) for f in schema.fields], kind="record"))
        split = load_split()
        evaluate = EvaluateClassifierNode("evaluate", [train], metadata_store=self.store, model_resource=models,
                                          operator_private_key=key,
                                          evaluation_set=lambda: (split.eval_x[:60], split.eval_y[:60]))
        self.pipeline = Pipeline([self.store, incoming, prepared, models, prep, train, evaluate],
                                 failure_backoff=0.05)
        self._batches = training_batches(batches)

    def write(self, *indexes: int) -> None:
        """Write batches ``indexes`` (into the training pool) as ``batch-<n>.csv`` into the watched folder."""
        self.incoming.mkdir(parents=True, exist_ok=True)
        for index in indexes:
            x, y = self._batches[index]
            write_batch(self.incoming / f"batch-{index + 1}.csv", x, y)

    def launch_with(self, *indexes: int, timeout: float = 90) -> None:
        """Write batches, then launch: the first run consumes all of them."""
        self.write(*indexes)
        self.pipeline.launch()
        assert self.pipeline.wait_for_runs(1, timeout=timeout)

    def land(self, index: int, timeout: float = 90, name: str | None = None) -> None:
        """One more batch (``name``: under another name than ``batch-<n>.csv``), and the run it triggers."""
        runs = len(self.store.runs.get_runs())
        if name is None:
            self.write(index)
        else:
            x, y = self._batches[index]
            write_batch(self.incoming / name, x, y)
        assert self.pipeline.wait_for_runs(runs + 1, timeout=timeout)
