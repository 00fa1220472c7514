"""Model serializers: round trips with the frameworks' own libraries, deterministic bytes, and pickle behind an
explicit opt-in. torch is not installed here, so safetensors is exercised with numpy arrays (safetensors.numpy)."""

from __future__ import annotations

import operator
import pickle

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from anacostia_blockchain.artefacts import ContentRef, ModelCheckpoint, serializer, serializer_names
from anacostia_blockchain.errors import SerializerNotFoundError, UnsafeSerializerError, ValidationError


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    x, y = load_iris(return_X_y=True)
    return x, y


def test_builtin_serializers() -> None:
    assert serializer_names() == ["linear-json", "pickle", "safetensors", "skops"]
    with pytest.raises(SerializerNotFoundError, match="no serializer 'onnx'; known: linear-json, pickle"):
        serializer("onnx")


def test_linear_json_reproduces_scikit_learn_predictions_without_it(iris) -> None:
    x, y = iris
    model = LogisticRegression(max_iter=500).fit(x, y)
    json_serializer = serializer("linear-json")
    data = json_serializer.dumps(model)
    assert json_serializer.dumps(model) == data  # canonical: one model, one byte string
    loaded = json_serializer.loads(data)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert np.allclose(loaded.decision_function(x), model.decision_function(x))
    assert json_serializer.framework(model)[0] == "scikit-learn"
    with pytest.raises(ValidationError, match="not a anacostia/logreg-json@1 model"):
        json_serializer.loads(b'{"format": "other"}')
    with pytest.raises(ValidationError, match="needs a fitted linear classifier"):
        json_serializer.dumps(object())


def test_skops_round_trip(iris) -> None:
    x, y = iris
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(x, y)
    skops = serializer("skops")
    data = skops.dumps(model)
    loaded = skops.loads(data)
    assert np.array_equal(loaded.predict(x), model.predict(x))
    assert skops.framework(model)[0] == "scikit-learn" and not skops.pickle_based


def test_skops_refuses_untrusted_types_unless_named(iris) -> None:
    x, y = iris
    model = make_pipeline(FunctionTransformer(operator.neg), LogisticRegression(max_iter=500)).fit(x, y)
    data = serializer("skops").dumps(model)
    with pytest.raises(UnsafeSerializerError, match=r"outside skops' trusted set: _operator\.neg"):
        serializer("skops").loads(data)
    loaded = serializer("skops").loads(data, trusted=["_operator.neg"])
    assert np.array_equal(loaded.predict(x), model.predict(x))


def test_safetensors_with_numpy_arrays() -> None:
    tensors = {"weight": np.arange(12, dtype=np.float32).reshape(3, 4), "bias": np.array([1, 2, 3], dtype=np.int64)}
    safetensors = serializer("safetensors")
    data = safetensors.dumps(tensors)
    assert safetensors.dumps(dict(reversed(tensors.items()))) == data
    loaded = safetensors.loads(data)
    assert set(loaded) == {"weight", "bias"}
    assert np.array_equal(loaded["weight"], tensors["weight"]) and loaded["bias"].dtype == np.int64
    assert safetensors.framework(tensors)[0] == "numpy"
    with pytest.raises(ValidationError, match="not a safetensors checkpoint"):
        safetensors.loads(b"\x08\x00\x00\x00\x00\x00\x00\x00garbage!")


def test_pickle_needs_an_explicit_opt_in() -> None:
    data = serializer("pickle").dumps({"weights": [1, 2, 3]})
    with pytest.raises(UnsafeSerializerError, match="allow_pickle=True"):
        serializer("pickle").loads(data)
    assert serializer("pickle").loads(data, allow_pickle=True) == {"weights": [1, 2, 3]}
    assert isinstance(UnsafeSerializerError("x"), PermissionError)


def test_a_pickle_checkpoint_is_refused_before_anything_is_fetched() -> None:
    data = pickle.dumps([1, 2])
    checkpoint = ModelCheckpoint("m", "pickle", "python", "3", ContentRef.of_bytes(data))
    fetched: list[str] = []

    def cat(cid: str) -> bytes:
        fetched.append(cid)
        return data

    with pytest.raises(UnsafeSerializerError):
        checkpoint.load(cat)
    assert fetched == []
    assert checkpoint.load(cat, allow_pickle=True) == [1, 2]
