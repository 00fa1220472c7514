"""Train and evaluate a classifier on encrypted, prepared data: the ML half of the demo pipeline.

:class:`TrainClassifierNode` decrypts every prepared batch the data resource holds (the envelopes written by
:class:`~.data_prep.DataPrepNode`; the operator's secp256k1 key unwraps their data keys), fits a multinomial logistic
regression, and saves the model *encrypted* to the model resource. :class:`EvaluateClassifierNode` reads back the
model this run produced and logs its metrics on a held-out set.

The model is stored as canonical JSON (the ``linear-json`` serializer of :mod:`~anacostia_blockchain.artefacts`),
not a pickle: a buyer can load it without executing anything, and the same weights always give the same bytes, hence
the same CID.

Training records what it trained on as artefacts, saved next to the model and anchored with the run:

- ``artefacts/training-batch.json`` — a :class:`~anacostia_blockchain.artefacts.DatasetBatch` listing every
  prepared batch the model was fitted on (CID, sha256, size, in training order), its formula (this node's code
  fingerprint and params, derived from the previous training batch) and the record schema;
- ``artefacts/checkpoint.json`` — a :class:`~anacostia_blockchain.artefacts.ModelCheckpoint`: the encrypted
  weights, the serialized model's CID, serializer, framework and version, input and output schemas, ``trained_on``
  the batch;
- ``artefacts/evaluation-batch.json`` (by the evaluation node) — the held-out set as a batch, which the checkpoint
  was ``evaluated_on``.

Hooks for subclasses: :meth:`TrainClassifierNode.build_estimator`, :meth:`TrainClassifierNode.records_to_xy`,
:meth:`EvaluateClassifierNode.evaluation_set`.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import numpy as np

from ..artefacts import (
    ArtefactStore,
    Catalog,
    ContentRef,
    DataSchema,
    DatasetBatch,
    Formula,
    LinearModel,
    ModelCheckpoint,
    SavedArtefact,
    serializer,
)
from ..artefacts.catalog import TaggedRuns
from ..artefacts.serializers import LINEAR_JSON_FORMAT
from ..crypto import DataKey, decrypt_bytes, encrypt_bytes, key_for_private_key, normalize_public_key, read_header
from ..engine.action import BaseActionNode
from ..engine.artifact import Artifact
from ..engine.metadata_store import BaseMetadataStoreNode
from ..engine.node import BaseNode
from ..engine.states import ArtifactState
from ..errors import ConfigurationError
from ..ipfs import compute_cid
from ..resources.ipfs_store import IPFSStoreNode

MODEL_FORMAT = LINEAR_JSON_FORMAT
MODEL_SERIALIZER = "linear-json"
MODEL_LOCATION = "model.json.enc"
BATCH_LOCATION = "artefacts/training-batch.json"
CHECKPOINT_LOCATION = "artefacts/checkpoint.json"
EVALUATION_SET_LOCATION = "artefacts/evaluation-set.jsonl"
EVALUATION_BATCH_LOCATION = "artefacts/evaluation-batch.json"
#: How the demo's weights are encrypted (the envelope of :mod:`anacostia_blockchain.crypto.envelope`).
ENVELOPE_ENCRYPTION = "anacostia-envelope@1"


def model_to_bytes(classes: Sequence[int], coef: np.ndarray, intercept: np.ndarray) -> bytes:
    """Canonical JSON of a linear classifier (the ``linear-json`` serializer)."""
    return serializer(MODEL_SERIALIZER).dumps(LinearModel(np.asarray(classes), np.asarray(coef),
                                                          np.asarray(intercept)))


def predict(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Predict with a model saved by :func:`model_to_bytes` (no scikit-learn, no pickle)."""
    model: LinearModel = serializer(MODEL_SERIALIZER).loads(model_bytes)
    return model.predict(x)


def _with(predecessors: Sequence[BaseNode], *resources: BaseNode) -> list[BaseNode]:
    """The node's predecessors plus the resources it reads and writes (edges the DAG should show), once each."""
    nodes = list(predecessors)
    return nodes + [r for r in resources if r not in nodes]


def decrypt_envelope(envelope: bytes, private_key: bytes) -> bytes:
    """Decrypt an envelope whose data key is wrapped for ``private_key``'s public key."""
    header = read_header(io.BytesIO(envelope))
    return decrypt_bytes(envelope, key_for_private_key(header, private_key))


class TrainClassifierNode(BaseActionNode):
    """Fit a classifier on every prepared batch so far and save it, encrypted, to ``model_resource``."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        metadata_store: BaseMetadataStoreNode,
        data_resource: IPFSStoreNode,
        model_resource: IPFSStoreNode,
        operator_private_key: bytes,
        recipient_public_keys: Sequence[bytes],
        feature_fields: Sequence[str],
        label_field: str = "label",
        regularization: float = 1.0,
        dataset_name: str = "training",
        record_schema: DataSchema | None = None,
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        super().__init__(name, _with(predecessors, data_resource, model_resource), loggers)
        if not recipient_public_keys:
            raise ConfigurationError(f"{name}: the model needs at least one recipient or it is unrecoverable")
        self.metadata_store = metadata_store
        self.data_resource = data_resource
        self.model_resource = model_resource
        self._operator_private_key = bytes(operator_private_key)
        self.recipient_public_keys = tuple(normalize_public_key(k) for k in recipient_public_keys)
        self.feature_fields = tuple(feature_fields)
        self.label_field = label_field
        self.regularization = regularization
        self.dataset_name = dataset_name
        self.record_schema = record_schema

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    # --- hooks -------------------------------------------------------------------------------------------------
    def build_estimator(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.regularization, max_iter=2000)

    def records_to_xy(self, records: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        x = np.array([[record[f] for f in self.feature_fields] for record in records], dtype=float)
        y = np.array([record[self.label_field] for record in records], dtype=np.int64)
        return x, y

    def input_schema(self) -> DataSchema:
        """The model's input: one float column per feature."""
        return DataSchema.of(f"{self.name}.input", [(f, "float") for f in self.feature_fields])

    def output_schema(self) -> DataSchema:
        return DataSchema.of(f"{self.name}.output", [(self.label_field, "int")])

    # --- the job -------------------------------------------------------------------------------------------------
    def training_batches(self) -> list[Artifact]:
        """Every prepared batch (consumed or produced by earlier runs, and this run's own), oldest first."""
        found = self.data_resource.list_artifacts(ArtifactState.OLD) + self.data_resource.list_artifacts(
            ArtifactState.CURRENT)
        return sorted(found, key=lambda a: a.id)

    def load_records(self, batches: list[Artifact]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for artifact in batches:
            plaintext = decrypt_envelope(self.data_resource.read_bytes(artifact), self._operator_private_key)
            records.extend(json.loads(line) for line in plaintext.decode().splitlines() if line.strip())
        return records

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        batches = self.training_batches()
        if not any(a.state.value == "current" for a in batches):
            self.log("no new prepared data in this run (e.g. every input was quarantined); model unchanged")
            return True
        records = self.load_records(batches)
        if len(records) < 2:
            self.log("not enough prepared records to train on yet", level="WARNING")
            return False
        x, y = self.records_to_xy(records)
        if len(set(y.tolist())) < 2:
            self.log("the prepared data holds a single class; nothing to learn", level="WARNING")
            return False
        estimator = self.build_estimator().fit(x, y)
        model = model_to_bytes(estimator.classes_, estimator.coef_, estimator.intercept_)
        model_cid = compute_cid(model)
        envelope = encrypt_bytes(
            model, DataKey.generate(), plaintext_cid=model_cid, recipient_public_keys=self.recipient_public_keys
        )
        artefacts = ArtefactStore(self.model_resource, self.metadata_store)
        weights = artefacts.save_content(MODEL_LOCATION, envelope, derived_from=batches)
        batch = self.save_training_batch(artefacts, batches)
        checkpoint = ModelCheckpoint.describe(
            f"{self.name}.model", estimator, MODEL_SERIALIZER, weights, input_schema=self.input_schema(),
            output_schema=self.output_schema(), trained_on=batch.ref, encryption=ENVELOPE_ENCRYPTION,
            plaintext=ContentRef.of_bytes(model, cid=model_cid),
        )
        saved = artefacts.save(checkpoint, CHECKPOINT_LOCATION, derived_from=batches)
        self.metadata_store.log_params(
            estimator="LogisticRegression", C=self.regularization, training_batches=len(batches)
        )
        self.metadata_store.log_metrics(training_records=len(records), train_accuracy=float(estimator.score(x, y)))
        self.metadata_store.set_tags(model_plaintext_cid=model_cid, model_cid=weights.cid, model_format=MODEL_FORMAT,
                                     training_batch_cid=batch.ref.cid, checkpoint_cid=saved.ref.cid)
        self.log(f"trained on {len(records)} records from {len(batches)} batches (batch {batch.ref.cid}); "
                 f"model {model_cid}")
        return True

    def save_training_batch(self, artefacts: ArtefactStore, batches: list[Artifact]) -> SavedArtefact:
        """The dataset batch this run trains on: every prepared batch, derived from the previous training batch."""
        previous = self.previous_batch()
        formula = Formula.of_node(self, parents=[previous] if previous is not None else [])
        items = tuple(ContentRef.of_artifact(a) for a in batches)
        return artefacts.save(DatasetBatch(self.dataset_name, items, formula, self.record_schema), BATCH_LOCATION,
                              derived_from=batches)

    def previous_batch(self) -> ContentRef | None:
        """The newest training batch of an earlier successful run (``None`` for the first)."""
        runs = self.metadata_store.runs
        if not hasattr(runs, "get_tag_rows"):
            return None
        found = Catalog(cast(TaggedRuns, runs)).artefacts(DatasetBatch.kind, self.dataset_name)
        return found[-1].ref if found else None


class EvaluateClassifierNode(BaseActionNode):
    """Evaluate the model this run produced on a held-out set and log ``accuracy`` and ``macro_f1``; the held-out
    set is saved as a dataset batch the run's checkpoint was ``evaluated_on``."""

    def __init__(
        self,
        name: str,
        predecessors: Sequence[BaseNode],
        *,
        metadata_store: BaseMetadataStoreNode,
        model_resource: IPFSStoreNode,
        operator_private_key: bytes,
        evaluation_set: Callable[[], tuple[np.ndarray, np.ndarray]],
        loggers: logging.Logger | Iterable[logging.Logger] | None = None,
    ) -> None:
        super().__init__(name, _with(predecessors, model_resource), loggers)
        self.metadata_store = metadata_store
        self.model_resource = model_resource
        self._operator_private_key = bytes(operator_private_key)
        self._evaluation_set = evaluation_set

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def evaluation_set(self) -> tuple[np.ndarray, np.ndarray]:
        return self._evaluation_set()

    def record_evaluation(self, checkpoint: ContentRef, x: np.ndarray, y: np.ndarray) -> SavedArtefact:
        """Save the held-out set (JSON lines ``{"x": [...], "y": label}``) as a dataset batch and record that
        ``checkpoint`` was ``evaluated_on`` it."""
        artefacts = ArtefactStore(self.model_resource, self.metadata_store)
        lines = b"".join(json.dumps({"x": [float(v) for v in row], "y": int(label)}, separators=(",", ":")).encode()
                         + b"\n" for row, label in zip(np.asarray(x), np.asarray(y), strict=True))
        content = artefacts.save_content(EVALUATION_SET_LOCATION, lines, derived_from=[])  # from evaluation_set()
        schema = DataSchema.of(f"{self.name}.records", [("x", "json"), ("y", "int")], kind="record")
        batch = artefacts.save(DatasetBatch(f"{self.name}.held-out", (content,), Formula.of_node(self), schema),
                               EVALUATION_BATCH_LOCATION, derived_from=[])  # it lists the set by reference
        artefacts.relate("evaluated_on", checkpoint, batch.ref)
        return batch

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        from sklearn.metrics import accuracy_score, f1_score

        produced = [a for a in self.model_resource.list_artifacts("current") if a.location == MODEL_LOCATION]
        if not produced:
            self.log("this run produced no model; nothing to evaluate")
            return True
        model = decrypt_envelope(self.model_resource.read_bytes(produced[-1]), self._operator_private_key)
        x, y = self.evaluation_set()
        checkpoints = [a for a in self.model_resource.list_artifacts("current") if a.location == CHECKPOINT_LOCATION]
        if checkpoints:
            self.record_evaluation(ContentRef.of_artifact(checkpoints[-1]), x, y)
        predicted = predict(model, x)
        accuracy = float(accuracy_score(y, predicted))
        macro_f1 = float(f1_score(y, predicted, average="macro"))
        self.metadata_store.log_metrics(accuracy=round(accuracy, 6), macro_f1=round(macro_f1, 6))
        self.log(f"accuracy {accuracy:.4f}, macro F1 {macro_f1:.4f} on {len(y)} held-out samples")
        return True
