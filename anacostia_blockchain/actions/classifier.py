"""Train and evaluate a classifier on encrypted, prepared data: the ML half of the demo pipeline.

:class:`TrainClassifierNode` decrypts every prepared batch the data resource holds (the envelopes written by
:class:`~.data_prep.DataPrepNode`; the operator's secp256k1 key unwraps their data keys), fits a multinomial logistic
regression, and saves the model *encrypted* to the model resource. :class:`EvaluateClassifierNode` reads back the
model this run produced and logs its metrics on a held-out set.

The model is stored as canonical JSON (``classes``, ``coef``, ``intercept``), not a pickle: a buyer can load it
without executing anything, and the same weights always give the same bytes, hence the same CID. Floats are written
with ``repr`` precision, so the JSON reproduces the fitted model exactly.

Hooks for subclasses: :meth:`TrainClassifierNode.build_estimator`, :meth:`TrainClassifierNode.records_to_xy`,
:meth:`EvaluateClassifierNode.evaluation_set`.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from ..crypto import DataKey, decrypt_bytes, encrypt_bytes, key_for_private_key, normalize_public_key, read_header
from ..engine.action import BaseActionNode
from ..engine.artifact import Artifact
from ..engine.metadata_store import BaseMetadataStoreNode
from ..engine.node import BaseNode
from ..errors import ConfigurationError, ValidationError
from ..ipfs import compute_cid
from ..resources.ipfs_store import IPFSStoreNode

MODEL_FORMAT = "anacostia/logreg-json@1"
MODEL_LOCATION = "model.json.enc"


def model_to_bytes(classes: Sequence[int], coef: np.ndarray, intercept: np.ndarray) -> bytes:
    """Canonical JSON of a linear classifier (sorted keys, no whitespace, ``repr`` floats)."""
    document = {
        "format": MODEL_FORMAT,
        "classes": [int(c) for c in classes],
        "coef": [[float(v) for v in row] for row in np.asarray(coef)],
        "intercept": [float(v) for v in np.asarray(intercept)],
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def predict(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Predict with a model saved by :func:`model_to_bytes` (no scikit-learn, no pickle)."""
    document = json.loads(model_bytes)
    if document.get("format") != MODEL_FORMAT:
        raise ValidationError(f"not a {MODEL_FORMAT} model: format {document.get('format')!r}")
    scores = np.asarray(x, dtype=float) @ np.asarray(document["coef"]).T + np.asarray(document["intercept"])
    return np.asarray(document["classes"])[np.argmax(scores, axis=1)]


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

    # --- the job -------------------------------------------------------------------------------------------------
    def training_batches(self) -> list[Artifact]:
        """Every prepared batch (consumed or produced by earlier runs, and this run's own)."""
        return [a for a in self.data_resource.list_artifacts() if a.state.value in ("current", "old")]

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
        saved = self.model_resource.save_artifact(MODEL_LOCATION, envelope)
        self.metadata_store.log_params(
            estimator="LogisticRegression", C=self.regularization, training_batches=len(batches)
        )
        self.metadata_store.log_metrics(training_records=len(records), train_accuracy=float(estimator.score(x, y)))
        self.metadata_store.set_tags(model_plaintext_cid=model_cid, model_cid=saved.cid, model_format=MODEL_FORMAT)
        self.log(f"trained on {len(records)} records from {len(batches)} batches; model {model_cid}")
        return True


class EvaluateClassifierNode(BaseActionNode):
    """Evaluate the model this run produced on a held-out set and log ``accuracy`` and ``macro_f1``."""

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

    def execute(self, *args: Any, **kwargs: Any) -> bool:
        from sklearn.metrics import accuracy_score, f1_score

        produced = [a for a in self.model_resource.list_artifacts("current") if a.location == MODEL_LOCATION]
        if not produced:
            self.log("this run produced no model; nothing to evaluate")
            return True
        model = decrypt_envelope(self.model_resource.read_bytes(produced[-1]), self._operator_private_key)
        x, y = self.evaluation_set()
        predicted = predict(model, x)
        accuracy = float(accuracy_score(y, predicted))
        macro_f1 = float(f1_score(y, predicted, average="macro"))
        self.metadata_store.log_metrics(accuracy=round(accuracy, 6), macro_f1=round(macro_f1, 6))
        self.log(f"accuracy {accuracy:.4f}, macro F1 {macro_f1:.4f} on {len(y)} held-out samples")
        return True
