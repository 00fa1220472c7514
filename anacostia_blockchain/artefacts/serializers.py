"""Model serializers: from a Python model object to a checkpoint's bytes and back.

Each serializer has a ``name`` (recorded in the checkpoint), says which framework and version a model belongs to,
and whether its format can run code when loaded (``pickle_based``). Loading such a format needs an explicit
``allow_pickle=True`` (:class:`~anacostia_blockchain.errors.UnsafeSerializerError` otherwise): a checkpoint fetched
from IPFS is untrusted input.

Built in (:func:`serializer`):

- ``linear-json`` — linear classifiers (scikit-learn's ``LogisticRegression``, or anything with ``classes_``,
  ``coef_``, ``intercept_``) as canonical JSON; loads as a :class:`LinearModel` that predicts with numpy alone.
  Floats are written with ``repr`` precision, so the JSON reproduces the fitted model exactly.
- ``skops`` — any scikit-learn estimator through ``skops.io`` (no pickle; types outside skops' trusted set must be
  named in ``trusted=``). Its files name objects by their memory address, so the bytes differ between saves.
- ``safetensors`` — a ``{name: tensor}`` mapping (numpy arrays; torch tensors when torch is installed).
- ``pickle`` — anything, ``pickle_based``: loading needs ``allow_pickle=True``.

:func:`register_serializer` adds another.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from importlib import metadata as importlib_metadata
from typing import Any

import numpy as np

from ..errors import SerializerNotFoundError, UnsafeSerializerError, ValidationError

LINEAR_JSON_FORMAT = "anacostia/logreg-json@1"


def _version(distribution: str) -> str:
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "unknown"


def _require(module: str, serializer_name: str) -> Any:
    try:
        return import_module(module)
    except ImportError:
        raise SerializerNotFoundError(
            f"serializer {serializer_name!r} needs the {module.split('.')[0]} package: "
            "pip install 'anacostia-blockchain[ml]'"
        ) from None


def framework_of(model: Any) -> tuple[str, str]:
    """``(framework, version)`` of a model object, from the distribution its class comes from."""
    root = type(model).__module__.split(".")[0]
    distributions = {"sklearn": "scikit-learn", "torch": "torch", "numpy": "numpy", "xgboost": "xgboost"}
    name = distributions.get(root, root)
    return name, _version(name)


class Serializer(ABC):
    """One checkpoint format (see the module docstring)."""

    name: str = ""
    pickle_based: bool = False

    def framework(self, model: Any) -> tuple[str, str]:
        """``(framework, version)`` the checkpoint records for ``model``."""
        return framework_of(model)

    @abstractmethod
    def dumps(self, model: Any) -> bytes:
        """The checkpoint bytes of ``model``."""

    @abstractmethod
    def loads(self, data: bytes, *, allow_pickle: bool = False, trusted: Sequence[str] = (),
              framework: str | None = None) -> Any:
        """The model from checkpoint bytes."""

    def _refuse_unless(self, allow_pickle: bool) -> None:
        if self.pickle_based and not allow_pickle:
            raise UnsafeSerializerError(
                f"the {self.name!r} format runs code when loaded; pass allow_pickle=True only for a checkpoint "
                "whose source you trust"
            )


@dataclass(frozen=True)
class LinearModel:
    """A linear classifier loaded from ``linear-json``: predicts with numpy (no scikit-learn, no pickle)."""

    classes: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray

    def decision_function(self, x: Any) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.coef.T + self.intercept

    def predict(self, x: Any) -> np.ndarray:
        return self.classes[np.argmax(self.decision_function(x), axis=1)]


class LinearJsonSerializer(Serializer):
    name = "linear-json"

    def framework(self, model: Any) -> tuple[str, str]:
        return ("numpy", _version("numpy")) if isinstance(model, LinearModel) else framework_of(model)

    def dumps(self, model: Any) -> bytes:
        try:
            classes, coef, intercept = model.classes_, model.coef_, model.intercept_
        except AttributeError:
            if not isinstance(model, LinearModel):
                raise ValidationError(
                    f"linear-json needs a fitted linear classifier, got {type(model).__name__}") from None
            classes, coef, intercept = model.classes, model.coef, model.intercept
        document = {
            "format": LINEAR_JSON_FORMAT,
            "classes": [int(c) for c in classes],
            "coef": [[float(v) for v in row] for row in np.asarray(coef)],
            "intercept": [float(v) for v in np.asarray(intercept)],
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()

    def loads(self, data: bytes, *, allow_pickle: bool = False, trusted: Sequence[str] = (),
              framework: str | None = None) -> LinearModel:
        try:
            document = json.loads(data)
        except ValueError as exc:
            raise ValidationError(f"not a {LINEAR_JSON_FORMAT} model: {exc}") from None
        if not isinstance(document, dict) or document.get("format") != LINEAR_JSON_FORMAT:
            found = document.get("format") if isinstance(document, dict) else type(document).__name__
            raise ValidationError(f"not a {LINEAR_JSON_FORMAT} model: format {found!r}")
        return LinearModel(np.asarray(document["classes"]), np.asarray(document["coef"], dtype=float),
                           np.asarray(document["intercept"], dtype=float))


class SkopsSerializer(Serializer):
    name = "skops"

    def dumps(self, model: Any) -> bytes:
        return bytes(_require("skops.io", self.name).dumps(model))

    def loads(self, data: bytes, *, allow_pickle: bool = False, trusted: Sequence[str] = (),
              framework: str | None = None) -> Any:
        sio = _require("skops.io", self.name)
        try:
            untrusted = list(sio.get_untrusted_types(data=data))
        except (zipfile.BadZipFile, ValueError, KeyError) as exc:
            raise ValidationError(f"not a skops checkpoint: {type(exc).__name__}: {exc}") from None
        refused = [name for name in untrusted if name not in set(trusted)]
        if refused:
            raise UnsafeSerializerError(
                f"the skops checkpoint holds types outside skops' trusted set: {', '.join(refused[:5])}; "
                "name them in trusted=[...] if you trust its source"
            )
        return sio.loads(data, trusted=untrusted or None)


class SafetensorsSerializer(Serializer):
    name = "safetensors"

    def framework(self, model: Any) -> tuple[str, str]:
        values = list(model.values()) if isinstance(model, Mapping) else []
        return framework_of(values[0]) if values else ("numpy", _version("numpy"))

    def dumps(self, model: Any) -> bytes:
        if not isinstance(model, Mapping) or not model:
            raise ValidationError("safetensors saves a non-empty {name: tensor} mapping")
        framework, _ = self.framework(model)
        if framework == "torch":
            return bytes(_require("safetensors.torch", self.name).save(dict(model)))
        arrays = {str(key): np.ascontiguousarray(value) for key, value in model.items()}
        return bytes(_require("safetensors.numpy", self.name).save(arrays))

    def loads(self, data: bytes, *, allow_pickle: bool = False, trusted: Sequence[str] = (),
              framework: str | None = None) -> dict[str, Any]:
        module = "safetensors.torch" if framework == "torch" else "safetensors.numpy"
        loader = _require(module, self.name)
        try:
            return dict(loader.load(bytes(data)))
        except Exception as exc:  # safetensors raises its own SafetensorError for malformed headers
            raise ValidationError(f"not a safetensors checkpoint: {type(exc).__name__}: {exc}") from None


class PickleSerializer(Serializer):
    name = "pickle"
    pickle_based = True

    def dumps(self, model: Any) -> bytes:
        return pickle.dumps(model, protocol=5)

    def loads(self, data: bytes, *, allow_pickle: bool = False, trusted: Sequence[str] = (),
              framework: str | None = None) -> Any:
        self._refuse_unless(allow_pickle)
        return pickle.loads(data)  # the caller opted in with allow_pickle=True


_REGISTRY: dict[str, Serializer] = {}


def register_serializer(instance: Serializer) -> Serializer:
    """Make ``instance`` available by its name (a name registered again is replaced)."""
    if not instance.name:
        raise ValidationError(f"{type(instance).__name__} has no name")
    _REGISTRY[instance.name] = instance
    return instance


def serializer(name: str) -> Serializer:
    """The serializer registered as ``name`` (:class:`SerializerNotFoundError` naming the known ones)."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SerializerNotFoundError(
            f"no serializer {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def serializer_names() -> list[str]:
    return sorted(_REGISTRY)


def _register_builtins(items: Iterable[Serializer]) -> None:
    for item in items:
        register_serializer(item)


_register_builtins([LinearJsonSerializer(), SkopsSerializer(), SafetensorsSerializer(), PickleSerializer()])
